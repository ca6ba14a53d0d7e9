// PageRank iterations on the GPU for a generated graph, checked against a CPU version.
// The ranks stay resident on the GPU in the kernel's state, in two halves: iteration k reads
// one half and writes the other, so the invocations of a dispatch never race. Each message
// is one node with its (padded) in-links; the host sends an iteration and waits for it.
//   node --import tsx examples/gpu-pagerank.ts
import { RingKernelRuntime, ringKernel, message, t } from 'ringkernel';

const N = 64, K = 8, D = 0.85;
export const PrNode = message('PrNode', { node: t.u32, parity: t.u32, count: t.u32, srcs: t.array(t.u32, K), srcOut: t.array(t.u32, K) });
export const PrRank = message('PrRank', { node: t.u32, rank: t.f32 });

ringKernel({ kernelId: 'pagerank', placement: 'gpu', input: PrNode, output: PrRank,
  state: { type: 'f32', words: 2 * N, init: Array.from({ length: 2 * N }, (_, i) => (i < N ? 1 / N : 0)) },
  wgsl: `
const NODES: u32 = ${N}u;
const DAMPING: f32 = ${D};
fn handle(m: PrNode) -> PrRank {
  let rd = m.parity * NODES;
  let wr = (1u - m.parity) * NODES;
  var s = 0.0;
  for (var i = 0u; i < m.count; i++) { s += state[rd + m.srcs[i]] / f32(m.srcOut[i]); }
  let rank = (1.0 - DAMPING) / f32(NODES) + DAMPING * s;
  state[wr + m.node] = rank;
  return PrRank(m.node, rank);
}` });

/** A random graph: every node links to 1..K others (and so has at most K in-links, by construction). */
export function graph(seed = 11) {
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const inLinks: number[][] = Array.from({ length: N }, () => []);
  const outDeg = new Array<number>(N).fill(0);
  for (let src = 0; src < N; src++) {
    const want = 1 + Math.floor(rand() * K);
    for (let tries = 0; tries < 4 * want && outDeg[src]! < want; tries++) {
      const dst = Math.floor(rand() * N);
      if (dst === src || inLinks[dst]!.length >= K || inLinks[dst]!.includes(src)) continue;
      inLinks[dst]!.push(src);
      outDeg[src]!++;
    }
  }
  return { inLinks, outDeg };
}

export function cpuPageRank(g: ReturnType<typeof graph>, iterations: number): number[] {
  let r = new Array<number>(N).fill(1 / N);
  for (let k = 0; k < iterations; k++) {
    r = g.inLinks.map((srcs) => (1 - D) / N + D * srcs.reduce((s, src) => s + r[src]! / g.outDeg[src]!, 0));
  }
  return r;
}

export async function main(iterations = 20) {
  const g = graph();
  await using runtime = new RingKernelRuntime();
  await runtime.launch('pagerank');
  await runtime.activate('pagerank');
  let ranks = new Array<number>(N).fill(0);
  for (let k = 0; k < iterations; k++) {
    await runtime.sendMany('pagerank', g.inLinks.map((srcs, node) => new PrNode({
      node, parity: k % 2, count: srcs.length,
      srcs: Array.from({ length: K }, (_, i) => srcs[i] ?? 0),
      srcOut: Array.from({ length: K }, (_, i) => (i < srcs.length ? g.outDeg[srcs[i]!]! : 1)),
    })));
    for (let got = 0; got < N;) for (const r of await runtime.receiveMany('pagerank', { timeout: 10_000 })) { ranks[r.node] = r.rank; got++; }
  }
  const cpu = cpuPageRank(g, iterations);
  return { maxDiff: Math.max(...ranks.map((r, i) => Math.abs(r - cpu[i]!))), top: ranks.indexOf(Math.max(...ranks)), cpuTop: cpu.indexOf(Math.max(...cpu)) };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
