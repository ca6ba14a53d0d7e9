// ring.ts — the bounded, lock-free, multi-producer / single-consumer message queue that
// every ring kernel's mailbox is made of. Records are opaque byte strings (the codec gives
// them meaning); the queue only moves them, in priority order, under one of three
// backpressure strategies.
//
// This comment is the specification of the shared-memory layout. The owner (js/core.ts)
// carves a region of queue_bytes(capacity, bandBytes) bytes, 64-byte aligned, and calls
// queue_init on it once; from then on any thread holding the same WebAssembly.Memory may
// push, and exactly one thread at a time may pop.
//
//   QUEUE HEADER (256 bytes, four cache lines)
//   line 0, written once by queue_init, then read-only (but `closed`)
//      0  u32 capacity     most messages queued over all bands (power of two)
//      4  u32 maxRecord    largest record accepted, in bytes
//      8  u32 bandBytes    arena bytes per band (power of two, >= maxRecord)
//     12  u32 strategy     0 BLOCK, 1 REJECT, 2 DROP_OLDEST
//     16  u32 doorbell     address of the consumer's doorbell (see below); by default the
//                          queue's own at offset 192, the scheduler may point it at a thread's
//     20  u32 closed       0 open, 1 closed: pushes fail, pops drain what is left
//   line 1, every producer and the consumer
//     64  i32 depth        messages accepted and not yet removed, all bands
//     68  u32 highWater    largest depth ever seen
//     72  u64 enqueued     messages accepted
//     80  u64 rejected     messages refused (REJECT, or a BLOCK push that timed out)
//     88  u64 dropped      messages discarded by DROP_OLDEST
//   line 2, the consumer
//    128  u64 dequeued     messages popped
//    136  i32 spaceSeq     futex word: producers waiting for room sleep on it
//    140  i32 spaceSleepers
//   line 3
//    192  the queue's own doorbell: i32 seq, i32 sleepers
//
//   BAND HEADERS (4 x 128 bytes from offset 256; band 0 is received first)
//   band b covers priorities: 0 = 224..255 (system), 1 = 160..223 (high),
//   2 = 64..159 (normal, the default 128), 3 = 0..63 (low). FIFO within a band.
//      0  u64 head         reserved by producers: lo32 byte position, hi32 message index
//      8  u32 slots        address of the band's slot array
//     12  u32 arena        address of the band's byte arena
//     64  u64 tail         released by the consumer (or a DROP_OLDEST producer), same form
//
//   SLOTS (per band, capacity x 8 bytes): slot i % capacity describes message i of the band
//      0  u32 seq          i + 1 once message i is fully written ("committed")
//      4  u32 len          record length in bytes
//
//   ARENAS (per band, bandBytes): record i starts at byte position lo32(head) when it was
//   reserved and takes align8(len) bytes; a record may wrap past the arena's end and
//   continue at its start (it is copied out in two pieces).
//
// Why this shape:
// - A producer reserves a message index and its bytes in one 64-bit compare-and-swap on
//   `head`, so records sit in the arena in the order they were reserved and are released
//   in that order; several producers write their records at once and commit out of order,
//   and the per-slot sequence number tells the consumer which ones are complete.
// - `depth` bounds the whole queue, so a capacity of N means N messages across all bands;
//   each band has N slots, so a band never runs out of slots before `depth` says full.
// - Popping copies the record out and only then moves `tail` with a compare-and-swap. A
//   DROP_OLDEST producer discards by moving `tail` the same way, so a pop that raced with a
//   drop sees its swap fail and throws its copy away: nothing is ever read half-overwritten.
// - Waiting: the consumer sleeps on a doorbell {seq, sleepers}; a producer rings it (bumps
//   seq, notifies) only when someone sleeps, so the common case costs one load. Producers
//   blocked for room sleep on spaceSeq the same way. Counting sleepers first and re-checking
//   the queue before waiting closes the lost-wake-up window (all atomics are sequentially
//   consistent).

// ---- layout constants (the only place they are written down) ----
const CAPACITY: u32 = 0;
const MAX_RECORD: u32 = 4;
const BAND_BYTES: u32 = 8;
const STRATEGY: u32 = 12;
const DOORBELL: u32 = 16;
const CLOSED: u32 = 20;
const DEPTH: u32 = 64;
const HIGH_WATER: u32 = 68;
const ENQUEUED: u32 = 72;
const REJECTED: u32 = 80;
const DROPPED: u32 = 88;
const DEQUEUED: u32 = 128;
const SPACE_SEQ: u32 = 136;
const SPACE_SLEEPERS: u32 = 140;
const OWN_DOORBELL: u32 = 192;
const BANDS: u32 = 256;
const BAND_HEADER: u32 = 128;
const BAND_COUNT: u32 = 4;
const HEAD: u32 = 0;
const SLOTS: u32 = 8;
const ARENA: u32 = 12;
const TAIL: u32 = 64;
const SLOT_BYTES: u32 = 8;
export const QUEUE_HEADER_BYTES: u32 = BANDS + BAND_COUNT * BAND_HEADER;

// doorbell: {seq, sleepers}
const DB_SEQ: u32 = 0;
const DB_SLEEPERS: u32 = 4;

// strategies
export const BLOCK: u32 = 0;
export const REJECT: u32 = 1;
export const DROP_OLDEST: u32 = 2;

// results (>= 0 means success: 0 for a push, the record length for a pop)
export const OK: i32 = 0;
export const EMPTY: i32 = -1;
export const FULL: i32 = -2;
export const TOO_LARGE: i32 = -3;
export const TIMEOUT: i32 = -4;
export const CLOSED_ERR: i32 = -5;
export const DST_TOO_SMALL: i32 = -6;
export const BAD_ARGUMENT: i32 = -7;

// which counter queue_stat reads
export const STAT_DEPTH: i32 = 0;
export const STAT_HIGH_WATER: i32 = 1;
export const STAT_ENQUEUED: i32 = 2;
export const STAT_DEQUEUED: i32 = 3;
export const STAT_REJECTED: i32 = 4;
export const STAT_DROPPED: i32 = 5;
export const STAT_CAPACITY: i32 = 6;
export const STAT_MAX_RECORD: i32 = 7;
export const STAT_BAND_BYTES: i32 = 8;
export const STAT_STRATEGY: i32 = 9;
export const STAT_CLOSED: i32 = 10;

// How many times a blocked producer or consumer re-tries before it sleeps: a context switch
// costs microseconds, the other side usually makes room sooner than that.
const SPIN_TRIES: i32 = 64;

@inline function align8(n: u32): u32 { return (n + 7) & ~7; }
@inline function lo(v: u64): u32 { return <u32>v; }
@inline function hi(v: u64): u32 { return <u32>(v >> 32); }
@inline function pack(index: u32, pos: u32): u64 { return (<u64>index << 32) | <u64>pos; }
@inline function isPow2(n: u32): bool { return n != 0 && (n & (n - 1)) == 0; }

/** Band that holds a message of this priority (0 is received first). */
@inline export function bandOf(priority: u32): u32 {
  return priority >= 224 ? 0 : priority >= 160 ? 1 : priority >= 64 ? 2 : 3;
}

@inline function band(q: usize, b: u32): usize { return q + BANDS + b * BAND_HEADER; }

/** Bytes a queue of this shape occupies (header, slots, arenas). */
export function queue_bytes(capacity: u32, bandBytes: u32): u32 {
  return QUEUE_HEADER_BYTES + BAND_COUNT * capacity * SLOT_BYTES + BAND_COUNT * bandBytes;
}

/** Lays out a queue in [q, q + queue_bytes). Returns OK or BAD_ARGUMENT. */
export function queue_init(q: usize, capacity: u32, maxRecord: u32, bandBytes: u32, strategy: u32): i32 {
  if ((q & 63) != 0 || !isPow2(capacity) || !isPow2(bandBytes) || maxRecord == 0 ||
      maxRecord > bandBytes || strategy > DROP_OLDEST || bandBytes > 0x40000000) return BAD_ARGUMENT;
  memory.fill(q, 0, QUEUE_HEADER_BYTES);
  store<u32>(q, capacity, CAPACITY);
  store<u32>(q, maxRecord, MAX_RECORD);
  store<u32>(q, bandBytes, BAND_BYTES);
  store<u32>(q, strategy, STRATEGY);
  store<u32>(q, <u32>(q + OWN_DOORBELL), DOORBELL);
  let slots = q + QUEUE_HEADER_BYTES;
  let arena = slots + BAND_COUNT * capacity * SLOT_BYTES;
  memory.fill(slots, 0, BAND_COUNT * capacity * SLOT_BYTES);
  for (let b: u32 = 0; b < BAND_COUNT; b++) {
    let bh = band(q, b);
    store<u32>(bh, <u32>(slots + b * capacity * SLOT_BYTES), SLOTS);
    store<u32>(bh, <u32>(arena + b * bandBytes), ARENA);
  }
  atomic.fence();
  return OK;
}

/** Points the queue's wake-ups at another doorbell (a consuming thread's). 0 = its own. */
export function queue_set_doorbell(q: usize, doorbell: usize): void {
  atomic.store<u32>(q, doorbell == 0 ? <u32>(q + OWN_DOORBELL) : <u32>doorbell, DOORBELL);
}

export function queue_doorbell(q: usize): usize { return <usize>atomic.load<u32>(q, DOORBELL); }

// ---- doorbells ----

/** Wakes whoever sleeps on the doorbell; one load when nobody does. */
export function doorbell_ring(db: usize): void {
  if (atomic.load<i32>(db, DB_SLEEPERS) != 0) {
    atomic.add<i32>(db, 1, DB_SEQ);
    atomic.notify(db + DB_SEQ, -1);
  }
}

/** Announces a sleeper; returns the seq value to wait on. Re-check the condition, then wait. */
export function doorbell_enter(db: usize): i32 {
  atomic.add<i32>(db, 1, DB_SLEEPERS);
  return atomic.load<i32>(db, DB_SEQ);
}

export function doorbell_leave(db: usize): void { atomic.sub<i32>(db, 1, DB_SLEEPERS); }

/** Blocks (worker threads only) until the doorbell rings after `seq` or timeoutMs passes. */
export function doorbell_wait(db: usize, seq: i32, timeoutMs: f64): void {
  let ns: i64 = timeoutMs < 0 ? -1 : <i64>(timeoutMs * 1e6);
  memory.atomic.wait32(db + DB_SEQ, seq, ns);
}

// ---- copying records in and out of an arena (a record may wrap) ----

@inline function copyIn(arena: usize, mask: u32, pos: u32, src: usize, len: u32): void {
  let off = pos & mask;
  let first = min(len, mask + 1 - off);
  memory.copy(arena + off, src, first);
  if (first < len) memory.copy(arena, src + first, len - first);
}

@inline function copyOut(arena: usize, mask: u32, pos: u32, dst: usize, len: u32): void {
  let off = pos & mask;
  let first = min(len, mask + 1 - off);
  memory.copy(dst, arena + off, first);
  if (first < len) memory.copy(dst + first, arena, len - first);
}

// ---- push ----

/** Takes one unit of `depth` unless the queue is full. */
@inline function takeDepth(q: usize, capacity: u32): i32 {
  let d = atomic.load<i32>(q, DEPTH);
  while (true) {
    if (<u32>d >= capacity) return -1;
    let seen = atomic.cmpxchg<i32>(q, d, d + 1, DEPTH);
    if (seen == d) return d + 1;
    d = seen;
  }
  return -1;
}

@inline function noteHighWater(q: usize, d: u32): void {
  let hw = atomic.load<u32>(q, HIGH_WATER);
  while (d > hw) {
    let seen = atomic.cmpxchg<u32>(q, hw, d, HIGH_WATER);
    if (seen == hw) break;
    hw = seen;
  }
}

/** One attempt: OK, FULL (nothing changed) or CLOSED_ERR. `bandFull` reports which limit. */
function tryPush(q: usize, src: usize, len: u32, b: u32): i32 {
  if (atomic.load<u32>(q, CLOSED) != 0) return CLOSED_ERR;
  let capacity = load<u32>(q, CAPACITY);
  let d = takeDepth(q, capacity);
  if (d < 0) { lastFullBand = -1; return FULL; }
  let bh = band(q, b);
  let bandBytes = load<u32>(q, BAND_BYTES);
  let need = align8(len);
  let h = atomic.load<u64>(bh, HEAD);
  while (true) {
    let t = atomic.load<u64>(bh, TAIL);
    if (lo(h) - lo(t) + need > bandBytes) {
      atomic.sub<i32>(q, 1, DEPTH);
      lastFullBand = <i32>b;
      return FULL;
    }
    let seen = atomic.cmpxchg<u64>(bh, h, pack(hi(h) + 1, lo(h) + need), HEAD);
    if (seen == h) break;
    h = seen;
  }
  let index = hi(h);
  copyIn(<usize>load<u32>(bh, ARENA), bandBytes - 1, lo(h), src, len);
  let slot = <usize>load<u32>(bh, SLOTS) + <usize>((index & (capacity - 1)) * SLOT_BYTES);
  store<u32>(slot, len, 4);
  atomic.store<u32>(slot, index + 1, 0);
  atomic.add<u64>(q, 1, ENQUEUED);
  noteHighWater(q, <u32>d);
  doorbell_ring(<usize>atomic.load<u32>(q, DOORBELL));
  return OK;
}

// Thread-local (each instance has its own globals): which band a FULL came from, -1 = depth.
let lastFullBand: i32 = -1;

/** Discards the oldest committed record of band b. Returns true if one was discarded. */
function dropOldestOf(q: usize, b: u32): bool {
  let bh = band(q, b);
  let capacity = load<u32>(q, CAPACITY);
  while (true) {
    let t = atomic.load<u64>(bh, TAIL);
    let index = hi(t);
    let slot = <usize>load<u32>(bh, SLOTS) + <usize>((index & (capacity - 1)) * SLOT_BYTES);
    if (atomic.load<u32>(slot) != index + 1) return false;
    let len = atomic.load<u32>(slot, 4);
    if (atomic.cmpxchg<u64>(bh, t, pack(index + 1, lo(t) + align8(len)), TAIL) == t) {
      atomic.sub<i32>(q, 1, DEPTH);
      atomic.add<u64>(q, 1, DROPPED);
      return true;
    }
  }
  return false;
}

/** Discards the oldest message of the lowest-priority band that has one. */
function dropOldest(q: usize): bool {
  for (let b: i32 = <i32>BAND_COUNT - 1; b >= 0; b--) {
    if (dropOldestOf(q, <u32>b)) return true;
  }
  return false;
}

/**
 * Pushes one record of `len` bytes from `src` with a priority (0..255). Never blocks.
 * BLOCK: FULL when there is no room (the caller waits and retries; nothing is counted).
 * REJECT: FULL when there is no room, counted in `rejected`; queued data is untouched.
 * DROP_OLDEST: always OK; the oldest queued message of the lowest non-empty band (or of the
 * record's own band when that arena is what lacks room) is discarded and counted.
 * TOO_LARGE when len > maxRecord, CLOSED_ERR after queue_close; nothing changes then.
 */
export function queue_push(q: usize, src: usize, len: u32, priority: u32): i32 {
  if (len > load<u32>(q, MAX_RECORD)) return TOO_LARGE;
  if (priority > 255) return BAD_ARGUMENT;
  let b = bandOf(priority);
  let strategy = load<u32>(q, STRATEGY);
  while (true) {
    let r = tryPush(q, src, len, b);
    if (r != FULL) return r;
    if (strategy == REJECT) { atomic.add<u64>(q, 1, REJECTED); return FULL; }
    if (strategy == BLOCK) return FULL;
    // DROP_OLDEST: make room where it is lacking. A record being written right now cannot
    // be dropped yet; its producer is about to commit, so try again.
    if (lastFullBand >= 0) dropOldestOf(q, <u32>lastFullBand);
    else dropOldest(q);
  }
  return FULL;
}

/** Counts a message the caller gave up on (a BLOCK push that timed out). */
export function queue_note_rejected(q: usize): void { atomic.add<u64>(q, 1, REJECTED); }

/**
 * queue_push for threads that may block (workers): under BLOCK waits up to timeoutMs
 * (negative: forever) for room, then returns TIMEOUT and counts the message as rejected.
 */
export function queue_push_wait(q: usize, src: usize, len: u32, priority: u32, timeoutMs: f64): i32 {
  let r = queue_push(q, src, len, priority);
  if (r != FULL || load<u32>(q, STRATEGY) != BLOCK) return r;
  let deadline = timeoutMs < 0 ? Infinity : now() + timeoutMs;
  for (let i = 0; i < SPIN_TRIES; i++) {
    r = queue_push(q, src, len, priority);
    if (r != FULL) return r;
  }
  while (true) {
    let seq = queue_space_enter(q);
    r = queue_push(q, src, len, priority);
    if (r != FULL) { queue_space_leave(q); return r; }
    let left = deadline - now();
    if (left <= 0) { queue_space_leave(q); queue_note_rejected(q); return TIMEOUT; }
    memory.atomic.wait32(q + SPACE_SEQ, seq, left == Infinity ? -1 : <i64>(left * 1e6));
    queue_space_leave(q);
  }
  return TIMEOUT;
}

/** Announces a producer waiting for room; returns the value to wait on (JS: waitAsync). */
export function queue_space_enter(q: usize): i32 {
  atomic.add<i32>(q, 1, SPACE_SLEEPERS);
  return atomic.load<i32>(q, SPACE_SEQ);
}
export function queue_space_leave(q: usize): void { atomic.sub<i32>(q, 1, SPACE_SLEEPERS); }
export function queue_space_word(q: usize): usize { return q + SPACE_SEQ; }

@inline function signalSpace(q: usize): void {
  if (atomic.load<i32>(q, SPACE_SLEEPERS) != 0) {
    atomic.add<i32>(q, 1, SPACE_SEQ);
    atomic.notify(q + SPACE_SEQ, -1);
  }
}

// ---- pop ----

/** Copies the next record (highest band first) to dst and removes it; no wake-ups. */
function tryPop(q: usize, dst: usize, cap: u32): i32 {
  if (atomic.load<i32>(q, DEPTH) == 0) return atomic.load<u32>(q, CLOSED) != 0 ? CLOSED_ERR : EMPTY;
  let capacity = load<u32>(q, CAPACITY);
  let mask = load<u32>(q, BAND_BYTES) - 1;
  for (let b: u32 = 0; b < BAND_COUNT; b++) {
    let bh = band(q, b);
    while (true) {
      let t = atomic.load<u64>(bh, TAIL);
      let index = hi(t);
      let slot = <usize>load<u32>(bh, SLOTS) + <usize>((index & (capacity - 1)) * SLOT_BYTES);
      if (atomic.load<u32>(slot) != index + 1) break; // empty, or oldest still being written
      let len = atomic.load<u32>(slot, 4);
      if (len > cap) {
        if (atomic.load<u64>(bh, TAIL) == t) return DST_TOO_SMALL;
        continue;
      }
      copyOut(<usize>load<u32>(bh, ARENA), mask, lo(t), dst, len);
      if (atomic.cmpxchg<u64>(bh, t, pack(index + 1, lo(t) + align8(len)), TAIL) == t) {
        atomic.sub<i32>(q, 1, DEPTH);
        atomic.store<u64>(q, atomic.load<u64>(q, DEQUEUED) + 1, DEQUEUED);
        return <i32>len;
      }
      // a DROP_OLDEST producer discarded it while we copied: our copy is void, go again
    }
  }
  return atomic.load<u32>(q, CLOSED) != 0 ? CLOSED_ERR : EMPTY;
}

/**
 * Pops the next record into dst (cap bytes): its length, EMPTY, CLOSED_ERR (closed and
 * drained) or DST_TOO_SMALL (nothing removed). Single consumer.
 */
export function queue_pop(q: usize, dst: usize, cap: u32): i32 {
  let r = tryPop(q, dst, cap);
  if (r >= 0) signalSpace(q);
  return r;
}

/** queue_pop for worker threads: waits up to timeoutMs (negative: forever) for a record. */
export function queue_pop_wait(q: usize, dst: usize, cap: u32, timeoutMs: f64): i32 {
  let r = queue_pop(q, dst, cap);
  if (r != EMPTY) return r;
  let deadline = timeoutMs < 0 ? Infinity : now() + timeoutMs;
  for (let i = 0; i < SPIN_TRIES; i++) {
    r = queue_pop(q, dst, cap);
    if (r != EMPTY) return r;
  }
  let db = <usize>atomic.load<u32>(q, DOORBELL);
  while (true) {
    let seq = doorbell_enter(db);
    r = queue_pop(q, dst, cap);
    if (r != EMPTY) { doorbell_leave(db); return r; }
    let left = deadline - now();
    if (left <= 0) { doorbell_leave(db); return TIMEOUT; }
    memory.atomic.wait32(db + DB_SEQ, seq, left == Infinity ? -1 : <i64>(left * 1e6));
    doorbell_leave(db);
  }
  return TIMEOUT;
}

/**
 * Pushes `count` records laid out at src as [u32 len][bytes, padded to 4]... with one
 * priority. Stops at the first record that is not accepted; returns how many were, or the
 * error of the first record when none was (TOO_LARGE, FULL, CLOSED_ERR).
 */
export function queue_push_batch(q: usize, src: usize, count: u32, priority: u32): i32 {
  let p = src;
  for (let i: u32 = 0; i < count; i++) {
    let len = load<u32>(p);
    let r = queue_push(q, p + 4, len, priority);
    if (r != OK) return i == 0 ? r : <i32>i;
    p += 4 + ((len + 3) & ~3);
  }
  return <i32>count;
}

/**
 * Pops up to maxCount records into dst (cap bytes) as [u32 len][bytes, padded to 4]...
 * Returns how many, or EMPTY / CLOSED_ERR / DST_TOO_SMALL when none.
 */
export function queue_pop_batch(q: usize, dst: usize, cap: u32, maxCount: u32): i32 {
  let p = dst;
  let end = dst + cap;
  let n: u32 = 0;
  let r: i32 = EMPTY;
  while (n < maxCount && p + 4 <= end) {
    r = tryPop(q, p + 4, <u32>(end - p - 4));
    if (r < 0) break;
    store<u32>(p, <u32>r);
    p += 4 + ((<u32>r + 3) & ~3);
    n++;
  }
  if (n > 0) { signalSpace(q); return <i32>n; }
  return r;
}

/** Closes the queue: pushes fail with CLOSED_ERR, everyone waiting wakes up. */
export function queue_close(q: usize): void {
  atomic.store<u32>(q, 1, CLOSED);
  atomic.add<i32>(q, 1, SPACE_SEQ);
  atomic.notify(q + SPACE_SEQ, -1);
  let db = <usize>atomic.load<u32>(q, DOORBELL);
  atomic.add<i32>(db, 1, DB_SEQ);
  atomic.notify(db + DB_SEQ, -1);
}

/** True when a pop would find nothing committed (cheap, for schedulers). */
export function queue_is_empty(q: usize): bool {
  if (atomic.load<i32>(q, DEPTH) == 0) return true;
  let capacity = load<u32>(q, CAPACITY);
  for (let b: u32 = 0; b < BAND_COUNT; b++) {
    let bh = band(q, b);
    let index = hi(atomic.load<u64>(bh, TAIL));
    let slot = <usize>load<u32>(bh, SLOTS) + <usize>((index & (capacity - 1)) * SLOT_BYTES);
    if (atomic.load<u32>(slot) == index + 1) return false;
  }
  return true;
}

/** Reads one counter or setting (STAT_*), as f64 so 64-bit counts reach JS whole. */
export function queue_stat(q: usize, which: i32): f64 {
  switch (which) {
    case STAT_DEPTH: return <f64>atomic.load<i32>(q, DEPTH);
    case STAT_HIGH_WATER: return <f64>atomic.load<u32>(q, HIGH_WATER);
    case STAT_ENQUEUED: return <f64>atomic.load<u64>(q, ENQUEUED);
    case STAT_DEQUEUED: return <f64>atomic.load<u64>(q, DEQUEUED);
    case STAT_REJECTED: return <f64>atomic.load<u64>(q, REJECTED);
    case STAT_DROPPED: return <f64>atomic.load<u64>(q, DROPPED);
    case STAT_CAPACITY: return <f64>load<u32>(q, CAPACITY);
    case STAT_MAX_RECORD: return <f64>load<u32>(q, MAX_RECORD);
    case STAT_BAND_BYTES: return <f64>load<u32>(q, BAND_BYTES);
    case STAT_STRATEGY: return <f64>load<u32>(q, STRATEGY);
    case STAT_CLOSED: return <f64>atomic.load<u32>(q, CLOSED);
  }
  return -1;
}

// Milliseconds from the host clock (performance.now); imported so waits can have deadlines.
@external("env", "now")
declare function now(): f64;
