// worker/pool.ts — the worker threads of one runtime. Each worker gets a thread block (its
// doorbell and kernel list, assembly/scheduler.ts) and a scratch area in the shared memory,
// then kernels to run. Kernels are spread so that n workers >= k kernels gives each kernel
// its own thread; a worker that dies ends only the kernels it hosts (the owner starts those
// with a restart policy again, placed as a new launch is: js/runtime.ts #restartElsewhere).
//
// Idle workers do not keep the process alive (Node), so a script that forgets shutdown()
// still ends; a busy one does, so no accepted message is lost. Each worker has a 64-byte
// region of the shared memory, its idle block:
//   word 0  busy: 1 while any kernel it hosts is not waiting (for input or activation); the
//           worker sets it before it takes a message, clears it when all its kernels wait
//   word 1  tell: set by the owner when it waits for this worker to become idle; the worker
//           clears it as it clears busy, and then posts { type: 'idle' }
// The owner keeps every worker referenced while anything is under way: a worker busy, a
// message queued for a worker kernel, or a host call on one still pending (hold); when none
// is, it lets them all go (keepAlive(false)).
import type { OwnerCore } from '../core/core.js';
import { DEFAULT_SCRATCH_BYTES } from '../core/core.js';
import { startWorker, type WorkerHandle } from './thread.js';
import { WorkerRequestError, type DirectoryEntry, type FromWorker, type Relaunch, type Request, type SerializedError, type ToWorker } from './protocol.js';
import { BackendNotAvailableError } from '../errors.js';
import type { WorkerReport } from '../supervision/record.js';

export interface PoolEvents {
  /** A hosted kernel's function returned (error null) or threw. */
  ended(worker: PoolWorker, id: string, error: SerializedError | null): void;
  /** An exposed kernel handled these messages (js/remote.ts acknowledges them). */
  handled?(worker: PoolWorker, id: string, messageIds: string[]): void;
  /** Supervision news of a hosted kernel (js/supervision/record.ts). */
  report(worker: PoolWorker, id: string, report: WorkerReport): void;
  /** The thread is gone; its kernels cannot run any more. */
  died(worker: PoolWorker, reason: string): void;
}

export class PoolWorker {
  readonly index: number;
  readonly handle: WorkerHandle;
  readonly thread: number;
  readonly scratch: number;
  readonly kernels = new Set<string>();
  /** Address of this worker's idle block (see the top of this file). */
  readonly idle: number;
  alive = true;
  /** Why the thread ended, once it has. */
  endedBecause = '';
  private seq = 0;
  private readonly pending = new Map<number, { resolve(): void; reject(e: WorkerRequestError): void }>();

  constructor(index: number, handle: WorkerHandle, thread: number, scratch: number, idle: number) {
    this.index = index;
    this.handle = handle;
    this.thread = thread;
    this.scratch = scratch;
    this.idle = idle;
  }

  post(m: ToWorker): void { if (this.alive) this.handle.post(m); }

  /**
   * Sends a request; resolves once the worker has carried it out (rejects with its error, a WorkerRequestError).
   * Control messages travel in order, so a later request sees the effect of earlier ones.
   */
  request(m: DistributiveOmit<Request, 'seq'>): Promise<void> {
    if (!this.alive) return Promise.resolve();
    const seq = ++this.seq;
    return this.hold(new Promise<void>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.post({ ...m, seq } as Request);
    }));
  }

  /** Keeps the pool's threads referenced until `p` settles (set by the pool). */
  hold: <T>(p: Promise<T>) => Promise<T> = (p) => p;

  /** Asks the worker to import `module` and start the kernel (`again`: after its last thread died); rejects with its error. */
  launch(entry: DirectoryEntry, module: string, restore: unknown, again?: Relaunch): Promise<void> {
    return this.request({ type: 'launch', entry, module, restore, again });
  }

  settle(seq: number, error: SerializedError | null): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    if (error) p.reject(new WorkerRequestError(error)); else p.resolve();
  }

  failPending(reason: string): void {
    for (const p of this.pending.values()) p.reject(new WorkerRequestError({ name: 'Error', message: reason, stack: undefined }));
    this.pending.clear();
  }
}

export class WorkerPool {
  readonly size: number;
  readonly workers: PoolWorker[] = [];
  private readonly core: OwnerCore;
  private readonly events: PoolEvents;
  private readonly telemetry: boolean;
  private readonly spinMicros: number | 'adaptive';
  private next = 0;
  /** Host calls on worker kernels still pending (hold). */
  private held = 0;
  private referenced = true;
  private checkTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whether a message waits in the input queue of a kernel on this worker (the runtime knows). */
  private readonly queued: (w: PoolWorker) => boolean;

  constructor(core: OwnerCore, size: number, telemetry: boolean, spinMicros: number | 'adaptive', events: PoolEvents,
    queued: (w: PoolWorker) => boolean = () => false) {
    this.core = core;
    this.size = size;
    this.telemetry = telemetry;
    this.spinMicros = spinMicros;
    this.events = events;
    this.queued = queued;
  }

  /** Keeps the threads referenced until `p` settles; returns `p` itself. */
  readonly hold = <T>(p: Promise<T>): Promise<T> => {
    this.held++;
    this.keepAlive();
    const release = () => { this.held--; this.scheduleCheck(); };
    p.then(release, release);
    return p;
  };

  /** Something was handed to a worker (a message queued): keep the threads referenced. */
  keepAlive(): void {
    if (this.referenced) return;
    this.referenced = true;
    for (const w of this.workers) if (w.alive) w.handle.keepAlive(true);
  }

  /** Looks again soon whether the threads may let the process end (coalesced; the threads stay referenced until then). */
  scheduleCheck(): void {
    if (this.checkTimer !== null || !this.referenced) return;
    this.checkTimer = setTimeout(() => { this.checkTimer = null; this.check(); }, 0);
  }

  private check(): void {
    if (this.held > 0) return; // rechecked when the last one settles
    const i32 = new Int32Array(this.core.memory.buffer);
    for (const w of this.workers) {
      if (!w.alive) continue;
      if (this.queued(w)) { this.scheduleCheck(); return; } // its worker will take it and turn busy
      const busy = w.idle >> 2;
      if (Atomics.load(i32, busy) === 0) continue;
      Atomics.store(i32, busy + 1, 1); // tell me when idle
      if (Atomics.load(i32, busy) !== 0) return; // it posts 'idle', which checks again
      Atomics.store(i32, busy + 1, 0);
    }
    this.referenced = false;
    for (const w of this.workers) if (w.alive) w.handle.keepAlive(false);
  }

  /** Threads being started, counted against `size`, with the kernels already placed on them. */
  private readonly starting: Array<{ worker: Promise<PoolWorker>; kernels: Set<string> }> = [];

  /**
   * The worker for kernel `id`, which is placed on it at once (in its `kernels`): an idle
   * thread, else a new thread while there are fewer than `size` (started or starting), else
   * the least busy. Placing synchronously is what lets launches that run at the same time
   * (Promise.all) see each other: each counts the threads and kernels the others took.
   */
  pick(id: string): Promise<PoolWorker> {
    const live = this.workers.filter((w) => w.alive);
    const idle = live.find((w) => w.kernels.size === 0);
    if (idle) { idle.kernels.add(id); return Promise.resolve(idle); }
    if (live.length + this.starting.length < this.size) {
      const slot = { kernels: new Set([id]), worker: null as unknown as Promise<PoolWorker> };
      this.starting.push(slot);
      slot.worker = this.spawn().then((w) => {
        for (const k of slot.kernels) w.kernels.add(k);
        return w;
      }).finally(() => { this.starting.splice(this.starting.indexOf(slot), 1); });
      return slot.worker;
    }
    let best: { load: number; add(): Promise<PoolWorker> } | null = null;
    for (const w of live) if (!best || w.kernels.size < best.load) best = { load: w.kernels.size, add: () => { w.kernels.add(id); return Promise.resolve(w); } };
    for (const s of this.starting) if (!best || s.kernels.size < best.load) best = { load: s.kernels.size, add: () => { s.kernels.add(id); return s.worker; } };
    return best!.add();
  }

  private async spawn(): Promise<PoolWorker> {
    const core = this.core;
    const thread = core.alloc(core.constant('THREAD_BYTES'));
    core.x.thread_init(thread);
    const scratch = core.alloc(DEFAULT_SCRATCH_BYTES);
    const idle = core.alloc(64);
    const index = this.next++;
    this.keepAlive();
    const handle = await startWorker(workerUrl(), `ringkernel-worker-${index}`);
    const w = new PoolWorker(index, handle, thread, scratch, idle);
    w.hold = this.hold;
    this.workers.push(w);
    const ready = new Promise<void>((resolve, reject) => {
      handle.onMessage((m: FromWorker) => {
        switch (m.type) {
          case 'ready': resolve(); return;
          case 'done': w.settle(m.seq, m.error); return;
          case 'ended': w.kernels.delete(m.id); this.events.ended(w, m.id, m.error); this.scheduleCheck(); return;
          case 'idle': this.scheduleCheck(); return;
          case 'handled': this.events.handled?.(w, m.id, m.messageIds); return;
          case 'report': this.events.report(w, m.id, m.report); w.post({ type: 'ack', seq: m.seq }); return;
        }
      });
      handle.onExit((reason) => {
        reject(new BackendNotAvailableError(`worker ${index} could not start: ${reason}`));
        if (!w.alive) return;
        w.alive = false;
        w.endedBecause = reason;
        w.failPending(`worker thread ${index} ended: ${reason}`);
        this.events.died(w, reason);
      });
    });
    handle.post({ type: 'init', module: core.module, memory: core.memory, thread, scratch, scratchBytes: DEFAULT_SCRATCH_BYTES, idle, telemetry: this.telemetry, spinMicros: this.spinMicros } satisfies ToWorker);
    await this.hold(ready);
    return w;
  }

  /** Sends a request to every live worker; resolves when all have carried it out. */
  broadcast(m: DistributiveOmit<Request, 'seq'>): Promise<void> {
    return Promise.all(this.workers.filter((w) => w.alive).map((w) => w.request(m))).then(() => undefined);
  }

  /** Ends a worker thread (a kernel on it would not stop); its kernels are reported as died. */
  async kill(w: PoolWorker, reason: string): Promise<void> {
    if (!w.alive) return;
    w.alive = false;
    w.endedBecause = reason;
    w.failPending(reason);
    await w.handle.terminate();
    this.events.died(w, reason);
  }

  /** Ends every worker thread. */
  async close(): Promise<void> {
    if (this.checkTimer !== null) { clearTimeout(this.checkTimer); this.checkTimer = null; }
    await Promise.all(this.workers.map(async (w) => {
      if (!w.alive) return;
      w.alive = false;
      w.failPending('the runtime shut down');
      await w.handle.terminate();
    }));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * The worker entry next to this module: the CommonJS bundle's (the copy Node runs), the ES
 * module bundle's, or under tsx the TypeScript source's.
 */
function workerUrl(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './dev-entry.mjs' : here.endsWith('.cjs') ? './worker.cjs' : './worker.js', here);
}
