// supervision/record.ts — what the owner of a kernel keeps of its supervision: its dead
// letters (bounded), its last checkpoint, and the events it sends. One per launched kernel,
// on the owner's thread, whether the kernel runs there or on a worker (whose news arrives
// as control messages: WorkerReport).
//
// Counting: the thread that runs the kernel counts restarts, errors and dead letters in its
// control block as they happen (any thread reads them at once: telemetry); this record
// counts only the letters its bound pushes out (deadLettersDropped).
import { KernelStat, type CoreExports } from '../core/core.js';
import { DeadLetterList, fromWire, reviveError, type DeadLetter, type WireDeadLetter } from './dead-letters.js';
import { CheckpointSlot } from './checkpoints.js';
import { emit } from './events.js';
import type { SerializedError } from '../worker/protocol.js';
import type { RestartHistory, SupervisionSink } from './supervisor.js';
import { RestartWindow, type CheckedRestartPolicy } from './policy.js';
import { epochNow } from '../platform.js';

/** A worker kernel's supervision news, in one control message (js/worker/host.ts). */
export interface WorkerReport {
  letters: WireDeadLetter[];
  /** A checkpoint it kept (already a structured clone: postMessage made it). */
  checkpoint?: { value: unknown; at: number };
  /** It threw at `at` (epochNow there) and restarts (the `restarts`-th time) after `delayMs`. */
  restarted?: { error: SerializedError; restarts: number; delayMs: number; at: number };
}

const RESOLVED = Promise.resolve();

export class SupervisionRecord implements SupervisionSink {
  readonly kernelId: string;
  readonly letters: DeadLetterList;
  readonly checkpoint = new CheckpointSlot();
  /** Restarts so far (the events' detail). */
  restarts = 0;
  /**
   * A worker kernel's restart window, as its thread keeps it (each restart it reports joins
   * it here), for deciding on the owner whether the kernel restarts when that thread dies;
   * null without a policy or on an inline kernel.
   */
  readonly #window: RestartWindow | null;
  readonly #events: EventTarget;
  readonly #x: CoreExports;
  readonly #kcb: number;
  /** False once the kernel's control block is freed: nothing is counted there after. */
  readonly #live: () => boolean;
  /** Tells the kernel's telemetry of a throw that restarts it (lastError). */
  readonly #noteError: (error: unknown) => void;

  constructor(kernelId: string, deadLetterLimit: number, events: EventTarget, x: CoreExports, kcb: number, live: () => boolean,
    noteError: (error: unknown) => void, workerPolicy?: CheckedRestartPolicy) {
    this.kernelId = kernelId;
    this.#window = workerPolicy !== undefined && workerPolicy.maxRestarts > 0 ? new RestartWindow(workerPolicy) : null;
    this.letters = new DeadLetterList(deadLetterLimit);
    this.#events = events;
    this.#x = x;
    this.#kcb = kcb;
    this.#live = live;
    this.#noteError = noteError;
  }

  /** A dead letter; `counted`: the thread that ran the kernel counted it already. */
  deadLetter(letter: DeadLetter, counted = false): void {
    const live = this.#live();
    if (!counted && live) this.#x.kcb_record_dead_letter(this.#kcb, 1);
    if (this.letters.add(letter) && live) this.#x.kcb_record_dead_letter_dropped(this.#kcb, 1);
    emit(this.#events, 'deadletter', { kernelId: this.kernelId, letter });
  }

  /** The function threw (or its thread died) at `at` and is started again; `counted` as for deadLetter. */
  restarting(error: unknown, restarts: number, delayMs: number, at: number, counted = false): void {
    this.#window?.note(at);
    this.#restarted(error, restarts, delayMs, counted);
  }

  #restarted(error: unknown, restarts: number, delayMs: number, counted: boolean): void {
    this.restarts = restarts;
    this.#noteError(error);
    if (!counted && this.#live()) {
      this.#x.kcb_record_restart(this.#kcb);
      this.#x.kcb_record_error(this.#kcb);
    }
    emit(this.#events, 'restarted', { kernelId: this.kernelId, error, restarts, delayMs });
  }

  /** A checkpoint of a kernel on this thread: kept in `checkpoint` already, so held. */
  checkpointed(): Promise<void> { return RESOLVED; }

  /**
   * The worker thread running the kernel died (it held no error of the function's: no
   * throw). Under the kernel's policy, in the one window its throws count in too: the delay
   * before it starts again on another thread — this restart counted, its event sent — and
   * the history that thread's window starts from; or null when no restart is left (or it
   * has no policy): it fails.
   */
  restartAfterDeath(error: unknown): { delayMs: number; history: RestartHistory } | null {
    const window = this.#window;
    if (window === null) return null;
    const now = epochNow();
    // a restart the thread counted whose report died with it (posted, never delivered)
    if (this.#live()) {
      for (let n = this.#x.kcb_stat(this.#kcb, KernelStat.RESTARTS); this.restarts < n; this.restarts++) window.note(now);
    }
    const delayMs = window.next(now);
    if (delayMs === null) return null;
    this.#restarted(error, this.restarts + 1, delayMs, false);
    return { delayMs, history: { restarts: this.restarts, times: window.history(now) } };
  }

  /** The kernel failed for good. */
  failed(error: unknown): void {
    emit(this.#events, 'failed', { kernelId: this.kernelId, error, restarts: this.restarts });
  }

  /** News from the worker that runs the kernel (counted there). */
  fromWorker(r: WorkerReport): void {
    for (const w of r.letters) this.deadLetter(fromWire(this.kernelId, w), true);
    if (r.checkpoint) this.checkpoint.keepSnapshot(r.checkpoint.value, r.checkpoint.at);
    // (one the owner counted already, on finding the thread dead without it, is not counted again)
    if (r.restarted && r.restarted.restarts > this.restarts) this.restarting(reviveError(r.restarted.error), r.restarted.restarts, r.restarted.delayMs, r.restarted.at, true);
  }
}
