// state.ts — the lifecycle states and backpressure strategies users name, and the codes
// the core keeps them as (assembly/scheduler.ts STATE_*, assembly/ring.ts strategies).
import { Strategy } from '../core/core.js';

export const KernelState = {
  CREATED: 'created',
  LAUNCHED: 'launched',
  ACTIVE: 'active',
  DEACTIVATED: 'deactivated',
  TERMINATING: 'terminating',
  TERMINATED: 'terminated',
  FAILED: 'failed',
} as const;
export type KernelState = (typeof KernelState)[keyof typeof KernelState];

/** Index = the core's state code. */
export const STATE_BY_CODE: readonly KernelState[] = [
  KernelState.CREATED, KernelState.LAUNCHED, KernelState.ACTIVE, KernelState.DEACTIVATED,
  KernelState.TERMINATING, KernelState.TERMINATED, KernelState.FAILED,
];
/** The core's state codes (scheduler.ts STATE_*; tests/core.test.ts checks they agree). */
export const enum StateCode { CREATED = 0, LAUNCHED = 1, ACTIVE = 2, DEACTIVATED = 3, TERMINATING = 4, TERMINATED = 5, FAILED = 6 }

export const BackpressureStrategy = {
  /** `send` waits for room (up to its timeout, then QueueFullError); nothing is lost. */
  BLOCK: 'block',
  /** `send` on a full queue throws QueueFullError at once; nothing queued is touched. */
  REJECT: 'reject',
  /** `send` always succeeds; the oldest queued message is discarded and counted. */
  DROP_OLDEST: 'drop_oldest',
} as const;
export type BackpressureStrategy = (typeof BackpressureStrategy)[keyof typeof BackpressureStrategy];

export function strategyCode(s: BackpressureStrategy): Strategy {
  switch (s) {
    case 'block': return Strategy.BLOCK;
    case 'reject': return Strategy.REJECT;
    case 'drop_oldest': return Strategy.DROP_OLDEST;
  }
  throw new TypeError(`unknown backpressure strategy ${JSON.stringify(s)} (use BackpressureStrategy.BLOCK, REJECT or DROP_OLDEST)`);
}
