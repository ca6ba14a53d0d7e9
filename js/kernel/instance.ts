// instance.ts — one launched kernel as this thread sees it: its control block, its two
// rings, its receives and sends and the promises waiting on them, and its lifecycle, of
// which it is the one owner (run, ended, release). 'local': its function runs here (inline,
// GPU, or hosted by this worker); 'remote': another thread runs it.
//
// Delivery rule: a message leaves the input ring only when the kernel is active and asks
// for it (receive / for await). So deactivate pauses a kernel that never looks at isActive:
// its receive simply waits, and the messages stay queued until reactivate.
import { Message, describeMessage, type MessageClass } from '../message/message.js';
import type { KernelDefinition } from './kernel.js';
import type { Ring } from '../core/ring.js';
import type { Core } from '../core/core.js';
import { decodeFrom } from '../message/decode.js';
import { RESOLVED, either, type Hub, type Who } from '../core/hub.js';
import { StateCode, STATE_BY_CODE, type KernelState } from './state.js';
import { ColumnError, KernelFailedError, KernelStateError, KernelTerminatingError, MessageDecodeError, MessageTypeError, WorkerThreadDiedError } from '../errors.js';
import type { ReceiveOptions, SendOptions } from './context.js';
import {
  columnCount, columnShape, columnsToMessages, messagesToColumns, notOfClassError, popColumns, pushColumns, recordBatch,
  type ColumnBatch, type ColumnReceiveOptions, type Columns, type ColumnShape, type SendColumnsOptions, type Times,
} from '../message/columns.js';
import { epochNow, monotonicNow, nextTask, timeOrigin } from '../platform.js';
import { countHandled, readTelemetry, type KernelTelemetry } from '../telemetry/telemetry.js';
import { settle, settleStopping, unhook, waitIn, wakeTakers, DONE, type Waiter } from './waiters.js';
import { sendRouted, sendRoutedMany, type Route } from './routing.js';
import { TakenBatch } from './taken.js';
import { afterTurnCall, mustYield, paced } from './pace.js';
import type { PoolWorker } from '../worker/pool.js';
import { describeError, supervise, type RestartHistory, type SupervisionSink } from '../supervision/supervisor.js';
import type { SupervisionRecord } from '../supervision/record.js';
import type { CheckedRestartPolicy } from '../supervision/policy.js';
import { snapshot } from '../supervision/checkpoints.js';

/** Most messages a kernel takes from its input ring in one pop (see take). */
const TAKE_BATCH = 64;
/** Messages a host receive takes from a kernel's output in one pop (see hostTaken). */
const HOST_TAKE = 1;

export class KernelInstance {
  readonly id: string;
  readonly def: KernelDefinition;
  readonly kcb: number;
  readonly input: Ring;
  readonly output: Ring;
  readonly hub: Hub;
  readonly launchedAt = monotonicNow();
  route: Route | null = null;
  /** Where it runs (a GPU kernel without a GPU runs its JS fallback inline), for topology(). */
  placement: 'inline' | 'worker' | 'gpu' = 'inline';
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
  /**
   * A GPU pump waiting for input to take as records (waitInput), and column receives
   * waiting for input (each with its take, resolved with its batch: wakeTakers).
   */
  private readonly inputWaiters: Waiter<void>[] = [];
  /** Send times of the messages handed to the kernel and not yet handled (telemetry). */
  private readonly inHand: number[] = [];
  /**
   * How many of inHand are in hand. (A count, not inHand.length: setting an array's length
   * to 0 lets V8 drop its backing store, and the next push allocates a new one, 150 bytes
   * a message here.)
   */
  private inHandCount = 0;
  /** When the messages in hand began to be handled (the clock read that delivered them). */
  private handledSince = 0;
  /**
   * Messages taken from the input ring in one pop (up to TAKE_BATCH) and not yet handed out:
   * the kernel gets them one by one without another call into the core or a clock read.
   */
  private readonly taken = new TakenBatch();
  /** The control block's count of `taken` (kcb_set_taken), as this thread last wrote it. */
  private takenNoted = 0;
  /**
   * The host's receives from the output ring, one message at a time (HOST_TAKE): a batch
   * taken here, or by a receiver on another thread, would not be counted as discarded when
   * the kernel is terminated before it was received.
   */
  private readonly hostTaken = new TakenBatch();
  /** The same, for messages it received as columns. */
  private readonly columnsInHand: Times = { at: new Float64Array(0), count: 0 };
  /** Host receives waiting for output to take as columns. */
  private readonly outputWaiters: Waiter<ColumnBatch>[] = [];
  /**
   * The messages in hand themselves: they become dead letters if the function throws now. The
   * usual one in a field of its own: truncating an array for every message costs a call.
   */
  #held: Message | null = null;
  /** More of them, in the order taken (batches, or receives that overlap). */
  readonly #heldMore: Message[] = [];
  /** Index of the control block's taken word (assembly/scheduler.ts KCB_TAKEN) in core.i32. */
  readonly #takenIndex: number;
  /** Index of the control block's inHand word (assembly/scheduler.ts KCB_IN_HAND) in core.i32. */
  readonly #inHandIndex: number;
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
  private readonly x;
  /** The core, whose i32 view holds the control block's state word. */
  private readonly core: Core;
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
    this.core = hub.core;
    this.#inHandIndex = (kcb + hub.core.constant('KCB_IN_HAND')) >> 2;
    this.#takenIndex = (kcb + hub.core.constant('KCB_TAKEN')) >> 2;
    hub.core.cover(4 * this.#inHandIndex + 4); // the state and inHand words are read and written through the views
    this.telemetry = telemetry;
    this.role = role;
    this.sendWho = { kernelId: id, operation: 'send' };
    this.sendColumnsWho.kernelId = id;
    this.receiveColumnsWho.kernelId = id;
    this.takes = def.input ? { typeId: def.input.typeId, typeName: def.input.typeName } : null;
    if (role === 'local') {
      hub.onReadable(input, () => this.inputArrived());
      hub.onBadRecord(input, (bytes, error) => this.#badRecord(bytes, error), def.input);
    }
    hub.onReadable(output, () => this.deliverToHost());
  }

  /** A record of this kernel's input that does not decode (or is not of its input class): a dead letter, as its bytes. */
  #badRecord(bytes: Uint8Array, error: unknown): void {
    this.sink?.deadLetter({ kernelId: this.id, message: bytes, error: error as Error, at: epochNow() });
  }

  /** The state once the control block is freed (released); -1 before. */
  finalCode: StateCode | -1 = -1;
  // (the state word is K_STATE, offset 0 of the control block, assembly/scheduler.ts: an
  // atomic load of it here is what kcb_state does, without a call into the core)
  get code(): StateCode { return this.finalCode !== -1 ? this.finalCode : Atomics.load(this.core.i32, this.kcb >> 2) as StateCode; }
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
    const n = this.inHandCount, m = this.columnsInHand.count;
    if (n === 0 && m === 0) return;
    if (this.onHandled !== null) this.reportHandled();
    if (this.telemetry && !this.released) {
      // what was received together is handled together: the time since spread over all of it
      const since = this.handledSince;
      if (n > 0) countHandled(this.x, this.kcb, this.inHand, n, t - (t - since) * n / (n + m), t);
      if (m > 0) recordBatch(this.hub.core, this.kcb, this.columnsInHand, timeOrigin + t, (t - since) * m / (n + m), t);
    }
    this.inHandCount = 0;
    this.columnsInHand.count = 0;
    this.#noteInHand();
    this.handledSince = t;
    this.#held = null;
    if (this.#heldMore.length !== 0) this.#heldMore.length = 0;
  }

  /**
   * Tells the control block how many messages the function holds (inHand): counted as
   * interrupted should its thread die, or terminate abandon it, before it finishes them.
   * One Int32 store, no call into the core.
   */
  #noteInHand(): void {
    if (this.released) return;
    Atomics.store(this.core.i32, this.#inHandIndex, this.inHandCount + this.columnsInHand.count + this.#batchesInHand);
  }

  /**
   * The messages in hand, not counted as handled: the function threw while it held them
   * (they become dead letters). What it received as columns has no message to keep: that
   * is counted as interrupted. None once released (an abandoned kernel's were counted as
   * interrupted then).
   */
  dropInHand(): Message[] {
    if (this.released) return [];
    const held = this.#held === null ? [] : [this.#held];
    this.#held = null;
    const all = held.concat(this.#heldMore.splice(0));
    this.inHandCount = 0;
    // what is left: columns and GPU batches, which have no message to keep
    if (this.columnsInHand.count !== 0 || this.#batchesInHand !== 0) this.#interruptInHand();
    else this.#noteInHand();
    return all;
  }

  /** Messages of GPU batches taken and not yet counted as handled (js/gpu/pump.ts): in the inHand word too. */
  #batchesInHand = 0;

  /** Tells the control block how many messages are taken and not handed out (what kcb_set_taken does, without the call). */
  #noteTaken(n: number): void {
    this.takenNoted = n;
    Atomics.store(this.core.i32, this.#takenIndex, n);
  }

  /** A GPU pump took a batch of `n` (it is in hand until batchDone). */
  batchTaken(n: number): void {
    this.#batchesInHand += n;
    this.#noteInHand();
  }

  /** The pump counted a batch of `n` as handled (or it was counted as interrupted already: nothing to do). */
  batchDone(n: number): void {
    if (this.#batchesInHand === 0) return;
    this.#batchesInHand -= n;
    this.#noteInHand();
  }

  /**
   * What the function holds will not be handled (messages, columns, GPU batches): all of it
   * counted as interrupted, in one core call that reads and clears the inHand word, and
   * nothing is held any more (so nothing is counted again, as handled or as a dead letter).
   */
  #interruptInHand(): void {
    if (this.released) return;
    this.#noteInHand();
    this.x.kcb_interrupt_in_hand(this.kcb);
    this.inHandCount = 0;
    this.columnsInHand.count = 0;
    this.#batchesInHand = 0;
    this.#held = null;
    this.#heldMore.length = 0;
  }

  /** Keeps `m` as in hand (after those taken before it). */
  #hold(m: Message): void {
    if (this.#held === null && this.#heldMore.length === 0) this.#held = m;
    else this.#heldMore.push(m);
  }

  /** Whether the kernel holds messages it received and has not finished (finishCurrent). */
  private get holding(): boolean { return this.inHandCount > 0 || this.columnsInHand.count > 0; }

  /** Whether input is waiting: taken already, or in the ring. */
  get hasInput(): boolean { return this.taken.size > 0 || !this.input.empty; }

  /**
   * The next input, or null. From what the last pop took while there is some; otherwise
   * one clock read (the messages in hand are handled by now) and one pop of up to
   * TAKE_BATCH. Throws a record's MessageDecodeError when that record's turn comes.
   */
  private take(): Message | null {
    if (this.taken.size === 0 && !this.refill()) return null;
    const taken = this.taken;
    try {
      const m = taken.shift();
      this.#hold(m);
      if (this.onHandled !== null) this.handledIds.push(m.messageId);
      return m;
    } finally {
      this.inHand[this.inHandCount++] = taken.lastSentAt;
      this.#noteInHand();
      // the control block says how many are taken and not handed out, for a drain and for
      // the discarded count should the kernel end (or its thread die) before they are
      if (taken.size !== this.takenNoted && !this.released) this.#noteTaken(taken.size);
    }
  }

  /**
   * Set while the kernel is exposed to other runtimes (js/remote.ts): told the ids of the
   * messages it has handled (as telemetry counts them: it asked for more, sent, or ended),
   * so their remote mailbox can let them go.
   */
  onHandled: ((messageIds: string[]) => void) | null = null;
  private handledIds: string[] = [];
  private reportHandled(): void {
    const ids = this.handledIds;
    if (ids.length === 0) return;
    this.handledIds = [];
    this.onHandled!(ids);
  }

  private refill(): boolean {
    const t = monotonicNow();
    this.finishCurrent(t);
    const n = this.taken.fill(this.hub, this.input, TAKE_BATCH);
    if (n === 0) return false;
    if (n > 1 && !this.released) this.#noteTaken(n);
    this.handledSince = t;
    return true;
  }

  /** Up to `max` queued messages, those taken already first; empty when none. */
  private takeMany(max: number): Message[] {
    const out: Message[] = [];
    while (out.length < max && this.taken.size > 0) {
      try { out.push(this.take()!); } catch (e) { if (out.length === 0) throw e; } // as popMany: skipped unless alone
    }
    if (out.length === max) return out;
    // (what it holds now was received in this same call, or with the receive this batch
    // completes: handled together with these, not before them)
    const held = this.holding;
    const t = monotonicNow();
    const times: number[] = [];
    const first = out.length;
    this.hub.popMany(this.input, max - first, times, out);
    for (const s of times) this.inHand[this.inHandCount++] = s;
    if (times.length > 0) this.#noteInHand();
    for (let k = first; k < out.length; k++) this.#hold(out[k]!);
    if (this.onHandled !== null) for (let k = first; k < out.length; k++) this.handledIds.push(out[k]!.messageId);
    if (out.length > first && !held) this.handledSince = t;
    return out;
  }

  /**
   * Every queued message up to `max` (at least one: waits like receive). Messages a kernel
   * receives together count as handled together, when it next asks or sends.
   */
  receiveMany(max: number, options: ReceiveOptions | undefined): Promise<Message[]> {
    // (a receive that yields goes on after the turn without asking again, so that it gets
    // its turn however busy the thread stays; it takes its message after the turn, so
    // deactivate stays a barrier)
    return mustYield() ? afterTurnCall(this, this.#receiveMany, max, options) : this.#receiveMany(max, options);
  }

  #receiveMany(max: number, options: ReceiveOptions | undefined): Promise<Message[]> {
    const refused = this.startReceive(options);
    if (refused) return refused;
    if (this.code === StateCode.ACTIVE && this.receivers.length === 0) {
      try {
        const ms = this.takeMany(max);
        if (ms.length > 0) return Promise.resolve(ms);
      } catch (e) { return Promise.reject(e); }
    }
    return this.#receive(options).then((first) => {
      if (max <= 1) return [first];
      const more = this.code === StateCode.ACTIVE ? this.takeMany(max - 1) : [];
      return [first, ...more];
    });
  }

  /** The queued messages up to `max`, now, without waiting (none unless active). */
  receiveAvailable(max: number): Message[] {
    if (this.stopping || this.code !== StateCode.ACTIVE || this.receivers.length > 0) return [];
    this.finishCurrent(monotonicNow()); // it asks for more: what it held is handled
    return this.takeMany(max);
  }

  // ---- columns (js/message/columns.ts): the same rings and records, as typed arrays ----

  private readonly sendColumnsWho: Who = { kernelId: '', operation: 'sendColumns' };
  private readonly receiveColumnsWho: Who = { kernelId: '', operation: 'receiveColumns' };

  /**
   * The class a column operation works in: `as` when given (a MessageTypeError when the
   * kernel declares another), else the kernel's input or output class (a ColumnError when it
   * declares none).
   */
  private columnClass(which: 'input' | 'output', operation: string, as?: MessageClass<any>): MessageClass<any> {
    const cls = this.def[which];
    if (as !== undefined) {
      if (typeof as !== 'function' || typeof (as as { typeId?: unknown }).typeId !== 'number')
        throw new TypeError(`${operation} on kernel '${this.id}': as must be a message class, got ${describeMessage(as)}`);
      if (cls !== undefined && cls !== as)
        throw new MessageTypeError(`${operation} on kernel '${this.id}': its ${which} class is ${cls.typeName}, not ${as.typeName}`, { kernelId: this.id, operation, expected: cls.typeName, actual: as.typeName });
      return as;
    }
    if (cls === undefined) throw new ColumnError(`${operation} on kernel '${this.id}': it declares no ${which} message class (ringKernel({ ${which}: ... })); name one with { as: Class }`, { kernelId: this.id, operation, field: undefined });
    return cls;
  }

  /** The column shapes of the kernel's own input and output classes, once a column call with no `as` asked. */
  #inShape: ColumnShape | undefined;
  #outShape: ColumnShape | undefined;

  /** The shape a column operation works in: of `as`, or of the kernel's own class (kept after the first call). */
  private columnShapeOf(which: 'input' | 'output', who: Who, as: MessageClass<any> | undefined): ColumnShape {
    if (as !== undefined) return columnShape(this.columnClass(which, who.operation, as), who);
    const known = which === 'input' ? this.#inShape : this.#outShape;
    if (known !== undefined) return known;
    const shape = columnShape(this.columnClass(which, who.operation), who);
    if (which === 'input') this.#inShape = shape; else this.#outShape = shape;
    return shape;
  }

  /** Kernel side: up to `max` queued messages as columns (at least one: waits like receive). */
  receiveColumns(max: number, options: ColumnReceiveOptions | undefined): Promise<ColumnBatch> {
    return mustYield() ? afterTurnCall(this, this.#receiveColumns, max, options) : this.#receiveColumns(max, options);
  }

  #receiveColumns(max: number, options: ColumnReceiveOptions | undefined): Promise<ColumnBatch> {
    // columns carry no message ids, and an exposed kernel's records are acknowledged to
    // their remote mailbox by id once handled (js/remote.ts)
    if (this.onHandled !== null) return Promise.reject(new KernelStateError(`receiveColumns: kernel '${this.id}' is exposed to other runtimes, whose messages are acknowledged by id once handled; receive them as messages (receive, receiveMany, for await)`, { kernelId: this.id, operation: 'receiveColumns', state: this.state }));
    const refused = this.startReceive(options);
    if (refused) return refused;
    try {
      const who = this.receiveColumnsWho;
      checkMax(max, who);
      const shape = this.columnShapeOf('input', who, options?.as);
      // a batch now, or null: then it waits with this as its take (wakeTakers), which deliver
      // calls as input comes, so that the wait resolves with the batch itself
      const take = (): ColumnBatch | null => {
        if (this.stopping) throw this.stoppedError('receive');
        if (this.code !== StateCode.ACTIVE || this.receivers.length !== 0) return null;
        // (the clock is read once there is something to count: a take that finds nothing,
        // the first of every wait, reads none)
        let now = -1;
        if (this.holding) this.finishCurrent(now = monotonicNow()); // what it holds was handled by now
        // messages a for-await / receive took in its last pop come before the ring's: those
        // of the class at the front (one of another class stays for receive)
        if (this.taken.size > 0) {
          if (now < 0) now = monotonicNow();
          // (a kernel that declares its input class takes no other: see popInto's `expected`)
          const run = this.taken.leadingRun(shape.cls, max);
          if (run === 0) throw notOfClassError(this.taken.peek() as Message, shape, who);
          this.handledSince = now;
          return messagesToColumns(shape, this.takeMany(run));
        }
        for (;;) {
          const b = popColumns(this.hub, this.input, shape, max, who, this.columnsInHand);
          if (b === null) return null;
          if ('notOfClass' in b) {
            if (this.def.input === undefined) throw notOfClassError(b, shape, who);
            this.dropNotOfClass(b.layout);
            continue;
          }
          this.handledSince = now < 0 ? monotonicNow() : now;
          this.#noteInHand();
          return b;
        }
      };
      const b = take();
      if (b !== null) return Promise.resolve(b);
      const p = waitIn(this.inputWaiters as unknown as Waiter<ColumnBatch>[], options, 'receive', this.id, false, take);
      this.armInput();
      return p;
    } catch (e) { return Promise.reject(e); }
  }

  /**
   * The next record of this kernel's input is not of the class a column receive (or a GPU
   * kernel) reads with the columns laid out at `layout`, and the kernel declares its input
   * class, so it cannot be one of its messages: it is taken and kept in the dead letters as
   * its bytes, with the MessageDecodeError that names it (counted there). False when it
   * went meanwhile (a DROP_OLDEST push dropped it): then nothing is taken.
   */
  dropNotOfClass(layout: number): boolean {
    const c = this.hub.core;
    const len = c.x.queue_pop_other(this.input.ptr, layout, c.scratch, c.scratchBytes);
    if (len <= 0) return false;
    this.hub.wakeSpace(this.input);
    // (decoding against the declared class names what is wrong; a record of that type id
    // with a length the class cannot have is refused by it too)
    let error: unknown = new MessageDecodeError(`kernel '${this.id}': a record of ${len} bytes is not a ${this.def.input?.typeName}`, { kernelId: this.id, operation: 'receive', offset: 0 });
    try { decodeFrom(c.mem, c.dv, c.scratch, len, this.def.input); } catch (e) { error = e; }
    this.#badRecord(c.mem.slice(c.scratch, c.scratch + len), error);
    return true;
  }

  /** Kernel side: sends columns of its output class where its sends go. */
  sendOutColumns(columns: Columns, options: SendColumnsOptions | undefined): Promise<void> { return paced(this.#sendOutColumns(columns, options)); }

  #sendOutColumns(columns: Columns, options: SendColumnsOptions | undefined): Promise<void> {
    if (this.holding) this.finishCurrent(monotonicNow());
    if (this.stopping && this.code !== StateCode.TERMINATING) return Promise.reject(this.stoppedError('send'));
    try {
      const who = this.sendColumnsWho;
      const shape = this.columnShapeOf('output', who, options?.as);
      const count = columnCount(shape, columns, who);
      const route = this.route;
      if (route === null) return pushColumns(this.hub, this.output, shape, columns, count, who, this.id, options, this.sendCancelled);
      if (route.mode === 'one' || route.mode === 'broadcast') {
        return Promise.all(route.targets.map((t) => {
          const gone = t.goneAsTarget(this.id);
          if (gone) return Promise.reject(gone);
          return pushColumns(t.hub, t.input, shape, columns, count, who, t.id, options, either(this.sendCancelled, t.receiveCancelled)!);
        })).then(() => undefined);
      }
      // routes that choose per message (round-robin, by key) need the messages
      return this.sendOutMany(columnsToMessages(shape, columns, count, options?.priority), options);
    } catch (e) { return Promise.reject(e); }
  }

  /** Host side: sends messages of the kernel's input class, given as columns, to its input queue. */
  sendInColumns(columns: Columns, options: SendColumnsOptions | undefined): Promise<void> { return paced(this.#sendInColumns(columns, options)); }

  #sendInColumns(columns: Columns, options: SendColumnsOptions | undefined): Promise<void> {
    try {
      const who = this.sendColumnsWho;
      if (this.stopping) throw this.stoppedError('send');
      const shape = this.columnShapeOf('input', who, options?.as);
      const count = columnCount(shape, columns, who);
      return pushColumns(this.hub, this.input, shape, columns, count, who, this.id, options, this.receiveCancelled);
    } catch (e) { return Promise.reject(e); }
  }

  /** Host side: up to `max` messages of the output as columns (at least one: waits like hostReceive). */
  hostReceiveColumns(max: number, options: ColumnReceiveOptions | undefined): Promise<ColumnBatch> {
    return mustYield() ? afterTurnCall(this, this.#hostReceiveColumns, max, options) : this.#hostReceiveColumns(max, options);
  }

  #hostReceiveColumns(max: number, options: ColumnReceiveOptions | undefined): Promise<ColumnBatch> {
    try {
      const who = this.receiveColumnsWho;
      checkMax(max, who);
      const shape = this.columnShapeOf('output', who, options?.as);
      // a batch now, or null: then it waits with this as its take (wakeTakers), which
      // deliverToHost calls as output comes, so that the wait resolves with the batch itself
      const take = (): ColumnBatch | null => {
        if (this.released) throw this.stoppedError('receive');
        if (options?.signal?.aborted) throw options.signal.reason;
        if (this.hostReceivers.length === 0) {
          const b = popColumns(this.hub, this.output, shape, max, who);
          if (b !== null && 'notOfClass' in b) throw notOfClassError(b, shape, who);
          if (b !== null) return b;
        }
        const ended = this.endedError();
        if (ended) throw ended;
        return null;
      };
      const b = take();
      if (b !== null) return Promise.resolve(b);
      const p = waitIn(this.outputWaiters, options, 'receive', this.id, false, take);
      this.hub.armRemote(this.output, this.outputReady, this.role === 'remote');
      return p;
    } catch (e) { return Promise.reject(e); }
  }

  /**
   * A receive begins; a rejection when it cannot go on. (The message in hand counts as
   * handled at the next clock read: the next pop, send or the end, see take.)
   */
  private startReceive(options: ReceiveOptions | undefined): Promise<never> | null {
    if (this.stopping) return Promise.reject(this.stoppedError('receive'));
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    return null;
  }

  receive(options: ReceiveOptions | undefined): Promise<Message> {
    return mustYield() ? afterTurnCall(this, this.#receive, options) : this.#receive(options);
  }

  #receive(options: ReceiveOptions | undefined): Promise<Message> {
    const refused = this.startReceive(options);
    if (refused) return refused;
    let m: Message | null;
    try { m = this.takeIfFirst(this.code); } catch (e) { return Promise.reject(e); }
    return m !== null ? Promise.resolve(m) : this.waitForInput(options);
  }

  /** The next message if one is queued, the kernel is active (`code`) and no receive waits before this one. */
  private takeIfFirst(code: StateCode): Message | null {
    return code === StateCode.ACTIVE && this.receivers.length === 0 ? this.take() : null;
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
    return mustYield() ? afterTurnCall(this, this.#receiveOrEnd) : this.#receiveOrEnd();
  }

  #receiveOrEnd(): Promise<IteratorResult<Message>> {
    const c = this.code; // one read of the state for both checks
    if (this.released || c === StateCode.TERMINATING || c === StateCode.TERMINATED || c === StateCode.FAILED)
      return Promise.resolve(DONE);
    let m: Message | null;
    try { m = this.takeIfFirst(c); } catch (e) { return Promise.reject(e); }
    if (m !== null) return Promise.resolve({ done: false, value: m });
    // (the waiter resolves with the iterator result itself, and with DONE once stopping:
    // no second promise to map one onto the other)
    const p = waitIn(this.receivers as unknown as Waiter<IteratorResult<Message>>[], undefined, 'receive', this.id, true);
    this.armInput();
    return p;
  }

  /** Hands one queued message to the first waiting receive (a scheduler's turn). */
  deliverOne(): void {
    if (this.receivers.length === 0 || this.code !== StateCode.ACTIVE) return;
    let m: Message | null;
    try { m = this.take(); } catch (e) { settle(this.receivers.shift()!, undefined, e); return; }
    if (m !== null) settle(this.receivers.shift()!, m);
  }

  /**
   * A push into the input ring on this thread. It changes no state, so only what waits for
   * input may go on (stateChanged does the rest, after a state change).
   */
  private inputArrived(): void {
    if (this.receivers.length > 0 || this.inputWaiters.length > 0) this.deliver();
  }

  /** Hands queued messages to waiting receives while the kernel is active. */
  deliver(): void {
    while (this.receivers.length > 0 && this.code === StateCode.ACTIVE) {
      let m: Message | null;
      try { m = this.take(); } catch (e) { settle(this.receivers.shift()!, undefined, e); continue; }
      if (m === null) break;
      settle(this.receivers.shift()!, m);
    }
    // (column receives take their batch in wakeTakers; a GPU pump's wait looks for itself)
    if (this.inputWaiters.length > 0 && this.code === StateCode.ACTIVE && this.hasInput) wakeTakers(this.inputWaiters);
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
    return this.activeWaiters.length > 0 || ((this.receivers.length > 0 || this.inputWaiters.length > 0) && this.hasInput);
  };

  /** Whether deliverToHost() would make progress for waiting host receives now. */
  private readonly outputReady = (): boolean =>
    !this.released && (this.hostReceivers.length > 0 || this.outputWaiters.length > 0) && (this.hostTaken.size > 0 || !this.output.empty || this.hasEnded());

  waitActive(): Promise<void> {
    if (this.code === StateCode.ACTIVE || this.stopping) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.activeWaiters.push(resolve));
    this.armInput();
    return p;
  }

  sendOut(msg: Message, options: SendOptions | undefined): Promise<void> { return paced(this.#sendOut(msg, options)); }

  #sendOut(msg: Message, options: SendOptions | undefined): Promise<void> {
    const t = monotonicNow(); // the send time, and the end of handling the messages in hand
    if (this.holding) this.finishCurrent(t);
    const who = this.sendWho;
    const c = this.code;
    if (this.released || c === StateCode.TERMINATED || c === StateCode.FAILED) return Promise.reject(this.stoppedError('send'));
    try {
      this.checkOutput(msg);
      const route = this.route;
      if (route === null) return this.hub.push(this.output, msg, who, this.id, options?.timeout, this.sendCancelled, timeOrigin + t);
      const p = sendRouted(route, msg, who, options?.timeout, this.sendCancelled, timeOrigin + t);
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
    if (this.holding) this.finishCurrent(monotonicNow());
    if (this.stopping && this.code !== StateCode.TERMINATING) return Promise.reject(this.stoppedError('send'));
    const cls = this.def.output ?? Message;
    for (let i = 0; i < msgs.length; i++) {
      if (msgs[i] instanceof cls) continue;
      try { this.checkOutput(msgs[i]); } catch (e) { return Promise.reject(e); }
    }
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
    return mustYield() ? afterTurnCall(this, this.#hostReceiveMany, max, options) : this.#hostReceiveMany(max, options);
  }

  #hostReceiveMany(max: number, options: ReceiveOptions | undefined): Promise<Message[]> {
    if (!this.released && this.hostReceivers.length === 0 && !options?.signal?.aborted) {
      try {
        const ms = this.hostTakeMany(max);
        if (ms.length > 0) return Promise.resolve(ms);
      } catch (e) { return Promise.reject(e); }
    }
    return this.#hostReceive(options).then((first) => {
      if (max <= 1 || this.released) return [first];
      return this.hostTakeMany(max, [first]);
    });
  }

  /** Host side: the next output message (taken in batches, as the kernel's input), or null. */
  private hostTake(): Message | null {
    if (this.hostTaken.size === 0 && this.hostTaken.fill(this.hub, this.output, HOST_TAKE) === 0) return null;
    return this.hostTaken.shift();
  }

  /** Host side: output messages appended to `out` (up to `max` in it), those taken already first. */
  private hostTakeMany(max: number, out: Message[] = []): Message[] {
    while (out.length < max && this.hostTaken.size > 0) {
      try { out.push(this.hostTaken.shift()); } catch (e) { if (out.length === 0) throw e; } // as popMany: skipped unless alone
    }
    return out.length === max ? out : this.hub.popMany(this.output, max - out.length, null, out);
  }

  /** Throws unless this kernel can take `messages` now: not stopping, each a message of its input class. */
  checkSendable(messages: readonly unknown[]): void {
    if (this.stopping) throw this.stoppedError('send');
    this.checkMessages(messages);
  }

  /**
   * Throws unless each of `messages` is a message of this kernel's input class: one
   * instanceof a message in a loop of its own (a batch's check), checkMessage for the
   * error.
   */
  checkMessages(messages: readonly unknown[]): void {
    const cls = this.def.input ?? Message;
    for (let i = 0; i < messages.length; i++) if (!(messages[i] instanceof cls)) this.checkMessage(messages[i]);
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
  waitInput(options?: ReceiveOptions): Promise<void> {
    return mustYield() ? afterTurnCall(this, this.#waitInput, options) : this.#waitInput(options);
  }

  #waitInput(options?: ReceiveOptions): Promise<void> {
    if (this.stopping || (this.code === StateCode.ACTIVE && !this.input.empty)) return Promise.resolve();
    const p = waitIn(this.inputWaiters, options, 'receive', this.id);
    this.armInput();
    return p;
  }

  // ---- the host's side (runtime.receive) ----

  hostReceive(options: ReceiveOptions | undefined): Promise<Message> {
    return mustYield() ? afterTurnCall(this, this.#hostReceive, options) : this.#hostReceive(options);
  }

  #hostReceive(options: ReceiveOptions | undefined): Promise<Message> {
    if (this.released) return Promise.reject(this.stoppedError('receive'));
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    if (this.hostReceivers.length === 0) {
      try {
        const m = this.hostTake();
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
      if (this.hostReceivers.length > 0 || this.outputWaiters.length > 0) {
        const e = this.stoppedError('receive');
        for (const w of this.hostReceivers.splice(0)) settle(w, undefined, e);
        for (const w of this.outputWaiters.splice(0)) settle(w, undefined, e);
      }
      return;
    }
    while (this.hostReceivers.length > 0) {
      let m: Message | null;
      try { m = this.hostTake(); } catch (e) { settle(this.hostReceivers.shift()!, undefined, e); continue; }
      if (m === null) break;
      settle(this.hostReceivers.shift()!, m);
    }
    // receives of columns take what is left, in wakeTakers
    if (this.outputWaiters.length > 0 && !this.output.empty) wakeTakers(this.outputWaiters);
    const waiting = this.hostReceivers.length > 0 || this.outputWaiters.length > 0;
    const ended = waiting ? this.endedError() : null;
    if (ended) {
      for (const w of this.hostReceivers.splice(0)) settle(w, undefined, ended);
      for (const w of this.outputWaiters.splice(0)) settle(w, undefined, ended);
    } else if (waiting) this.hub.armRemote(this.output, this.outputReady, this.role === 'remote');
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
   * owner), and `ended` resolves. `history`: the restarts it had on a thread that died.
   */
  run(start: () => unknown, restart: CheckedRestartPolicy | undefined, onEnd?: (threw: boolean, error: unknown) => void,
    history?: RestartHistory): void {
    const once = () => { this.#newRun(); return start(); };
    const sink = this.sink;
    void Promise.resolve().then(() => (sink ? supervise(this, restart, once, sink, history) : once())).then(
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
      // (the function's thread must hear terminate; on the owner, terminate calls stateChanged itself)
      if (this.role === 'local') this.armInput();
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

  /**
   * Owner's side: the thread running this kernel (`thread`, its block) died and supervision
   * starts the kernel again on another (js/runtime.ts). What the dead thread held is
   * counted — in the function's hand: interrupted; taken from the queue and not handed
   * out: discarded — and the kernel leaves that thread's scheduler; the queues, what is in
   * them, and the state stay. `ended` waits for the new run (or restartCalledOff).
   */
  threadLost(thread: number): void {
    if (this.released) return;
    this.x.kcb_interrupt_in_hand(this.kcb);
    this.x.kcb_discard_taken(this.kcb);
    this.x.sched_remove(thread, this.kcb);
  }

  /** Owner's side: a restart after threadLost will not happen (the kernel is stopping): its run is over. */
  restartCalledOff(): void { this.#markEnded(); }

  /** Owner's side: the thread running this kernel died; it fails unless it was ending anyway. */
  threadDied(reason: string): void {
    if (this.released) return;
    this.x.kcb_interrupt_in_hand(this.kcb); // what its function held died with the thread
    const c = this.code;
    // (a kernel already marked failed whose error had not arrived yet gets this one)
    if (c !== StateCode.TERMINATED && c !== StateCode.TERMINATING && (c !== StateCode.FAILED || this.error === undefined))
      this.fail(threadDeathError(this.id, reason), c === StateCode.FAILED);
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
    // what the function still holds (it was abandoned, or its thread ended) is interrupted
    this.x.kcb_interrupt_in_hand(this.kcb);
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
        for (const w of this.receivers.splice(0)) settleStopping(w, e);
      }
      wakeTakers(this.inputWaiters); // (a column receive's take rejects it now)
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
      // what it still holds (a GPU kernel's batches on a device that was lost) is interrupted
      if (this.holding || this.#batchesInHand !== 0) this.#interruptInHand();
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

/** What a kernel's thread dying is, as its `failed` or `restarted` event and its receives tell it. */
export function threadDeathError(kernelId: string, reason: string): WorkerThreadDiedError {
  return new WorkerThreadDiedError(`the worker thread running kernel '${kernelId}' died: ${reason}`, { kernelId, operation: 'run' });
}

/** `max` of a column receive: an integer >= 1. */
function checkMax(max: unknown, who: Who): void {
  if (!(typeof max === 'number' && Number.isInteger(max) && max >= 1))
    throw new RangeError(`${who.operation} on kernel '${who.kernelId}': max must be an integer >= 1, got ${String(max)}`);
}

