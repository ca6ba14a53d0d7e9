// A sending process for order.nats.ts, using the built package by its name: one sender (S)
// racing others into a small BLOCK mailbox. Sends OrderNum { s: S, n: 0..N-1 } to
// 'remote:order_sink' in sendMany batches of BATCH, and prints "done" when all are stored.
// env: NATS_URL, NS, S, N, BATCH, REQUEST_TIMEOUT_MS
import { RingKernelRuntime, message, t } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';

const OrderNum = message('OrderNum', { s: t.i32, n: t.i32 });
const s = Number(process.env.S), n = Number(process.env.N), batch = Number(process.env.BATCH ?? 64);
const runtime = new RingKernelRuntime({ remote: natsRemote({ servers: process.env.NATS_URL, namespace: process.env.NS, requestTimeoutMs: Number(process.env.REQUEST_TIMEOUT_MS ?? 4000) }) });
for (let i = 0; i < n; i += batch) {
  await runtime.sendMany('remote:order_sink', Array.from({ length: Math.min(batch, n - i) }, (_, k) => new OrderNum({ s, n: i + k })));
}
console.log('done');
await runtime.shutdown();
