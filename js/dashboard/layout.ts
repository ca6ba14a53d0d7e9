// layout.ts — where the dashboard draws each kernel of the pipeline graph. Layers from left
// to right by longest path from a source (edges that close a cycle are set aside first);
// within a layer, kernels sit near the mean position of what feeds them. A layer taller
// than MAX_ROWS wraps into more columns, so 50 kernels (say, a fan-out of 48) stay readable
// instead of becoming one column two thousand pixels tall. Pure: no DOM, tested in Node.
import type { TopologyEdge } from '../telemetry/topology.js';

export const NODE_W = 150, NODE_H = 44, GAP_X = 48, GAP_Y = 12, SUB_GAP_X = 16, PAD = 16, MAX_ROWS = 12;

export interface PlacedNode { id: string; x: number; y: number; w: number; h: number; layer: number; remote: boolean }
export interface PlacedEdge { from: string; to: string; mode: TopologyEdge['mode']; back: boolean; path: string }
export interface GraphLayout { nodes: PlacedNode[]; edges: PlacedEdge[]; width: number; height: number }

export function layoutGraph(kernelIds: readonly string[], edges: readonly TopologyEdge[]): GraphLayout {
  // nodes: the kernels, then targets that are not kernels of this runtime (remote:...)
  const ids = [...kernelIds];
  const known = new Set(ids);
  for (const e of edges) for (const id of [e.from, e.to]) if (!known.has(id)) { known.add(id); ids.push(id); }
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edges) out.get(e.from)!.push(e.to);

  // back edges (closing a cycle) by depth-first search; the rest is a DAG
  const back = new Set<string>();
  const mark = new Map<string, 1 | 2>();
  const visit = (id: string) => {
    mark.set(id, 1);
    for (const to of out.get(id)!) {
      const m = mark.get(to);
      if (m === 1) back.add(`${id}\u0000${to}`);
      else if (m === undefined) visit(to);
    }
    mark.set(id, 2);
  };
  for (const id of ids) if (!mark.has(id)) visit(id);
  const isBack = (from: string, to: string) => back.has(`${from}\u0000${to}`);

  // longest path layering, in topological order (Kahn)
  const indegree = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const e of edges) if (!isBack(e.from, e.to)) indegree.set(e.to, indegree.get(e.to)! + 1);
  const layer = new Map<string, number>(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const to of out.get(id)!) {
      if (isBack(id, to)) continue;
      layer.set(to, Math.max(layer.get(to)!, layer.get(id)! + 1));
      indegree.set(to, indegree.get(to)! - 1);
      if (indegree.get(to) === 0) queue.push(to);
    }
  }

  // order within a layer: by the mean row of the predecessors (one sweep, left to right)
  const layers: string[][] = [];
  for (const id of ids) (layers[layer.get(id)!] ??= []).push(id);
  const row = new Map<string, number>();
  const preds = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of edges) if (!isBack(e.from, e.to)) preds.get(e.to)!.push(e.from);
  for (const members of layers) {
    if (!members) continue;
    const key = (id: string) => {
      const p = preds.get(id)!.filter((q) => row.has(q));
      return p.length ? p.reduce((s, q) => s + row.get(q)!, 0) / p.length : Infinity;
    };
    const keyed = members.map((id, i) => ({ id, k: key(id), i }));
    keyed.sort((a, b) => (a.k === b.k ? a.i - b.i : a.k === Infinity ? 1 : b.k === Infinity ? -1 : a.k - b.k));
    keyed.forEach((m, r) => { row.set(m.id, r); members[r] = m.id; });
  }

  // coordinates: a layer of n kernels takes ceil(n / MAX_ROWS) columns
  const nodes: PlacedNode[] = [];
  const at = new Map<string, PlacedNode>();
  let x = PAD, height = 0;
  const rowsUsed = layers.map((m) => Math.min(MAX_ROWS, m?.length ?? 0));
  const tallest = Math.max(1, ...rowsUsed);
  layers.forEach((members, l) => {
    if (!members || members.length === 0) return;
    const columns = Math.ceil(members.length / MAX_ROWS);
    const rows = Math.ceil(members.length / columns);
    // centre a short layer against the tallest one
    const top = PAD + ((tallest - rows) * (NODE_H + GAP_Y)) / 2;
    members.forEach((id, i) => {
      const c = Math.floor(i / rows), r = i % rows;
      const n: PlacedNode = { id, x: x + c * (NODE_W + SUB_GAP_X), y: top + r * (NODE_H + GAP_Y), w: NODE_W, h: NODE_H, layer: l, remote: !kernelIds.includes(id) };
      nodes.push(n);
      at.set(id, n);
      height = Math.max(height, n.y + NODE_H + PAD);
    });
    x += columns * NODE_W + (columns - 1) * SUB_GAP_X + GAP_X;
  });
  const width = nodes.length ? x - GAP_X + PAD : 2 * PAD;

  const placed: PlacedEdge[] = edges.map((e) => {
    const a = at.get(e.from)!, b = at.get(e.to)!;
    const backEdge = isBack(e.from, e.to) || b.x <= a.x;
    let path: string;
    if (!backEdge) {
      const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2, dx = Math.max(24, (x2 - x1) / 2);
      path = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
    } else {
      // back to an earlier column: leave from the bottom, come in from below
      const x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y + b.h, dy = 28 + Math.abs(x1 - x2) / 6;
      path = `M${x1},${y1} C${x1},${y1 + dy} ${x2},${y2 + dy} ${x2},${y2}`;
      height = Math.max(height, Math.max(y1, y2) + dy + PAD);
    }
    return { from: e.from, to: e.to, mode: e.mode, back: backEdge, path };
  });
  return { nodes, edges: placed, width, height: Math.max(height, 2 * PAD) };
}
