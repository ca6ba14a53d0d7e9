// pace.ts — keeps message traffic from starving this thread's event loop.
//
// On one thread, a kernel that finds its next message already queued, and a send that finds
// room, settle their promises at once: a pipeline of inline kernels (or of worker kernels on
// one thread, or a host loop of `await send`) then runs on promise callbacks alone, and
// promise callbacks run before any timer, I/O callback or message event. Left alone, a busy
// pipeline held a 100 ms setTimeout back for 20 s.
//
// So every send and receive asks mustYield() first, like Akka's dispatcher throughput
// setting: every CHECK_EVERY calls it reads the clock, and it keeps one marker task queued
// (nextTask). A marker still not run SLICE_MS after it was queued means the loop has had no
// turn for that long: from then until the marker runs, sends and receives go on only after
// a task of their own (afterTurn), so timers, I/O and control messages run in between.
// Without that starvation the cost is one counter per call and one task per loop turn.
import { monotonicNow, nextTask } from '../platform.js';

/** Calls between two looks at the clock. */
const CHECK_EVERY = 64;
/** How long promise callbacks alone may hold this thread before traffic waits for a task. */
export const SLICE_MS = 4;

let calls = 0;
/** When the marker task was queued (monotonicNow), or -1 while none is queued. */
let markerQueuedAt = -1;
let starving = false;
const markerRan = (): void => { markerQueuedAt = -1; starving = false; };

/**
 * True when this thread has run on promise callbacks alone for SLICE_MS or more: the caller
 * should go on after afterTurn() rather than now.
 */
export function mustYield(): boolean {
  if (starving) return true;
  if (++calls < CHECK_EVERY) return false;
  calls = 0;
  const t = monotonicNow();
  if (markerQueuedAt < 0) { markerQueuedAt = t; nextTask(markerRan); return false; }
  if (t - markerQueuedAt < SLICE_MS) return false;
  starving = true;
  return true;
}

/** Resolves in a task of its own: after timers, I/O and messages waiting for this thread. */
export function afterTurn(): Promise<void> {
  return new Promise<void>((resolve) => nextTask(resolve));
}

/**
 * `f.call(self, ...args)` after afterTurn(). A function of its own so that its callers, whose
 * common path goes on at once, have no closure: V8 makes a closure's context at every call of
 * the function that holds it, taken or not (125 B a host receive).
 */
export function afterTurnCall<A extends unknown[], R>(self: object, f: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return afterTurn().then(() => f.apply(self, args));
}

/**
 * `p`, settled no sooner than the next task when this thread must yield: for sends, whose
 * message is in the ring already (or was refused) when they return.
 */
export function paced<T>(p: Promise<T>): Promise<T> {
  if (!mustYield()) return p;
  return p.then((v) => afterTurn().then(() => v), (e) => afterTurn().then(() => { throw e; }));
}
