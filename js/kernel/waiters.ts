// waiters.ts — the promises waiting on a kernel (a receive, a host receive, a GPU pump
// waiting for input): each in a queue, settled in order, with its timeout and abort signal.
import { QueueTimeoutError } from '../errors.js';
import type { ReceiveOptions } from './context.js';

export interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** A for-await's next(): resolves with `{ done: false, value }`, and ends (`{ done: true }`) instead of rejecting while the kernel stops. */
  iterates: boolean;
}

/** What a for-await's next() resolves with once the kernel is stopping. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined }) as IteratorReturnResult<undefined>;

/**
 * A promise that waits in `queue` until settled, or rejects with QueueTimeoutError after
 * `options.timeout` ms, or with the signal's reason once it is aborted.
 */
export function waitIn<T>(queue: Waiter<T>[], options: ReceiveOptions | undefined, operation: string, kernelId: string, iterates = false): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const w: Waiter<T> = { resolve, reject, timer: undefined, signal: options?.signal, onAbort: undefined, iterates };
    const timeout = options?.timeout;
    if (timeout !== undefined) {
      if (!(timeout >= 0)) { reject(new RangeError(`${operation} on kernel '${kernelId}': timeout must be a number of milliseconds >= 0, got ${String(timeout)}`)); return; }
      w.timer = setTimeout(() => {
        const i = queue.indexOf(w);
        if (i >= 0) queue.splice(i, 1);
        settle(w, undefined, new QueueTimeoutError(`${operation} on kernel '${kernelId}': nothing arrived within ${timeout} ms`, { kernelId, operation }));
      }, timeout);
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

/** Takes a waiter's timer and abort listener away (out of its queue already); it never settles. */
export function unhook<T>(w: Waiter<T>): void {
  if (w.timer !== undefined) clearTimeout(w.timer);
  if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
}

/** Settles a waiter (already out of its queue) and drops its timer and abort listener. */
export function settle<T>(w: Waiter<T>, value: T | undefined, error?: unknown): void {
  unhook(w);
  if (error !== undefined) w.reject(error);
  else w.resolve((w.iterates ? { done: false, value } : value) as T);
}

/** Settles a waiter of a kernel that is stopping: a for-await's next() ends, any other rejects with `error`. */
export function settleStopping<T>(w: Waiter<T>, error: unknown): void {
  if (!w.iterates) { settle(w, undefined, error); return; }
  unhook(w);
  w.resolve(DONE as T);
}
