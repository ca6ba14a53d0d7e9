// runtime.ts — RingKernelRuntime: launches kernels, drives their lifecycle, moves messages
// between the host and kernels (and between kernels, once connected), and reports
// telemetry. Every message crosses a ring of the wasm core as bytes.
import { createCore, type OwnerCore, Strategy, whyNoSharedMemory, DEFAULT_SCRATCH_BYTES } from './core/core.js';
import { WorkerPool, type PoolWorker } from './worker/pool.js';
import { gpuKernelFunction } from './gpu/pump.js';
import { availableCores, monotonicNow } from './platform.js';
import { WorkerRequestError, type DirectoryEntry, type RouteMessage, type SerializedError } from './worker/protocol.js';
import { Ring } from './core/ring.js';
import { noteTimeout } from './kernel/timeouts.js';
import { Hub } from './core/hub.js';
import { KernelInstance, threadDeathError } from './kernel/instance.js';
import { keyOfField, type Route } from './kernel/routing.js';
import { DEFAULT_COLUMNS_MAX, KernelContext, type KernelRuntime, type ReceiveOptions, type SendOptions } from './kernel/context.js';
import type { ColumnBatch, ColumnReceiveOptions, Columns, SendColumnsOptions } from './message/columns.js';
import { registeredKernel, type KernelDefinition } from './kernel/kernel.js';
import { StateCode, STATE_BY_CODE, strategyCode, type KernelState } from './kernel/state.js';
import type { Message } from './message/message.js';
import { installValidator } from './core/codec-core.js';
import { paced } from './kernel/pace.js';
import { readTelemetry, type KernelTelemetry } from './telemetry/telemetry.js';
import { SupervisionRecord } from './supervision/record.js';
import { describeError } from './supervision/supervisor.js';
import { snapshot } from './supervision/checkpoints.js';
import { DEFAULT_DEAD_LETTER_LIMIT, reviveError, type DeadLetter } from './supervision/dead-letters.js';
import type { CheckedRestartPolicy } from './supervision/policy.js';
import { prometheusText } from './telemetry/metrics.js';
import { observeWith, type MeterLike, type MeterObservation } from './telemetry/opentelemetry.js';
import { topologyOf, type Topology } from './telemetry/topology.js';
import { RemoteBridge, isRemoteTarget, type RemoteTransport, type RemoteStats } from './remote.js';
import {
  BackendNotAvailableError, KernelAlreadyExistsError, KernelNotFoundError, KernelStateError, MessageTypeError, RingKernelError,
} from './errors.js';

export interface RuntimeOptions {
  /** Keep per-kernel counters and latency histograms (default true). */
  enableTelemetry?: boolean;
  /** Worker threads for `placement: 'worker'` kernels (default: cores - 1, at least 1). */
  workers?: number;
  /**
   * Microseconds a thread waiting on another thread's ring polls it before it sleeps.
   * Default 'adaptive': up to 50 us, and only when the thread took a message within the
   * last millisecond (a busy pipeline or a round trip); an idle thread sleeps at once and
   * uses no CPU. 0: always sleep at once. A number 1..10,000: always poll that long. Waking
   * from sleep costs 10-20 us here; a short spin catches an answer that comes quickly, for
   * that much CPU per wait. Applies to worker threads and to this thread's waits for worker
   * kernels (during which this thread is blocked).
   */
  spinMicros?: number | 'adaptive';
  /**
   * How many terminated kernels this runtime remembers (default 100): their state and final
   * telemetry stay readable (getState, getTelemetry, kernelIds) until that many more have
   * terminated after them; then they are forgotten (KernelNotFoundError), so a service that
   * launches a kernel per request does not grow for ever. 0 forgets them at once.
   */
  keepTerminated?: number;
  /**
   * Reach kernels of other runtimes ('remote:<id>' targets) and expose this runtime's:
   * a transport, e.g. natsRemote({ servers }) from ringkernel/nats (docs/remote.md).
   */
  remote?: RemoteTransport;
  /**
   * Dead letters kept per kernel (runtime.deadLetters), default 1000: past it the oldest
   * goes, counted in telemetry's deadLettersDropped. 0 keeps none (they are still counted).
   */
  deadLetterLimit?: number;
}

export interface LaunchOptions {
  /**
   * A checkpoint to start from (structured-cloneable): the function's first ctx.restored,
   * and runtime.checkpoint(id) until the kernel keeps one of its own.
   */
  restore?: unknown;
}

export interface ConnectOptions {
  /** How messages spread over several targets (default: 'round-robin'). */
  mode?: 'round-robin' | 'broadcast' | 'key';
  /** For mode 'key': messages with equal keys go to the same target. */
  key?: (message: Message) => unknown;
  /** For mode 'key': the field whose value is the key (works for worker kernels too). */
  keyField?: string;
}

export interface TerminateOptions {
  /**
   * Milliseconds to wait for the kernel function to return (default 5000): then a worker
   * kernel's thread is ended, an inline kernel is abandoned. With `drain`, the drain and the
   * stop share this time.
   */
  timeout?: number;
  /**
   * Handle what is queued first (default false): the input is closed to new messages, and
   * the kernel keeps receiving until its queue is empty (or the timeout runs out; what is
   * left then is discarded and counted). Without it, queued messages are discarded at once.
   */
  drain?: boolean;
}

const DEFAULT_STOP_TIMEOUT = 5000;

export class RingKernelRuntime implements KernelRuntime {
  readonly enableTelemetry: boolean;
  readonly options: Readonly<RuntimeOptions>;
  /** RuntimeOptions.spinMicros, checked. */
  readonly spinMicros: number | 'adaptive';
  /** RuntimeOptions.deadLetterLimit, checked. */
  readonly deadLetterLimit: number;
  /**
   * Supervision events, each with a `detail` naming the kernel: 'failed' (it failed for
   * good), 'restarted' (its function threw and starts again), 'deadletter' (a message went
   * to its dead letters). See docs/supervision.md.
   */
  readonly events: EventTarget = new EventTarget();
  #hub: Hub | null = null;
  #core: OwnerCore | null = null;
  #hubPromise: Promise<Hub> | null = null;
  #pool: WorkerPool | null = null;
  /** Worker kernels whose launch their worker answered: their function runs there (a death restarts them). */
  readonly #started = new WeakSet<KernelInstance>();
  /** Worker kernels being started again after their thread died (#restartElsewhere). */
  readonly #restarting = new Set<KernelInstance>();
  readonly #graveyard: number[] = [];
  readonly #routesPending = new Map<KernelInstance, Promise<void>>();
  readonly #kernels = new Map<string, KernelInstance>();
  /** Released kernels still remembered, oldest first (RuntimeOptions.keepTerminated). */
  readonly #remembered: KernelInstance[] = [];
  readonly #keepTerminated: number;
  #nextId = 1;
  #closed = false;
  readonly #remote: RemoteBridge | null;

  constructor(options: RuntimeOptions = {}) {
    this.options = Object.freeze({ ...options });
    this.enableTelemetry = options.enableTelemetry ?? true;
    const spin = options.spinMicros ?? 'adaptive';
    if (spin !== 'adaptive' && (typeof spin !== 'number' || !(spin >= 0 && spin <= 10_000)))
      throw new RangeError(`RingKernelRuntime: spinMicros must be 'adaptive' or a number of microseconds from 0 to 10000, got ${typeof spin === 'string' ? JSON.stringify(spin) : String(spin)}`);
    this.spinMicros = spin;
    const keep = options.keepTerminated ?? 100;
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`RingKernelRuntime: keepTerminated must be an integer >= 0, got ${String(keep)}`);
    this.#keepTerminated = keep;
    this.#remote = options.remote === undefined ? null : new RemoteBridge(options.remote, {
      kernel: (id, operation) => this.#get(id, operation),
      watchHandled: async (inst, sink) => {
        const worker = inst.worker as PoolWorker | null;
        if (worker) await worker.request({ type: 'expose', id: inst.id, exposed: sink !== null });
        else inst.onHandled = sink;
      },
    });
    const limit = options.deadLetterLimit ?? DEFAULT_DEAD_LETTER_LIMIT;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)
      throw new RangeError(`RingKernelRuntime: deadLetterLimit must be an integer >= 0, got ${typeof limit === 'string' ? JSON.stringify(limit) : String(limit)}`);
    this.deadLetterLimit = limit;
  }

  #bridge(operation: string): RemoteBridge {
    if (this.#remote) return this.#remote;
    throw new RingKernelError(`${operation}: this runtime has no remote transport; create it with new RingKernelRuntime({ remote: natsRemote({ servers }) }) (ringkernel/nats)`, { operation });
  }

  /**
   * Lets other runtimes send to kernel `id` ('remote:<id>' there): its input is fed, too, from
   * a mailbox the remote transport keeps, sized to its queueSize (docs/remote.md).
   */
  async expose(id: string): Promise<void> {
    this.#checkOpen('expose');
    await this.#bridge('expose').expose(id);
  }

  /** Counters of exposed kernels and of kernels sending to remote targets. */
  remoteStats(): RemoteStats { return this.#bridge('remoteStats').stats(); }

  /** The core and its plumbing, made on first use (launch). */
  #ensureHub(): Promise<Hub> {
    if (!this.#hubPromise) {
      this.#hubPromise = createCore().then((core) => {
        installValidator(core);
        this.#core = core;
        return (this.#hub = new Hub(core, this.spinMicros));
      });
      this.#hubPromise.catch(() => { this.#hubPromise = null; });
    }
    return this.#hubPromise;
  }

  /** The wasm core this runtime owns (after the first launch), for diagnostics and benchmarks. */
  get core(): OwnerCore | null { return this.#core; }

  /** The worker pool, made on the first worker-placed launch. */
  async #ensurePool(): Promise<WorkerPool> {
    if (!this.#pool) {
      const size = this.options.workers ?? Math.max(1, (await availableCores()) - 1);
      if (!Number.isInteger(size) || size < 1) throw new RangeError(`RingKernelRuntime: workers must be an integer >= 1, got ${String(size)}`);
      this.#pool = new WorkerPool(this.#core!, size, this.enableTelemetry, this.spinMicros, {
        ended: (w, id, error) => this.#workerKernelEnded(w, id, error),
        report: (w, id, report) => { const k = this.#kernels.get(id); if (k?.worker === w) k.record?.fromWorker(report); },
        died: (w, reason) => this.#workerDied(w, reason),
        handled: (_w, id, ids) => this.#remote?.handled(id, ids),
      }, (w) => {
        for (const k of this.#kernels.values()) if (k.worker === w && k.active && (!k.input.empty || k.hub.core.x.kcb_taken(k.kcb) > 0)) return true; // (taken: a batch not handed out yet)
        return false;
      });
      this.#hub!.remote = true;
    }
    return this.#pool;
  }

  #directory(): DirectoryEntry[] {
    return [...this.#kernels.values()].filter((k) => !k.released).map(directoryEntry);
  }

  /** Tells every worker which kernels exist (for routes and ctx.runtime); resolves when they know. */
  #publishDirectory(): Promise<void> {
    return this.#pool ? this.#pool.broadcast({ type: 'directory', kernels: this.#directory() }) : Promise.resolve();
  }

  #workerKernelEnded(_w: PoolWorker, id: string, error: SerializedError | null): void {
    this.#kernels.get(id)?.endedElsewhere(error === null ? null : reviveError(error));
  }

  /**
   * A worker thread died. Each kernel it ran goes by its own policy: started again on
   * another thread (#restartElsewhere), or failed. One still being launched there fails
   * (its launch rejects); one being started again after an earlier death is that restart's.
   */
  #workerDied(w: PoolWorker, reason: string): void {
    for (const inst of this.#kernels.values()) {
      if (inst.worker !== w || inst.released || this.#restarting.has(inst)) continue;
      if (this.#started.has(inst) && !inst.stopping && !this.#closed) void this.#restartElsewhere(inst, w, reason);
      else inst.threadDied(reason);
    }
  }

  /**
   * The worker thread running `inst` died (docs/supervision.md, "A worker thread that
   * dies"). What that thread held is counted (threadLost); then, if its restart policy
   * allows one more restart in the window its throws count in too, the kernel waits its
   * backoff and starts again on a thread of the pool, placed as a launch is, with the same
   * id, control block and queues, its route and exposure, and its last checkpoint as
   * ctx.restored. No restart left (or no policy): it fails. terminate or shutdown during the
   * backoff ends it at once. A thread that dies while starting it is one more death.
   */
  async #restartElsewhere(inst: KernelInstance, dead: PoolWorker, reason: string): Promise<void> {
    this.#restarting.add(inst);
    try {
      for (;;) {
        inst.threadLost(dead.thread);
        const next = inst.record!.restartAfterDeath(threadDeathError(inst.id, reason));
        if (next === null) { inst.threadDied(reason); return; }
        await inst.pause(next.delayMs);
        if (inst.stopping || this.#closed) { inst.restartCalledOff(); return; }
        let worker: PoolWorker | null = null;
        try {
          worker = await this.#pool!.pick(inst.id); // placed on it already
          inst.worker = worker;
          if (inst.stopping) { worker.kernels.delete(inst.id); inst.restartCalledOff(); return; }
          await this.#publishDirectory(); // the new thread learns every kernel, for its routes
          await worker.launch(directoryEntry(inst), inst.def.module!, inst.record!.checkpoint.kept,
            { history: next.history, route: routeMessage(inst), exposed: this.#remote?.isExposed(inst.id) ?? false });
          return;
        } catch (e) {
          if (inst.stopping) { inst.restartCalledOff(); return; }
          if (worker !== null && !worker.alive) { dead = worker; reason = worker.endedBecause; continue; }
          const cause = e instanceof WorkerRequestError ? e.remote : e;
          inst.endedElsewhere(new BackendNotAvailableError(`kernel '${inst.id}' could not be started again after its worker thread died: ${e instanceof Error ? e.message : String(e)}`,
            { kernelId: inst.id, operation: 'restart', cause }));
          return;
        }
      }
    } finally { this.#restarting.delete(inst); }
  }

  #get(id: string, operation: string): KernelInstance {
    const k = this.#kernels.get(id);
    if (k === undefined) {
      throw new KernelNotFoundError(`${operation}: no kernel '${id}' is launched in this runtime${this.#kernels.size ? ` (launched: ${[...this.#kernels.keys()].join(', ')})` : ''}`,
        { kernelId: id, operation });
    }
    return k;
  }

  #checkOpen(operation: string): void {
    if (this.#closed) throw new RingKernelError(`${operation}: the runtime is shut down`, { operation });
  }

  /**
   * Launches a kernel: its queues and control block are made and its function starts,
   * waiting until `activate`. `definition` defaults to the kernel registered under `id`;
   * pass a definition (or a registered kernelId) to launch another instance under a new id.
   */
  async launch(id: string, definition?: KernelDefinition | string, options: LaunchOptions = {}): Promise<void> {
    this.#checkOpen('launch');
    if (typeof id !== 'string' || id.length === 0) throw new TypeError(`launch: kernel id must be a non-empty string, got ${String(id)}`);
    const old = this.#kernels.get(id);
    if (old && !old.released) throw new KernelAlreadyExistsError(`launch: a kernel '${id}' is already launched (state ${old.state})`, { kernelId: id, operation: 'launch' });
    const def = definition === undefined ? registeredKernel(id, 'launch')
      : typeof definition === 'string' ? registeredKernel(definition, 'launch') : definition;
    const restore = options?.restore === undefined ? undefined : snapshot(options.restore, id, 'launch');
    switch (def.placement) {
      case 'gpu': return this.#launchGpu(id, def, restore);
      case 'worker': return this.#launchWorker(id, def, restore);
      default: return this.#launchInline(id, def, def.fn, def.restart, restore);
    }
  }

  /** A kernel whose function runs on this thread, restarted under `restart` when it throws. */
  async #launchInline(id: string, def: KernelDefinition, fn: (ctx: KernelContext, inst: KernelInstance) => unknown,
    restart: CheckedRestartPolicy | undefined, restore: unknown, placement: 'inline' | 'gpu' = 'inline'): Promise<void> {
    await this.#readyToLaunch(id);
    const inst = this.#carve(id, def, 'local', restore, placement);
    await this.#publishDirectory();
    inst.run(() => fn(new KernelContext(inst, this), inst), restart);
  }

  /**
   * A GPU kernel: its function, on this thread, is the pump that feeds its WGSL (js/gpu/).
   * The pump is made first, so a missing GPU or WGSL that does not compile refuses the launch.
   * On the GPU nothing throws per message (WGSL has no exceptions) and a lost device takes
   * the pipeline and resident state with it: no restart. A JS fallback restarts like inline.
   */
  async #launchGpu(id: string, def: KernelDefinition, restore: unknown): Promise<void> {
    const { pump, onGpu } = await gpuKernelFunction(id, def);
    // without a GPU, a JS fallback runs inline (topology says so), and restarts as inline kernels do
    await this.#launchInline(id, def, (ctx, inst) => pump(inst, ctx), onGpu ? undefined : def.restart, restore, onGpu ? 'gpu' : 'inline');
  }

  /** A kernel whose function runs on a pool worker (or inline, with inlineFallback, where threads cannot share memory). */
  async #launchWorker(id: string, def: KernelDefinition, restore: unknown): Promise<void> {
    const core = await this.#readyToLaunch(id);
    if (!core.shared) {
      if (!def.inlineFallback) {
        throw new BackendNotAvailableError(`launch '${id}': worker placement needs memory shared between threads, and ${whyNoSharedMemory() ?? 'this runtime was created without it'}; define the kernel with inlineFallback: true to run it inline here`,
          { kernelId: id, operation: 'launch' });
      }
      return this.#launchInline(id, def, def.fn, def.restart, restore);
    }
    const inst = this.#carve(id, def, 'remote', restore);
    try {
      const pool = await this.#ensurePool();
      if (def.maxMessageSize + 64 > DEFAULT_SCRATCH_BYTES) throw new RangeError(`launch '${id}': worker kernels take messages up to ${DEFAULT_SCRATCH_BYTES - 64} bytes`);
      const worker = await pool.pick(id); // placed on it already
      inst.worker = worker;
      await this.#publishDirectory();
      await worker.launch(directoryEntry(inst), def.module!, restore);
      this.#started.add(inst);
    } catch (e) {
      this.#kernels.delete(id);
      inst.worker?.kernels.delete(id);
      inst.release(StateCode.TERMINATED);
      this.#free(inst, this.#publishDirectory());
      if (!(e instanceof WorkerRequestError)) throw e;
      throw new BackendNotAvailableError(`launch '${id}': the worker could not start it: ${e.message}`, { kernelId: id, operation: 'launch', cause: e.remote });
    }
  }

  /** The core, once the runtime is open and no live kernel has the id. */
  async #readyToLaunch(id: string): Promise<OwnerCore> {
    await this.#ensureHub();
    this.#checkOpen('launch');
    this.#checkIdFree(id);
    return this.#core!;
  }

  #checkIdFree(id: string): void {
    if (this.#kernels.get(id) && !this.#kernels.get(id)!.released) throw new KernelAlreadyExistsError(`launch: a kernel '${id}' is already launched`, { kernelId: id, operation: 'launch' });
  }

  /**
   * Carves a kernel's regions (its two rings and its control block, launched) and registers
   * its instance under `id`, in one synchronous step: of two launches of one id, one wins.
   */
  #carve(id: string, def: KernelDefinition, role: 'local' | 'remote', restore: unknown, placement: 'inline' | 'gpu' = 'inline'): KernelInstance {
    this.#checkIdFree(id);
    const core = this.#core!;
    if (def.maxMessageSize + 64 > core.scratchBytes) {
      const bytes = def.maxMessageSize + 64 * 1024;
      core.useScratch(core.alloc(bytes), bytes);
    }
    const input = Ring.create(core, { capacity: def.queueSize, maxRecord: def.maxMessageSize, strategy: strategyCode(def.backpressure) });
    const output = Ring.create(core, { capacity: def.queueSize, maxRecord: def.maxMessageSize, strategy: Strategy.BLOCK });
    const kcb = core.alloc(core.constant('KCB_BYTES'));
    core.x.kcb_init(kcb, this.#nextId++, input.ptr, output.ptr);
    core.x.kcb_transition(kcb, StateCode.CREATED, StateCode.LAUNCHED);
    const inst = new KernelInstance(id, def, kcb, input, output, this.#hub!, this.enableTelemetry, role);
    inst.placement = role === 'remote' ? 'worker' : placement;
    const record = new SupervisionRecord(id, this.deadLetterLimit, this.events, core.x, kcb, () => !inst.released,
      (e) => { inst.lastError = describeError(e); }, role === 'remote' ? def.restart : undefined);
    if (restore !== undefined) record.checkpoint.keepSnapshot(restore);
    inst.record = record;
    if (role === 'local') inst.sink = record;
    this.#kernels.set(id, inst);
    return inst;
  }

  /**
   * Frees a released kernel's regions. Other threads may hold its rings (routes, ctx.runtime)
   * until they have read the directory without it (`unpublished`): with a pool, the regions
   * are reused only once that is done (or, failing that, when the pool is gone).
   */
  #free(inst: KernelInstance, unpublished: Promise<unknown>): void {
    const core = this.#core!;
    const regions = [inst.input.ptr, inst.output.ptr, inst.kcb];
    if (!this.#pool) { for (const ptr of regions) core.free(ptr); return; }
    this.#graveyard.push(...regions);
    unpublished.then(() => {
      for (const ptr of regions) {
        const i = this.#graveyard.indexOf(ptr);
        if (i >= 0) { this.#graveyard.splice(i, 1); core.free(ptr); }
      }
    }, () => { /* a worker did not answer: the regions wait for shutdown */ });
  }

  async #transition(id: string, operation: string, from: StateCode, to: StateCode): Promise<void> {
    this.#checkOpen(operation);
    const inst = this.#get(id, operation);
    const routes = this.#routesPending.get(inst);
    if (routes && to === StateCode.ACTIVE) { await routes; this.#routesPending.delete(inst); }
    const seen = inst.released ? StateCode.TERMINATED : inst.hub.core.x.kcb_transition(inst.kcb, from, to) as StateCode;
    if (seen !== from) {
      const state = STATE_BY_CODE[seen]!;
      throw new KernelStateError(`${operation}: kernel '${id}' is ${state}; ${operation} needs a ${STATE_BY_CODE[from]} kernel`,
        { kernelId: id, operation, state });
    }
    if (to === StateCode.ACTIVE && from === StateCode.LAUNCHED) inst.hub.core.x.kcb_set_started(inst.kcb, monotonicNow());
    inst.stateChanged();
  }

  /** Second phase of the two-phase start: the kernel begins receiving. */
  async activate(id: string): Promise<void> { await this.#transition(id, 'activate', StateCode.LAUNCHED, StateCode.ACTIVE); }

  /**
   * Pauses delivery: messages stay queued (senders can still send) until reactivate. A
   * barrier: once it resolves, no message reaches the kernel's code until it is reactivated
   * (for a worker kernel it waits for the kernel's thread to have seen the change).
   */
  async deactivate(id: string): Promise<void> {
    await this.#transition(id, 'deactivate', StateCode.ACTIVE, StateCode.DEACTIVATED);
    const worker = this.#kernels.get(id)?.worker;
    // a message the worker took just before the change may still be on its way to the
    // kernel's code (a microtask there): the fence is answered after it has arrived
    if (worker) await worker.request({ type: 'fence' });
  }

  async reactivate(id: string): Promise<void> { await this.#transition(id, 'reactivate', StateCode.DEACTIVATED, StateCode.ACTIVE); }

  /**
   * Stops a kernel: a receive it is blocked in ends at once, the function gets `timeout` ms
   * to return, then its queues are freed (unread output is discarded).
   */
  async terminate(id: string, options: TerminateOptions = {}): Promise<void> {
    const inst = this.#get(id, 'terminate');
    if (inst.released || inst.code === StateCode.TERMINATED)
      throw new KernelStateError(`terminate: kernel '${id}' is already terminated`, { kernelId: id, operation: 'terminate', state: 'terminated' });
    const timeout = options.timeout ?? DEFAULT_STOP_TIMEOUT;
    if (!(timeout >= 0)) throw new RangeError(`terminate '${id}': timeout must be a number of milliseconds >= 0, got ${String(timeout)}`);
    noteTimeout(options.timeout, 'runtime.terminate of kernel', id);
    if (this.#remote?.isExposed(id)) await this.#remote.unexpose(id);
    // a terminate already under way: wait for it, but no longer than this call's timeout
    if (inst.code === StateCode.TERMINATING || inst.draining) { await withTimeout(inst.released$, timeout); this.#release(inst); return; }
    const x = inst.hub.core.x;
    const failed = inst.code === StateCode.FAILED;
    const deadline = monotonicNow() + timeout;
    // kernels connected to it send elsewhere from now on (their own output, or their other
    // targets): terminating a stage never fails the stages in front of it
    inst.draining = options.drain === true && !failed;
    const rerouted = this.#disconnectTarget(inst);
    if (rerouted) await rerouted; // worker kernels among its senders learn their new route
    if (inst.draining) {
      inst.input.close(); // no new messages; the kernel goes on taking what is queued
      // (what the kernel took in a batch and has not handed out yet counts as queued)
      const queued = () => !inst.input.empty || x.kcb_taken(inst.kcb) > 0;
      for (;;) {
        while (queued() && !inst.stopping && monotonicNow() < deadline) await sleep(1);
        // a worker pops a batch, then notes it as taken, in one task of its own: once a
        // fence has come back, a pop seen half-way (ring empty, nothing noted) is whole
        if (!inst.worker || inst.stopping || monotonicNow() >= deadline) break;
        await inst.worker.request({ type: 'fence' });
        if (!queued()) break;
      }
    }
    if (!failed && !inst.released && (inst.code as StateCode) !== StateCode.FAILED) x.kcb_force_state(inst.kcb, StateCode.TERMINATING); // (it may have failed while draining)
    inst.input.close();
    inst.stateChanged();
    inst.hub.wakeAllSpace();
    let ended = false;
    await withTimeout(inst.ended.then(() => { ended = true; }), Math.max(0, deadline - monotonicNow()));
    const worker = inst.worker;
    if (!ended && worker?.alive) {
      // a worker kernel that does not stop (a busy loop never yields): end its thread
      await this.#pool!.kill(worker, `kernel '${id}' did not stop within ${timeout} ms of terminate, so its worker thread was ended`);
    } else if (!ended && !worker) {
      // an inline kernel cannot be stopped by force: it is abandoned (its memory is freed
      // below; its sends, receives and ctx.runtime calls are refused from now on)
      inst.abandon(timeout);
    }
    if (!failed && !inst.released) x.kcb_force_state(inst.kcb, StateCode.TERMINATED);
    this.#release(inst);
  }

  /** Frees the kernel's memory; keeps its last state and telemetry for getState/getTelemetry. */
  #release(inst: KernelInstance): void {
    inst.discardQueues();
    if (!inst.release()) return;
    this.#remember(inst);
    this.#remote?.released(inst.id);
    const worker = inst.worker;
    let dropped: Promise<void> = Promise.resolve();
    if (worker) { worker.kernels.delete(inst.id); dropped = worker.request({ type: 'drop', id: inst.id }); }
    this.#free(inst, this.#pool ? Promise.all([dropped, this.#publishDirectory()]) : dropped);
    for (const k of this.#kernels.values()) {
      if (k.route && k.route.targets.includes(inst)) k.route.targets = k.route.targets.filter((t) => t !== inst);
      if (k.route && k.route.targets.length === 0) k.route = null;
    }
  }

  /** Keeps a released kernel's record; forgets the oldest beyond keepTerminated. */
  #remember(inst: KernelInstance): void {
    this.#remembered.push(inst);
    while (this.#remembered.length > this.#keepTerminated) {
      const old = this.#remembered.shift()!;
      if (this.#kernels.get(old.id) === old) this.#kernels.delete(old.id); // (not if its id was launched again)
    }
  }

  /**
   * Takes `target` out of every route that sends to it. With worker kernels among those
   * senders: a promise that resolves once they have their new route (else null: done).
   */
  #disconnectTarget(target: KernelInstance): Promise<unknown> | null {
    const updates: Promise<void>[] = [];
    for (const k of this.#kernels.values()) {
      const r = k.route;
      if (!r || !r.targets.includes(target)) continue;
      const targets = r.targets.filter((t) => t !== target);
      k.route = targets.length === 0 ? null : { ...r, targets, mode: targets.length === 1 ? 'one' : r.mode, next: 0 };
      if (k.role === 'remote' && k.worker) {
        this.#routeToWorker(k, { type: 'route', id: k.id, targets: k.route ? targets.map((t) => t.id) : null, mode: k.route?.mode ?? 'one', keyField: r.keyField });
        updates.push(this.#routesPending.get(k)!);
      }
    }
    return updates.length > 0 ? Promise.all(updates) : null;
  }

  /**
   * The kernel a send goes to, once the runtime is open and the kernel launched and not
   * stopping; throws otherwise. The caller checks each message (inst.checkMessage).
   */
  #sendTarget(id: string): KernelInstance {
    this.#checkOpen('send');
    const inst = this.#get(id, 'send');
    if (inst.stopping) throw inst.stoppedError('send');
    if (inst.draining) throw new KernelStateError(`send to kernel '${id}': it is being terminated (draining what is queued); nothing was enqueued`, { kernelId: id, operation: 'send', state: inst.state });
    return inst;
  }

  /**
   * Sends a message to a kernel's input queue. Under BLOCK waits for room up to `timeout`
   * ms (QueueFullError after it); REJECT throws QueueFullError at once when full;
   * DROP_OLDEST always succeeds.
   */
  send<I extends Message>(kernel: KernelDefinition<I, any>, message: I, options?: number | SendOptions): Promise<void>;
  send(id: string, message: Message, options?: number | SendOptions): Promise<void>;
  send(kernel: string | KernelDefinition, message: Message, options?: number | SendOptions): Promise<void> {
    const id = kernelIdOf(kernel);
    if (isRemoteTarget(id)) return this.#sendRemote(id, [message], options); // network I/O: no pacing needed
    return paced(this.#send(id, message, options));
  }

  #send(id: string, message: Message, options?: number | SendOptions): Promise<void> {
    try {
      const inst = this.#sendTarget(id);
      inst.checkMessage(message);
      const timeout = typeof options === 'number' ? options : options?.timeout;
      if (timeout !== undefined) noteTimeout(timeout, 'runtime.send to kernel', id);
      if (this.#routesPending.size > 0) {
        const routing = this.#routesPending.get(inst);
        if (routing) return routing.then(() => this.#send(id, message, options));
      }
      const sent = inst.hub.push(inst.input, message, inst.sendWho, id, timeout, inst.receiveCancelled);
      return inst.role === 'remote' ? this.#pool!.hold(sent) : sent;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Sends several messages to a kernel, in order, in as few calls into the core as their
   * priorities allow; the same rules as send() for each. Under REJECT the first refusal
   * rejects with QueueFullError (its `enqueued` tells how many went in).
   */
  sendMany<I extends Message>(kernel: KernelDefinition<I, any>, messages: readonly I[], options?: number | SendOptions): Promise<void>;
  sendMany(id: string, messages: readonly Message[], options?: number | SendOptions): Promise<void>;
  sendMany(kernel: string | KernelDefinition, messages: readonly Message[], options?: number | SendOptions): Promise<void> {
    const id = kernelIdOf(kernel);
    if (isRemoteTarget(id)) return this.#sendRemote(id, messages, options);
    return paced(this.#sendMany(id, messages, options));
  }

  #sendMany(id: string, messages: readonly Message[], options?: number | SendOptions): Promise<void> {
    try {
      const inst = this.#sendTarget(id);
      inst.checkMessages(messages);
      const timeout = typeof options === 'number' ? options : options?.timeout;
      noteTimeout(timeout, 'runtime.sendMany to kernel', id);
      const routing = this.#routesPending.get(inst);
      if (routing) return routing.then(() => this.#sendMany(id, messages, options));
      const sent = inst.hub.pushMany(inst.input, messages, inst.sendWho, id, timeout, inst.receiveCancelled);
      return inst.role === 'remote' ? this.#pool!.hold(sent) : sent;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** send / sendMany to 'remote:<id>': resolves once the remote mailbox has stored them all. */
  #sendRemote(target: string, messages: readonly Message[], options?: number | SendOptions): Promise<void> {
    try {
      this.#checkOpen('send');
      return this.#bridge('send').send(target, messages, typeof options === 'number' ? options : options?.timeout);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** A kernel whose output a remote connect publishes has nothing for receive. */
  #checkNotForwarding(id: string): void {
    if (this.#remote?.isForwarding(id))
      throw new KernelStateError(`receive: kernel '${id}' is connected to remote kernels, which get its output; disconnect it first`, { kernelId: id, operation: 'receive', state: this.#get(id, 'receive').state });
  }

  /**
   * Sends many messages of the kernel's input class given as typed arrays, one per field
   * (t.f32: a Float32Array of one value a message; t.array(t.f32, 16): of 16 a message,
   * message after message): `{ values: f32 }` sends f32.length / 16 messages. The same ring,
   * records, order, priority (`options.priority`, one for the batch), backpressure and
   * telemetry as sendMany. A ColumnError names the field when the class has a field that is
   * not fixed-size numeric, an array is of the wrong type, or lengths disagree; nothing is
   * enqueued then.
   */
  sendColumns(kernel: string | KernelDefinition, columns: Columns, options?: number | SendColumnsOptions): Promise<void> {
    try {
      const id = kernelIdOf(kernel);
      const inst = this.#sendTarget(id);
      const routing = this.#routesPending.get(inst);
      if (routing) return routing.then(() => this.sendColumns(id, columns, options));
      return inst.sendInColumns(columns, typeof options === 'number' ? { timeout: options } : options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Every message waiting in a kernel's output queue, up to `max` (default 65,536), as
   * typed arrays, one per field of its output class: `{ count, fields }`. At least one, so
   * it waits like receive() (same timeout and errors) when there is none.
   */
  receiveColumns(kernel: string | KernelDefinition, options?: ColumnReceiveOptions): Promise<ColumnBatch> {
    try {
      this.#checkOpen('receive');
      const inst = this.#get(kernelIdOf(kernel), 'receiveColumns');
      return inst.hostReceiveColumns(options?.max ?? DEFAULT_COLUMNS_MAX, options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Every message waiting in a kernel's output queue, up to `max` (default 256): at least
   * one, so it waits like receive() (same timeout and errors) when there is none.
   */
  receiveMany<O extends Message>(kernel: KernelDefinition<any, O>, options?: ReceiveOptions & { max?: number }): Promise<O[]>;
  receiveMany<M extends Message = any>(id: string, options?: ReceiveOptions & { max?: number }): Promise<M[]>;
  receiveMany<M extends Message = any>(kernel: string | KernelDefinition, options?: ReceiveOptions & { max?: number }): Promise<M[]> {
    const id = kernelIdOf(kernel);
    try {
      this.#checkOpen('receive');
      const inst = this.#get(id, 'receive');
      this.#checkNotForwarding(id);
      noteTimeout(options?.timeout, 'runtime.receiveMany from kernel', id);
      const got = inst.hostReceiveMany(options?.max ?? 256, options) as Promise<M[]>;
      return inst.role === 'remote' ? this.#pool!.hold(got) : got;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The next message from a kernel's output queue. Waits up to `timeout` ms
   * (QueueTimeoutError after it; default: no limit). Once a kernel failed, what it sent
   * before is still delivered, then KernelFailedError.
   */
  receive<O extends Message>(kernel: KernelDefinition<any, O>, options?: number | ReceiveOptions): Promise<O>;
  receive<M extends Message = any>(id: string, options?: number | ReceiveOptions): Promise<M>;
  receive<M extends Message = any>(kernel: string | KernelDefinition, options?: number | ReceiveOptions): Promise<M> {
    const id = kernelIdOf(kernel);
    try {
      this.#checkOpen('receive');
      const inst = this.#get(id, 'receive');
      this.#checkNotForwarding(id);
      noteTimeout(typeof options === 'number' ? options : options?.timeout, 'runtime.receive from kernel', id);
      const got = inst.hostReceive(typeof options === 'number' ? { timeout: options } : options) as Promise<M>;
      return inst.role === 'remote' ? this.#pool!.hold(got) : got;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  getState(id: string): KernelState { return this.#get(id, 'getState').state; }

  /**
   * The messages a kernel could not handle, oldest first: the one it held when its function
   * threw, and records that did not decode on their way in (as bytes). At most
   * deadLetterLimit; kept after the kernel ended, until its id is launched again or the
   * kernel is forgotten (keepTerminated). A worker
   * kernel's arrive by control message: before its restarted run goes on, and before its
   * failure is reported.
   */
  deadLetters(id: string): DeadLetter[] { return this.#get(id, 'deadLetters').record!.letters.list(); }

  /**
   * The kernel's last checkpoint (ctx.checkpoint, or launch's restore), as a copy of its
   * own; undefined before any. Kept after the kernel ended, until its id is launched again
   * or the kernel is forgotten (keepTerminated).
   */
  checkpoint(id: string): unknown { return this.#get(id, 'checkpoint').record!.checkpoint.read(); }

  /** Telemetry of a kernel, or null when telemetry is off. */
  getTelemetry(id: string): KernelTelemetry | null {
    const inst = this.#get(id, 'getTelemetry');
    if (!this.enableTelemetry) return null;
    return inst.released ? inst.finalTelemetry as KernelTelemetry : readTelemetry(inst);
  }

  /**
   * Ids of the kernels launched in this runtime: live ones, and the latest `keepTerminated`
   * terminated ones (until their id is launched again or they are forgotten).
   */
  kernelIds(): string[] { return [...this.#kernels.keys()]; }

  /** Every kernel's telemetry in the Prometheus text format (js/telemetry/metrics.ts); no samples when telemetry is off. */
  metrics(): string {
    return prometheusText(this.kernelIds().map((id) => this.getTelemetry(id)).filter((t): t is KernelTelemetry => t !== null));
  }

  /** Reports the same metrics through observable instruments on an OpenTelemetry Meter (js/telemetry/opentelemetry.ts). */
  observeWith(meter: MeterLike): MeterObservation { return observeWith(this, meter); }

  /** The kernels (placement, state) and the edges connect made between them (js/telemetry/topology.ts). */
  topology(): Topology { return topologyOf(this.#kernels.values()); }

  /**
   * Wires kernel `from`'s sends into the input of `to` (no host hop): one target, or several
   * with round-robin (default), broadcast or key routing. Many kernels may connect to one
   * (fan-in). Messages already in `from`'s output queue stay there for runtime.receive.
   */
  connect(from: string, to: string | readonly string[], options: ConnectOptions = {}): void {
    this.#checkOpen('connect');
    const src = this.#get(from, 'connect');
    const ids = typeof to === 'string' ? [to] : [...to];
    if (ids.length === 0) throw new TypeError(`connect: kernel '${from}' needs at least one target`);
    if (ids.some(isRemoteTarget)) {
      if (!ids.every(isRemoteTarget)) throw new TypeError(`connect: kernel '${from}': targets are all local or all remote ('remote:<id>'), not a mix; connect it to a local kernel that forwards`);
      const bridge = this.#bridge('connect');
      if (src.stopping) throw new KernelStateError(`connect: kernel '${from}' is ${src.state}`, { kernelId: from, operation: 'connect', state: src.state });
      if (src.route) throw new KernelStateError(`connect: kernel '${from}' is already connected to ${src.route.targets.map((t) => `'${t.id}'`).join(', ')}; disconnect it first`, { kernelId: from, operation: 'connect', state: src.state });
      bridge.connect(src, ids, options);
      return;
    }
    if (this.#remote?.isForwarding(from)) throw new KernelStateError(`connect: kernel '${from}' is already connected to remote kernels; disconnect it first`, { kernelId: from, operation: 'connect', state: src.state });
    const targets = ids.map((t) => this.#get(t, 'connect'));
    for (const t of [src, ...targets]) {
      if (t.stopping) throw new KernelStateError(`connect: kernel '${t.id}' is ${t.state}`, { kernelId: t.id, operation: 'connect', state: t.state });
    }
    if (ids.includes(from)) throw new RingKernelError(`connect: kernel '${from}' cannot feed itself`, { kernelId: from, operation: 'connect' });
    if (src.route) throw new KernelStateError(`connect: kernel '${from}' is already connected to ${src.route.targets.map((t) => `'${t.id}'`).join(', ')}; disconnect it first`, { kernelId: from, operation: 'connect', state: src.state });
    const out = src.def.output;
    for (const t of targets) {
      // both classes known: refused here; the sender's unknown: each send is checked (Route.checked)
      if (out && t.takes && out.typeId !== t.takes.typeId) {
        throw new MessageTypeError(`connect: kernel '${from}' sends ${out.typeName} messages, and ${t.def.placement === 'gpu' ? 'GPU kernel' : 'kernel'} '${t.id}' takes only ${t.takes.typeName}`,
          { kernelId: from, operation: 'connect', expected: t.takes.typeName, actual: out.typeName });
      }
    }
    const mode = options.mode ?? 'round-robin';
    if (mode !== 'round-robin' && mode !== 'broadcast' && mode !== 'key') throw new TypeError(`connect '${from}': mode must be 'round-robin', 'broadcast' or 'key', got ${JSON.stringify(mode)}`);
    const keyField = options.keyField;
    if (mode === 'key' && typeof options.key !== 'function' && typeof keyField !== 'string') throw new TypeError(`connect '${from}': mode 'key' needs a key function or a keyField`);
    if (src.role === 'remote' && typeof options.key === 'function')
      throw new TypeError(`connect '${from}': a key function cannot travel to the worker running '${from}'; use keyField: '<field name>'`);
    const key = options.key ?? (keyField === undefined ? undefined : keyOfField(keyField));
    const route: Route = { targets, mode: targets.length === 1 ? 'one' : mode, key, next: 0, connectMode: mode, checked: out !== undefined, keyField };
    src.route = route;
    if (src.role === 'remote') this.#routeToWorker(src, { type: 'route', id: from, targets: ids, mode: route.mode, keyField });
  }

  /**
   * A worker kernel's route changes in its thread a moment later: until it has, the host's
   * sends to that kernel and its activation wait for it (see send and #transition), so a
   * message sent after connect() is routed the new way.
   */
  #routeToWorker(src: KernelInstance, m: Parameters<PoolWorker['request']>[0]): void {
    const ready = src.worker!.request(m);
    const all: Promise<void> = Promise.all([this.#routesPending.get(src), ready]).then(() => undefined, () => undefined);
    this.#routesPending.set(src, all);
    void all.then(() => { if (this.#routesPending.get(src) === all) this.#routesPending.delete(src); });
  }

  /**
   * Wires a graph in one call: each key sends to its successors (all of them: broadcast).
   * `connectGraph({ a: ['b', 'c'], b: 'd', c: 'd' })` is the DAG A -> (B, C) -> D, with D
   * taking both B's and C's messages (it joins them, e.g. by correlationId).
   */
  connectGraph(edges: Readonly<Record<string, string | readonly string[]>>): void {
    for (const [from, to] of Object.entries(edges)) this.connect(from, to, { mode: 'broadcast' });
  }

  /** Which pool worker runs a kernel (0, 1, ...), or null for a kernel on this thread. */
  workerOf(id: string): number | null {
    const w = this.#get(id, 'workerOf').worker;
    return w ? w.index : null;
  }

  /** Undoes connect: `from`'s sends go to its own output queue again. */
  disconnect(from: string): void {
    const src = this.#get(from, 'disconnect');
    if (this.#remote?.disconnect(from)) return;
    src.route = null;
    if (src.role === 'remote') this.#routeToWorker(src, { type: 'route', id: from, targets: null, mode: 'one', keyField: undefined });
  }

  /** Terminates every kernel (each gets `timeout` ms) and closes the runtime. */
  async shutdown(options: TerminateOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // remote: stop taking from mailboxes, publish what connected kernels have sent
    if (this.#remote) await Promise.all([this.#remote.stopInboxes(), this.#remote.drainOutboxes(options.timeout ?? DEFAULT_STOP_TIMEOUT)]);
    const live = [...this.#kernels.values()].filter((k) => !k.released);
    await Promise.all(live.map(async (k) => {
      if (k.code !== StateCode.TERMINATED) {
        try { await this.terminate(k.id, options); } catch { /* already ending */ }
      }
      this.#release(k);
    }));
    if (this.#pool) {
      await this.#pool.close();
      for (const ptr of this.#graveyard.splice(0)) this.#core!.free(ptr);
    }
    await this.#remote?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> { await this.shutdown(); }
}

/** A kernel named by id, or by its definition (the id it was defined under). */
function kernelIdOf(kernel: string | KernelDefinition): string {
  return typeof kernel === 'object' && kernel !== null ? kernel.kernelId : kernel;
}

/** A kernel's route as the worker running it gets it, or null when it sends to its own output. */
function routeMessage(k: KernelInstance): RouteMessage | null {
  const r = k.route;
  return r === null ? null : { id: k.id, targets: r.targets.map((t) => t.id), mode: r.mode, keyField: r.keyField };
}

function directoryEntry(k: KernelInstance): DirectoryEntry {
  return { id: k.id, kernelId: k.def.kernelId, kcb: k.kcb, input: k.input.ptr, output: k.output.ptr,
    takes: k.def.input ? { typeId: k.def.input.typeId, typeName: k.def.input.typeName } : null };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function withTimeout(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise((r) => { timer = setTimeout(r, ms); })]).finally(() => clearTimeout(timer));
}

