import {
  queue_bytes, queue_init, queue_push, queue_pop, queue_push_batch, queue_pop_batch, queue_stat,
  queue_close, queue_is_empty, queue_note_rejected, queue_pop_wait, queue_push_wait, bandOf,
  BLOCK, REJECT, DROP_OLDEST, OK, EMPTY, FULL, TOO_LARGE, CLOSED_ERR, DST_TOO_SMALL, BAD_ARGUMENT, TIMEOUT,
  STAT_DEPTH, STAT_HIGH_WATER, STAT_ENQUEUED, STAT_DEQUEUED, STAT_REJECTED, STAT_DROPPED,
  queue_doorbell, doorbell_enter, doorbell_leave, doorbell_announce, doorbell_ring, queue_space_enter, queue_space_leave, queue_space_word,
} from "../ring";

const REGION = memory.data(1 << 20, 64);
const SRC = memory.data(4096, 64);
const DST = memory.data(4096, 64);

/** A queue at REGION with room for `capacity` records, `bandBytes` arena bytes per band. */
function makeQueue(capacity: u32, bandBytes: u32, strategy: u32, maxRecord: u32 = 256): usize {
  assert(queue_bytes(capacity, bandBytes) <= (1 << 20));
  expect(queue_init(REGION, capacity, maxRecord, bandBytes, strategy)).toBe(OK);
  return REGION;
}

/** Writes a record of `len` bytes tagged with `tag` (first u32) and filled with its low byte. */
function push(q: usize, tag: u32, len: u32 = 16, priority: u32 = 128): i32 {
  memory.fill(SRC, <u8>(tag & 0xff), len);
  if (len >= 4) store<u32>(SRC, tag);
  return queue_push(q, SRC, len, priority);
}

/** Pops one record and returns its tag, or the (negative) status. */
function popTag(q: usize): i64 {
  let r = queue_pop(q, DST, 4096);
  if (r < 0) return <i64>r;
  return <i64>load<u32>(DST);
}

function stat(q: usize, which: i32): f64 { return queue_stat(q, which); }

describe("queue_init", () => {
  it("refuses shapes it cannot hold", () => {
    expect(queue_init(REGION, 0, 16, 1024, BLOCK)).toBe(BAD_ARGUMENT);      // no capacity
    expect(queue_init(REGION, 4, 16, 1000, BLOCK)).toBe(BAD_ARGUMENT);      // arena not a power of two
    expect(queue_init(REGION, 4, 2048, 1024, BLOCK)).toBe(BAD_ARGUMENT);    // record larger than an arena
    expect(queue_init(REGION, 4, 16, 1024, 7)).toBe(BAD_ARGUMENT);          // unknown strategy
    expect(queue_init(REGION + 8, 4, 16, 1024, BLOCK)).toBe(BAD_ARGUMENT);  // misaligned
    expect(queue_init(REGION, 4, 16, 1024, BLOCK)).toBe(OK);
  });
  it("sizes the region from header, slots and arenas", () => {
    expect(queue_bytes(8, 1024)).toBe(832 + 4 * 8 * 8 + 4 * 1024);
    expect(queue_bytes(5, 1024)).toBe(832 + 4 * 8 * 8 + 4 * 1024); // slots round up to a power of two
  });
});

describe("push and pop", () => {
  it("is empty, then FIFO, then empty again", () => {
    let q = makeQueue(8, 1024, BLOCK);
    expect(queue_is_empty(q)).toBe(true);
    expect(popTag(q)).toBe(<i64>EMPTY);
    for (let i: u32 = 1; i <= 5; i++) expect(push(q, i)).toBe(OK);
    expect(queue_is_empty(q)).toBe(false);
    for (let i: u32 = 1; i <= 5; i++) expect(popTag(q)).toBe(<i64>i);
    expect(popTag(q)).toBe(<i64>EMPTY);
    expect(queue_is_empty(q)).toBe(true);
  });

  it("keeps every byte of a record, including zero-length ones", () => {
    let q = makeQueue(8, 1024, BLOCK);
    for (let i: u32 = 0; i < 200; i++) store<u8>(SRC + i, <u8>(i * 7 + 3));
    expect(queue_push(q, SRC, 200, 128)).toBe(OK);
    expect(queue_push(q, SRC, 0, 128)).toBe(OK);
    expect(queue_pop(q, DST, 4096)).toBe(200);
    for (let i: u32 = 0; i < 200; i++) expect(load<u8>(DST + i)).toBe(<u8>(i * 7 + 3));
    expect(queue_pop(q, DST, 4096)).toBe(0);
  });

  it("wraps records around the arena end many times without corrupting them", () => {
    // 1 KiB arena, 100-byte records (104 with padding): a record straddles the end every lap
    let q = makeQueue(8, 1024, BLOCK, 128);
    for (let i: u32 = 0; i < 120; i++) {
      expect(push(q, i, 100)).toBe(OK);
      expect(push(q, i + 100000, 100)).toBe(OK);
      expect(queue_pop(q, DST, 4096)).toBe(100);
      expect(load<u32>(DST)).toBe(i);
      for (let j: u32 = 4; j < 100; j++) expect(load<u8>(DST + j)).toBe(<u8>(i & 0xff));
      expect(popTag(q)).toBe(<i64>(i + 100000));
    }
  });

  it("refuses a record larger than maxRecord and changes nothing", () => {
    let q = makeQueue(8, 1024, BLOCK, 64);
    expect(push(q, 1, 65)).toBe(TOO_LARGE);
    expect(stat(q, STAT_DEPTH)).toBe(0);
    expect(stat(q, STAT_ENQUEUED)).toBe(0);
    expect(push(q, 2, 64)).toBe(OK);
    expect(popTag(q)).toBe(2);
  });

  it("refuses a priority outside 0..255", () => {
    let q = makeQueue(8, 1024, BLOCK);
    expect(push(q, 1, 16, 256)).toBe(BAD_ARGUMENT);
    expect(stat(q, STAT_DEPTH)).toBe(0);
  });

  it("reports DST_TOO_SMALL and keeps the record", () => {
    let q = makeQueue(8, 1024, BLOCK);
    expect(push(q, 9, 100)).toBe(OK);
    expect(queue_pop(q, DST, 50)).toBe(DST_TOO_SMALL);
    expect(stat(q, STAT_DEPTH)).toBe(1);
    expect(popTag(q)).toBe(9);
  });
});

describe("capacity", () => {
  it("holds exactly `capacity` messages, a power of two or not", () => {
    let q = makeQueue(5, 4096, REJECT);
    for (let i: u32 = 0; i < 5; i++) expect(push(q, i)).toBe(OK);
    expect(push(q, 5)).toBe(FULL);
    for (let i: u32 = 0; i < 5; i++) expect(popTag(q)).toBe(<i64>i);
    for (let i: u32 = 0; i < 20; i++) { expect(push(q, i)).toBe(OK); expect(popTag(q)).toBe(<i64>i); }
  });

  it("is full at `capacity` messages whatever their priorities", () => {
    let q = makeQueue(4, 4096, BLOCK);
    expect(push(q, 1, 16, 10)).toBe(OK);
    expect(push(q, 2, 16, 100)).toBe(OK);
    expect(push(q, 3, 16, 200)).toBe(OK);
    expect(push(q, 4, 16, 250)).toBe(OK);
    expect(push(q, 5, 16, 128)).toBe(FULL);
    expect(stat(q, STAT_DEPTH)).toBe(4);
    expect(popTag(q)).toBe(4);
    expect(push(q, 5, 16, 128)).toBe(OK);
  });

  it("is full when the band's arena has no room, even with slots free", () => {
    let q = makeQueue(64, 256, BLOCK, 128);
    expect(push(q, 1, 120)).toBe(OK);
    expect(push(q, 2, 120)).toBe(OK);
    expect(push(q, 3, 120)).toBe(FULL);      // 2 x 120 bytes of 256: no room for a third
    expect(push(q, 4, 120, 250)).toBe(OK);   // another band has its own arena
    expect(stat(q, STAT_DEPTH)).toBe(3);
  });
});

describe("BLOCK", () => {
  it("returns FULL without counting, so the caller can wait and retry", () => {
    let q = makeQueue(2, 1024, BLOCK);
    push(q, 1); push(q, 2);
    expect(push(q, 3)).toBe(FULL);
    expect(stat(q, STAT_REJECTED)).toBe(0);
    expect(popTag(q)).toBe(1);
    expect(push(q, 3)).toBe(OK);
  });
  it("counts a give-up as rejected", () => {
    let q = makeQueue(2, 1024, BLOCK);
    queue_note_rejected(q);
    expect(stat(q, STAT_REJECTED)).toBe(1);
  });
  it("push_wait times out on a full queue and counts it", () => {
    let q = makeQueue(2, 1024, BLOCK);
    push(q, 1); push(q, 2);
    memory.fill(SRC, 0, 16);
    expect(queue_push_wait(q, SRC, 16, 128, 5)).toBe(TIMEOUT);
    expect(stat(q, STAT_REJECTED)).toBe(1);
    expect(stat(q, STAT_DEPTH)).toBe(2);
  });
  it("pop_wait times out on an empty queue", () => {
    let q = makeQueue(2, 1024, BLOCK);
    expect(queue_pop_wait(q, DST, 4096, 5)).toBe(TIMEOUT);
    push(q, 7);
    expect(queue_pop_wait(q, DST, 4096, 5)).toBe(16);
  });
});

describe("REJECT", () => {
  it("refuses at once, counts it, and leaves queued data untouched", () => {
    let q = makeQueue(4, 1024, REJECT);
    for (let i: u32 = 1; i <= 4; i++) expect(push(q, i)).toBe(OK);
    expect(push(q, 5)).toBe(FULL);
    expect(push(q, 6)).toBe(FULL);
    expect(stat(q, STAT_REJECTED)).toBe(2);
    expect(stat(q, STAT_ENQUEUED)).toBe(4);
    for (let i: u32 = 1; i <= 4; i++) expect(popTag(q)).toBe(<i64>i);
    expect(popTag(q)).toBe(<i64>EMPTY);
  });
});

describe("DROP_OLDEST", () => {
  it("always accepts, discarding and counting the oldest", () => {
    let q = makeQueue(4, 1024, DROP_OLDEST);
    for (let i: u32 = 1; i <= 10; i++) expect(push(q, i)).toBe(OK);
    expect(stat(q, STAT_DROPPED)).toBe(6);
    expect(stat(q, STAT_DEPTH)).toBe(4);
    for (let i: u32 = 7; i <= 10; i++) expect(popTag(q)).toBe(<i64>i);
    expect(popTag(q)).toBe(<i64>EMPTY);
  });
  it("drops from the lowest-priority band first", () => {
    let q = makeQueue(4, 1024, DROP_OLDEST);
    push(q, 1, 16, 250); push(q, 2, 16, 10); push(q, 3, 16, 128); push(q, 4, 16, 10);
    push(q, 5, 16, 128);   // full: the oldest low-priority message (2) goes
    expect(stat(q, STAT_DROPPED)).toBe(1);
    expect(popTag(q)).toBe(1);
    expect(popTag(q)).toBe(3);
    expect(popTag(q)).toBe(5);
    expect(popTag(q)).toBe(4);
  });
  it("makes room in the record's own band when its arena is what is full", () => {
    let q = makeQueue(64, 256, DROP_OLDEST, 128);
    push(q, 1, 120, 250);
    push(q, 2, 120); push(q, 3, 120);
    push(q, 4, 120);           // band 2's arena is full: 2 goes, the high one stays
    expect(stat(q, STAT_DROPPED)).toBe(1);
    expect(popTag(q)).toBe(1);
    expect(popTag(q)).toBe(3);
    expect(popTag(q)).toBe(4);
  });
});

describe("priorities", () => {
  it("maps priorities to four bands", () => {
    expect(bandOf(255)).toBe(0); expect(bandOf(224)).toBe(0);
    expect(bandOf(223)).toBe(1); expect(bandOf(160)).toBe(1);
    expect(bandOf(159)).toBe(2); expect(bandOf(128)).toBe(2); expect(bandOf(64)).toBe(2);
    expect(bandOf(63)).toBe(3); expect(bandOf(0)).toBe(3);
  });
  it("delivers a higher band first and keeps FIFO within a band", () => {
    let q = makeQueue(16, 1024, BLOCK);
    push(q, 1, 16, 10); push(q, 2, 16, 128); push(q, 3, 16, 200); push(q, 4, 16, 10);
    push(q, 5, 16, 255); push(q, 6, 16, 128); push(q, 7, 16, 170);
    let want: u32[] = [5, 3, 7, 2, 6, 1, 4];
    for (let i = 0; i < want.length; i++) expect(popTag(q)).toBe(<i64>want[i]);
  });
});

describe("counters", () => {
  it("counts enqueued, dequeued and the high-water depth exactly", () => {
    let q = makeQueue(8, 1024, BLOCK);
    for (let i: u32 = 0; i < 6; i++) push(q, i);
    for (let i: u32 = 0; i < 4; i++) popTag(q);
    push(q, 9);
    expect(stat(q, STAT_ENQUEUED)).toBe(7);
    expect(stat(q, STAT_DEQUEUED)).toBe(4);
    expect(stat(q, STAT_DEPTH)).toBe(3);
    expect(stat(q, STAT_HIGH_WATER)).toBe(6);
  });
});

describe("batches", () => {
  it("pushes and pops length-prefixed batches", () => {
    let q = makeQueue(8, 1024, BLOCK);
    let p = SRC;
    for (let i: u32 = 0; i < 3; i++) { store<u32>(p, 5 + i); memory.fill(p + 4, <u8>(i + 1), 5 + i); p += 4 + ((5 + i + 3) & ~3); }
    expect(queue_push_batch(q, SRC, 3, 128)).toBe(3);
    expect(queue_pop_batch(q, DST, 4096, 10)).toBe(3);
    let d = DST;
    for (let i: u32 = 0; i < 3; i++) {
      expect(load<u32>(d)).toBe(5 + i);
      expect(load<u8>(d + 4)).toBe(<u8>(i + 1));
      d += 4 + ((5 + i + 3) & ~3);
    }
    expect(queue_pop_batch(q, DST, 4096, 10)).toBe(EMPTY);
  });
  it("stops a batch push at the first refusal and says how many went in", () => {
    let q = makeQueue(2, 1024, REJECT);
    let p = SRC;
    for (let i: u32 = 0; i < 3; i++) { store<u32>(p, 8); p += 12; }
    expect(queue_push_batch(q, SRC, 3, 128)).toBe(2);
    expect(queue_push_batch(q, SRC, 3, 128)).toBe(FULL);
  });
  it("pops only what fits in the destination", () => {
    let q = makeQueue(8, 1024, BLOCK);
    push(q, 1, 40); push(q, 2, 40);
    expect(queue_pop_batch(q, DST, 50, 10)).toBe(1);
    expect(queue_pop_batch(q, DST, 50, 10)).toBe(1);
  });
});

describe("close", () => {
  it("refuses pushes, drains what is left, then reports closed", () => {
    let q = makeQueue(8, 1024, BLOCK);
    push(q, 1);
    queue_close(q);
    expect(push(q, 2)).toBe(CLOSED_ERR);
    expect(popTag(q)).toBe(1);
    expect(popTag(q)).toBe(<i64>CLOSED_ERR);
    expect(queue_pop_wait(q, DST, 4096, 1000)).toBe(CLOSED_ERR);
  });
});

describe("doorbells", () => {
  it("a push rings a sleeper once, however many pushes come before it wakes", () => {
    let q = makeQueue(8, 1024, BLOCK);
    let db = queue_doorbell(q);
    expect(push(q, 1)).toBe(OK);                       // nobody sleeps: no ring
    expect(atomic.load<i32>(db)).toBe(0);
    let seq = doorbell_enter(db);
    expect(seq).toBe(0);
    expect(push(q, 2)).toBe(OK);                       // rings: seq moves on
    expect(atomic.load<i32>(db)).toBe(1);
    expect(push(q, 3)).toBe(OK);                       // the sleeper was rung already
    expect(push(q, 4)).toBe(OK);
    expect(atomic.load<i32>(db)).toBe(1);
    let again = doorbell_enter(db);                    // a sleeper entering now is rung anew
    expect(again).toBe(1);
    expect(push(q, 5)).toBe(OK);
    expect(atomic.load<i32>(db)).toBe(2);
    doorbell_leave(db);
    doorbell_leave(db);
    expect(push(q, 6)).toBe(OK);                       // nobody sleeps
    expect(atomic.load<i32>(db)).toBe(2);
  });

  it("a pop rings producers waiting for room once per wait", () => {
    let q = makeQueue(2, 1024, BLOCK);
    let word = queue_space_word(q);
    expect(push(q, 1)).toBe(OK);
    expect(push(q, 2)).toBe(OK);
    expect(push(q, 3)).toBe(FULL);
    let seq = queue_space_enter(q);
    expect(popTag(q)).toBe(1);                         // room: rung
    expect(atomic.load<i32>(word)).toBe(seq + 1);
    expect(popTag(q)).toBe(2);                         // rung already
    expect(atomic.load<i32>(word)).toBe(seq + 1);
    queue_space_leave(q);
  });

  it("a sleeper that announces late (another thread rang and another sleeper entered meanwhile) cannot hide the later sleeper from the next ring", () => {
    let q = makeQueue(8, 1024, BLOCK);
    let db = queue_doorbell(q);
    // sleeper C counts itself and reads seq = s; before it announces s, a ring moves seq on
    // and sleeper D enters at s + 1 (what another thread can do between C's two steps)
    atomic.add<i32>(db, 1, 4);                         // C: sleepers + 1
    let s = atomic.load<i32>(db);                      // C: reads seq
    let first = doorbell_enter(db);                    // an earlier sleeper, rung below
    expect(first).toBe(s);
    doorbell_ring(db);                                 // the ring C's read came just before
    expect(atomic.load<i32>(db)).toBe(s + 1);
    let d = doorbell_enter(db);                        // D sleeps on s + 1
    expect(d).toBe(s + 1);
    expect(doorbell_announce(db, s)).toBe(false);      // C announces late: refused, waitSeq stays
    expect(atomic.load<i32>(db, 8)).toBe(s + 1);       // (a plain store made it s: rings were skipped)
    doorbell_ring(db);                                 // the next ring reaches D
    expect(atomic.load<i32>(db)).toBe(s + 2);
    doorbell_leave(db); doorbell_leave(db); doorbell_leave(db);
  });
});
