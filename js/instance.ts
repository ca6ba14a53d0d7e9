// instance.ts — one launched kernel as this thread sees it: its control block, its two
// rings, its receives and sends and the promises waiting on them, and its lifecycle, of
// which it is the one owner (run, ended, release). 'local': its function runs here (inline,
// GPU, or hosted by this worker); 'remote': another thread runs it.
//
// Delivery rule: a message leaves the input ring only when the kernel is active and asks
// for it (receive / for await). So deactivate pauses a kernel that never looks at isActive:
// its receive simply waits, and the messages stay queued until reactivate.
import { Message, describeMessage } from './message.js';
import type { KernelDefinition } from './kernel.js';
import type { Ring } from './ring.js';
import { RESOLVED, type Hub, type Who } from './hub.js';
import { StateCode, STATE_BY_CODE, type KernelState } from './state.js';
import { KernelFailedError, KernelStateError, KernelTerminatingError, RingKernelError, MessageTypeError } from './errors.js';
import type { ReceiveOptions, SendOptions } from './context.js';
import { epochNow, monotonicNow, nextTask, timeOrigin } from './platform.js';
import { countHandled, readTelemetry, type KernelTelemetry } from './telemetry.js';
import { settle, unhook, waitIn, type Waiter } from './waiters.js';
import { sendRouted, sendRoutedMany, type Route } from './routing.js';
import { afterTurn, mustYield, paced } from './pace.js';
import type { PoolWorker } from './worker/pool.js';
import { describeError, supervise, type SupervisionSink } from './supervision/supervisor.js';
import type { SupervisionRecord } from './supervision/record.js';
import type { CheckedRestartPolicy } from './supervision/policy.js';
import { snapshot } from './supervision/checkpoints.js';

export class KernelInstance {
  readonly id: string;
  readonly def: KernelDefinition;
  readonly kcb: number;
  readonly input: Ring;
  readonly output: Ring;
  readonly hub: Hub;
  readonly launchedAt = monotonicNow();
  route: Route | null = null;
  /** The error the kernel function threw, once it failed. */
  error: unknown = undefined;
  lastError: string | null = null;
  /** The class of message its input takes (type id and name), or null for any (routing.ts wrongClass). */
  takes: { readonly typeId: number; readonly typeName: string } | null;
  /** Worker placement, on the owner: the pool worker that runs it. */
  worker: PoolWorker | null = null;
  #released = false;
  #markReleased!: () => void;
  /** Resolves when released. */
  readonly released$ = new Promise<void>((r) => { this.#markReleased = r; });
  #markEnded!: () => void;
  readonly #ended = new Promise<void>((r) => { this.#markEnded = r; });
  /** Its telemetry when it was released (getTelemetry after terminate). */
  finalTelemetry: KernelTelemetry | null = null;

  private readonly receivers: Waiter<Message>[] = [];
  private readonly hostReceivers: Waiter<Message>[] = [];
  private activeWaiters: Array<() => void> = [];
  /** A GPU pump waiting for input to take as records (waitInput). */
  private readonly inputWaiters: Waiter<void>[] = [];
  /** Send times of the messages handed to the kernel and not yet handled (telemetry). */
  private readonly inHand: number[] = [];
  /**
   * Those messages themselves: they become dead letters if the function throws now. The
   * usual one in a field of its own: truncating an array for every message costs a call.
   */
  #held: Message | null = null;
  /** More of them, in the order taken (batches, or receives that overlap). */
  readonly #heldMore: Message[] = [];
  /** Restart backoffs waiting (pause): they end early once the kernel is stopping. */
  private readonly pauseWaiters: Array<() => void> = [];
  /** Runs of the kernel function so far: a context belongs to one run (KernelContext). */
  runs = 0;
  /**
   * Where the supervision of the kernel running on this thread reports (dead letters,
   * restarts, checkpoints): its owner's record, or a worker's control messages to it.
   */
  sink: SupervisionSink | null = null;
  /** On the owner: what it keeps of the kernel's supervision (letters, checkpoint, events). */
  record: SupervisionRecord | null = null;
  private currentDeliveredAt = 0;
  private readonly x;
  /** Whether it keeps telemetry (RuntimeOptions.enableTelemetry). */
  readonly telemetry: boolean;

  /**
   * 'local': the kernel function runs on this thread, which drains the input.
   * 'remote': it runs on another thread; this thread only sends to it and receives from it.
   */
  readonly role: 'local' | 'remote';

  constructor(id: string, def: KernelDefinition, kcb: number, input: Ring, output: Ring, hub: Hub, telemetry: boolean,
    role: 'local' | 'remote' = 'local') {
    this.id = id;
    this.def = def;
    this.kcb = kcb;
    this.input = input;
    this.output = output;
    this.hub = hub;
    this.x = hub.core.x;
    this.telemetry = telemetry;
    this.role = role;
    this.sendWho = { kernelId: id, operation: 'send' };
    this.takes = def.input ? { typeId: def.input.typeId, typeName: def.input.typeName } : null;
    if (role === 'local') {
      hub.onReadable(input, () => this.stateChanged());
      hub.onBadRecord(input, (bytes, error) => {
        this.sink?.deadLetter({ kernelId: id, message: bytes, error: error as Error, at: epochNow() });
      });
    }
    hub.onReadable(output, () => this.deliverToHost());
  }

  /** The state once the control block is freed (released); -1 before. */
  finalCode: StateCode | -1 = -1;
  get code(): StateCode { return this.finalCode !== -1 ? this.finalCode : this.x.kcb_state(this.kcb) as StateCode; }
  get state(): KernelState { return STATE_BY_CODE[this.code]!; }
  get active(): boolean { return !this.released && this.code === StateCode.ACTIVE; }
  get stopping(): boolean {
    if (this.released) return true;
    const c = this.code;
    return c === StateCode.TERMINATING || c === StateCode.TERMINATED || c === StateCode.FAILED;
  }

  // ---- the kernel's side ----

  /**
   * Counts the message the kernel was working on as handled: when it sends its first
   * message after receiving one, asks for the next, or ends. `t` is monotonicNow().
   */
  private finishCurrent(t: number): void {
    const n = this.inHand.length;
    if (n === 0) return;
    if (this.telemetry && !this.released) countHandled(this.x, this.kcb, this.inHand, this.currentDeliveredAt, t);
    this.inHand.length = 0;
    this.#held = null;
    if (this.#heldMore.length !== 0) this.#heldMore.length = 0;
  }

  /** The messages in hand, not counted as handled: the function threw while it held them. */
  dropInHand(): Message[] {
    this.inHand.length = 0;
    const held = this.#held === null ? [] : [this.#held];
    this.#held = null;
    return held.concat(this.#heldMore.splice(0));
  }

  /** Keeps `m` as in hand (after those taken before it). */
  #hold(m: Message): void {
    if (this.#held === null && this.#heldMore.length === 0) this.#held = m;
    else this.#heldMore.push(m);
  }

  /** Pops the next input (t: monotonicNow(), the delivery time) or null. */
  private take(t: number): Message | null {
    const m = this.hub.pop(this.input);
    if (m !== null) {
      this.inHand.push(this.hub.lastTimestamp);
      this.#hold(m);
      this.currentDeliveredAt = t;
    }
    return m;
  }

  /** Up to `max` queued messages (t: monotonicNow(), the delivery time); empty when none. */
  private takeMany(t: number, max: number): Message[] {
    const ms = this.hub.popMany(this.input, max, this.inHand);
    if (ms.length > 0) {
      this.currentDeliveredAt = t;
      for (const m of ms) this.#hold(m);
    }
    return ms;
  }

  /**
   * Every queued message up to `max` (at least one: waits like receive). Messages a kernel
   * receives together count as handled together, when it next asks or sends.
   */
  receiveMany(max: number, options: ReceiveOptions | undefined): Promise<Message[]> {
    // (a receive that yields goes on after the turn without asking again, so that it gets
    // its turn however busy the thread stays; it takes its message after the turn, so
    // deactivate stays a barrier)
    return mustYield() ? afterTurn().then(() => this.#receiveMany(max, options)) : this.#receiveMany(max, options);
  }

  #receiveMany(max: number, options: ReceiveOptions | undefined): Promise<Message[]> {
    const t = monotonicNow();
    const refused = this.startReceive(t, options);
    if (refused) return refused;
    if (this.code === StateCode.ACTIVE && this.receivers.length === 0) {
      try {
        const ms = this.takeMany(t, max);
        if (ms.length > 0) return Promise.resolve(ms);
      } catch (e) { return Promise.reject(e); }
    }
    return this.#receive(options).then((first) => {
      if (max <= 1) return [first];
      const more = this.code === StateCode.ACTIVE ? this.hub.popMany(this.input, max - 1, this.inHand) : [];
      for (const m of more) this.#hold(m);
      return [first, ...more];
    });
  }

  /** The queued messages up to `max`, now, without waiting (none unless active). */
  receiveAvailable(max: number): Message[] {
    if (this.stopping || this.code !== StateCode.ACTIVE || this.receivers.length > 0) return [];
    return this.takeMany(monotonicNow(), max);
  }

  /** A receive begins: the message in hand is handled; a rejection when it cannot go on. */
  private startReceive(t: number, options: ReceiveOptions | undefined): Promise<never> | null {
    this.finishCurrent(t);
    if (this.stopping) return Promise.reject(this.stoppedError('receive'));
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    return null;
  }

  receive(options: ReceiveOptions | undefined): Promise<Message> {
    return mustYield() ? afterTurn().then(() => this.#receive(options)) : this.#receive(options);
  }

  #receive(options: ReceiveOptions | undefined): Promise<Message> {
    const t = monotonicNow();
    const refused = this.startReceive(t, options);
    if (refused) return refused;
    let m: Message | null;
    try { m = this.takeIfFirst(t); } catch (e) { return Promise.reject(e); }
    return m !== null ? Promise.resolve(m) : this.waitForInput(options);
  }

  /** The next message if one is queued, the kernel is active and no receive waits before this one. */
  private takeIfFirst(t: number): Message | null {
    return this.code === StateCode.ACTIVE && this.receivers.length === 0 ? this.take(t) : null;
  }

  private waitForInput(options: ReceiveOptions | undefined): Promise<Message> {
    const p = waitIn(this.receivers, options, 'receive', this.id);
    this.armInput();
    return p;
  }

  /**
   * for-await's next(): a message, or done once the kernel is terminating. A message already
   * queued comes back in one settled promise (no receive promise to chain on): the common
   * case of a busy kernel.
   */
  receiveOrEnd(): Promise<IteratorResult<Message>> {
    return mustYield() ? afterTurn().then(() => this.#receiveOrEnd()) : this.#receiveOrEnd();
  }

  #receiveOrEnd(): Promise<IteratorResult<Message>> {
    const t = monotonicNow();
    this.finishCurrent(t);
    if (this.stopping) return Promise.resolve({ done: true, value: undefined });
    let m: Message | null;
    try { m = this.takeIfFirst(t); } catch (e) { return Promise.reject(e); }
    if (m !== null) return Promise.resolve({ done: false, value: m });
    return this.waitForInput(undefined).then(
      (value) => ({ done: false, value }),
      (e) => { if (this.stopping) return { done: true, value: undefined }; throw e; });
  }

  /** Hands one queued message to the first waiting receive (a scheduler's turn). */
  deliverOne(): void {
    if (this.receivers.length === 0 || this.code !== StateCode.ACTIVE) return;
    let m: Message | null;
    try { m = this.take(monotonicNow()); } catch (e) { settle(this.receivers.shift()!, undefined, e); return; }
    if (m !== null) settle(this.receivers.shift()!, m);
  }

  /** Hands queued messages to waiting receives while the kernel is active. */
  deliver(): void {
    while (this.receivers.length > 0 && this.code === StateCode.ACTIVE) {
      let m: Message | null;
      try { m = this.take(monotonicNow()); } catch (e) { settle(this.receivers.shift()!, undefined, e); continue; }
      if (m === null) break;
      settle(this.receivers.shift()!, m);
    }
    if (this.inputWaiters.length > 0 && this.code === StateCode.ACTIVE && !this.input.empty)
      for (const w of this.inputWaiters.splice(0)) settle(w, undefined);
    this.armInput();
  }

  /**
   * How a kernel waiting for input or a state change hears other threads: set by a worker
   * host, whose scheduler sleeps on the thread's doorbell for all its kernels at once.
   * Elsewhere (the owner) the input ring's own doorbell is armed.
   */
  wakeOnInput: ((inst: KernelInstance) => void) | null = null;

  /** With other threads about, a kernel waiting for input or a state change must hear their pushes. */
  private armInput(): void {
    if (!this.hub.remote || this.released || (this.receivers.length === 0 && this.activeWaiters.length === 0 && this.inputWaiters.length === 0 && this.pauseWaiters.length === 0)) return;
    if (this.wakeOnInput) this.wakeOnInput(this);
    else this.hub.armRemote(this.input, this.inputReady);
  }

  /** True while the kernel function waits in receive. */
  get receiving(): boolean { return this.receivers.length > 0; }

  /** True while the kernel function waits: for input, or to be activated. */
  get waiting(): boolean { return this.receivers.length > 0 || this.activeWaiters.length > 0 || this.inputWaiters.length > 0; }

  /** Whether stateChanged() would make progress for the kernel's waiting promises now. */
  readonly inputReady = (): boolean => {
    if (this.released) return false;
    const c = this.code;
    const stopping = c === StateCode.TERMINATING || c === StateCode.TERMINATED || c === StateCode.FAILED;
    if (stopping) return this.receivers.length > 0 || this.activeWaiters.length > 0 || this.inputWaiters.length > 0 || this.pauseWaiters.length > 0;
    if (c !== StateCode.ACTIVE) return false;
    return this.activeWaiters.length > 0 || ((this.receivers.length > 0 || this.inputWaiters.length > 0) && !this.input.empty);
  };

  /** Whether deliverToHost() would make progress for waiting host receives now. */
  private readonly outputReady = (): boolean =>
    !this.released && this.hostReceivers.length > 0 && (!this.output.empty || this.hasEnded());

  waitActive(): Promise<void> {
    if (this.code === StateCode.ACTIVE || this.stopping) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.activeWaiters.push(resolve));
    this.armInput();
    return p;
  }

  sendOut(msg: Message, options: SendOptions | undefined): Promise<void> { return paced(this.#sendOut(msg, options)); }

  #sendOut(msg: Message, options: SendOptions | undefined): Promise<void> {
    const t = monotonicNow();
    if (this.inHand.length > 0) this.finishCurrent(t);
    const who = this.sendWho;
    if (this.stopping && this.code !== StateCode.TERMINATING) return Promise.reject(this.stoppedError('send'));
    try {
      this.checkOutput(msg);
      const route = this.route;
      if (route === null) return this.hub.push(this.output, msg, who, this.id, options?.timeout, this.sendCancelled, timeOrigin + t);
      const p = sendRouted(route, msg, who, options?.timeout, this.sendCancelled);
      return p === RESOLVED ? p : p.catch((e) => this.#routeChanged(e, route, () => this.#sendOut(msg, options)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * A routed send was refused because its target stopped, and the route changed meanwhile
   * (terminate disconnects a kernel from its senders first): the message goes the new way
   * (`again`); for broadcast, the targets still there have it already. Otherwise: `e`.
   */
  #routeChanged(e: unknown, old: Route, again: () => Promise<void>): Promise<void> {
    if (!(e instanceof KernelStateError) || this.route === old || this.stopping) return Promise.reject(e);
    return old.mode === 'broadcast' ? Promise.resolve() : again();
  }

  sendOutMany(msgs: readonly Message[], options: SendOptions | undefined): Promise<void> { return paced(this.#sendOutMany(msgs, options)); }

  #sendOutMany(msgs: readonly Message[], options: SendOptions | undefined): Promise<void> {
    if (this.inHand.length > 0) this.finishCurrent(monotonicNow());
    if (this.stopping && this.code !== StateCode.TERMINATING) return Promise.reject(this.stoppedError('send'));
    try {
      for (const m of msgs) this.checkOutput(m);
    } catch (e) { return Promise.reject(e); }
    const route = this.route;
    if (route === null) return this.hub.pushMany(this.output, msgs, this.sendWho, this.id, options?.timeout, this.sendCancelled);
    try {
      // a share refused by a target that went away goes again, the new way
      return sendRoutedMany(route, msgs, this.sendWho, options?.timeout, this.sendCancelled,
        (e, share) => this.#routeChanged(e, route, () => this.#sendOutMany(share.slice((e as { enqueued?: number }).enqueued ?? 0), options)));
    } catch (e) {
      return Promise.reject(e); // a key function that threw
    }
  }

  /** Host side: up to `max` messages of the output (at least one: waits like hostReceive). */
  hostReceiveMany(max: number, options: ReceiveOptions | undefined): Promise<Message[]> {
    return mustYield() ? afterTurn().then(() => this.#hostReceiveMany(max, options)) : this.#hostReceiveMany(max, options);
  }

  #hostReceiveMany(max: number, options: ReceiveOptions | undefined): Promise<Message[]> {
    if (!this.released && this.hostReceivers.length === 0 && !options?.signal?.aborted) {
      try {
        const ms = this.hub.popMany(this.output, max, []);
        if (ms.length > 0) return Promise.resolve(ms);
      } catch (e) { return Promise.reject(e); }
    }
    return this.#hostReceive(options).then((first) => {
      if (max <= 1 || this.released) return [first];
      return [first, ...this.hub.popMany(this.output, max - 1, [])];
    });
  }

  /** Throws unless this kernel can take `messages` now: not stopping, each a message of its input class. */
  checkSendable(messages: readonly unknown[]): void {
    if (this.stopping) throw this.stoppedError('send');
    for (const m of messages) this.checkMessage(m);
  }

  /** Throws unless `m` is a message of this kernel's input class. */
  checkMessage(m: unknown): void {
    const input = this.def.input;
    if (!(m instanceof Message))
      throw new MessageTypeError(`send to kernel '${this.id}': expected ${input ? `a ${input.typeName}` : 'a message (made by a message() class)'}, got ${describeMessage(m)}; nothing was sent`,
        { kernelId: this.id, operation: 'send', expected: input?.typeName ?? null, actual: describeMessage(m) });
    if (input !== undefined && !(m instanceof input))
      throw new MessageTypeError(`send to kernel '${this.id}': it takes ${input.typeName} messages, got a ${m.constructor.name}; nothing was sent`,
        { kernelId: this.id, operation: 'send', expected: input.typeName, actual: m.constructor.name });
  }

  /** Throws unless `m` is a message of this kernel's declared output class (its own sends). */
  checkOutput(m: unknown): void {
    const output = this.def.output;
    if (m instanceof Message && (output === undefined || m instanceof output)) return;
    const got = describeMessage(m);
    throw new MessageTypeError(`kernel '${this.id}' sent a ${got}, but its output is ${output ? output.typeName : 'a message (made by a message() class)'}; nothing was sent`,
      { kernelId: this.id, operation: 'send', expected: output?.typeName ?? null, actual: got });
  }

  /** A send to or from this kernel, as its errors name it (one object, not one per send). */
  readonly sendWho: Who;

  /** A send of this kernel waiting for room gives up once the kernel is stopping. */
  readonly sendCancelled = (): Error | null => (this.stopping ? this.stoppedError('send') : null);

  /** Why a kernel connected to this one can no longer send to it (released or failed), or null. */
  goneAsTarget(from: string): Error | null {
    return this.released || this.code === StateCode.FAILED ? this.stoppedError('receive a message from ' + from) : null;
  }

  /** A send to this kernel waiting for room gives up once it can no longer receive. */
  readonly receiveCancelled = (): Error | null => (this.stopping ? this.stoppedError('send') : null);

  // ---- records, for the GPU pump (js/gpu/): the same rings, the bytes left undecoded ----

  /**
   * Resolves once input can be taken (the kernel is active and its queue is not empty) or
   * the kernel is stopping.
   */
  waitInput(): Promise<void> {
    return mustYield() ? afterTurn().then(() => this.#waitInput()) : this.#waitInput();
  }

  #waitInput(): Promise<void> {
    if (this.stopping || (this.code === StateCode.ACTIVE && !this.input.empty)) return Promise.resolve();
    const p = waitIn(this.inputWaiters, undefined, 'receive', this.id);
    this.armInput();
    return p;
  }

  // ---- the host's side (runtime.receive) ----

  hostReceive(options: ReceiveOptions | undefined): Promise<Message> {
    return mustYield() ? afterTurn().then(() => this.#hostReceive(options)) : this.#hostReceive(options);
  }

  #hostReceive(options: ReceiveOptions | undefined): Promise<Message> {
    if (this.released) return Promise.reject(this.stoppedError('receive'));
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.hostReceivers.length === 0) {
      try {
        const m = this.hub.pop(this.output);
        if (m !== null) return Promise.resolve(m);
      } catch (e) { return Promise.reject(e); }
    }
    const ended = this.endedError();
    if (ended) return Promise.reject(ended);
    const p = waitIn(this.hostReceivers, options, 'receive', this.id);
    this.hub.armRemote(this.output, this.outputReady, this.role === 'remote');
    return p;
  }

  /** Why nothing more can come out of this kernel, or null while something still may. */
  private endedError(): Error | null {
    if (!this.hasEnded()) return null;
    return this.code === StateCode.FAILED && !this.released ? this.failedError('receive') : this.stoppedError('receive');
  }

  /**
   * Nothing more can come out. A kernel failing on another thread reads as failed before
   * its error arrives (by postMessage, a moment later): until then receives keep waiting,
   * so they reject with the real error rather than an unknown one.
   */
  private hasEnded(): boolean {
    if (this.released) return true;
    const c = this.code;
    return c === StateCode.TERMINATED || (c === StateCode.FAILED && (this.role === 'local' || this.error !== undefined));
  }

  deliverToHost(): void {
    if (this.released) {
      if (this.hostReceivers.length > 0) {
        const e = this.stoppedError('receive');
        for (const w of this.hostReceivers.splice(0)) settle(w, undefined, e);
      }
      return;
    }
    while (this.hostReceivers.length > 0) {
      let m: Message | null;
      try { m = this.hub.pop(this.output); } catch (e) { settle(this.hostReceivers.shift()!, undefined, e); continue; }
      if (m === null) break;
      settle(this.hostReceivers.shift()!, m);
    }
    const ended = this.hostReceivers.length > 0 ? this.endedError() : null;
    if (ended) for (const w of this.hostReceivers.splice(0)) settle(w, undefined, ended);
    else if (this.hostReceivers.length > 0) this.hub.armRemote(this.output, this.outputReady, this.role === 'remote');
  }

  // ---- lifecycle: this instance is its one owner ----

  /**
   * Resolves once the kernel function has returned or thrown: on this thread (run), or on
   * another one, once its host reported it or the thread died (endedElsewhere, threadDied).
   */
  get ended(): Promise<void> { return this.#ended; }

  /** Set once released: nothing on this thread may touch its rings or control block after. */
  get released(): boolean { return this.#released; }

  /**
   * Runs the kernel function on this thread: `start` runs it once, with a fresh context.
   * When it returns the kernel is terminated (unless it is already stopping). When it
   * throws, supervision takes over (js/supervision/supervisor.ts): the messages in hand
   * become dead letters and, while `restart` allows, `start` runs again after its backoff;
   * with no restart left the kernel fails. `onEnd` then runs (a worker host tells the
   * owner), and `ended` resolves.
   */
  run(start: () => unknown, restart: CheckedRestartPolicy | undefined, onEnd?: (threw: boolean, error: unknown) => void): void {
    const once = () => { this.#newRun(); return start(); };
    const sink = this.sink;
    void Promise.resolve().then(() => (sink ? supervise(this, restart, once, sink) : once())).then(
      () => this.#functionEnded(false, undefined, onEnd),
      (e) => this.#functionEnded(true, e, onEnd));
  }

  /** A run begins: what an earlier run left waiting is dropped unsettled (nobody awaits it now). */
  #newRun(): void {
    if (this.runs++ === 0) return;
    for (const w of this.receivers.splice(0)) unhook(w);
    for (const w of this.inputWaiters.splice(0)) unhook(w);
    this.activeWaiters = [];
  }

  /** A restart's backoff: resolves after `ms`, or at once when the kernel starts stopping. */
  pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    // no backoff: the next macrotask (not a timer, which Node clamps to 1 ms)
    if (ms === 0) return new Promise<void>((resolve) => nextTask(resolve));
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        const i = this.pauseWaiters.indexOf(done);
        if (i >= 0) this.pauseWaiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pauseWaiters.push(done);
      this.armInput();
    });
  }

  /**
   * ctx.checkpoint: keeps a snapshot of `value` where a restarted run finds it (throws
   * CheckpointError when it cannot be cloned); resolves once the kernel's owner holds it.
   */
  checkpoint(value: unknown): Promise<void> {
    const sink = this.sink!;
    sink.checkpoint.keepSnapshot(snapshot(value, this.id, 'checkpoint'), epochNow());
    return sink.checkpointed();
  }

  /** ctx.restored: the last checkpoint, a copy of its own for each run (undefined before any). */
  restored(): unknown { return this.sink?.checkpoint.read(); }

  #functionEnded(threw: boolean, error: unknown, onEnd: ((threw: boolean, error: unknown) => void) | undefined): void {
    if (threw) {
      if (!this.stopping) this.fail(error);
    } else {
      this.finishCurrent(monotonicNow()); // the message in hand, if any, is handled
      if (!this.stopping) {
        this.x.kcb_force_state(this.kcb, StateCode.TERMINATED);
        this.input.close();
      }
    }
    if (!this.released) this.stateChanged();
    onEnd?.(threw, error);
    this.#markEnded();
  }

  /**
   * Owner's side of a kernel running on another thread: its host reported that the function
   * returned (null) or threw `error` (already counted in the control block there).
   */
  endedElsewhere(error: Error | null): void {
    if (this.released) return;
    if (error) this.fail(error, true);
    else this.stateChanged();
    this.#markEnded();
  }

  /** Owner's side: the thread running this kernel died; it fails unless it was ending anyway. */
  threadDied(reason: string): void {
    if (this.released) return;
    const c = this.code;
    // (a kernel already marked failed whose error had not arrived yet gets this one)
    if (c !== StateCode.TERMINATED && c !== StateCode.TERMINATING && (c !== StateCode.FAILED || this.error === undefined))
      this.fail(new RingKernelError(`the worker thread running kernel '${this.id}' died: ${reason}`, { kernelId: this.id, operation: 'run' }), c === StateCode.FAILED);
    this.#markEnded();
  }

  /**
   * Lets go of the kernel on this thread: keeps its last state (`finalCode`, default: the
   * state now, terminating read as terminated) and telemetry, ends every promise still
   * waiting on it and forgets its rings. Whoever carved the regions frees them. False when
   * it was released already.
   */
  release(finalCode?: StateCode): boolean {
    if (this.#released) return false;
    this.finalTelemetry = this.telemetry ? readTelemetry(this) : null;
    const c = this.code;
    this.finalCode = finalCode ?? (c === StateCode.TERMINATING ? StateCode.TERMINATED : c);
    this.#released = true;
    this.stateChanged();
    this.hub.forget(this.input);
    this.hub.forget(this.output);
    this.#markReleased();
    return true;
  }

  /**
   * The kernel is ending for good (terminate, on the thread that frees its memory): what is
   * left in its input queue, and what nobody received from its output, is counted as
   * discarded before the queues are freed. The input is closed first.
   */
  discardQueues(): void {
    if (this.released) return;
    this.input.close();
    this.x.kcb_discard_input(this.kcb);
    this.x.kcb_discard_output(this.kcb);
  }

  /** After any state change: deliver, release waitActive, end what can no longer happen. */
  stateChanged(): void {
    if (this.activeWaiters.length > 0 && (this.code === StateCode.ACTIVE || this.stopping)) {
      const w = this.activeWaiters;
      this.activeWaiters = [];
      for (const f of w) f();
    }
    if (this.stopping) {
      if (this.receivers.length > 0) {
        // a receive waiting when the kernel is terminated times out (KernelTerminatingError
        // is a QueueTimeoutError), so the documented loops end cleanly; a failed kernel's is an error
        const c = this.code;
        const e = c === StateCode.FAILED && !this.released ? this.stoppedError('receive')
          : new KernelTerminatingError(`receive on kernel '${this.id}': the kernel is terminating (ctx.shouldTerminate is now true)`,
            { kernelId: this.id, operation: 'receive' });
        for (const w of this.receivers.splice(0)) settle(w, undefined, e);
      }
      for (const w of this.inputWaiters.splice(0)) settle(w, undefined);
      for (const f of this.pauseWaiters.splice(0)) f();
    } else this.deliver();
    this.deliverToHost();
  }

  /** The kernel function threw (not while terminating), or its thread died: the kernel fails. */
  fail(error: unknown, counted = false): void {
    this.error = error;
    this.lastError = describeError(error);
    if (!this.released) {
      if (!counted) this.x.kcb_record_error(this.kcb);
      this.x.kcb_force_state(this.kcb, StateCode.FAILED);
      this.input.close();
      // what it had accepted and not taken will never be handled: counted as discarded.
      // (Supervision restarts a kernel before this point, and keeps its queue.)
      this.x.kcb_discard_input(this.kcb);
    }
    this.stateChanged();
    this.hub.wakeAllSpace();
    this.record?.failed(error);
  }

  /**
   * Terminate gave up on it: its function did not return within the timeout (an inline
   * kernel cannot be stopped by force). Set once; from then on everything it asks is refused.
   */
  abandoned = false;
  /** terminate({ drain: true }) is handling what is queued: no new message is accepted. */
  draining = false;
  #abandonedAfter = 0;

  /** terminate's timeout ran out before the function returned (inline: it cannot be stopped by force). */
  abandon(timeout: number): void {
    this.abandoned = true;
    this.#abandonedAfter = timeout;
  }

  stoppedError(operation: string): Error {
    if (this.abandoned) {
      return new KernelStateError(`kernel '${this.id}' was abandoned: its function did not return within ${this.#abandonedAfter} ms of terminate, so whatever it does now is refused; cannot ${operation}`,
        { kernelId: this.id, operation, state: 'terminated' });
    }
    if (this.code === StateCode.FAILED && !this.released) return this.failedError(operation);
    const state = this.released ? 'terminated' : this.state;
    return new KernelStateError(`kernel '${this.id}' is ${state}; cannot ${operation}`, { kernelId: this.id, operation, state });
  }

  failedError(operation: string): KernelFailedError {
    return new KernelFailedError(`kernel '${this.id}' failed: ${this.lastError ?? 'unknown error'} (${operation})`,
      { kernelId: this.id, operation, cause: this.error });
  }
}
