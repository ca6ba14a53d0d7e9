import {
  queue_bytes, queue_init, queue_push, queue_pop, queue_pop_other, queue_pop_batch, queue_push_columns, queue_pop_columns,
  queue_stat, queue_close, BLOCK, REJECT, OK, EMPTY, FULL, CLOSED_ERR, STAT_REJECTED, STAT_DEPTH,
} from "../ring";
import {
  COL_TYPE, COL_RECORD_LEN, COL_TIMESTAMP, COL_SEED, COL_PRIORITY, COL_FIELD_COUNT, COL_TIMES, COL_TEMP,
  COL_BLOCKED, COL_BLOCKED_TYPE, COL_BLOCKED_LEN, COL_INDEX0, COL_FIELDS, COL_IDS, COL_PRIORITIES, columns_write_records,
} from "../columns";
import { codec_write_header, codec_put_f32, codec_put_u32, codec_put_f64 } from "../codec";
import { kcb_init, kcb_record_batch, kcb_stat, hist_count, hist_bucket, KCB_BYTES, KSTAT_PROCESSED } from "../scheduler";

// A message like { id: u32, v: array<f32, 3>, w: f64 }: payload 4 + 12 + 8 = 24 bytes, record 80.
const TYPE: u32 = 0xabcd1234;
const RECORD: u32 = 56 + 24;
const N: u32 = 64;

const QUEUE = memory.data(1 << 16, 64);
const LAYOUT = memory.data(256, 64);
const COL_ID = memory.data(N * 4, 64);
const COL_V = memory.data(N * 12, 64);
const COL_W = memory.data(N * 8, 64);
const TIMES = memory.data(N * 8, 64);
const TEMP = memory.data(256, 64);
const DST = memory.data(16384, 64);
const REC = memory.data(256, 64);
const ID = memory.data(16, 64);
const KCB = memory.data(1536, 64);

function layout(count: u32, priority: u32, index0: u32): void {
  memory.fill(LAYOUT, 0, 256);
  store<u32>(LAYOUT, TYPE, COL_TYPE);
  store<u32>(LAYOUT, RECORD, COL_RECORD_LEN);
  store<f64>(LAYOUT, 1700000000000.5, COL_TIMESTAMP);
  store<u32>(LAYOUT, 1, COL_SEED); store<u32>(LAYOUT, 2, COL_SEED + 4); store<u32>(LAYOUT, 3, COL_SEED + 8); store<u32>(LAYOUT, 4, COL_SEED + 12);
  store<u32>(LAYOUT, priority, COL_PRIORITY);
  store<u32>(LAYOUT, 3, COL_FIELD_COUNT);
  store<u32>(LAYOUT, <u32>TIMES, COL_TIMES);
  store<u32>(LAYOUT, <u32>TEMP, COL_TEMP);
  store<u32>(LAYOUT, index0, COL_INDEX0);
  field(0, COL_ID, 4, 0);
  field(1, COL_V, 12, 4);
  field(2, COL_W, 8, 16);
}
function field(k: u32, column: usize, bytes: u32, offset: u32): void {
  let f = LAYOUT + COL_FIELDS + k * 16;
  store<u32>(f, <u32>column); store<u32>(f, bytes, 4); store<u32>(f, offset, 8);
}
function fillColumns(count: u32, base: u32): void {
  for (let i: u32 = 0; i < count; i++) {
    store<u32>(COL_ID + i * 4, base + i);
    for (let j: u32 = 0; j < 3; j++) store<f32>(COL_V + i * 12 + j * 4, <f32>(base + i) + <f32>j / 4);
    store<f64>(COL_W + i * 8, <f64>(base + i) * 1.5);
  }
}
function clearColumns(): void {
  memory.fill(COL_ID, 0, N * 4); memory.fill(COL_V, 0, N * 12); memory.fill(COL_W, 0, N * 8); memory.fill(TIMES, 0, N * 8);
}
/** A record of the class written by the codec's reference writers. */
function writeRecord(at: usize, id: u32, priority: u32): void {
  memory.fill(ID, 7, 16);
  codec_write_header(at, TYPE, 24, 42.0, ID, 0, priority);
  let p = codec_put_u32(at + 56, id);
  for (let j: u32 = 0; j < 3; j++) p = codec_put_f32(p, <f32>id + <f32>j / 4);
  codec_put_f64(p, <f64>id * 1.5);
}

describe("queue_push_columns", () => {
  it("writes the records the codec's writers write, with fresh version-4 ids", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    layout(10, 200, 0);
    fillColumns(10, 100);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 10)).toBe(10);
    expect(queue_pop_batch(QUEUE, DST, 16384, 64)).toBe(10);
    let p = DST;
    for (let i: u32 = 0; i < 10; i++) {
      expect(load<u32>(p)).toBe(RECORD);
      let r = p + 4;
      writeRecord(REC, 100 + i, 200);
      store<f64>(REC, 1700000000000.5, 8);
      memory.copy(REC + 16, r + 16, 16); // the id is the core's own: compared on its own below
      expect(memory.compare(REC, r, RECORD)).toBe(0);
      expect(load<u8>(r, 16 + 6) >> 4).toBe(4);        // version 4
      expect(load<u8>(r, 16 + 8) & 0xc0).toBe(0x80);   // RFC 4122 variant
      if (i > 0) expect(memory.compare(r + 16, r - RECORD - 4 + 16, 16)).not.toBe(0);
      p += 4 + RECORD;
    }
  });

  it("continues from `first`: a push in two halves makes the same records", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    layout(8, 128, 0);
    fillColumns(8, 0);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 8)).toBe(8);
    expect(queue_pop_batch(QUEUE, DST, 16384, 64)).toBe(8);
    memory.copy(REC, DST + 4 * (4 + RECORD) + 4, RECORD); // message 4
    expect(queue_push_columns(QUEUE, LAYOUT, 4, 4)).toBe(4);
    expect(queue_pop_batch(QUEUE, DST, 16384, 64)).toBe(4);
    expect(memory.compare(DST + 4, REC, RECORD)).toBe(0);
  });

  it("gives each message its own priority and correlation id when asked, in order within a band", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    layout(5, 0, 0);
    fillColumns(5, 0);
    let prios: u8[] = [128, 128, 250, 128, 5];
    for (let i = 0; i < 5; i++) { store<u8>(TEMP + 128 + i, prios[i]); memory.fill(REC + 16 * i, <u8>(0x10 + i), 16); }
    store<u32>(LAYOUT, <u32>(TEMP + 128), COL_PRIORITIES);
    store<u32>(LAYOUT, <u32>REC, COL_IDS);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 5)).toBe(5);
    let want: u32[] = [2, 0, 1, 3, 4];
    for (let i = 0; i < 5; i++) {
      expect(queue_pop(QUEUE, DST, 256)).toBe(RECORD);
      expect(load<u32>(DST + 56)).toBe(want[i]);
      expect(load<u8>(DST, 48)).toBe(prios[want[i]]);
      expect(load<u8>(DST, 49)).toBe(1);                   // has a correlation id
      expect(load<u8>(DST, 32)).toBe(<u8>(0x10 + want[i])); // ... the one given
    }
  });

  it("counts every refused message under REJECT, across runs of priorities", () => {
    expect(queue_init(QUEUE, 2, 256, 8192, REJECT)).toBe(OK);
    layout(5, 0, 0);
    let prios: u8[] = [128, 128, 128, 250, 128];
    for (let i = 0; i < 5; i++) store<u8>(TEMP + 128 + i, prios[i]);
    store<u32>(LAYOUT, <u32>(TEMP + 128), COL_PRIORITIES);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 5)).toBe(2);
    expect(queue_stat(QUEUE, STAT_REJECTED)).toBe(3);
  });

  it("stops where a BLOCK queue is full and refuses (counting) under REJECT", () => {
    expect(queue_init(QUEUE, 5, 256, 8192, BLOCK)).toBe(OK);
    layout(8, 128, 0);
    fillColumns(8, 0);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 8)).toBe(5);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 1)).toBe(FULL);
    expect(queue_init(QUEUE, 5, 256, 8192, REJECT)).toBe(OK);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 8)).toBe(5);
    expect(queue_stat(QUEUE, STAT_REJECTED)).toBe(3);
    queue_close(QUEUE);
    expect(queue_push_columns(QUEUE, LAYOUT, 0, 1)).toBe(CLOSED_ERR);
  });
});

describe("queue_pop_columns", () => {
  it("reads records written by the codec's writers into the columns, with their timestamps", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    for (let i: u32 = 0; i < 12; i++) { writeRecord(REC, 500 + i, 128); expect(queue_push(QUEUE, REC, RECORD, 128)).toBe(OK); }
    layout(0, 0, 0);
    clearColumns();
    expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(12);
    expect(load<u32>(LAYOUT, COL_BLOCKED)).toBe(0);
    for (let i: u32 = 0; i < 12; i++) {
      expect(load<u32>(COL_ID + i * 4)).toBe(500 + i);
      let id: f32 = <f32>(<u32>500 + i);
      expect(load<f32>(COL_V + i * 12 + 8)).toBe(id + <f32>0.5);
      expect(load<f64>(COL_W + i * 8)).toBe(<f64>(500 + i) * 1.5);
      expect(load<f64>(TIMES + i * 8)).toBe(42.0);
    }
    expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(EMPTY);
  });

  it("keeps each record's message id and priority when asked", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    writeRecord(REC, 1, 77); queue_push(QUEUE, REC, RECORD, 77);
    layout(0, 0, 0);
    store<u32>(LAYOUT, <u32>(DST + 1024), COL_IDS);
    store<u32>(LAYOUT, <u32>(DST + 2048), COL_PRIORITIES);
    expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(1);
    expect(load<u8>(DST + 2048)).toBe(77);
    expect(load<u64>(DST + 1024)).toBe(0x0707070707070707);
  });

  it("takes the highest priority first, at most maxCount", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    writeRecord(REC, 1, 10); queue_push(QUEUE, REC, RECORD, 10);
    writeRecord(REC, 2, 250); queue_push(QUEUE, REC, RECORD, 250);
    writeRecord(REC, 3, 128); queue_push(QUEUE, REC, RECORD, 128);
    layout(0, 0, 0);
    expect(queue_pop_columns(QUEUE, LAYOUT, 2)).toBe(2);
    expect(load<u32>(COL_ID)).toBe(2);
    expect(load<u32>(COL_ID + 4)).toBe(3);
    expect(queue_pop_columns(QUEUE, LAYOUT, 2)).toBe(1);
    expect(load<u32>(COL_ID)).toBe(1);
  });

  it("stops before a record of another class, which stays queued, and says what it is", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    writeRecord(REC, 1, 128); queue_push(QUEUE, REC, RECORD, 128);
    writeRecord(REC, 2, 128); store<u32>(REC, 0x99); queue_push(QUEUE, REC, RECORD, 128); // another type id
    writeRecord(REC, 3, 128); queue_push(QUEUE, REC, RECORD - 8, 128);                   // too short
    writeRecord(REC, 4, 128); queue_push(QUEUE, REC, RECORD, 128);
    layout(0, 0, 0);
    expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(1);
    expect(load<u32>(COL_ID)).toBe(1);
    expect(load<u32>(LAYOUT, COL_BLOCKED)).toBe(1);
    expect(load<u32>(LAYOUT, COL_BLOCKED_TYPE)).toBe(0x99);
    expect(load<u32>(LAYOUT, COL_BLOCKED_LEN)).toBe(RECORD);
    // it is still first: a column pop takes nothing, queue_pop_other takes it
    expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(EMPTY);
    expect(load<u32>(LAYOUT, COL_BLOCKED)).toBe(1);
    expect(queue_pop_other(QUEUE, LAYOUT, REC, 256)).toBe(RECORD);
    expect(load<u32>(REC)).toBe(0x99);
    // then the short one, by its length
    expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(EMPTY);
    expect(load<u32>(LAYOUT, COL_BLOCKED_LEN)).toBe(RECORD - 8);
    expect(queue_pop_other(QUEUE, LAYOUT, REC, 256)).toBe(RECORD - 8);
    // queue_pop_other leaves one of the class where it is
    expect(queue_pop_other(QUEUE, LAYOUT, REC, 256)).toBe(EMPTY);
    expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(1);
    expect(load<u32>(LAYOUT, COL_BLOCKED)).toBe(0);
    expect(load<u32>(COL_ID)).toBe(4);
  });

  it("round-trips records that wrap the arena's end", () => {
    // an arena of 1024 bytes: records of 80 bytes wrap it every 13 messages or so
    expect(queue_init(QUEUE, 8, 256, 1024, BLOCK)).toBe(OK);
    for (let round: u32 = 0; round < 6; round++) {
      layout(7, 128, 0);
      fillColumns(7, round * 10);
      expect(queue_push_columns(QUEUE, LAYOUT, 0, 7)).toBe(7);
      clearColumns();
      expect(queue_pop_columns(QUEUE, LAYOUT, 64)).toBe(7);
      for (let i: u32 = 0; i < 7; i++) {
        expect(load<u32>(COL_ID + i * 4)).toBe(round * 10 + i);
        let id: f32 = <f32>(round * <u32>10 + i);
        expect(load<f32>(COL_V + i * 12 + 4)).toBe(id + <f32>0.25);
        expect(load<f64>(COL_W + i * 8)).toBe(<f64>(round * 10 + i) * 1.5);
      }
    }
    expect(queue_stat(QUEUE, STAT_DEPTH)).toBe(0);
  });
});

describe("columns_write_records", () => {
  it("writes the records a push would make, as [len][record]", () => {
    expect(queue_init(QUEUE, 64, 256, 8192, BLOCK)).toBe(OK);
    layout(3, 9, 0);
    fillColumns(3, 40);
    columns_write_records(LAYOUT, 1, 2, DST + 4096);
    expect(queue_push_columns(QUEUE, LAYOUT, 1, 2)).toBe(2);
    expect(queue_pop_batch(QUEUE, DST, 4096, 64)).toBe(2);
    expect(memory.compare(DST, DST + 4096, 2 * (4 + RECORD))).toBe(0);
    expect(load<u32>(DST + 4 + 56)).toBe(41);
  });
});

describe("kcb_record_batch", () => {
  it("counts the batch and puts each latency in its histogram bucket", () => {
    kcb_init(KCB, 1, 0, 0);
    store<f64>(TIMES, 1000.0); store<f64>(TIMES + 8, 999.0); store<f64>(TIMES + 16, 1000.0);
    kcb_record_batch(KCB, TIMES, 3, 1001.0, 0.3, 5.0);
    expect(kcb_stat(KCB, KSTAT_PROCESSED)).toBe(3);
    expect(hist_count(KCB, hist_bucket(1e6))).toBe(2);
    expect(hist_count(KCB, hist_bucket(2e6))).toBe(1);
    expect(kcb_stat(KCB, 3)).toBeCloseTo(0.3); // busy ms
    // a run of equal send times counts as many as it holds
    for (let i = 0; i < 5; i++) store<f64>(TIMES + i * 8, 1000.0);
    kcb_record_batch(KCB, TIMES, 5, 1001.0, 0.1, 6.0);
    expect(kcb_stat(KCB, KSTAT_PROCESSED)).toBe(8);
    expect(hist_count(KCB, hist_bucket(1e6))).toBe(7);
  });
});
