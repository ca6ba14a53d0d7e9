// ring.ts — the bounded, lock-free, multi-producer message queue that
// every ring kernel's mailbox is made of. Records are opaque byte strings (the codec gives
// them meaning); the queue only moves them, in priority order, under one of three
// backpressure strategies.
//
// This comment is the specification of the shared-memory layout. The owner (js/core/core.ts)
// carves a region of queue_bytes(capacity, bandBytes) bytes, 64-byte aligned, and calls
// queue_init on it once; from then on any thread holding the same WebAssembly.Memory may
// push and pop. It is built for one consumer at a time (a kernel drains its mailbox), but
// consumers racing each other are safe too: each record goes to exactly one of them.
//
//   QUEUE HEADER (320 bytes, five cache lines; hot words of producers and of the consumer
//   live on different lines, so a steady stream bounces only the lines the data is on)
//   line 0, written once by queue_init, then read-only (but `closed`)
//      0  u32 capacity     most messages queued over all bands
//      4  u32 maxRecord    largest record accepted, in bytes
//      8  u32 bandBytes    arena bytes per band (power of two, >= maxRecord)
//     12  u32 strategy     0 BLOCK, 1 REJECT, 2 DROP_OLDEST
//     16  u32 doorbell     address of the consumer's doorbell (see below); by default the
//                          queue's own at offset 256, the scheduler may point it at a thread's
//     20  u32 closed       0 open, 1 closed: pushes fail, pops drain what is left
//     24  u32 slotMask     slots per band - 1 (slots per band: capacity rounded up to a power of two)
//   line 1, producers
//     64  u64 admitted     messages admitted (= enqueued); taken before a record is reserved
//     72  u32 releasedSeen producers' last look at `released` (may lag: only ever too small)
//     76  u32 highWater    largest depth seen (sampled exactly when a new high is suspected)
//     80  u64 rejected     messages refused (REJECT, or a BLOCK push that timed out)
//     88  u64 dropped      messages discarded by DROP_OLDEST
//   line 2 (unused: keeps the consumers' tails' neighbours quiet)
//   line 3, producers blocked for room: a doorbell of their own (same shape as below)
//    192  i32 spaceSeq     futex word they sleep on
//    196  i32 spaceSleepers
//    200  i32 spaceWaitSeq
//   line 4
//    256  the queue's own doorbell: i32 seq, i32 sleepers, i32 waitSeq
//   `released` (messages popped or dropped, mod 2^32) is the sum of the bands' tail indices,
//   so consumers keep no shared counter of their own: depth = admitted - released, and
//   dequeued = admitted - depth - dropped.
//
//   BAND HEADERS (4 x 128 bytes from offset 320; band 0 is received first)
//   band b covers priorities: 0 = 224..255 (system), 1 = 160..223 (high),
//   2 = 64..159 (normal, the default 128), 3 = 0..63 (low). FIFO within a band.
//   line 0, producers
//      0  u64 head         reserved by producers: lo32 byte position, hi32 message index
//      8  u32 slots        address of the band's slot array
//     12  u32 arena        address of the band's byte arena
//     16  u32 tailSeen     producers' last look at lo32(tail) (may lag; only ever too small)
//   line 1, consumers
//     64  u64 tail         released by the consumer (or a DROP_OLDEST producer), same form
//     72  u32 slots        the same two addresses again: consumers read these, so that a
//     76  u32 arena        consumer polling an empty band never pulls the producers' line
//                          away from them (sharing line 0 halved cross-thread throughput)
//
//   SLOTS (per band, slotMask + 1 entries of 8 bytes): slotAt(i) describes message i of the
//   band; consecutive messages use consecutive cache lines, interleaved within groups of 64
//   lines (see slotAt)
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
//   and the per-slot sequence number tells the consumer which ones are complete. A push of
//   several records (a batch, a column run) writes every record and the seq words of all
//   but its first slot with plain stores, then the first slot's seq with one atomic store:
//   consumers read slots in order, so none looks at a later slot of the run before it has
//   seen the first committed, and that store makes everything written before it visible
//   (an atomic store a slot cost each one a wait for its line).
// - `admitted - released` bounds the whole queue, so a capacity of N means N messages
//   across all bands; each band has N slots, so a band never runs out of slots first.
//   Producers compare against a cached `releasedSeen` and read the consumer's tails only
//   when that cached view says full (or suggests a new high-water mark): in a steady
//   stream neither side writes a line the other reads, but for the records themselves.
// - Popping copies records out and only then moves `tail`, with one compare-and-swap per
//   band and batch. A DROP_OLDEST producer discards by moving `tail` the same way, and
//   consumers may take turns on other threads, so a pop that raced sees its swap fail and
//   throws its copies away: nothing is ever read half-overwritten, nothing twice.
// - Waiting: the consumer sleeps on a doorbell {seq, sleepers, waitSeq}; a producer rings
//   it (bumps seq, notifies) only when someone sleeps on the current seq, so the common
//   case costs one load, and a sleeper is rung once however many pushes come before it
//   wakes (a notify costs a microsecond or more; an asynchronous waiter takes tens of
//   microseconds to wake). Producers blocked for room sleep on spaceSeq the same way. Counting sleepers first and re-checking
//   the queue before waiting closes the lost-wake-up window (all atomics are sequentially
//   consistent).

import { columnsDecode, columnsDecodeRun, ofColumnsClass, columnsEncodeRun, columnsPriority, COL_RECORD_LEN, COL_PRIORITIES, COL_BLOCKED } from "./columns";

// ---- layout constants (the only place they are written down) ----
const CAPACITY: u32 = 0;
const MAX_RECORD: u32 = 4;
const BAND_BYTES: u32 = 8;
const STRATEGY: u32 = 12;
const DOORBELL: u32 = 16;
const CLOSED: u32 = 20;
const SLOT_MASK: u32 = 24;
const ADMITTED: u32 = 64;
const RELEASED_SEEN: u32 = 72;
const HIGH_WATER: u32 = 76;
const REJECTED: u32 = 80;
const DROPPED: u32 = 88;
const SPACE_SEQ: u32 = 192;
const OWN_DOORBELL: u32 = 256;
const BANDS: u32 = 320;
const BAND_HEADER: u32 = 128;
const BAND_COUNT: u32 = 4;
const HEAD: u32 = 0;
const SLOTS: u32 = 8;
const ARENA: u32 = 12;
const TAIL_SEEN: u32 = 16;
const TAIL: u32 = 64;
const C_SLOTS: u32 = 72;
const C_ARENA: u32 = 76;
const SLOT_BYTES: u32 = 8;
export const QUEUE_HEADER_BYTES: u32 = BANDS + BAND_COUNT * BAND_HEADER;

// doorbell: {seq, sleepers, waitSeq}: waitSeq is the seq the latest sleeper entered at;
// once seq has moved past it, every sleeper has been rung
const DB_SEQ: u32 = 0;
const DB_SLEEPERS: u32 = 4;
const DB_WAIT_SEQ: u32 = 8;

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

/**
 * The slot of message `index`. Consecutive messages go to consecutive cache lines (8 slots
 * a line), so the producer publishing message i + 1 does not write the line a consumer is
 * reading message i from; a slot array of fewer than two lines is used in order. The
 * interleaving is within groups of GROUP_LINES lines (4 KB of slots): a batch of n
 * messages touches n / 8 lines, not n (64K slots spread over a 1M-slot array had cost a
 * cache miss each, on every push and pop of a column batch).
 */
const GROUP_LINES: u32 = 64;
@inline function slotAt(slots: usize, index: u32, slotMask: u32): usize {
  let i = index & slotMask;
  if (slotMask >= 15) {
    let lineMask = min(slotMask >> 3, GROUP_LINES - 1); // lines of a group - 1
    let groupMask = (lineMask << 3) | 7; //                 slots of a group - 1
    let within = i & groupMask;
    i = (i & ~groupMask) | ((within & lineMask) << 3) | (within >> (32 - clz<u32>(lineMask)));
  }
  return slots + <usize>(i * SLOT_BYTES);
}

/**
 * How many of the messages index, index + 1, ... (at most max) are committed with a record
 * of `len` bytes, in order: their slots' seq and len, read as slotAt lays them out, the
 * address of each next slot worked out from the last (the next line, or the next slot of
 * the group's first line) instead of from scratch.
 */
function committedRun(slots: usize, index: u32, max: u32, slotMask: u32, len: u32): u32 {
  let run: u32 = 0;
  if (slotMask < 15) {
    while (run < max) {
      let slot = slots + <usize>(((index + run) & slotMask) * SLOT_BYTES);
      if (atomic.load<u32>(slot) != index + run + 1 || atomic.load<u32>(slot, 4) != len) break;
      run++;
    }
    return run;
  }
  let lineMask = min(slotMask >> 3, GROUP_LINES - 1);
  let groupMask = (lineMask << 3) | 7;
  let shift = 32 - clz<u32>(lineMask);
  while (run < max) {
    let i = (index + run) & slotMask;
    let within = i & groupMask;
    let group = slots + <usize>((i & ~groupMask) * SLOT_BYTES);
    let line = within & lineMask;
    let col = within >> shift;
    let slot = group + <usize>(((line << 3) | col) * SLOT_BYTES);
    let stop = run + min(max - run, groupMask + 1 - within); // the rest of this group
    while (run < stop) {
      if (atomic.load<u32>(slot) != index + run + 1 || atomic.load<u32>(slot, 4) != len) return run;
      run++;
      if (line < lineMask) { line++; slot += 8 * SLOT_BYTES; }
      else { line = 0; col++; slot = group + <usize>(col * SLOT_BYTES); }
    }
  }
  return run;
}

/**
 * Publishes the n slots of messages index, index + 1, ... with plain stores of (seq, len),
 * walking the slots as committedRun does (commit stores the first of a run atomically).
 */
function publishRun(slots: usize, index: u32, n: u32, slotMask: u32, len: u32): void {
  let word = <u64>len << 32;
  if (slotMask < 15) {
    for (let k: u32 = 0; k < n; k++) store<u64>(slots + <usize>(((index + k) & slotMask) * SLOT_BYTES), word | <u64>(index + k + 1));
    return;
  }
  let lineMask = min(slotMask >> 3, GROUP_LINES - 1);
  let groupMask = (lineMask << 3) | 7;
  let shift = 32 - clz<u32>(lineMask);
  let k: u32 = 0;
  while (k < n) {
    let i = (index + k) & slotMask;
    let within = i & groupMask;
    let group = slots + <usize>((i & ~groupMask) * SLOT_BYTES);
    let line = within & lineMask;
    let col = within >> shift;
    let slot = group + <usize>(((line << 3) | col) * SLOT_BYTES);
    let stop = k + min(n - k, groupMask + 1 - within);
    while (k < stop) {
      store<u64>(slot, word | <u64>(index + k + 1));
      k++;
      if (line < lineMask) { line++; slot += 8 * SLOT_BYTES; }
      else { line = 0; col++; slot = group + <usize>(col * SLOT_BYTES); }
    }
  }
}

@inline function band(q: usize, b: u32): usize { return q + BANDS + b * BAND_HEADER; }

/** Bytes a queue of this shape occupies (header, slots, arenas). */
@inline function slotsPerBand(capacity: u32): u32 { return capacity <= 1 ? 1 : <u32>1 << (32 - clz<u32>(capacity - 1)); }

export function queue_bytes(capacity: u32, bandBytes: u32): u32 {
  return QUEUE_HEADER_BYTES + BAND_COUNT * slotsPerBand(capacity) * SLOT_BYTES + BAND_COUNT * bandBytes;
}

/** Lays out a queue in [q, q + queue_bytes). Returns OK or BAD_ARGUMENT. */
export function queue_init(q: usize, capacity: u32, maxRecord: u32, bandBytes: u32, strategy: u32): i32 {
  if ((q & 63) != 0 || capacity == 0 || capacity > 0x1000000 || !isPow2(bandBytes) || maxRecord == 0 ||
      maxRecord > bandBytes || strategy > DROP_OLDEST || bandBytes > 0x40000000) return BAD_ARGUMENT;
  memory.fill(q, 0, QUEUE_HEADER_BYTES);
  store<u32>(q, capacity, CAPACITY);
  store<u32>(q, maxRecord, MAX_RECORD);
  store<u32>(q, bandBytes, BAND_BYTES);
  store<u32>(q, strategy, STRATEGY);
  store<u32>(q, <u32>(q + OWN_DOORBELL), DOORBELL);
  let perBand = slotsPerBand(capacity);
  store<u32>(q, perBand - 1, SLOT_MASK);
  let slots = q + QUEUE_HEADER_BYTES;
  let arena = slots + BAND_COUNT * perBand * SLOT_BYTES;
  memory.fill(slots, 0, BAND_COUNT * perBand * SLOT_BYTES);
  for (let b: u32 = 0; b < BAND_COUNT; b++) {
    let bh = band(q, b);
    store<u32>(bh, <u32>(slots + b * perBand * SLOT_BYTES), SLOTS);
    store<u32>(bh, <u32>(arena + b * bandBytes), ARENA);
    store<u32>(bh, <u32>(slots + b * perBand * SLOT_BYTES), C_SLOTS);
    store<u32>(bh, <u32>(arena + b * bandBytes), C_ARENA);
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

/**
 * Wakes whoever sleeps on the doorbell: one load when nobody does, two when everyone
 * asleep was rung already. Safe against a sleeper entering meanwhile: if this ring skips
 * because it read waitSeq before that sleeper stored it, the sleeper's re-check (after
 * its store) sees what the ringer published before ringing.
 */
export function doorbell_ring(db: usize): void {
  if (atomic.load<i32>(db, DB_SLEEPERS) == 0) return;
  let seq = atomic.load<i32>(db, DB_SEQ);
  if (seq != atomic.load<i32>(db, DB_WAIT_SEQ)) return;
  if (atomic.cmpxchg<i32>(db, seq, seq + 1, DB_SEQ) == seq) atomic.notify(db + DB_SEQ, -1);
}

/** Announces a sleeper; returns the seq value to wait on. Re-check the condition, then wait. */
export function doorbell_enter(db: usize): i32 {
  atomic.add<i32>(db, 1, DB_SLEEPERS);
  while (true) {
    let seq = atomic.load<i32>(db, DB_SEQ);
    if (doorbell_announce(db, seq)) return seq;
  }
  return 0;
}

/**
 * Records that a sleeper waits on `seq`: moves waitSeq up to it, never down. False when seq
 * has moved on meanwhile (read it again). A plain store lost wake-ups: a sleeper on another
 * thread that read seq just before a ring stored the older value after a later sleeper had
 * stored the newer one, so waitSeq fell behind seq, every ring after it was skipped (seq !=
 * waitSeq), and the later sleeper slept until its timeout: under load a worker kernel's
 * producers blocked for room all timed out while its queue stayed full.
 */
export function doorbell_announce(db: usize, seq: i32): bool {
  while (true) {
    let w = atomic.load<i32>(db, DB_WAIT_SEQ);
    if (w == seq) return true;
    if (w - seq > 0) return false; // a later sleeper saw a later seq (differences wrap with the counter)
    if (atomic.cmpxchg<i32>(db, w, seq, DB_WAIT_SEQ) == w) return true;
  }
  return false;
}

export function doorbell_leave(db: usize): void { atomic.sub<i32>(db, 1, DB_SLEEPERS); }

/** Blocks (worker threads only) until the doorbell rings after `seq` or timeoutMs passes. */
export function doorbell_wait(db: usize, seq: i32, timeoutMs: f64): void {
  let ns: i64 = timeoutMs < 0 ? -1 : <i64>(timeoutMs * 1e6);
  memory.atomic.wait32(db + DB_SEQ, seq, ns);
}

// ---- copying records in and out of an arena (a record may wrap) ----

// memory.copy leaves wasm for the engine's memmove; for the small records that dominate a
// message stream, a word loop that stays in compiled code is several times faster.
@inline function copyBytes(dst: usize, src: usize, len: u32): void {
  if (len > 256) { memory.copy(dst, src, len); return; }
  let end = dst + len;
  if (len >= 16) {
    // 16 bytes a load and store, the last 16 overlapping the ones before (source and
    // destination never overlap: a record moves between scratch and an arena)
    let last = v128.load(src + len - 16);
    while (dst + 16 <= end) { v128.store(dst, v128.load(src)); dst += 16; src += 16; }
    v128.store(end - 16, last);
    return;
  }
  while (dst + 8 <= end) { store<u64>(dst, load<u64>(src)); dst += 8; src += 8; }
  while (dst < end) { store<u8>(dst, load<u8>(src)); dst++; src++; }
}

@inline function copyIn(arena: usize, mask: u32, pos: u32, src: usize, len: u32): void {
  let off = pos & mask;
  let first = min(len, mask + 1 - off);
  copyBytes(arena + off, src, first);
  if (first < len) copyBytes(arena, src + first, len - first);
}

@inline function copyOut(arena: usize, mask: u32, pos: u32, dst: usize, len: u32): void {
  let off = pos & mask;
  let first = min(len, mask + 1 - off);
  copyBytes(dst, arena + off, first);
  if (first < len) copyBytes(dst + first, arena, len - first);
}

// ---- push ----

/** Messages removed so far (mod 2^32): the sum of the bands' tail indices. */
@inline function released(q: usize): u32 {
  let r: u32 = 0;
  for (let b: u32 = 0; b < BAND_COUNT; b++) r += hi(atomic.load<u64>(band(q, b), TAIL));
  return r;
}

/** Re-reads `released` into the producers' cache. */
@inline function refreshReleased(q: usize): u32 {
  let r = released(q);
  atomic.store<u32>(q, r, RELEASED_SEEN);
  return r;
}

@inline function noteHighWater(q: usize, d: u32): void {
  let hw = atomic.load<u32>(q, HIGH_WATER);
  while (d > hw) {
    let seen = atomic.cmpxchg<u32>(q, hw, d, HIGH_WATER);
    if (seen == hw) break;
    hw = seen;
  }
}

/**
 * Takes up to `want` units of the queue's capacity; returns how many (0: full). Keeps the
 * high-water mark: when the cached depth suggests a new high, the true depth is sampled.
 */
function admit(q: usize, want: u32): u32 {
  let capacity = load<u32>(q, CAPACITY);
  let a = atomic.load<u64>(q, ADMITTED);
  while (true) {
    let seen = atomic.load<u32>(q, RELEASED_SEEN);
    let free = capacity - min(capacity, <u32>a - seen);
    if (free < want) {
      seen = refreshReleased(q);
      free = capacity - min(capacity, <u32>a - seen);
      if (free == 0) return 0;
    }
    let n = min(want, free);
    let got = atomic.cmpxchg<u64>(q, a, a + n, ADMITTED);
    if (got == a) {
      if (<u32>(a + n) - seen > atomic.load<u32>(q, HIGH_WATER)) noteHighWater(q, <u32>(a + n) - refreshReleased(q));
      return n;
    }
    a = got;
  }
  return 0;
}

// Where the records of a push come from, and where those of a pop go (`mode`):
// - SINGLE: one record of `fixedLen` bytes at src (a pop: one record, bare, at dst);
// - BATCH: `count` records laid out at src as [u32 len][bytes, padded to 4]...;
// - COLUMNS: records of `fixedLen` bytes made from (push) or read into (pop) the columns
//   described at `columnLayout` (columns.ts); the cursor is then the message's index.
const SINGLE: u32 = 0;
const BATCH: u32 = 1;
const COLUMNS: u32 = 2;
@inline function recordLen(p: usize, mode: u32, fixedLen: u32): u32 { return mode == BATCH ? load<u32>(p) : fixedLen; }
@inline function nextRecord(p: usize, len: u32): usize { return p + 4 + <usize>((len + 3) & ~3); }

// Thread-local (each instance has its own globals): where `reserve` put a batch, and which
// band a FULL came from (-1: the message count).
let reservedAt: u64 = 0;
let lastFullBand: i32 = -1;
let lastPopLen: u32 = 0;
let columnLayout: usize = 0;
/** SINGLE: pop the next record only when it is not of the class of the columns at columnLayout (queue_pop_other). */
let othersOnly = false;

/**
 * Reserves room in band bh for as many of the first `count` records as fit: returns how
 * many (0: the arena is full) and leaves their first index and position in `reservedAt`.
 */
function reserve(bh: usize, bandBytes: u32, src: usize, count: u32, mode: u32, fixedLen: u32): u32 {
  let h = atomic.load<u64>(bh, HEAD);
  let first = align8(recordLen(src, mode, fixedLen));
  while (true) {
    let free = bandBytes - (lo(h) - atomic.load<u32>(bh, TAIL_SEEN));
    if (first > free) {
      let t = lo(atomic.load<u64>(bh, TAIL));
      atomic.store<u32>(bh, t, TAIL_SEEN);
      free = bandBytes - (lo(h) - t);
      if (first > free) return 0;
    }
    let n: u32 = 1;
    let bytes = first;
    if (mode == BATCH) {
      let p = nextRecord(src, load<u32>(src));
      while (n < count) {
        let len = load<u32>(p);
        if (bytes + align8(len) > free) break;
        bytes += align8(len);
        p = nextRecord(p, len);
        n++;
      }
    } else if (count > 1) { // records of one length
      n = min(count, free / first);
      bytes = n * first;
    }
    let seen = atomic.cmpxchg<u64>(bh, h, pack(hi(h) + n, lo(h) + bytes), HEAD);
    if (seen == h) { reservedAt = h; return n; }
    h = seen;
  }
  return 0;
}

/** Writes and commits the n records reserved at `reservedAt` in band bh. */
function commit(q: usize, bh: usize, src: usize, n: u32, mode: u32, fixedLen: u32): void {
  let slotMask = load<u32>(q, SLOT_MASK);
  let mask = load<u32>(q, BAND_BYTES) - 1;
  let arena = <usize>load<u32>(bh, ARENA);
  let slots = <usize>load<u32>(bh, SLOTS);
  let index = hi(reservedAt);
  let pos = lo(reservedAt);
  if (mode == COLUMNS) {
    // the records made in place, in one run (columns.ts), then published: every slot but
    // the first with plain stores, then the first with one atomic store. Consumers read
    // slots in order, so none reads a later slot of the run before it has seen the first
    // committed, and that atomic store makes everything written before it visible (one
    // atomic store a record made each wait for its slot's cache line)
    columnsEncodeRun(columnLayout, <u32>src, n, arena, mask + 1, pos);
    publishRun(slots, index + 1, n - 1, slotMask, fixedLen);
    let first = slotAt(slots, index, slotMask);
    store<u32>(first, fixedLen, 4);
    atomic.store<u32>(first, index + 1, 0);
    return;
  }
  // published as a column run is (see "Why this shape")
  let first = slotAt(slots, index, slotMask);
  let firstLen = recordLen(src, mode, fixedLen);
  let p = src;
  for (let i: u32 = 0; i < n; i++) {
    let len = recordLen(p, mode, fixedLen);
    copyIn(arena, mask, pos, mode == BATCH ? p + 4 : p, len);
    if (i != 0) store<u64>(slotAt(slots, index, slotMask), (<u64>len << 32) | <u64>(index + 1));
    index++;
    pos += align8(len);
    p = nextRecord(p, len);
  }
  store<u32>(first, firstLen, 4);
  atomic.store<u32>(first, hi(reservedAt) + 1, 0);
}

/**
 * One attempt at the first `count` records: how many went in (>= 1), FULL (none went in,
 * nothing changed; lastFullBand says which limit) or CLOSED_ERR.
 */
function tryPush(q: usize, src: usize, count: u32, mode: u32, fixedLen: u32, b: u32): i32 {
  if (atomic.load<u32>(q, CLOSED) != 0) return CLOSED_ERR;
  let n = admit(q, count);
  if (n == 0) { lastFullBand = -1; return FULL; }
  let bh = band(q, b);
  let got = reserve(bh, load<u32>(q, BAND_BYTES), src, n, mode, fixedLen);
  if (got < n) atomic.sub<u64>(q, <u64>(n - got), ADMITTED);
  if (got == 0) { lastFullBand = <i32>b; return FULL; }
  commit(q, bh, src, got, mode, fixedLen);
  doorbell_ring(<usize>load<u32>(q, DOORBELL));
  return <i32>got;
}

/** Releases the oldest committed record of band b unread. Returns true if there was one. */
function releaseOldestOf(q: usize, b: u32): bool {
  let bh = band(q, b);
  let slotMask = load<u32>(q, SLOT_MASK);
  while (true) {
    let t = atomic.load<u64>(bh, TAIL);
    let index = hi(t);
    let slot = slotAt(<usize>load<u32>(bh, SLOTS), index, slotMask);
    if (atomic.load<u32>(slot) != index + 1) return false;
    let len = atomic.load<u32>(slot, 4);
    if (atomic.cmpxchg<u64>(bh, t, pack(index + 1, lo(t) + align8(len)), TAIL) == t) return true;
  }
  return false;
}

/** Discards the oldest committed record of band b (DROP_OLDEST), counted in `dropped`. */
function dropOldestOf(q: usize, b: u32): bool {
  if (!releaseOldestOf(q, b)) return false;
  atomic.add<u64>(q, 1, DROPPED);
  return true;
}

/**
 * Releases every committed record unread and returns how many: the queue's consumer is
 * gone for good (its kernel failed, its thread died, it was terminated). The caller counts
 * them (scheduler.ts kcb_discard_input); `dropped` is for DROP_OLDEST only. A record still
 * being written when this runs is left (close the queue first, so no new one can start).
 */
export function queue_discard(q: usize): u32 {
  let n: u32 = 0;
  for (let b: u32 = 0; b < BAND_COUNT; b++) while (releaseOldestOf(q, b)) n++;
  if (n > 0) signalSpace(q);
  return n;
}

/** Discards the oldest message of the lowest-priority band that has one. */
function dropOldest(q: usize): bool {
  for (let b: i32 = <i32>BAND_COUNT - 1; b >= 0; b--) {
    if (dropOldestOf(q, <u32>b)) return true;
  }
  return false;
}

/**
 * Pushes records with one priority, under the queue's strategy. Never blocks. Returns how
 * many went in (all of them but under BLOCK), or an error when none did:
 * BLOCK: stops where room runs out; FULL when none fit (the caller waits and retries).
 * REJECT: the records that do not fit are refused and counted in `rejected`; FULL if all.
 * DROP_OLDEST: all go in; for each that lacks room the oldest queued message of the lowest
 * non-empty band (or of the record's own band when its arena is what is full) is dropped.
 * TOO_LARGE when the first record exceeds maxRecord (a later one ends the batch there),
 * BAD_ARGUMENT for a priority outside 0..255, CLOSED_ERR after queue_close.
 */
function pushRecords(q: usize, src: usize, count: u32, mode: u32, fixedLen: u32, priority: u32): i32 {
  if (priority > 255) return BAD_ARGUMENT;
  if (count == 0) return 0;
  // a record over the limit ends the batch before it
  let maxRecord = load<u32>(q, MAX_RECORD);
  let ok: u32 = 0;
  if (mode == BATCH) {
    let p = src;
    while (ok < count) {
      let len = load<u32>(p);
      if (len > maxRecord) break;
      p = nextRecord(p, len);
      ok++;
    }
  } else if (fixedLen <= maxRecord) ok = count;
  if (ok == 0) return TOO_LARGE;
  let b = bandOf(priority);
  let strategy = load<u32>(q, STRATEGY);
  let done: u32 = 0;
  let p = src;
  while (done < ok) {
    let r = tryPush(q, p, ok - done, mode, fixedLen, b);
    if (r == CLOSED_ERR) return done > 0 ? <i32>done : r;
    if (r > 0) {
      if (mode == BATCH) for (let i = 0; i < r; i++) p = nextRecord(p, load<u32>(p));
      else p += <usize>r;
      done += <u32>r;
      continue;
    }
    if (strategy == BLOCK) break;
    if (strategy == REJECT) {
      atomic.add<u64>(q, <u64>(ok - done), REJECTED);
      break;
    }
    // DROP_OLDEST: make room where it is lacking. A record being written right now cannot
    // be dropped yet; its producer is about to commit, so try again.
    if (lastFullBand >= 0) dropOldestOf(q, <u32>lastFullBand);
    else dropOldest(q);
  }
  return done == 0 ? FULL : <i32>done;
}

/**
 * Pushes one record of `len` bytes from `src` with a priority (0..255). Never blocks.
 * OK, or FULL (BLOCK: wait and retry; REJECT: refused and counted), TOO_LARGE,
 * BAD_ARGUMENT, CLOSED_ERR; nothing changes on an error. DROP_OLDEST always accepts.
 */
export function queue_push(q: usize, src: usize, len: u32, priority: u32): i32 {
  let r = pushRecords(q, src, 1, SINGLE, len, priority);
  return r > 0 ? OK : r;
}

/** Counts a message the caller gave up on (a BLOCK push that timed out). */
export function queue_note_rejected(q: usize): void { atomic.add<u64>(q, 1, REJECTED); }

/** Counts messages dropped before they reached this queue (a remote mailbox under DROP_OLDEST). */
export function queue_note_dropped(q: usize, n: u32): void { atomic.add<u64>(q, <u64>n, DROPPED); }

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
export function queue_space_enter(q: usize): i32 { return doorbell_enter(q + SPACE_SEQ); }
export function queue_space_leave(q: usize): void { doorbell_leave(q + SPACE_SEQ); }
export function queue_space_word(q: usize): usize { return q + SPACE_SEQ; }

@inline function signalSpace(q: usize): void { doorbell_ring(q + SPACE_SEQ); }

// ---- pop ----

/**
 * Copies up to maxCount committed records, highest band first, to dst (cap bytes) and
 * releases them. SINGLE: one record, bare; BATCH: each as [u32 len][bytes, padded to 4];
 * COLUMNS: into the columns at columnLayout (dst and cap unused), up to the first record not
 * of the class, which stays queued (the layout's `blocked` says so).
 * Returns how many, or EMPTY / CLOSED_ERR (closed and drained) / DST_TOO_SMALL.
 *
 * The records of a band are copied first and released with one compare-and-swap on its
 * tail. If the swap fails, someone else moved the tail while we copied (a DROP_OLDEST
 * producer discarding, or another consumer: a kernel's output may be drained by the host
 * and by a coordinator kernel on another thread, one after the other): the copies are void
 * and the band is read again from the tail it left.
 */
function popRecords(q: usize, dst: usize, cap: u32, maxCount: u32, mode: u32): i32 {
  let slotMask = load<u32>(q, SLOT_MASK);
  let mask = load<u32>(q, BAND_BYTES) - 1;
  let end = dst + cap;
  let p = dst; // COLUMNS: the index of the next message of this class in the columns
  let n: u32 = 0;
  let tooSmall = false;
  let fixedLen = mode == COLUMNS ? load<u32>(columnLayout, COL_RECORD_LEN) : 0;
  let stopped = false; // COLUMNS: before a record not of the class
  if (mode == COLUMNS) store<u32>(columnLayout, 0, COL_BLOCKED);
  for (let b: u32 = 0; b < BAND_COUNT && n < maxCount; b++) {
    let bh = band(q, b);
    let arena = <usize>load<u32>(bh, C_ARENA);
    let slots = <usize>load<u32>(bh, C_SLOTS);
    while (true) {
      let t = atomic.load<u64>(bh, TAIL);
      let index = hi(t);
      let pos = lo(t);
      let bandStart = p;
      let blocked = false;
      let taken: u32 = 0;
      while (n + taken < maxCount) {
        if (mode == COLUMNS) {
          // a run of committed records of the class's length, read in place in one loop
          // (columns.ts), up to one of another type; then, if the run ended at one of
          // another length, that one: either way the pop stops before it and leaves it queued
          let run = committedRun(slots, index, maxCount - n - taken, slotMask, fixedLen);
          if (run > 0) {
            let got = columnsDecodeRun(columnLayout, <u32>p, run, arena, mask + 1, pos);
            p += <usize>got;
            index += got;
            pos += got * align8(fixedLen);
            taken += got;
            if (got < run) { blocked = true; break; }
            continue;
          }
        }
        let slot = slotAt(slots, index, slotMask);
        if (atomic.load<u32>(slot) != index + 1) break; // empty, or oldest still being written
        let len = atomic.load<u32>(slot, 4);
        if (mode == COLUMNS) {
          // another length: its type is read in place (a record's first 8 bytes never wrap:
          // positions are 8-aligned) for the caller, and it stays queued
          columnsDecode(columnLayout, <u32>p, arena + <usize>(pos & mask), len);
          blocked = true;
          break;
        } else {
          let at = mode == SINGLE ? p : p + 4;
          // (read in place before anything is copied: the layout may lie where the record goes)
          if (othersOnly && ofColumnsClass(columnLayout, arena + <usize>(pos & mask), len)) break;
          if (at + <usize>len > end) { tooSmall = n + taken == 0; break; }
          copyOut(arena, mask, pos, at, len);
          if (mode == SINGLE) lastPopLen = len;
          else { store<u32>(p, len); p = nextRecord(p, len); }
        }
        index++;
        pos += align8(len);
        taken++;
      }
      if (taken == 0) { stopped = blocked; break; }
      if (atomic.cmpxchg<u64>(bh, t, pack(index, pos), TAIL) == t) { n += taken; stopped = blocked; break; }
      p = bandStart; // lost the race: our copies are void
      if (mode == COLUMNS) store<u32>(columnLayout, 0, COL_BLOCKED);
      tooSmall = false;
    }
    // a record not of the class stops the pop (lower bands would jump ahead of it)
    if (tooSmall || stopped) break;
  }
  if (n > 0) {
    signalSpace(q);
    return <i32>n;
  }
  if (tooSmall) return DST_TOO_SMALL;
  return atomic.load<u32>(q, CLOSED) != 0 ? CLOSED_ERR : EMPTY;
}

/**
 * Pops the next record into dst (cap bytes): its length, EMPTY, CLOSED_ERR (closed and
 * drained) or DST_TOO_SMALL (nothing removed).
 */
export function queue_pop(q: usize, dst: usize, cap: u32): i32 {
  let r = popRecords(q, dst, cap, 1, SINGLE);
  return r > 0 ? <i32>lastPopLen : r;
}

/**
 * Pops the next record into dst as queue_pop does, but only one that is not of the class of
 * the columns at `layout` (the one a column pop stopped before): its length; EMPTY when the
 * next one is of the class (the other went meanwhile: a DROP_OLDEST push dropped it) or
 * there is none.
 */
export function queue_pop_other(q: usize, layout: usize, dst: usize, cap: u32): i32 {
  columnLayout = layout;
  othersOnly = true;
  let r = popRecords(q, dst, cap, 1, SINGLE);
  othersOnly = false;
  return r > 0 ? <i32>lastPopLen : r;
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
 * priority: how many went in, or an error when none did (see pushRecords).
 */
export function queue_push_batch(q: usize, src: usize, count: u32, priority: u32): i32 {
  return pushRecords(q, src, count, BATCH, 0, priority);
}

/**
 * Pushes messages first..first+count-1 of the columns described at `layout` (columns.ts):
 * how many went in, in order, or an error when none did (see pushRecords). With per-message
 * priorities, runs of equal priority go in one step each; under REJECT, what did not go in
 * is counted as rejected, all of it.
 */
export function queue_push_columns(q: usize, layout: usize, first: u32, count: u32): i32 {
  columnLayout = layout;
  let len = load<u32>(layout, COL_RECORD_LEN);
  if (load<u32>(layout, COL_PRIORITIES) == 0) return pushRecords(q, <usize>first, count, COLUMNS, len, columnsPriority(layout, 0));
  let done: u32 = 0;
  while (done < count) {
    let priority = columnsPriority(layout, first + done);
    let k: u32 = 1;
    while (done + k < count && columnsPriority(layout, first + done + k) == priority) k++;
    let r = pushRecords(q, <usize>(first + done), k, COLUMNS, len, priority);
    let accepted: u32 = r > 0 ? <u32>r : 0;
    if (accepted < k) {
      // pushRecords counted this run's refusals under REJECT; the messages after it count too
      if (load<u32>(q, STRATEGY) == REJECT && (r >= 0 || r == FULL)) atomic.add<u64>(q, <u64>(count - done - k), REJECTED);
      done += accepted;
      return done > 0 ? <i32>done : r < 0 ? r : FULL;
    }
    done += k;
  }
  return <i32>done;
}

/**
 * Pops up to maxCount records into the columns described at `layout`, highest band first,
 * up to the first one not of its class, which stays queued (the layout's `blocked` is then
 * 1, with its type and length): how many it read, or EMPTY / CLOSED_ERR when none.
 */
export function queue_pop_columns(q: usize, layout: usize, maxCount: u32): i32 {
  columnLayout = layout;
  return popRecords(q, 0, 0, maxCount, COLUMNS);
}

/** Counts n messages the caller gave up on at once (the rest of a refused batch). */
export function queue_add_rejected(q: usize, n: u32): void { atomic.add<u64>(q, <u64>n, REJECTED); }

/**
 * Pops up to maxCount records into dst (cap bytes) as [u32 len][bytes, padded to 4]...
 * Returns how many, or EMPTY / CLOSED_ERR / DST_TOO_SMALL when none.
 */
export function queue_pop_batch(q: usize, dst: usize, cap: u32, maxCount: u32): i32 {
  return popRecords(q, dst, cap, maxCount, BATCH);
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
  let slotMask = load<u32>(q, SLOT_MASK);
  for (let b: u32 = 0; b < BAND_COUNT; b++) {
    let bh = band(q, b);
    let index = hi(atomic.load<u64>(bh, TAIL));
    let slot = slotAt(<usize>load<u32>(bh, C_SLOTS), index, slotMask);
    if (atomic.load<u32>(slot) == index + 1) return false;
  }
  return true;
}

/** Reads one counter or setting (STAT_*), as f64 so 64-bit counts reach JS whole. */
export function queue_stat(q: usize, which: i32): f64 {
  switch (which) {
    case STAT_DEPTH: {
      let r = released(q);
      let d = <i32>(<u32>atomic.load<u64>(q, ADMITTED) - r);
      return d > 0 ? <f64>d : 0;
    }
    case STAT_HIGH_WATER: return <f64>atomic.load<u32>(q, HIGH_WATER);
    case STAT_ENQUEUED: return <f64>atomic.load<u64>(q, ADMITTED);
    case STAT_DEQUEUED: {
      let dropped = atomic.load<u64>(q, DROPPED);
      let r = released(q);
      let admitted = atomic.load<u64>(q, ADMITTED);
      let depth = <i32>(<u32>admitted - r);
      return <f64>(admitted - <u64>(depth > 0 ? depth : 0) - dropped);
    }
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
