// GPU placement on whatever WebGPU adapter this machine has (in CI: Mesa's llvmpipe through
// Dawn's OpenGL ES backend, from the webgpu npm package).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingKernelRuntime, ringKernel, message, t, ShaderCompileError, gpuAdapterName } from '../js/index.js';

const adapter = await gpuAdapterName();
const gpuTest = adapter ? test : test.skip;
console.log(`GPU adapter: ${adapter ?? 'none (the GPU tests are skipped)'}`);

const GVec16 = message('GVec16', { values: t.array(t.f32, 16) });
const GMean = message('GMean', { mean: t.f32 });
const GCount = message('GCount', { n: t.u32 });
const GPlain = message('GPlain', { values: t.array(t.f64) });

// the seed's normalize + mean, as one WGSL stage
const normalizeMean = ringKernel({ kernelId: 'g_normalize_mean', placement: 'gpu', input: GVec16, output: GMean, wgsl: `
fn handle(m: GVec16) -> GMean {
  var lo = m.values[0];
  var hi = m.values[0];
  for (var i = 1u; i < 16u; i++) { lo = min(lo, m.values[i]); hi = max(hi, m.values[i]); }
  var span = hi - lo;
  if (span == 0.0) { span = 1.0; }
  var s = 0.0;
  for (var i = 0u; i < 16u; i++) { s += (m.values[i] - lo) / span; }
  return GMean(s / 16.0);
}` });

function cpuNormalizeMean(values: number[]): number {
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  return values.reduce((s, v) => s + (v - lo) / span, 0) / values.length;
}

gpuTest('normalize + mean on the GPU equals the CPU result, output i answers input i', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('g_normalize_mean');
  await rt.activate('g_normalize_mean');
  const inputs = Array.from({ length: 300 }, (_, k) => new GVec16({ values: Array.from({ length: 16 }, (_, i) => Math.fround(Math.sin(k * 16 + i) * 100)) }));
  await rt.sendMany('g_normalize_mean', inputs);
  for (const input of inputs) {
    const out = await rt.receive('g_normalize_mean', { timeout: 10_000 });
    assert.instance(out, GMean);
    assert.is(out.correlationId, input.messageId);
    assert.ok(Math.abs(out.mean - cpuNormalizeMean(input.values)) < 1e-5, `${out.mean} vs ${cpuNormalizeMean(input.values)}`);
  }
  assert.ok(rt.getTelemetry('g_normalize_mean')!.messagesProcessed >= 1);
});

gpuTest('resident state persists across 100 dispatches', async () => {
  ringKernel({ kernelId: 'g_counter', placement: 'gpu', input: GCount, output: GCount, state: { type: 'u32', words: 2, init: [0, 1000] },
    wgsl: `fn handle(m: GCount) -> GCount { state[0] = state[0] + m.n; return GCount(state[0] + state[1]); }` });
  await using rt = new RingKernelRuntime();
  await rt.launch('g_counter');
  await rt.activate('g_counter');
  for (let i = 1; i <= 100; i++) {
    await rt.send('g_counter', new GCount({ n: 1 }));   // one at a time: one dispatch each
    assert.is((await rt.receive('g_counter', { timeout: 10_000 })).n, 1000 + i);
  }
});

gpuTest('a mixed pipeline: inline -> gpu -> inline, wired with connect', async () => {
  ringKernel({ kernelId: 'g_make_vec', input: GPlain, output: GVec16 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new GVec16({ values: m.values.slice(0, 16) }));
  });
  ringKernel({ kernelId: 'g_report', input: GMean, output: GMean }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new GMean({ mean: m.mean * 2 }));
  });
  await using rt = new RingKernelRuntime();
  for (const id of ['g_make_vec', 'g_normalize_mean', 'g_report']) await rt.launch(id);
  rt.connect('g_make_vec', 'g_normalize_mean');
  rt.connect('g_normalize_mean', 'g_report');
  for (const id of ['g_make_vec', 'g_normalize_mean', 'g_report']) await rt.activate(id);
  const values = Array.from({ length: 16 }, (_, i) => i + 1);
  await rt.send('g_make_vec', new GPlain({ values }));
  const r = await rt.receive('g_report', { timeout: 10_000 });
  assert.ok(Math.abs(r.mean - 2 * cpuNormalizeMean(values)) < 1e-5, `${r.mean}`);
});

gpuTest('WGSL that does not compile is refused at launch with the line and column of the error', async () => {
  ringKernel({ kernelId: 'g_broken', placement: 'gpu', input: GCount, output: GCount,
    wgsl: `fn handle(m: GCount) -> GCount {\n  let x: u32 = m.n;\n  return GCount(x + undefined_thing);\n}` });
  await using rt = new RingKernelRuntime();
  const e = await rt.launch('g_broken').catch((x) => x);
  assert.instance(e, ShaderCompileError);
  assert.is(e.kernelId, 'g_broken');
  assert.is(e.line, 3);
  assert.ok(e.column > 1);
  assert.match(e.message, /line 3, column \d+/);
  assert.match(e.message, /undefined_thing/);
  assert.throws(() => rt.getState('g_broken'), /no kernel 'g_broken' is launched/);
});

test('a GPU kernel is defined only with fixed-size numeric fields, WGSL and both message classes', () => {
  assert.throws(() => ringKernel({ kernelId: 'g_no_wgsl', placement: 'gpu', input: GCount, output: GCount }), /needs wgsl with fn handle/);
  assert.throws(() => ringKernel({ kernelId: 'g_no_output', placement: 'gpu', input: GCount, wgsl: 'fn handle(m: GCount) -> GCount { return m; }' }), /needs input and output/);
  assert.throws(() => ringKernel({ kernelId: 'g_bad_state', placement: 'gpu', input: GCount, output: GCount, wgsl: 'fn handle(m: GCount) -> GCount { return m; }', state: { type: 'f64' as 'f32', words: 1 } }), /state must be/);
});

gpuTest('a message field the GPU cannot hold is refused at launch, naming it', async () => {
  ringKernel({ kernelId: 'g_f64', placement: 'gpu', input: GPlain, output: GCount, wgsl: 'fn handle(m: GPlain) -> GCount { return GCount(0u); }' });
  await using rt = new RingKernelRuntime();
  const e = await rt.launch('g_f64').catch((x) => x);
  assert.instance(e, TypeError);
  assert.match(e.message, /GPlain\.values is an array without a fixed length/);
});

test('without a GPU: BackendNotAvailableError, or the JS fallback with the same results', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    import { RingKernelRuntime, ringKernel, message, t, BackendNotAvailableError } from '${new URL('../js/index.ts', import.meta.url).href}';
    const V = message('GfVec', { values: t.array(t.f32, 4) });
    const M = message('GfMean', { mean: t.f32 });
    const wgsl = 'fn handle(m: GfVec) -> GfMean { return GfMean((m.values[0] + m.values[1] + m.values[2] + m.values[3]) / 4.0); }';
    ringKernel({ kernelId: 'no_fallback', placement: 'gpu', input: V, output: M, wgsl });
    ringKernel({ kernelId: 'with_fallback', placement: 'gpu', input: V, output: M, wgsl },
      (m) => new M({ mean: m.values.reduce((a, b) => a + b, 0) / 4 }));
    const rt = new RingKernelRuntime();
    const e = await rt.launch('no_fallback').catch((x) => x);
    console.log(e instanceof BackendNotAvailableError, /no WebGPU adapter/.test(e.message));
    await rt.launch('with_fallback'); await rt.activate('with_fallback');
    const req = new V({ values: [1, 2, 3, 6] });
    await rt.send('with_fallback', req);
    const r = await rt.receive('with_fallback', { timeout: 2000 });
    console.log(r.mean, r.correlationId === req.messageId);
    await rt.shutdown();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 30_000, env: { ...process.env, RINGKERNEL_GPU: 'none', NO_COLOR: '1', FORCE_COLOR: '0' } });
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['true true', '3 true']);
});

gpuTest('deactivate stops dispatching; the messages wait and flow after reactivate', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('g_normalize_mean');
  await rt.activate('g_normalize_mean');
  await rt.deactivate('g_normalize_mean');
  const inputs = Array.from({ length: 5 }, (_, k) => new GVec16({ values: Array.from({ length: 16 }, (_, i) => i * k) }));
  await rt.sendMany('g_normalize_mean', inputs);
  await new Promise((r) => setTimeout(r, 150));
  assert.is(rt.getTelemetry('g_normalize_mean')!.queueDepth, 5);
  const early = await rt.receive('g_normalize_mean', { timeout: 50 }).catch((e) => e);
  assert.instance(early, Error);
  await rt.reactivate('g_normalize_mean');
  for (const input of inputs) assert.is((await rt.receive('g_normalize_mean', { timeout: 10_000 })).correlationId, input.messageId);
});

test.run();
