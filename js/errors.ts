// errors.ts — every error the runtime reports. Each names the kernel and the operation
// when there is one, so a failure in a ten-stage pipeline says where it happened.

export interface ErrorContext {
  kernelId?: string;
  operation?: string;
  cause?: unknown;
}

export class RingKernelError extends Error {
  readonly kernelId: string | undefined;
  readonly operation: string | undefined;
  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.kernelId = context.kernelId;
    this.operation = context.operation;
  }
}

/** No kernel with that id is registered (ringKernel) or launched (runtime). */
export class KernelNotFoundError extends RingKernelError {}

/** A lifecycle operation that the kernel's current state does not allow. */
export class KernelStateError extends RingKernelError {
  readonly state: string | undefined;
  constructor(message: string, context: ErrorContext & { state?: string } = {}) {
    super(message, context);
    this.state = context.state;
  }
}

/** A kernel id that is already registered or launched. */
export class KernelAlreadyExistsError extends RingKernelError {}

/** A full queue: REJECT at once, BLOCK when its timeout ran out. Nothing was enqueued. */
export class QueueFullError extends RingKernelError {}

/** A receive that found nothing within its timeout. */
export class QueueTimeoutError extends RingKernelError {}

/**
 * A kernel's receive that was waiting when the kernel was terminated. It is a
 * QueueTimeoutError, so the loop `while (!ctx.shouldTerminate) { try { m = await
 * ctx.receive({ timeout }) } catch (e) { if (e instanceof QueueTimeoutError) continue; throw e } ... }`
 * goes round once more, sees shouldTerminate and ends, and the code after it runs. A receive
 * started after that rejects with KernelStateError, so a loop that never looks at
 * shouldTerminate still ends.
 */
export class KernelTerminatingError extends QueueTimeoutError {}


/** A message whose encoded size exceeds the queue's maxMessageSize. Nothing was enqueued. */
export class MessageTooLargeError extends RingKernelError {
  readonly size: number;
  readonly limit: number;
  constructor(message: string, context: ErrorContext & { size: number; limit: number }) {
    super(message, context);
    this.size = context.size;
    this.limit = context.limit;
  }
}

/** Bytes that are not a valid encoded message (or not of the expected type). */
export class MessageDecodeError extends RingKernelError {
  /** Byte offset in the record where decoding failed, when known. */
  readonly offset: number | undefined;
  constructor(message: string, context: ErrorContext & { offset?: number } = {}) {
    super(message, context);
    this.offset = context.offset;
  }
}

/** The kernel threw, or the thread that ran it died; `cause` holds the original error. */
export class KernelFailedError extends RingKernelError {}

/**
 * The worker thread running a kernel died under it (an uncaught error outside the kernel
 * function, process.exit, out of memory, or terminate ending it for another kernel): the
 * `error` of its `restarted` event when its policy starts it again elsewhere, or the `cause`
 * of its KernelFailedError when not.
 */
export class WorkerThreadDiedError extends RingKernelError {}

/** A placement that cannot run here (no SharedArrayBuffer for workers, no WebGPU adapter). */
export class BackendNotAvailableError extends RingKernelError {}

/** A GPU kernel's WGSL did not compile: the compiler's first error, in the user's lines. */
export class ShaderCompileError extends RingKernelError {
  readonly line: number;
  readonly column: number;
  constructor(message: string, context: { kernelId: string; line: number; column: number }) {
    super(message, { kernelId: context.kernelId, operation: 'launch' });
    this.line = context.line;
    this.column = context.column;
  }
}

/** The GPU device a kernel ran on was lost (destroyed, driver reset, GPU removed). */
export class GpuDeviceLostError extends RingKernelError {}

/**
 * A message of another class than the one it must be: a send to a kernel that takes another
 * input class (or of something that is not a message at all), a kernel's send of another
 * class than its declared output, `connect` from a kernel whose output class is not the
 * target's input class, or a routed send that `connect` could not check (the sender declares
 * no output) of a message the target does not take. Nothing was sent.
 */
export class MessageTypeError extends RingKernelError {
  /** The class the target takes (or the kernel declared it sends); null: any message. */
  readonly expected: string | null;
  /** The class it was offered ('number', 'Object', ... when it is not a message). */
  readonly actual: string;
  constructor(message: string, context: ErrorContext & { expected: string | null; actual: string }) {
    super(message, context);
    this.expected = context.expected;
    this.actual = context.actual;
  }
}

/**
 * A message that does not encode: a field holds a value of another type than its class
 * declares (set after the message was made: the constructor checks what it is given). The
 * message says which field where the class's own checks find it. In a `sendMany`, the
 * messages before it went in (`enqueued` counts them), it and those after it did not.
 */
export class MessageEncodeError extends RingKernelError {}

/**
 * A message class nested deeper than MAX_NESTING (t.message inside t.message ...): refused
 * when it is defined, because encode and decode apply the same limit (the wasm validator
 * refuses deeper records, and encoding them recursed until the stack ran out).
 */
export class MessageNestingError extends RingKernelError {
  /** How deep the refused class nests. */
  readonly depth: number;
  readonly limit: number;
  constructor(message: string, context: ErrorContext & { depth: number; limit: number }) {
    super(message, context);
    this.depth = context.depth;
    this.limit = context.limit;
  }
}

/**
 * Columns that cannot be sent or received: a class with a field that has no column (not
 * fixed-size numeric), a typed array of the wrong element type, lengths that disagree or
 * are not a multiple of the field's elements a message. Nothing was enqueued.
 */
export class ColumnError extends RingKernelError {
  /** The field at fault, when there is one. */
  readonly field: string | undefined;
  constructor(message: string, context: ErrorContext & { field: string | undefined }) {
    super(message, context);
    this.field = context.field;
  }
}

/**
 * A remote transport (ringkernel/nats) that failed, refused the connection or did not answer
 * in time. Its message names the operation and never carries credentials.
 */
export class RemoteError extends RingKernelError {}

/** A kernel definition's `restart` policy that is not valid (ringKernel). */
export class RestartPolicyError extends RingKernelError {}

/** A checkpoint or restore value that cannot be kept: not structured-cloneable. */
export class CheckpointError extends RingKernelError {}
