// worker/reports.ts — the supervision of kernels hosted on this worker. What happens is
// counted at once in the kernel's control block (restarts, errors, dead letters: any thread
// reads them), and reported to the owner by control message, which the owner acknowledges:
// dead letters as record bytes (never live objects), checkpoints as structured clones,
// restarts with their error. A restarted run waits for its report's acknowledgement, so
// the owner holds the dead letter and has sent its events before the next run answers.
import type { CoreExports } from '../core/core.js';
import { CheckpointSlot } from '../supervision/checkpoints.js';
import { toWire, type DeadLetter } from '../supervision/dead-letters.js';
import type { SupervisionSink } from '../supervision/supervisor.js';
import type { WorkerReport } from '../supervision/record.js';
import type { ParentPort } from './thread.js';
import { serializeError, type FromWorker } from './protocol.js';

/** This worker's reports to the owner and their acknowledgements. */
export class Reports {
  readonly #port: ParentPort;
  #seq = 0;
  readonly #waiting = new Map<number, () => void>();

  constructor(port: ParentPort) { this.#port = port; }

  /** Sends a report; resolves when the owner has taken it in. */
  send(id: string, report: WorkerReport): Promise<void> {
    const seq = ++this.#seq;
    return new Promise<void>((resolve) => {
      this.#waiting.set(seq, resolve);
      this.#port.post({ type: 'report', seq, id, report } satisfies FromWorker);
    });
  }

  acked(seq: number): void {
    const f = this.#waiting.get(seq);
    if (f) { this.#waiting.delete(seq); f(); }
  }
}

/** The supervision sink of one kernel hosted here. */
export class WorkerSupervision implements SupervisionSink {
  readonly checkpoint = new CheckpointSlot();
  readonly #id: string;
  readonly #x: CoreExports;
  readonly #kcb: number;
  readonly #reports: Reports;
  /** False once the kernel is let go here (its control block may be reused). */
  readonly #live: () => boolean;

  constructor(id: string, x: CoreExports, kcb: number, reports: Reports, live: () => boolean) {
    this.#id = id;
    this.#x = x;
    this.#kcb = kcb;
    this.#reports = reports;
    this.#live = live;
  }

  deadLetter(letter: DeadLetter): void {
    if (this.#live()) this.#x.kcb_record_dead_letter(this.#kcb, 1);
    void this.#reports.send(this.#id, { letters: [toWire(letter)] });
  }

  restarting(error: unknown, restarts: number, delayMs: number, at: number): Promise<void> {
    if (this.#live()) {
      this.#x.kcb_record_restart(this.#kcb);
      this.#x.kcb_record_error(this.#kcb);
    }
    return this.#reports.send(this.#id, { letters: [], restarted: { error: serializeError(error), restarts, delayMs, at } });
  }

  checkpointed(): Promise<void> {
    return this.#reports.send(this.#id, { letters: [], checkpoint: { value: this.checkpoint.kept, at: this.checkpoint.at } });
  }
}
