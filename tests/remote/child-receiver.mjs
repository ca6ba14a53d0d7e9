// A receiving process for crash.nats.ts, using the built package by its name: exposes kernel
// 'crash_sink', which appends each message's n to OUT (one line each, written before the
// kernel asks for the next message, so a line means "handled"). Runs until SIGTERM.
// env: NATS_URL, NS, OUT, PLACEMENT ('inline' | 'worker'), MAX_IN_FLIGHT, DELAY_MS
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { RingKernelRuntime, ringKernel, message, t } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';

const CrashNum = message('CrashNum', { n: t.i32 });
const delay = Number(process.env.DELAY_MS ?? 1);
ringKernel({ kernelId: 'crash_sink', input: CrashNum, queueSize: 512, placement: process.env.PLACEMENT === 'worker' ? 'worker' : 'inline', module: import.meta.url }, async (ctx) => {
  for await (const m of ctx) {
    appendFileSync(process.env.OUT, `${m.n}\n`);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  }
});

if (isMainThread) {
  const runtime = new RingKernelRuntime({ workers: 1, remote: natsRemote({ servers: process.env.NATS_URL, namespace: process.env.NS, maxInFlight: Number(process.env.MAX_IN_FLIGHT ?? 64), requestTimeoutMs: 3000 }) });
  await runtime.launch('crash_sink');
  await runtime.activate('crash_sink');
  await runtime.expose('crash_sink');
  console.log('ready');
  // how the inbox kept the senders' order, printed when it changes (crash.nats.ts shows it when a check fails)
  let last = '';
  setInterval(() => {
    const e = runtime.remoteStats().exposed[0];
    const line = e ? `order: heldBack ${e.heldBack} gapsSkipped ${e.gapsSkipped} late ${e.late} repeatsSkipped ${e.repeatsSkipped}` : '';
    if (line !== last) console.log((last = line));
  }, 200).unref();
  process.on('SIGTERM', async () => { await runtime.shutdown({ timeout: 2000 }); process.exit(0); });
}
