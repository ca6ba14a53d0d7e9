// transport.ts — the RemoteTransport over NATS JetStream (js/remote.ts has the interface).
// One connection per runtime, made on first use, reconnecting by itself. Sending stores a
// record in the target kernel's mailbox stream with Nats-Msg-Id = the message's id, so a
// retried publish is stored once (within the stream's duplicate window); publishes go out
// up to `publishWindow` at a time and are awaited together.
import type { NatsConnection, ConnectionOptions } from '@nats-io/nats-core';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { OutgoingRecord, PublishOptions, RemoteExposure, RemoteInbox, RemoteTransport } from '../remote.js';
import { KernelNotFoundError, MessageTooLargeError, QueueFullError, RemoteError, RingKernelError } from '../index.js';
import { bandOf, checkNamespace, mailboxNames } from './names.js';
import { Mailbox, type MailboxContext } from './mailbox.js';
import { Redactor, publicServers, urlSecrets } from './redact.js';
import { ENVELOPE, newSenderId, wrapRecord, wrapSkip } from './envelope.js';

export interface NatsRemoteOptions extends Omit<ConnectionOptions, 'servers'> {
  /** Server URLs (default nats://127.0.0.1:4222). Credentials in them stay out of every message. */
  servers?: string | string[];
  /** Separates pipelines sharing a server: kernel ids are looked up within it (default 'ringkernel'). */
  namespace?: string;
  /** An exposed kernel's records taken and not yet acknowledged, at most (default: min(queueSize, 1024)). */
  maxInFlight?: number;
  /** Publishes in flight at once per send (default 1024). */
  publishWindow?: number;
  /** Milliseconds a JetStream request (publish, stream lookup) may take before it counts as failed (default 5000). */
  requestTimeoutMs?: number;
  /** A taken record not acknowledged in this long is offered again, unless this process still works on it (default 30000). */
  ackWaitMs?: number;
  /** Retried publishes of one message id within this many ms are stored once (default 120000). */
  duplicateWindowMs?: number;
  /**
   * An exposed kernel holds back a sender's record that came ahead of an earlier one; if the
   * gap makes no progress for this long (its sender died after a refusal), it is skipped and
   * counted (default 2 × requestTimeoutMs).
   */
  gapTimeoutMs?: number;
  /** How to connect: another transport's connect (wsconnect for browsers, Deno's). Default: @nats-io/transport-node. */
  connect?: (options: ConnectionOptions) => Promise<NatsConnection>;
  /** A connection to use (then it is not closed at shutdown). */
  connection?: NatsConnection;
}

/**
 * What a sender knows of a target's mailbox. `credit` (BLOCK, REJECT): free places the stream
 * had at the last look, less what was published since; a window never goes past it, so a
 * publish that meets a full mailbox has nothing of this sender's behind it in flight: a BLOCK
 * retry keeps the order, and a REJECT refusal leaves exactly the records before it stored.
 * Read again from the stream (one request) when spent.
 */
interface Target {
  stream: string; subjects: string[]; laneSubjects: string[]; strategy: 'block' | 'reject' | 'drop_oldest'; maxMessageSize: number; maxMsgs: number; credit: number;
}

/** This sender's sequence towards one target; kept when the target is looked up again. */
interface Sequence {
  /** The last sequence number given out, per band (js/nats/envelope.ts). */
  seq: number[];
  /** Publishes to one target go one after another: each sender's sequence is one order. */
  turn: Promise<void>;
}

/** One record of a window, wrapped: its band, sequence number, and whether it is stored. */
interface Out { r: OutgoingRecord; band: number; seq: number; data: Uint8Array; stored: boolean }

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(r, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
});

const code = (e: unknown): number | undefined => (e as { code?: unknown })?.code as number | undefined;
const FULL_CODES = new Set([10077, 10078, 10047]); // max messages, max bytes, insufficient resources
const TOO_LARGE = 10054;
/** Seqs per skip notice (8 bytes each: 8 KiB, what the late lane takes at least). */
const SKIP_MAX = 1024;
/** The gap timeout of a DROP_OLDEST mailbox, whose gaps are mostly its own drops. */
const DROP_GAP_MS = 500;

export class NatsTransport implements RemoteTransport {
  readonly description: string;
  readonly namespace: string;
  readonly #options: NatsRemoteOptions;
  readonly #redact: Redactor;
  readonly #requestTimeout: number;
  readonly #window: number;
  /** This transport's sender id: receivers keep each sender's records in its order. */
  readonly #sender = newSenderId();
  #conn: Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> | null = null;
  readonly #targets = new Map<string, Target>();
  readonly #sequences = new Map<string, Sequence>();
  readonly #mailboxes = new Set<Mailbox>();
  #closed = false;

  constructor(options: NatsRemoteOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('natsRemote: options must be an object');
    this.#options = options;
    this.namespace = checkNamespace(options.namespace ?? 'ringkernel');
    this.#redact = new Redactor([options.pass, options.token, ...urlSecrets(options.servers)]);
    this.#requestTimeout = positive(options.requestTimeoutMs ?? 5000, 'requestTimeoutMs');
    this.#window = Math.floor(positive(options.publishWindow ?? 1024, 'publishWindow'));
    positive(options.ackWaitMs ?? 30_000, 'ackWaitMs');
    positive(options.duplicateWindowMs ?? 120_000, 'duplicateWindowMs');
    if (options.gapTimeoutMs !== undefined) positive(options.gapTimeoutMs, 'gapTimeoutMs');
    if (options.maxInFlight !== undefined) positive(options.maxInFlight, 'maxInFlight');
    this.description = `NATS JetStream at ${options.connection ? 'a given connection' : publicServers(options.servers)}, namespace '${this.namespace}'`;
  }

  /** The connection, made on first use; a failed attempt is tried again next time. */
  #connect(operation: string, kernelId?: string) {
    if (this.#closed) return Promise.reject(new RemoteError(`${operation}: the NATS transport is closed`, { operation, kernelId }));
    if (!this.#conn) {
      this.#conn = (async () => {
        const o = this.#options;
        let nc = o.connection;
        if (!nc) {
          const { connection: _c, connect: _k, namespace: _n, maxInFlight: _m, publishWindow: _p, requestTimeoutMs: _r, ackWaitMs: _a, duplicateWindowMs: _d, gapTimeoutMs: _g, ...pass } = o;
          const connect = o.connect ?? (await importPeer<{ connect: NonNullable<NatsRemoteOptions['connect']> }>('@nats-io/transport-node', (name) => import(/* @vite-ignore */ name))).connect;
          nc = await connect({ maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: this.#requestTimeout, name: 'ringkernel', ...pass } as ConnectionOptions);
        }
        // a literal import: a bundler (a browser build) brings the package along; transport-node
        // above stays out of its reach (Node-only, and not needed when `connect` is given)
        const { jetstream, jetstreamManager } = await importPeer<typeof import('@nats-io/jetstream')>('@nats-io/jetstream', () => import('@nats-io/jetstream'));
        const js = jetstream(nc, { timeout: this.#requestTimeout });
        const jsm = await jetstreamManager(nc, { timeout: this.#requestTimeout });
        return { nc, js, jsm };
      })();
      this.#conn.catch(() => { this.#conn = null; });
    }
    return this.#conn.catch((e) => { throw this.#fail(operation, kernelId, e); });
  }

  /** A NATS failure as a RemoteError naming the operation; never a credential in it. */
  #fail(operation: string, kernelId: string | undefined, e: unknown, target?: string): Error {
    if (e instanceof RingKernelError) return e;
    const what = target === undefined ? (kernelId === undefined ? operation : `${operation} (kernel '${kernelId}')`) : `${operation} to 'remote:${target}'${kernelId ? ` from kernel '${kernelId}'` : ''}`;
    return new RemoteError(`${what}: ${this.#redact.error(e)} (${this.description})`, { operation, kernelId });
  }

  async expose(inbox: RemoteInbox): Promise<RemoteExposure> {
    const { js, jsm } = await this.#connect('expose', inbox.kernelId);
    const ctx: MailboxContext = {
      js, jsm, namespace: this.namespace,
      maxInFlight: Math.min(inbox.queueSize, this.#options.maxInFlight ?? 1024),
      ackWaitMs: this.#options.ackWaitMs ?? 30_000,
      duplicateWindowMs: this.#options.duplicateWindowMs ?? 120_000,
      // DROP_OLDEST: a dropped record leaves a gap no sender fills; drops show within 200 ms
      gapMs: Math.min(this.#options.gapTimeoutMs ?? 2 * this.#requestTimeout, inbox.backpressure === 'drop_oldest' ? DROP_GAP_MS : Infinity),
      fail: (operation, kernelId, e) => this.#fail(operation, kernelId, e),
    };
    const mb = new Mailbox(ctx, inbox);
    await mb.start();
    this.#mailboxes.add(mb);
    return { stop: async () => { this.#mailboxes.delete(mb); await mb.stop(); }, order: () => mb.orderStats };
  }

  /** The target's mailbox as its stream describes it; KernelNotFoundError when there is none. */
  async #target(id: string, options: PublishOptions): Promise<Target> {
    const known = this.#targets.get(id);
    if (known) return known;
    const { jsm } = await this.#connect(options.operation, options.from);
    const names = mailboxNames(this.namespace, id);
    let info;
    try { info = await jsm.streams.info(names.stream); } catch (e) {
      if (code(e) === 10059 || (e as Error).name === 'StreamNotFoundError')
        throw new KernelNotFoundError(`${options.operation} to 'remote:${id}': no runtime exposes kernel '${id}' in namespace '${this.namespace}' (no JetStream stream ${names.stream})`, { kernelId: options.from ?? id, operation: options.operation });
      throw this.#fail(options.operation, options.from, e, id);
    }
    const c = info.config;
    const declared = /\((block|reject|drop_oldest)\)$/.exec(c.description ?? '')?.[1] as Target['strategy'] | undefined;
    const maxMsgs = c.max_msgs > 0 ? c.max_msgs : Infinity;
    const t: Target = { stream: names.stream, subjects: names.subjects, laneSubjects: names.laneSubjects, strategy: c.discard === 'old' ? 'drop_oldest' : declared ?? 'block',
      maxMessageSize: c.max_msg_size > 0 ? c.max_msg_size - ENVELOPE : Infinity, maxMsgs, credit: maxMsgs - info.state.messages };
    this.#targets.set(id, t);
    return t;
  }

  async publish(target: string, records: readonly OutgoingRecord[], options: PublishOptions): Promise<void> {
    const t = await this.#target(target, options);
    const { js } = await this.#connect(options.operation, options.from);
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    // one publish to a target at a time: a later one waits until this one's records are stored
    // (or given up), so a sender's sequence never has two windows in flight
    let sq = this.#sequences.get(target);
    if (!sq) this.#sequences.set(target, sq = { seq: [0, 0, 0, 0], turn: Promise.resolve() });
    let done!: () => void;
    const mine = new Promise<void>((r) => { done = r; });
    const before = sq.turn;
    sq.turn = before.then(() => mine);
    if (!(await this.#awaitTurn(before, deadline, options.signal))) {
      done();
      throw Object.assign(new QueueFullError(`${options.operation} to 'remote:${target}': earlier sends to it from this runtime were still waiting for room after ${options.timeout} ms; the message was not stored`,
        { kernelId: options.from ?? target, operation: options.operation }), { enqueued: 0 });
    }
    try { await this.#publishInTurn(js, t, sq, target, records, deadline, options); } finally { done(); }
  }

  /** Waits for the earlier publishes to a target; false when the deadline or the signal came first. */
  async #awaitTurn(before: Promise<void>, deadline: number, signal?: AbortSignal): Promise<boolean> {
    if (deadline === Infinity && !signal) { await before; return true; }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const gaveUp = new Promise<boolean>((r) => {
      if (deadline !== Infinity) timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()));
      onAbort = () => r(false);
      if (signal?.aborted) r(false); else signal?.addEventListener('abort', onAbort, { once: true });
    });
    try { return await Promise.race([before.then(() => true), gaveUp]); } finally { clearTimeout(timer); signal?.removeEventListener('abort', onAbort!); }
  }

  async #publishInTurn(js: JetStreamClient, t: Target, sq: Sequence, target: string, records: readonly OutgoingRecord[], deadline: number, options: PublishOptions): Promise<void> {
    let stored = 0;
    for (let i = 0, size = 0; i < records.length; i += size) {
      size = Math.min(this.#window, records.length - i);
      if (t.strategy !== 'drop_oldest') size = Math.min(size, await this.#credit(t, size, options));
      const chunk = records.slice(i, i + size);
      for (const r of chunk) {
        if (r.bytes.length > t.maxMessageSize) {
          throw Object.assign(new MessageTooLargeError(`${options.operation} to 'remote:${target}': the message encodes to ${r.bytes.length} bytes, over the remote kernel's maxMessageSize of ${t.maxMessageSize}; it was not sent`,
            { kernelId: options.from ?? target, operation: options.operation, size: r.bytes.length, limit: t.maxMessageSize }), { enqueued: stored });
        }
      }
      // numbered per band; the floor (the band's first seq in this window) is where a receiver
      // meeting this sender for the first time starts: everything before it is stored
      const floor: (number | undefined)[] = [];
      const outs: Out[] = chunk.map((r) => {
        const band = bandOf(r.priority), seq = ++sq.seq[band]!;
        floor[band] ??= seq;
        return { r, band, seq, data: wrapRecord(r.bytes, this.#sender, seq, floor[band]!), stored: false };
      });
      const results = await Promise.allSettled(outs.map((o) => js.publish(t.subjects[o.band]!, o.data, { msgID: o.r.messageId, timeout: this.#requestTimeout })));
      results.forEach((res, k) => { outs[k]!.stored = res.status === 'fulfilled'; });
      // a message id stored before (a retried send) is not stored again: its seq here never
      // comes, and the receiver is told not to wait for it
      const repeats = outs.filter((o, k) => o.stored && (results[k] as PromiseFulfilledResult<{ duplicate?: boolean }>).value?.duplicate === true);
      if (repeats.length > 0) this.#giveUp(js, t, repeats, true);
      for (let k = 0; k < outs.length; k++) {
        const o = outs[k]!, res = results[k]!;
        if (o.stored) { stored++; continue; }
        // refused or unanswered. When later records of its band in this window are (or may be:
        // unanswered) stored, it goes to the late lane, which a full mailbox cannot keep it out
        // of (the receiver holds those later ones back for it); otherwise it is tried again on
        // its subject, in order. A REJECT mailbox's refusal stands.
        const refused = FULL_CODES.has(code((res as PromiseRejectedResult).reason) ?? 0);
        const late = !(refused && t.strategy === 'reject') &&
          outs.some((x, j) => j > k && x.band === o.band && (x.stored || !FULL_CODES.has(code((results[j] as PromiseRejectedResult).reason) ?? 0)));
        try {
          await this.#publishOne(t, target, o, late, (res as PromiseRejectedResult).reason, deadline, options);
          o.stored = true;
          stored++;
        } catch (e) {
          // given up: the receiver is told not to wait for this window's records that are not stored
          this.#giveUp(js, t, outs.slice(k));
          // enqueued: the first `stored` are in; later ones of this window may be too, and a
          // retry from there (the same ids) stores them once
          throw Object.assign(e as Error, { enqueued: stored });
        }
      }
    }
  }

  /**
   * A skip notice on the late lane, per band, for these records (those not stored, or `all`):
   * best effort (else the receiver's gap timeout).
   */
  #giveUp(js: JetStreamClient, t: Target, outs: readonly Out[], all = false): void {
    for (let band = 0; band < t.subjects.length; band++) {
      const skip = outs.filter((o) => o.band === band && (all || !o.stored));
      // up to SKIP_MAX seqs a notice: the lane takes messages of 8 KiB and more
      for (let i = 0; i < skip.length; i += SKIP_MAX)
        js.publish(t.laneSubjects[band]!, wrapSkip(this.#sender, skip.slice(i, i + SKIP_MAX).map((o) => o.seq)), { timeout: this.#requestTimeout }).catch(() => {});
    }
  }

  /** How many records may go out now to a bounded mailbox (at least 1: a full one refuses it). */
  async #credit(t: Target, wanted: number, options: PublishOptions): Promise<number> {
    if (t.credit < wanted) {
      try {
        const { jsm } = await this.#connect(options.operation, options.from);
        const info = await jsm.streams.info(t.stream);
        t.maxMsgs = info.config.max_msgs > 0 ? info.config.max_msgs : Infinity; // re-exposed with another queueSize?
        t.credit = t.maxMsgs - info.state.messages;
      } catch { t.credit = 0; } // unanswered: one at a time, the publish reports it
    }
    const n = Math.max(1, Math.min(wanted, t.credit));
    t.credit -= n;
    return n;
  }

  /**
   * One record, after its first try failed with `error`: waits while full (BLOCK), retries while
   * unanswered; `late`: to the late lane, where a full mailbox does not keep it out.
   */
  async #publishOne(t: Target, target: string, o: Out, late: boolean, error: unknown, deadline: number, options: PublishOptions): Promise<void> {
    const r = o.r;
    let subject = late ? t.laneSubjects[o.band]! : t.subjects[o.band]!;
    let first = late; // the lane is tried at once; errors from here on are its own
    const { js } = await this.#connect(options.operation, options.from);
    const who = { kernelId: options.from ?? target, operation: options.operation };
    let backoff = 1;
    // a dead server must turn into an error: unanswered tries end after requestTimeoutMs more
    let unansweredSince = Date.now();
    for (;;) {
      if (first) { first = false; try { await js.publish(subject, o.data, { msgID: r.messageId, timeout: this.#requestTimeout }); return; } catch (e) { error = e; } }
      const c = code(error);
      if (c === TOO_LARGE) throw new MessageTooLargeError(`${options.operation} to 'remote:${target}': the remote mailbox refused the message as too large (${r.bytes.length} bytes)`, { ...who, size: r.bytes.length, limit: t.maxMessageSize });
      const full = c !== undefined && FULL_CODES.has(c);
      if (full) {
        unansweredSince = Date.now();
        if (t.strategy === 'reject' && !late) throw new QueueFullError(`${options.operation} to 'remote:${target}': its mailbox is full (${this.description}) and it rejects when full; the message was not stored`, who);
        if (Date.now() >= deadline) throw new QueueFullError(`${options.operation} to 'remote:${target}': its mailbox stayed full for ${options.timeout} ms; the message was not stored`, who);
      } else if ((error as Error)?.name === 'JetStreamNotEnabled' || /no responders/i.test(String((error as Error)?.message))) {
        // nobody answers on the subject: the stream is gone (or the server lost JetStream);
        // a late lane missing (a mailbox made by an older version) leaves the record to its subject
        if (late) { late = false; subject = t.subjects[o.band]!; }
        this.#targets.delete(target);
        if (Date.now() - unansweredSince > this.#requestTimeout) throw new KernelNotFoundError(`${options.operation} to 'remote:${target}': no JetStream stream answers for kernel '${target}' in namespace '${this.namespace}' (was it exposed? ${this.description})`, who);
      } else if (Date.now() - unansweredSince > this.#requestTimeout || Date.now() >= deadline || this.#closed) {
        throw this.#fail(options.operation, options.from, error, target);
      }
      if (options.signal?.aborted) throw this.#fail(options.operation, options.from, options.signal.reason ?? new Error('aborted'), target);
      await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())), options.signal);
      backoff = Math.min(backoff * 2, full ? 50 : 250);
      try {
        await js.publish(subject, o.data, { msgID: r.messageId, timeout: this.#requestTimeout });
        return;
      } catch (e) { error = e; }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#mailboxes].map((m) => m.stop()));
    this.#mailboxes.clear();
    const conn = this.#conn;
    this.#conn = null;
    if (!conn || this.#options.connection) return;
    let nc: NatsConnection;
    try { ({ nc } = await conn); } catch { return; }
    // drain flushes acknowledgements and publishes under way; a server that is gone cannot
    // be drained: closed after requestTimeoutMs
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([nc.drain().then(() => true, () => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), this.#requestTimeout); })]);
    clearTimeout(timer);
    if (!drained && !nc.isClosed()) await nc.close().catch(() => {});
  }
}

function positive(v: unknown, name: string): number {
  if (typeof v === 'number' && v > 0 && Number.isFinite(v)) return v;
  throw new RangeError(`natsRemote: ${name} must be a positive number, got ${String(v)}`);
}

async function importPeer<T>(name: string, load: (name: string) => Promise<unknown>): Promise<T> {
  try {
    return await load(name) as T;
  } catch (e) {
    throw new RingKernelError(`ringkernel/nats needs the optional peer dependency ${name}: npm install @nats-io/transport-node @nats-io/jetstream (${e instanceof Error ? e.message : String(e)})`, { operation: 'connect' });
  }
}
