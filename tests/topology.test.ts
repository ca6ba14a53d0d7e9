// runtime.topology(): kernels with placement and state, and the edges connect made; and the
// dashboard's graph layout of it (js/dashboard/layout.ts), which must stay readable with 50.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingKernelRuntime, ringKernel, message, t } from '../js/index.js';
import { layoutGraph, MAX_ROWS } from '../js/dashboard/layout.js';
import { Sampler } from '../js/dashboard/snapshot.js';
import { withRuntime } from './helpers/assert.js';
import './helpers/worker-kernels.js';

const TpNum = message('TpNum', { n: t.f64 });
const TpVec = message('TpVec', { values: t.array(t.f32, 2) });
ringKernel({ kernelId: 'tp_stage', input: TpNum, output: TpNum }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
ringKernel({ kernelId: 'tp_gpu', placement: 'gpu', input: TpVec, output: TpVec, wgsl: 'fn handle(m: TpVec) -> TpVec { return m; }' },
  (m: InstanceType<typeof TpVec>) => new TpVec({ values: m.values }));
ringKernel({ kernelId: 'tp_fallback', placement: 'worker', module: import.meta.url, inlineFallback: true, input: TpNum, output: TpNum },
  async (ctx) => { for await (const m of ctx) await ctx.send(m); });

test('kernels with placement, state and queue capacity; edges with their connect mode', () => withRuntime(async (rt) => {
  for (const id of ['a', 'b', 'c', 'd', 'e']) await rt.launch(id, 'tp_stage');
  await rt.activate('a');
  rt.connect('a', ['b', 'c'], { mode: 'broadcast' });
  rt.connect('b', 'd');
  rt.connect('c', ['d', 'e'], { mode: 'key', keyField: 'n' });
  const topo = rt.topology();
  assert.equal(topo.kernels, [
    { id: 'a', placement: 'inline', state: 'active', queueCapacity: 4096 },
    ...['b', 'c', 'd', 'e'].map((id) => ({ id, placement: 'inline', state: 'launched', queueCapacity: 4096 })),
  ]);
  assert.equal(topo.edges, [
    { from: 'a', to: 'b', mode: 'broadcast' }, { from: 'a', to: 'c', mode: 'broadcast' },
    { from: 'b', to: 'd', mode: 'round-robin' },
    { from: 'c', to: 'd', mode: 'key' }, { from: 'c', to: 'e', mode: 'key' },
  ]);
  // JSON-able as it is (the dashboard sends it)
  assert.equal(JSON.parse(JSON.stringify(topo)), topo);
}));

test('disconnect removes a kernel\'s edges; a terminated target leaves the edges at once', () => withRuntime(async (rt) => {
  for (const id of ['a', 'b', 'c']) await rt.launch(id, 'tp_stage');
  rt.connectGraph({ a: ['b', 'c'], b: 'c' });
  assert.equal(rt.topology().edges, [
    { from: 'a', to: 'b', mode: 'broadcast' }, { from: 'a', to: 'c', mode: 'broadcast' }, { from: 'b', to: 'c', mode: 'broadcast' },
  ]);
  rt.disconnect('b');
  assert.equal(rt.topology().edges.map((e) => `${e.from}>${e.to}`), ['a>b', 'a>c']);
  await rt.terminate('c');
  assert.equal(rt.topology().edges.map((e) => `${e.from}>${e.to}`), ['a>b']);
  assert.is(rt.topology().kernels.find((k) => k.id === 'c')!.state, 'terminated');
}));

test('placement is where a kernel runs: worker, gpu (or inline for a GPU kernel run by its JS fallback)', async () => {
  const rt = new RingKernelRuntime({ workers: 1 });
  try {
    await rt.launch('w_double');
    await rt.launch('tp_gpu');
    const gpu = rt.topology().kernels.find((k) => k.id === 'tp_gpu')!;
    const { gpuAdapterName } = await import('../js/index.js');
    assert.is(gpu.placement, (await gpuAdapterName()) ? 'gpu' : 'inline');
    assert.equal(rt.topology().kernels.find((k) => k.id === 'w_double'), { id: 'w_double', placement: 'worker', state: 'launched', queueCapacity: 4096 });
  } finally { await rt.shutdown({ timeout: 1000 }); }
  // without shared memory a worker kernel with inlineFallback runs inline, and says so
  await withRuntime(async (rt) => {
    await rt.launch('tp_fallback');
    assert.is(rt.topology().kernels[0]!.placement, rt.workerOf('tp_fallback') === null ? 'inline' : 'worker');
  });
});

test('an empty runtime has an empty topology', () => {
  assert.equal(new RingKernelRuntime().topology(), { kernels: [], edges: [] });
});

// ---- the graph layout ----

const overlaps = (a: { x: number; y: number; w: number; h: number }, b: typeof a) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

test('layout: a pipeline reads left to right; fan-out of 48 wraps into columns, nothing overlaps', () => {
  const line = layoutGraph(['a', 'b', 'c'], [{ from: 'a', to: 'b', mode: 'round-robin' }, { from: 'b', to: 'c', mode: 'round-robin' }]);
  const x = (id: string) => line.nodes.find((n) => n.id === id)!.x;
  assert.ok(x('a') < x('b') && x('b') < x('c'));

  const workers = Array.from({ length: 48 }, (_, i) => `w${i}`);
  const edges = [...workers.map((w) => ({ from: 'src', to: w, mode: 'round-robin' as const })), ...workers.map((w) => ({ from: w, to: 'sink', mode: 'round-robin' as const }))];
  const g = layoutGraph(['src', ...workers, 'sink'], edges);
  assert.is(g.nodes.length, 50);
  for (let i = 0; i < g.nodes.length; i++) for (let j = i + 1; j < g.nodes.length; j++) assert.not.ok(overlaps(g.nodes[i]!, g.nodes[j]!), `${g.nodes[i]!.id} overlaps ${g.nodes[j]!.id}`);
  for (const n of g.nodes) assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.w <= g.width && n.y + n.h <= g.height, `${n.id} inside`);
  // no column holds more than MAX_ROWS kernels: the graph is wide, not 2000 px tall
  const columns = new Map<number, number>();
  for (const n of g.nodes) columns.set(n.x, (columns.get(n.x) ?? 0) + 1);
  assert.ok(Math.max(...columns.values()) <= MAX_ROWS);
  assert.ok(g.height < 700, `height ${g.height}`);
  assert.is(g.edges.length, 96);
  assert.ok(g.edges.every((e) => !e.back && /^M[\d.]+,[\d.]+ C/.test(e.path)));
});

test('layout: a cycle gets a back edge instead of looping forever; a remote target is a node of its own', () => {
  const g = layoutGraph(['a', 'b'], [{ from: 'a', to: 'b', mode: 'round-robin' }, { from: 'b', to: 'a', mode: 'round-robin' }, { from: 'b', to: 'remote:x', mode: 'round-robin' }]);
  assert.equal(g.nodes.map((n) => [n.id, n.remote]), [['a', false], ['b', false], ['remote:x', true]]);
  assert.equal(g.edges.map((e) => e.back), [false, true, false]);
});

test('sampler: throughput per interval over the last minute, reset when a kernel is relaunched', () => withRuntime(async (rt) => {
  await rt.launch('s', 'tp_stage');
  await rt.activate('s');
  const sampler = new Sampler(rt, 1000);
  const t0 = 1_000_000;
  assert.equal(sampler.sample(t0).kernels[0]!.rate, []);
  for (let i = 0; i < 10; i++) { await rt.send('s', new TpNum({ n: i })); await rt.receive('s', { timeout: 2000 }); }
  assert.equal(sampler.sample(t0 + 1000).kernels[0]!.rate, [10]);
  assert.equal(sampler.sample(t0 + 3000).kernels[0]!.rate, [10, 0]);
  // older than a minute falls out
  const late = sampler.sample(t0 + 62_000);
  assert.equal(late.kernels[0]!.rate, [0]);
  assert.is(late.intervalMs, 1000);
  await rt.terminate('s');
  await rt.launch('s', 'tp_stage');
  assert.equal(sampler.sample(t0 + 63_000).kernels[0]!.rate, []);
}));

test.run();
