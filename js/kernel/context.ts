// context.ts — what a kernel function sees: its id, its lifecycle flags, receive and send
// over its own rings, and the runtime (so a coordinator can drive other kernels).
import { noteTimeout } from './timeouts.js';
import type { Message } from '../message/message.js';
import type { RingKernelRuntime, TerminateOptions, LaunchOptions } from '../runtime.js';
import type { KernelInstance } from './instance.js';
import type { ColumnBatch, ColumnReceiveOptions, Columns, SendColumnsOptions } from '../message/columns.js';
import type { KernelDefinition } from './kernel.js';
import type { KernelState } from './state.js';
import type { KernelTelemetry } from '../telemetry/telemetry.js';
import { KernelStateError } from '../errors.js';
import { paced } from './pace.js';

export interface ReceiveOptions {
  /** Milliseconds to wait for a message; QueueTimeoutError after that. Default: no limit. */
  timeout?: number;
  /** Gives up when aborted (rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface SendOptions {
  /** BLOCK: milliseconds to wait for room; QueueFullError after that. Default: no limit. */
  timeout?: number;
}

/** receiveColumns takes at most this many messages unless told otherwise. */
export const DEFAULT_COLUMNS_MAX = 65536;
/**
 * The runtime as a kernel function reaches it (ctx.runtime). On the owner's thread it is the
 * RingKernelRuntime itself; on a pool worker it is that thread's view (js/worker/view.ts),
 * where the messaging calls work and the lifecycle calls reject (they belong to the owner).
 */
export interface KernelRuntime {
  send(id: string, message: Message, options?: number | SendOptions): Promise<void>;
  receive<M extends Message = any>(id: string, options?: number | ReceiveOptions): Promise<M>;
  receiveMany<M extends Message = any>(id: string, options?: ReceiveOptions & { max?: number }): Promise<M[]>;
  sendColumns(id: string, columns: Columns, options?: number | SendColumnsOptions): Promise<void>;
  receiveColumns(id: string, options?: ColumnReceiveOptions): Promise<ColumnBatch>;
  getState(id: string): KernelState;
  getTelemetry(id: string): KernelTelemetry | null;
  kernelIds(): string[];
  launch(id: string, definition?: KernelDefinition | string, options?: LaunchOptions): Promise<void>;
  activate(id: string): Promise<void>;
  deactivate(id: string): Promise<void>;
  reactivate(id: string): Promise<void>;
  terminate(id: string, options?: TerminateOptions): Promise<void>;
  shutdown(options?: TerminateOptions): Promise<void>;
}

export class KernelContext<In extends Message = Message, Out extends Message = Message> implements AsyncIterable<In> {
  /** The id the kernel was launched under. */
  readonly kernelId: string;
  /**
   * The runtime that launched the kernel, so a coordinator can drive other kernels. In a
   * worker kernel, that thread's view of it: the KernelRuntime calls are there (messaging,
   * states and telemetry work; lifecycle calls reject with RingKernelError), nothing else.
   * Once the kernel is abandoned (it did not stop within terminate's timeout), a runtime
   * whose every call that acts is refused.
   */
  get runtime(): RingKernelRuntime {
    // the public type names the owner's runtime (DESIGN.md)
    return (this.#inst.abandoned ? (this.#refusing ??= refusingRuntime(this.#inst, this.#runtime)) : this.#runtime) as RingKernelRuntime;
  }
  readonly #runtime: KernelRuntime;
  #refusing: KernelRuntime | undefined;
  /**
   * The kernel's last checkpoint when this run of its function began (a copy of its own):
   * after a restart, what the previous run kept with ctx.checkpoint; at the first run, the
   * `restore` value of launch; undefined before any.
   */
  readonly restored: unknown;
  readonly #inst: KernelInstance;
  /** The run of the kernel function this context belongs to (a restart makes a new one). */
  readonly #run: number;

  /** @internal */
  constructor(inst: KernelInstance, runtime: KernelRuntime) {
    this.#inst = inst;
    this.#run = inst.runs;
    this.kernelId = inst.id;
    this.#runtime = runtime;
    this.restored = inst.restored();
  }

  /** True once the run this context belongs to has ended (the function threw; a restart has a context of its own). */
  get #retired(): boolean { return this.#run !== this.#inst.runs; }

  #retiredError(operation: string): Promise<never> {
    // (paced: a dead run's stray loop that retries must not starve the thread)
    return paced(Promise.reject(new KernelStateError(`${operation} on kernel '${this.kernelId}': this context belongs to a run of the kernel function that threw; the restarted run has its own`,
      { kernelId: this.kernelId, operation, state: this.#inst.state })));
  }

  /** True once the kernel is being terminated (or has failed): leave the loop. */
  get shouldTerminate(): boolean { return this.#retired || this.#inst.stopping; }

  /**
   * Keeps a snapshot of `value` (a structured clone, so the kernel may go on changing it):
   * a restarted run finds it in ctx.restored, and runtime.checkpoint(id) returns it. Throws
   * CheckpointError at once for a value that cannot be cloned. Resolves once the runtime's
   * owner holds it (at once inline; a worker kernel's travels as a control message).
   */
  checkpoint(value: unknown): Promise<void> {
    if (this.#retired) return this.#retiredError('checkpoint');
    return this.#inst.checkpoint(value);
  }

  /** True while the kernel is active (not launched-only, not deactivated). */
  get isActive(): boolean { return this.#inst.active; }

  /** Resolves when the kernel becomes active, or at once when it is terminating. */
  waitActive(): Promise<void> { return this.#inst.waitActive(); }

  /**
   * The next message, in priority order. Waits while the queue is empty and while the
   * kernel is not active (deactivate pauses delivery). `receive(100)` = `{ timeout: 100 }`.
   * Rejects with QueueTimeoutError on timeout and KernelStateError once terminating.
   */
  receive(options?: number | ReceiveOptions): Promise<In> {
    if (this.#retired) return this.#retiredError('receive');
    noteTimeout(typeof options === 'number' ? options : options?.timeout, 'ctx.receive in kernel', this.kernelId);
    return this.#inst.receive(typeof options === 'number' ? { timeout: options } : options) as Promise<In>;
  }

  /**
   * Every message waiting, up to `max` (default 256), in priority order: at least one, so it
   * waits like receive() when there is none. One promise per batch instead of per message.
   */
  receiveMany(options?: ReceiveOptions & { max?: number }): Promise<In[]> {
    if (this.#retired) return this.#retiredError('receive');
    noteTimeout(options?.timeout, 'ctx.receiveMany in kernel', this.kernelId);
    return this.#inst.receiveMany(options?.max ?? 256, options) as Promise<In[]>;
  }

  /**
   * The messages waiting right now, up to `max` (default 256), without waiting: an empty
   * array when there are none or the kernel is not active.
   */
  receiveAvailable(max = 256): In[] {
    if (this.#retired) return [];
    return this.#inst.receiveAvailable(max) as In[];
  }

  /**
   * Every message waiting, up to `max` (default 65,536), as typed arrays, one per field of
   * the kernel's input class (message after message): at least one, so it waits like
   * receive() when there is none. Same order, rules and telemetry as receiveMany.
   */
  receiveColumns(options?: ColumnReceiveOptions): Promise<ColumnBatch> {
    return this.#inst.receiveColumns(options?.max ?? DEFAULT_COLUMNS_MAX, options);
  }

  /**
   * Sends messages of the kernel's output class given as typed arrays, one per field; same
   * rules as sendMany. Errors (ColumnError, naming the field) come before anything is sent.
   */
  sendColumns(columns: Columns, options?: number | SendColumnsOptions): Promise<void> {
    return this.#inst.sendOutColumns(columns, typeof options === 'number' ? { timeout: options } : options);
  }

  /** Sends several messages in order, in as few steps as possible (see send). */
  sendMany(messages: readonly Out[], options?: number | SendOptions): Promise<void> {
    if (this.#retired) return this.#retiredError('send');
    noteTimeout(typeof options === 'number' ? options : options?.timeout, 'ctx.sendMany in kernel', this.kernelId);
    return this.#inst.sendOutMany(messages, typeof options === 'number' ? { timeout: options } : options);
  }

  /**
   * Sends to the kernel's output queue, or to the kernels it is connected to. Under BLOCK
   * waits for room up to `timeout` (QueueFullError after it).
   */
  send(message: Out, options?: number | SendOptions): Promise<void> {
    if (this.#retired) return this.#retiredError('send');
    if (options !== undefined) noteTimeout(typeof options === 'number' ? options : options.timeout, 'ctx.send in kernel', this.kernelId);
    return this.#inst.sendOut(message, typeof options === 'number' ? { timeout: options } : options);
  }

  /** `for await (const m of ctx)`: every message until the kernel is terminated. */
  [Symbol.asyncIterator](): AsyncIterator<In> {
    const inst = this.#inst;
    return {
      next: () => (this.#retired ? Promise.resolve({ done: true, value: undefined }) : inst.receiveOrEnd()) as Promise<IteratorResult<In>>,
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }
}

/**
 * ctx.runtime of an abandoned kernel: reading states and telemetry still works; every call
 * that acts (sends, receives, lifecycle) is refused with the kernel's KernelStateError.
 */
function refusingRuntime(inst: KernelInstance, runtime: KernelRuntime): KernelRuntime {
  // (paced: a kernel that retries in a loop must not starve the thread either)
  const refuse = (operation: string) => () => paced(Promise.reject(inst.stoppedError(operation)));
  return {
    send: refuse('send'), receive: refuse('receive'), receiveMany: refuse('receive'),
    sendColumns: refuse('send'), receiveColumns: refuse('receive'),
    launch: refuse('launch'), activate: refuse('activate'), deactivate: refuse('deactivate'),
    reactivate: refuse('reactivate'), terminate: refuse('terminate'), shutdown: refuse('shutdown'),
    getState: (id) => runtime.getState(id),
    getTelemetry: (id) => runtime.getTelemetry(id),
    kernelIds: () => runtime.kernelIds(),
  };
}
