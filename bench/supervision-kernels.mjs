// Kernels for bench/supervision.mjs, inline ('bs_*') and on a worker ('bs_*_w'); a worker
// imports this module to find them.
import { ringKernel, message, t } from 'ringkernel';

/** Measure `n` checkpoints of a state of `size` (see states), awaited each or not (`awaited` 0/1). */
export const Run = message('BsRun', { size: t.u32, n: t.u32, awaited: t.u32 });
/** Microseconds per checkpoint, and per structuredClone of the same state (the anchor, same thread). */
export const Cost = message('BsCost', { checkpointUs: t.f64, cloneUs: t.f64 });
export const Num = message('BsNum', { n: t.f64 });

/** The states a checkpoint is timed for: what a stage typically keeps. */
export const states = [
  { name: 'a counter object', make: () => ({ processed: 12345, lastId: 'c1d2e3f4', ok: true }) },
  { name: '1 KiB (Float64Array(128))', make: () => ({ sums: new Float64Array(128).fill(1.5), n: 128 }) },
  { name: '64 KiB (Float64Array(8192))', make: () => ({ sums: new Float64Array(8192).fill(1.5), n: 8192 }) },
  { name: 'a Map of 1,000 entries', make: () => ({ seen: new Map(Array.from({ length: 1000 }, (_, i) => [`key-${i}`, i])) }) },
];

async function measure(ctx) {
  for await (const m of ctx) {
    const state = states[m.size].make();
    const n = m.n;
    // warm-up, then the timed loops (best of 3: this machine is shared); the state changes
    // a little each time, as a stage's would
    for (let i = 0; i < 50; i++) await ctx.checkpoint(state);
    let checkpointUs = Infinity, cloneUs = Infinity;
    for (let round = 0; round < 3; round++) {
      let t0 = performance.now();
      if (m.awaited) {
        for (let i = 0; i < n; i++) { state.n = i; await ctx.checkpoint(state); }
      } else {
        let last;
        for (let i = 0; i < n; i++) { state.n = i; last = ctx.checkpoint(state); }
        await last; // the owner holds all of them once it holds the last
      }
      checkpointUs = Math.min(checkpointUs, (performance.now() - t0) * 1000 / n);
      t0 = performance.now();
      for (let i = 0; i < n; i++) { state.n = i; structuredClone(state); }
      cloneUs = Math.min(cloneUs, (performance.now() - t0) * 1000 / n);
    }
    await ctx.send(new Cost({ checkpointUs, cloneUs }));
  }
}

/** Answers n; throws on a negative n and restarts at once (backoff 0). */
async function poison(ctx) {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError('poison');
    await ctx.send(new Num({ n: m.n }));
  }
}
const restart = { maxRestarts: 1_000_000, withinMs: 60_000 };

ringKernel({ kernelId: 'bs_measure', input: Run, output: Cost }, measure);
ringKernel({ kernelId: 'bs_measure_w', placement: 'worker', module: import.meta.url, input: Run, output: Cost }, measure);
ringKernel({ kernelId: 'bs_poison', input: Num, output: Num, queueSize: 8192, restart }, poison);
ringKernel({ kernelId: 'bs_poison_w', placement: 'worker', module: import.meta.url, input: Num, output: Num, queueSize: 8192, restart }, poison);
