// npm run demo — the seed pipeline (preprocess -> compute) on a stream of inputs, wired
// kernel to kernel with no host hop, then each stage's telemetry. The live dashboard of the
// run is served meanwhile (its URL is printed); `npm run demo -- --serve` keeps the pipeline
// running with a steady stream and the page open until Ctrl-C (`--port N` picks the port).
import { RingKernelRuntime, type KernelTelemetry } from 'ringkernel';
import { serveDashboard } from 'ringkernel/dashboard';
import { RawData } from './stages.js';

const STREAM = Number(process.env.DEMO_MESSAGES ?? 20_000);
const args = process.argv.slice(2);
const SERVE = args.includes('--serve');
const portAt = args.indexOf('--port');
const PORT = portAt >= 0 ? Number(args[portAt + 1]) : 0;

function table(rows: KernelTelemetry[]): string {
  const head = ['stage', 'throughput (msg/s)', 'processed', 'dropped', 'rejected', 'queue depth', 'p50 latency (ms)', 'p99 latency (ms)'];
  const body = rows.map((t) => [t.kernelId, t.throughput.toFixed(0), String(t.messagesProcessed), String(t.messagesDropped),
    String(t.messagesRejected), String(t.queueDepth), t.latencyP50Ms.toFixed(3), t.latencyP99Ms.toFixed(3)]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

await using runtime = new RingKernelRuntime({ enableTelemetry: true });
await runtime.launch('preprocess');
await runtime.launch('compute');
runtime.connect('preprocess', 'compute');
await runtime.activate('preprocess');
await runtime.activate('compute');
await using dashboard = await serveDashboard(runtime, { port: PORT });
console.log(`Dashboard: ${dashboard.url}   (Prometheus: ${dashboard.url}metrics)${SERVE ? '' : '   npm run demo -- --serve keeps it open'}\n`);

// The seed's own example first, then a stream of random readings.
await runtime.send('preprocess', new RawData({ values: [1, 2, 3, 4, 5] }));
console.log(`Result: ${(await runtime.receive('compute', { timeout: 1000 })).result}   (mean of [1..5] normalized)`);

const t0 = performance.now();
const sending = (async () => {
  for (let i = 0; i < STREAM; i++) {
    const values = Array.from({ length: 8 }, () => Math.round(Math.random() * 1000) / 10);
    await runtime.send('preprocess', new RawData({ values }), { timeout: 5000 });
  }
})();
let sum = 0;
for (let i = 0; i < STREAM; i++) {
  const r = await runtime.receive('compute', { timeout: 5000 });
  sum += r.result;
  if (i < 3 || i === STREAM - 1) console.log(`Result ${i + 1}/${STREAM}: ${r.result.toFixed(4)}`);
  else if (i === 3) console.log('...');
}
await sending;
const seconds = (performance.now() - t0) / 1000;
console.log(`\n${STREAM} messages through 2 stages in ${seconds.toFixed(3)} s (${(STREAM / seconds).toFixed(0)} msg/s end to end); mean result ${(sum / STREAM).toFixed(4)}\n`);
console.log(table(['preprocess', 'compute'].map((id) => runtime.getTelemetry(id)!)));

if (SERVE) {
  // a steady stream with a slow swell, so the page has something to show, until Ctrl-C
  console.log(`\nServing ${dashboard.url} with a live stream; Ctrl-C stops.`);
  let stop = false;
  process.once('SIGINT', () => { stop = true; });
  for (let i = 0; !stop; i++) {
    await runtime.send('preprocess', new RawData({ values: Array.from({ length: 8 }, () => Math.random() * 100) }), { timeout: 5000 });
    await runtime.receive('compute', { timeout: 5000 });
    if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5 + 20 * (1 + Math.sin(i / 2000))));
  }
  console.log('\nstopped');
}
