// mailbox.ts — the JetStream side of an exposed kernel: its mailbox stream (work-queue
// retention, max_msgs = the kernel's queueSize, discard new for BLOCK and REJECT, old for
// DROP_OLDEST) and one pull consumer per priority band, feeding the runtime's inbox; beside
// it the late lane, a second stream where a sender stores a record that came after later ones
// of its own, and its skip notices (js/nats/order.ts puts each sender's records in order).
//
// In flight: each band's consumer has max_ack_pending = ceil(maxInFlight / 4), so at most
// maxInFlight records are taken and not yet acknowledged; a record is acknowledged once the
// kernel has handled it (js/remote.ts). What a dead process had taken is offered again to
// the next exposure: that, at most maxInFlight records, is all that can come twice.
// Priorities: every band is pulled, within one in-flight budget; a place that frees goes to
// the highest band waiting for one, what has arrived is handed over highest band first, and
// the kernel's ring hands out highest first too.
// Order: a record held back for an earlier one of its sender stays unacknowledged (it keeps
// its place in the mailbox, and a crash loses nothing). The earlier one comes through the
// late lane, which is read outside that budget and is not the bounded mailbox: so a mailbox
// full of held-back records cannot keep out the record they wait for.
import type { JetStreamClient, JetStreamManager, JsMsg, ConsumerMessages, StreamConfig } from '@nats-io/jetstream';
import type { RemoteExposure, RemoteInbox } from '../remote.js';
import { BANDS, mailboxNames, type MailboxNames } from './names.js';
import { ENVELOPE, RECORD, SKIP, readEnvelope, skippedSeqs } from './envelope.js';
import { Orderer } from './order.js';

/** What the mailbox needs of its transport (js/nats/transport.ts). */
export interface MailboxContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  namespace: string;
  maxInFlight: number;
  ackWaitMs: number;
  duplicateWindowMs: number;
  /** A gap in a sender's sequence that makes no progress for this long is skipped (js/nats/order.ts). */
  gapMs: number;
  /** Turns a NATS error into one that names the operation and holds no secrets. */
  fail(operation: string, kernelId: string, e: unknown): Error;
}

const ms = (n: number) => n * 1_000_000; // JetStream durations are nanoseconds

/** The description a mailbox stream carries: senders read the backpressure strategy from it. */
export function mailboxDescription(inbox: Pick<RemoteInbox, 'kernelId' | 'backpressure'>): string {
  return `ringkernel mailbox of kernel ${JSON.stringify(inbox.kernelId)} (${inbox.backpressure})`;
}

export function mailboxConfig(names: MailboxNames, inbox: RemoteInbox, duplicateWindowMs: number): Partial<StreamConfig> & { name: string } {
  return {
    name: names.stream,
    subjects: names.subjects,
    description: mailboxDescription(inbox),
    retention: 'workqueue' as StreamConfig['retention'],
    storage: 'file' as StreamConfig['storage'],
    discard: (inbox.backpressure === 'drop_oldest' ? 'old' : 'new') as StreamConfig['discard'],
    max_msgs: inbox.queueSize,
    max_msg_size: inbox.maxMessageSize + ENVELOPE,
    duplicate_window: ms(duplicateWindowMs),
    num_replicas: 1,
  };
}

/** What the late lane may hold: records of senders' windows stored out of turn, and skip notices. */
const LANE_CAPACITY = 65536;

export function laneConfig(names: MailboxNames, inbox: RemoteInbox, duplicateWindowMs: number): Partial<StreamConfig> & { name: string } {
  return {
    name: names.lane,
    subjects: names.laneSubjects,
    description: `ringkernel late lane of kernel ${JSON.stringify(inbox.kernelId)}`,
    retention: 'workqueue' as StreamConfig['retention'],
    storage: 'file' as StreamConfig['storage'],
    discard: 'new' as StreamConfig['discard'],
    max_msgs: LANE_CAPACITY,
    max_msg_size: Math.max(inbox.maxMessageSize + ENVELOPE, ENVELOPE + 8 * 1024),
    duplicate_window: ms(duplicateWindowMs),
    num_replicas: 1,
  };
}

/** A record taken from the mailbox (or the late lane), until it is settled. */
interface Taken { readonly msg: JsMsg; readonly bytes: Uint8Array; readonly lane: boolean; readonly from: number }

export class Mailbox implements RemoteExposure {
  readonly #ctx: MailboxContext;
  readonly #inbox: RemoteInbox;
  readonly #names: MailboxNames;
  readonly #iterators: ConsumerMessages[] = [];
  /** Records in order, ready to hand over, per band. */
  readonly #bands: Taken[][] = Array.from({ length: BANDS }, () => []);
  readonly #order: Orderer<Taken>;
  #gapTimer: ReturnType<typeof setInterval> | undefined;
  /** Taken and not acknowledged yet, with when (for in-progress acks before ack_wait runs out). */
  readonly #unacked = new Map<Taken, number>();
  #wake: (() => void) | null = null;
  #stopped = false;
  #pump: Promise<void> = Promise.resolve();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #drops: DropCounter | null = null;
  /** Records read from the consumers and not settled (acknowledged) yet: at most maxInFlight. */
  #taken = 0;
  /** The last stream sequences of the mailbox and the late lane when this exposure began. */
  #lastBefore = 0;
  #laneLastBefore = 0;
  /** Lane messages read so far (the lane's backlog is read before the mailbox at start). */
  #laneRead = 0;
  #laneWake: (() => void) | null = null;
  /** Per consumer (the bands, then the lane): messages it yielded here and not settled. */
  readonly #yielded = new Array<number>(BANDS + 1).fill(0);
  #checking = false;
  /** Band readers waiting for room, per band: the highest band waiting gets it first. */
  readonly #roomWaiters: (() => void)[][] = Array.from({ length: BANDS }, () => []);

  constructor(ctx: MailboxContext, inbox: RemoteInbox) {
    this.#ctx = ctx;
    this.#inbox = inbox;
    this.#names = mailboxNames(ctx.namespace, inbox.kernelId);
    this.#order = new Orderer<Taken>(BANDS, ctx.gapMs, (band, t) => this.#ready(band, t), (t) => this.#settle(t));
  }

  get orderStats() { return { ...this.#order.stats, holding: this.#order.holding }; }

  async start(): Promise<void> {
    const { jsm, js } = this.#ctx;
    const n = this.#names, inbox = this.#inbox;
    const config = mailboxConfig(n, inbox, this.#ctx.duplicateWindowMs);
    try {
      const last: number[] = [];
      let laneBacklog = 0;
      for (const c of [config, laneConfig(n, inbox, this.#ctx.duplicateWindowMs)]) {
        let info;
        try { info = await jsm.streams.add(c); } catch (e) {
          // there already (a runtime exposed it before): take its messages with the new limits
          if ((e as { code?: number }).code !== 10058) throw e;
          info = await jsm.streams.update(c.name, c);
        }
        last.push(info.state.last_seq);
        laneBacklog = info.state.messages;
      }
      [this.#lastBefore, this.#laneLastBefore] = last as [number, number];
      // consumers of an earlier exposure go: their taken, unacknowledged records come to
      // the new ones at once (rather than after ack_wait)
      const perBand = Math.max(1, Math.ceil(this.#ctx.maxInFlight / BANDS));
      for (let b = 0; b < BANDS; b++) {
        await jsm.consumers.delete(n.stream, n.consumers[b]!).catch(() => false);
        await jsm.consumers.add(n.stream, {
          durable_name: n.consumers[b], filter_subject: n.subjects[b], ack_policy: 'explicit' as never,
          deliver_policy: 'all' as never, max_ack_pending: perBand, ack_wait: ms(this.#ctx.ackWaitMs), max_deliver: -1,
        });
      }
      await jsm.consumers.delete(n.lane, n.laneConsumer).catch(() => false);
      await jsm.consumers.add(n.lane, {
        durable_name: n.laneConsumer, ack_policy: 'explicit' as never, deliver_policy: 'all' as never,
        max_ack_pending: 1024, ack_wait: ms(this.#ctx.ackWaitMs), max_deliver: -1,
      });
      // DROP_OLDEST: a record the mailbox dropped leaves a gap nobody fills: gaps are skipped as drops are seen
      if (inbox.backpressure === 'drop_oldest') this.#drops = await DropCounter.start(jsm, n.stream, (k) => { inbox.dropped(k); this.#order.expire(true); });
      const lane = await (await js.consumers.get(n.lane, n.laneConsumer)).consume({ max_messages: 256 });
      this.#iterators.push(lane);
      void this.#readLane(lane);
      // what the lane holds from before goes first: the records there belong before later ones in the mailbox
      const until = Date.now() + 1000;
      while (this.#laneRead < laneBacklog && Date.now() < until) await new Promise<void>((r) => { this.#laneWake = r; setTimeout(r, 50); });
      for (let b = 0; b < BANDS; b++) {
        const consumer = await js.consumers.get(n.stream, n.consumers[b]!);
        const it = await consumer.consume({ max_messages: perBand });
        this.#iterators.push(it);
        void this.#read(b, it);
      }
    } catch (e) {
      await this.stop();
      throw this.#ctx.fail('expose', inbox.kernelId, e);
    }
    // ack_wait is a deadline per delivery: a record the kernel holds longer is marked as
    // being worked on, so it is not offered again while this process lives
    const every = Math.max(50, Math.floor(this.#ctx.ackWaitMs / 3));
    this.#heartbeat = setInterval(() => {
      const old = Date.now() - every;
      for (const [t, at] of this.#unacked) if (at < old) { t.msg.working(); this.#unacked.set(t, Date.now()); }
    }, every);
    (this.#heartbeat as { unref?: () => void }).unref?.();
    this.#gapTimer = setInterval(() => void this.#checkGaps(), Math.max(20, Math.floor(this.#ctx.gapMs / 4)));
    (this.#gapTimer as { unref?: () => void }).unref?.();
    this.#pump = this.#run();
  }

  /**
   * A gap older than gapMs is skipped unless what it waits for may still be on its way: a
   * consumer that has more out (delivered, unacknowledged) than this process has in hand or
   * buffered (deliveries a broken connection lost: offered again after ack_wait), or a server
   * that does not answer.
   */
  async #checkGaps(): Promise<void> {
    if (this.#checking || this.#stopped || !this.#order.overdue()) return;
    this.#checking = true;
    try {
      const n = this.#names;
      const names: [string, string][] = [...n.consumers.map((c) => [n.stream, c] as [string, string]), [n.lane, n.laneConsumer]];
      const infos = await Promise.all(names.map(([s, c]) => this.#ctx.jsm.consumers.info(s, c)));
      // #iterators: the lane's first, then the bands'
      const buffered = (i: number) => this.#iterators[i < BANDS ? i + 1 : 0]?.getPending() ?? 0;
      const away = infos.some((info, i) => info.num_ack_pending > this.#yielded[i]! + buffered(i));
      if (this.#stopped) return;
      if (away) this.#order.postpone(); else this.#order.expire();
    } catch { this.#order.postpone(); } finally { this.#checking = false; }
  }

  async #read(band: number, it: ConsumerMessages): Promise<void> {
    try {
      for await (const m of it) {
        this.#yielded[band]!++;
        // the client library pulls ahead; records are taken from it only while fewer than
        // maxInFlight are unsettled, so what waits here is bounded (and, under DROP_OLDEST,
        // the mailbox rather than this process holds the backlog it may drop)
        while (this.#taken >= this.#ctx.maxInFlight && !this.#stopped) await new Promise<void>((r) => this.#roomWaiters[band]!.push(r));
        if (this.#stopped) break;
        this.#taken++;
        const e = readEnvelope(m.data);
        const t: Taken = { msg: m, bytes: e?.kind === RECORD ? e.body : m.data, lane: false, from: band };
        if (this.#drops && !this.#drops.seen(m.seq)) { this.#settle(t); continue; } // counted as dropped already
        this.#unacked.set(t, Date.now());
        // without an envelope (a record from some other publisher) there is no order to keep
        if (e?.kind === RECORD) this.#order.arrive(band, e.sender, e.seq, e.floor, t, m.seq <= this.#lastBefore);
        else if (e?.kind === SKIP) this.#settle(t);
        else this.#ready(band, t);
      }
    } catch { /* stopped, or the connection closed */ }
  }

  /** The late lane: records stored after later ones of their sender, and skip notices. */
  async #readLane(it: ConsumerMessages): Promise<void> {
    try {
      for await (const m of it) {
        if (this.#stopped) break;
        this.#laneRead++;
        this.#laneWake?.();
        this.#yielded[BANDS]!++;
        const band = Number(m.subject.slice(-1));
        const e = readEnvelope(m.data);
        const t: Taken = { msg: m, bytes: e?.kind === RECORD ? e.body : m.data, lane: true, from: BANDS };
        if (!(band >= 0 && band < BANDS) || e === null) { this.#ready(Math.min(Math.max(band || 0, 0), BANDS - 1), t); continue; }
        if (e.kind === SKIP) { this.#order.giveUp(band, e.sender, skippedSeqs(e)); this.#settle(t); continue; }
        this.#unacked.set(t, Date.now());
        this.#order.arrive(band, e.sender, e.seq, e.floor, t, m.seq <= this.#laneLastBefore, true);
      }
    } catch { /* stopped, or the connection closed */ }
  }

  /** A record in its sender's order: handed over next in its band. */
  #ready(band: number, t: Taken): void {
    if (!this.#unacked.has(t)) this.#unacked.set(t, Date.now());
    this.#bands[band]!.push(t);
    const w = this.#wake;
    if (w) { this.#wake = null; w(); }
  }

  /** Hands records to the inbox, highest band first, one at a time, in order within a band. */
  async #run(): Promise<void> {
    const inbox = this.#inbox;
    while (!this.#stopped) {
      let t: Taken | undefined;
      for (let b = 0; b < BANDS && t === undefined; b++) t = this.#bands[b]!.shift();
      if (t === undefined) { await new Promise<void>((r) => { this.#wake = r; }); continue; }
      const taken = t;
      // a malformed record is settled for good the same way: acknowledged, so the work-queue
      // stream lets it go (a terminated one would keep its place in the mailbox)
      const settle = () => { if (this.#unacked.has(taken)) this.#settle(taken); };
      await inbox.deliver({ bytes: taken.bytes, ack: settle, reject: settle });
    }
  }

  /** Acknowledges a taken record: it leaves the mailbox (or the lane), and another may be taken. */
  #settle(t: Taken): void {
    this.#unacked.delete(t);
    t.msg.ack();
    this.#yielded[t.from]!--;
    if (t.lane) return;
    this.#taken--;
    for (const w of this.#roomWaiters) if (w.length > 0) { w.shift()!(); break; }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearInterval(this.#gapTimer);
    this.#drops?.stop();
    const w = this.#wake;
    if (w) { this.#wake = null; w(); }
    for (const w of this.#roomWaiters) for (const r of w.splice(0)) r();
    for (const it of this.#iterators) { try { it.stop(); } catch { /* closed */ } }
    await this.#pump;
    // taken, not handed over: left unacknowledged, so the next exposure gets them; what is in
    // the kernel's queue is still acknowledged as it is handled (terminate with drain), for
    // as long as the connection is open
    for (const b of this.#bands) b.length = 0;
  }
}

/**
 * DROP_OLDEST: the stream discards its oldest messages when full and tells nobody. A record
 * that left the stream (its first sequence moved past it) without being delivered here was
 * dropped: counted by watching the first sequence, against the sequences seen. Messages
 * acknowledged before this exposure (interior deletes) are read from the stream at start.
 */
class DropCounter {
  #floor: number;
  readonly #seen = new Set<number>();
  readonly #timer: ReturnType<typeof setInterval>;
  #busy = false;

  private constructor(floor: number, deleted: readonly number[], jsm: JetStreamManager, stream: string, report: (n: number) => void) {
    this.#floor = floor;
    for (const s of deleted) this.#seen.add(s);
    this.#timer = setInterval(() => {
      if (this.#busy) return;
      this.#busy = true;
      jsm.streams.info(stream).then((i) => this.#advance(i.state.first_seq, report), () => {}).finally(() => { this.#busy = false; });
    }, 200);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  static async start(jsm: JetStreamManager, stream: string, report: (n: number) => void): Promise<DropCounter> {
    const info = await jsm.streams.info(stream, { deleted_details: true });
    // an empty stream reports first_seq 0 (or last_seq + 1): sequences start at 1
    return new DropCounter(Math.max(1, info.state.first_seq), info.state.deleted ?? [], jsm, stream, report);
  }

  /** Sequences counted as dropped lately: one that reaches this process late was still dropped. */
  readonly #counted = new Set<number>();

  /** A record read from a consumer; false when it was counted as dropped (the client had it buffered). */
  seen(seq: number): boolean {
    if (this.#counted.has(seq)) { this.#counted.delete(seq); return false; }
    if (seq >= this.#floor) this.#seen.add(seq);
    return true;
  }

  #advance(first: number, report: (n: number) => void): void {
    let dropped = 0;
    for (let s = this.#floor; s < first; s++) {
      if (this.#seen.has(s)) this.#seen.delete(s);
      else { dropped++; this.#counted.add(s); }
    }
    if (this.#counted.size > 65536) for (const s of this.#counted) { this.#counted.delete(s); if (this.#counted.size <= 32768) break; }
    if (first > this.#floor) this.#floor = first;
    if (dropped > 0) report(dropped);
  }

  stop(): void { clearInterval(this.#timer); }
}
