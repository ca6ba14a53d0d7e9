// columns.ts — many messages of one class as columns (one array per field, message after
// message) turned into records and back, inside the core: the strided copies between the
// columns and the records happen here, one call per batch, so the facade never loops over
// records. ring.ts calls columnsEncode / columnsDecode while it pushes and pops
// (queue_push_columns, queue_pop_columns), writing and reading the records straight in the
// ring's arena. The records are the ordinary ones of docs/wire-format.md: a message sent as
// columns and one sent as an object are the same bytes.
//
// A GPU kernel's batches are columns too: its pump pops the payloads (one column of the
// whole payload), ids and priorities of its input records into a region of its own, the GPU
// reads and writes payloads only, and the answers go out as records made here, each with
// its input's message id as correlation id and its input's priority.
//
// Only fixed-size numeric fields (f64, f32, i32, u32 and fixed arrays of them) have
// columns; any bit pattern is a valid value of those, so checking a record's type id and
// length is all the validation its payload needs (the rules receiveMany applies).
//
//   COLUMN LAYOUT (at `layout`, 8-byte aligned; written by the facade, js/message/columns.ts, before
//   each call; the columns lie in the calling thread's scratch area, or in a region of the
//   GPU pump's)
//      0  u32 typeId          the message class's type id
//      4  u32 recordLen       56 + payload bytes: every record of the class has this length
//      8  f64 timestamp       push: the send time stamped on every record
//     16  u32 seed[4]         push: random seed of the batch's message ids (see messageId)
//     32  u32 priority        push: 0..255, for every message (unless `priorities` is set)
//     36  u32 fieldCount
//     40  u32 times           pop: address of an f64 per message (its timestamp), 0 for none
//     44  u32 temp            address of recordLen bytes, for a record that wraps the arena
//     48  u32 blocked         pop (out): 1 when the pop stopped before a record not of this
//                             class (type or length), which it left in the queue; else 0
//     52  u32 blockedType     pop (out): that record's type id
//     56  u32 blockedLen      pop (out): its length
//     60  u32 index0          push: the batch's index of message 0 of the columns (message ids)
//     64  u32 ids             address of 16 bytes a message, or 0: pop: each record's message
//                             id; push: each record's correlation id (the GPU pump's answers)
//     68  u32 priorities      address of a u8 a message, or 0: pop: each record's priority;
//                             push: each record's (instead of `priority`)
//     72  u32 0, u32 0
//     80  fieldCount x { u32 column, u32 bytes per message, u32 payload offset, u32 0 }
//   (js/message/columns.ts names the same offsets, enum Col; tests/columns.test.ts checks
//   them against these globals, which index.ts exports)
//   Message i has its field f at column_f + i * bytesPerMessage_f.

export const COL_TYPE: usize = 0;
export const COL_RECORD_LEN: usize = 4;
export const COL_TIMESTAMP: usize = 8;
export const COL_SEED: usize = 16;
export const COL_PRIORITY: usize = 32;
export const COL_FIELD_COUNT: usize = 36;
export const COL_TIMES: usize = 40;
export const COL_TEMP: usize = 44;
export const COL_BLOCKED: usize = 48;
export const COL_BLOCKED_TYPE: usize = 52;
export const COL_BLOCKED_LEN: usize = 56;
export const COL_INDEX0: usize = 60;
export const COL_IDS: usize = 64;
export const COL_PRIORITIES: usize = 68;
export const COL_FIELDS: usize = 80;
export const COL_FIELD_BYTES: usize = 16;
// in a field entry
export const COL_FIELD_COLUMN: usize = 0;
export const COL_FIELD_SIZE: usize = 4;
export const COL_FIELD_OFFSET: usize = 8;

import { HEADER, H_PAYLOAD, H_TIME, H_ID, H_CORR, H_PRIORITY } from "./record";
const VERSION_WORD: u64 = 0x0000_0000_0001_0000; // byte 50 (version) = 1; flags and reserved 0
const CORRELATION_FLAG: u64 = 0x0100; //            byte 49 (flags) bit 0: has a correlation id

/**
 * Writes message i's 16-byte id at `at`: the seed's last three words (with the UUID
 * version-4 and variant bits) as the id's first 12 bytes, the seed's first word plus i
 * (big-endian) as its last 4. The same shape as the ids a thread makes
 * (js/message/uuid.ts): a batch's ids differ in their counts, so none repeats before 2^32
 * messages; ids of different batches differ in their 90 random prefix bits (fresh seeds).
 * Sharing a prefix, a batch's ids decode to one IdPrefix object, not one each.
 */
@inline function messageId(layout: usize, i: u32, at: usize): void {
  v128.store(at, idOf(load<u32>(layout, COL_SEED) + i, prefixOf(layout)));
}

/** The priority of message `i`: its own (`priorities`) or the batch's. */
export function columnsPriority(layout: usize, i: u32): u32 {
  let prios = <usize>load<u32>(layout, COL_PRIORITIES);
  return prios != 0 ? <u32>load<u8>(prios + <usize>i) : load<u32>(layout, COL_PRIORITY) & 0xff;
}

/** Writes the record of message `i` of the columns (index0 + i of the batch) at `dst`. */
export function columnsEncode(layout: usize, i: u32, dst: usize): void {
  let len = load<u32>(layout, COL_RECORD_LEN);
  store<u32>(dst, load<u32>(layout, COL_TYPE));
  store<u32>(dst, len - <u32>HEADER, H_PAYLOAD);
  store<f64>(dst, load<f64>(layout, COL_TIMESTAMP), H_TIME);
  messageId(layout, load<u32>(layout, COL_INDEX0) + i, dst + H_ID);
  let ids = <usize>load<u32>(layout, COL_IDS);
  let word = VERSION_WORD | <u64>columnsPriority(layout, i);
  if (ids != 0) {
    let id = ids + (<usize>i << 4);
    store<u64>(dst, load<u64>(id), H_CORR);
    store<u64>(dst, load<u64>(id, 8), H_CORR + 8);
    word |= CORRELATION_FLAG;
  } else {
    store<u64>(dst, 0, H_CORR);
    store<u64>(dst, 0, H_CORR + 8);
  }
  store<u64>(dst, word, H_PRIORITY);
  let n = load<u32>(layout, COL_FIELD_COUNT);
  let f = layout + COL_FIELDS;
  for (let k: u32 = 0; k < n; k++, f += COL_FIELD_BYTES) {
    let bytes = <usize>load<u32>(f, COL_FIELD_SIZE);
    copyField(dst + HEADER + <usize>load<u32>(f, COL_FIELD_OFFSET), <usize>load<u32>(f, COL_FIELD_COLUMN) + <usize>i * bytes, bytes);
  }
}

/** The pop stopped before a record not of the class: its type and length, for the caller. */
function noteBlocked(layout: usize, type: u32, len: u32): void {
  store<u32>(layout, type, COL_BLOCKED_TYPE);
  store<u32>(layout, len, COL_BLOCKED_LEN);
  store<u32>(layout, 1, COL_BLOCKED);
}

/** Whether the record of `len` bytes at `src` (its first 8 bytes readable) is of the class of the columns at `layout`: type id, length, payload length. */
export function ofColumnsClass(layout: usize, src: usize, len: u32): bool {
  return len == load<u32>(layout, COL_RECORD_LEN) && load<u32>(src) == load<u32>(layout, COL_TYPE) && load<u32>(src, H_PAYLOAD) == len - <u32>HEADER;
}

/**
 * Reads the record of `len` bytes at `src` into message `i` of the columns, when it is one
 * of this class (type id and length); returns whether it was. One that is not is left
 * alone and noted as the one the pop stops before (`blocked`).
 */
export function columnsDecode(layout: usize, i: u32, src: usize, len: u32): bool {
  if (!ofColumnsClass(layout, src, len)) {
    noteBlocked(layout, len >= 4 ? load<u32>(src) : 0, len);
    return false;
  }
  let times = <usize>load<u32>(layout, COL_TIMES);
  if (times != 0) store<f64>(times + (<usize>i << 3), load<f64>(src, H_TIME));
  let ids = <usize>load<u32>(layout, COL_IDS);
  if (ids != 0) {
    let id = ids + (<usize>i << 4);
    store<u64>(id, load<u64>(src, H_ID));
    store<u64>(id, load<u64>(src, H_ID + 8), 8);
  }
  let prios = <usize>load<u32>(layout, COL_PRIORITIES);
  if (prios != 0) store<u8>(prios + <usize>i, load<u8>(src, H_PRIORITY));
  let n = load<u32>(layout, COL_FIELD_COUNT);
  let f = layout + COL_FIELDS;
  for (let k: u32 = 0; k < n; k++, f += COL_FIELD_BYTES) {
    let bytes = <usize>load<u32>(f, COL_FIELD_SIZE);
    copyField(<usize>load<u32>(f, COL_FIELD_COLUMN) + <usize>i * bytes, src + HEADER + <usize>load<u32>(f, COL_FIELD_OFFSET), bytes);
  }
  return true;
}

/**
 * Writes messages first..first+count-1 of the columns at `dst` as [u32 len][record, padded
 * to 4]... (the records a push would make), for code that needs them as records: a GPU
 * kernel's answers on a route that picks a target per message.
 */
export function columns_write_records(layout: usize, first: u32, count: u32, dst: usize): void {
  let len = load<u32>(layout, COL_RECORD_LEN);
  let p = dst;
  for (let i: u32 = 0; i < count; i++) {
    store<u32>(p, len);
    columnsEncode(layout, first + i, p + 4);
    p += 4 + <usize>((len + 3) & ~3);
  }
}

// ---- runs: what a push or pop of columns does for many records at once ----
// The same records as columnsEncode / columnsDecode make and read, one loop for a run of
// records of the class's length lying `align8(recordLen)` bytes apart in a ring's arena, with
// the batch's constants (header words, seed, field places) read from the layout once instead
// of once a record. A run is cut where a record wraps the arena's end: the records before
// it lie back to back, and are made (or read) by a loop with no wrap test, 16 bytes a store
// (the header is a template of two 16-byte words, the id, the correlation id and one word);
// the one that wraps is made at `temp` and copied in two pieces (or copied there and read).

/**
 * Copies n bytes (a multiple of 4) from src to dst: up to 64 bytes in at most four 16-byte
 * loads and stores, overlapping (the copy of a field is a few instructions, no loop, no
 * memmove call), up to 256 in a loop, more with memory.copy.
 */
@inline function copyField(dst: usize, src: usize, n: usize): void {
  if (n <= 16) {
    if (n == 16) v128.store(dst, v128.load(src));
    else if (n >= 8) { let a = load<u64>(src), b = load<u64>(src + n - 8); store<u64>(dst, a); store<u64>(dst + n - 8, b); }
    else if (n != 0) store<u32>(dst, load<u32>(src)); // 4
  } else if (n <= 32) {
    let a = v128.load(src), b = v128.load(src + n - 16);
    v128.store(dst, a); v128.store(dst + n - 16, b);
  } else if (n <= 64) {
    let a = v128.load(src), b = v128.load(src, 16), c = v128.load(src + n - 32), d = v128.load(src + n - 16);
    v128.store(dst, a); v128.store(dst, b, 16); v128.store(dst + n - 32, c); v128.store(dst + n - 16, d);
  } else if (n <= 256) {
    let end = dst + n - 16, from = src + n - 16;
    let last = v128.load(from);
    while (dst < end) { v128.store(dst, v128.load(src)); dst += 16; src += 16; }
    v128.store(end, last);
  } else memory.copy(dst, src, n);
}

/** Copies every field of message m from its column into the record at `rec`. */
@inline function fieldCopyIn(layout: usize, fields: u32, rec: usize, m: usize): void {
  let f = layout + COL_FIELDS;
  for (let k: u32 = 0; k < fields; k++, f += COL_FIELD_BYTES) {
    let bytes = <usize>load<u32>(f, COL_FIELD_SIZE);
    copyField(rec + HEADER + <usize>load<u32>(f, COL_FIELD_OFFSET), <usize>load<u32>(f, COL_FIELD_COLUMN) + m * bytes, bytes);
  }
}

/** Copies every field of the record at `rec` into message m's place in its column. */
@inline function fieldCopyOut(layout: usize, fields: u32, rec: usize, m: usize): void {
  let f = layout + COL_FIELDS;
  for (let k: u32 = 0; k < fields; k++, f += COL_FIELD_BYTES) {
    let bytes = <usize>load<u32>(f, COL_FIELD_SIZE);
    copyField(<usize>load<u32>(f, COL_FIELD_COLUMN) + m * bytes, rec + HEADER + <usize>load<u32>(f, COL_FIELD_OFFSET), bytes);
  }
}

/** Writes message m's record at `rec` around its id (bytes 16..31). */
@inline function putRecord(rec: usize, m: usize, id: v128, head: v128, word: u64, ids: usize, prios: usize,
  layout: usize, fields: u32, col0: usize, bytes0: usize, dst0: usize): void {
  v128.store(rec, head);
  v128.store(rec, id, H_ID);
  v128.store(rec, ids != 0 ? v128.load(ids + (m << 4)) : i64x2.splat(0), H_CORR);
  store<u64>(rec, prios != 0 ? (word & ~(<u64>0xff)) | <u64>load<u8>(prios + m) : word, H_PRIORITY);
  if (fields == 1) copyField(rec + dst0, col0 + m * bytes0, bytes0);
  else fieldCopyIn(layout, fields, rec, m);
}

/** The id prefix of a batch (messageId's first 12 bytes) in lanes 0-2 of a v128. */
@inline function prefixOf(layout: usize): v128 {
  return i32x4(<i32>load<u32>(layout, COL_SEED + 4), <i32>((load<u32>(layout, COL_SEED + 8) & 0xff0fffff) | 0x00400000),
    <i32>((load<u32>(layout, COL_SEED + 12) & 0xffffff3f) | 0x00000080), 0);
}

/** Message x's id (x: the seed's first word plus its index), as messageId stores it. */
@inline function idOf(x: u32, prefix: v128): v128 {
  return i32x4.replace_lane(prefix, 3, <i32>bswap<u32>(x));
}

/** Writes the records of messages m..end-1, back to back from `rec`, `step` bytes apart. */
@inline function encodeWhole(rec: usize, m: u32, end: u32, step: u32, s0: u32, prefix: v128, hv: v128, word: u64, ids: usize, prios: usize,
  layout: usize, fields: u32, col0: usize, bytes0: usize, dst0: usize): void {
  for (; m < end; m++, rec += <usize>step) putRecord(rec, <usize>m, idOf(s0 + m, prefix), hv, word, ids, prios, layout, fields, col0, bytes0, dst0);
}

/**
 * Writes the records of messages first..first+n-1 of the columns into `arena` (`size`
 * bytes, a power of two) at byte positions pos, pos + align8(recordLen), ... (mod size);
 * a record that would wrap the arena's end is made at `temp` and copied in two pieces.
 */
export function columnsEncodeRun(layout: usize, first: u32, n: u32, arena: usize, size: u32, pos: u32): void {
  let len = load<u32>(layout, COL_RECORD_LEN);
  let step = (len + 7) & ~7;
  let mask = size - 1;
  let head: u64 = <u64>load<u32>(layout, COL_TYPE) | (<u64>(len - <u32>HEADER) << 32);
  let hv = i64x2.replace_lane(i64x2.splat(head), 1, load<u64>(layout, COL_TIMESTAMP));
  let s0 = load<u32>(layout, COL_SEED) + load<u32>(layout, COL_INDEX0);
  let prefix = prefixOf(layout);
  let ids = <usize>load<u32>(layout, COL_IDS);
  let prios = <usize>load<u32>(layout, COL_PRIORITIES);
  let word = VERSION_WORD | (ids != 0 ? CORRELATION_FLAG : 0) | <u64>(load<u32>(layout, COL_PRIORITY) & 0xff);
  let fields = load<u32>(layout, COL_FIELD_COUNT);
  let f = layout + COL_FIELDS;
  let col0 = <usize>load<u32>(f, COL_FIELD_COLUMN), bytes0 = <usize>load<u32>(f, COL_FIELD_SIZE), dst0 = <usize>HEADER + <usize>load<u32>(f, COL_FIELD_OFFSET);
  let temp = <usize>load<u32>(layout, COL_TEMP);
  let i: u32 = 0;
  while (i < n) {
    let o = pos & mask;
    let m = first + i;
    if (o + len > size) { // wraps: made aside, copied in two pieces
      putRecord(temp, <usize>m, idOf(s0 + m, prefix), hv, word, ids, prios, layout, fields, col0, bytes0, dst0);
      let firstPart = size - o;
      memory.copy(arena + <usize>o, temp, firstPart);
      memory.copy(arena, temp + <usize>firstPart, len - firstPart);
      i++; pos += step;
      continue;
    }
    // the records that lie whole from here on, back to back
    let k = min(n - i, (size - o - len) / step + 1);
    let rec = arena + <usize>o;
    let end = m + k;
    // the common shapes get loops of their own, the tests on ids, priorities and fields
    // folded away: a host's push (one field, no correlation ids, one priority) and a GPU
    // kernel's answers (one field, correlation ids, priorities)
    if (fields == 1 && ids == 0 && prios == 0) encodeWhole(rec, m, end, step, s0, prefix, hv, word, 0, 0, layout, 1, col0, bytes0, dst0);
    else if (fields == 1 && ids != 0 && prios != 0) encodeWhole(rec, m, end, step, s0, prefix, hv, word, ids, prios, layout, 1, col0, bytes0, dst0);
    else encodeWhole(rec, m, end, step, s0, prefix, hv, word, ids, prios, layout, fields, col0, bytes0, dst0);
    i += k; pos += k * step;
  }
}

/**
 * Reads the records of messages m..end-1 (back to back from `rec`, `step` bytes apart) into
 * the columns, up to one not of the class (noted): returns the index it stopped at.
 */
@inline function decodeWhole(rec: usize, m: usize, end: usize, step: u32, head: u64, len: u32, layout: usize, times: usize, ids: usize, prios: usize,
  fields: u32, col0: usize, bytes0: usize, src0: usize): usize {
  for (; m < end; m++, rec += <usize>step) {
    if (load<u64>(rec) != head) { noteBlocked(layout, <u32>load<u64>(rec), len); return m; }
    if (times != 0) store<f64>(times + (m << 3), load<f64>(rec, H_TIME));
    if (ids != 0) v128.store(ids + (m << 4), v128.load(rec, H_ID));
    if (prios != 0) store<u8>(prios + m, load<u8>(rec, H_PRIORITY));
    if (fields == 1) copyField(col0 + m * bytes0, rec + src0, bytes0);
    else fieldCopyOut(layout, fields, rec, m);
  }
  return m;
}

/**
 * Reads n records of the class's length from `arena` (`size` bytes, a power of two) at byte
 * positions pos, pos + align8(recordLen), ... (mod size) into the columns from message i on,
 * up to the first of another type (noted as the one the pop stops before). Returns how many
 * it read: those before it.
 */
export function columnsDecodeRun(layout: usize, i: u32, n: u32, arena: usize, size: u32, pos: u32): u32 {
  let len = load<u32>(layout, COL_RECORD_LEN);
  let step = (len + 7) & ~7;
  let mask = size - 1;
  let head: u64 = <u64>load<u32>(layout, COL_TYPE) | (<u64>(len - <u32>HEADER) << 32);
  let times = <usize>load<u32>(layout, COL_TIMES);
  let ids = <usize>load<u32>(layout, COL_IDS);
  let prios = <usize>load<u32>(layout, COL_PRIORITIES);
  let fields = load<u32>(layout, COL_FIELD_COUNT);
  let f = layout + COL_FIELDS;
  let col0 = <usize>load<u32>(f, COL_FIELD_COLUMN), bytes0 = <usize>load<u32>(f, COL_FIELD_SIZE), src0 = <usize>HEADER + <usize>load<u32>(f, COL_FIELD_OFFSET);
  let temp = <usize>load<u32>(layout, COL_TEMP);
  let m = <usize>i;
  let j: u32 = 0;
  while (j < n) {
    let o = pos & mask;
    let rec = arena + <usize>o;
    let k: u32 = 1;
    if (o + len > size) { // wraps: copied aside first (a record's first 8 bytes never wrap)
      let firstPart = size - o;
      memory.copy(temp, rec, firstPart);
      memory.copy(temp + <usize>firstPart, arena, len - firstPart);
      rec = temp;
    } else k = min(n - j, (size - o - len) / step + 1); // the records that lie whole from here on
    let end = m + <usize>k;
    // the common shapes get loops of their own (see columnsEncodeRun): a GPU kernel's pop
    // (one field, send times, ids, priorities) and a host's (one field, send times)
    let got: usize;
    if (fields == 1 && times != 0 && ids != 0 && prios != 0) got = decodeWhole(rec, m, end, step, head, len, layout, times, ids, prios, 1, col0, bytes0, src0);
    else if (fields == 1 && times != 0 && ids == 0 && prios == 0) got = decodeWhole(rec, m, end, step, head, len, layout, times, 0, 0, 1, col0, bytes0, src0);
    else got = decodeWhole(rec, m, end, step, head, len, layout, times, ids, prios, fields, col0, bytes0, src0);
    if (got < end) return <u32>(got - <usize>i);
    m = end;
    j += k; pos += k * step;
  }
  return <u32>(m - <usize>i);
}
