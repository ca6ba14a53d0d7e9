// codec.ts — the wire format of a message record: writers (so the core and the JS encoder
// can be checked against each other on golden vectors) and the validator of untrusted
// records. docs/wire-format.md is the specification; js/message/schema.ts and js/message/message.ts are the
// JS side. Nothing here allocates: the validator reads a schema table and a record that JS
// placed in memory, keeps its state in globals (one set per instance, so per thread) and
// reports errors through a caller-given 32-byte area.

// ---- record header (56 bytes, little-endian): the offsets are in record.ts ----
import { H_TYPE, H_PAYLOAD, H_TIME, H_ID, H_CORR, H_PRIORITY, H_FLAGS, H_VERSION, H_RESERVED, HEADER } from "./record";
const FLAG_CORRELATION: u32 = 1;
const VERSION: u32 = 1;

// ---- field kinds (schema descriptor opcodes) ----
const OP_F64: u8 = 1;
const OP_F32: u8 = 2;
const OP_I32: u8 = 3;
const OP_U32: u8 = 4;
const OP_BOOL: u8 = 5;
const OP_STRING: u8 = 6;
const OP_BYTES: u8 = 7;
const OP_ARRAY: u8 = 8; //     then the element's descriptor
const OP_FIXED: u8 = 9; //     then u32 length, then the element's descriptor
const OP_OPTIONAL: u8 = 10; // then the inner descriptor
const OP_MESSAGE: u8 = 11; //  then u32 type id of the nested message
const OP_TUPLE: u8 = 12; //    then u8 count n (1..255), then n element descriptors
const OP_JSON: u8 = 13; //     a JSON-like value: tag byte, then as the tag says (JSON_* below)

// ---- JSON-like values (t.json): a tag byte, then ----
const JSON_NULL: u32 = 0; //   nothing
const JSON_FALSE: u32 = 1; //  nothing
const JSON_TRUE: u32 = 2; //   nothing
const JSON_NUMBER: u32 = 3; // f64, finite
const JSON_STRING: u32 = 4; // u32 byte length n, n bytes of UTF-8
const JSON_ARRAY: u32 = 5; //  u32 count n, n values
const JSON_OBJECT: u32 = 6; // u32 count n, n x { u32 key length k, k bytes of UTF-8, value }
/** Nesting bound of JSON arrays and objects (the JS side refuses deeper values at construction). */
const JSON_MAX_DEPTH: i32 = 64;

// ---- validator error codes (exported so tests check js/core/codec-core.ts uses the same) ----
export const CODEC_E_SHORT_HEADER: i32 = -1;
export const CODEC_E_UNKNOWN_TYPE: i32 = -2;
export const CODEC_E_WRONG_TYPE: i32 = -3;
export const CODEC_E_LENGTH_MISMATCH: i32 = -4;
export const CODEC_E_BAD_VERSION: i32 = -5;
export const CODEC_E_BAD_FLAGS: i32 = -6;
export const CODEC_E_RESERVED: i32 = -7;
export const CODEC_E_BAD_CORRELATION: i32 = -8;
export const CODEC_E_BAD_TIMESTAMP: i32 = -9;
export const CODEC_E_TRUNCATED: i32 = -10;
export const CODEC_E_LENGTH_EXCEEDS: i32 = -11;
export const CODEC_E_BAD_BOOL: i32 = -12;
export const CODEC_E_BAD_TAG: i32 = -13;
export const CODEC_E_BAD_UTF8: i32 = -14;
export const CODEC_E_TRAILING: i32 = -15;
export const CODEC_E_TOO_DEEP: i32 = -16;
export const CODEC_E_BAD_SCHEMA: i32 = -17;
export const CODEC_E_BAD_JSON_TAG: i32 = -18;
export const CODEC_E_BAD_NUMBER: i32 = -19;
export const CODEC_E_JSON_TOO_DEEP: i32 = -20;

/** validate flag: accept any type id found in the table, not just `expected`. */
const ANY_TYPE: u32 = 1;
/** Nesting bound: schemas are acyclic by construction, this only guards a corrupt table. */
const MAX_DEPTH: i32 = 64;

// ---- schema table ----
// Written by JS (js/message/message.ts buildSchemaTable), read-only here:
//    0  u32 slotCount   power of two, open addressing on typeId & (slotCount - 1)
//    4  u32 typeCount
//    8  slotCount x { u32 typeId, u32 descOffset } (descOffset from the table start, 0 = empty)
//    then per type: { u32 typeId, u32 fieldCount, field descriptors back to back }

/** Address of the descriptor of `typeId` in `table`, or 0 when it is not there. */
export function codec_table_lookup(table: usize, typeId: u32): usize {
  let mask = load<u32>(table) - 1;
  let i = typeId & mask;
  for (let n: u32 = 0; n <= mask; n++) {
    let slot = table + 8 + (<usize>i << 3);
    let off = load<u32>(slot, 4);
    if (off == 0) return 0;
    if (load<u32>(slot) == typeId) return table + <usize>off;
    i = (i + 1) & mask;
  }
  return 0;
}

// ---- validator state: globals are per instance, hence per thread ----
let table: usize = 0;
let rec: usize = 0;
let err: i32 = 0;
let errAt: usize = 0;
let errValue: u32 = 0;
let errLeft: u32 = 0;
let errOp: u32 = 0;
let curType: u32 = 0;
let curField: i32 = -1;
let topField: i32 = -1;

/** Records the first error; returns 0 so callers can `return fail(...)` as a position. */
function fail(code: i32, at: usize, value: u32, left: u32, op: u32): usize {
  if (err == 0) {
    err = code;
    errAt = at;
    errValue = value;
    errLeft = left;
    errOp = op;
  }
  return 0;
}

/** The descriptor position just after the type that starts at pc. */
function skip(pc: usize): usize {
  let op = load<u8>(pc);
  if (op == OP_ARRAY || op == OP_OPTIONAL) return skip(pc + 1);
  if (op == OP_FIXED) return skip(pc + 5);
  if (op == OP_MESSAGE) return pc + 5;
  if (op == OP_TUPLE) {
    let n = <u32>load<u8>(pc + 1);
    let q = pc + 2;
    for (let i: u32 = 0; i < n; i++) q = skip(q);
    return q;
  }
  return pc + 1;
}

/** Fewest bytes a value of the type at pc takes (bounds a count before looping over it). */
function minSize(pc: usize, depth: i32): u64 {
  let op = load<u8>(pc);
  if (op == OP_F64) return 8;
  if (op == OP_BOOL || op == OP_OPTIONAL || op == OP_JSON) return 1;
  if (op == OP_TUPLE) {
    let n = <u32>load<u8>(pc + 1);
    let q = pc + 2;
    let total: u64 = 0;
    for (let i: u32 = 0; i < n; i++) { total += minSize(q, depth); q = skip(q); }
    return total;
  }
  if (op == OP_FIXED) return <u64>load<u32>(pc + 1) * minSize(pc + 5, depth);
  if (op == OP_MESSAGE) {
    let d = codec_table_lookup(table, load<u32>(pc + 1));
    if (d == 0 || depth > MAX_DEPTH) return 0;
    let n = load<u32>(d, 4);
    let q = d + 8;
    let total: u64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      total += minSize(q, depth + 1);
      q = skip(q);
    }
    return total;
  }
  return 4; // f32 i32 u32, and the u32 prefix of string, bytes, array
}

/** Exact size of a value of the type at pc when every value is valid and equally long, else -1. */
function plainSize(pc: usize, depth: i32): i64 {
  let op = load<u8>(pc);
  if (op == OP_F64) return 8;
  if (op == OP_F32 || op == OP_I32 || op == OP_U32) return 4;
  if (op == OP_FIXED) {
    let e = plainSize(pc + 5, depth);
    return e < 0 ? -1 : <i64>load<u32>(pc + 1) * e;
  }
  if (op == OP_TUPLE) {
    let n = <u32>load<u8>(pc + 1);
    let q = pc + 2;
    let total: i64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      let e = plainSize(q, depth);
      if (e < 0) return -1;
      total += e;
      q = skip(q);
    }
    return total;
  }
  if (op == OP_MESSAGE) {
    let d = codec_table_lookup(table, load<u32>(pc + 1));
    if (d == 0 || depth > MAX_DEPTH) return -1;
    let n = load<u32>(d, 4);
    let q = d + 8;
    let total: i64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      let s = plainSize(q, depth + 1);
      if (s < 0) return -1;
      total += s;
      q = skip(q);
    }
    return total;
  }
  return -1;
}

/** Checks `n` bytes of UTF-8 at p (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
function checkUtf8(p: usize, n: u32): bool {
  let i: usize = 0;
  let end = <usize>n;
  while (i < end) {
    // eight ASCII bytes at a time: the common case
    if (i + 8 <= end && (load<u64>(p + i) & 0x8080808080808080) == 0) { i += 8; continue; }
    let b0 = <u32>load<u8>(p + i);
    if (b0 < 0x80) { i++; continue; }
    let need: usize;
    let lo: u32 = 0x80;
    let hi: u32 = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
      need = 2;
      if (b0 == 0xE0) lo = 0xA0; // overlong
      if (b0 == 0xED) hi = 0x9F; // surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      need = 3;
      if (b0 == 0xF0) lo = 0x90; // overlong
      if (b0 == 0xF4) hi = 0x8F; // above U+10FFFF
    } else return !fail(CODEC_E_BAD_UTF8, p + i, b0, <u32>(end - i), OP_STRING);
    if (i + need >= end) return !fail(CODEC_E_BAD_UTF8, p + i, b0, <u32>(end - i), OP_STRING);
    let b1 = <u32>load<u8>(p + i + 1);
    if (b1 < lo || b1 > hi) return !fail(CODEC_E_BAD_UTF8, p + i, b0, <u32>(end - i), OP_STRING);
    for (let k: usize = 2; k <= need; k++) {
      let b = <u32>load<u8>(p + i + k);
      if ((b & 0xC0) != 0x80) return !fail(CODEC_E_BAD_UTF8, p + i, b0, <u32>(end - i), OP_STRING);
    }
    i += need + 1;
  }
  return true;
}

/** Validates one value of the type at pc starting at p; returns the position after it. */
function checkValue(pc: usize, p: usize, end: usize, depth: i32): usize {
  let op = load<u8>(pc);
  let left = <u32>(end - p);
  switch (op) {
    case OP_F64: {
      if (left < 8) return fail(CODEC_E_TRUNCATED, p, 8, left, op);
      return p + 8;
    }
    case OP_F32:
    case OP_I32:
    case OP_U32: {
      if (left < 4) return fail(CODEC_E_TRUNCATED, p, 4, left, op);
      return p + 4;
    }
    case OP_BOOL: {
      if (left < 1) return fail(CODEC_E_TRUNCATED, p, 1, left, op);
      let b = <u32>load<u8>(p);
      if (b > 1) return fail(CODEC_E_BAD_BOOL, p, b, left, op);
      return p + 1;
    }
    case OP_OPTIONAL: {
      if (left < 1) return fail(CODEC_E_TRUNCATED, p, 1, left, op);
      let tag = <u32>load<u8>(p);
      if (tag == 0) return p + 1;
      if (tag != 1) return fail(CODEC_E_BAD_TAG, p, tag, left, op);
      return checkValue(pc + 1, p + 1, end, depth);
    }
    case OP_STRING:
    case OP_BYTES: {
      if (left < 4) return fail(CODEC_E_TRUNCATED, p, 4, left, op);
      let n = load<u32>(p);
      if (n > left - 4) return fail(CODEC_E_LENGTH_EXCEEDS, p, n, left - 4, op);
      if (op == OP_STRING && !checkUtf8(p + 4, n)) return 0;
      return p + 4 + <usize>n;
    }
    case OP_ARRAY: {
      if (left < 4) return fail(CODEC_E_TRUNCATED, p, 4, left, op);
      let n = load<u32>(p);
      return checkElements(pc + 1, n, p, p + 4, end, depth, op);
    }
    case OP_FIXED: {
      return checkElements(pc + 5, load<u32>(pc + 1), p, p, end, depth, op);
    }
    case OP_MESSAGE: {
      return checkMessage(load<u32>(pc + 1), p, end, depth + 1);
    }
    case OP_TUPLE: {
      let n = <u32>load<u8>(pc + 1);
      let q = pc + 2;
      for (let i: u32 = 0; i < n; i++) {
        p = checkValue(q, p, end, depth);
        if (err != 0) return 0;
        q = skip(q);
      }
      return p;
    }
    case OP_JSON: {
      return checkJson(p, end, 0);
    }
  }
  return fail(CODEC_E_BAD_SCHEMA, p, op, left, op);
}

/** A u32-prefixed UTF-8 string of a JSON value (a string, or an object's key) at p. */
function checkJsonText(p: usize, end: usize): usize {
  let left = <u32>(end - p);
  if (left < 4) return fail(CODEC_E_TRUNCATED, p, 4, left, OP_JSON);
  let n = load<u32>(p);
  if (n > left - 4) return fail(CODEC_E_LENGTH_EXCEEDS, p, n, left - 4, OP_JSON);
  if (!checkUtf8(p + 4, n)) return 0;
  return p + 4 + <usize>n;
}

/** One JSON-like value at p (`depth`: arrays and objects around it); returns the position after it. */
function checkJson(p: usize, end: usize, depth: i32): usize {
  let left = <u32>(end - p);
  if (left < 1) return fail(CODEC_E_TRUNCATED, p, 1, left, OP_JSON);
  let tag = <u32>load<u8>(p);
  if (tag <= JSON_TRUE) return p + 1;
  if (tag == JSON_NUMBER) {
    if (left < 9) return fail(CODEC_E_TRUNCATED, p + 1, 8, left - 1, OP_JSON);
    if (!isFinite<f64>(load<f64>(p + 1))) return fail(CODEC_E_BAD_NUMBER, p + 1, 0, left - 1, OP_JSON);
    return p + 9;
  }
  if (tag == JSON_STRING) return checkJsonText(p + 1, end);
  if (tag != JSON_ARRAY && tag != JSON_OBJECT) return fail(CODEC_E_BAD_JSON_TAG, p, tag, left, OP_JSON);
  if (depth >= JSON_MAX_DEPTH) return fail(CODEC_E_JSON_TOO_DEEP, p, <u32>depth + 1, left, OP_JSON);
  if (left < 5) return fail(CODEC_E_TRUNCATED, p + 1, 4, left - 1, OP_JSON);
  let n = load<u32>(p + 1);
  // each element takes a byte at least, each entry five (key length, value tag)
  if (<u64>n * (tag == JSON_ARRAY ? 1 : 5) > <u64>(left - 5)) return fail(CODEC_E_LENGTH_EXCEEDS, p + 1, n, left - 5, OP_JSON);
  let q = p + 5;
  for (let i: u32 = 0; i < n; i++) {
    if (tag == JSON_OBJECT) {
      q = checkJsonText(q, end);
      if (err != 0) return 0;
    }
    q = checkJson(q, end, depth + 1);
    if (err != 0) return 0;
  }
  return q;
}

/** n elements of the type at elem from p; `at` is where the array (its prefix) starts. */
function checkElements(elem: usize, n: u32, at: usize, p: usize, end: usize, depth: i32, op: u32): usize {
  let left = <u32>(end - p);
  let min = minSize(elem, depth);
  if (<u64>n * min > <u64>left) {
    // a fixed array has no length on the wire: its elements simply do not fit
    return fail(op == OP_FIXED ? CODEC_E_TRUNCATED : CODEC_E_LENGTH_EXCEEDS, at, n, left, op);
  }
  let plain = plainSize(elem, depth);
  if (plain >= 0) return p + <usize>(<u64>n * <u64>plain);
  for (let i: u32 = 0; i < n; i++) {
    p = checkValue(elem, p, end, depth);
    if (err != 0) return 0;
  }
  return p;
}

/** Validates the fields of message `typeId` from p; returns the position after them. */
function checkMessage(typeId: u32, p: usize, end: usize, depth: i32): usize {
  if (depth > MAX_DEPTH) return fail(CODEC_E_TOO_DEEP, p, <u32>depth, <u32>(end - p), OP_MESSAGE);
  let d = codec_table_lookup(table, typeId);
  if (d == 0) return fail(CODEC_E_BAD_SCHEMA, p, typeId, <u32>(end - p), OP_MESSAGE);
  let outerType = curType;
  let outerField = curField;
  curType = typeId;
  let n = load<u32>(d, 4);
  let pc = d + 8;
  for (let i: u32 = 0; i < n; i++) {
    curField = <i32>i;
    if (depth == 0) topField = <i32>i;
    p = checkValue(pc, p, end, depth);
    if (err != 0) return 0; // leave curType/curField pointing at the innermost culprit
    pc = skip(pc);
  }
  curType = outerType;
  curField = outerField;
  return p;
}

/**
 * Validates the record of `len` bytes at `record` against the schema table: header first,
 * then the payload field by field. `expected` is the type id the caller wants (ignored when
 * flags has ANY_TYPE, 1). Returns 0 when valid, else a negative error code; either way
 * writes to `out` (32 bytes): i32 code, u32 offset (from the record start), u32 value (the
 * offending value: a length, a byte, a type id), u32 left (bytes left at offset), u32 type
 * id of the innermost message being checked, i32 its field index (-1: header), i32 the
 * top-level field index (-1: header), u32 the field kind opcode involved.
 */
export function codec_validate(schemaTable: usize, record: usize, len: u32, expected: u32, flags: u32, out: usize): i32 {
  table = schemaTable;
  rec = record;
  err = 0;
  errAt = record;
  errValue = 0;
  errLeft = 0;
  errOp = 0;
  curType = 0;
  curField = -1;
  topField = -1;
  validateRecord(len, expected, flags);
  store<i32>(out, err);
  store<u32>(out, <u32>(errAt - record), 4);
  store<u32>(out, errValue, 8);
  store<u32>(out, errLeft, 12);
  store<u32>(out, curType, 16);
  store<i32>(out, curField, 20);
  store<i32>(out, topField, 24);
  store<u32>(out, errOp, 28);
  return err;
}

function validateRecord(len: u32, expected: u32, flags: u32): void {
  if (len < HEADER) { fail(CODEC_E_SHORT_HEADER, rec, len, len, 0); return; }
  let typeId = load<u32>(rec, H_TYPE);
  curType = typeId;
  if (codec_table_lookup(table, typeId) == 0) { fail(CODEC_E_UNKNOWN_TYPE, rec + H_TYPE, typeId, len, 0); return; }
  if ((flags & ANY_TYPE) == 0 && typeId != expected) { fail(CODEC_E_WRONG_TYPE, rec + H_TYPE, typeId, len, 0); return; }
  let payload = load<u32>(rec, H_PAYLOAD);
  if (<u64>payload + HEADER != <u64>len) { fail(CODEC_E_LENGTH_MISMATCH, rec + H_PAYLOAD, payload, len - HEADER, 0); return; }
  let version = <u32>load<u8>(rec, H_VERSION);
  if (version != VERSION) { fail(CODEC_E_BAD_VERSION, rec + H_VERSION, version, len, 0); return; }
  let fl = <u32>load<u8>(rec, H_FLAGS);
  if ((fl & ~FLAG_CORRELATION) != 0) { fail(CODEC_E_BAD_FLAGS, rec + H_FLAGS, fl, len, 0); return; }
  for (let i: usize = H_RESERVED; i < <usize>HEADER; i++) {
    let b = <u32>load<u8>(rec + i);
    if (b != 0) { fail(CODEC_E_RESERVED, rec + i, b, len, 0); return; }
  }
  if ((fl & FLAG_CORRELATION) == 0 && (load<u64>(rec, H_CORR) | load<u64>(rec, H_CORR + 8)) != 0) {
    fail(CODEC_E_BAD_CORRELATION, rec + H_CORR, 0, len, 0);
    return;
  }
  let t = load<f64>(rec, H_TIME);
  if (!isFinite<f64>(t)) { fail(CODEC_E_BAD_TIMESTAMP, rec + H_TIME, 0, len, 0); return; }
  // priority is a u8: every value 0..255 is valid
  let end = rec + <usize>len;
  let p = checkMessage(typeId, rec + <usize>HEADER, end, 0);
  if (err == 0 && p != end) {
    curType = typeId;
    curField = -1;
    topField = -1;
    fail(CODEC_E_TRAILING, p, <u32>(end - p), <u32>(end - p), 0);
  }
}

// ---- header accessors (the ring plumbing and the scheduler read these) ----

export function codec_header_bytes(): u32 { return HEADER; }
export function codec_record_type(record: usize): u32 { return load<u32>(record, H_TYPE); }
export function codec_record_payload(record: usize): u32 { return load<u32>(record, H_PAYLOAD); }
export function codec_record_priority(record: usize): u32 { return <u32>load<u8>(record, H_PRIORITY); }
export function codec_record_timestamp(record: usize): f64 { return load<f64>(record, H_TIME); }

// ---- writers: the reference encoder, byte-identical to js/message/schema.ts ----

/** Writes the header; `corr` 0 means no correlation id. */
export function codec_write_header(record: usize, typeId: u32, payloadLen: u32, timestamp: f64, id: usize, corr: usize, priority: u32): void {
  store<u32>(record, typeId, H_TYPE);
  store<u32>(record, payloadLen, H_PAYLOAD);
  store<f64>(record, timestamp, H_TIME);
  memory.copy(record + H_ID, id, 16);
  if (corr != 0) memory.copy(record + H_CORR, corr, 16);
  else {
    store<u64>(record, 0, H_CORR);
    store<u64>(record, 0, H_CORR + 8);
  }
  store<u8>(record, <u8>priority, H_PRIORITY);
  store<u8>(record, corr != 0 ? <u8>FLAG_CORRELATION : 0, H_FLAGS);
  store<u8>(record, <u8>VERSION, H_VERSION);
  store<u8>(record, 0, H_RESERVED);
  store<u32>(record, 0, H_RESERVED + 1);
}

export function codec_put_f64(p: usize, v: f64): usize { store<f64>(p, v); return p + 8; }
export function codec_put_f32(p: usize, v: f32): usize { store<f32>(p, v); return p + 4; }
export function codec_put_i32(p: usize, v: i32): usize { store<i32>(p, v); return p + 4; }
/** Also array lengths. */
export function codec_put_u32(p: usize, v: u32): usize { store<u32>(p, v); return p + 4; }
/** Also optional tags (0 absent, 1 present). */
export function codec_put_bool(p: usize, v: bool): usize { store<u8>(p, v ? 1 : 0); return p + 1; }
/** A string (UTF-8 bytes) or bytes field: u32 length, then the bytes. */
export function codec_put_bytes(p: usize, src: usize, n: u32): usize {
  store<u32>(p, n);
  memory.copy(p + 4, src, n);
  return p + 4 + <usize>n;
}
