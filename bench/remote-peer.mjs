// bench/remote-peer.mjs — the far process of bench/remote.mjs (one machine, another process).
// BENCH_MODE=bridge: a runtime that exposes 'bench_sink' (counts, prints "done" every N
// messages) and 'bench_echo' (sends each message back, connected to 'remote:bench_back').
// BENCH_MODE=raw: the same through raw JetStream: a pull consumer with explicit acks on
// RAW_sink (prints "done" every N), and a ping consumer that publishes each record to
// RAW_pong (awaiting the ack) before acknowledging it.
import { RingKernelRuntime, ringKernel } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';
import { BenchMsg } from './remote-messages.mjs';

const N = Number(process.env.BENCH_MESSAGES);
const url = process.env.NATS_URL;

if (process.env.BENCH_MODE === 'bridge') {
  let count = 0;
  ringKernel({ kernelId: 'bench_sink', input: BenchMsg, queueSize: 65536 }, async (ctx) => {
    for await (const _ of ctx) if (++count % N === 0) console.log('done');
  });
  ringKernel({ kernelId: 'bench_echo', input: BenchMsg, output: BenchMsg }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  const rt = new RingKernelRuntime({ remote: natsRemote({ servers: url, namespace: 'bench' }) });
  for (const id of ['bench_sink', 'bench_echo']) { await rt.launch(id); await rt.activate(id); await rt.expose(id); }
  rt.connect('bench_echo', 'remote:bench_back');
  console.log('ready');
  process.on('SIGTERM', async () => { await rt.shutdown({ timeout: 1000 }); process.exit(0); });
} else {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: url });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  for (const name of ['RAW_sink', 'RAW_ping', 'RAW_pong'])
    await jsm.streams.add({ name, subjects: [`raw.${name}`], retention: 'workqueue', storage: 'file', max_msgs: 65536 });
  for (const name of ['RAW_sink', 'RAW_ping'])
    await jsm.consumers.add(name, { durable_name: 'c', ack_policy: 'explicit', max_ack_pending: 1024 });
  let count = 0;
  const sink = await (await js.consumers.get('RAW_sink', 'c')).consume({ max_messages: 1024 });
  (async () => { for await (const m of sink) { m.ack(); if (++count % N === 0) console.log('done'); } })();
  const ping = await (await js.consumers.get('RAW_ping', 'c')).consume({ max_messages: 64 });
  (async () => { for await (const m of ping) { await js.publish('raw.RAW_pong', m.data); m.ack(); } })();
  console.log('ready');
  process.on('SIGTERM', async () => { await nc.drain(); process.exit(0); });
}
