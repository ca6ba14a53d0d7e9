// GPU placement on whatever WebGPU adapter this machine has (in CI: Mesa's llvmpipe through
// Dawn's OpenGL ES backend, from the webgpu npm package).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingKernelRuntime, ringKernel, message, t, ShaderCompileError, gpuAdapterName, gpuDevice, GpuDeviceLostError, KernelFailedError, MessageTypeError, MessageDecodeError, sentAt } from '../js/index.js';
import { epochHigh, epochLow } from './helpers/epoch.js';

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

test('a dispatch takes at most 65,536 messages, fewer where the device limits its buffers', async () => {
  const { batchLimit } = await import('../js/gpu/runner.js');
  assert.is(batchLimit({}, 124, 64), 65536);                                            // defaults: the pump's own cap
  assert.is(batchLimit({ maxStorageBufferBindingSize: 128 * 2 ** 20 }, 64 * 1024 + 60, 64), 2046); // 64 KiB records
  assert.is(batchLimit({ maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 20 }, 60, 1024), 1024);
  assert.is(batchLimit({ maxComputeWorkgroupsPerDimension: 16 }, 60, 60), 1024);         // 16 workgroups of 64
  assert.is(batchLimit({ maxBufferSize: 100 }, 1000, 60), 0);                            // not one fits: launch refuses
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

gpuTest('answers are whole records written on the GPU: fresh v4 ids, the input id as correlation, its priority, a send time', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('g_normalize_mean');
  await rt.activate('g_normalize_mean');
  const before = epochLow();
  // several priorities, so the answers of one batch go back in several runs
  const inputs = Array.from({ length: 3000 }, (_, k) => new GVec16({ values: Array.from({ length: 16 }, (_, i) => k + i), priority: [128, 200, 7][k % 3]! }));
  await rt.sendMany('g_normalize_mean', inputs);
  const byCorrelation = new Map(inputs.map((m) => [m.messageId, m]));
  const ids = new Set<string>();
  for (let got = 0; got < inputs.length;) {
    for (const out of await rt.receiveMany('g_normalize_mean', { max: 4096, timeout: 10_000 })) {
      got++;
      const input = byCorrelation.get(out.correlationId!);
      assert.ok(input, `answer ${out.messageId} correlates with no input (${out.correlationId})`);
      byCorrelation.delete(out.correlationId!);
      assert.is(out.priority, input!.priority);
      assert.match(out.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.not.ok(ids.has(out.messageId), `message id ${out.messageId} given twice`);
      ids.add(out.messageId);
      assert.ok(sentAt(out) >= before && sentAt(out) <= epochHigh(), `timestamp ${sentAt(out)}`);
      assert.ok(Math.abs(out.mean - cpuNormalizeMean(input!.values)) < 1e-5);
    }
  }
  assert.is(byCorrelation.size, 0);
  assert.is(rt.getTelemetry('g_normalize_mean')!.messagesProcessed, inputs.length);
});

gpuTest('a GPU kernel feeds kernels connected round-robin and by broadcast', async () => {
  const seen: Record<string, number> = {};
  for (const id of ['g_sink_a', 'g_sink_b']) {
    ringKernel({ kernelId: id, input: GMean, output: GMean }, async (ctx) => {
      for await (const m of ctx) { seen[id] = (seen[id] ?? 0) + 1; await ctx.send(m); }
    });
  }
  for (const mode of ['round-robin', 'broadcast'] as const) {
    for (const k of Object.keys(seen)) delete seen[k];
    await using rt = new RingKernelRuntime();
    for (const id of ['g_normalize_mean', 'g_sink_a', 'g_sink_b']) await rt.launch(id);
    rt.connect('g_normalize_mean', ['g_sink_a', 'g_sink_b'], { mode });
    for (const id of ['g_normalize_mean', 'g_sink_a', 'g_sink_b']) await rt.activate(id);
    const inputs = Array.from({ length: 100 }, (_, k) => new GVec16({ values: Array.from({ length: 16 }, (_, i) => k * i) }));
    await rt.sendMany('g_normalize_mean', inputs);
    const want = mode === 'broadcast' ? 100 : 50;
    for (const id of ['g_sink_a', 'g_sink_b']) {
      const got = new Set<string>();
      while (got.size < want) for (const m of await rt.receiveMany(id, { timeout: 10_000 })) got.add(m.correlationId!);
      if (mode === 'broadcast') assert.equal(got, new Set(inputs.map((m) => m.messageId)));
    }
    assert.equal(seen, { g_sink_a: want, g_sink_b: want });
  }
});

gpuTest('answers a connected REJECT kernel has no room for are counted as its rejections; the GPU kernel goes on', async () => {
  ringKernel({ kernelId: 'g_small_sink', input: GMean, output: GMean, queueSize: 4, backpressure: 'reject' }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('g_normalize_mean');
  await rt.launch('g_small_sink'); // launched, not active: it takes nothing from its queue
  rt.connect('g_normalize_mean', 'g_small_sink');
  await rt.activate('g_normalize_mean');
  await rt.sendMany('g_normalize_mean', Array.from({ length: 20 }, (_, k) => new GVec16({ values: new Array(16).fill(k) })));
  const deadline = Date.now() + 10_000;
  while (rt.getTelemetry('g_normalize_mean')!.messagesProcessed < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const sink = rt.getTelemetry('g_small_sink')!;
  assert.is(sink.queueDepth, 4);
  assert.is(sink.messagesRejected, 16);
  assert.is(rt.getState('g_normalize_mean'), 'active');
  await rt.activate('g_small_sink');
  for (let k = 0; k < 4; k++) assert.is((await rt.receive('g_small_sink', { timeout: 10_000 })).mean, 0);
});

gpuTest('a connected BLOCK kernel with a small queue holds the GPU kernel back; nothing is lost', async () => {
  ringKernel({ kernelId: 'g_slow_sink', input: GMean, output: GMean, queueSize: 4 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('g_normalize_mean');
  await rt.launch('g_slow_sink');
  rt.connect('g_normalize_mean', 'g_slow_sink');
  await rt.activate('g_normalize_mean');
  const inputs = Array.from({ length: 50 }, (_, k) => new GVec16({ values: new Array(16).fill(k) }));
  await rt.sendMany('g_normalize_mean', inputs);
  await new Promise((r) => setTimeout(r, 100));
  assert.is(rt.getTelemetry('g_slow_sink')!.queueDepth, 4); // full: the pump waits for room
  await rt.activate('g_slow_sink');
  const got: string[] = [];
  while (got.length < inputs.length) for (const m of await rt.receiveMany('g_slow_sink', { timeout: 10_000 })) got.push(m.correlationId!);
  assert.equal(got, inputs.map((m) => m.messageId)); // all of them, in order
  assert.is(rt.getTelemetry('g_slow_sink')!.messagesRejected, 0);
});

gpuTest('a message of another type never reaches a GPU kernel: refused at connect, or at the send of a source that declares no output', async () => {
  ringKernel({ kernelId: 'g_wrong_feeder' }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m); // passes GCount on, undeclared
  });
  ringKernel({ kernelId: 'g_vec_only', placement: 'gpu', input: GVec16, output: GMean, wgsl: 'fn handle(m: GVec16) -> GMean { return GMean(m.values[0]); }' });
  await using rt = new RingKernelRuntime();
  await rt.launch('g_wrong_feeder');
  await rt.launch('g_vec_only');
  await rt.launch('g_counter_out', 'g_counter');
  // a source that declares its output is checked when connected
  assert.throws(() => rt.connect('g_counter_out', 'g_vec_only'), (e: unknown) => e instanceof MessageTypeError
    && /connect: kernel 'g_counter_out' sends GCount messages, and GPU kernel 'g_vec_only' takes only GVec16/.test((e as Error).message));
  // one that does not is checked at each send: the feeder's send is refused, the GPU kernel sees nothing
  rt.connect('g_wrong_feeder', 'g_vec_only');
  await rt.activate('g_wrong_feeder');
  await rt.activate('g_vec_only');
  await rt.send('g_wrong_feeder', new GCount({ n: 1 }));
  const e = await rt.receive('g_wrong_feeder', { timeout: 10_000 }).catch((x) => x);
  assert.instance(e, KernelFailedError);
  assert.instance(e.cause, MessageTypeError);
  assert.match(e.cause.message, /to kernel 'g_vec_only': it takes GVec16 messages, got GCount/);
  assert.is(rt.getState('g_vec_only'), 'active');
  assert.is(rt.getTelemetry('g_vec_only')!.messagesProcessed + rt.getTelemetry('g_vec_only')!.queueDepth, 0);
});

gpuTest('terminate frees every GPU buffer the kernel made', async () => {
  const device = await gpuDevice() as { createBuffer(d: object): { destroy(): void } };
  const made: object[] = [], freed = new Set<object>();
  const createBuffer = device.createBuffer;
  device.createBuffer = function (descriptor: object) {
    const buffer = createBuffer.call(this, descriptor);
    made.push(buffer);
    const destroy = buffer.destroy;
    buffer.destroy = function () { freed.add(buffer); destroy.call(this); };
    return buffer;
  };
  try {
    await using rt = new RingKernelRuntime();
    await rt.launch('g_freed', 'g_counter');
    await rt.activate('g_freed');
    await rt.sendMany('g_freed', Array.from({ length: 300 }, () => new GCount({ n: 1 })));
    for (let got = 0; got < 300;) got += (await rt.receiveMany('g_freed', { timeout: 10_000 })).length;
    assert.ok(made.length >= 5, `${made.length} buffers made`); // state, and two sets of batch buffers
    await rt.terminate('g_freed');
    assert.is(made.filter((b) => !freed.has(b)).length, 0);
  } finally {
    device.createBuffer = createBuffer;
  }
});

// columns: typed arrays in and out of a GPU kernel, through the same rings and records
ringKernel({ kernelId: 'g_col_mean', placement: 'gpu', input: GVec16, output: GMean, queueSize: 2048, wgsl: `
fn handle(m: GVec16) -> GMean { var s = 0.0; for (var i = 0u; i < 16u; i++) { s += m.values[i]; } return GMean(s / 16.0); }` });

gpuTest('columns in and out of a GPU kernel: more than a batch and more than the queue, in order, counted', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('g_col_mean');
  await rt.activate('g_col_mean');
  const n = 70_000; // over one dispatch's 65,536 and over the queues' 2,048: BLOCK on both rings
  const values = new Float32Array(16 * n);
  for (let i = 0; i < values.length; i++) values[i] = (i % 16) + Math.floor(i / 16);
  const sending = rt.sendColumns('g_col_mean', { values });
  const means: number[] = [];
  while (means.length < n) {
    const b = await rt.receiveColumns('g_col_mean', { timeout: 10_000 });
    assert.instance(b.fields.mean, Float32Array);
    for (const m of b.fields.mean!) means.push(m);
  }
  await sending;
  for (let k = 0; k < n; k++) if (means[k] !== k + 7.5) assert.unreachable(`message ${k}: ${means[k]}`);
  const tel = rt.getTelemetry('g_col_mean')!;
  assert.is(tel.messagesProcessed, n);
  assert.ok(tel.latencyP50Ms > 0);
});

gpuTest('columns sent to a GPU kernel are messages: the answers correlate, keep the batch priority, mix with objects', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('g_col_mean');
  await rt.send('g_col_mean', new GVec16({ values: new Array(16).fill(1) }));
  await rt.sendColumns('g_col_mean', { values: new Float32Array(16 * 3).fill(2) }, { priority: 200 });
  await rt.send('g_col_mean', new GVec16({ values: new Array(16).fill(3) }));
  await rt.activate('g_col_mean');
  const got: InstanceType<typeof GMean>[] = [];
  while (got.length < 5) got.push(...await rt.receiveMany('g_col_mean', { timeout: 10_000 }));
  assert.equal(got.map((m) => m.mean), [2, 2, 2, 1, 3]);
  assert.equal(got.map((m) => m.priority), [200, 200, 200, 128, 128]);
  for (const m of got) assert.match(m.correlationId!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.is(new Set(got.map((m) => m.correlationId)).size, 5);
});

gpuTest('a record of a class the GPU kernel does not take (from a worker whose module declares another): a dead letter, the rest answered in order', async () => {
  const { answersToSkewedInput } = await import('./helpers/column-skew.js');
  await using rt = new RingKernelRuntime({ workers: 1 });
  assert.equal(await answersToSkewedInput(rt, 'col_skew_gpu', 'col_skew_gpu_sender', 10_000), [1, 3]);
  assert.is(rt.getState('col_skew_gpu'), 'active');
  const letters = rt.deadLetters('col_skew_gpu');
  assert.is(letters.length, 1);
  assert.instance(letters[0]!.message, Uint8Array);
  assert.instance(letters[0]!.error, MessageDecodeError);
  assert.match(letters[0]!.error.message, /a ColSkewGo record, not a ColSkew/);
});

// it destroys the device too: a later launch makes a new one
gpuTest('a lost device mid-stream: the batches taken are counted as interrupted, so every message sent is in exactly one count', async () => {
  ringKernel({ kernelId: 'g_lost_stream', placement: 'gpu', input: GVec16, output: GMean, queueSize: 262_144, wgsl: `
fn handle(m: GVec16) -> GMean { return GMean(m.values[0] + m.values[15]); }` });
  await using rt = new RingKernelRuntime();
  await rt.launch('g_lost_stream');
  const n = 100_000;
  const values = new Float32Array(16 * n).fill(1);
  await rt.sendColumns('g_lost_stream', { values });   // all queued before it runs
  await rt.activate('g_lost_stream');
  // the pump has taken its first batch (the queue emptied by it): the device goes while it is on the GPU
  for (let i = 0; i < 100_000 && rt.getTelemetry('g_lost_stream')!.queueDepth === n; i++) await new Promise((r) => setImmediate(r));
  const device = await gpuDevice() as { destroy(): void };
  device.destroy();
  for (let i = 0; i < 1000 && rt.getState('g_lost_stream') !== 'failed'; i++) await new Promise((r) => setTimeout(r, 5));
  assert.is(rt.getState('g_lost_stream'), 'failed');
  await new Promise((r) => setTimeout(r, 50)); // a batch whose answers were on their way: counted once either way
  const tel = rt.getTelemetry('g_lost_stream')!;
  assert.ok(tel.messagesInterrupted > 0, `interrupted ${tel.messagesInterrupted}: the batches on the GPU when it was lost`);
  assert.is(tel.messagesProcessed + tel.messagesInterrupted + tel.messagesDiscarded + tel.deadLetters, n,
    `processed ${tel.messagesProcessed} + interrupted ${tel.messagesInterrupted} + discarded ${tel.messagesDiscarded} + dead letters ${tel.deadLetters}`);
});

// last: it destroys the device the other tests share (a later launch makes a new one)
gpuTest('a lost device fails the GPU kernel with GpuDeviceLostError at once; a relaunch gets a new device', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('g_normalize_mean');
  await rt.activate('g_normalize_mean');
  await rt.send('g_normalize_mean', new GVec16({ values: Array.from({ length: 16 }, (_, i) => i) }));
  await rt.receive('g_normalize_mean', { timeout: 10_000 });
  const device = await gpuDevice() as { destroy(): void };
  device.destroy();
  const e = await rt.receive('g_normalize_mean', { timeout: 10_000 }).catch((x) => x);
  assert.instance(e, KernelFailedError);
  assert.instance(e.cause, GpuDeviceLostError);
  assert.match(e.message, /kernel 'g_normalize_mean' failed: GpuDeviceLostError: GPU kernel 'g_normalize_mean': the GPU device was lost \(destroyed/);
  assert.is(rt.getState('g_normalize_mean'), 'failed');
  assert.is(rt.getTelemetry('g_normalize_mean')!.errorCount, 1);
  const refused = await rt.send('g_normalize_mean', new GVec16({ values: new Array(16).fill(0) })).catch((x) => x);
  assert.instance(refused, KernelFailedError);

  await rt.terminate('g_normalize_mean');
  await rt.launch('g_again', 'g_normalize_mean');
  await rt.activate('g_again');
  assert.is.not(await gpuDevice(), device);
  await rt.send('g_again', new GVec16({ values: Array.from({ length: 16 }, (_, i) => i) }));
  const out = await rt.receive('g_again', { timeout: 10_000 });
  assert.ok(Math.abs(out.mean - 0.5) < 1e-6);
});

test.run();
