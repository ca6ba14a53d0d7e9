// supervision/record.ts — what the owner of a kernel keeps of its supervision: its dead
// letters (bounded), its last checkpoint, and the events it sends. One per launched kernel,
// on the owner's thread, whether the kernel runs there or on a worker (whose news arrives
// as control messages: WorkerReport).
//
// Counting: the thread that runs the kernel counts restarts, errors and dead letters in its
// control block as they happen (any thread reads them at once: telemetry); this record
// counts only the letters its bound pushes out (deadLettersDropped).
import type { CoreExports } from '../core/core.js';
import { DeadLetterList, fromWire, reviveError, type DeadLetter, type WireDeadLetter } from './dead-letters.js';
import { CheckpointSlot } from './checkpoints.js';
import { emit } from './events.js';
import type { SerializedError } from '../worker/protocol.js';
import type { SupervisionSink } from './supervisor.js';

/** A worker kernel's supervision news, in one control message (js/worker/host.ts). */
export interface WorkerReport {
  letters: WireDeadLetter[];
  /** A checkpoint it kept (already a structured clone: postMessage made it). */
  checkpoint?: { value: unknown; at: number };
  /** It threw and restarts (the `restarts`-th time) after `delayMs`. */
  restarted?: { error: SerializedError; restarts: number; delayMs: number };
}

const RESOLVED = Promise.resolve();

export class SupervisionRecord implements SupervisionSink {
  readonly kernelId: string;
  readonly letters: DeadLetterList;
  readonly checkpoint = new CheckpointSlot();
  /** Restarts so far (the events' detail). */
  restarts = 0;
  readonly #events: EventTarget;
  readonly #x: CoreExports;
  readonly #kcb: number;
  /** False once the kernel's control block is freed: nothing is counted there after. */
  readonly #live: () => boolean;
  /** Tells the kernel's telemetry of a throw that restarts it (lastError). */
  readonly #noteError: (error: unknown) => void;

  constructor(kernelId: string, deadLetterLimit: number, events: EventTarget, x: CoreExports, kcb: number, live: () => boolean,
    noteError: (error: unknown) => void) {
    this.kernelId = kernelId;
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

  /** The function threw and is started again; `counted` as for deadLetter. */
  restarting(error: unknown, restarts: number, delayMs: number, counted = false): void {
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

  /** The kernel failed for good. */
  failed(error: unknown): void {
    emit(this.#events, 'failed', { kernelId: this.kernelId, error, restarts: this.restarts });
  }

  /** News from the worker that runs the kernel (counted there). */
  fromWorker(r: WorkerReport): void {
    for (const w of r.letters) this.deadLetter(fromWire(this.kernelId, w), true);
    if (r.checkpoint) this.checkpoint.keepSnapshot(r.checkpoint.value, r.checkpoint.at);
    if (r.restarted) this.restarting(reviveError(r.restarted.error), r.restarted.restarts, r.restarted.delayMs, true);
  }
}
