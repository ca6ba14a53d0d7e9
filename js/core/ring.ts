// ring.ts — a JS handle on one queue of the wasm core (assembly/ring.ts has the layout).
// Records go in and out through this thread's scratch area: push copies the bytes there
// (or an encoder wrote them there already) and the core copies them into the ring; pop
// has the core copy the record into scratch and hands back a copy, so the caller owns it.

import { type Core, type OwnerCore, Status, Strategy, QueueStat, QUEUE_STATS, type QueueStats } from './core.js';
import { hasWaitAsync, monotonicNow as now, waitAsync } from '../platform.js';
import { DEFAULT_PRIORITY, FRAME_PREFIX, frameBytes } from '../message/record.js';

export interface RingOptions {
  /** Most messages queued at once, all priorities together. */
  capacity: number;
  /** Largest record accepted, in bytes. */
  maxRecord: number;
  /** Arena bytes per priority band (a power of two); default: room for `capacity` 256-byte records (up to 16 MiB), at least maxRecord. */
  bandBytes?: number;
  strategy: Strategy;
}


export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class Ring {
  readonly core: Core;
  readonly ptr: number;
  readonly maxRecord: number;
  readonly strategy: Strategy;

  constructor(core: Core, ptr: number) {
    this.core = core;
    this.ptr = ptr;
    this.maxRecord = core.x.queue_stat(ptr, QueueStat.MAX_RECORD);
    this.strategy = core.x.queue_stat(ptr, QueueStat.STRATEGY) as Strategy;
  }

  /** Carves and lays out a new queue (owner thread only). */
  static create(core: OwnerCore, options: RingOptions): Ring {
    const capacity = options.capacity;
    const bandBytes = nextPow2(options.bandBytes ?? Math.max(options.maxRecord, Math.min(capacity * 256, 1 << 24)));
    const bytes = core.x.queue_bytes(capacity, bandBytes);
    const ptr = core.alloc(bytes);
    const r = core.x.queue_init(ptr, capacity, options.maxRecord, bandBytes, options.strategy);
    if (r !== Status.OK) {
      core.free(ptr);
      throw new RangeError(`ringkernel: cannot lay out a queue of capacity ${capacity}, maxRecord ${options.maxRecord}, bandBytes ${bandBytes}`);
    }
    return new Ring(core, ptr);
  }

  /** Pushes the `len` bytes already staged at the start of scratch. Never blocks. */
  pushStaged(len: number, priority = DEFAULT_PRIORITY): Status {
    return this.core.x.queue_push(this.ptr, this.core.scratch, len, priority);
  }

  /** Pushes a copy of `bytes`. Never blocks: FULL under BLOCK means "wait and retry". */
  push(bytes: Uint8Array, priority = DEFAULT_PRIORITY): Status {
    if (bytes.length > this.maxRecord) return Status.TOO_LARGE;
    const c = this.core;
    c.mem.set(bytes, c.scratch);
    return c.x.queue_push(this.ptr, c.scratch, bytes.length, priority);
  }

  /** Pops the next record into scratch: its length, or EMPTY / CLOSED. */
  popStaged(): number {
    const c = this.core;
    return c.x.queue_pop(this.ptr, c.scratch, c.scratchBytes);
  }

  /** Pops the next record as a fresh Uint8Array, or null when there is none (or closed). */
  pop(): Uint8Array | null {
    const c = this.core;
    const n = c.x.queue_pop(this.ptr, c.scratch, c.scratchBytes);
    return n >= 0 ? c.mem.slice(c.scratch, c.scratch + n) : null;
  }

  /**
   * Pushes several records with one priority in one call into the core. Returns how many
   * were accepted (the rest did not fit), or a negative Status when none was.
   */
  pushBatch(records: readonly Uint8Array[], priority = DEFAULT_PRIORITY): number {
    const c = this.core;
    let p = c.scratch;
    const end = c.scratch + c.scratchBytes;
    let count = 0;
    for (const r of records) {
      if (r.length > this.maxRecord) { if (count === 0) return Status.TOO_LARGE; break; }
      const next = p + frameBytes(r.length);
      if (next > end) break;
      c.dv.setUint32(p, r.length, true);
      c.mem.set(r, p + FRAME_PREFIX);
      p = next;
      count++;
    }
    return c.x.queue_push_batch(this.ptr, c.scratch, count, priority);
  }

  /** Pops up to `max` records in one call into the core. */
  popBatch(max: number): Uint8Array[] {
    const c = this.core;
    const n = c.x.queue_pop_batch(this.ptr, c.scratch, c.scratchBytes, max);
    const out: Uint8Array[] = [];
    let p = c.scratch;
    for (let i = 0; i < n; i++) {
      const len = c.dv.getUint32(p, true);
      out.push(c.mem.slice(p + FRAME_PREFIX, p + FRAME_PREFIX + len));
      p += frameBytes(len);
    }
    return out;
  }

  /** Worker threads: pushes, waiting up to timeoutMs for room under BLOCK (-1: forever). */
  pushWait(bytes: Uint8Array, priority = DEFAULT_PRIORITY, timeoutMs = -1): Status {
    if (bytes.length > this.maxRecord) return Status.TOO_LARGE;
    const c = this.core;
    c.mem.set(bytes, c.scratch);
    return c.x.queue_push_wait(this.ptr, c.scratch, bytes.length, priority, timeoutMs);
  }

  /**
   * Any thread, without blocking it: pushes, waiting (Atomics.waitAsync) up to timeoutMs
   * for room under BLOCK. Returns OK, FULL (REJECT), TIMEOUT (counted as rejected),
   * TOO_LARGE or CLOSED.
   */
  async pushAsync(bytes: Uint8Array, priority = DEFAULT_PRIORITY, timeoutMs = -1): Promise<Status> {
    const r = this.push(bytes, priority);
    if (r !== Status.FULL || this.strategy !== Strategy.BLOCK) return r;
    const deadline = timeoutMs < 0 ? Infinity : now() + timeoutMs;
    const space = this.core.x.queue_space_word(this.ptr);
    return this.pushWhenRoom(bytes, priority, deadline, (seq, ms) => this.sleep(space, seq, ms));
  }

  /**
   * Pushes a copy of `bytes` under BLOCK once there is room (pushAsync, and every send of
   * the runtime that finds the queue full): `wait(seq, ms)` sleeps until a pop moves the
   * queue's space word off `seq`, or ms pass. Gives up at `deadline` (monotonicNow(); TIMEOUT,
   * counted as rejected), or throws what `cancelled` returns once it returns an error.
   * Otherwise returns what the push that went in (or was refused for good) returned.
   */
  async pushWhenRoom(bytes: Uint8Array, priority: number, deadline: number, wait: (seq: number, ms: number) => Promise<void>,
    cancelled?: () => Error | null): Promise<Status> {
    const x = this.core.x;
    for (;;) {
      const stop = cancelled?.();
      if (stop) throw stop;
      const seq = x.queue_space_enter(this.ptr);
      try {
        const r = this.push(bytes, priority);
        if (r !== Status.FULL) return r;
        const left = deadline - now();
        if (left <= 0) { x.queue_note_rejected(this.ptr); return Status.TIMEOUT; }
        await wait(seq, left);
      } finally {
        x.queue_space_leave(this.ptr);
      }
    }
  }

  /** Any thread, without blocking it: pops, waiting up to timeoutMs. null on timeout or closed. */
  async popAsync(timeoutMs = -1): Promise<Uint8Array | null> {
    const first = this.pop();
    if (first || this.closed) return first;
    const x = this.core.x;
    const db = x.queue_doorbell(this.ptr);
    const deadline = timeoutMs < 0 ? Infinity : now() + timeoutMs;
    for (;;) {
      const seq = x.doorbell_enter(db);
      const got = this.pop();
      if (got || this.closed) { x.doorbell_leave(db); return got; }
      const left = deadline - now();
      if (left <= 0) { x.doorbell_leave(db); return null; }
      await this.sleep(db, seq, left);
      x.doorbell_leave(db);
    }
  }

  /**
   * Waits until the i32 at `addr` is no longer `seq` or `ms` pass. Over a non-shared memory
   * (one thread) nobody else can ring, so it yields to the event loop for a moment instead.
   */
  private async sleep(addr: number, seq: number, ms: number): Promise<void> {
    const c = this.core;
    if (c.shared && hasWaitAsync) {
      const w = waitAsync(c.memory, addr, seq, ms);
      if (!w.async) return;
      if (ms === Infinity) { await w.value; return; }
      // Node does not keep its event loop alive for a pending waitAsync: a timer does.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([w.value, new Promise((resolve) => { timer = setTimeout(resolve, ms + 1); })]);
      clearTimeout(timer);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(ms, 1)));
  }

  get closed(): boolean { return this.core.x.queue_stat(this.ptr, QueueStat.CLOSED) !== 0; }
  get depth(): number { return this.core.x.queue_stat(this.ptr, QueueStat.DEPTH); }
  get empty(): boolean { return this.core.x.queue_is_empty(this.ptr) !== 0; }

  stats(): QueueStats {
    const s = {} as QueueStats;
    QUEUE_STATS.forEach((name, i) => { s[name] = this.core.x.queue_stat(this.ptr, i); });
    return s;
  }

  /** Refuses further pushes and wakes everyone waiting on the queue. */
  close(): void { this.core.x.queue_close(this.ptr); }
}
