// worker/view.ts — what a worker kernel's ctx.runtime is: messaging with any kernel of the
// runtime, through this thread's rings; lifecycle calls belong to the owner's thread.
import { noteTimeout } from '../kernel/timeouts.js';
import type { Hub } from '../core/hub.js';
import type { KernelInstance } from '../kernel/instance.js';
import { DEFAULT_COLUMNS_MAX, type KernelRuntime, type ReceiveOptions, type SendOptions } from '../kernel/context.js';
import type { ColumnBatch, ColumnReceiveOptions, Columns, SendColumnsOptions } from '../message/columns.js';
import type { Message } from '../message/message.js';
import { readTelemetry, type KernelTelemetry } from '../telemetry/telemetry.js';
import { RingKernelError } from '../errors.js';
import { paced } from '../kernel/pace.js';
import type { KernelState } from '../kernel/state.js';

/** What the view needs of its worker host (js/worker/host.ts). */
export interface ViewHost {
  readonly hub: Hub;
  readonly telemetry: boolean;
  readonly hosted: ReadonlyMap<string, KernelInstance>;
  readonly directory: ReadonlyMap<string, KernelInstance>;
  lookup(id: string, operation: string): KernelInstance;
}

/** ctx.runtime inside a worker: messaging with any kernel; lifecycle stays with the owner. */
export class WorkerRuntimeView implements KernelRuntime {
  readonly #host: ViewHost;
  constructor(host: ViewHost) { this.#host = host; }

  send(id: string, message: Message, options?: number | SendOptions): Promise<void> { return paced(this.#send(id, message, options)); }

  #send(id: string, message: Message, options?: number | SendOptions): Promise<void> {
    try {
      const k = this.#host.lookup(id, 'send');
      k.checkSendable([message]);
      const timeout = typeof options === 'number' ? options : options?.timeout;
      if (timeout !== undefined) noteTimeout(timeout, 'ctx.runtime.send to kernel', id);
      return this.#host.hub.push(k.input, message, { kernelId: id, operation: 'send' }, id, timeout, k.receiveCancelled);
    } catch (e) { return Promise.reject(e); }
  }

  receive<M extends Message = any>(id: string, options?: number | ReceiveOptions): Promise<M> {
    try {
      const k = this.#host.lookup(id, 'receive');
      noteTimeout(typeof options === 'number' ? options : options?.timeout, 'ctx.runtime.receive from kernel', id);
      return k.hostReceive(typeof options === 'number' ? { timeout: options } : options) as Promise<M>;
    } catch (e) { return Promise.reject(e); }
  }

  receiveMany<M extends Message = any>(id: string, options?: ReceiveOptions & { max?: number }): Promise<M[]> {
    try {
      return this.#host.lookup(id, 'receive').hostReceiveMany(options?.max ?? 256, options) as Promise<M[]>;
    } catch (e) { return Promise.reject(e); }
  }

  sendColumns(id: string, columns: Columns, options?: number | SendColumnsOptions): Promise<void> {
    try {
      return this.#host.lookup(id, 'sendColumns').sendInColumns(columns, typeof options === 'number' ? { timeout: options } : options);
    } catch (e) { return Promise.reject(e); }
  }

  receiveColumns(id: string, options?: ColumnReceiveOptions): Promise<ColumnBatch> {
    try {
      return this.#host.lookup(id, 'receiveColumns').hostReceiveColumns(options?.max ?? DEFAULT_COLUMNS_MAX, options);
    } catch (e) { return Promise.reject(e); }
  }

  getState(id: string): KernelState { return this.#host.lookup(id, 'getState').state; }
  getTelemetry(id: string): KernelTelemetry | null {
    return this.#host.telemetry ? readTelemetry(this.#host.lookup(id, 'getTelemetry')) : null;
  }
  kernelIds(): string[] { return [...new Set([...this.#host.hosted.keys(), ...this.#host.directory.keys()])]; }

  #ownerOnly(operation: string): Promise<never> {
    return Promise.reject(new RingKernelError(`${operation}: inside a worker kernel, ctx.runtime sends and receives; launch and lifecycle calls belong to the thread that owns the runtime`, { operation }));
  }
  launch(): Promise<void> { return this.#ownerOnly('launch'); }
  activate(): Promise<void> { return this.#ownerOnly('activate'); }
  deactivate(): Promise<void> { return this.#ownerOnly('deactivate'); }
  reactivate(): Promise<void> { return this.#ownerOnly('reactivate'); }
  terminate(): Promise<void> { return this.#ownerOnly('terminate'); }
  shutdown(): Promise<void> { return this.#ownerOnly('shutdown'); }
}
