// runtime.metrics(): the Prometheus text format, read back by a parser of that format from npm
// (parse-prometheus-text-format), agrees with getTelemetry for inline, worker and GPU kernels.
//
// That parser groups a summary's quantiles across label sets into one sample (it keeps the
// last kernel's), so per-kernel quantiles are checked on runtimes with one kernel each; the
// counters and gauges of many kernels are checked together. tests/prometheus.test.ts has a
// real Prometheus scrape many kernels, summary included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import parsePrometheus from 'parse-prometheus-text-format';
import {
  RingKernelRuntime, ringKernel, message, t, BackpressureStrategy, QueueFullError, gpuAdapterName, type KernelTelemetry,
} from '../js/index.js';
import { formatValue } from '../js/telemetry/metrics.js';
import { WNum, wDouble } from './helpers/worker-kernels.js';
import { sleep, until, withRuntime } from './helpers/assert.js';

const MxNum = message('MxNum', { n: t.f64 });
const MxVec = message('MxVec', { values: t.array(t.f32, 4) });
const MxSum = message('MxSum', { sum: t.f32 });

const echo = (kernelId: string, extra: Record<string, unknown> = {}) =>
  ringKernel({ kernelId, input: MxNum, output: MxNum, ...extra }, async (ctx) => { for await (const m of ctx) await ctx.send(new MxNum({ n: m.n + 1 })); });
echo('mx_echo');
ringKernel({ kernelId: 'mx_fragile', input: MxNum, output: MxNum }, async (ctx) => {
  for await (const m of ctx) { if (m.n < 0) throw new RangeError('negative'); await ctx.send(m); }
});
// never receives: what is sent stays queued (queue depth), a full queue refuses or drops
const stuck = (kernelId: string, backpressure: BackpressureStrategy) =>
  ringKernel({ kernelId, input: MxNum, output: MxNum, queueSize: 4, backpressure }, async (ctx) => { while (!ctx.shouldTerminate) await sleep(5); });
stuck('mx_reject', BackpressureStrategy.REJECT);
stuck('mx_drop', BackpressureStrategy.DROP_OLDEST);

/** The contract's metric names and the telemetry field each one is (DESIGN.md "Metric names"). */
const COUNTERS = {
  ringkernel_messages_processed_total: 'messagesProcessed',
  ringkernel_messages_dropped_total: 'messagesDropped',
  ringkernel_messages_discarded_total: 'messagesDiscarded',
  ringkernel_messages_interrupted_total: 'messagesInterrupted',
  ringkernel_output_discarded_total: 'outputDiscarded',
  ringkernel_messages_rejected_total: 'messagesRejected',
  ringkernel_errors_total: 'errorCount',
  ringkernel_restarts_total: 'restarts',
  ringkernel_dead_letters_total: 'deadLetters',
  ringkernel_dead_letters_dropped_total: 'deadLettersDropped',
} as const;
const GAUGES = { ringkernel_queue_depth: 'queueDepth', ringkernel_queue_high_water: 'queueHighWater', ringkernel_queue_capacity: 'queueCapacity' } as const;
const QUANTILES = { '0.5': 'latencyP50Ms', '0.95': 'latencyP95Ms', '0.99': 'latencyP99Ms' } as const;

interface Family { name: string; help: string; type: string; metrics: Array<{ value?: string; labels?: Record<string, string>; quantiles?: Record<string, string> }> }
const parse = (text: string) => parsePrometheus(text) as Family[];

/** Every counter and gauge sample equals getTelemetry's field for its kernel; one sample per kernel. */
function assertAgrees(rt: RingKernelRuntime, text: string): void {
  const families = new Map(parse(text).map((f) => [f.name, f]));
  for (const [name, field] of Object.entries({ ...COUNTERS, ...GAUGES })) {
    const f = families.get(name);
    assert.ok(f, `no family ${name}`);
    assert.is(f!.type, name in COUNTERS ? 'COUNTER' : 'GAUGE', name);
    assert.ok(f!.help.length > 10, `${name} has HELP text`);
    const byKernel = new Map(f!.metrics.map((m) => [m.labels!.kernel, m]));
    assert.is(byKernel.size, rt.kernelIds().length, `${name}: one sample per kernel`);
    for (const id of rt.kernelIds()) {
      const m = byKernel.get(id)!;
      assert.equal(Object.keys(m.labels!), ['kernel'], `${name}: one kernel label`);
      assert.is(Number(m.value), (rt.getTelemetry(id) as unknown as Record<string, number>)[field], `${name}{kernel="${id}"}`);
    }
  }
  const latency = families.get('ringkernel_latency_seconds');
  assert.ok(latency, 'no ringkernel_latency_seconds');
  assert.is(latency!.type, 'SUMMARY');
}

/** The summary of a runtime with one kernel: its quantiles are getTelemetry's, in seconds. */
function assertLatency(rt: RingKernelRuntime, id: string): KernelTelemetry {
  const tm = rt.getTelemetry(id)!;
  const [only] = parse(rt.metrics()).find((f) => f.name === 'ringkernel_latency_seconds')!.metrics;
  assert.equal(Object.keys(only!.quantiles!).sort(), ['0.5', '0.95', '0.99']);
  for (const [q, field] of Object.entries(QUANTILES)) assert.is(Number(only!.quantiles![q]), tm[field] / 1000, `quantile ${q}`);
  return tm;
}

test('inline kernels: every counter and gauge agrees with getTelemetry, HELP and TYPE for each', () => withRuntime(async (rt) => {
  for (const id of ['mx_echo', 'mx_fragile', 'mx_reject', 'mx_drop']) { await rt.launch(id); await rt.activate(id); }
  for (let i = 0; i < 20; i++) await rt.send('mx_echo', new MxNum({ n: i }));
  for (let i = 0; i < 20; i++) await rt.receive('mx_echo', { timeout: 2000 });
  for (let i = 0; i < 6; i++) await rt.send('mx_reject', new MxNum({ n: i })).catch((e) => assert.instance(e, QueueFullError));
  for (let i = 0; i < 7; i++) await rt.send('mx_drop', new MxNum({ n: i }));
  await rt.send('mx_fragile', new MxNum({ n: 1 }));
  await rt.send('mx_fragile', new MxNum({ n: -1 }));
  await until(() => rt.getState('mx_fragile') === 'failed', 2000, 'mx_fragile fails');
  const text = rt.metrics();
  assertAgrees(rt, text);
  // the numbers are not all zero: each counter saw something
  assert.is(rt.getTelemetry('mx_echo')!.messagesProcessed, 20);
  assert.is(rt.getTelemetry('mx_reject')!.messagesRejected, 2);
  assert.is(rt.getTelemetry('mx_drop')!.messagesDropped, 3);
  assert.is(rt.getTelemetry('mx_drop')!.queueDepth, 4);
  assert.is(rt.getTelemetry('mx_drop')!.queueCapacity, 4);
  assert.is(rt.getTelemetry('mx_fragile')!.errorCount, 1);
  assert.match(text, /^# HELP ringkernel_messages_processed_total .+\n# TYPE ringkernel_messages_processed_total counter\n/);
  assert.ok(text.endsWith('\n'));
}));

test('the latency summary: quantiles 0.5, 0.95 and 0.99 in seconds, as getTelemetry has them in ms', () => withRuntime(async (rt) => {
  await rt.launch('mx_echo');
  await rt.activate('mx_echo');
  for (let i = 0; i < 50; i++) { await rt.send('mx_echo', new MxNum({ n: i })); await rt.receive('mx_echo', { timeout: 2000 }); }
  const tm = assertLatency(rt, 'mx_echo');
  assert.ok(tm.latencyP50Ms > 0, 'a latency was measured');
}));

test('names are the contract\'s (counters end in _total); families without telemetry fields are absent, not zero', () => withRuntime(async (rt) => {
  await rt.launch('mx_echo');
  const names = parse(rt.metrics()).map((f) => f.name);
  assert.equal(names.filter((n) => n.endsWith('_total')).sort(), Object.keys(COUNTERS).sort());
  for (const n of [...Object.keys(COUNTERS), ...Object.keys(GAUGES), 'ringkernel_latency_seconds']) assert.ok(names.includes(n), n);
  const tm = rt.getTelemetry('mx_echo') as unknown as Record<string, unknown>;
  // restarts and messagesDiscarded come with supervision and accounting: a metric only with its field
  assert.is(names.includes('ringkernel_restarts_total'), typeof tm.restarts === 'number');
  assert.is(names.includes('ringkernel_messages_discarded_total'), typeof tm.messagesDiscarded === 'number');
}));

test('kernel ids with quotes, backslashes and line feeds are escaped and read back exactly', () => withRuntime(async (rt) => {
  const ids = ['say "hi"', 'C:\\dir\\', 'two\nlines', 'plain'];
  for (const id of ids) await rt.launch(id, 'mx_echo');
  const f = parse(rt.metrics()).find((x) => x.name === 'ringkernel_messages_processed_total')!;
  assert.equal(f.metrics.map((m) => m.labels!.kernel).sort(), [...ids].sort());
  assertAgrees(rt, rt.metrics());
}));

test('a terminated kernel keeps its last numbers; telemetry off: families without samples', async () => {
  await withRuntime(async (rt) => {
    await rt.launch('mx_echo');
    await rt.activate('mx_echo');
    for (let i = 0; i < 5; i++) { await rt.send('mx_echo', new MxNum({ n: i })); await rt.receive('mx_echo', { timeout: 2000 }); }
    await rt.terminate('mx_echo');
    const f = parse(rt.metrics()).find((x) => x.name === 'ringkernel_messages_processed_total')!;
    assert.is(Number(f.metrics[0]!.value), 5);
    // terminated with 4 messages still queued: discarded, and counted so
    await rt.launch('mx_drop');
    await rt.activate('mx_drop');
    for (let i = 0; i < 4; i++) await rt.send('mx_drop', new MxNum({ n: i }));
    await rt.terminate('mx_drop');
    assert.is(rt.getTelemetry('mx_drop')!.messagesDiscarded, 4);
    const d = parse(rt.metrics()).find((x) => x.name === 'ringkernel_messages_discarded_total')!;
    assert.is(Number(d.metrics.find((m) => m.labels!.kernel === 'mx_drop')!.value), 4);
    assertAgrees(rt, rt.metrics());
  });
  await withRuntime(async (rt) => {
    await rt.launch('mx_echo');
    const families = parse(rt.metrics());
    assert.ok(families.length >= 8);
    for (const f of families) assert.is(f.metrics.length, 0, `${f.name} has no samples`);
  }, { enableTelemetry: false });
});

test('worker kernels: the numbers read from shared memory agree with getTelemetry', async () => {
  const rt = new RingKernelRuntime({ workers: 1 });
  try {
    await rt.launch('w_double');
    await rt.activate('w_double');
    for (let i = 0; i < 30; i++) await rt.send('w_double', new WNum({ n: i, from: 'host' }));
    for (let i = 0; i < 30; i++) await rt.receive('w_double', { timeout: 5000 });
    await until(() => rt.getTelemetry('w_double')!.messagesProcessed === 30, 5000, 'the worker counted 30');
    assertAgrees(rt, rt.metrics());
    assertLatency(rt, 'w_double');
    assert.ok(wDouble.placement === 'worker' && rt.workerOf('w_double') === 0);
  } finally { await rt.shutdown({ timeout: 1000 }); }
});

const adapter = await gpuAdapterName();
(adapter ? test : test.skip)('GPU kernels: batches counted on the GPU path agree with getTelemetry', async () => {
  ringKernel({ kernelId: 'mx_gpu_sum', placement: 'gpu', input: MxVec, output: MxSum,
    wgsl: 'fn handle(m: MxVec) -> MxSum { return MxSum(m.values[0] + m.values[1] + m.values[2] + m.values[3]); }' });
  await withRuntime(async (rt) => {
    await rt.launch('mx_gpu_sum');
    await rt.activate('mx_gpu_sum');
    await rt.sendMany('mx_gpu_sum', Array.from({ length: 64 }, (_, i) => new MxVec({ values: [i, 1, 2, 3] })));
    for (let i = 0; i < 64; i++) await rt.receive('mx_gpu_sum', { timeout: 10_000 });
    await until(() => rt.getTelemetry('mx_gpu_sum')!.messagesProcessed === 64, 10_000, 'the GPU kernel counted 64');
    assert.is(rt.topology().kernels[0]!.placement, 'gpu');
    assertAgrees(rt, rt.metrics());
    assertLatency(rt, 'mx_gpu_sum');
  });
});

test('values: +Inf, -Inf and NaN as the format spells them, numbers round-trip', () => {
  assert.is(formatValue(Infinity), '+Inf');
  assert.is(formatValue(-Infinity), '-Inf');
  assert.is(formatValue(NaN), 'NaN');
  for (const v of [0, 1, 0.1 + 0.2, 1e-7, 123456789012]) assert.is(Number(formatValue(v)), v);
});

test.run();
