// bench/supervision.mjs — what supervision costs.
//   node bench/supervision.mjs     (npm run bench:supervision builds first)
// (a) a checkpoint: µs per ctx.checkpoint(state) inside a kernel, for a few state sizes,
//     awaited one by one and fired back to back; the anchor is a structuredClone of the
//     same state on the same thread in the same run (a checkpoint is one clone inline; on
//     a worker two clones, one by postMessage, and a round trip to the owner when awaited).
// (b) a restart: a kernel that throws on every other message (restart policy, backoff 0):
//     ms per restart (throw, dead letter, new run) over the same stream without poison.
import { RingKernelRuntime } from 'ringkernel';
import { Run, Cost, Num, states } from './supervision-kernels.mjs';
import { writeFileSync, mkdirSync } from 'node:fs';

const rt = new RingKernelRuntime({ workers: 1, deadLetterLimit: 100 });
const results = { date: new Date().toISOString(), checkpoint: {}, restart: {} };

async function checkpointCosts(id, where) {
  await rt.launch(id);
  await rt.activate(id);
  const out = {};
  for (const [size, s] of states.entries()) {
    const row = {};
    for (const awaited of [1, 0]) {
      const n = size >= 2 ? 500 : 2000;
      await rt.send(id, new Run({ size, n, awaited }));
      const c = await rt.receive(id, { timeout: 60_000 });
      row[awaited ? 'awaitedUs' : 'firedUs'] = c.checkpointUs;
      row.cloneUs = c.cloneUs;
    }
    out[s.name] = row;
  }
  await rt.terminate(id);
  results.checkpoint[where] = out;
}

/** ms per restart: `pairs` good + poison messages, against the same number of good ones alone. */
async function restartCost(id, where, pairs = 200) {
  await rt.launch(id);
  await rt.activate(id);
  const stream = async (poisoned) => {
    const t0 = performance.now();
    for (let i = 0; i < pairs; i++) {
      if (poisoned) await rt.send(id, new Num({ n: -1 }));
      await rt.send(id, new Num({ n: i }));
    }
    for (let i = 0; i < pairs; i++) await rt.receive(id, { timeout: 60_000 });
    return performance.now() - t0;
  };
  await stream(false); // warm-up
  const clean = await stream(false);
  const poisoned = await stream(true);
  const restarts = rt.getTelemetry(id).restarts;
  results.restart[where] = { restarts, cleanMs: clean, poisonedMs: poisoned, perRestartMs: (poisoned - clean) / restarts };
  await rt.terminate(id);
}

await checkpointCosts('bs_measure', 'inline');
await checkpointCosts('bs_measure_w', 'worker');
await restartCost('bs_poison', 'inline');
await restartCost('bs_poison_w', 'worker');
await rt.shutdown();

const f = (x) => x.toFixed(x < 10 ? 2 : 1).padStart(8);
console.log('bench:supervision');
console.log('  (a) ctx.checkpoint(state), µs each          awaited     fired   structuredClone (anchor)   awaited / clone');
for (const [where, rows] of Object.entries(results.checkpoint)) {
  console.log(`      ${where}`);
  for (const [name, r] of Object.entries(rows))
    console.log(`        ${name.padEnd(30)} ${f(r.awaitedUs)}  ${f(r.firedUs)}  ${f(r.cloneUs)}                  ${(r.awaitedUs / r.cloneUs).toFixed(1)}x`);
}
console.log('  (b) a restart (throw, dead letter, new run; backoff 0)');
for (const [where, r] of Object.entries(results.restart))
  console.log(`      ${where.padEnd(7)} ${r.perRestartMs.toFixed(2)} ms per restart   (${r.restarts} restarts: ${r.poisonedMs.toFixed(0)} ms against ${r.cleanMs.toFixed(0)} ms without poison)`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/supervision.json', import.meta.url), JSON.stringify(results, null, 2));
