import { queue_bytes, queue_init, queue_push, queue_pop, queue_doorbell, queue_close, queue_stat, BLOCK, OK } from "../ring";
import {
  KCB_BYTES, THREAD_BYTES, kcb_init, kcb_state, kcb_transition, kcb_force_state, kcb_record,
  kcb_record_error, kcb_record_restart, kcb_record_dead_letter, kcb_record_dead_letter_dropped, kcb_stat, kcb_add_processed, kcb_discard_input, kcb_discard_output, kcb_set_taken, kcb_taken, hist_bucket, hist_lower, hist_quantile, hist_count,
  thread_init, sched_add, sched_remove, sched_next, sched_kernel_count, sched_wait_next,
  STATE_CREATED, STATE_LAUNCHED, STATE_ACTIVE, STATE_DEACTIVATED, STATE_FAILED,
  KSTAT_PROCESSED, KSTAT_ERRORS, KSTAT_THREAD, KSTAT_RESTARTS, KSTAT_DEAD_LETTERS, KSTAT_DEAD_DROPPED, KSTAT_DISCARDED, KSTAT_OUT_DISCARDED, HIST_BUCKETS,
} from "../scheduler";

const QBYTES: u32 = 832 + 4 * 8 * 8 + 4 * 1024;
const QUEUES = memory.data(8 * QBYTES, 64);
const KCBS = memory.data(4 * 1536, 64);
const THREAD = memory.data(1024, 64);
const SRC = memory.data(64, 64);
const DST = memory.data(64, 64);

function queue(i: u32): usize {
  let q = QUEUES + i * QBYTES;
  expect(queue_init(q, 8, 64, 1024, BLOCK)).toBe(OK);
  return q;
}
function kcb(i: u32): usize {
  let k = KCBS + i * KCB_BYTES;
  kcb_init(k, i, queue(2 * i), queue(2 * i + 1));
  return k;
}
function send(k: usize): void {
  expect(queue_push(<usize>kcb_stat(k, 4), SRC, 8, 128)).toBe(OK);
}
function take(k: usize): void {
  expect(queue_pop(<usize>kcb_stat(k, 4), DST, 64)).toBe(8);
}

describe("layout", () => {
  it("fits the queues used here", () => { expect(queue_bytes(8, 1024)).toBe(QBYTES); });
  it("fits the histogram in the control block", () => { expect(128 + HIST_BUCKETS * 4).toBeLessThanOrEqual(KCB_BYTES); });
});

describe("kernel control block", () => {
  it("starts created and moves only from the state it is in", () => {
    let k = kcb(0);
    expect(kcb_state(k)).toBe(STATE_CREATED);
    expect(kcb_transition(k, STATE_CREATED, STATE_LAUNCHED)).toBe(STATE_CREATED);
    expect(kcb_state(k)).toBe(STATE_LAUNCHED);
    // activate from created fails: the CAS sees launched and changes nothing
    expect(kcb_transition(k, STATE_CREATED, STATE_ACTIVE)).toBe(STATE_LAUNCHED);
    expect(kcb_state(k)).toBe(STATE_LAUNCHED);
    kcb_force_state(k, STATE_FAILED);
    expect(kcb_state(k)).toBe(STATE_FAILED);
  });
  it("counts processed messages and errors", () => {
    let k = kcb(0);
    kcb_record(k, 1000, 0.001, 5); kcb_record(k, 2000, 0.001, 9);
    kcb_add_processed(k, 5);
    kcb_record_error(k);
    expect(kcb_stat(k, KSTAT_PROCESSED)).toBe(7);
    expect(kcb_stat(k, KSTAT_ERRORS)).toBe(1);
    expect(kcb_stat(k, 8)).toBe(5);   // first handled at
    expect(kcb_stat(k, 9)).toBe(9);   // last handled at
  });
});

describe("supervision counters", () => {
  it("fit in the control block after the histogram", () => { expect(128 + HIST_BUCKETS * 4 + 24).toBeLessThanOrEqual(KCB_BYTES); });
  it("count restarts and dead letters, and start at zero", () => {
    let k = kcb(0);
    expect(kcb_stat(k, KSTAT_RESTARTS)).toBe(0);
    expect(kcb_stat(k, KSTAT_DEAD_LETTERS)).toBe(0);
    expect(kcb_stat(k, KSTAT_DEAD_DROPPED)).toBe(0);
    kcb_record_restart(k); kcb_record_restart(k);
    kcb_record_dead_letter(k, 1); kcb_record_dead_letter(k, 3);
    kcb_record_dead_letter_dropped(k, 2);
    expect(kcb_stat(k, KSTAT_RESTARTS)).toBe(2);
    expect(kcb_stat(k, KSTAT_DEAD_LETTERS)).toBe(4);
    expect(kcb_stat(k, KSTAT_DEAD_DROPPED)).toBe(2);
  });
  it("leave the histogram and the other counters alone", () => {
    let k = kcb(1);
    kcb_record(k, 1000, 0, 1);
    kcb_record_restart(k);
    kcb_record_dead_letter(k, 5);
    kcb_record_dead_letter_dropped(k, 1);
    expect(kcb_stat(k, KSTAT_PROCESSED)).toBe(1);
    expect(kcb_stat(k, KSTAT_ERRORS)).toBe(0);
    expect(hist_count(k, hist_bucket(1000))).toBe(1);
    expect(hist_count(k, HIST_BUCKETS - 1)).toBe(0);
    expect(hist_quantile(k, 0.5)).toBeGreaterThan(0);
  });
  it("are cleared when a block is made again", () => {
    let k = kcb(2);
    kcb_record_restart(k);
    k = kcb(2);
    expect(kcb_stat(k, KSTAT_RESTARTS)).toBe(0);
  });
});

describe("discarded messages", () => {
  it("releases what is left in the input queue unread and counts it, once", () => {
    let k = kcb(0);
    for (let i = 0; i < 5; i++) send(k);
    take(k);
    let q = <usize>kcb_stat(k, 4);
    queue_close(q);
    expect(kcb_discard_input(k)).toBe(4);
    expect(kcb_stat(k, KSTAT_DISCARDED)).toBe(4);
    expect(queue_stat(q, 0)).toBe(0);                 // depth: nothing left
    expect(queue_pop(q, DST, 64)).toBeLessThan(0);    // closed and drained
    expect(kcb_discard_input(k)).toBe(0);             // a second call finds nothing
    expect(kcb_stat(k, KSTAT_DISCARDED)).toBe(4);
    expect(queue_stat(q, 5)).toBe(0);                 // not counted as DROP_OLDEST drops
  });
  it("counts messages taken in a batch and not handed out with the rest, once", () => {
    let k = kcb(2);
    for (let i = 0; i < 3; i++) send(k);
    kcb_set_taken(k, 5);
    expect(kcb_taken(k)).toBe(5);
    queue_close(<usize>kcb_stat(k, 4));
    expect(kcb_discard_input(k)).toBe(8);
    expect(kcb_taken(k)).toBe(0);
    expect(kcb_discard_input(k)).toBe(0);
    expect(kcb_stat(k, KSTAT_DISCARDED)).toBe(8);
  });
  it("counts the output queue's unread messages apart", () => {
    let k = kcb(1);
    let out = <usize>kcb_stat(k, 5);
    expect(queue_push(out, SRC, 8, 200)).toBe(OK);    // two bands
    expect(queue_push(out, SRC, 8, 10)).toBe(OK);
    expect(kcb_discard_output(k)).toBe(2);
    expect(kcb_stat(k, KSTAT_OUT_DISCARDED)).toBe(2);
    expect(kcb_stat(k, KSTAT_DISCARDED)).toBe(0);
  });
});

describe("latency histogram", () => {
  it("puts each value in the bucket whose bounds hold it", () => {
    let values: f64[] = [0, 7, 8, 9, 15, 16, 100, 1000, 12345, 1e6, 3.3e9, 1e12];
    for (let i = 0; i < values.length; i++) {
      let v = values[i];
      let b = hist_bucket(v);
      expect(hist_lower(b)).toBeLessThanOrEqual(v);
      if (b + 1 < HIST_BUCKETS) expect(hist_lower(b + 1)).toBeGreaterThan(v);
    }
  });
  it("has bucket bounds within 12.5% of each other", () => {
    for (let b: u32 = 2; b < HIST_BUCKETS; b++) {
      let ratio = hist_lower(b) / hist_lower(b - 1);
      expect(ratio).toBeLessThanOrEqual(1.126);
      expect(ratio).toBeGreaterThan(1.0);
    }
  });
  it("sends NaN, negatives and huge values to the edge buckets", () => {
    expect(hist_bucket(NaN)).toBe(0);
    expect(hist_bucket(-5)).toBe(0);
    expect(hist_bucket(1e300)).toBe(HIST_BUCKETS - 1);
  });
  it("reads percentiles within a bucket's width", () => {
    let k = kcb(1);
    for (let i = 1; i <= 100; i++) kcb_record(k, <f64>i * 1000, 0, 0); // 1..100 us
    let p50 = hist_quantile(k, 0.5);
    let p99 = hist_quantile(k, 0.99);
    expect(p50).toBeGreaterThan(50000 * 0.87);
    expect(p50).toBeLessThan(50000 * 1.13);
    expect(p99).toBeGreaterThan(99000 * 0.87);
    expect(p99).toBeLessThan(99000 * 1.13);
    expect(hist_count(k, hist_bucket(50000))).toBeGreaterThan(0);
  });
  it("is zero when empty", () => {
    let k = kcb(2);
    expect(hist_quantile(k, 0.5)).toBe(0);
  });
});

describe("scheduler", () => {
  it("routes a kernel's input wake-ups to its thread's doorbell", () => {
    thread_init(THREAD);
    let k = kcb(0);
    expect(sched_add(THREAD, k)).toBe(0);
    expect(<usize>kcb_stat(k, KSTAT_THREAD)).toBe(THREAD);
    expect(queue_doorbell(<usize>kcb_stat(k, 4))).toBe(THREAD);
  });
  it("offers only active kernels with a message waiting", () => {
    thread_init(THREAD);
    let a = kcb(0), b = kcb(1);
    sched_add(THREAD, a); sched_add(THREAD, b);
    expect(sched_next(THREAD)).toBe(0);
    send(a);
    expect(sched_next(THREAD)).toBe(0);           // a is not active yet
    kcb_transition(a, STATE_CREATED, STATE_ACTIVE);
    expect(sched_next(THREAD)).toBe(a);
    kcb_transition(a, STATE_ACTIVE, STATE_DEACTIVATED);
    expect(sched_next(THREAD)).toBe(0);           // deactivated: its messages wait
    kcb_transition(a, STATE_DEACTIVATED, STATE_ACTIVE);
    expect(sched_next(THREAD)).toBe(a);
    take(a);
    expect(sched_next(THREAD)).toBe(0);
  });
  it("takes turns among ready kernels", () => {
    thread_init(THREAD);
    let a = kcb(0), b = kcb(1), c = kcb(2);
    sched_add(THREAD, a); sched_add(THREAD, b); sched_add(THREAD, c);
    kcb_transition(a, STATE_CREATED, STATE_ACTIVE);
    kcb_transition(b, STATE_CREATED, STATE_ACTIVE);
    kcb_transition(c, STATE_CREATED, STATE_ACTIVE);
    for (let i = 0; i < 3; i++) { send(a); send(b); send(c); }
    // a kernel that stays ready never gets two turns in a row while others wait
    let order: usize[] = [];
    for (let i = 0; i < 6; i++) order.push(sched_next(THREAD));
    expect(order[0]).not.toBe(order[1]);
    expect(order[1]).not.toBe(order[2]);
    expect(order[0]).not.toBe(order[2]);
    expect(order[3]).toBe(order[0]);
    expect(order[4]).toBe(order[1]);
  });
  it("forgets a removed kernel and reuses its slot", () => {
    thread_init(THREAD);
    let a = kcb(0), b = kcb(1);
    sched_add(THREAD, a); sched_add(THREAD, b);
    expect(sched_kernel_count(THREAD)).toBe(2);
    sched_remove(THREAD, a);
    expect(sched_kernel_count(THREAD)).toBe(1);
    expect(kcb_stat(a, KSTAT_THREAD)).toBe(0);
    kcb_transition(a, STATE_CREATED, STATE_ACTIVE);
    send(a);
    expect(sched_next(THREAD)).toBe(0);
    expect(sched_add(THREAD, a)).toBe(0);
    expect(sched_next(THREAD)).toBe(a);
  });
  it("wait_next returns a ready kernel at once and times out when none is", () => {
    thread_init(THREAD);
    let a = kcb(0);
    sched_add(THREAD, a);
    kcb_transition(a, STATE_CREATED, STATE_ACTIVE);
    expect(sched_wait_next(THREAD, 5)).toBe(0);
    send(a);
    expect(sched_wait_next(THREAD, 5)).toBe(a);
  });
});
