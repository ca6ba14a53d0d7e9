// waiters.ts — the promises waiting on a kernel (a receive, a host receive, a GPU pump
// waiting for input): each in a queue, settled in order, with its timeout and abort signal.
//
// Timeouts: one timer for all the waiters of this thread that have one, set for the earliest
// deadline, instead of a timer each. A receive with a timeout that is answered soon (the
// common case) then costs a set insert and delete, not a timer made and cleared: 0.5-0.9 us
// of a 2.5-3 us round trip here. While no waiter has a deadline the timer is left pending
// but does not keep the process alive (keepAlive); where that cannot be said, it is cleared.
import { QueueTimeoutError } from '../errors.js';
import type { ReceiveOptions } from './context.js';
import { keepAlive, monotonicNow } from '../platform.js';

export interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
  /** Its timeout's end (monotonicNow), and what settles it then; only for a waiter with a timeout. */
  deadline: number;
  expire: (() => void) | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** A for-await's next(): resolves with `{ done: false, value }`, and ends (`{ done: true }`) instead of rejecting while the kernel stops. */
  iterates: boolean;
  /**
   * For wakeTakers: what it resolves with, taken when it is woken (null: nothing for it
   * yet, it waits on; a throw rejects it). Undefined: it resolves with undefined and looks
   * for itself.
   */
  take: (() => T | null) | undefined;
}

/** What a for-await's next() resolves with once the kernel is stopping. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

/**
 * A promise that waits in `queue` until settled, or rejects with QueueTimeoutError after
 * `options.timeout` ms, or with the signal's reason once it is aborted.
 */
export function waitIn<T>(queue: Waiter<T>[], options: ReceiveOptions | undefined, operation: string, kernelId: string, iterates = false,
  take?: () => T | null): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const w: Waiter<T> = { resolve, reject, deadline: Infinity, expire: undefined, signal: options?.signal, onAbort: undefined, iterates, take };
    const timeout = options?.timeout;
    if (timeout !== undefined) {
      if (!(timeout >= 0)) { reject(new RangeError(`${operation} on kernel '${kernelId}': timeout must be a number of milliseconds >= 0, got ${String(timeout)}`)); return; }
      if (timeout !== Infinity) { // (Infinity: no limit)
        w.expire = () => {
          const i = queue.indexOf(w);
          if (i >= 0) queue.splice(i, 1);
          settle(w, undefined, new QueueTimeoutError(`${operation} on kernel '${kernelId}': nothing arrived within ${timeout} ms`, { kernelId, operation }));
        };
        watchDeadline(w as Waiter<unknown>, monotonicNow() + timeout);
      }
    }
    const signal = options?.signal;
    if (signal) {
      if (signal.aborted) { settle(w, undefined, signal.reason); return; }
      w.onAbort = () => {
        const i = queue.indexOf(w);
        if (i >= 0) queue.splice(i, 1);
        settle(w, undefined, signal.reason);
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    queue.push(w);
  });
}

/** The waiters with a deadline, and the one timer that ends them: set for `timerAt` (monotonicNow). */
const timed = new Set<Waiter<unknown>>();
let timer: ReturnType<typeof setTimeout> | undefined;
let timerAt = Infinity;
const MAX_DELAY = 2 ** 31 - 1;

function watchDeadline(w: Waiter<unknown>, deadline: number): void {
  w.deadline = deadline;
  timed.add(w);
  if (deadline < timerAt) setTimer(deadline);
  else if (timed.size === 1 && timer !== undefined) keepAlive(timer, true);
}

function setTimer(at: number): void {
  if (timer !== undefined) clearTimeout(timer);
  timerAt = at;
  // (a delay over setTimeout's 2^31 - 1 ms would fire at once: it fires then, and sets itself again)
  timer = setTimeout(expireDue, Math.min(MAX_DELAY, Math.max(0, at - monotonicNow())));
}

/** The timer fired: every waiter whose deadline has come times out; the timer is set again for the next. */
function expireDue(): void {
  timer = undefined;
  timerAt = Infinity;
  const now = monotonicNow();
  let next = Infinity;
  for (const w of [...timed]) {
    if (w.deadline <= now) { timed.delete(w); w.expire!(); }
    else if (w.deadline < next) next = w.deadline;
  }
  if (timed.size > 0 && timer === undefined) setTimer(next); // (expiring settles, and nothing settled adds a waiter)
}

/** A waiter with a deadline was settled: it leaves the timed set, and a timer no one needs keeps nothing alive. */
function unwatchDeadline(w: Waiter<unknown>): void {
  timed.delete(w);
  w.deadline = Infinity;
  if (timed.size > 0 || timer === undefined) return;
  if (!keepAlive(timer, false)) { clearTimeout(timer); timer = undefined; timerAt = Infinity; }
}

/** Takes a waiter's timer and abort listener away (out of its queue already); it never settles. */
export function unhook<T>(w: Waiter<T>): void {
  if (w.deadline !== Infinity) unwatchDeadline(w as Waiter<unknown>);
  if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
}

/** Settles a waiter (already out of its queue) and drops its timer and abort listener. */
export function settle<T>(w: Waiter<T>, value: T | undefined, error?: unknown): void {
  unhook(w);
  if (error !== undefined) w.reject(error);
  else w.resolve((w.iterates ? { done: false, value } : value) as T);
}

/**
 * Wakes the waiters of `queue`, in order: one with a `take` settles with what it takes now
 * (a throw rejects it; null: nothing for it yet, and it keeps its place, timeout and
 * signal), one without settles with undefined. A column receive woken this way resolves
 * with its batch itself: no second promise, and no callback that looks again a microtask
 * later.
 */
export function wakeTakers<T>(queue: Waiter<T>[]): void {
  for (let i = 0; i < queue.length;) {
    const w = queue[i]!;
    let v: T | null | undefined;
    if (w.take !== undefined) {
      try { v = w.take(); } catch (e) { drop(queue, w, i); settle(w, undefined, e); continue; }
      if (v === null) { i++; continue; }
    }
    drop(queue, w, i);
    settle(w, v);
  }
}

/** Takes `w` out of `queue`, where it was at `i` (a take may have changed the queue). */
function drop<T>(queue: Waiter<T>[], w: Waiter<T>, i: number): void {
  if (queue[i] !== w) i = queue.indexOf(w);
  if (i === 0) queue.shift();
  else if (i > 0) queue.splice(i, 1);
}

/** Settles a waiter of a kernel that is stopping: a for-await's next() ends, any other rejects with `error`. */
export function settleStopping<T>(w: Waiter<T>, error: unknown): void {
  if (!w.iterates) { settle(w, undefined, error); return; }
  unhook(w);
  w.resolve(DONE as T);
}
