// runtime.observeWith(meter): the metrics as OpenTelemetry observable instruments, collected by
// the OpenTelemetry SDK (a MeterProvider with a periodic reader) into its in-memory exporter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { RingKernelRuntime, ringKernel, message, t, BackpressureStrategy } from '../js/index.js';
import { WNum } from './helpers/worker-kernels.js';
import { until, withRuntime, sleep } from './helpers/assert.js';

const OtNum = message('OtNum', { n: t.f64 });
ringKernel({ kernelId: 'ot_echo', input: OtNum, output: OtNum }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
ringKernel({ kernelId: 'ot_drop', input: OtNum, output: OtNum, queueSize: 2, backpressure: BackpressureStrategy.DROP_OLDEST },
  async (ctx) => { while (!ctx.shouldTerminate) await sleep(5); });

/** A MeterProvider whose reader exports only when asked (forceFlush), into memory. */
function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<Map<string, MetricData>> => {
    exporter.reset();
    await reader.forceFlush();
    const metrics = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    return new Map(metrics.map((m) => [m.descriptor.name, m]));
  };
  return { meter: provider.getMeter('ringkernel-test'), collect, shutdown: () => provider.shutdown() };
}

/** kernel (and quantile) -> value of one instrument's data points. */
function points(m: MetricData | undefined): Map<string, number> {
  assert.ok(m, 'instrument collected');
  return new Map(m!.dataPoints.map((p) => [String(p.attributes.kernel) + (p.attributes.quantile === undefined ? '' : `@${String(p.attributes.quantile)}`), p.value as number]));
}

const FIELDS = {
  ringkernel_messages_processed: 'messagesProcessed', ringkernel_messages_dropped: 'messagesDropped',
  ringkernel_messages_discarded: 'messagesDiscarded', ringkernel_messages_interrupted: 'messagesInterrupted', ringkernel_output_discarded: 'outputDiscarded',
  ringkernel_messages_rejected: 'messagesRejected', ringkernel_errors: 'errorCount',
  ringkernel_restarts: 'restarts', ringkernel_dead_letters: 'deadLetters', ringkernel_dead_letters_dropped: 'deadLettersDropped',
  ringkernel_queue_depth: 'queueDepth', ringkernel_queue_high_water: 'queueHighWater', ringkernel_queue_capacity: 'queueCapacity',
} as const;

test('observable counters and gauges carry getTelemetry\'s numbers, one data point per kernel', () => withRuntime(async (rt) => {
  const { meter, collect, shutdown } = sdk();
  try {
    for (const id of ['ot_echo', 'ot_drop']) { await rt.launch(id); await rt.activate(id); }
    const observation = rt.observeWith(meter);
    assert.equal([...observation.instruments].sort(), [...Object.keys(FIELDS), 'ringkernel_latency_seconds'].sort());
    for (let i = 0; i < 12; i++) { await rt.send('ot_echo', new OtNum({ n: i })); await rt.receive('ot_echo', { timeout: 2000 }); }
    for (let i = 0; i < 5; i++) await rt.send('ot_drop', new OtNum({ n: i }));
    const got = await collect();
    for (const [name, field] of Object.entries(FIELDS)) {
      const m = got.get(name)!;
      const isCounter = !name.startsWith('ringkernel_queue');
      assert.is(m.dataPointType, isCounter ? DataPointType.SUM : DataPointType.GAUGE, name);
      if (isCounter) assert.is((m as { isMonotonic?: boolean }).isMonotonic, true, `${name} is monotonic`);
      assert.ok(m.descriptor.description.length > 10, `${name} has a description`);
      const p = points(m);
      for (const id of ['ot_echo', 'ot_drop']) assert.is(p.get(id), (rt.getTelemetry(id) as unknown as Record<string, number>)[field], `${name} ${id}`);
    }
    assert.is(points(got.get('ringkernel_messages_processed')).get('ot_echo'), 12);
    assert.is(points(got.get('ringkernel_messages_dropped')).get('ot_drop'), 3);
    // latency: a gauge per quantile, in seconds
    const lat = points(got.get('ringkernel_latency_seconds'));
    const tm = rt.getTelemetry('ot_echo')!;
    assert.is(got.get('ringkernel_latency_seconds')!.descriptor.unit, 's');
    assert.is(lat.get('ot_echo@0.5'), tm.latencyP50Ms / 1000);
    assert.is(lat.get('ot_echo@0.95'), tm.latencyP95Ms / 1000);
    assert.is(lat.get('ot_echo@0.99'), tm.latencyP99Ms / 1000);
    assert.ok(tm.latencyP50Ms > 0);
    // the next collection sees what happened since
    for (let i = 0; i < 3; i++) { await rt.send('ot_echo', new OtNum({ n: i })); await rt.receive('ot_echo', { timeout: 2000 }); }
    assert.is(points((await collect()).get('ringkernel_messages_processed')).get('ot_echo'), 15);
    // close(): no more observations from this runtime (the SDK may repeat the last cumulative value)
    observation.close();
    observation.close();
    for (let i = 0; i < 3; i++) { await rt.send('ot_echo', new OtNum({ n: i })); await rt.receive('ot_echo', { timeout: 2000 }); }
    assert.is(rt.getTelemetry('ot_echo')!.messagesProcessed, 18);
    const after = points((await collect()).get('ringkernel_messages_processed'));
    assert.ok(after.get('ot_echo') === undefined || after.get('ot_echo') === 15, `after close: ${after.get('ot_echo')}`);
  } finally { await shutdown(); }
}));

test('worker kernels are observed too', async () => {
  const { meter, collect, shutdown } = sdk();
  const rt = new RingKernelRuntime({ workers: 1 });
  try {
    await rt.launch('w_double');
    await rt.activate('w_double');
    rt.observeWith(meter);
    for (let i = 0; i < 10; i++) await rt.send('w_double', new WNum({ n: i, from: 'host' }));
    for (let i = 0; i < 10; i++) await rt.receive('w_double', { timeout: 5000 });
    await until(() => rt.getTelemetry('w_double')!.messagesProcessed === 10, 5000, 'counted');
    assert.is(points((await collect()).get('ringkernel_messages_processed')).get('w_double'), 10);
  } finally { await rt.shutdown({ timeout: 1000 }); await shutdown(); }
});

test('telemetry off: instruments exist, no data points; a non-Meter is refused with TypeError', () => withRuntime(async (rt) => {
  const { meter, collect, shutdown } = sdk();
  try {
    await rt.launch('ot_echo');
    rt.observeWith(meter);
    for (const m of (await collect()).values()) assert.is(m.dataPoints.length, 0, m.descriptor.name);
    for (const bad of [null, {}, { createObservableCounter() {} }]) {
      try { rt.observeWith(bad as never); assert.unreachable('accepted a non-Meter'); }
      catch (e) { assert.instance(e, TypeError); assert.match(String(e), /observeWith: expected an OpenTelemetry Meter/); }
    }
  } finally { await shutdown(); }
}, { enableTelemetry: false }));

test('neither the core bundles nor their type declarations name @opentelemetry/api', async () => {
  const { readFile, readdir } = await import('node:fs/promises');
  for (const f of ['../dist/index.js', '../dist/index.cjs', '../dist/dashboard.js', '../dist/dashboard.cjs']) {
    const code = await readFile(new URL(f, import.meta.url), 'utf8');
    assert.not.match(code, /(from|import\(|require\()\s*["']@opentelemetry\/api["']/, f);
  }
  const types = new URL('../dist/types/', import.meta.url);
  for (const f of (await readdir(types, { recursive: true })).filter((n) => String(n).endsWith('.d.ts'))) {
    assert.not.match(await readFile(new URL(String(f), types), 'utf8'), /['"]@opentelemetry\/api['"]/, String(f));
  }
});

test.run();
