// Worker kernels for tests/reliability.test.ts (a worker imports this module to find them;
// the test imports it too, which registers them on the owner's side). Ids start with rl_w_.
import { ringKernel, message, t, QueueTimeoutError } from '../../js/index.js';

export const RlSeq = message('RlSeq', { seq: t.u32, src: t.u32 });
export const RlOther = message('RlOther', { x: t.u32 });
/** A message as kernel code saw it: `at` is process.hrtime in microseconds (one clock for every thread). */
export const RlStamp = message('RlStamp', { seq: t.u32, src: t.u32, at: t.f64 });
export const RlNum = message('RlNum', { n: t.f64 });

export const hrMicros = (): number => Number(process.hrtime.bigint() / 1000n);

/** Passes each message on. */
export const rlWPass = ringKernel({ kernelId: 'rl_w_pass', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlSeq }, async (ctx) => {
  for await (const m of ctx) await ctx.send(m);
});

/** A message that goes round a cycle of kernels until Date.now() passes `deadline`. */
export const RlLoop = message('RlLoop', { deadline: t.f64 });

/**
 * One kernel of a cycle on one thread (a -> b -> a, connected): passes each message on until
 * its deadline, so the cycle keeps that thread busy with nothing but messages, then ends.
 */
export const rlWLoop = ringKernel({ kernelId: 'rl_w_loop', placement: 'worker', module: import.meta.url, input: RlLoop, output: RlLoop }, async (ctx) => {
  let n = 0;
  for await (const m of ctx) {
    if ((++n & 255) === 0 && Date.now() > m.deadline) continue;
    await ctx.send(m);
  }
});

/**
 * Measures this thread's timers while it is busy: n = 0, a setTimeout(50); n = 1, a
 * receive({ timeout: 50 }) on its own empty queue. Answers with the milliseconds it took.
 */
export const rlWTimer = ringKernel({ kernelId: 'rl_w_timer', placement: 'worker', module: import.meta.url, input: RlNum, output: RlNum }, async (ctx) => {
  for await (const m of ctx) {
    const t0 = performance.now();
    if (m.n === 0) await new Promise((r) => setTimeout(r, 50));
    else await ctx.receive({ timeout: 50 }).catch((e) => { if (!(e instanceof QueueTimeoutError)) throw e; });
    await ctx.send(new RlNum({ n: performance.now() - t0 }));
  }
});

/** Stamps each message with the time kernel code got it. */
export const rlWStamp = ringKernel({ kernelId: 'rl_w_stamp', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlStamp, queueSize: 64 }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new RlStamp({ seq: m.seq, src: m.src, at: hrMicros() }));
});

/** Counts what it gets; a message with src 0xffffffff asks for the count (sent to its output). */
export const rlWSink = ringKernel({ kernelId: 'rl_w_sink', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlNum, queueSize: 64 }, async (ctx) => {
  let count = 0;
  for await (const m of ctx) {
    if (m.src === 0xffffffff) await ctx.send(new RlNum({ n: count }));
    else count++;
  }
});

/** A sink that never fills up its senders: DROP_OLDEST, and it only counts. */
export const rlWDrain = ringKernel({ kernelId: 'rl_w_drain', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlNum, backpressure: 'drop_oldest' }, async (ctx) => {
  for await (const _ of ctx) { /* counted by telemetry */ }
});

/** Declares output RlOther (connect must refuse it in front of an RlSeq kernel). */
export const rlWOther = ringKernel({ kernelId: 'rl_w_other', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlOther }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new RlOther({ x: m.seq }));
});

/** Declares no output and sends RlOther: only its sends can be checked. Fails with the send's error. */
export const rlWUntyped = ringKernel({ kernelId: 'rl_w_untyped', placement: 'worker', module: import.meta.url, input: RlSeq }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new RlOther({ x: m.seq }));
});

/** Handles messages until n = 3, then ends its whole thread. */
export const rlWExit = ringKernel({ kernelId: 'rl_w_exit', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlSeq }, async (ctx) => {
  for await (const m of ctx) {
    if (m.seq === 3) process.exit(3);
    await ctx.send(m);
  }
});

/** Throws on seq 3. */
export const rlWFragile = ringKernel({ kernelId: 'rl_w_fragile', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlSeq }, async (ctx) => {
  for await (const m of ctx) {
    if (m.seq === 3) throw new RangeError('rl_w_fragile: seq 3');
    await ctx.send(m);
  }
});

/** rl_w_stamp written in the seed's style: checks isActive, waits for activation, polls with a timeout. */
export const rlWSeedStamp = ringKernel({ kernelId: 'rl_w_seed_stamp', placement: 'worker', module: import.meta.url, input: RlSeq, output: RlStamp, queueSize: 64 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let m;
    try { m = await ctx.receive({ timeout: 20 }); } catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    await ctx.send(new RlStamp({ seq: m.seq, src: m.src, at: hrMicros() }));
  }
});

/** On a message, sends copies of it as fast as it can until Date.now() passes its deadline. */
export const rlWFlood = ringKernel({ kernelId: 'rl_w_flood', placement: 'worker', module: import.meta.url, input: RlLoop, output: RlSeq }, async (ctx) => {
  for await (const m of ctx) {
    let n = 0;
    while ((n++ & 255) !== 0 || Date.now() < m.deadline) await ctx.send(new RlSeq({ seq: n, src: 0 }));
  }
});
