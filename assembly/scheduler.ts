// scheduler.ts — kernel control blocks, consuming threads, and who runs next.
//
// Every launched kernel has a control block (KCB) in shared memory so that any thread can
// read its state and telemetry and the thread that runs it can count what it did without
// asking anyone. Every thread that consumes kernel mailboxes (the main thread for inline
// kernels, each worker) has a thread block with a doorbell: the kernels' input queues ring
// it when a message arrives, so an idle thread sleeps in one wait and wakes on the first
// message for any of its kernels.
//
//   KERNEL CONTROL BLOCK (KCB_BYTES = 1536, 64-byte aligned)
//      0  i32 state          KernelState code (STATE_* below); any thread reads, the owner
//                            of a transition writes it with a compare-and-swap
//      4  u32 input          address of the input queue
//      8  u32 output         address of the output queue
//     12  u32 thread         address of the thread block that runs the kernel (0 = none)
//     16  u32 id             the runtime's number for the kernel
//     20  u32 taken          messages the running thread popped from the input queue in a
//                            batch and has not handed to the kernel function yet
//                            (js/kernel/taken.ts): still queued for a drain, and discarded with
//                            the queue's rest when the kernel ends for good
//     24  u32 inHand         messages handed to the kernel function (for await, receive,
//                            receiveMany, receiveColumns) that it has not finished yet
//                            (neither counted in processed nor made dead letters); the
//                            running thread writes it with one Atomics.store from JS at
//                            each hand-out and each finish (js/kernel/instance.ts
//                            #noteInHand, at offset KCB_IN_HAND). When the
//                            function is cut off with them — its worker thread died, or
//                            terminate ended that thread or abandoned an inline kernel —
//                            they are counted in `interrupted` (kcb_interrupt_in_hand), as
//                            is a column batch in hand when the function throws
//     64  u64 processed      messages handled (written only by the running thread)
//     72  u64 errors         handler errors counted
//     80  f64 startedAt      ms timestamp of activation (host clock)
//     88  f64 busyMs         time spent handling messages
//     96  f64 firstAt        ms timestamp when the first message was handled
//    104  f64 lastAt         ms timestamp when the latest message was handled
//    112  u64 discarded      accepted messages left in the input queue when the kernel
//                            ended for good (failed, its thread died, terminated) and freed
//                            unread; any thread that ends it adds here (kcb_discard_input);
//                            also those `taken` by a worker thread that died when the
//                            kernel restarts on another thread (kcb_discard_taken)
//    120  u64 outDiscarded   messages left unread in the output queue when it was freed
//    128  u32 histogram[HIST_BUCKETS]   latency histogram, see below
//   1408  u64 restarts       times the kernel function was started again (supervision):
//                            after a throw (the thread running the kernel adds), or on a
//                            fresh worker thread after its thread died (the owner adds)
//   1416  u64 deadLetters    messages that became dead letters (the one in hand when the
//                            function threw, records that did not decode)
//   1424  u64 deadLettersDropped  dead letters pushed out of the owner's bounded list
//   1432  u64 interrupted    messages that were in hand (inHand) when the function was cut
//                            off: their handling may have begun, and was never finished
//
//   Latency histogram: bucket k counts latencies in [lowerBound(k), lowerBound(k+1)) in
//   nanoseconds, log-linear: 8 linear sub-buckets per power of two, so any percentile read
//   from it is within 12.5% of the truth. Bucket 0 takes < 8 ns; the last bucket takes
//   everything from 2^42 ns (73 minutes) up.
//
//   THREAD BLOCK (THREAD_BYTES = 1024)
//      0  i32 seq            doorbell (the same {seq, sleepers, waitSeq} ring.ts rings)
//      4  i32 sleepers
//      8  i32 waitSeq
//     64  u32 count          kernel slots in use (grows; removed kernels leave a 0)
//     68  u32 cursor         round-robin position: the next search starts after it
//    128  u32 kernels[MAX_KERNELS_PER_THREAD]   KCB addresses
//
//   A kernel is ready when its state is active and its input queue holds a committed
//   record. The ready set is read straight from those two facts rather than kept as a
//   separate bitmap: producers then pay nothing beyond the doorbell, and the set can never
//   disagree with the queues. sched_next scans it round-robin from the cursor, so a busy
//   kernel cannot starve its neighbours.

import { queue_is_empty, queue_discard, queue_set_doorbell, doorbell_enter, doorbell_leave, doorbell_ring, doorbell_wait } from "./ring";

export const KCB_BYTES: u32 = 1536;
export const THREAD_BYTES: u32 = 1024;
export const MAX_KERNELS_PER_THREAD: u32 = 200;
export const HIST_BUCKETS: u32 = 320;

const K_STATE: u32 = 0;
const K_INPUT: u32 = 4;
const K_OUTPUT: u32 = 8;
const K_THREAD: u32 = 12;
const K_ID: u32 = 16;
/** The `taken` word's offset (exported: the facade writes it with Atomics.store, as kcb_set_taken does). */
export const KCB_TAKEN: u32 = 20;
/** Offset of the inHand word, exported: the facade stores it from JS (no call per message). */
export const KCB_IN_HAND: u32 = 24;
const K_PROCESSED: u32 = 64;
const K_ERRORS: u32 = 72;
const K_STARTED: u32 = 80;
const K_BUSY: u32 = 88;
const K_FIRST: u32 = 96;
const K_LAST: u32 = 104;
const K_DISCARDED: u32 = 112;
const K_OUT_DISCARDED: u32 = 120;
const K_HIST: u32 = 128;
const K_RESTARTS: u32 = 1408;
const K_DEAD_LETTERS: u32 = 1416;
const K_DEAD_DROPPED: u32 = 1424;
const K_INTERRUPTED: u32 = 1432;

const T_COUNT: u32 = 64;
const T_CURSOR: u32 = 68;
const T_KERNELS: u32 = 128;

// KernelState codes (the facade maps them to the string values)
export const STATE_CREATED: i32 = 0;
export const STATE_LAUNCHED: i32 = 1;
export const STATE_ACTIVE: i32 = 2;
export const STATE_DEACTIVATED: i32 = 3;
export const STATE_TERMINATING: i32 = 4;
export const STATE_TERMINATED: i32 = 5;
export const STATE_FAILED: i32 = 6;

// KCB counters readable by kcb_stat
export const KSTAT_PROCESSED: i32 = 0;
export const KSTAT_ERRORS: i32 = 1;
export const KSTAT_STARTED: i32 = 2;
export const KSTAT_BUSY: i32 = 3;
export const KSTAT_INPUT: i32 = 4;
export const KSTAT_OUTPUT: i32 = 5;
export const KSTAT_THREAD: i32 = 6;
export const KSTAT_ID: i32 = 7;
export const KSTAT_FIRST: i32 = 8;
export const KSTAT_LAST: i32 = 9;
export const KSTAT_DISCARDED: i32 = 10;
export const KSTAT_OUT_DISCARDED: i32 = 11;
export const KSTAT_RESTARTS: i32 = 12;
export const KSTAT_DEAD_LETTERS: i32 = 13;
export const KSTAT_DEAD_DROPPED: i32 = 14;
export const KSTAT_INTERRUPTED: i32 = 15;

export function kcb_init(k: usize, id: u32, input: usize, output: usize): void {
  memory.fill(k, 0, KCB_BYTES);
  store<u32>(k, id, K_ID);
  store<u32>(k, <u32>input, K_INPUT);
  store<u32>(k, <u32>output, K_OUTPUT);
  atomic.store<i32>(k, STATE_CREATED, K_STATE);
}

export function kcb_state(k: usize): i32 { return atomic.load<i32>(k, K_STATE); }

/**
 * Moves the kernel from `from` to `to` if it is in `from`; returns the state it was in
 * (equal to `from` on success). Rings the owning thread so it notices at once.
 */
export function kcb_transition(k: usize, from: i32, to: i32): i32 {
  let seen = atomic.cmpxchg<i32>(k, from, to, K_STATE);
  if (seen == from) {
    let t = <usize>atomic.load<u32>(k, K_THREAD);
    if (t != 0) doorbell_ring(t);
  }
  return seen;
}

/** Sets the state whatever it was (failure, forced termination). */
export function kcb_force_state(k: usize, to: i32): void {
  atomic.store<i32>(k, to, K_STATE);
  let t = <usize>atomic.load<u32>(k, K_THREAD);
  if (t != 0) doorbell_ring(t);
}

/**
 * Counts one handled message: its latency (ns from enqueue to done), the time spent on it,
 * and when it was done (ms, host clock). Only the thread running the kernel calls this.
 */
export function kcb_record(k: usize, latencyNs: f64, busyMs: f64, nowMs: f64): void {
  let n = atomic.load<u64>(k, K_PROCESSED);
  if (n == 0) store<f64>(k, nowMs, K_FIRST);
  store<f64>(k, nowMs, K_LAST);
  atomic.store<u64>(k, n + 1, K_PROCESSED);
  store<f64>(k, load<f64>(k, K_BUSY) + busyMs, K_BUSY);
  let h = k + K_HIST + (<usize>hist_bucket(latencyNs) << 2);
  atomic.store<u32>(h, atomic.load<u32>(h) + 1);
}

/**
 * Counts `count` messages handled together, as kcb_record does one: their send times are
 * the f64s at `times` (ms since the epoch), `nowEpochMs` is now on that clock, `nowMs` on
 * the host clock, and `busyMs` the time spent on all of them. One call per batch (columns,
 * a GPU dispatch) instead of one per message.
 */
export function kcb_record_batch(k: usize, times: usize, count: u32, nowEpochMs: f64, busyMs: f64, nowMs: f64): void {
  if (count == 0) return;
  let n = atomic.load<u64>(k, K_PROCESSED);
  if (n == 0) store<f64>(k, nowMs, K_FIRST);
  store<f64>(k, nowMs, K_LAST);
  atomic.store<u64>(k, n + <u64>count, K_PROCESSED);
  store<f64>(k, load<f64>(k, K_BUSY) + busyMs, K_BUSY);
  // messages sent together share a send time (a batch has one): each run of equal times
  // is one bucket and one store
  let i: u32 = 0;
  while (i < count) {
    let t = load<f64>(times + (<usize>i << 3));
    let run: u32 = 1;
    while (i + run < count && load<f64>(times + (<usize>(i + run) << 3)) == t) run++;
    let h = k + K_HIST + (<usize>hist_bucket((nowEpochMs - t) * 1e6) << 2);
    atomic.store<u32>(h, atomic.load<u32>(h) + run);
    i += run;
  }
}

/** Counts messages handled without a latency sample (e.g. a GPU batch). */
export function kcb_add_processed(k: usize, n: u32): void {
  atomic.store<u64>(k, atomic.load<u64>(k, K_PROCESSED) + <u64>n, K_PROCESSED);
}

export function kcb_record_error(k: usize): void {
  atomic.add<u64>(k, 1, K_ERRORS);
}

/**
 * The kernel ended for good: every message still in its input queue (or taken from it and
 * not handed out) is released unread and counted as discarded (so processed + dropped +
 * discarded + dead letters + interrupted + depth = admitted once the kernel has ended; see
 * docs/guarantees.md). Returns how many. Idempotent: a second call finds the queue empty. Close
 * the queue first. A kernel that will be restarted (supervision) keeps its queue: do not
 * call this for it.
 */
export function kcb_discard_input(k: usize): u32 {
  let n = queue_discard(<usize>load<u32>(k, K_INPUT));
  if (n > 0) atomic.add<u64>(k, <u64>n, K_DISCARDED);
  return n + kcb_discard_taken(k);
}

/**
 * The thread that ran the kernel died and supervision starts the kernel again on another
 * (js/runtime.ts): the messages that thread had taken from the input queue and not handed
 * out (`taken`) were in its memory and died with it; they are counted as discarded. The
 * queue itself, and what is still in it, stays for the restarted kernel. Returns how many.
 * Idempotent: a second call finds `taken` 0.
 */
export function kcb_discard_taken(k: usize): u32 {
  let n = atomic.xchg<u32>(k + KCB_TAKEN, 0);
  if (n > 0) atomic.add<u64>(k, <u64>n, K_DISCARDED);
  return n;
}

/** The running thread holds `n` messages taken from the input queue and not handed out yet. */
export function kcb_set_taken(k: usize, n: u32): void { atomic.store<u32>(k, n, KCB_TAKEN); }

/** Messages taken from the input queue and not handed out yet (see kcb_set_taken). */
export function kcb_taken(k: usize): u32 { return atomic.load<u32>(k, KCB_TAKEN); }

/**
 * The kernel function was cut off (its thread died, or terminate ended that thread or
 * abandoned it), or threw holding messages that cannot become dead letters (columns): the
 * messages in hand are counted as interrupted. Returns how many. Idempotent: a second call
 * finds the inHand word 0. Called by the running thread, or by another once the running
 * thread can no longer write that word (it is dead, or the kernel is being released).
 */
export function kcb_interrupt_in_hand(k: usize): u32 {
  let n = atomic.xchg<u32>(k + KCB_IN_HAND, 0);
  if (n > 0) atomic.add<u64>(k, <u64>n, K_INTERRUPTED);
  return n;
}

/** The output queue is about to be freed: what nobody read is released and counted. */
export function kcb_discard_output(k: usize): u32 {
  let n = queue_discard(<usize>load<u32>(k, K_OUTPUT));
  if (n > 0) atomic.add<u64>(k, <u64>n, K_OUT_DISCARDED);
  return n;
}

/** Counts one restart of the kernel function (supervision: a throw, or its thread's death). Any thread may call it. */
export function kcb_record_restart(k: usize): void {
  atomic.add<u64>(k, 1, K_RESTARTS);
}

/** Counts `n` messages that became dead letters. Any thread may call it. */
export function kcb_record_dead_letter(k: usize, n: u32): void {
  atomic.add<u64>(k, <u64>n, K_DEAD_LETTERS);
}

/** Counts dead letters dropped from the owner's bounded list. */
export function kcb_record_dead_letter_dropped(k: usize, n: u32): void {
  atomic.add<u64>(k, <u64>n, K_DEAD_DROPPED);
}

export function kcb_set_started(k: usize, ms: f64): void { store<f64>(k, ms, K_STARTED); }

export function kcb_stat(k: usize, which: i32): f64 {
  switch (which) {
    case KSTAT_PROCESSED: return <f64>atomic.load<u64>(k, K_PROCESSED);
    case KSTAT_ERRORS: return <f64>atomic.load<u64>(k, K_ERRORS);
    case KSTAT_STARTED: return load<f64>(k, K_STARTED);
    case KSTAT_BUSY: return load<f64>(k, K_BUSY);
    case KSTAT_INPUT: return <f64>load<u32>(k, K_INPUT);
    case KSTAT_OUTPUT: return <f64>load<u32>(k, K_OUTPUT);
    case KSTAT_THREAD: return <f64>atomic.load<u32>(k, K_THREAD);
    case KSTAT_ID: return <f64>load<u32>(k, K_ID);
    case KSTAT_FIRST: return load<f64>(k, K_FIRST);
    case KSTAT_LAST: return load<f64>(k, K_LAST);
    case KSTAT_DISCARDED: return <f64>atomic.load<u64>(k, K_DISCARDED);
    case KSTAT_OUT_DISCARDED: return <f64>atomic.load<u64>(k, K_OUT_DISCARDED);
    case KSTAT_RESTARTS: return <f64>atomic.load<u64>(k, K_RESTARTS);
    case KSTAT_DEAD_LETTERS: return <f64>atomic.load<u64>(k, K_DEAD_LETTERS);
    case KSTAT_DEAD_DROPPED: return <f64>atomic.load<u64>(k, K_DEAD_DROPPED);
    case KSTAT_INTERRUPTED: return <f64>atomic.load<u64>(k, K_INTERRUPTED);
  }
  return -1;
}

// ---- latency histogram ----

/** Bucket of a latency in ns: 8 sub-buckets per power of two from 8 ns up. */
export function hist_bucket(ns: f64): u32 {
  if (!(ns >= 8)) return 0; // also NaN and negatives (clock skew between threads)
  if (ns >= 4398046511104.0) return HIST_BUCKETS - 1;
  let v = <u64>ns;
  let exp = <u32>(63 - clz<u64>(v)); // >= 3
  let sub = <u32>((v >> (exp - 3)) & 7);
  let k = (exp - 3) * 8 + sub + 1;
  return k < HIST_BUCKETS - 1 ? k : HIST_BUCKETS - 1;
}

/** Lower bound in ns of bucket k (bucket 0: 0). */
export function hist_lower(k: u32): f64 {
  if (k == 0) return 0;
  let exp = (k - 1) / 8 + 3;
  let sub = (k - 1) % 8;
  return <f64>((<u64>8 + <u64>sub) << (exp - 3));
}

export function hist_count(k: usize, bucket: u32): u32 {
  return atomic.load<u32>(k + K_HIST + (<usize>bucket << 2));
}

/**
 * The q-quantile (0..1) of recorded latencies in ns: the midpoint of the bucket holding
 * it; 0 when nothing was recorded.
 */
export function hist_quantile(k: usize, q: f64): f64 {
  let total: f64 = 0;
  for (let b: u32 = 0; b < HIST_BUCKETS; b++) total += <f64>hist_count(k, b);
  if (total == 0) return 0;
  let rank = Math.ceil(q * total);
  if (rank < 1) rank = 1;
  let seen: f64 = 0;
  for (let b: u32 = 0; b < HIST_BUCKETS; b++) {
    seen += <f64>hist_count(k, b);
    if (seen >= rank) return b + 1 < HIST_BUCKETS ? (hist_lower(b) + hist_lower(b + 1)) / 2 : hist_lower(b);
  }
  return hist_lower(HIST_BUCKETS - 1);
}

// ---- consuming threads ----

export function thread_init(t: usize): void { memory.fill(t, 0, THREAD_BYTES); }

/** Makes the thread run kernel k and routes k's input wake-ups to the thread's doorbell. */
export function sched_add(t: usize, k: usize): i32 {
  let n = atomic.load<u32>(t, T_COUNT);
  let slot: u32 = n;
  for (let i: u32 = 0; i < n; i++) {
    if (atomic.load<u32>(t + T_KERNELS + (<usize>i << 2)) == 0) { slot = i; break; }
  }
  if (slot >= MAX_KERNELS_PER_THREAD) return -1;
  atomic.store<u32>(k, <u32>t, K_THREAD);
  queue_set_doorbell(<usize>load<u32>(k, K_INPUT), t);
  atomic.store<u32>(t + T_KERNELS + (<usize>slot << 2), <u32>k);
  if (slot == n) atomic.store<u32>(t, n + 1, T_COUNT);
  doorbell_ring(t);
  return <i32>slot;
}

/** Stops the thread from running kernel k. */
export function sched_remove(t: usize, k: usize): void {
  let n = atomic.load<u32>(t, T_COUNT);
  for (let i: u32 = 0; i < n; i++) {
    let p = t + T_KERNELS + (<usize>i << 2);
    if (atomic.load<u32>(p) == <u32>k) {
      atomic.store<u32>(p, 0);
      queue_set_doorbell(<usize>load<u32>(k, K_INPUT), 0);
      atomic.store<u32>(k, 0, K_THREAD);
    }
  }
  doorbell_ring(t);
}

/** How many kernels the thread runs now. */
export function sched_kernel_count(t: usize): u32 {
  let n = atomic.load<u32>(t, T_COUNT);
  let c: u32 = 0;
  for (let i: u32 = 0; i < n; i++) if (atomic.load<u32>(t + T_KERNELS + (<usize>i << 2)) != 0) c++;
  return c;
}

/** The next ready kernel after the cursor (round-robin), or 0 when none is ready. */
export function sched_next(t: usize): usize {
  let n = atomic.load<u32>(t, T_COUNT);
  if (n == 0) return 0;
  let start = load<u32>(t, T_CURSOR);
  for (let i: u32 = 1; i <= n; i++) {
    let slot = (start + i) % n;
    let k = <usize>atomic.load<u32>(t + T_KERNELS + (<usize>slot << 2));
    if (k == 0 || atomic.load<i32>(k, K_STATE) != STATE_ACTIVE) continue;
    if (queue_is_empty(<usize>load<u32>(k, K_INPUT))) continue;
    store<u32>(t, slot, T_CURSOR);
    return k;
  }
  return 0;
}

/** Announces that the thread is about to sleep; returns the doorbell value to wait on. */
export function sched_enter_sleep(t: usize): i32 { return doorbell_enter(t); }
export function sched_leave_sleep(t: usize): void { doorbell_leave(t); }

/**
 * Worker threads: returns the next ready kernel, sleeping on the doorbell up to timeoutMs
 * when none is; 0 when it timed out or was woken for another reason (a state change).
 */
export function sched_wait_next(t: usize, timeoutMs: f64): usize {
  let k = sched_next(t);
  if (k != 0) return k;
  let seq = doorbell_enter(t);
  k = sched_next(t);
  if (k == 0) doorbell_wait(t, seq, timeoutMs);
  doorbell_leave(t);
  return k != 0 ? k : sched_next(t);
}

