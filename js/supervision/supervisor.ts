// supervision/supervisor.ts — running a kernel function under its restart policy, the same
// way for inline kernels (on the owner) and worker kernels (in the worker that hosts them).
//
// A throw ends one run of the function. What it was handling (the messages it had
// received and not yet handled) becomes dead letters; then, if the policy's window allows,
// the kernel waits its backoff and the function starts again with a fresh context — the
// same kernel id, control block and queues, so queued messages wait for the new run. The
// kernel's state does not change meanwhile (an active kernel stays active). terminate or
// shutdown during the backoff ends it at once: the kernel stops and no run starts.
import type { Message } from '../message/message.js';
import type { DeadLetter } from './dead-letters.js';
import type { CheckpointSlot } from './checkpoints.js';
import { RestartWindow, type CheckedRestartPolicy } from './policy.js';
import { epochNow, monotonicNow } from '../platform.js';

/** The kernel as the supervisor sees it (js/kernel/instance.ts). */
export interface SupervisedKernel {
  readonly id: string;
  /** True once terminating or failed: no further run. */
  readonly stopping: boolean;
  /** The messages handed to the function and not yet handled, taken out of its hand. */
  dropInHand(): Message[];
  /** Resolves after `ms`, or at once when the kernel starts stopping meanwhile. */
  pause(ms: number): Promise<void>;
}

/**
 * Where the supervision of a kernel reports, on the thread that runs it: the owner's record
 * (js/supervision/record.ts), or a worker's control messages to the owner (js/worker/).
 */
export interface SupervisionSink {
  /** The kernel's last checkpoint on this thread: a restarted run's ctx.restored. */
  readonly checkpoint: CheckpointSlot;
  deadLetter(letter: DeadLetter): void;
  /**
   * The function threw and runs again (the `restarts`-th time) after `delayMs`. A promise:
   * the next run waits for it too (a worker's report has reached the owner).
   */
  restarting(error: unknown, restarts: number, delayMs: number): void | Promise<void>;
  /** A checkpoint was kept in `checkpoint`: resolves once the kernel's owner holds it. */
  checkpointed(): Promise<void>;
}

/**
 * Runs `start` (one run of the kernel function with a fresh context) until a run returns,
 * the kernel stops, or a throw finds no restart left: then it rejects with that error.
 * A throw while the kernel is stopping rejects too (its messages in hand are dead letters
 * all the same); the caller knows it is no failure.
 */
export async function supervise(k: SupervisedKernel, policy: CheckedRestartPolicy | undefined,
  start: () => unknown, sink: SupervisionSink): Promise<void> {
  const window = policy !== undefined && policy.maxRestarts > 0 ? new RestartWindow(policy) : null;
  for (let restarts = 0; ;) {
    try {
      await start();
      return;
    } catch (error) {
      // what it held is a dead letter, also when it threw while being terminated
      const at = epochNow();
      const reason = asError(error);
      for (const message of k.dropInHand()) sink.deadLetter({ kernelId: k.id, message, error: reason, at });
      if (k.stopping) throw error;
      const delay = window === null ? null : window.next(monotonicNow());
      if (delay === null) throw error;
      const reported = sink.restarting(error, ++restarts, delay);
      await k.pause(delay);
      if (reported && !k.stopping) await reported;
      if (k.stopping) return;
    }
  }
}

/** A thrown value as telemetry's lastError shows it. */
export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** A thrown value as an Error (a kernel may throw anything). */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
