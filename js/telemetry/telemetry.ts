// telemetry.ts — a kernel's numbers, read from its control block (assembly/scheduler.ts)
// and its input queue (assembly/ring.ts): nothing is counted twice or kept in JS.
import type { KernelInstance } from '../kernel/instance.js';
import { KernelStat, QueueStat } from '../core/core.js';
import { monotonicNow, timeOrigin } from '../platform.js';
import type { CoreExports } from '../core/core.js';

export interface KernelTelemetry {
  kernelId: string;
  state: string;
  /** Messages handled per second between the first and the latest one handled. */
  throughput: number;
  messagesProcessed: number;
  /** Messages discarded from the input queue (DROP_OLDEST). */
  messagesDropped: number;
  /**
   * Accepted messages that were never handled because the kernel ended for good with them
   * still queued (it failed, its thread died, or it was terminated): freed unread.
   */
  messagesDiscarded: number;
  /**
   * Messages the kernel function had received and not finished when it was cut off: its
   * worker thread died (an uncaught error, process.exit, or terminate ended the thread of a
   * kernel that did not stop), or terminate abandoned an inline kernel. Their handling may
   * have begun (what the kernel sent for them went out); it never finished.
   */
  messagesInterrupted: number;
  /** Messages the kernel sent to its output queue that nobody received before it was freed (terminate). */
  outputDiscarded: number;
  /** Sends refused (REJECT when full, or BLOCK after its timeout). */
  messagesRejected: number;
  /** Times the kernel function threw and was started again (its restart policy). */
  restarts: number;
  /** Messages that became dead letters (runtime.deadLetters), dropped ones included. */
  deadLetters: number;
  /** Dead letters pushed out of the bounded list by newer ones (RuntimeOptions.deadLetterLimit). */
  deadLettersDropped: number;
  /** Messages waiting in the input queue now. */
  queueDepth: number;
  /** Largest input queue depth seen. */
  queueHighWater: number;
  /** Capacity of the input queue (queueSize). */
  queueCapacity: number;
  errorCount: number;
  lastError: string | null;
  /** From send to handled (the kernel asked for its next message), in milliseconds. */
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  /** Seconds since launch. */
  uptimeSeconds: number;
}

export function readTelemetry(inst: KernelInstance): KernelTelemetry {
  const x = inst.hub.core.x;
  const k = inst.kcb;
  const processed = x.kcb_stat(k, KernelStat.PROCESSED);
  const span = (x.kcb_stat(k, KernelStat.LAST) - x.kcb_stat(k, KernelStat.FIRST)) / 1000;
  const q = inst.input.ptr;
  return {
    kernelId: inst.id,
    state: inst.state,
    throughput: processed > 1 && span > 0 ? (processed - 1) / span : 0,
    messagesProcessed: processed,
    messagesDropped: x.queue_stat(q, QueueStat.DROPPED),
    messagesDiscarded: x.kcb_stat(k, KernelStat.DISCARDED),
    messagesInterrupted: x.kcb_stat(k, KernelStat.INTERRUPTED),
    outputDiscarded: x.kcb_stat(k, KernelStat.OUT_DISCARDED),
    messagesRejected: x.queue_stat(q, QueueStat.REJECTED),
    restarts: x.kcb_stat(k, KernelStat.RESTARTS),
    deadLetters: x.kcb_stat(k, KernelStat.DEAD_LETTERS),
    deadLettersDropped: x.kcb_stat(k, KernelStat.DEAD_LETTERS_DROPPED),
    queueDepth: x.queue_stat(q, QueueStat.DEPTH),
    queueHighWater: x.queue_stat(q, QueueStat.HIGH_WATER),
    queueCapacity: inst.def.queueSize,
    errorCount: x.kcb_stat(k, KernelStat.ERRORS),
    lastError: inst.lastError,
    latencyP50Ms: x.hist_quantile(k, 0.5) / 1e6,
    latencyP95Ms: x.hist_quantile(k, 0.95) / 1e6,
    latencyP99Ms: x.hist_quantile(k, 0.99) / 1e6,
    uptimeSeconds: (monotonicNow() - inst.launchedAt) / 1000,
  };
}

/**
 * Counts the first `n` of `sentAt`'s messages as handled in a control block, in the order they were handed to the
 * kernel between `since` and `t` (monotonicNow() reads): each gets an even share of that
 * busy time, and the i-th (of n) counts as handled at since + (i + 1) * share, so its
 * latency is from its send time (`sentAt`, ms since the epoch) to then. One clock read per
 * batch gives per-message latencies within the histogram's precision while the kernel
 * spends about the same time on each message of a batch.
 */
export function countHandled(x: CoreExports, kcb: number, sentAt: readonly number[], n: number, since: number, t: number): void {
  const busy = (t - since) / n;
  for (let i = 0; i < n; i++) {
    const handledAt = i === n - 1 ? t : since + (i + 1) * busy;
    x.kcb_record(kcb, (timeOrigin + handledAt - sentAt[i]!) * 1e6, busy, handledAt);
  }
}
