// supervision/checkpoints.ts — a kernel's last checkpoint: a structured clone of what it
// passed to ctx.checkpoint (or of launch's `restore`), so the kernel may go on changing its
// own state and a restarted function still finds the snapshot as it was taken.
//
// Structured clone (the algorithm postMessage uses) is in every runtime ringkernel supports;
// it is also how a worker kernel's checkpoint reaches the owner, so inline and worker
// kernels keep exactly the same kinds of values: plain data, arrays, typed arrays, Map, Set,
// Date, ... — not functions, and class instances come back as plain objects.
import { CheckpointError } from '../errors.js';
import { epochNow } from '../platform.js';

/** A structured clone of `value`, or CheckpointError naming the kernel and the operation. */
export function snapshot(value: unknown, kernelId: string, operation: string): unknown {
  try {
    return structuredClone(value);
  } catch (e) {
    throw new CheckpointError(`${operation} on kernel '${kernelId}': the value cannot be kept (${e instanceof Error ? e.message : String(e)}); a checkpoint must be structured-cloneable (plain data, arrays, typed arrays, Map, Set, Date; no functions)`,
      { kernelId, operation, cause: e });
  }
}

export class CheckpointSlot {
  #value: unknown = undefined;
  /** When the last checkpoint was kept (ms since the Unix epoch), 0 before any. */
  at = 0;

  /** Keeps a value that is already a snapshot (made here or cloned by postMessage). */
  keepSnapshot(value: unknown, at: number = epochNow()): void {
    this.#value = value;
    this.at = at;
  }

  /** The snapshot itself (for postMessage, which copies it); never hand it to user code. */
  get kept(): unknown { return this.#value; }

  /** The last checkpoint as a fresh copy (undefined before any), so no reader can change it. */
  read(): unknown {
    return this.#value === undefined ? undefined : structuredClone(this.#value);
  }
}
