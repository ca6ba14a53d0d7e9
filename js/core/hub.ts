// hub.ts — the runtime's side of the rings on this thread: encoding a message straight into
// the core's scratch area and pushing it, popping and decoding, and the wake-ups that let
// promises on this thread wait for a ring without polling.
//
// Wake-ups: a consumer on this thread registers a reader for the ring it drains; a push
// from this thread calls it synchronously (it only settles promises, no user code runs).
// Once other threads take part (`remote`), a consumer with waiting promises also arms an
// Atomics.waitAsync on the ring's doorbell (armRemote), which a push on any thread rings.
// A producer waiting for room waits on both this thread's pops (wakeSpace) and, with other
// threads, the ring's space word, which the core notifies when any thread pops.
// With spinMicros set, an armed wait first polls for that long (spinUntil): faster wake-ups
// for CPU time, and only while the other side is about to answer. 'adaptive' (the default)
// polls only when this thread took a message within the last ADAPTIVE_WINDOW_MS (a thread
// that has been idle sleeps at once), for ADAPTIVE_SPIN_MICROS, and stops polling once
// ADAPTIVE_MISSES polls in a row have not caught their answer; from then on one wait in
// ADAPTIVE_PROBE_EVERY polls (as long as any poll), and the first poll that catches makes
// it poll every time again. A probe must be as long as a poll: one answer in a round trip
// comes from a thread that slept (10-30 us to wake here), so a short probe never catches
// it, and a thread whose polls once missed a few times would sleep for good (that made
// the default round trip 2-3x postMessage's). On a machine whose cores are all busy, a
// poll only takes time from the thread it waits for: polls miss, and adaptive stops.
import { type Core, OwnerCore, Status, Strategy } from './core.js';
import type { Ring } from './ring.js';
import { Message, type MessageClass } from '../message/message.js';
import { encodeInto } from '../message/encode.js';
import { decodeFrom } from '../message/decode.js';
import { FRAME_PREFIX, H_PRIORITY, frameBytes, recordPriority, recordTimestamp } from '../message/record.js';
import { epochNow as now, hasWaitAsync, monotonicNow, nextTask, waitAsync } from '../platform.js';
import { KernelStateError, MessageEncodeError, MessageTooLargeError, QueueFullError, MessageTypeError, RingKernelError } from '../errors.js';

export interface Who { kernelId: string; operation: string }

/** What a push that went in at once returns (callers may compare: nothing to wait for). */
export const RESOLVED: Promise<void> = Promise.resolve();
/** spinMicros 'adaptive' (see the top of this file). */
export const ADAPTIVE_SPIN_MICROS = 50;
export const ADAPTIVE_WINDOW_MS = 1;
export const ADAPTIVE_MISSES = 8;
export const ADAPTIVE_PROBE_EVERY = 16;

/**
 * Polls `ready` for up to `micros` microseconds on this thread (blocking it); true as soon
 * as it holds. A wake-up through Atomics.waitAsync takes 10-20 us here, a poll well under
 * one: a short spin before sleeping turns a quick answer into a fast round trip.
 */
export function spinUntil(ready: () => boolean, micros: number): boolean {
  if (micros <= 0) return false;
  const until = monotonicNow() + micros / 1000;
  do { if (ready()) return true; } while (monotonicNow() < until);
  return false;
}

/**
 * The first of two cancellations (a sender's and its target's): made only for a send that
 * waits, so that a send into room allocates no closure for it.
 */
export function either(a: (() => Error | null) | undefined, b: (() => Error | null) | undefined): (() => Error | null) | undefined {
  return a === undefined || b === undefined ? a ?? b : () => a() ?? b();
}

interface Arm { readonly db: number; cancelled: boolean }

export class Hub {
  readonly core: Core;
  private readonly readers = new Map<number, () => void>();
  private readonly badRecords = new Map<number, (bytes: Uint8Array, error: unknown) => void>();
  private readonly spaceWaiters = new Map<number, Set<() => void>>();
  /** Rings with an armed wait on this thread: the doorbell it counts itself a sleeper on. */
  private readonly armed = new Map<number, Arm>();
  /** True once rings may be pushed or popped by other threads (worker kernels exist). */
  remote = false;
  /** RuntimeOptions.spinMicros. */
  readonly spin: number | 'adaptive';
  /** When (monotonicNow) a pop on this thread last took something: 'adaptive' spins only soon after. */
  private tookAt = -Infinity;

  constructor(core: Core, spin: number | 'adaptive' = 0) { this.core = core; this.spin = spin; }

  /** A pop on this thread took something (only waits on other threads spin, so only counted with them). */
  took(): void { this.tookAt = monotonicNow(); }

  /** 'adaptive': polls in a row that missed their answer, and waits since the last probe. */
  private misses = 0;
  private sinceProbe = 0;

  /** Microseconds a wait for another thread should poll now before it sleeps (0: none). */
  spinMicros(): number {
    if (this.spin !== 'adaptive') return this.spin;
    if (monotonicNow() - this.tookAt >= ADAPTIVE_WINDOW_MS) return 0;
    if (this.misses < ADAPTIVE_MISSES) return ADAPTIVE_SPIN_MICROS;
    if (++this.sinceProbe < ADAPTIVE_PROBE_EVERY) return 0;
    this.sinceProbe = 0;
    return ADAPTIVE_SPIN_MICROS;
  }

  /** A poll caught what it waited for, or not ('adaptive' learns from it). */
  spun(caught: boolean): void {
    if (this.spin !== 'adaptive') return;
    this.misses = caught ? 0 : this.misses + 1;
  }

  /** Polls `ready` for spinMicros() before `sleep` (in a task of its own); `fire` when it holds. */
  spinThenSleep(ready: () => boolean, fire: () => void, sleep: () => void, cancelled: () => boolean = () => false): void {
    const micros = this.spinMicros();
    if (micros <= 0) { sleep(); return; }
    nextTask(() => {
      if (cancelled()) return;
      const caught = spinUntil(ready, micros);
      this.spun(caught);
      if (caught) fire(); else sleep();
    });
  }

  onReadable(ring: Ring, reader: () => void): void { this.readers.set(ring.ptr, reader); }
  /**
   * Where records of `ring` that do not decode go (a kernel's dead letters): a copy of
   * their bytes and the MessageDecodeError. Only for rings a kernel on this thread drains.
   * `expected`: the class the kernel declares it takes; a record of another does not decode.
   */
  onBadRecord(ring: Ring, handler: (bytes: Uint8Array, error: unknown) => void, expected?: MessageClass): void {
    this.badRecords.set(ring.ptr, handler);
    if (expected !== undefined) this.expected.set(ring.ptr, expected);
  }
  /** The class every record of a ring must be (a kernel's declared input): one of another class does not decode. */
  private readonly expected = new Map<number, MessageClass>();
  /**
   * The ring is about to be freed (its kernel released): nothing here may touch its memory
   * afterwards. An armed wait is called off now, while the memory is still the ring's: it
   * stops counting as a sleeper and its waitAsync is rung loose; when that settles, it does
   * nothing. (Left armed, it would leave the ring's address marked armed, and a ring later
   * laid out at the same address could never be waited for: a receive there hung.)
   */
  forget(ring: Ring): void {
    this.readers.delete(ring.ptr);
    this.badRecords.delete(ring.ptr);
    this.expected.delete(ring.ptr);
    this.spaceWaiters.delete(ring.ptr);
    const arm = this.armed.get(ring.ptr);
    if (arm !== undefined) {
      arm.cancelled = true;
      this.armed.delete(ring.ptr);
      this.core.x.doorbell_ring(arm.db);
      this.core.x.doorbell_leave(arm.db);
    }
  }

  /**
   * Makes the next ring of `ring`'s doorbell (a push, or a state change of the kernel whose
   * thread it is) from any thread call its reader here: an Atomics.waitAsync on the doorbell.
   * `ready` re-checks, once counted as a sleeper, whether the reader has work already (it
   * may have come just before). No-op without other threads or when already armed. `spin`:
   * the ring is filled by another thread, so polling it (spinMicros) may pay.
   */
  armRemote(ring: Ring, ready: () => boolean, spin = false): void {
    if (!this.remote || !this.core.shared || !hasWaitAsync || this.armed.has(ring.ptr)) return;
    const x = this.core.x;
    const db = x.queue_doorbell(ring.ptr);
    const seq = x.doorbell_enter(db);
    const arm: Arm = { db, cancelled: false };
    this.armed.set(ring.ptr, arm);
    const fire = () => {
      if (arm.cancelled) return; // forgotten: the ring's memory is no longer ours
      x.doorbell_leave(db);
      this.armed.delete(ring.ptr);
      this.wake(ring);
    };
    if (ready()) { queueMicrotask(fire); return; }
    const sleep = () => {
      if (arm.cancelled) return;
      const w = waitAsync(this.core.memory, db, seq, Infinity);
      if (!w.async) fire();
      else w.value.then(fire);
    };
    // counted as a sleeper already, so a push meanwhile moves seq and the wait returns at once
    if (spin) this.spinThenSleep(ready, fire, sleep, () => arm.cancelled);
    else sleep();
  }

  /** Tells the ring's reader on this thread that it may have something. */
  wake(ring: Ring): void {
    const r = this.readers.get(ring.ptr);
    if (r !== undefined) r();
  }

  wakeSpace(ring: Ring): void {
    const s = this.spaceWaiters.get(ring.ptr);
    if (s !== undefined && s.size > 0) for (const f of [...s]) f();
  }

  /** Wakes every send waiting for room, to re-check whether it was cancelled (a kernel stopped). */
  wakeAllSpace(): void {
    for (const s of this.spaceWaiters.values()) for (const f of [...s]) f();
  }

  /**
   * Encodes `msg` into scratch and pushes it. Resolves when it is in the ring; under BLOCK
   * waits for room up to `timeout` ms (undefined: no limit), giving up with the error
   * `cancelled()` returns once it returns one. Errors name `who`.
   */
  push(ring: Ring, msg: Message, who: Who, targetId: string, timeout: number | undefined, cancelled?: () => Error | null,
    sentAt: number = now(), cancelledToo?: () => Error | null): Promise<void> {
    const c = this.core;
    const limit = Math.min(ring.maxRecord, c.scratchBytes);
    let n: number;
    try {
      n = encodeInto(msg, c.mem, c.dv, c.scratch, c.scratch + limit, sentAt);
    } catch (e) {
      return Promise.reject(encodeFailure(e, msg, who, targetId, 'nothing was enqueued'));
    }
    if (n < 0) {
      return Promise.reject(new MessageTooLargeError(
        `${who.operation} to kernel '${targetId}': ${msg.constructor.name} encodes to ${-n} bytes, over the queue's maxMessageSize of ${ring.maxRecord}; nothing was enqueued`,
        { ...who, size: -n, limit: ring.maxRecord }));
    }
    const priority = recordPriority(c.mem, c.scratch); // (as encoded: msg.priority is a getter every class shares)
    const r = ring.pushStaged(n, priority);
    if (r === Status.OK) { this.wake(ring); return RESOLVED; }
    if (r === Status.FULL && ring.strategy === Strategy.BLOCK) {
      if (timeout !== 0) return this.pushWhenRoom(ring, c.mem.slice(c.scratch, c.scratch + n), priority, who, targetId, timeout, either(cancelled, cancelledToo));
      c.x.queue_note_rejected(ring.ptr); // a BLOCK send whose timeout (of 0) ran out, as pushWhenRoom counts it
    }
    return Promise.reject(this.pushError(r, ring, who, targetId, timeout));
  }

  private pushError(r: Status, ring: Ring, who: Who, targetId: string, timeout: number | undefined): Error {
    if (r === Status.CLOSED)
      return new KernelStateError(`${who.operation} to kernel '${targetId}': it is terminated; nothing was enqueued`, { ...who, state: 'terminated' });
    const depth = ring.depth;
    return new QueueFullError(ring.strategy === Strategy.BLOCK
      ? `${who.operation} to kernel '${targetId}': its queue stayed full (${depth} messages) for ${timeout} ms; nothing was enqueued`
      : `${who.operation} to kernel '${targetId}': its queue is full (${depth} messages) and it rejects when full; nothing was enqueued`, who);
  }

  private async pushWhenRoom(ring: Ring, bytes: Uint8Array, priority: number, who: Who, targetId: string,
    timeout: number | undefined, cancelled: (() => Error | null) | undefined): Promise<void> {
    const deadline = timeout === undefined ? Infinity : monotonicNow() + timeout;
    const r = await ring.pushWhenRoom(bytes, priority, deadline, (seq, ms) => this.waitForSpace(ring, seq, ms), cancelled);
    if (r === Status.OK) { this.wake(ring); return; }
    throw this.pushError(r === Status.TIMEOUT ? Status.FULL : r, ring, who, targetId, timeout);
  }

  /**
   * Resolves when a pop may have made room in `ring` (this thread's pops, or the space word
   * another thread's pops notify, which must not have moved past `seq`), or after `ms`.
   */
  waitForSpace(ring: Ring, seq: number, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.spaceWaiters.get(ring.ptr);
      if (!set) this.spaceWaiters.set(ring.ptr, (set = new Set()));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => { set!.delete(done); if (timer !== undefined) clearTimeout(timer); resolve(); };
      set.add(done);
      if (ms !== Infinity) timer = setTimeout(done, ms + 1);
      if (this.core.shared && hasWaitAsync && (this.remote || !this.readers.has(ring.ptr))) {
        // the consumer may be on another thread: its pops notify the space word
        const w = waitAsync(this.core.memory, this.core.x.queue_space_word(ring.ptr), seq, ms);
        if (!w.async) done();
        else w.value.then(done);
      }
    });
  }

  /**
   * Pushes messages in order, in as few calls into the core as their priorities allow.
   * Resolves when all are in the ring. Under BLOCK a message that finds no room waits as
   * push() does; under REJECT the first refusal ends the call with QueueFullError (its
   * `enqueued` says how many went in; the rest count as rejected). A message over the
   * queue's maxMessageSize rejects with MessageTooLargeError once those before it are in;
   * none after it is sent.
   *
   * Messages are encoded straight into this thread's scratch area, a run of one priority
   * at a time, each run pushed with one core call. Where a run does not all go in (a full
   * ring, a closed one), or a message does not fit an empty scratch area, or is refused,
   * the rest take pushStaged's way from the first one not in. Under REJECT every message
   * takes that way: the core counts a run's refusals, and a second try of the same run
   * would count them again.
   */
  pushMany(ring: Ring, msgs: readonly Message[], who: Who, targetId: string, timeout: number | undefined,
    cancelled?: () => Error | null): Promise<void> {
    const sentAt = now(); // one clock read for the batch: its messages are sent together
    if (ring.strategy === Strategy.REJECT) return this.pushStaged(ring, msgs, 0, sentAt, who, targetId, timeout, cancelled);
    const c = this.core, x = c.x, mem = c.mem, dv = c.dv, base = c.scratch, end = base + c.scratchBytes;
    const room = FRAME_PREFIX + ring.maxRecord;
    // (the ring's reader is woken once, at the end: woken, it may pop into scratch, where the next run is)
    let p = base, k = 0, priority = -1, first = 0, pushed = false; // the run in scratch: k records from msgs[first], of `priority`
    /** pushStaged from msgs[from], once a run did not all go in (`r`: what the core said), or from a message that did not fit. */
    const rest = (from: number, r = 0) => {
      if (pushed || r > 0) this.wake(ring);
      return this.pushStaged(ring, msgs, from + (r > 0 ? r : 0), sentAt, who, targetId, timeout, cancelled);
    };
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (!(m instanceof Message)) break;
      let n: number;
      try {
        n = encodeInto(m, mem, dv, p + FRAME_PREFIX, Math.min(end, p + room), sentAt);
      } catch {
        n = ENCODE_FAILED; // as one that does not fit: the run before it goes in, pushStaged refuses it
      }
      if (k > 0 && (n < 0 || mem[p + FRAME_PREFIX + H_PRIORITY] !== priority)) {
        // the run so far goes in first; then this message, alone in scratch, starts the next
        const r = x.queue_push_batch(ring.ptr, base, k, priority);
        if (r !== k) return rest(first, r);
        pushed = true;
        first = i;
        k = 0;
        if (n > 0) mem.copyWithin(base + FRAME_PREFIX, p + FRAME_PREFIX, p + FRAME_PREFIX + n);
        else if (n !== ENCODE_FAILED) n = encodeInto(m, mem, dv, base + FRAME_PREFIX, Math.min(end, base + room), sentAt);
        p = base;
      }
      if (n < 0) return rest(i);
      dv.setUint32(p, n, true);
      p += frameBytes(n);
      priority = mem[base + FRAME_PREFIX + H_PRIORITY]!;
      k++;
    }
    const done = first + k;
    if (k > 0) {
      const r = x.queue_push_batch(ring.ptr, base, k, priority);
      if (r !== k) return rest(first, r);
      pushed = true;
    }
    if (done < msgs.length) return rest(done);
    if (pushed) this.wake(ring);
    return RESOLVED;
  }

  /**
   * pushMany of msgs[start..]: encodes them all as records, then pushRecords. Where the push
   * may wait for room (BLOCK), into room of its own, which the waits read as it is: on the
   * owner's thread a region of the core's memory, pushed from where it lies; on a worker's a
   * buffer (the one the last such push used). Else (it never waits) into the reused staging
   * buffer. A refusal's `enqueued` counts from the batch's first message.
   */
  private pushStaged(ring: Ring, msgs: readonly Message[], start: number, sentAt: number, who: Who, targetId: string,
    timeout: number | undefined, cancelled: (() => Error | null) | undefined): Promise<void> {
    const room = FRAME_PREFIX + ring.maxRecord;
    const own = ring.strategy !== Strategy.REJECT && timeout !== 0;
    const owner = own && this.core instanceof OwnerCore ? this.core : null;
    // the records go at [at, at + cap) of buf: the core's memory from a region's start, or a buffer from 0
    let buf: Uint8Array = this.staging, view: DataView = this.stagingView, at = 0, cap = buf.length;
    if (owner) {
      cap = 64 * 1024;
      at = owner.alloc(cap, false);
      buf = owner.mem;
      view = owner.dv;
    } else if (own) {
      buf = this.spare ?? new Uint8Array(64 * 1024);
      view = new DataView(buf.buffer);
      cap = buf.length;
      this.spare = null;
    }
    let p = 0, i = start, refusal: Error | null = null;
    for (; i < msgs.length; i++) {
      const m = msgs[i]!;
      if (!(m instanceof Message)) {
        refusal = new MessageTypeError(`${who.operation} to kernel '${targetId}': item ${i} is not a message`,
          { kernelId: targetId, operation: who.operation, expected: null, actual: m === null ? 'null' : typeof m === 'object' ? (m as object).constructor?.name ?? 'an object' : typeof m });
        break;
      }
      if (p + room > cap) {
        // room for the messages left at the bytes a message took so far: one growth, as a rule
        const want = p + room + (i > start ? Math.ceil(p / (i - start)) * (msgs.length - i) : 0);
        let size = cap;
        while (size < want) size *= 2;
        if (owner) {
          const bigger = owner.alloc(size, false); // (may grow the memory: its views are new)
          owner.mem.copyWithin(bigger, at, at + p);
          owner.free(at);
          at = bigger;
          cap = size;
          buf = owner.mem;
          view = owner.dv;
        } else {
          const bigger = new Uint8Array(size);
          bigger.set(buf.subarray(0, p));
          buf = bigger;
          const bigView = new DataView(bigger.buffer);
          view = bigView;
          cap = bigger.length;
          if (!own) { this.staging = bigger; this.stagingView = bigView; }
        }
      }
      let n: number;
      try {
        n = encodeInto(m, buf, view, at + p + FRAME_PREFIX, at + p + room, sentAt);
      } catch (e) {
        refusal = encodeFailure(e, m, who, targetId, 'it and the messages after it were not enqueued');
        break;
      }
      if (n < 0) {
        refusal = new MessageTooLargeError(
          `${who.operation} to kernel '${targetId}': ${m.constructor.name} encodes to ${-n} bytes, over the queue's maxMessageSize of ${ring.maxRecord}; it and the messages after it were not enqueued`,
          { ...who, size: -n, limit: ring.maxRecord });
        break;
      }
      view.setUint32(at + p, n, true);
      p += frameBytes(n);
    }
    let pushed = i > start ? this.pushRecords(ring, owner ? null : buf.subarray(0, p), at, i - start, who, targetId, timeout, cancelled, own) : RESOLVED;
    if (owner) {
      const region = at;
      if (pushed === RESOLVED) owner.free(region);
      else pushed = pushed.finally(() => owner.free(region));
    } else if (own) {
      const kept = buf as Uint8Array<ArrayBuffer>;
      if (pushed === RESOLVED) this.keepSpare(kept);
      else pushed = pushed.finally(() => this.keepSpare(kept));
    }
    if (start > 0 && pushed !== RESOLVED) pushed = pushed.catch((e) => { throw withEnqueued(e, start + ((e as { enqueued?: number }).enqueued ?? 0), true); });
    if (refusal === null) return pushed;
    const error = withEnqueued(refusal, i); // (those before it, from the batch's first message, are in)
    return pushed.then(() => { throw error; });
  }

  /** Where pushMany encodes a batch for a ring that never waits (REJECT, or a timeout of 0): reused. */
  private staging = new Uint8Array(64 * 1024);
  private stagingView = new DataView(this.staging.buffer);
  /**
   * The largest buffer a push that may wait has finished with, for the next such push: a
   * fresh one costs its pages' first touch (a million records' 128 MB took 105 ms here,
   * more than encoding them).
   */
  private spare: Uint8Array<ArrayBuffer> | null = null;
  private keepSpare(buf: Uint8Array<ArrayBuffer>): void {
    if (this.spare === null || buf.length > this.spare.length) this.spare = buf;
  }

  /**
   * Pushes `count` records already encoded as [u32 length][record, padded to 4]..., their
   * send times stamped (pushStaged's second half): in `records` from its start, or, where
   * that is null, in the core's memory from byte `at` (a region of this push's own, pushed
   * from where it lies). Runs of equal priority (header byte 48) go in one call into the
   * core, each walked once. Only reads `records` until it returns: a wait for room works on
   * a copy, made once (`owned`: `records` is that copy already, and the waits that follow
   * read it as it is; a copy of the rest at every wait had made a million-message batch
   * quadratic).
   */
  private pushRecords(ring: Ring, records: Uint8Array | null, at: number, count: number, who: Who, targetId: string,
    timeout: number | undefined, cancelled: (() => Error | null) | undefined, owned: boolean): Promise<void> {
    const c = this.core, x = c.x, room = c.scratchBytes;
    const u8 = records ?? c.mem;
    const dv = records === null ? c.dv : new DataView(records.buffer, records.byteOffset, records.byteLength);
    let i = 0, p = records === null ? at : 0;
    while (i < count) {
      const priority = u8[p + FRAME_PREFIX + H_PRIORITY]!;
      let q = p, k = 0;
      while (i + k < count && u8[q + FRAME_PREFIX + H_PRIORITY] === priority) {
        const len = dv.getUint32(q, true), next = q + frameBytes(len);
        // a run is at most scratch's size: one from a buffer goes through scratch, and the
        // core reads every length of a run before it pushes any (a whole rest at each wait
        // was 1.7x the time of a million-object batch)
        if (next - p > room) break;
        if (len > ring.maxRecord) {
          if (k > 0) break;
          return Promise.reject(withEnqueued(new MessageTooLargeError(
            `${who.operation} to kernel '${targetId}': a record of ${len} bytes is over the queue's maxMessageSize of ${ring.maxRecord}; nothing more was enqueued`,
            { ...who, size: len, limit: ring.maxRecord }), i));
        }
        q = next;
        k++;
      }
      let r: number;
      if (records === null) r = x.queue_push_batch(ring.ptr, p, k, priority);
      else {
        c.mem.set(records.subarray(p, q), c.scratch);
        r = x.queue_push_batch(ring.ptr, c.scratch, k, priority);
      }
      const accepted = r > 0 ? r : 0;
      if (accepted > 0) this.wake(ring);
      i += accepted;
      if (accepted === k) { p = q; continue; }
      for (let a = 0; a < accepted; a++) p += frameBytes(dv.getUint32(p, true));
      if (r === Status.CLOSED || (r < 0 && r !== Status.FULL)) return Promise.reject(withEnqueued(this.pushError(r as Status, ring, who, targetId, timeout), i));
      if (ring.strategy === Strategy.REJECT || timeout === 0) {
        // under REJECT the core counted the refusals of this call; the rest count here
        const counted = ring.strategy === Strategy.REJECT ? k - accepted : 0;
        for (let a = i + counted; a < count; a++) x.queue_note_rejected(ring.ptr);
        const e = this.pushError(Status.FULL, ring, who, targetId, timeout) as QueueFullError & { enqueued: number };
        e.enqueued = i;
        return Promise.reject(e);
      }
      // BLOCK: wait for room for the next one, then go on in batches (with a copy of the
      // rest, unless it is one already: the caller may reuse `records` once this returns).
      // The one that waits is a copy unless it lies in a buffer of this push's: the core's
      // memory may grow meanwhile, and an ordinary one's old views then read nothing.
      const len = dv.getUint32(p, true), next = p + frameBytes(len);
      const head = records !== null && owned ? records.subarray(p + FRAME_PREFIX, p + FRAME_PREFIX + len) : u8.slice(p + FRAME_PREFIX, p + FRAME_PREFIX + len);
      const rest = records === null ? null : owned ? records.subarray(next) : records.slice(next);
      // (a refusal says how many of these records went in: `enqueued`, counted from here)
      const before = i;
      return this.pushWhenRoom(ring, head, priority, who, targetId, timeout, cancelled)
        .then(
          () => this.pushRecords(ring, rest, next, count - before - 1, who, targetId, timeout, cancelled, true)
            .catch((e) => { throw withEnqueued(e, before + 1 + ((e as { enqueued?: number }).enqueued ?? 0), true); }),
          (e) => { throw withEnqueued(e, before); });
    }
    return RESOLVED;
  }

  /**
   * Pops up to `max` records, undecoded, into scratch as [u32 length][record, padded to
   * 4]... and returns how many (0 when the ring is empty), pushing each one's send time
   * onto `sentAt`.
   */
  popRecords(ring: Ring, max: number, sentAt: number[]): number {
    const c = this.core;
    const n = c.x.queue_pop_batch(ring.ptr, c.scratch, c.scratchBytes, max);
    if (n <= 0) return 0;
    if (this.remote) this.took();
    this.wakeSpace(ring);
    for (let k = 0, p = c.scratch; k < n; k++) {
      sentAt.push(recordTimestamp(c.dv, p + FRAME_PREFIX));
      p += frameBytes(c.dv.getUint32(p, true));
    }
    return n;
  }

  /** Whether the last popInto put an error (a record that did not decode) among what it returned. */
  private popFailed = false;

  /**
   * Pops and decodes up to `max` messages (none when the ring is empty), appended to `into`
   * (a fresh array unless given), their send times into `sentAt` from index 0 (null: not
   * wanted). A record that does not decode is consumed and goes to the ring's bad-record
   * handler (onBadRecord) when it has one; without one it is skipped and its error thrown
   * when it was the only one.
   */
  popMany(ring: Ring, max: number, sentAt: number[] | null, into: Message[] = []): Message[] {
    const got = into as unknown[], at = got.length;
    const n = this.popInto(ring, max, got, sentAt, at);
    if (!this.popFailed) return into;
    // a record that did not decode is among them (rare): leave it and its time out
    let failure: unknown = null, kept = at;
    for (let k = at; k < at + n; k++) {
      const v = got[k];
      if (!(v instanceof Message)) failure ??= v;
      else {
        if (sentAt !== null) sentAt[kept - at] = sentAt[k - at]!;
        got[kept++] = v;
      }
    }
    if (kept === 0 && failure !== null) throw failure;
    got.length = kept;
    if (sentAt !== null) sentAt.length = kept - at;
    return into;
  }

  /**
   * Pops up to `max` records in one call into the core and decodes each into `out` from
   * index `at` (or, for a record that does not decode, its MessageDecodeError), its send time
   * into `sentAt` (null: not wanted). Returns how many it put there (0 when the ring is empty). Where the ring
   * has a bad-record handler (a kernel's input: its dead letters), a record that does not
   * decode goes there as its bytes and is left out; a pop that found only such records
   * pops again.
   */
  popInto(ring: Ring, max: number, out: unknown[], sentAt: number[] | null, at = 0): number {
    const c = this.core;
    this.popFailed = false;
    const bad = this.badRecords.get(ring.ptr), expected = this.expected.get(ring.ptr);
    for (;;) {
      const n = c.x.queue_pop_batch(ring.ptr, c.scratch, c.scratchBytes, max);
      if (n <= 0) return 0;
      if (this.remote) this.took();
      this.wakeSpace(ring);
      // an array being appended to is sized once, not grown record by record (copies)
      const sized = out.length === at;
      if (sized) out.length = at + n;
      let j = 0;
      for (let k = 0, p = c.scratch; k < n; k++) {
        const len = c.dv.getUint32(p, true);
        if (sentAt !== null) sentAt[j] = recordTimestamp(c.dv, p + FRAME_PREFIX);
        try { out[at + j] = decodeFrom(c.mem, c.dv, p + FRAME_PREFIX, len, expected); j++; } catch (e) {
          if (bad !== undefined) bad(c.mem.slice(p + FRAME_PREFIX, p + FRAME_PREFIX + len), e);
          else { out[at + j++] = e; this.popFailed = true; }
        }
        p += frameBytes(len);
      }
      if (sized && j < n) out.length = at + j;
      if (j > 0) return j;
    }
  }
}

/**
 * Sets `enqueued` on a refusal of a batch push: how many of its messages went in before it
 * (what a caller that sends the rest elsewhere must leave out). `replace`: an inner count,
 * relative to a later part of the batch, becomes the whole batch's.
 */
function withEnqueued<E>(e: E, enqueued: number, replace = false): E {
  if (e !== null && typeof e === 'object' && (replace || (e as { enqueued?: number }).enqueued === undefined)) (e as { enqueued?: number }).enqueued = enqueued;
  return e;
}

/** What pushMany's encode gives for a message whose encode threw (below any size's negative). */
const ENCODE_FAILED = -(2 ** 31);

/**
 * The error for a message whose encode threw (a field set, after the message was made, to a
 * value of another type; encodeInto's error names the field): names the kernel and the operation.
 */
function encodeFailure(e: unknown, m: Message, who: Who, targetId: string, rest: string): Error {
  if (e instanceof RingKernelError) return e;
  return new MessageEncodeError(`${who.operation} to kernel '${targetId}': a ${m.constructor.name} does not encode: ${e instanceof Error ? e.message : String(e)}; ${rest}`, who);
}
