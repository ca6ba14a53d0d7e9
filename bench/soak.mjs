// npm run soak — 100,000,000 messages (or SOAK_MESSAGES) from several producers through a
// connected pipeline of an inline stage, a worker stage and an inline sink, while another
// loop keeps deactivating and reactivating the stages. The sink checks that every message
// arrives exactly once and, per producer, in order; telemetry must account for each one.
// Prints progress and the figures, writes bench/results/soak.json, exits 1 on any fault.
// Not part of CI (it takes a long while); see docs/BENCHMARKS.md for its last result.
import { writeFileSync, mkdirSync } from 'node:fs';
import { RingKernelRuntime, ringKernel, KernelStateError } from 'ringkernel';
import { SoakMsg } from './soak-kernels.mjs';

const TOTAL = Number(process.env.SOAK_MESSAGES ?? process.argv[2] ?? 100_000_000);
const PRODUCERS = 4;
const BATCH = 256;
const STAGES = ['soak_in', 'soak_w', 'soak_out'];

// the sink: checks order per producer, counts
const next = new Array(PRODUCERS).fill(0);
let received = 0, faults = 0, firstFault = null;
ringKernel({ kernelId: 'soak_out', input: SoakMsg, output: SoakMsg }, async (ctx) => {
  for (;;) {
    let ms;
    try { ms = await ctx.receiveMany({ max: 1024 }); } catch (e) { if (e instanceof KernelStateError) return; throw e; }
    for (const m of ms) {
      if (m.src >= PRODUCERS || m.seq !== next[m.src]) {
        faults++;
        firstFault ??= `producer ${m.src}: got seq ${m.seq}, expected ${next[m.src]} (after ${received} messages)`;
        if (m.src < PRODUCERS) next[m.src] = m.seq + 1;
      } else next[m.src]++;
      received++;
    }
  }
});

const rt = new RingKernelRuntime({ workers: 1 });
for (const id of STAGES) await rt.launch(id);
rt.connect('soak_in', 'soak_w');
rt.connect('soak_w', 'soak_out');
for (const id of STAGES) await rt.activate(id);

const t0 = performance.now();
const share = Math.ceil(TOTAL / PRODUCERS);
const producers = Array.from({ length: PRODUCERS }, (_, p) => (async () => {
  const n = Math.min(share, TOTAL - p * share);
  for (let s = 0; s < n; s += BATCH) {
    const batch = [];
    for (let k = s; k < Math.min(n, s + BATCH); k++) batch.push(new SoakMsg({ src: p, seq: k }));
    await rt.sendMany('soak_in', batch);
  }
})());

// deactivate / reactivate a stage every few ms, round the stages
let pausing = true, pauses = 0;
const pauser = (async () => {
  for (let i = 0; pausing; i++) {
    await new Promise((r) => setTimeout(r, 5 + (i % 7)));
    const id = STAGES[i % STAGES.length];
    await rt.deactivate(id);
    await new Promise((r) => setTimeout(r, 1 + (i % 3)));
    await rt.reactivate(id);
    pauses++;
  }
})();

let last = { at: t0, n: 0 };
const progress = setInterval(() => {
  const now = performance.now();
  const rate = (received - last.n) / ((now - last.at) / 1000);
  console.log(`${((now - t0) / 1000).toFixed(0).padStart(6)} s  ${received.toLocaleString('en-US').padStart(13)} / ${TOTAL.toLocaleString('en-US')}  ${Math.round(rate).toLocaleString('en-US')} msg/s  (${pauses} pauses, ${faults} faults)`);
  last = { at: now, n: received };
}, 10_000);

await Promise.all(producers);
while (received < TOTAL && performance.now() - last.at < 60_000) await new Promise((r) => setTimeout(r, 20));
const seconds = (performance.now() - t0) / 1000;
pausing = false;
await pauser;
clearInterval(progress);

const telemetry = Object.fromEntries(STAGES.map((id) => {
  const tm = rt.getTelemetry(id);
  return [id, { processed: tm.messagesProcessed, dropped: tm.messagesDropped, rejected: tm.messagesRejected, discarded: tm.messagesDiscarded, queueDepth: tm.queueDepth, p50Ms: tm.latencyP50Ms, p99Ms: tm.latencyP99Ms }];
}));
await rt.shutdown({ timeout: 2000 });

const missing = next.reduce((a, n, p) => a + Math.max(0, Math.min(share, TOTAL - p * share) - n), 0);
const exact = faults === 0 && missing === 0 && received === TOTAL
  && STAGES.every((id) => telemetry[id].processed === TOTAL && telemetry[id].dropped + telemetry[id].discarded === 0);
const result = {
  messages: TOTAL, received, producers: PRODUCERS, stages: 'inline -> worker -> inline, connected', pauses,
  seconds: +seconds.toFixed(1), rate: Math.round(received / seconds), faults, missing, firstFault, exactlyOnceInOrder: exact,
  telemetry, node: process.version, date: new Date().toISOString(),
};
console.log(JSON.stringify(result, null, 2));
console.log(`${exact ? 'OK' : 'FAILED'}: ${received.toLocaleString('en-US')} of ${TOTAL.toLocaleString('en-US')} messages in ${seconds.toFixed(1)} s (${Math.round(received / seconds).toLocaleString('en-US')} msg/s), ${pauses} deactivate/reactivate pauses, ${faults} out of order or repeated, ${missing} missing`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/soak.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
process.exit(exact ? 0 : 1);
