// bench/remote.mjs — remote kernels: a two-process pipeline through the NATS bridge
// (ringkernel/nats), and the same bytes through raw JetStream (publish with acks, pull
// consumer with explicit acks), in one run against one nats-server on this machine.
//   throughput: N messages sent from this process, counted by a kernel (or a consumer) in
//               the other, best of 3; round trip: one message there and back, p50 / p99.
//   node bench/remote.mjs        (npm run bench:remote builds first)
// The target: the bridge moves >= 50% of raw JetStream's throughput.
import { spawn } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RingKernelRuntime, ringKernel, encodeMessage } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { startNatsServer, natsServerMissing } from '../tests/helpers/nats-server.mjs';
import { BenchMsg } from './remote-messages.mjs';

const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 500);
const WINDOW = 1024; // publishes in flight: natsRemote's default publishWindow, for both
if (natsServerMissing()) { console.log(`bench:remote skipped: ${natsServerMissing()}`); process.exit(0); }

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const makeMessages = () => Array.from({ length: N }, (_, i) => new BenchMsg({ seq: i, values: [0, 1, 2, 3, 4, 5, 6, i] }));

/** The far process: resolves once it printed "ready"; next() waits for its next "done". */
async function peer(mode, url) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./remote-peer.mjs', import.meta.url))],
    { env: { ...process.env, BENCH_MODE: mode, NATS_URL: url, BENCH_MESSAGES: String(N) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '', waiters = [], dones = 0;
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      if (line === 'ready' || line === 'done') { dones++; waiters.shift()?.(); }
    }
  });
  const next = () => new Promise((r) => { if (dones > 0) { dones--; r(); } else waiters.push(() => { dones--; r(); }); });
  await next();
  return { next, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

/**
 * Best throughput (msg/s) of 3 runs: `send` N fresh messages (new ids: the same ids again
 * would be deduplicated), until the far side counted them all.
 */
async function bestOf3(send, far) {
  let best = 0;
  for (let rep = 0; rep < 3; rep++) {
    const msgs = makeMessages();
    const t0 = performance.now();
    const counted = far.next();
    await send(msgs);
    await counted;
    best = Math.max(best, N / ((performance.now() - t0) / 1000));
  }
  return best;
}

async function roundTrips(once) {
  for (let i = 0; i < 50; i++) await once(i); // warm up
  const ms = [];
  // each round trip its own message: one id sent again would be deduplicated
  for (let i = 50; i < 50 + ROUND_TRIPS; i++) { const t0 = performance.now(); await once(i); ms.push(performance.now() - t0); }
  ms.sort((a, b) => a - b);
  return { p50Ms: quantile(ms, 0.5), p99Ms: quantile(ms, 0.99) };
}

async function bridge(url) {
  const far = await peer('bridge', url);
  let arrived = null;
  ringKernel({ kernelId: 'bench_back', input: BenchMsg }, async (ctx) => { for await (const _ of ctx) arrived?.(); });
  const rt = new RingKernelRuntime({ remote: natsRemote({ servers: url, namespace: 'bench' }) });
  await rt.launch('bench_back'); await rt.activate('bench_back'); await rt.expose('bench_back');
  const throughput = await bestOf3(async (msgs) => { for (let i = 0; i < N; i += 1000) await rt.sendMany('remote:bench_sink', msgs.slice(i, i + 1000)); }, far);
  const msgs = Array.from({ length: 50 + ROUND_TRIPS }, (_, i) => new BenchMsg({ seq: i, values: [0, 1, 2, 3, 4, 5, 6, i] }));
  const rtt = await roundTrips((i) => new Promise((resolve) => { arrived = resolve; void rt.send('remote:bench_echo', msgs[i]); }));
  await rt.shutdown();
  await far.stop();
  return { throughput, ...rtt };
}

async function raw(url) {
  const far = await peer('raw', url);
  const nc = await connect({ servers: url });
  const js = jetstream(nc);
  // the same bytes: the records the bridge publishes, encoded inside the timed run as the bridge does
  const encode = (msgs) => msgs.map((m) => ({ bytes: encodeMessage(m), id: m.messageId }));
  const throughput = await bestOf3(async (msgs) => {
    const records = encode(msgs);
    for (let i = 0; i < N; i += WINDOW)
      await Promise.all(records.slice(i, i + WINDOW).map((r) => js.publish('raw.RAW_sink', r.bytes, { msgID: r.id })));
  }, far);
  const records = encode(Array.from({ length: 50 + ROUND_TRIPS }, (_, i) => new BenchMsg({ seq: i, values: [0, 1, 2, 3, 4, 5, 6, i] })));
  const { jetstreamManager } = await import('@nats-io/jetstream');
  await (await jetstreamManager(nc)).consumers.add('RAW_pong', { durable_name: 'c', ack_policy: 'explicit' });
  const pongs = await (await js.consumers.get('RAW_pong', 'c')).consume({ max_messages: 64 });
  let arrived = null;
  (async () => { for await (const m of pongs) { m.ack(); arrived?.(); } })();
  const rtt = await roundTrips((i) => new Promise((resolve) => { arrived = resolve; void js.publish('raw.RAW_ping', records[i].bytes); }));
  await nc.drain();
  await far.stop();
  return { throughput, ...rtt };
}

const server = await startNatsServer();
const results = { date: new Date().toISOString(), messages: N, roundTrips: ROUND_TRIPS, bytesPerMessage: encodeMessage(makeMessages()[0]).length };
try {
  results.rawJetStream = await raw(server.url);
  results.bridge = await bridge(server.url);
} finally { await server.dispose(); }
results.ratio = results.bridge.throughput / results.rawJetStream.throughput;

const r = (x) => `${Math.round(x.throughput).toLocaleString('en-US').padStart(8)} msg/s   round trip p50 ${x.p50Ms.toFixed(2)} ms, p99 ${x.p99Ms.toFixed(2)} ms`;
console.log(`\nbench:remote — ${N} messages of ${results.bytesPerMessage} bytes, two processes, one nats-server (file store) on this machine`);
console.log(`  ringkernel/nats bridge        ${r(results.bridge)}   target >= 50% of raw JetStream`);
console.log(`  raw JetStream (publish+ack, pull+ack) ${r(results.rawJetStream)}`);
console.log(`  bridge / raw: ${(results.ratio * 100).toFixed(0)}% ${results.ratio >= 0.5 ? '(target met)' : '(target NOT met)'}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/remote.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
