// remote.ts — kernels of other runtimes (processes, machines) as targets ('remote:<id>'), and
// this runtime's kernels exposed to them. The core knows only the RemoteTransport interface
// below; a transport (ringkernel/nats is one) moves record bytes between runtimes and keeps
// each exposed kernel's mailbox. This file does the rest, the same for every transport:
// - an exposed kernel's Inbox validates each record that arrives (the wasm core: the bytes
//   are untrusted), pushes it into the kernel's input ring, and acknowledges it to the
//   transport once the kernel has handled it (as telemetry counts it: the kernel asked for
//   its next message, sent one, or returned);
// - a kernel connected to remote targets keeps sending into its own output ring, and an
//   Outbox on this (the owner's) thread drains that ring and publishes. A worker kernel's
//   messages take the same path: the ring, then the owner. There is no second data path.
import { Message, sentAt } from './message/message.js';
import { encodeMessage } from './message/encode.js';
import { validate } from './core/codec-core.js';
import { wordsToUuid } from './message/uuid.js';
import { epochNow } from './platform.js';
import { H_ID, H_PRIORITY } from './message/record.js';
import { Status } from './core/core.js';
import type { KernelInstance } from './kernel/instance.js';
import type { BackpressureStrategy } from './kernel/state.js';
import type { ConnectOptions } from './runtime.js';
import { keyOfField, shareOut, type RouteShape } from './kernel/routing.js';
import { KernelStateError, MessageDecodeError, MessageTooLargeError, QueueFullError, RemoteError, RingKernelError } from './errors.js';

/** Targets that start with this are kernels another runtime exposes: 'remote:compute'. */
export const REMOTE_PREFIX = 'remote:';
export const isRemoteTarget = (id: unknown): id is string => typeof id === 'string' && id.startsWith(REMOTE_PREFIX);

/** One encoded message on its way to a remote mailbox. */
export interface OutgoingRecord {
  readonly bytes: Uint8Array;
  /** The message's id: a transport uses it to deduplicate retried publishes. */
  readonly messageId: string;
  readonly priority: number;
}

export interface PublishOptions {
  /** BLOCK targets: ms to wait while the mailbox is full (undefined: as long as it takes). */
  timeout?: number;
  /** For errors: 'send', and the sending kernel when a kernel sends. */
  operation: string;
  from?: string;
  /** Stops waiting (shutdown, disconnect). */
  signal?: AbortSignal;
}

/** A record taken from an exposed kernel's mailbox: untrusted bytes, and how to settle them. */
export interface InboxRecord {
  readonly bytes: Uint8Array;
  /** The mailbox may forget it: the kernel has handled it. */
  ack(): void;
  /** A record that can never be delivered (malformed): the mailbox must not offer it again. */
  reject(reason: string): void;
}

/** What a transport feeds: one exposed kernel's input. */
export interface RemoteInbox {
  readonly kernelId: string;
  readonly queueSize: number;
  readonly backpressure: BackpressureStrategy;
  readonly maxMessageSize: number;
  /**
   * Hands over the next record of the mailbox, in mailbox order per priority band. Resolves
   * once it is in the kernel's input queue, or settled without it (malformed: rejected;
   * a repeat of one the kernel has: acknowledged with it). Never rejects.
   */
  deliver(record: InboxRecord): Promise<void>;
  /** The mailbox discarded `n` messages nobody had taken (DROP_OLDEST): counted as dropped. */
  dropped(n: number): void;
}

export interface RemoteExposure {
  /** Stops taking records; what was taken and not acknowledged goes to the next exposure. */
  stop(): Promise<void>;
  /** How the transport kept each sender's order (InboxStats' heldBack, gapsSkipped, late; repeats it dropped). */
  order?(): { heldBack: number; skipped: number; givenUp: number; late: number; duplicates: number };
}

/** How a runtime reaches other runtimes. `natsRemote()` (ringkernel/nats) makes one. */
export interface RemoteTransport {
  /** For messages: what it is connected to, never credentials. */
  readonly description: string;
  /** Makes (or finds) the mailbox of `inbox.kernelId` and starts feeding it. */
  expose(inbox: RemoteInbox): Promise<RemoteExposure>;
  /**
   * Stores `records`, in order, in the mailbox of kernel `target` (its id, no prefix) that
   * another runtime exposes. Resolves once all are stored. Rejects with QueueFullError (a
   * REJECT mailbox is full, or a BLOCK one stayed full for `timeout`), KernelNotFoundError
   * (no runtime exposes it), MessageTooLargeError, or RemoteError (the transport failed or
   * did not answer in time); the error's `enqueued` says how many records, from the first,
   * are stored (later ones may be too: sent again with the same ids, they are stored once).
   */
  publish(target: string, records: readonly OutgoingRecord[], options: PublishOptions): Promise<void>;
  /** Finishes what is under way (drains) and disconnects. */
  close(): Promise<void>;
}

/** Counters of one exposed kernel's inbox (runtime.remoteStats()). */
export interface InboxStats {
  kernelId: string;
  /** Records put into the kernel's input queue. */
  delivered: number;
  /** Records acknowledged to the mailbox once handled. */
  acknowledged: number;
  /** Handled by the kernel and not yet acknowledged, plus those in its queue: in flight. */
  inFlight: number;
  /** Records offered again while the kernel had them, or after it handled them: not delivered twice. */
  repeatsSkipped: number;
  /** Records that came ahead of an earlier one of their sender and were held back for it (per-sender order). */
  heldBack: number;
  /** Records a held-back one waited for in vain for the gap timeout (their sender died after a refusal): skipped. */
  gapsSkipped: number;
  /** Skipped records that came after all: handed over, out of their sender's order. */
  late: number;
  /** Malformed records (refused by the core's validator), never delivered. */
  badRecords: number;
  lastBadRecord: string | null;
  /** Messages the mailbox discarded (DROP_OLDEST). */
  dropped: number;
}

/** Counters of one kernel's sends to remote targets (runtime.remoteStats()). */
export interface OutboxStats {
  kernelId: string;
  targets: string[];
  /** Messages stored in a remote mailbox. */
  published: number;
  /** Refused by a full REJECT mailbox, too large, or left unsent at shutdown. */
  refused: number;
  /** Publishes that failed and were retried (remote not reachable or not exposed yet). */
  retries: number;
  lastError: string | null;
}

export interface RemoteStats { exposed: InboxStats[]; forwarding: OutboxStats[] }

/** What the bridge needs from its runtime. */
export interface BridgeHost {
  kernel(id: string, operation: string): KernelInstance;
  /** Calls `sink` with the ids of messages `inst` has handled (null: stop). Worker kernels report from their thread. */
  watchHandled(inst: KernelInstance, sink: ((messageIds: string[]) => void) | null): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The message id of a record (its header's id bytes), as Message.messageId formats it. */
function recordMessageId(b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset + H_ID, 16);
  return wordsToUuid(dv.getUint32(0), dv.getUint32(4), dv.getUint32(8), dv.getUint32(12));
}

/** How many handled ids an inbox remembers, to recognise a record offered again after its ack was lost. */
const REMEMBERED = 8192;

class Inbox implements RemoteInbox {
  readonly kernelId: string;
  readonly queueSize: number;
  readonly backpressure: BackpressureStrategy;
  readonly maxMessageSize: number;
  readonly stats: InboxStats;
  exposure: RemoteExposure | null = null;
  stopped = false;
  readonly #inst: KernelInstance;
  /** Records in the kernel's queue or hands, by message id (a repeat offered meanwhile joins its entry). */
  readonly #pending = new Map<string, InboxRecord[]>();
  readonly #handled = new Set<string>();
  readonly #handledOrder: string[] = [];
  #handledNext = 0;

  constructor(inst: KernelInstance) {
    this.#inst = inst;
    this.kernelId = inst.id;
    this.queueSize = inst.def.queueSize;
    this.backpressure = inst.def.backpressure;
    this.maxMessageSize = inst.def.maxMessageSize;
    this.stats = { kernelId: inst.id, delivered: 0, acknowledged: 0, inFlight: 0, repeatsSkipped: 0, heldBack: 0, gapsSkipped: 0, late: 0, badRecords: 0, lastBadRecord: null, dropped: 0 };
  }

  async deliver(rec: InboxRecord): Promise<void> {
    const inst = this.#inst;
    const bytes = rec.bytes;
    const expected = inst.def.input;
    try {
      if (bytes.length > inst.input.maxRecord)
        throw new MessageDecodeError(`a record of ${bytes.length} bytes is over kernel '${inst.id}''s maxMessageSize of ${inst.input.maxRecord}`);
      validate(bytes, expected?.typeId ?? null, expected?.typeName ?? null);
    } catch (e) {
      this.stats.badRecords++;
      this.stats.lastBadRecord = e instanceof Error ? e.message : String(e);
      // kept as its bytes with the decode error, as records that fail on their way in from a worker are
      const error = e instanceof Error ? e : new MessageDecodeError(String(e), { kernelId: inst.id, operation: 'receive' });
      inst.record?.deadLetter({ kernelId: inst.id, message: bytes.slice(), error, at: epochNow() });
      rec.reject(this.stats.lastBadRecord);
      return;
    }
    const id = recordMessageId(bytes);
    const waiting = this.#pending.get(id);
    if (waiting) { waiting.push(rec); this.stats.repeatsSkipped++; return; }
    if (this.#handled.has(id)) { rec.ack(); this.stats.repeatsSkipped++; return; }
    // the transport offers no more than its in-flight bound, below the queue's capacity;
    // room can still be short when local senders fill the same queue: wait for it
    const ring = inst.input;
    while (!this.stopped && !inst.stopping && ring.depth >= this.queueSize) await sleep(1);
    if (this.stopped || inst.stopping) return; // not acknowledged: offered again to the next exposure
    if (ring.push(bytes, bytes[H_PRIORITY]!) !== Status.OK) return; // closed meanwhile (the kernel is stopping)
    this.#pending.set(id, [rec]);
    this.stats.delivered++;
    this.stats.inFlight++;
    inst.hub.wake(ring);
  }

  /** The kernel handled these messages: their records are acknowledged. */
  handled(ids: readonly string[]): void {
    for (const id of ids) {
      const recs = this.#pending.get(id);
      if (recs === undefined) continue; // a local send, not a remote record
      this.#pending.delete(id);
      for (const r of recs) r.ack();
      this.stats.acknowledged++;
      this.stats.inFlight--;
      this.#remember(id);
    }
  }

  #remember(id: string): void {
    const old = this.#handledOrder[this.#handledNext];
    if (old !== undefined) this.#handled.delete(old);
    this.#handledOrder[this.#handledNext] = id;
    this.#handledNext = (this.#handledNext + 1) % REMEMBERED;
    this.#handled.add(id);
  }

  dropped(n: number): void {
    if (!(n > 0)) return;
    this.stats.dropped += n;
    const inst = this.#inst;
    if (!inst.released) inst.hub.core.x.queue_note_dropped(inst.input.ptr, n);
  }
}

interface OutboxRoute extends RouteShape { readonly targets: string[] }

/** Largest batch an outbox publishes at once. */
const OUTBOX_BATCH = 1024;

/**
 * Publishes what a kernel connected to remote targets sends: its output ring, drained on
 * this thread, in order. While a BLOCK target's mailbox is full the publish waits, the
 * output ring fills, and the kernel's own send waits: backpressure reaches the sender.
 */
class Outbox {
  readonly stats: OutboxStats;
  readonly #inst: KernelInstance;
  readonly #route: OutboxRoute;
  readonly #transport: RemoteTransport;
  readonly #abort = new AbortController();
  #draining = false;
  /** Publishing a batch (not waiting for the kernel's next sends). */
  #busy = false;
  readonly done: Promise<void>;

  constructor(inst: KernelInstance, route: OutboxRoute, transport: RemoteTransport) {
    this.#inst = inst;
    this.#route = route;
    this.#transport = transport;
    this.stats = { kernelId: inst.id, targets: route.targets.map((t) => REMOTE_PREFIX + t), published: 0, refused: 0, retries: 0, lastError: null };
    this.done = this.#run();
  }

  /** Stops now: what is in the output ring stays there. */
  stop(): void { this.#abort.abort(new RingKernelError(`kernel '${this.#inst.id}' was disconnected from its remote targets`, { kernelId: this.#inst.id, operation: 'disconnect' })); }

  /** Publishes what is in the output ring, then stops; gives up after `timeout` ms. */
  async drain(timeout: number): Promise<void> {
    this.#draining = true;
    if (this.#inst.released || (!this.#busy && this.#inst.output.empty)) this.stop();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.done, new Promise<void>((r) => { timer = setTimeout(r, timeout); })]);
    clearTimeout(timer);
    this.stop();
    await this.done;
  }

  async #run(): Promise<void> {
    const inst = this.#inst;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let msgs: Message[];
      try {
        msgs = await inst.hostReceiveMany(OUTBOX_BATCH, { signal });
      } catch {
        return; // stopped, or the kernel ended and its output is empty
      }
      this.#busy = true;
      const shares = this.#share(msgs);
      for (const [target, share] of shares) {
        const records = share.map((m) => ({ bytes: encodeMessage(m, { timestamp: sentAt(m) }), messageId: m.messageId, priority: m.priority }));
        await this.#publish(target, records);
      }
      this.#busy = false;
      if (this.#draining && inst.output.empty) return;
    }
  }

  /** Each target's share, as a local connect shares them out (js/kernel/routing.ts). */
  #share(msgs: Message[]): [string, readonly Message[]][] {
    const ts = this.#route.targets;
    return (shareOut(this.#route, msgs) ?? []).map((share, i) => [ts[i]!, share] as [string, readonly Message[]]).filter(([, share]) => share.length > 0);
  }

  /** Publishes one target's share; retries what failed (same ids: the mailbox deduplicates) until stopped. */
  async #publish(target: string, records: readonly OutgoingRecord[]): Promise<void> {
    const signal = this.#abort.signal;
    let rest = records, backoff = 10;
    while (rest.length > 0) {
      try {
        await this.#transport.publish(target, rest, { operation: 'send', from: this.#inst.id, signal });
        this.stats.published += rest.length;
        return;
      } catch (e) {
        const enqueued = (e as { enqueued?: number }).enqueued ?? 0;
        this.stats.published += enqueued;
        rest = rest.slice(enqueued);
        this.stats.lastError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        if (signal.aborted) { this.stats.refused += rest.length; return; }
        if (e instanceof QueueFullError || e instanceof MessageTooLargeError) {
          // a REJECT mailbox refused it (or it can never fit): counted, not retried
          this.stats.refused++;
          rest = rest.slice(1);
          continue;
        }
        this.stats.retries++;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 1000);
      }
    }
  }
}

/** The runtime's side of remote kernels: inboxes of exposed kernels, outboxes of connected ones. */
export class RemoteBridge {
  readonly transport: RemoteTransport;
  readonly #host: BridgeHost;
  readonly #inboxes = new Map<string, Inbox>();
  /** Inboxes no longer taking records whose kernel may still handle some (terminate with drain). */
  readonly #retired = new Map<string, Inbox>();
  readonly #outboxes = new Map<string, Outbox>();

  constructor(transport: RemoteTransport, host: BridgeHost) {
    if (!transport || typeof transport.expose !== 'function' || typeof transport.publish !== 'function' || typeof transport.close !== 'function')
      throw new TypeError('RingKernelRuntime: remote must be a remote transport, e.g. natsRemote({ servers }) from ringkernel/nats');
    this.transport = transport;
    this.#host = host;
  }

  async expose(id: string): Promise<void> {
    const inst = this.#host.kernel(id, 'expose');
    if (inst.stopping) throw new KernelStateError(`expose: kernel '${id}' is ${inst.state}`, { kernelId: id, operation: 'expose', state: inst.state });
    if (this.#inboxes.has(id)) throw new KernelStateError(`expose: kernel '${id}' is already exposed`, { kernelId: id, operation: 'expose', state: inst.state });
    if (inst.def.placement === 'gpu') throw new RingKernelError(`expose: kernel '${id}' is a GPU kernel; expose an inline or worker kernel that feeds it`, { kernelId: id, operation: 'expose' });
    const inbox = new Inbox(inst);
    this.#inboxes.set(id, inbox);
    try {
      await this.#host.watchHandled(inst, (ids) => inbox.handled(ids));
      inbox.exposure = await this.transport.expose(inbox);
    } catch (e) {
      this.#inboxes.delete(id);
      inbox.stopped = true;
      await this.#host.watchHandled(inst, null).catch(() => {});
      throw e;
    }
  }

  isExposed(id: string): boolean { return this.#inboxes.has(id); }

  /** Worker kernels' handled ids, reported from their thread. */
  handled(id: string, ids: string[]): void { (this.#inboxes.get(id) ?? this.#retired.get(id))?.handled(ids); }

  /** The kernel's memory is released: nothing more of it can be handled. */
  released(id: string): void { this.#retired.delete(id); this.disconnect(id); }

  /** A kernel stops (terminate, failure, shutdown): its inbox stops taking records. */
  async unexpose(id: string): Promise<void> {
    const inbox = this.#inboxes.get(id);
    if (!inbox) return;
    this.#inboxes.delete(id);
    this.#retired.set(id, inbox);
    inbox.stopped = true;
    await inbox.exposure?.stop();
  }

  send(target: string, messages: readonly Message[], timeout: number | undefined, operation = 'send'): Promise<void> {
    const id = target.slice(REMOTE_PREFIX.length);
    if (id.length === 0) return Promise.reject(new TypeError(`${operation}: '${target}' names no kernel (use 'remote:<kernel id>')`));
    const records: OutgoingRecord[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      if (!(m instanceof Message)) return Promise.reject(new TypeError(`${operation} to '${target}': ${messages.length > 1 ? `item ${i} is` : 'expected'} a message (made by a message() class)${messages.length > 1 ? ' not' : ''}`));
      records.push({ bytes: encodeMessage(m), messageId: m.messageId, priority: m.priority });
    }
    if (timeout !== undefined && !(timeout >= 0)) return Promise.reject(new RangeError(`${operation} to '${target}': timeout must be a number of milliseconds >= 0, got ${String(timeout)}`));
    return this.transport.publish(id, records, { timeout, operation });
  }

  /** connect(from, ['remote:a', ...]): from's output ring is published to those kernels. */
  connect(inst: KernelInstance, targets: readonly string[], options: ConnectOptions): void {
    const ids = targets.map((t) => t.slice(REMOTE_PREFIX.length));
    if (ids.some((t) => t.length === 0)) throw new TypeError(`connect: kernel '${inst.id}': a remote target needs a kernel id ('remote:<id>')`);
    if (this.#outboxes.has(inst.id)) throw new KernelStateError(`connect: kernel '${inst.id}' is already connected to remote kernels; disconnect it first`, { kernelId: inst.id, operation: 'connect', state: inst.state });
    const asked = options.mode ?? 'round-robin';
    if (asked !== 'round-robin' && asked !== 'broadcast' && asked !== 'key') throw new TypeError(`connect '${inst.id}': mode must be 'round-robin', 'broadcast' or 'key', got ${JSON.stringify(asked)}`);
    const keyField = options.keyField;
    if (asked === 'key' && typeof options.key !== 'function' && typeof keyField !== 'string') throw new TypeError(`connect '${inst.id}': mode 'key' needs a key function or a keyField`);
    const mode = ids.length === 1 ? 'one' : asked;
    const key = options.key ?? (keyField === undefined ? undefined : keyOfField(keyField));
    this.#outboxes.set(inst.id, new Outbox(inst, { targets: ids, mode, key, next: 0 }, this.transport));
  }

  isForwarding(id: string): boolean { return this.#outboxes.has(id); }

  disconnect(id: string): boolean {
    const o = this.#outboxes.get(id);
    if (!o) return false;
    this.#outboxes.delete(id);
    o.stop();
    return true;
  }

  /** Publishes what connected kernels have sent (up to `timeout` ms); run before their kernels stop. */
  async drainOutboxes(timeout: number): Promise<void> {
    await Promise.all([...this.#outboxes.values()].map((o) => o.drain(timeout)));
    this.#outboxes.clear();
  }

  async stopInboxes(): Promise<void> {
    await Promise.all([...this.#inboxes.keys()].map((id) => this.unexpose(id)));
  }

  stats(): RemoteStats {
    return {
      exposed: [...this.#inboxes.values()].map((i) => {
        const o = i.exposure?.order?.();
        return o ? { ...i.stats, repeatsSkipped: i.stats.repeatsSkipped + o.duplicates, heldBack: o.heldBack, gapsSkipped: o.skipped, late: o.late } : { ...i.stats };
      }),
      forwarding: [...this.#outboxes.values()].map((o) => ({ ...o.stats, targets: [...o.stats.targets] })),
    };
  }

  async close(): Promise<void> {
    for (const o of this.#outboxes.values()) o.stop();
    this.#outboxes.clear();
    await this.stopInboxes();
    try { await this.transport.close(); } catch (e) {
      throw e instanceof RingKernelError ? e : new RemoteError(`shutdown: closing the remote transport failed: ${e instanceof Error ? e.message : String(e)}`, { operation: 'shutdown' });
    }
  }
}
