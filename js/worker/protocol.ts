// worker/protocol.ts — the control messages between the pool (js/worker/pool.ts, on the
// owner's thread) and its workers (js/worker/host.ts), and the types both sides share.
// Only control travels this way (postMessage); kernel messages cross the shared rings.
import type { Route } from '../kernel/routing.js';
import { RingKernelError } from '../errors.js';
import type { WorkerReport } from '../supervision/record.js';
import type { RestartHistory } from '../supervision/supervisor.js';

export interface DirectoryEntry {
  id: string; kernelId: string; kcb: number; input: number; output: number;
  /** The class of message its input takes (type id and name), or null for any: routes to it are checked at send. */
  takes: { typeId: number; typeName: string } | null;
}

/** Control messages from the owner (js/worker/pool.ts). */
export type ToWorker =
  | { type: 'init'; module: WebAssembly.Module; memory: WebAssembly.Memory; thread: number; scratch: number; scratchBytes: number; idle: number; telemetry: boolean; spinMicros: number | 'adaptive' }
  | Request
  /** The owner holds what report `seq` said (a restart waits for it). */
  | { type: 'ack'; seq: number };

/** Requests the worker answers with { type: 'done', seq, error } once they took effect. */
export type Request = { seq: number } & (
  /**
   * `restore`: a checkpoint to start from (a structured clone), or undefined. A kernel
   * started again after its thread died (`again`) comes with its restarts so far, and with
   * its route and exposure, set before its function runs.
   */
  | { type: 'launch'; entry: DirectoryEntry; module: string; restore: unknown; again?: Relaunch }
  | { type: 'directory'; kernels: DirectoryEntry[] }
  | ({ type: 'route' } & RouteMessage)
  | { type: 'drop'; id: string }
  // answered once everything the worker was doing when it arrived has run: after a
  // deactivate, no message reaches the kernel's code once this is answered (a barrier)
  | { type: 'fence' }
  // a kernel exposed to other runtimes (js/remote.ts): report the ids it handles ('handled')
  | { type: 'expose'; id: string; exposed: boolean });

/** A route as it travels to the worker that runs its sender. */
export interface RouteMessage { id: string; targets: string[] | null; mode: Route['mode']; keyField: string | undefined }

/** What a kernel restarted on a fresh thread keeps from its last one (js/runtime.ts). */
export interface Relaunch { history: RestartHistory; route: RouteMessage | null; exposed: boolean }

export type FromWorker =
  | { type: 'ready' }
  /** Every kernel of the worker waits (its idle block's `tell` was set; js/worker/pool.ts). */
  | { type: 'idle' }
  | { type: 'done'; seq: number; error: SerializedError | null }
  | { type: 'ended'; id: string; error: SerializedError | null }
  | { type: 'handled'; id: string; messageIds: string[] }
  /** Supervision news of a hosted kernel (dead letters, a checkpoint, a restart); the owner answers { type: 'ack', seq }. */
  | { type: 'report'; seq: number; id: string; report: WorkerReport };

export interface SerializedError { name: string; message: string; stack: string | undefined }

/** A request the worker did not carry out (its error, as it came back), or could not answer (its thread ended). */
export class WorkerRequestError extends RingKernelError {
  readonly remote: SerializedError;
  constructor(remote: SerializedError) {
    super(`${remote.name}: ${remote.message}`);
    this.remote = remote;
  }
}

export function serializeError(e: unknown): SerializedError {
  return e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : { name: 'Error', message: String(e), stack: undefined };
}
