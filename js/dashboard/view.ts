// view.ts — the dashboard's one view: the pipeline graph (SVG), then a row per kernel (state,
// throughput over the last minute on a canvas, queue depth against capacity, p50/p99,
// counts). The served page (page.ts) and mountDashboard (mount.ts) both render through it;
// it only turns snapshots (snapshot.ts) into DOM. Kernel ids go in as text, never as markup.
import type { DashboardSnapshot, KernelSnapshot } from './snapshot.js';
import { WINDOW_MS } from './snapshot.js';
import { layoutGraph } from './layout.js';
import type { KernelTelemetry } from '../telemetry/telemetry.js';

const SVG = 'http://www.w3.org/2000/svg';

/** Count columns: always shown, then those shown once a kernel's telemetry has the field. */
const COUNTS: ReadonlyArray<{ field: string; label: string; optional?: boolean }> = [
  { field: 'messagesProcessed', label: 'processed' },
  { field: 'messagesDropped', label: 'dropped' },
  { field: 'messagesRejected', label: 'rejected' },
  { field: 'errorCount', label: 'errors' },
  { field: 'restarts', label: 'restarts', optional: true },
  { field: 'messagesDiscarded', label: 'discarded', optional: true },
  { field: 'messagesInterrupted', label: 'interrupted', optional: true },
  { field: 'deadLetters', label: 'dead letters', optional: true },
];

export const STYLE = `
.rkd{--bg:#f7f8fa;--panel:#fff;--ink:#1d2433;--dim:#5b6577;--line:#dde1e8;--accent:#2f6fde;
  font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg);padding:16px;box-sizing:border-box}
.rkd *{box-sizing:border-box}
.rkd-head{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;margin:0 0 12px}
.rkd-head h1{font-size:18px;margin:0;font-weight:650;letter-spacing:.2px}
.rkd-summary{color:var(--dim)}
.rkd-status{margin-left:auto;color:var(--dim);font-variant-numeric:tabular-nums}
.rkd-status::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:#9aa3b2;margin-right:6px;vertical-align:0}
.rkd-status.ok::before{background:#1f9d55}
.rkd-panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;margin-bottom:12px;overflow:auto}
.rkd-graph svg{display:block;width:100%;height:auto}
.rkd-node rect.box{fill:#fff;stroke:#c4cad4;stroke-width:1}
.rkd-node.remote rect.box{stroke-dasharray:4 3}
.rkd-node text{font-size:12px;fill:var(--ink)}
.rkd-node text.sub{font-size:11px;fill:var(--dim)}
.rkd-edge{fill:none;stroke:#8c96a8;stroke-width:1.3}
.rkd-edge.broadcast{stroke:#7b4fd6}
.rkd-edge.key{stroke:#d07a12}
.rkd-edge.back{stroke-dasharray:5 4}
.rkd-graph.busy .rkd-edge{stroke-opacity:.4}
.rkd-table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
.rkd-table th,.rkd-table td{vertical-align:middle;padding:5px 10px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
.rkd-table th{font-weight:600;color:var(--dim);font-size:12px;position:sticky;top:0;background:var(--panel)}
.rkd-table th:first-child,.rkd-table td:first-child,.rkd-table td.placement,.rkd-table th.placement,.rkd-table td.state,.rkd-table th.state{text-align:left}
.rkd-table td:first-child{font-weight:600;max-width:240px;overflow:hidden;text-overflow:ellipsis}
.rkd-table tr:last-child td{border-bottom:0}
.rkd-state{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#eef0f4;color:#3c4556}
.rkd .s-active{--s:#1f9d55}.rkd .s-launched,.rkd .s-created{--s:#2f6fde}.rkd .s-deactivated{--s:#c98a0c}
.rkd .s-terminating,.rkd .s-terminated{--s:#8a93a3}.rkd .s-failed{--s:#d2333d}
.rkd-state[class*=" s-"]{background:color-mix(in srgb,var(--s) 14%,#fff);color:color-mix(in srgb,var(--s) 80%,#000)}
.rkd-node rect.bar{fill:var(--s,#8a93a3)}
.rkd-spark{display:inline-flex;align-items:center;gap:8px}
.rkd-spark canvas{width:120px;height:26px;display:block}
.rkd-spark span{min-width:64px;display:inline-block;line-height:26px}
.rkd-queue{display:inline-flex;align-items:center;gap:8px}
.rkd-queue .track{width:80px;height:8px;border-radius:4px;background:#e8ebf0;overflow:hidden}
.rkd-queue .fill{height:100%;background:var(--accent);width:0}
.rkd-queue.high .fill{background:#d2333d}
.rkd-queue span{min-width:88px;display:inline-block}
.rkd-err{color:#d2333d;font-weight:600}
.rkd-empty{padding:16px;color:var(--dim)}
`;

const integer = (n: number) => Math.round(n).toLocaleString('en-US');
export function rateText(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1)}/s`;
}
export function latencyText(ms: number): string {
  if (!(ms > 0)) return '–';
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  if (ms >= 1) return `${ms.toPrecision(3)} ms`;
  return `${(ms * 1000).toPrecision(3)} µs`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}
/** Fits an id into a node (12px text, about 7px a character, 150px wide), with an ellipsis. */
const fit = (s: string, chars = 19) => (s.length > chars ? `${s.slice(0, chars - 1)}…` : s);
const current = (k: KernelSnapshot) => (k.rate.length ? k.rate[k.rate.length - 1]! : 0);

interface Row { tr: HTMLTableRowElement; cells: Map<string, HTMLElement>; canvas: HTMLCanvasElement; rate: HTMLElement; fill: HTMLElement; queue: HTMLElement; queueText: HTMLElement; state: HTMLElement }
interface Node { g: SVGElement; bar: SVGElement; sub: SVGElement; title: SVGElement }

export interface DashboardView {
  /** Renders a snapshot (structure rebuilt only when kernels, edges or columns change). */
  update(snapshot: DashboardSnapshot): void;
  /** The line in the header's right corner (e.g. 'live', 'reconnecting'). */
  setStatus(text: string, ok: boolean): void;
  destroy(): void;
}

export function createDashboardView(element: Element): DashboardView {
  const doc = element.ownerDocument;
  if (!doc.getElementById('rkd-style')) {
    const style = doc.createElement('style');
    style.id = 'rkd-style';
    style.textContent = STYLE;
    doc.head.appendChild(style);
  }
  const root = el('div', 'rkd');
  const head = el('header', 'rkd-head');
  const summary = el('span', 'rkd-summary');
  const status = el('span', 'rkd-status', 'connecting');
  head.append(el('h1', '', 'ringkernel'), summary, status);
  const graph = el('section', 'rkd-panel rkd-graph');
  const tablePanel = el('section', 'rkd-panel');
  const table = el('table', 'rkd-table');
  const thead = el('thead');
  const tbody = el('tbody');
  table.append(thead, tbody);
  tablePanel.append(table);
  root.append(head, graph, tablePanel);
  element.appendChild(root);

  let shapeKey = '';
  const rows = new Map<string, Row>();
  const nodes = new Map<string, Node>();

  function rebuild(s: DashboardSnapshot, counts: typeof COUNTS): void {
    rows.clear();
    nodes.clear();
    // the graph
    graph.textContent = '';
    if (s.kernels.length === 0) graph.append(el('div', 'rkd-empty', 'No kernels launched yet.'));
    else {
      const g = layoutGraph(s.kernels.map((k) => k.id), s.edges);
      // as wide as the panel allows, never wider than drawn (a big graph scales down to fit)
      const root = svg('svg', { viewBox: `0 0 ${g.width} ${g.height}`, role: 'img', 'aria-label': 'pipeline graph' }) as SVGSVGElement;
      root.style.maxWidth = `${g.width}px`;
      graph.classList.toggle('busy', g.edges.length > 24);
      const defs = svg('defs', {});
      for (const [id, color] of [['rkd-arrow', '#8c96a8'], ['rkd-arrow-broadcast', '#7b4fd6'], ['rkd-arrow-key', '#d07a12']] as const) {
        const m = svg('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
        m.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }));
        defs.append(m);
      }
      root.append(defs);
      for (const e of g.edges) {
        const p = svg('path', { d: e.path, class: `rkd-edge ${e.mode}${e.back ? ' back' : ''}`, 'marker-end': `url(#rkd-arrow${e.mode === 'round-robin' ? '' : `-${e.mode}`})` });
        const t = svg('title', {});
        t.textContent = `${e.from} → ${e.to} (${e.mode})`;
        p.append(t);
        root.append(p);
      }
      for (const n of g.nodes) {
        const group = svg('g', { class: `rkd-node${n.remote ? ' remote' : ''}`, transform: `translate(${n.x},${n.y})`, 'data-kernel': n.id });
        const title = svg('title', {});
        title.textContent = n.id;
        const bar = svg('rect', { class: 'bar', x: 0, y: 0, width: 5, height: n.h, rx: 2 });
        const name = svg('text', { x: 13, y: 18 });
        name.textContent = fit(n.id);
        const sub = svg('text', { class: 'sub', x: 13, y: 34 });
        group.append(title, svg('rect', { class: 'box', x: 0, y: 0, width: n.w, height: n.h, rx: 6 }), bar, name, sub);
        root.append(group);
        nodes.set(n.id, { g: group, bar, sub, title });
      }
      graph.append(root);
    }
    // the table
    thead.textContent = '';
    tbody.textContent = '';
    const hr = el('tr');
    for (const [label, cls] of [['kernel', ''], ['placement', 'placement'], ['state', 'state'], ['throughput (last minute)', ''], ['queue', ''], ['p50', ''], ['p99', '']])
      hr.append(el('th', cls, label));
    for (const c of counts) hr.append(el('th', '', c.label));
    thead.append(hr);
    for (const k of s.kernels) {
      const tr = el('tr');
      tr.dataset.kernel = k.id;
      const cells = new Map<string, HTMLElement>();
      const cell = (field: string, cls = '') => { const td = el('td', cls); td.dataset.field = field; cells.set(field, td); tr.append(td); return td; };
      const name = cell('id');
      name.textContent = k.id;
      name.title = k.id;
      cell('placement', 'placement').textContent = k.placement;
      const state = el('span', 'rkd-state');
      cell('state', 'state').append(state);
      const spark = el('div', 'rkd-spark');
      const canvas = el('canvas');
      const rate = el('span');
      spark.append(canvas, rate);
      cell('throughput').append(spark);
      const queue = el('div', 'rkd-queue');
      const track = el('div', 'track');
      const fill = el('div', 'fill');
      const queueText = el('span');
      track.append(fill);
      queue.append(track, queueText);
      cell('queueDepth').append(queue);
      cell('latencyP50Ms');
      cell('latencyP99Ms');
      for (const c of counts) cell(c.field);
      tbody.append(tr);
      rows.set(k.id, { tr, cells, canvas, rate, fill, queue, queueText, state });
    }
  }

  function draw(canvas: HTMLCanvasElement, rate: number[], intervalMs: number): void {
    const dpr = (doc.defaultView?.devicePixelRatio ?? 1) || 1;
    const w = 120, h = 26;
    if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
    const c = canvas.getContext('2d');
    if (!c) return;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, w, h);
    c.fillStyle = '#eef1f6';
    c.fillRect(0, h - 1, w, 1);
    const slots = Math.max(2, Math.round(WINDOW_MS / intervalMs));
    const max = Math.max(1, ...rate);
    const x = (i: number) => w - ((rate.length - 1 - i) / (slots - 1)) * w;
    const y = (v: number) => h - 2 - (v / max) * (h - 5);
    if (rate.length === 0) return;
    c.beginPath();
    c.moveTo(x(0), h - 1);
    rate.forEach((v, i) => c.lineTo(x(i), y(v)));
    c.lineTo(x(rate.length - 1), h - 1);
    c.closePath();
    c.fillStyle = 'rgba(47,111,222,0.15)';
    c.fill();
    c.beginPath();
    rate.forEach((v, i) => (i ? c.lineTo(x(i), y(v)) : c.moveTo(x(i), y(v))));
    c.strokeStyle = '#2f6fde';
    c.lineWidth = 1.5;
    c.stroke();
  }

  const stateClass = (state: string) => `s-${state}`;

  return {
    update(s: DashboardSnapshot) {
      const has = (field: string) => s.kernels.some((k) => k.telemetry !== null && typeof (k.telemetry as unknown as Record<string, unknown>)[field] === 'number');
      const counts = COUNTS.filter((c) => !c.optional || has(c.field));
      const key = JSON.stringify([s.kernels.map((k) => [k.id, k.placement]), s.edges, counts.map((c) => c.field)]);
      if (key !== shapeKey) { rebuild(s, counts); shapeKey = key; }
      let total = 0, perSecond = 0, failed = 0;
      for (const k of s.kernels) {
        const t: KernelTelemetry | null = k.telemetry;
        const now = current(k);
        total += t?.messagesProcessed ?? 0;
        perSecond += now;
        if (k.state === 'failed') failed++;
        const r = rows.get(k.id)!;
        r.state.className = `rkd-state ${stateClass(k.state)}`;
        r.state.textContent = k.state;
        r.tr.dataset.state = k.state;
        r.rate.textContent = t ? rateText(now) : 'telemetry off';
        draw(r.canvas, k.rate, s.intervalMs);
        const depth = t?.queueDepth ?? 0;
        const share = k.queueCapacity > 0 ? depth / k.queueCapacity : 0;
        r.fill.style.width = `${Math.min(100, share * 100).toFixed(1)}%`;
        r.queue.classList.toggle('high', share >= 0.8);
        r.queueText.textContent = t ? `${integer(depth)} / ${integer(k.queueCapacity)}` : `– / ${integer(k.queueCapacity)}`;
        r.cells.get('latencyP50Ms')!.textContent = t ? latencyText(t.latencyP50Ms) : '–';
        r.cells.get('latencyP99Ms')!.textContent = t ? latencyText(t.latencyP99Ms) : '–';
        for (const c of counts) {
          const v = t ? (t as unknown as Record<string, unknown>)[c.field] : undefined;
          const td = r.cells.get(c.field)!;
          td.textContent = typeof v === 'number' ? integer(v) : '–';
          td.classList.toggle('rkd-err', c.field === 'errorCount' && typeof v === 'number' && v > 0);
          if (c.field === 'errorCount' && t?.lastError) td.title = t.lastError; else td.removeAttribute('title');
        }
        const n = nodes.get(k.id);
        if (n) {
          n.g.setAttribute('class', `rkd-node ${stateClass(k.state)}`);
          // inline is the default: only worker and gpu are named
          n.sub.textContent = `${k.placement === 'inline' ? '' : `${k.placement} · `}${k.state} · ${t ? rateText(now) : '–'}`;
          n.title.textContent = `${k.id}\n${k.placement}, ${k.state}\nqueue ${depth} / ${k.queueCapacity}${t ? `\nprocessed ${integer(t.messagesProcessed)}` : ''}`;
        }
      }
      summary.textContent = `${s.kernels.length} kernel${s.kernels.length === 1 ? '' : 's'} · ${s.edges.length} edge${s.edges.length === 1 ? '' : 's'} · ` +
        `${rateText(perSecond)} · ${integer(total)} processed${failed ? ` · ${failed} failed` : ''}`;
    },
    setStatus(text: string, ok: boolean) {
      status.textContent = text;
      status.classList.toggle('ok', ok);
    },
    destroy() { root.remove(); },
  };
}
