// Kernels with restart policies for tests/supervision.test.ts, each defined twice: inline
// under its name and on a worker under 'w_' + its name. A worker imports this module to
// find them; the test imports it too, which registers them on the owner's side.
import { ringKernel, message, t, type KernelContext, type KernelOptions, type Placement, type RestartPolicy } from '../../js/index.js';

export const SNum = message('SNum', { n: t.f64 });
/** What a kernel reports: `what` (an answer, a start, a throw), a number, a wall-clock time. */
export const SReport = message('SReport', { what: t.string, n: t.f64, at: t.f64 });

type Ctx = KernelContext<InstanceType<typeof SNum>, InstanceType<typeof SReport>>;
const report = (what: string, n = 0) => new SReport({ what, n, at: Date.now() });

/** Defines `fn` inline as `id` and on a worker as `w_<id>`; returns both ids by placement. */
function both(id: string, options: Omit<KernelOptions, 'kernelId'>, fn: (ctx: Ctx) => Promise<void>): Record<'inline' | 'worker', string> {
  for (const placement of ['inline', 'worker'] as Placement[]) {
    const kernelId = placement === 'inline' ? id : `w_${id}`;
    const def: KernelOptions = { input: SNum, output: SReport, ...options, kernelId, placement, module: placement === 'worker' ? import.meta.url : undefined };
    ringKernel(def, fn as (ctx: KernelContext) => Promise<void>);
  }
  return { inline: id, worker: `w_${id}` };
}

/** Answers n * 10; throws on a negative n. */
export const poison = both('sup_poison', { restart: { maxRestarts: 10, withinMs: 60_000 } }, async (ctx) => {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(report('answer', m.n * 10));
  }
});

/** Two restarts a minute at most. */
export const limited = both('sup_limited', { restart: { maxRestarts: 2, withinMs: 60_000 } }, async (ctx) => {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(report('answer', m.n));
  }
});

/** One restart per 300 ms at most. */
export const windowed = both('sup_windowed', { restart: { maxRestarts: 1, withinMs: 300 } }, async (ctx) => {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(report('answer', m.n));
  }
});

/** Reports each start; reports, then throws on a negative n; backoff 100, 200, then 250 ms. */
export const backoff = both('sup_backoff', { restart: { maxRestarts: 10, withinMs: 60_000, backoffMs: 100, maxBackoffMs: 250 } }, async (ctx) => {
  await ctx.send(report('start'));
  for await (const m of ctx) {
    if (m.n < 0) { await ctx.send(report('throw', m.n)); throw new RangeError(`poison ${m.n}`); }
    await ctx.send(report('answer', m.n));
  }
});

/** A 10 s backoff: terminate and shutdown must not wait for it. */
export const slow = both('sup_slow', { restart: { maxRestarts: 5, withinMs: 60_000, backoffMs: 10_000 } }, async (ctx) => {
  await ctx.send(report('start'));
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(report('answer', m.n));
  }
});

/** Throws as soon as it starts, every time; backoff 20 ms doubling to 200 ms. */
export const crashLoop = both('sup_crashloop', { restart: { maxRestarts: 1000, withinMs: 60_000, backoffMs: 20, maxBackoffMs: 200 } }, async () => {
  throw new Error('broken at start');
});

/** Throws as soon as it starts, restarting at once: the window ends it. */
export const crashNow = both('sup_crashnow', { restart: { maxRestarts: 5, withinMs: 60_000 } }, async () => {
  throw new Error('broken at start');
});

/** A running sum kept in checkpoints: it survives restarts (a negative n throws). */
export const counter = both('sup_counter', { restart: { maxRestarts: 5, withinMs: 60_000 } }, async (ctx) => {
  const state = (ctx.restored as { sum: number; runs: number } | undefined) ?? { sum: 0, runs: 0 };
  state.runs++;
  await ctx.checkpoint(state);
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    if (m.n === 999) {
      // a value that cannot be cloned: the kernel sees CheckpointError and goes on
      let name = 'none';
      try { await ctx.checkpoint({ f: () => 1 }); } catch (e) { name = (e as Error).name; }
      await ctx.send(new SReport({ what: name, n: state.sum, at: Date.now() }));
      continue;
    }
    state.sum += m.n;
    await ctx.checkpoint(state);
    await ctx.send(report('sum', state.sum));
  }
});

/** A kernel with no restart policy: its first throw fails it, and the message goes to its dead letters. */
export const fragile = both('sup_fragile', {}, async (ctx) => {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(report('answer', m.n));
  }
});

// A message class only one thread knows (a worker module of another version, say): its
// records reach the other thread as bytes that do not decode there.
const inWorker = typeof process !== 'undefined' && !(await import('node:worker_threads')).isMainThread;
export const Stranger = message(inWorker ? 'SStrangerFromWorker' : 'SStrangerFromMain', { n: t.f64 });

/** Forwards each number as a Stranger (its route's target cannot decode it), then as a SNum; declares no output class. */
export const stranger = both('sup_stranger', { output: undefined }, async (ctx) => {
  for await (const m of ctx) {
    await (ctx as unknown as KernelContext).send(new Stranger({ n: m.n }));
    await (ctx as unknown as KernelContext).send(new SNum({ n: m.n }));
  }
});

/** Answers each number with one sendMany of a SNum and a Stranger (which the host cannot decode); declares no output class. */
export const strangerAfter = both('sup_stranger_after', { output: undefined }, async (ctx) => {
  for await (const m of ctx) await (ctx as unknown as KernelContext).sendMany([new SNum({ n: m.n }), new Stranger({ n: m.n })]);
});

/** Takes any message (so a send to it is not checked), answers every one that decodes. */
export const sink = both('sup_sink', { input: undefined }, async (ctx) => {
  for await (const m of ctx) await ctx.send(report('got', m.n));
});

/** Takes its input in batches (receiveMany) and throws on a batch holding a negative n. */
export const batched = both('sup_batched', { restart: { maxRestarts: 5, withinMs: 60_000 } }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let batch;
    try { batch = await ctx.receiveMany({ max: 16 }); } catch { break; }
    if (batch.some((m) => m.n < 0)) throw new RangeError('a poison batch');
    await ctx.send(report('sum', batch.reduce((a, m) => a + m.n, 0)));
  }
});

/** Takes its input as columns (receiveColumns) and throws on a batch holding a negative n. */
export const columnar = both('sup_columnar', { restart: { maxRestarts: 5, withinMs: 60_000 } }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let batch;
    try { batch = await ctx.receiveColumns({ max: 16 }); } catch { break; }
    const n = batch.fields.n as Float64Array;
    if (n.some((v) => v < 0)) throw new RangeError('a poison column batch');
    await ctx.send(report('sum', n.reduce((a, v) => a + v, 0)));
  }
});

/** Each run looks at the context of the run before it (kept across the throw). */
let previous: Ctx | null = null;
export const fresh = both('sup_fresh', { restart: { maxRestarts: 5, withinMs: 60_000 } }, async (ctx) => {
  if (previous !== null) {
    const old = previous;
    const got = await old.receive(50).then(() => 'a message', (e: Error) => e.name);
    const sent = await old.send(report('from the old run')).then(() => 'sent', (e: Error) => e.name);
    let iterated = 'nothing';
    for await (const m of old) { iterated = `message ${m.n}`; break; }
    await ctx.send(new SReport({ what: `${old !== ctx} ${old.shouldTerminate} ${got} ${sent} ${iterated}`, n: 0, at: Date.now() }));
  }
  previous = ctx;
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(report('answer', m.n));
  }
});

/** Checkpoints each n, answers it; on 666 it checkpoints, then spins for ever (its thread must be ended). */
export const doomed = both('sup_doomed', {}, async (ctx) => {
  for await (const m of ctx) {
    await ctx.checkpoint({ n: m.n });
    if (m.n === 666) for (;;) { /* never yields */ }
    await ctx.send(report('kept', m.n));
  }
});

/**
 * Answers each n. On 100, 101 or 102 it checkpoints { holding: n } and keeps that message
 * in hand: 100 for ever (terminate must end its thread, or abandon it); 101 until it is
 * terminated, and then answers it; 102 until it is terminated, and then throws.
 */
export const holder = both('sup_holder', {}, async (ctx) => {
  for await (const m of ctx) {
    if (m.n >= 100) {
      await ctx.checkpoint({ holding: m.n });
      if (m.n === 100) await new Promise(() => {});
      while (!ctx.shouldTerminate) await new Promise((r) => setTimeout(r, 5));
      if (m.n === 102) throw new RangeError('thrown while terminating');
    }
    await ctx.send(report('answer', m.n));
  }
});

/**
 * Worker kernels only (an inline one would end the test's process), for the deaths of their
 * thread. Each reports its start ('start', with the sum it restored from its checkpoint),
 * answers each n >= 0 ('answer') and keeps the sum of those in its checkpoint; a negative n
 * throws (a restart). An n >= 1000 is a death: the kernel checkpoints { holding: n }, waits
 * until n - 1000 more messages are queued behind it, and then its thread ends with that
 * message in hand — by process.exit, or by an error thrown outside the function's promise (a
 * timer's callback).
 */
const dies = (kernelId: string, die: () => void, restart?: RestartPolicy) => ringKernel({
  kernelId, input: SNum, output: SReport, placement: 'worker', module: import.meta.url, restart,
}, async (ctx) => {
  const state = { sum: (ctx.restored as { sum?: number } | undefined)?.sum ?? 0 };
  await ctx.send(report('start', state.sum));
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    if (m.n >= 1000) {
      await ctx.checkpoint({ ...state, holding: m.n });
      while (ctx.runtime.getTelemetry(ctx.kernelId)!.queueDepth < m.n - 1000) await new Promise((r) => setTimeout(r, 2));
      die();
      await new Promise(() => {});
    }
    state.sum += m.n;
    await ctx.checkpoint(state);
    await ctx.send(report('answer', m.n));
  }
});
const exit = () => process.exit(3);
const throwInTimer = () => { setTimeout(() => { throw new Error('uncaught in the thread'); }, 0); };
const policy: RestartPolicy = { maxRestarts: 5, withinMs: 60_000, backoffMs: 20 };
export const exits = dies('w_sup_exits', exit, policy).kernelId;
export const uncaught = dies('w_sup_uncaught', throwInTimer, policy).kernelId;
/** Two restarts a minute, throws and deaths together. */
export const twoLives = dies('w_sup_twolives', exit, { maxRestarts: 2, withinMs: 60_000 }).kernelId;
/** A 10 s backoff: terminate and shutdown must not wait for it. */
export const slowPhoenix = dies('w_sup_slowphoenix', exit, { maxRestarts: 5, withinMs: 60_000, backoffMs: 10_000 }).kernelId;
/** No restart policy: a death fails it. */
export const mortal = dies('w_sup_mortal', exit).kernelId;

/** Forwards whatever it gets (any class), restarting on a throw: a stage to connect on either side of another. */
export const relay = both('sup_relay', { input: undefined, output: undefined, restart: policy }, async (ctx) => {
  for await (const m of ctx) await (ctx as unknown as KernelContext).send(m);
});
