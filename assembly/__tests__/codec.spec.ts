import {
  codec_validate, codec_table_lookup, codec_write_header, codec_header_bytes,
  codec_record_type, codec_record_payload, codec_record_priority, codec_record_timestamp,
  codec_put_f64, codec_put_f32, codec_put_i32, codec_put_u32, codec_put_bool, codec_put_bytes,
  CODEC_E_SHORT_HEADER, CODEC_E_UNKNOWN_TYPE, CODEC_E_WRONG_TYPE, CODEC_E_LENGTH_MISMATCH,
  CODEC_E_BAD_VERSION, CODEC_E_BAD_FLAGS, CODEC_E_RESERVED, CODEC_E_BAD_CORRELATION,
  CODEC_E_BAD_TIMESTAMP, CODEC_E_TRUNCATED, CODEC_E_LENGTH_EXCEEDS, CODEC_E_BAD_BOOL,
  CODEC_E_BAD_TAG, CODEC_E_BAD_UTF8, CODEC_E_TRAILING, CODEC_E_TOO_DEEP, CODEC_E_BAD_SCHEMA,
  CODEC_E_BAD_JSON_TAG, CODEC_E_BAD_NUMBER, CODEC_E_JSON_TOO_DEEP,
} from "../codec";

// ---- tests/fixtures/golden.json, copied (tests/codec.test.ts checks these are its strings) ----
const TABLE_HEX = "100000000500000000000000000000000000000000000000c2d071e9c300000000000000000000000000000000000000000000000000000000000000000000004719262d95000000d7512a5eb900000000000000000000000000000000000000000000000000000000000000000000003d459053880000004e2dd649a300000000000000000000003d4590530500000001020304054719262d0400000006070a030a064e2dd649050000000801090300000002080208010805d7512a5e020000000202c2d071e90400000006080bd7512a5e0bd7512a5e0a0bd7512a5e";
const SCALARS_HEX = "3d4590531500000000088056febc784200112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0c801010000000000000000000000f83f000010c0f9ffffff00286bee01";
const TEXTS_HEX = "4719262d21000000000000000000000000112233445566778899aabbccddeeff0000000000000000000000000000000000000100000000000f00000068c3a96c6c6f20e2869220f09f988004000000000102ff012a00000000";
const ARRAYS_HEX = "4e2dd64932000000000000000000f03f00112233445566778899aabbccddeeff00000000000000000000000000000000ff0001000000000002000000000000000000f03f000000000000e0bf0000803f0000004000004040010000000000003f00000000020000000100";
const NESTED_HEX = "c2d071e922000000000000000000024000112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f080010100000000000100000070020000000000803f00000040000080bf0000003f000000000000000000";
const SCALARS: u32 = 1401963837;
const TEXTS: u32 = 757471559;
const ARRAYS: u32 = 1238773070;
const POINT: u32 = 1579831767;
const PATH: u32 = 3916550338;

const TABLE = memory.data(4096, 64);
const CRAFTED = memory.data(256, 64);
const REC = memory.data(4096, 64);
const GOLD = memory.data(4096, 64);
const OUT = memory.data(64, 8);
const ID = memory.data(16, 8);
const CORR = memory.data(16, 8);
const TMP = memory.data(1024, 8);

function nibble(c: i32): u8 {
  if (c >= 48 && c <= 57) return <u8>(c - 48);
  return <u8>(c - 97 + 10);
}

/** Writes the bytes of `hex` at dst; returns how many. */
function fromHex(dst: usize, hex: string): u32 {
  let n = hex.length >> 1;
  for (let i = 0; i < n; i++) store<u8>(dst + i, (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1)));
  return <u32>n;
}

function sameBytes(a: usize, b: usize, n: u32): i32 {
  for (let i: u32 = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return <i32>i;
  return -1;
}

function putString(p: usize, s: string): usize {
  let buf = String.UTF8.encode(s);
  return codec_put_bytes(p, changetype<usize>(buf), <u32>buf.byteLength);
}

function finish(p: usize, typeId: u32, timestamp: f64, corr: usize, priority: u32): u32 {
  let payload = <u32>(p - REC) - codec_header_bytes();
  codec_write_header(REC, typeId, payload, timestamp, ID, corr, priority);
  return <u32>(p - REC);
}

function writeScalars(): u32 {
  let p = REC + 56;
  p = codec_put_f64(p, 1.5);
  p = codec_put_f32(p, -2.25);
  p = codec_put_i32(p, -7);
  p = codec_put_u32(p, 4000000000);
  p = codec_put_bool(p, true);
  return finish(p, SCALARS, 1700000000000.5, CORR, 200);
}

/** A Texts record whose string field holds the n bytes at src. */
function writeTextsWith(src: usize, n: u32): u32 {
  let p = codec_put_bytes(REC + 56, src, n);
  store<u32>(TMP + 512, 0xff020100);
  p = codec_put_bytes(p, TMP + 512, 4);
  p = codec_put_bool(p, true); // optional o: present
  p = codec_put_i32(p, 42);
  p = codec_put_bool(p, false); // optional n: absent
  return finish(p, TEXTS, 0, 0, 0);
}

function writeTexts(): u32 {
  let p = putString(REC + 56, "h\u00e9llo \u2192 \u{1F600}");
  store<u32>(TMP, 0xff020100);
  p = codec_put_bytes(p, TMP, 4);
  p = codec_put_bool(p, true);
  p = codec_put_i32(p, 42);
  p = codec_put_bool(p, false);
  return finish(p, TEXTS, 0, 0, 0);
}

function writeArrays(): u32 {
  let p = codec_put_u32(REC + 56, 2); // v: array<f64>
  p = codec_put_f64(p, 1);
  p = codec_put_f64(p, -0.5);
  p = codec_put_f32(p, 1); // fx: array<f32,3>, no length on the wire
  p = codec_put_f32(p, 2);
  p = codec_put_f32(p, 3);
  p = codec_put_u32(p, 1); // ta: f32array
  p = codec_put_f32(p, 0.5);
  p = codec_put_u32(p, 0); // tb: f64array
  p = codec_put_u32(p, 2); // flags: array<bool>
  p = codec_put_bool(p, true);
  p = codec_put_bool(p, false);
  return finish(p, ARRAYS, 1, 0, 255);
}

function writeNested(): u32 {
  let p = putString(REC + 56, "p");
  p = codec_put_u32(p, 2); // points: list of Point, each its fields inline
  p = codec_put_f32(p, 1);
  p = codec_put_f32(p, 2);
  p = codec_put_f32(p, -1);
  p = codec_put_f32(p, 0.5);
  p = codec_put_f32(p, 0); // origin
  p = codec_put_f32(p, 0);
  p = codec_put_bool(p, false); // tag: absent
  return finish(p, PATH, 2.25, CORR, 128);
}

function validate(len: u32, expected: u32, flags: u32 = 0, table: usize = TABLE): i32 {
  return codec_validate(table, REC, len, expected, flags, OUT);
}
function reportOffset(): u32 { return load<u32>(OUT, 4); }
function reportValue(): u32 { return load<u32>(OUT, 8); }
function reportLeft(): u32 { return load<u32>(OUT, 12); }
function reportType(): u32 { return load<u32>(OUT, 16); }
function reportField(): i32 { return load<i32>(OUT, 20); }
function reportTop(): i32 { return load<i32>(OUT, 24); }

function setup(): void {
  fromHex(TABLE, TABLE_HEX);
  fromHex(ID, "00112233445566778899aabbccddeeff");
  fromHex(CORR, "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
}

describe("codec writers", () => {
  beforeEach(setup);

  it("write the golden records byte for byte", () => {
    let n = writeScalars();
    expect(n).toBe(fromHex(GOLD, SCALARS_HEX));
    expect(sameBytes(REC, GOLD, n)).toBe(-1);
    n = writeTexts();
    expect(n).toBe(fromHex(GOLD, TEXTS_HEX));
    expect(sameBytes(REC, GOLD, n)).toBe(-1);
    n = writeArrays();
    expect(n).toBe(fromHex(GOLD, ARRAYS_HEX));
    expect(sameBytes(REC, GOLD, n)).toBe(-1);
    n = writeNested();
    expect(n).toBe(fromHex(GOLD, NESTED_HEX));
    expect(sameBytes(REC, GOLD, n)).toBe(-1);
  });

  it("read header fields back", () => {
    writeScalars();
    expect(codec_record_type(REC)).toBe(SCALARS);
    expect(codec_record_payload(REC)).toBe(21);
    expect(codec_record_priority(REC)).toBe(200);
    expect(codec_record_timestamp(REC)).toBe(1700000000000.5);
  });
});

describe("codec schema table", () => {
  beforeEach(setup);

  it("finds every golden type and nothing else", () => {
    expect(codec_table_lookup(TABLE, SCALARS)).toBeGreaterThan(TABLE);
    expect(codec_table_lookup(TABLE, TEXTS)).toBeGreaterThan(TABLE);
    expect(codec_table_lookup(TABLE, ARRAYS)).toBeGreaterThan(TABLE);
    expect(codec_table_lookup(TABLE, POINT)).toBeGreaterThan(TABLE);
    expect(codec_table_lookup(TABLE, PATH)).toBeGreaterThan(TABLE);
    expect(codec_table_lookup(TABLE, 12345)).toBe(0);
    expect(load<u32>(codec_table_lookup(TABLE, PATH))).toBe(PATH);
  });
});

describe("codec_validate", () => {
  beforeEach(setup);

  it("accepts the golden records, as their type or as any type", () => {
    let n = fromHex(REC, SCALARS_HEX);
    expect(validate(n, SCALARS)).toBe(0);
    expect(validate(n, 0, 1)).toBe(0);
    n = fromHex(REC, TEXTS_HEX);
    expect(validate(n, TEXTS)).toBe(0);
    n = fromHex(REC, ARRAYS_HEX);
    expect(validate(n, ARRAYS)).toBe(0);
    n = fromHex(REC, NESTED_HEX);
    expect(validate(n, PATH)).toBe(0);
    expect(load<i32>(OUT)).toBe(0);
  });

  it("refuses a record shorter than its header", () => {
    let n = fromHex(REC, SCALARS_HEX);
    expect(validate(55, SCALARS)).toBe(CODEC_E_SHORT_HEADER);
    expect(reportValue()).toBe(55);
    expect(validate(0, SCALARS)).toBe(CODEC_E_SHORT_HEADER);
    expect(n).toBe(77);
  });

  it("refuses unknown and unexpected type ids", () => {
    let n = fromHex(REC, SCALARS_HEX);
    store<u32>(REC, 12345);
    expect(validate(n, SCALARS)).toBe(CODEC_E_UNKNOWN_TYPE);
    expect(reportValue()).toBe(12345);
    expect(validate(n, 0, 1)).toBe(CODEC_E_UNKNOWN_TYPE);
    n = fromHex(REC, SCALARS_HEX);
    expect(validate(n, TEXTS)).toBe(CODEC_E_WRONG_TYPE);
    expect(reportValue()).toBe(SCALARS);
  });

  it("refuses a payload length that disagrees with the record length", () => {
    let n = fromHex(REC, SCALARS_HEX);
    expect(validate(n - 1, SCALARS)).toBe(CODEC_E_LENGTH_MISMATCH);
    expect(reportOffset()).toBe(4);
    expect(reportValue()).toBe(21);
    expect(reportLeft()).toBe(20);
    store<u32>(REC, 0xffffffff, 4); // no wrap-around: 56 + 2^32 - 1 is not n
    expect(validate(n, SCALARS)).toBe(CODEC_E_LENGTH_MISMATCH);
  });

  it("refuses a bad version, unknown flags and non-zero reserved bytes", () => {
    let n = fromHex(REC, SCALARS_HEX);
    store<u8>(REC, 2, 50);
    expect(validate(n, SCALARS)).toBe(CODEC_E_BAD_VERSION);
    expect(reportOffset()).toBe(50);
    n = fromHex(REC, SCALARS_HEX);
    store<u8>(REC, 3, 49);
    expect(validate(n, SCALARS)).toBe(CODEC_E_BAD_FLAGS);
    expect(reportOffset()).toBe(49);
    expect(reportValue()).toBe(3);
    for (let i = 51; i < 56; i++) {
      n = fromHex(REC, SCALARS_HEX);
      store<u8>(REC + i, 9);
      expect(validate(n, SCALARS)).toBe(CODEC_E_RESERVED);
      expect(reportOffset()).toBe(i);
      expect(reportValue()).toBe(9);
    }
  });

  it("refuses correlation bytes without the flag", () => {
    let n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 47, 1);
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_CORRELATION);
    expect(reportOffset()).toBe(32);
  });

  it("refuses a timestamp that is not finite", () => {
    let n = fromHex(REC, SCALARS_HEX);
    store<f64>(REC, NaN, 8);
    expect(validate(n, SCALARS)).toBe(CODEC_E_BAD_TIMESTAMP);
    store<f64>(REC, -Infinity, 8);
    expect(validate(n, SCALARS)).toBe(CODEC_E_BAD_TIMESTAMP);
    expect(reportOffset()).toBe(8);
  });

  it("accepts every priority", () => {
    let n = fromHex(REC, SCALARS_HEX);
    for (let p = 0; p < 256; p++) {
      store<u8>(REC, <u8>p, 48);
      expect(validate(n, SCALARS)).toBe(0);
    }
  });

  it("refuses a truncated payload, naming the field", () => {
    let n = fromHex(REC, SCALARS_HEX) - 1; // drop the bool
    store<u32>(REC, 20, 4);
    expect(validate(n, SCALARS)).toBe(CODEC_E_TRUNCATED);
    expect(reportOffset()).toBe(76);
    expect(reportValue()).toBe(1);
    expect(reportLeft()).toBe(0);
    expect(reportField()).toBe(4);
    expect(reportTop()).toBe(4);
    expect(reportType()).toBe(SCALARS);
  });

  it("names the innermost field inside a nested message", () => {
    let n = fromHex(REC, NESTED_HEX) - 2; // cut into origin.y
    store<u32>(REC, n - 56, 4);
    expect(validate(n, PATH)).toBe(CODEC_E_TRUNCATED);
    expect(reportOffset()).toBe(85);
    expect(reportValue()).toBe(4);
    expect(reportLeft()).toBe(3);
    expect(reportType()).toBe(POINT);
    expect(reportField()).toBe(1);
    expect(reportTop()).toBe(2);
  });

  it("refuses a fixed array whose elements do not fit", () => {
    // Arrays with v empty and 8 bytes cut: fx (3 x f32) has 4 bytes left
    let p = codec_put_u32(REC + 56, 0);
    p = codec_put_f32(p, 1);
    let n = finish(p, ARRAYS, 1, 0, 255);
    expect(validate(n, ARRAYS)).toBe(CODEC_E_TRUNCATED);
    expect(reportOffset()).toBe(60);
    expect(reportValue()).toBe(3);
    expect(reportLeft()).toBe(4);
    expect(reportTop()).toBe(1);
  });

  it("refuses lengths that exceed the bytes left", () => {
    let n = fromHex(REC, ARRAYS_HEX);
    store<u32>(REC + 56, 1000000);
    expect(validate(n, ARRAYS)).toBe(CODEC_E_LENGTH_EXCEEDS);
    expect(reportOffset()).toBe(56);
    expect(reportValue()).toBe(1000000);
    expect(reportLeft()).toBe(n - 60);
    store<u32>(REC + 56, 0xffffffff); // no overflow in count * size
    expect(validate(n, ARRAYS)).toBe(CODEC_E_LENGTH_EXCEEDS);
    n = fromHex(REC, TEXTS_HEX);
    store<u32>(REC + 56, 34);
    expect(validate(n, TEXTS)).toBe(CODEC_E_LENGTH_EXCEEDS);
    store<u32>(REC + 56, 30); // fits, but the fields after it do not
    expect(validate(n, TEXTS)).not.toBe(0);
    n = fromHex(REC, NESTED_HEX);
    store<u32>(REC + 61, 3); // three points claimed, two there (+ origin + tag = 17 bytes)
    expect(validate(n, PATH)).not.toBe(0);
    store<u32>(REC + 61, 4);
    expect(validate(n, PATH)).toBe(CODEC_E_LENGTH_EXCEEDS);
    expect(reportOffset()).toBe(61);
  });

  it("refuses bool bytes and optional tags other than 0 and 1", () => {
    let n = fromHex(REC, SCALARS_HEX);
    store<u8>(REC + 76, 2);
    expect(validate(n, SCALARS)).toBe(CODEC_E_BAD_BOOL);
    expect(reportOffset()).toBe(76);
    expect(reportValue()).toBe(2);
    n = fromHex(REC, ARRAYS_HEX);
    store<u8>(REC + n - 1, 0x80); // an element of array<bool>
    expect(validate(n, ARRAYS)).toBe(CODEC_E_BAD_BOOL);
    expect(reportTop()).toBe(4);
    n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 83, 7); // optional o
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_TAG);
    expect(reportOffset()).toBe(83);
    expect(reportTop()).toBe(2);
  });

  it("checks UTF-8 exactly", () => {
    // the string's bytes start at 60: 68 c3a9 6c 6c 6f 20 e28692 20 f09f9880
    let n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 61, 0xc0); // overlong lead
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    expect(reportOffset()).toBe(61);
    expect(reportValue()).toBe(0xc0);
    n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 61, 0x80); // lone continuation byte
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 67, 0xe0); store<u8>(REC + 68, 0x80); // overlong 3-byte form
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    expect(reportOffset()).toBe(67);
    n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 67, 0xed); store<u8>(REC + 68, 0xa0); // a surrogate
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 69, 0x41); // continuation missing
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 71, 0xf4); store<u8>(REC + 72, 0x90); // above U+10FFFF
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    expect(reportOffset()).toBe(71);
    n = fromHex(REC, TEXTS_HEX);
    store<u8>(REC + 71, 0xf4); store<u8>(REC + 72, 0x8f); store<u8>(REC + 73, 0xbf); store<u8>(REC + 74, 0xbf); // U+10FFFF
    expect(validate(n, TEXTS)).toBe(0);
    store<u8>(REC + 71, 0xf5);
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
  });

  it("checks UTF-8 past the ASCII fast path and at the string's end", () => {
    for (let i = 0; i < 40; i++) store<u8>(TMP + i, 0x61);
    let n = writeTextsWith(TMP, 40);
    expect(validate(n, TEXTS)).toBe(0);
    store<u8>(TMP + 37, 0xff);
    n = writeTextsWith(TMP, 40);
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    expect(reportOffset()).toBe(60 + 37);
    store<u8>(TMP + 37, 0x61);
    store<u8>(TMP + 39, 0xc3); // a two-byte sequence cut by the string's end
    n = writeTextsWith(TMP, 40);
    expect(validate(n, TEXTS)).toBe(CODEC_E_BAD_UTF8);
    expect(reportOffset()).toBe(60 + 39);
  });

  it("refuses bytes left over after the last field", () => {
    let n = fromHex(REC, SCALARS_HEX);
    store<u8>(REC + n, 0);
    store<u32>(REC, 22, 4);
    expect(validate(n + 1, SCALARS)).toBe(CODEC_E_TRAILING);
    expect(reportOffset()).toBe(77);
    expect(reportValue()).toBe(1);
  });

  it("bounds nesting and reports a corrupt table instead of trapping", () => {
    // type 7: one field, a message of type 7 (schemas are acyclic; only a bad table loops)
    store<u32>(CRAFTED, 8);
    store<u32>(CRAFTED, 2, 4);
    memory.fill(CRAFTED + 8, 0, 64);
    store<u32>(CRAFTED + 8 + 7 * 8, 7);
    store<u32>(CRAFTED + 8 + 7 * 8, 72, 4);
    store<u32>(CRAFTED + 72, 7);
    store<u32>(CRAFTED + 72, 1, 4);
    store<u8>(CRAFTED + 80, 11);
    store<u32>(CRAFTED + 81, 7);
    // type 1: one field of an unknown opcode
    store<u32>(CRAFTED + 8 + 1 * 8, 1);
    store<u32>(CRAFTED + 8 + 1 * 8, 88, 4);
    store<u32>(CRAFTED + 88, 1);
    store<u32>(CRAFTED + 88, 1, 4);
    store<u8>(CRAFTED + 96, 99);
    fromHex(REC, SCALARS_HEX);
    store<u32>(REC, 7);
    expect(validate(77, 7, 0, CRAFTED)).toBe(CODEC_E_TOO_DEEP);
    store<u32>(REC, 1);
    expect(validate(77, 1, 0, CRAFTED)).toBe(CODEC_E_BAD_SCHEMA);
    expect(reportValue()).toBe(99);
  });
});

// ---- tuples and JSON-like values (t.tuple, t.json), in a table of one type ----
// type 5: { pair: tuple<i32,string> (12 2 3 6), data: json (13) }
const JT: u32 = 5;
function jsonTable(): void {
  store<u32>(CRAFTED, 8);
  store<u32>(CRAFTED, 1, 4);
  memory.fill(CRAFTED + 8, 0, 64);
  store<u32>(CRAFTED + 8 + 5 * 8, JT);
  store<u32>(CRAFTED + 8 + 5 * 8, 72, 4);
  store<u32>(CRAFTED + 72, JT);
  store<u32>(CRAFTED + 72, 2, 4);
  store<u8>(CRAFTED + 80, 12);
  store<u8>(CRAFTED + 81, 2);
  store<u8>(CRAFTED + 82, 3);
  store<u8>(CRAFTED + 83, 6);
  store<u8>(CRAFTED + 84, 13);
}

/** A type-5 record: pair (7, "ab"), then the json bytes written by `json` from p; returns its length. */
function jsonRecord(json: (p: usize) => usize): u32 {
  let p = codec_put_i32(REC + 56, 7);
  store<u16>(TMP, 0x6261);
  p = codec_put_bytes(p, TMP, 2);
  return finish(json(p), JT, 0, 0, 0);
}

describe("codec_validate: tuples and JSON-like values", () => {
  beforeEach(setup);
  beforeEach(jsonTable);

  it("accepts every JSON kind, nested", () => {
    // [null, true, 1.5, "x", {"k": false}]
    let n = jsonRecord((p: usize): usize => {
      store<u8>(p, 5); p = codec_put_u32(p + 1, 5);
      store<u8>(p, 0); store<u8>(p + 1, 2); p += 2;
      store<u8>(p, 3); p = codec_put_f64(p + 1, 1.5);
      store<u8>(p, 4); store<u8>(TMP + 8, 0x78); p = codec_put_bytes(p + 1, TMP + 8, 1);
      store<u8>(p, 6); p = codec_put_u32(p + 1, 1);
      store<u8>(TMP + 8, 0x6b); p = codec_put_bytes(p, TMP + 8, 1);
      store<u8>(p, 1);
      return p + 1;
    });
    expect(validate(n, JT, 0, CRAFTED)).toBe(0);
  });

  it("refuses an unknown tag, a non-finite number, a count past the end and nesting past 64", () => {
    let n = jsonRecord((p: usize): usize => { store<u8>(p, 7); return p + 1; });
    expect(validate(n, JT, 0, CRAFTED)).toBe(CODEC_E_BAD_JSON_TAG);
    expect(reportValue()).toBe(7);
    expect(reportField()).toBe(1);
    n = jsonRecord((p: usize): usize => { store<u8>(p, 3); return codec_put_f64(p + 1, NaN); });
    expect(validate(n, JT, 0, CRAFTED)).toBe(CODEC_E_BAD_NUMBER);
    n = jsonRecord((p: usize): usize => { store<u8>(p, 5); return codec_put_u32(p + 1, 1000); });
    expect(validate(n, JT, 0, CRAFTED)).toBe(CODEC_E_LENGTH_EXCEEDS);
    expect(reportValue()).toBe(1000);
    n = jsonRecord((p: usize): usize => {
      for (let i = 0; i < 65; i++) { store<u8>(p, 5); p = codec_put_u32(p + 1, 1); }
      store<u8>(p, 0);
      return p + 1;
    });
    expect(validate(n, JT, 0, CRAFTED)).toBe(CODEC_E_JSON_TOO_DEEP);
    n = jsonRecord((p: usize): usize => {
      for (let i = 0; i < 64; i++) { store<u8>(p, 5); p = codec_put_u32(p + 1, 1); }
      store<u8>(p, 0);
      return p + 1;
    });
    expect(validate(n, JT, 0, CRAFTED)).toBe(0);
  });

  it("refuses bad UTF-8 in an object key, and a tuple cut short", () => {
    let n = jsonRecord((p: usize): usize => {
      store<u8>(p, 6); p = codec_put_u32(p + 1, 1);
      store<u8>(TMP + 8, 0xff); p = codec_put_bytes(p, TMP + 8, 1);
      store<u8>(p, 0);
      return p + 1;
    });
    expect(validate(n, JT, 0, CRAFTED)).toBe(CODEC_E_BAD_UTF8);
    // the tuple's string claims more bytes than the record has
    n = jsonRecord((p: usize): usize => { store<u8>(p, 0); return p + 1; });
    store<u32>(REC + 60, 100);
    expect(validate(n, JT, 0, CRAFTED)).toBe(CODEC_E_LENGTH_EXCEEDS);
    expect(reportField()).toBe(0);
  });
});
