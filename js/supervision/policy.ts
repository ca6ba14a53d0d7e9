// supervision/policy.ts — a kernel's restart policy: what a definition may say, the window
// that decides whether one more restart is allowed, and how long to wait before it.
//
// The rule (docs/supervision.md):
// - A throw at time `now` looks at the restarts of the last `withinMs` ms (a restart at t
//   counts while now - t < withinMs). With `maxRestarts` of them already, the kernel fails
//   (KernelFailedError); otherwise it restarts, and this restart joins the window. A worker
//   kernel's thread dying counts as a throw, in the same window (js/supervision/record.ts).
// - The n-th restart in the window (n = 1 for the first) waits
//       delay(n) = min(backoffMs * 2^(n-1), maxBackoffMs)
//   so backoffMs 100 waits 100, 200, 400, ... ms, never more than maxBackoffMs; once the
//   window empties (a quiet withinMs) the next restart waits backoffMs again. backoffMs 0
//   restarts at once (on the next macrotask, so terminate and timers still run).
import { RestartPolicyError } from '../errors.js';

/** `restart` in a kernel definition. */
export interface RestartPolicy {
  /** Restarts allowed within `withinMs`; one more throw in that window fails the kernel. 0..1e6. */
  maxRestarts: number;
  /** The window in milliseconds (> 0; Infinity: restarts are never forgotten). */
  withinMs: number;
  /** Delay before the first restart in the window, doubling for each further one (default 0). */
  backoffMs?: number;
  /** The most a delay grows to (default 30_000, or backoffMs when that is larger). */
  maxBackoffMs?: number;
}

export type CheckedRestartPolicy = Readonly<Required<RestartPolicy>>;

export const DEFAULT_MAX_BACKOFF_MS = 30_000;
const MAX_RESTARTS = 1_000_000;

/** Validates a definition's `restart` (undefined: no policy, the kernel fails at its first throw). */
export function checkRestartPolicy(policy: unknown, kernelId: string): CheckedRestartPolicy | undefined {
  if (policy === undefined) return undefined;
  const bad = (what: string): never => {
    throw new RestartPolicyError(`ringKernel '${kernelId}': restart.${what}`, { kernelId, operation: 'define' });
  };
  if (policy === null || typeof policy !== 'object' || Array.isArray(policy))
    throw new RestartPolicyError(`ringKernel '${kernelId}': restart must be { maxRestarts, withinMs, backoffMs? }, got ${policy === null ? 'null' : Array.isArray(policy) ? 'an array' : typeof policy}`,
      { kernelId, operation: 'define' });
  const p = policy as Record<string, unknown>;
  for (const k of Object.keys(p)) if (!['maxRestarts', 'withinMs', 'backoffMs', 'maxBackoffMs'].includes(k)) bad(`${k} is not an option (maxRestarts, withinMs, backoffMs, maxBackoffMs)`);
  const { maxRestarts, withinMs } = p;
  if (typeof maxRestarts !== 'number' || !Number.isInteger(maxRestarts) || maxRestarts < 0 || maxRestarts > MAX_RESTARTS)
    bad(`maxRestarts must be an integer 0..${MAX_RESTARTS}, got ${show(maxRestarts)}`);
  if (typeof withinMs !== 'number' || !(withinMs > 0)) bad(`withinMs must be a number of milliseconds > 0 (Infinity allowed), got ${show(withinMs)}`);
  const backoffMs = p.backoffMs ?? 0;
  if (typeof backoffMs !== 'number' || !(backoffMs >= 0) || !Number.isFinite(backoffMs)) bad(`backoffMs must be a finite number of milliseconds >= 0, got ${show(backoffMs)}`);
  const maxBackoffMs = p.maxBackoffMs ?? Math.max(DEFAULT_MAX_BACKOFF_MS, backoffMs as number);
  if (typeof maxBackoffMs !== 'number' || !Number.isFinite(maxBackoffMs) || !(maxBackoffMs >= (backoffMs as number)))
    bad(`maxBackoffMs must be a finite number of milliseconds >= backoffMs (${backoffMs as number}), got ${show(maxBackoffMs)}`);
  return Object.freeze({ maxRestarts: maxRestarts as number, withinMs: withinMs as number, backoffMs: backoffMs as number, maxBackoffMs: maxBackoffMs as number });
}

/** The delay before the n-th restart in the window (n >= 1). */
export function backoffDelay(policy: CheckedRestartPolicy, n: number): number {
  if (policy.backoffMs === 0) return 0;
  return Math.min(policy.backoffMs * 2 ** (n - 1), policy.maxBackoffMs);
}

/**
 * The restarts of one kernel within its policy's window. Times are ms since the Unix epoch
 * on a monotonic clock (platform.ts epochNow), so a window can move to another thread: a
 * worker kernel whose thread died goes on, on a fresh thread, with the window it had.
 */
export class RestartWindow {
  readonly policy: CheckedRestartPolicy;
  /** Times of the restarts still inside the window, oldest first. */
  private readonly times: number[];

  /** `history`: restarts already in the window (times, oldest first), e.g. from another thread. */
  constructor(policy: CheckedRestartPolicy, history: readonly number[] = []) {
    this.policy = policy;
    this.times = history.slice();
  }

  /**
   * The kernel threw (or its thread died) at `now`: the delay before it restarts, or null
   * when it has had maxRestarts restarts within withinMs already and must fail.
   */
  next(now: number): number | null {
    const { maxRestarts } = this.policy;
    this.forget(now);
    if (this.times.length >= maxRestarts) return null;
    this.times.push(now);
    return backoffDelay(this.policy, this.times.length);
  }

  /** A restart that another thread allowed (its window is this one's copy) joins this window. */
  note(at: number): void {
    this.forget(at);
    this.times.push(at);
  }

  /** The restarts still in the window at `now`, oldest first (a copy: to seed another window). */
  history(now: number): number[] {
    this.forget(now);
    return this.times.slice();
  }

  private forget(now: number): void {
    while (this.times.length > 0 && now - this.times[0]! >= this.policy.withinMs) this.times.shift();
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
