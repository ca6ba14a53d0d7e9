// Kernels placed on workers, for tests/workers.test.ts. A worker imports this module to find
// them; the test imports it too, which registers them on the owner's side.
import { ringKernel, message, t, QueueTimeoutError } from '../../js/index.js';

export const WNum = message('WNum', { n: t.f64, from: t.string });
export const WVec = message('WVec', { values: t.array(t.f64) });
export const WMean = message('WMean', { mean: t.f64 });

export const wDouble = ringKernel({ kernelId: 'w_double', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new WNum({ n: m.n * 2, from: ctx.kernelId, correlationId: m.messageId }));
});

export const wInc = ringKernel({ kernelId: 'w_inc', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new WNum({ n: m.n + 1, from: ctx.kernelId }));
});

/** Seed style: polls with a timeout and checks isActive. */
export const wPreprocess = ringKernel({ kernelId: 'w_preprocess', placement: 'worker', module: import.meta.url, input: WVec, output: WVec }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let raw;
    try { raw = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    const min = Math.min(...raw.values), max = Math.max(...raw.values);
    await ctx.send(new WVec({ values: raw.values.map((v) => (v - min) / (max - min || 1)), correlationId: raw.messageId }));
  }
});

export const wMean = ringKernel({ kernelId: 'w_mean', placement: 'worker', module: import.meta.url, input: WVec, output: WMean }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new WMean({ mean: m.values.reduce((a, b) => a + b, 0) / m.values.length, correlationId: m.messageId }));
});

/** Throws on a negative number. */
export const wFragile = ringKernel({ kernelId: 'w_fragile', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`negative input ${m.n}`);
    await ctx.send(new WNum({ n: m.n, from: ctx.kernelId }));
  }
});

/** On a message, spins forever without yielding (a kernel that cannot be stopped politely). */
export const wSpin = ringKernel({ kernelId: 'w_spin', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) {
    if (m.n === 666) for (;;) { /* busy */ }
    await ctx.send(new WNum({ n: m.n, from: ctx.kernelId }));
  }
});

/** Coordinator: drives w_double then w_inc through ctx.runtime. */
export const wCoordinator = ringKernel({ kernelId: 'w_coordinator', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) {
    await ctx.runtime.send('w_double', m);
    const d = await ctx.runtime.receive('w_double', { timeout: 5000 });
    await ctx.runtime.send('w_inc', d);
    const r = await ctx.runtime.receive('w_inc', { timeout: 5000 });
    await ctx.send(new WNum({ n: r.n, from: ctx.kernelId, correlationId: m.messageId }));
  }
});

/** A sink that counts messages per sender and reports on request (n < 0). */
export const wCounter = ringKernel({ kernelId: 'w_counter', placement: 'worker', module: import.meta.url, input: WNum, output: WNum, queueSize: 8192 }, async (ctx) => {
  let count = 0, sum = 0;
  for await (const m of ctx) {
    if (m.n < 0) { await ctx.send(new WNum({ n: count, from: String(sum) })); continue; }
    count++;
    sum += m.n;
  }
});

export const WSeq = message('WSeq', { seq: t.u32, hops: t.u32 });

/** One stage of the stress pipeline: passes each message on, counting the hop. */
export const wHop = ringKernel({ kernelId: 'w_hop', placement: 'worker', module: import.meta.url, input: WSeq, output: WSeq, queueSize: 1024 }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new WSeq({ seq: m.seq, hops: m.hops + 1 }));
});

/** Ends its whole worker thread on a message (process.exit in a worker ends the thread). */
export const wExit = ringKernel({ kernelId: 'w_exit', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) if (m.n === 3) process.exit(3);
});

/**
 * Asks the kernel named in `from` through ctx.runtime: n = 0, a receive that times out
 * (answers -1); n = 1, sends it 21 and answers what comes back (-2 if nothing does).
 */
export const wAsker = ringKernel({ kernelId: 'w_asker', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) {
    if (m.n === 0) {
      const r = await ctx.runtime.receive(m.from, { timeout: 30 }).then(() => 0, () => -1);
      await ctx.send(new WNum({ n: r, from: ctx.kernelId }));
    } else {
      await ctx.runtime.send(m.from, new WNum({ n: 21, from: ctx.kernelId }));
      const r = await ctx.runtime.receive(m.from, { timeout: 3000 }).then((a: InstanceType<typeof WNum>) => a.n, () => -2);
      await ctx.send(new WNum({ n: r, from: ctx.kernelId }));
    }
  }
});

/**
 * On a message n, sends n messages in one ctx.sendMany into its output queue of 8 (that
 * sendMany waits for room, many times); on -n, two such batches at once (the second's from 100,000).
 */
export const wBurst = ringKernel({ kernelId: 'w_burst', placement: 'worker', module: import.meta.url, input: WNum, output: WNum, queueSize: 8 }, async (ctx) => {
  for await (const m of ctx) {
    const batches = (m.n > 0 ? [0] : [0, 100_000]).map((from) => Array.from({ length: Math.abs(m.n) }, (_, i) => new WNum({ n: from + i, from: 'burst' })));
    const sending = batches.map((b) => ctx.sendMany(b));
    for (const b of batches) for (const x of b) x.n = -1; // what was sent is what the messages were at the call
    await Promise.all(sending);
  }
});
