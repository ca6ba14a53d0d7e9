// worker/host.ts — what runs in each worker thread of the pool: it attaches to the owner's
// core (same module, same shared memory), imports kernel modules, and runs the kernels it
// is given with the same context API as inline kernels. Kernel messages cross the shared
// rings; only control messages (launch, routes, the kernel directory) use postMessage.
//
// Scheduling: every kernel hosted here is added to this thread's block in the core's
// scheduler, so its input ring (and any state change the owner makes) rings the thread's
// doorbell. While a kernel waits, the thread sleeps on that one doorbell with
// Atomics.waitAsync (its event loop stays free for timers and control messages; producers
// pay nothing while it is busy). When it rings, the scheduler's round-robin (sched_next)
// hands one message to each ready kernel in turn, then every kernel hears of state changes.
import { attachCore, type Core } from '../core/core.js';
import { Ring } from '../core/ring.js';
import { Hub } from '../core/hub.js';
import { KernelInstance } from '../kernel/instance.js';
import { KernelContext } from '../kernel/context.js';
import { registeredKernel } from '../kernel/kernel.js';
import { StateCode } from '../kernel/state.js';
import { keyOfField } from '../kernel/routing.js';
import { KernelNotFoundError, RingKernelError } from '../errors.js';
import { isNode, waitAsync } from '../platform.js';
import { parentPort, type ParentPort } from './thread.js';
import { serializeError, type DirectoryEntry, type FromWorker, type RouteMessage, type SerializedError, type ToWorker } from './protocol.js';
import { WorkerRuntimeView, type ViewHost } from './view.js';
import { Reports, WorkerSupervision } from './reports.js';

class WorkerHost implements ViewHost {
  readonly core: Core;
  readonly hub: Hub;
  readonly thread: number;
  readonly telemetry: boolean;
  readonly hosted = new Map<string, KernelInstance>();
  /** Every kernel of the runtime, as seen from here (for routes and ctx.runtime). */
  readonly directory = new Map<string, KernelInstance>();
  readonly port: ParentPort;
  readonly view: WorkerRuntimeView;
  readonly reports: Reports;
  private readonly byKcb = new Map<number, KernelInstance>();
  private sleeping = false;
  /** This worker's idle block (js/pool.ts): [busy, tell] as i32 words. */
  private readonly i32: Int32Array;
  private readonly busyWord: number;

  constructor(init: Extract<ToWorker, { type: 'init' }>, port: ParentPort) {
    this.core = attachCore(init.module, init.memory, init.scratch, init.scratchBytes);
    this.hub = new Hub(this.core, init.spinMicros);
    this.hub.remote = true;
    this.thread = init.thread;
    this.telemetry = init.telemetry;
    this.port = port;
    this.view = new WorkerRuntimeView(this);
    this.reports = new Reports(port);
    this.i32 = new Int32Array(init.memory.buffer);
    this.busyWord = init.idle >> 2;
  }

  /** Marks this worker busy: before it takes a message, or starts a kernel. */
  private busy(): void {
    if (this.i32[this.busyWord] === 0) Atomics.store(this.i32, this.busyWord, 1);
  }

  /** Clears busy once every hosted kernel waits (or has ended); tells the owner when it asked. */
  private noteIdle(): void {
    if (this.i32[this.busyWord] === 0) return;
    for (const inst of this.hosted.values()) if (!inst.stopping && !inst.waiting) return;
    Atomics.store(this.i32, this.busyWord, 0);
    if (Atomics.exchange(this.i32, this.busyWord + 1, 0) === 1) this.port.post({ type: 'idle' } satisfies FromWorker);
  }

  /** The instance for a kernel id: hosted here, or a view of one elsewhere. */
  lookup(id: string, operation: string): KernelInstance {
    const k = this.hosted.get(id) ?? this.directory.get(id);
    if (!k) throw new KernelNotFoundError(`${operation}: no kernel '${id}' is launched in this runtime`, { kernelId: id, operation });
    return k;
  }

  private remoteView(e: DirectoryEntry): KernelInstance {
    const def = (() => { try { return registeredKernel(e.kernelId, 'directory'); } catch { return undefined; } })();
    const stub = def ?? ({ kernelId: e.kernelId, input: undefined } as unknown as ReturnType<typeof registeredKernel>);
    const view = new KernelInstance(e.id, stub, e.kcb, new Ring(this.core, e.input), new Ring(this.core, e.output), this.hub, this.telemetry, 'remote');
    view.takes = e.takes; // known even where its module was never imported
    return view;
  }

  setDirectory(kernels: DirectoryEntry[]): void {
    const ids = new Set(kernels.map((k) => k.id));
    for (const [id, view] of this.directory) {
      if (!ids.has(id) || view.kcb !== kernels.find((k) => k.id === id)!.kcb) this.retireView(id, view);
    }
    for (const e of kernels) if (!this.hosted.has(e.id) && !this.directory.has(e.id)) this.directory.set(e.id, this.remoteView(e));
  }

  /**
   * Launches still importing their module, by kernel id: a route or expose request for that
   * kernel waits for its launch (launch answers after the import, other requests at once).
   */
  readonly launching = new Map<string, Promise<void>>();

  launch(msg: Extract<ToWorker, { type: 'launch' }>): Promise<void> {
    const p = this.#launch(msg).finally(() => { if (this.launching.get(msg.entry.id) === p) this.launching.delete(msg.entry.id); });
    this.launching.set(msg.entry.id, p);
    return p;
  }

  async #launch(msg: Extract<ToWorker, { type: 'launch' }>): Promise<void> {
    const e = msg.entry;
    try {
      await importKernelModule(msg.module);
      const def = registeredKernel(e.kernelId, 'launch');
      const inst = new KernelInstance(e.id, def, e.kcb, new Ring(this.core, e.input), new Ring(this.core, e.output), this.hub, this.telemetry, 'local');
      inst.wakeOnInput = () => this.sleep();
      this.busy();
      this.core.x.sched_add(this.thread, e.kcb);
      this.hosted.set(e.id, inst);
      this.byKcb.set(e.kcb, inst);
      this.directory.delete(e.id);
      const sink = new WorkerSupervision(e.id, this.core.x, e.kcb, this.reports, () => !inst.released);
      if (msg.restore !== undefined) sink.checkpoint.keepSnapshot(msg.restore);
      inst.sink = sink;
      const again = msg.again;
      if (again?.route) this.route(again.route);   // before its function sends anything
      if (again?.exposed) this.expose(e.id, true);
      inst.run(() => def.fn(new KernelContext(inst, this.view)), def.restart, (threw, error) => this.ended(inst, threw, error), again?.history);
      this.port.post({ type: 'done', seq: msg.seq, error: null } satisfies FromWorker);
    } catch (err) {
      this.port.post({ type: 'done', seq: msg.seq, error: serializeError(err) } satisfies FromWorker);
    }
  }

  /** The kernel function returned or threw (its instance took that in): it leaves the scheduler, the owner hears of it. */
  private ended(inst: KernelInstance, threw: boolean, err: unknown): void {
    if (!inst.released) this.core.x.sched_remove(this.thread, inst.kcb);
    this.port.post({ type: 'ended', id: inst.id, error: threw && inst.code === StateCode.FAILED ? serializeError(err) : null } satisfies FromWorker);
    this.noteIdle();
  }

  /** Sleeps on the thread's doorbell until a hosted kernel has work (one wait for them all). */
  sleep(): void {
    this.noteIdle();
    if (this.sleeping) return;
    const x = this.core.x;
    const seq = x.sched_enter_sleep(this.thread);
    this.sleeping = true;
    const wake = () => {
      x.sched_leave_sleep(this.thread);
      this.sleeping = false;
      this.busy();
      this.run();
    };
    // anything that came before we counted as a sleeper?
    if (this.anyReady()) { queueMicrotask(wake); return; }
    const wait = () => {
      const w = waitAsync(this.core.memory, this.thread, seq, Infinity);
      if (!w.async) queueMicrotask(wake);
      else w.value.then(wake);
    };
    // spinMicros: poll first, once this thread's own pending work has run
    this.hub.spinThenSleep(this.anyReady, wake, wait);
  }

  private readonly anyReady = (): boolean => {
    for (const inst of this.hosted.values()) if (inst.inputReady()) return true;
    return false;
  };

  /**
   * One round of the scheduler: each ready kernel (active, input waiting) in round-robin
   * order from the core gets one message if it is waiting for one; then every hosted kernel
   * sees state changes. Kernels still waiting put the thread back to sleep.
   */
  private run(): void {
    const x = this.core.x;
    for (let i = this.hosted.size; i > 0; i--) {
      const k = x.sched_next(this.thread);
      if (k === 0) break;
      const inst = this.byKcb.get(k);
      if (inst && inst.receiving) inst.deliverOne();
    }
    for (const inst of this.hosted.values()) inst.stateChanged();
  }

  route(msg: RouteMessage): void {
    const inst = this.hosted.get(msg.id);
    if (!inst) return;
    if (msg.targets === null) { inst.route = null; return; }
    const keyField = msg.keyField;
    inst.route = {
      targets: msg.targets.map((t) => this.lookup(t, 'connect')),
      mode: msg.mode,
      connectMode: msg.mode === 'one' ? 'round-robin' : msg.mode,   // topology() reads the owner's route, not this one
      key: keyField === undefined ? undefined : keyOfField(keyField),
      next: 0,
      checked: inst.def.output !== undefined, // as connect decided on the owner
    };
  }

  /**
   * A hosted kernel exposed to other runtimes (js/remote.ts): the ids of the messages it has
   * handled go to the owner, which acknowledges them to their remote mailbox; one post a
   * turn, whatever the number of messages.
   */
  expose(id: string, exposed: boolean): void {
    const inst = this.hosted.get(id);
    if (!inst) return;
    if (!exposed) { inst.onHandled = null; return; }
    let batch: string[] | null = null;
    inst.onHandled = (ids) => {
      if (batch !== null) { for (const m of ids) batch.push(m); return; }
      batch = ids;
      queueMicrotask(() => {
        const messageIds = batch!;
        batch = null;
        this.port.post({ type: 'handled', id, messageIds } satisfies FromWorker);
      });
    };
  }

  drop(id: string): void {
    const inst = this.hosted.get(id);
    if (inst) {
      if (!inst.released) this.core.x.sched_remove(this.thread, inst.kcb);
      inst.release();
      this.hosted.delete(id);
      this.byKcb.delete(inst.kcb);
    }
    const view = this.directory.get(id);
    if (view) this.retireView(id, view);
  }

  /** A kernel hosted elsewhere is gone: receives waiting on it here end, its rings are let go. */
  private retireView(id: string, view: KernelInstance): void {
    this.directory.delete(id);
    view.release();
  }
}

/**
 * Imports a kernel module. A TypeScript one (.ts, .mts, .tsx) in Node goes through tsx: Node
 * (before type stripping) cannot load TypeScript, and a worker thread does not inherit the
 * loader hooks that `node --import tsx` or `npx tsx` registered in the main thread. So tsx is
 * registered here first, when it is installed; after a failed import Node would keep the
 * failure in its module cache, so registering after the fact cannot work.
 */
async function importKernelModule(url: string): Promise<void> {
  if (isNode && /\.(m?ts|tsx)$/.test(new URL(url).pathname)) await registerTsx();
  try {
    await import(/* @vite-ignore */ url);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    throw new RingKernelError(`cannot import the kernel module ${url} in a worker: Node cannot load TypeScript by itself (install tsx, or compile the module to JavaScript)`, { operation: 'launch', cause: e });
  }
}

let tsxRegistered: Promise<void> | null = null;

function registerTsx(): Promise<void> {
  const flag = Symbol.for('ringkernel.tsxRegistered'); // set by js/worker/dev-entry.mjs too
  const g = globalThis as Record<symbol, unknown>;
  if (g[flag]) return Promise.resolve();
  return (tsxRegistered ??= (async () => {
    const tsx = 'tsx/esm/api';
    const api = await import(/* @vite-ignore */ tsx).catch(() => null) as { register(): void } | null;
    if (api && !g[flag]) { api.register(); g[flag] = true; }
  })());
}

/** Entry of a pool worker (dist/worker.js calls it). */
export async function startWorkerHost(): Promise<void> {
  const port = await parentPort();
  let host: WorkerHost | null = null;
  port.onMessage((msg: ToWorker) => {
    if (msg.type === 'init') {
      host = new WorkerHost(msg, port);
      port.post({ type: 'ready' } satisfies FromWorker);
      return;
    }
    if (msg.type === 'launch') { void host!.launch(msg); return; }
    if (msg.type === 'ack') { host!.reports.acked(msg.seq); return; }
    // a route, exposure or drop of a kernel still being launched here (importing its
    // module) takes effect once it is launched: before, there is no kernel to apply it to
    const launching = 'id' in msg ? host!.launching.get(msg.id) : undefined;
    if (launching) { void launching.then(() => handle(host!, msg, port)); return; }
    handle(host!, msg, port);
  });
}

/** Carries out a request that takes effect at once, and answers it. */
function handle(host: WorkerHost, msg: Exclude<ToWorker, { type: 'init' | 'launch' | 'ack' }>, port: ParentPort): void {
  let error: SerializedError | null = null;
  try {
    switch (msg.type) {
      case 'directory': host.setDirectory(msg.kernels); break;
      case 'route': host.route(msg); break;
      case 'drop': host.drop(msg.id); break;
      case 'fence': break; // a task of its own: what was delivered before has run by now
      case 'expose': host.expose(msg.id, msg.exposed); break;
    }
  } catch (e) { error = serializeError(e); }
  port.post({ type: 'done', seq: msg.seq, error } satisfies FromWorker);
}
