// order.ts — puts each sender's records back in the order it sent them (docs/remote.md,
// "Delivery"). A sender numbers its records per target and priority band (js/nats/envelope.ts);
// a record it had refused (a full mailbox) or left unanswered, while later ones of its window
// were stored, is stored after them — in the late lane (js/nats/mailbox.ts). Here, per
// (sender, band), records go out in sequence order:
// - the next one expected goes out at once, with the held-back ones that follow it;
// - one ahead of a gap is held back (not acknowledged: still in the mailbox, so a crash loses
//   nothing) until the gap fills, the sender says the missing ones will not come (a skip
//   notice: it gave them up), or `gapMs` pass without progress while nothing more is on its
//   way to this process (the sender died after a refusal): then the gap is skipped and
//   counted. (Records the server sent and a broken connection lost are on their way: the
//   server offers them again after ack_wait, and the mailbox postpones meanwhile.)
// - one below the next expected came before (a retry, a redelivery): dropped, unless it is one
//   that was skipped — then it goes out late (counted) rather than being lost.
// A sender is met for the first time through the mailbox (its records there come in the order
// it stored them): what the late lane brings for a sender not met yet waits for that (or for
// gapMs). It starts at the floor its record carries: the lowest of its
// records not yet known stored when it sent this one. Unless that record was in the mailbox
// before this exposure began: then the ones below it were most likely handled by an earlier
// exposure (a restart, expose after terminate), and it starts there (the ones below come late
// if they come).

export interface OrderStats {
  /** Records that came ahead of an earlier one of their sender and waited for it. */
  heldBack: number;
  /** Sequence numbers skipped after gapMs without progress (their sender died, or they were handled before an exposure). */
  skipped: number;
  /** Sequence numbers their sender gave up (a skip notice: refused, or not answered in time). */
  givenUp: number;
  /** Skipped records that came after all: handed over, out of order. */
  late: number;
  /** Records that came again (a retry, a redelivery) after their sender had moved past them: dropped. */
  duplicates: number;
}

interface Chain<T> {
  next: number;
  readonly held: Map<number, T>;
  /** Seqs the sender gave up that are not reached yet. */
  readonly giveUp: Set<number>;
  /** Seqs passed over (given up or timed out): one that still comes is late, not a duplicate. */
  readonly passed: Set<number>;
  /** Last progress (ms): a gap older than gapMs is skipped. */
  since: number;
}

interface Parked<T> { items: { seq: number; floor: number; item: T; before: boolean }[]; giveUp: number[]; since: number }

/** How many passed-over seqs a chain remembers, and how many chains are kept when idle. */
const PASSED = 4096;
const CHAINS = 4096;

export class Orderer<T> {
  readonly stats: OrderStats = { heldBack: 0, skipped: 0, givenUp: 0, late: 0, duplicates: 0 };
  readonly #bands: Map<number, Chain<T>>[];
  /** Per band, what the late lane brought for senders not met yet in the mailbox. */
  readonly #parked: Map<number, Parked<T>>[];
  readonly #emit: (band: number, item: T) => void;
  readonly #drop: (item: T) => void;
  readonly #gapMs: number;
  #holding = 0;

  /** `emit` hands an item on, in order; `drop` settles one that is not handed on (a repeat). */
  constructor(bands: number, gapMs: number, emit: (band: number, item: T) => void, drop: (item: T) => void) {
    this.#bands = Array.from({ length: bands }, () => new Map());
    this.#parked = Array.from({ length: bands }, () => new Map());
    this.#gapMs = gapMs;
    this.#emit = emit;
    this.#drop = drop;
  }

  /** Records held back now. */
  get holding(): number { return this.#holding; }

  #chain(band: number, sender: number, start: number): Chain<T> {
    const chains = this.#bands[band]!;
    let c = chains.get(sender);
    if (!c) {
      if (chains.size >= CHAINS) this.#forgetIdle(chains);
      c = { next: start, held: new Map(), giveUp: new Set(), passed: new Set(), since: Date.now() };
      chains.set(sender, c);
    }
    return c;
  }

  /** `before`: the record was stored before this exposure began; `lane`: it came through the late lane. */
  arrive(band: number, sender: number, seq: number, floor: number, item: T, before = false, lane = false): void {
    const fresh = !this.#bands[band]!.has(sender);
    if (fresh && lane) { this.#park(band, sender).items.push({ seq, floor, item, before }); this.#holding++; return; }
    const c = this.#chain(band, sender, floor);
    if (fresh) {
      if (before) for (; c.next < seq; c.next++) c.passed.add(c.next);
      const p = this.#parked[band]!.get(sender);
      if (p) this.#unpark(band, sender, p);
    }
    if (seq < c.next) {
      if (c.passed.delete(seq)) { this.stats.late++; this.#emit(band, item); } else { this.stats.duplicates++; this.#drop(item); }
      return;
    }
    if (seq === c.next) { this.#emit(band, item); c.next++; c.since = Date.now(); this.#release(band, c); return; }
    if (c.held.has(seq)) { this.stats.duplicates++; this.#drop(item); return; }
    c.held.set(seq, item);
    this.#holding++;
    this.stats.heldBack++;
  }

  /**
   * The sender gave these up (refused, not answered in time, or stored already under another
   * seq: a retried message id): nothing waits for them.
   */
  giveUp(band: number, sender: number, seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const c = this.#bands[band]!.get(sender);
    if (!c) { this.#park(band, sender).giveUp.push(...seqs.slice(0, PASSED)); return; }
    for (const s of seqs) if (s >= c.next && !c.held.has(s)) c.giveUp.add(s);
    this.#release(band, c);
  }

  /** Hands on what follows `next` without a gap; passes over given-up seqs. */
  #release(band: number, c: Chain<T>): void {
    for (;;) {
      const item = c.held.get(c.next);
      if (item !== undefined) {
        c.held.delete(c.next);
        this.#holding--;
        this.#emit(band, item);
      } else if (c.giveUp.delete(c.next)) {
        this.stats.givenUp++;
        this.#pass(c, c.next);
      } else break;
      c.next++;
      c.since = Date.now();
    }
  }

  #pass(c: Chain<T>, seq: number): void {
    c.passed.add(seq);
    if (c.passed.size > PASSED) c.passed.delete(c.passed.values().next().value!);
  }

  #park(band: number, sender: number): Parked<T> {
    const parked = this.#parked[band]!;
    let p = parked.get(sender);
    if (!p) parked.set(sender, p = { items: [], giveUp: [], since: Date.now() });
    return p;
  }

  /** The sender is met: what waited for that goes into its chain. */
  #unpark(band: number, sender: number, p: Parked<T>): void {
    this.#parked[band]!.delete(sender);
    this.#holding -= p.items.length;
    if (p.giveUp.length > 0) this.giveUp(band, sender, p.giveUp);
    for (const x of p.items) this.arrive(band, sender, x.seq, x.floor, x.item, x.before);
  }

  /** Whether a gap (or a parked lane record) has made no progress for gapMs. */
  overdue(): boolean {
    if (this.#holding === 0 && this.#parked.every((p) => p.size === 0)) return false;
    const old = Date.now() - this.#gapMs;
    return this.#bands.some((chains) => [...chains.values()].some((c) => c.held.size > 0 && c.since <= old))
      || this.#parked.some((parked) => [...parked.values()].some((p) => p.since <= old));
  }

  /** The records gaps wait for are still on their way (the server has them out to this process): wait gapMs more. */
  postpone(): void {
    const now = Date.now();
    for (const chains of this.#bands) for (const c of chains.values()) if (c.held.size > 0) c.since = now;
    for (const parked of this.#parked) for (const p of parked.values()) p.since = now;
  }

  /** Gaps that made no progress for gapMs (or every gap, `all`) are skipped. */
  expire(all = false): void {
    if (this.#holding === 0 && this.#parked.every((p) => p.size === 0)) return;
    const old = Date.now() - this.#gapMs;
    // lane records of a sender the mailbox never brought: it starts from them
    this.#parked.forEach((parked, band) => {
      for (const [sender, p] of parked) {
        if (!all && p.since > old) continue;
        if (p.items.length === 0) { parked.delete(sender); continue; }
        p.items.sort((x, y) => x.seq - y.seq);
        parked.delete(sender);
        this.#holding -= p.items.length;
        const [head, ...rest] = p.items;
        this.arrive(band, sender, head!.seq, head!.floor, head!.item, head!.before);
        if (p.giveUp.length > 0) this.giveUp(band, sender, p.giveUp);
        for (const x of rest) this.arrive(band, sender, x.seq, x.floor, x.item, x.before);
      }
    });
    this.#bands.forEach((chains, band) => {
      for (const c of chains.values()) {
        if (c.held.size === 0 || (!all && c.since > old)) continue;
        const first = Math.min(...c.held.keys());
        for (; c.next < first; c.next++) { this.stats.skipped++; this.#pass(c, c.next); }
        this.#release(band, c);
      }
    });
  }

  /** Keeps the number of chains bounded: those holding nothing and idle longest go. */
  #forgetIdle(chains: Map<number, Chain<T>>): void {
    const idle = [...chains].filter(([, c]) => c.held.size === 0).sort((x, y) => x[1].since - y[1].since);
    for (const [s] of idle.slice(0, Math.max(1, idle.length >> 1))) chains.delete(s);
  }
}
