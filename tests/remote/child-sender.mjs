// A sending process for crash.nats.ts, using the built package by its name: sends CrashNum
// FROM..TO-1 to 'remote:crash_sink' in batches, each message with an id made from its n (so a
// restarted sender sends the very same messages), and prints "sent <k>" as batches are stored.
// env: NATS_URL, NS, FROM, TO, BATCH
import { RingKernelRuntime, message, t } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';

const CrashNum = message('CrashNum', { n: t.i32 });
const idOf = (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const runtime = new RingKernelRuntime({ remote: natsRemote({ servers: process.env.NATS_URL, namespace: process.env.NS, requestTimeoutMs: 3000 }) });
const from = Number(process.env.FROM), to = Number(process.env.TO), batch = Number(process.env.BATCH ?? 100);
for (let i = from; i < to; i += batch) {
  const ms = [];
  for (let n = i; n < Math.min(i + batch, to); n++) ms.push(new CrashNum({ n, messageId: idOf(n) }));
  // a dead or restarting server: try the same messages again (their ids make it safe)
  for (;;) {
    try { await runtime.sendMany('remote:crash_sink', ms); break; } catch (e) { console.error(`retry: ${e.message}`); await new Promise((r) => setTimeout(r, 200)); }
  }
  console.log(`sent ${Math.min(i + batch, to)}`);
}
await runtime.shutdown();
console.log('done');
