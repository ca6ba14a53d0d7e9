// The message codec: field types, construction-time checks, header rules, encode/decode,
// the core's validator as JS reports it, and the golden vectors (JS side; the core side is
// assembly/__tests__/codec.spec.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { message, Message, sentAt } from '../js/message/message.js';
import { decodeMessage, decodeFrom } from '../js/message/decode.js';
import { encodeMessage, encodeInto, encodedSize } from '../js/message/encode.js';
import { ready, installValidator } from '../js/core/codec-core.js';
import { buildSchemaTable } from '../js/message/schema-table.js';
import { fnv1a } from '../js/message/hash.js';
import { recordTypeId, recordPriority, recordTimestamp } from '../js/message/record.js';
import { messageClassById, messageClassByName } from '../js/message/message-registry.js';
import { t, CODEC } from '../js/message/schema.js';
import { CodecError } from '../js/core/codec-core.js';
import { MessageDecodeError } from '../js/errors.js';
import { compileCore, createCore } from '../js/core/core.js';
import { Scalars, Texts, Arrays, Point, Path, goldenClasses, goldenMessages } from './helpers/golden-types.js';
import { same } from './helpers/same.js';
import { compiling } from '../js/message/compiled.js';
import { epochHigh, epochLow } from './helpers/epoch.js';

const golden = JSON.parse(readFileSync(new URL('./fixtures/golden.json', import.meta.url), 'utf8')) as {
  types: { name: string; canonical: string; typeId: number }[];
  table: string;
  vectors: { name: string; type: string; typeId: number; messageId: string; correlationId: string | null; priority: number; timestamp: number; fields: Record<string, unknown>; hex: string }[];
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const goldenBytes = (name: string) => unhex(golden.vectors.find((v) => v.name === name)!.hex);

const isDecodeError = (e: unknown) => e instanceof MessageDecodeError;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const All = message('CodecAllTypes', {
  a: t.f64, b: t.f32, c: t.i32, d: t.u32, e: t.bool, s: t.string, y: t.bytes,
  ints: t.array(t.i32), fixed: t.array(t.f64, 3), fa: t.f32array, da: t.f64array,
  opt: t.optional(t.string), none: t.optional(t.i32), point: t.message(Point), points: t.list(Point),
  grid: t.array(t.array(t.string)), maybe: t.optional(t.array(t.u32, 2)), flags: t.array(t.bool, 2),
});

const longText = 'ünïcödé → 😀 '.repeat(20);
const allInit = () => ({
  a: -0, b: 1.1, c: -2147483648, d: 4294967295, e: false, s: longText, y: new Uint8Array([1, 2, 3]),
  ints: [1, -1, 0x7fffffff], fixed: [NaN, Infinity, -Infinity], fa: new Float32Array(40).map((_, i) => i / 3),
  da: [0.1, 0.2], opt: 'x', none: undefined, point: { x: 1.5, y: -2 }, points: [new Point({ x: 1, y: 2 })],
  grid: [['a', 'bc'], [], ['d']], maybe: [1, 2], flags: [true, false] as [boolean, boolean],
});

test('ready settles with the wasm validator in place', async () => {
  await ready;
});

test('every field type round-trips through encode/decode, decodeMessage and encodeInto/decodeFrom', async () => {
  await ready;
  const m = new All({ ...allInit(), priority: 7, correlationId: '0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0' });
  assert.is(m.b, Math.fround(1.1)); // stored as the f32 it will be on the wire
  assert.instance(m.fa, Float32Array);
  assert.instance(m.da, Float64Array);
  assert.instance(m.point, Point);
  assert.is(m.none, null);
  const bytes = All.encode(m);
  assert.is(bytes.length, encodedSize(m));
  for (const d of [All.decode(bytes), decodeMessage(bytes) as typeof m]) {
    assert.instance(d, All);
    assert.instance(d, Message);
    assert.is(d.messageId, m.messageId);
    assert.is(d.priority, 7);
    assert.is(d.correlationId, '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0');
    for (const k of Object.keys(All.schema)) assert.ok(same((d as never)[k], (m as never)[k]), `field ${k}`);
    assert.ok(Object.is(d.a, -0));
    assert.instance(d.fa, Float32Array);
    assert.instance(d.points[0], Point);
  }
  const u8 = new Uint8Array(4096).fill(0xee);
  const dv = new DataView(u8.buffer);
  const n = encodeInto(m, u8, dv, 100, u8.length, 1234.5);
  assert.is(n, bytes.length);
  const d = decodeFrom(u8, dv, 100, n, All);
  assert.is(sentAt(d), 1234.5);
  assert.ok(same(d.grid, m.grid));
  assert.is(recordTypeId(dv, 100), All.typeId);
  assert.is(recordPriority(u8, 100), 7);
  assert.is(recordTimestamp(dv, 100), 1234.5);
});

test('the decoded copy shares nothing with the bytes or the sender', async () => {
  await ready;
  const m = new All(allInit());
  const bytes = All.encode(m);
  const d = All.decode(bytes);
  bytes.fill(0);
  m.y[0] = 99;
  m.fa[0] = 99;
  assert.is(d.y[0], 1);
  assert.is(d.fa[0], 0);
  assert.is.not(d.y.buffer, bytes.buffer);
});

test('messageId, priority and correlationId follow the contract', () => {
  const a = new Point({ x: 0, y: 0 });
  assert.match(a.messageId, UUID_V4);
  assert.is(a.priority, 128);
  assert.is(a.correlationId, null);
  assert.ok(Number.isNaN(sentAt(a)));
  const ids = new Set(Array.from({ length: 2000 }, () => new Point({ x: 0, y: 0 }).messageId));
  assert.is(ids.size, 2000);
  const b = new Point({ x: 0, y: 0, messageId: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE', priority: 0, correlationId: a.messageId });
  assert.is(b.messageId, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
  assert.is(b.correlationId, a.messageId);
  assert.is(new Point({ x: 0, y: 0, priority: 255 }).priority, 255);
  for (const p of [256, -1, 1.5, NaN, '5', null, 128n])
    assert.throws(() => new Point({ x: 0, y: 0, priority: p as number }), (e: Error) => e instanceof RangeError && /^GPoint: priority must be an integer 0\.\.255/.test(e.message));
  for (const c of ['abc', '', 42, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeeeX'])
    assert.throws(() => new Point({ x: 0, y: 0, correlationId: c as string }), (e: Error) => e instanceof TypeError && /^GPoint: correlationId must be a UUID/.test(e.message));
  assert.throws(() => new Point({ x: 0, y: 0, messageId: 'nope' }), (e: Error) => e instanceof TypeError && /^GPoint: messageId must be a UUID/.test(e.message));
  assert.is(new Point({ x: 0, y: 0, correlationId: null }).correlationId, null);
  b.messageId = '00000000-0000-0000-0000-000000000001';
  assert.is(Point.decode(Point.encode(b)).messageId, '00000000-0000-0000-0000-000000000001');
  assert.equal(Object.keys(JSON.parse(JSON.stringify(b))), ['messageId', 'priority', 'correlationId', 'x', 'y']);
});

test('encode stamps the time; the decoded message carries it', async () => {
  await ready;
  const before = epochLow();
  const d = Point.decode(Point.encode(new Point({ x: 1, y: 2 })));
  assert.ok(sentAt(d) >= before && sentAt(d) <= epochHigh(), String(sentAt(d)));
  assert.is(sentAt(Point.decode(Point.encode(d, { timestamp: 42 }))), 42);
  assert.throws(() => sentAt({ timestamp: 1 } as never), /^sentAt: expected a message, got Object/);
});

test('construction checks every value and names the message and field', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new Point({ x: '1' as never, y: 0 }), /^GPoint: field 'x': expected a number, got string "1"$/],
    [() => new Point({ x: 0 } as never), /^GPoint: field 'y': missing$/],
    [() => new Point({ x: 0, y: 0, z: 1 } as never), /^GPoint: unknown field 'z'/],
    [() => new Point(null as never), /^GPoint: expected an object of fields/],
    [() => new All({ ...allInit(), c: NaN }), /^CodecAllTypes: field 'c': expected an integer in -2147483648\.\.2147483647, got number NaN$/],
    [() => new All({ ...allInit(), c: 2 ** 31 }), /field 'c': expected an integer/],
    [() => new All({ ...allInit(), d: -1 }), /field 'd': expected an integer in 0\.\.4294967295/],
    [() => new All({ ...allInit(), d: 1.5 }), /field 'd'/],
    [() => new All({ ...allInit(), e: 1 as never }), /field 'e': expected a boolean, got number 1/],
    [() => new All({ ...allInit(), s: 5 as never }), /field 's': expected a string/],
    [() => new All({ ...allInit(), s: 'a\ud800b' }), /field 's': string holds a lone surrogate/],
    [() => new All({ ...allInit(), y: [1, 2] as never }), /field 'y': expected a Uint8Array, got an array/],
    [() => new All({ ...allInit(), ints: [1, 'x'] as never }), /^CodecAllTypes: field 'ints\[1\]': expected an integer/],
    [() => new All({ ...allInit(), ints: 'abc' as never }), /field 'ints': expected an array, got string/],
    [() => new All({ ...allInit(), fixed: [1, 2] }), /^CodecAllTypes: field 'fixed': expected exactly 3 elements, got 2$/],
    [() => new All({ ...allInit(), fixed: [1, 2, 3, 4] }), /expected exactly 3 elements, got 4/],
    [() => new All({ ...allInit(), fa: [1, 'x'] as never }), /field 'fa\[1\]': expected a number/],
    [() => new All({ ...allInit(), da: {} as never }), /field 'da': expected a Float64Array or an array of numbers/],
    [() => new All({ ...allInit(), opt: 3 as never }), /field 'opt': expected a string/],
    [() => new All({ ...allInit(), point: { x: 1 } as never }), /^CodecAllTypes: field 'point': GPoint: field 'y': missing$/],
    [() => new All({ ...allInit(), point: 7 as never }), /field 'point': expected a GPoint or an object of its fields/],
    [() => new All({ ...allInit(), points: [{ x: 1, y: 'no' }] as never }), /^CodecAllTypes: field 'points\[0\]': GPoint: field 'y': expected a number/],
    [() => new All({ ...allInit(), grid: [['a'], [1]] as never }), /field 'grid\[1\]\[0\]': expected a string/],
    [() => new All({ ...allInit(), maybe: [1] }), /field 'maybe': expected exactly 2 elements/],
  ];
  for (const [make, re] of cases) {
    assert.throws(make as () => void, (e: Error) => e instanceof TypeError && re.test(e.message), String(re));
  }
});

test('schemas: type ids are derived from the canonical text; a name has one schema', () => {
  assert.is(Point.canonical, 'GPoint{x:f32,y:f32}');
  assert.is(Point.typeId, fnv1a(Point.canonical));
  assert.is(Point.typeName, 'GPoint');
  assert.is(Point.name, 'GPoint');
  assert.is(fnv1a(''), 0x811c9dc5);
  assert.is(fnv1a('a'), 0xe40c292c);
  assert.is(message('GPoint', { x: t.f32, y: t.f32 }), Point);
  assert.throws(() => message('GPoint', { x: t.f64, y: t.f32 }), /GPoint is already defined with a different schema/);
  assert.is(messageClassById(Point.typeId), Point);
  assert.is(messageClassByName('GPoint'), Point);
  assert.throws(() => message('bad name', {}), TypeError);
  assert.throws(() => message('CodecX1', { priority: t.u32 }), /field name 'priority' is reserved/);
  assert.throws(() => message('CodecX2', { a: 5 as never }), /field 'a' is not a t\.\* field type/);
  assert.throws(() => message('CodecX3', { 'a-b': t.u32 }), /is not an identifier/);
  const Empty = message('CodecEmpty', {});
  assert.throws(() => t.array(t.message(Empty)), /can encode to zero bytes/);
  assert.throws(() => t.array(t.f32, 0), /fixed length/);
  assert.throws(() => t.array(t.f32, 1.5), /fixed length/);
  assert.ok(t.optional(t.message(Empty)));
});

test('encode and decode refuse the wrong type', async () => {
  await ready;
  const p = new Point({ x: 1, y: 2 });
  assert.throws(() => Scalars.encode(p as never), (e: Error) => e instanceof TypeError && /GScalars\.encode: expected a GScalars, got GPoint/.test(e.message));
  const bytes = Point.encode(p);
  assert.throws(() => Scalars.decode(bytes), (e: Error) => e instanceof MessageDecodeError && /^GScalars: record holds GPoint \(type id 0x[0-9a-f]{8}\), not GScalars$/.test(e.message));
  assert.throws(() => decodeFrom(bytes, new DataView(bytes.buffer), 0, bytes.length, Scalars), (e: Error) => e instanceof MessageDecodeError && /GPoint record, not a GScalars/.test(e.message));
  const alien = bytes.slice();
  new DataView(alien.buffer).setUint32(0, 0xdeadbeef, true);
  assert.throws(() => decodeMessage(alien), (e: Error) => e instanceof MessageDecodeError && /^decodeMessage: unknown type id 0xdeadbeef/.test(e.message));
  assert.throws(() => decodeFrom(alien, new DataView(alien.buffer), 0, alien.length), isDecodeError);
  assert.is(encodeMessage(p).length, bytes.length);
  assert.ok(decodeMessage(bytes.buffer.slice(0) as ArrayBuffer) instanceof Point);
});

test('the core error codes are the ones codec-core names', async () => {
  const module = await compileCore(false);
  const memory = new WebAssembly.Memory({ initial: 17, maximum: 65536 });
  const inst = new WebAssembly.Instance(module, { env: { memory, now: () => 0, abort() {} } });
  const names = Object.keys(CodecError) as (keyof typeof CodecError)[];
  assert.is(names.length, 20);
  for (const k of names) assert.is((inst.exports[`CODEC_E_${k}`] as WebAssembly.Global).value, CodecError[k], k);
});

test('every validator error reaches JS with the message, the field and the offset', async () => {
  await ready;
  const edit = (name: string, f: (b: Uint8Array, dv: DataView) => Uint8Array | void) => {
    const b = goldenBytes(name);
    return f(b, new DataView(b.buffer)) ?? b;
  };
  const grow = (b: Uint8Array, extra: number) => { const c = new Uint8Array(b.length + extra); c.set(b); return c; };
  const cases: [string, () => unknown, RegExp, number][] = [
    ['SHORT_HEADER', () => Scalars.decode(goldenBytes('scalars').slice(0, 55)), /^GScalars: record is 55 bytes, shorter than the 56-byte header$/, 0],
    ['UNKNOWN_TYPE', () => Scalars.decode(edit('scalars', (_, dv) => dv.setUint32(0, 12345, true))), /^GScalars: unknown type id 0x00003039 at offset 0/, 0],
    ['WRONG_TYPE', () => Texts.decode(goldenBytes('scalars')), /^GTexts: record holds GScalars .*, not GTexts$/, 0],
    ['LENGTH_MISMATCH', () => Scalars.decode(grow(goldenBytes('scalars'), 1)), /^GScalars: header says the payload is 21 bytes but 22 bytes follow the header/, 4],
    ['BAD_VERSION', () => Scalars.decode(edit('scalars', (b) => { b[50] = 2; })), /^GScalars: wire format version 2 at offset 50 is not supported/, 50],
    ['BAD_FLAGS', () => Scalars.decode(edit('scalars', (b) => { b[49] = 0x81; })), /^GScalars: unknown flag bits 0x80 at offset 49$/, 49],
    ['RESERVED', () => Scalars.decode(edit('scalars', (b) => { b[53] = 1; })), /^GScalars: reserved header byte at offset 53 is 1, not 0$/, 53],
    ['BAD_CORRELATION', () => Texts.decode(edit('texts', (b) => { b[40] = 1; })), /^GTexts: correlation id bytes at offset 32 are not zero/, 32],
    ['BAD_TIMESTAMP', () => Scalars.decode(edit('scalars', (_, dv) => dv.setFloat64(8, NaN, true))), /^GScalars: timestamp at offset 8 is not a finite number$/, 8],
    ['TRUNCATED', () => Scalars.decode(edit('scalars', (b, dv) => { dv.setUint32(4, 20, true); return b.slice(0, 76); })),
      /^GScalars: field 'e': bool needs 1 byte at offset 76 but only 0 are left$/, 76],
    ['TRUNCATED (nested)', () => Path.decode(edit('nested', (b, dv) => { dv.setUint32(4, 32, true); return b.slice(0, 88); })),
      /^GPath: field 'origin' \(GPoint\.y\): f32 needs 4 bytes at offset 85 but only 3 are left$/, 85],
    ['TRUNCATED (fixed array)', () => Arrays.decode(edit('arrays', (b, dv) => { dv.setUint32(4, 8, true); dv.setUint32(56, 0, true); dv.setFloat32(60, 1, true); return b.slice(0, 64); })),
      /^GArrays: field 'fx': fixed array of 3 elements does not fit in the 4 bytes left at offset 60$/, 60],
    ['LENGTH_EXCEEDS', () => Arrays.decode(edit('arrays', (_, dv) => dv.setUint32(56, 1000000, true))),
      /^GArrays: field 'v': array length 1000000 exceeds the 46 bytes left after its length prefix at offset 56$/, 56],
    ['LENGTH_EXCEEDS (string)', () => Texts.decode(edit('texts', (_, dv) => dv.setUint32(56, 34, true))),
      /^GTexts: field 's': string length 34 exceeds the 29 bytes left/, 56],
    ['BAD_BOOL', () => Scalars.decode(edit('scalars', (b) => { b[76] = 2; })), /^GScalars: field 'e': bool byte 2 at offset 76 is not 0 or 1$/, 76],
    ['BAD_TAG', () => Texts.decode(edit('texts', (b) => { b[83] = 7; })), /^GTexts: field 'o': optional tag 7 at offset 83 is not 0 \(absent\) or 1 \(present\)$/, 83],
    ['BAD_UTF8', () => Texts.decode(edit('texts', (b) => { b[61] = 0xc0; })), /^GTexts: field 's': string is not well-formed UTF-8 \(sequence starting with byte 0xc0 at offset 61\)$/, 61],
    ['TRAILING', () => Scalars.decode(edit('scalars', (b) => { const c = grow(b, 1); new DataView(c.buffer).setUint32(4, 22, true); return c; })),
      /^GScalars: 1 byte left over after the last field at offset 77$/, 77],
    ['decodeMessage names the record type', () => decodeMessage(edit('scalars', (b) => { b[76] = 9; })), /^GScalars: field 'e': bool byte 9/, 76],
  ];
  for (const [name, run, re, offset] of cases) {
    try { run(); assert.unreachable(`${name}: decoded`); } catch (e) {
      assert.instance(e, MessageDecodeError, name);
      assert.match((e as Error).message, re, name);
      assert.is((e as MessageDecodeError).offset, offset, `${name}: offset`);
    }
  }
});

test('golden vectors: the JS encoder writes them, the decoder reads them back', async () => {
  await ready;
  assert.equal(golden.types, goldenClasses.map((C) => ({ name: C.typeName, canonical: C.canonical, typeId: C.typeId })));
  assert.is(hex(buildSchemaTable(goldenClasses)), golden.table);
  const messages = goldenMessages();
  assert.is(messages.length, golden.vectors.length);
  for (const v of golden.vectors) {
    const g = messages.find((m) => m.name === v.name)!;
    assert.is(hex(g.cls.encode(g.msg as never, { timestamp: v.timestamp })), v.hex, v.name);
    for (const d of [g.cls.decode(unhex(v.hex)), decodeMessage(unhex(v.hex))] as unknown as Record<string, unknown>[]) {
      assert.is(d.constructor, g.cls);
      assert.is(d.messageId, v.messageId);
      assert.is(d.correlationId, v.correlationId);
      assert.is(d.priority, v.priority);
      assert.is(sentAt(d as unknown as Message), v.timestamp);
      for (const [k, want] of Object.entries(v.fields)) assert.ok(same(plain(d[k]), want), `${v.name}.${k}`);
    }
  }
});

test('golden vectors: the as-pect spec checks the very same bytes', () => {
  const spec = readFileSync(new URL('../assembly/__tests__/codec.spec.ts', import.meta.url), 'utf8');
  assert.ok(spec.includes(`"${golden.table}"`), 'table');
  for (const v of golden.vectors) assert.ok(spec.includes(`"${v.hex}"`), v.name);
  for (const ty of golden.types) assert.ok(spec.includes(`: u32 = ${ty.typeId};`), ty.name);
});

test('encodeInto never writes past its limit and says what it needs', () => {
  const m = new All(allInit());
  const size = encodedSize(m);
  const u8 = new Uint8Array(size + 64);
  const dv = new DataView(u8.buffer);
  for (const limit of [8, 10, 55, 56, 57, 60, size - 1]) {
    u8.fill(0xab);
    assert.is(encodeInto(m, u8, dv, 8, limit, 0), -size, `limit ${limit}`);
    assert.ok(u8.subarray(limit).every((b) => b === 0xab), `wrote past ${limit}`);
  }
  u8.fill(0xab);
  assert.is(encodeInto(m, u8, dv, 8, 8 + size, 0), size);
  assert.ok(u8.subarray(8 + size).every((b) => b === 0xab));
  assert.ok(u8.subarray(0, 8).every((b) => b === 0xab));
});

test('decodeFrom (trusted bytes) turns any failure into MessageDecodeError', () => {
  const bytes = All.encode(new All(allInit()));
  const dv = new DataView(bytes.buffer);
  for (let cut = 0; cut < bytes.length; cut += 7) {
    assert.throws(() => decodeFrom(bytes, dv, 0, cut), isDecodeError, `cut ${cut}`);
  }
  const bad = bytes.slice();
  const bdv = new DataView(bad.buffer);
  bdv.setUint32(56 + 8 + 4 + 4 + 4 + 1, 0xffffffff, true); // the string's length
  assert.throws(() => decodeFrom(bad, bdv, 0, bad.length), (e: Error) => e instanceof MessageDecodeError && /string length 4294967295 exceeds/.test(e.message));
});

test('installValidator: a runtime can hand over its own core; large records grow the staging area', async () => {
  const core = await createCore({ shared: false });
  installValidator(core);
  const Big = message('CodecBig', { data: t.f64array, note: t.string });
  const m = new Big({ data: new Float64Array(100_000).map((_, i) => i), note: 'big' });
  const d = Big.decode(Big.encode(m));
  assert.is(d.data.length, 100_000);
  assert.is(d.data[99_999], 99_999);
  assert.throws(() => Big.decode(Big.encode(m).subarray(0, 1000)), isDecodeError);
  assert.throws(() => installValidator({ x: {} } as never), /no codec/);
});

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array || v instanceof Float32Array || v instanceof Float64Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Message) return Object.fromEntries(Object.entries(v).filter(([k]) => !['priority', 'correlationId', 'timestamp'].includes(k)).map(([k, x]) => [k, plain(x)]));
  return v;
}


test('ids: correlationId: m.messageId (taken without re-parsing) and ids set later encode the right bytes', () => {
  const a = new Point({ x: 1, y: 2 });
  const b = new Point({ x: 3, y: 4, correlationId: a.messageId });
  assert.is(b.correlationId, a.messageId);
  assert.is(decodeMessage(encodeMessage(b)).correlationId, a.messageId);
  const other = '0123abcd-0000-4000-8000-00000000abcd';
  a.messageId = other;                     // the id string read last changes
  const c = new Point({ x: 5, y: 6, correlationId: a.messageId });
  assert.is(decodeMessage(encodeMessage(c)).correlationId, other);
  const d = new Point({ x: 0, y: 0, correlationId: other.toUpperCase() });
  assert.is(d.correlationId, other);
  assert.is(decodeMessage(encodeMessage(d)).correlationId, other);
  assert.throws(() => new Point({ x: 0, y: 0, correlationId: 'not-a-uuid' }), /correlationId must be a UUID string or null/);
  const e = new Point({ x: 0, y: 0, messageId: a.messageId });
  assert.is(decodeMessage(encodeMessage(e)).messageId, other);
});

test('ids read from decoded records: the right string whichever prefix came before (the prefix string is reused)', async () => {
  await ready;
  const a = new Point({ x: 0, y: 0, messageId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeee00000001' });
  const b = new Point({ x: 0, y: 0, messageId: 'ffffffff-0000-4111-a222-333300000002' });
  const c = new Point({ x: 0, y: 0 });
  const c2 = new Point({ x: 0, y: 0 });
  const expected = [a, c, b, a, c2, b, c].map((m) => m.messageId);
  const got = [a, c, b, a, c2, b, c].map((m) => decodeMessage(encodeMessage(m)).messageId);
  assert.equal(got, expected);
  assert.is.not(expected[1], expected[4]);
  assert.is(expected[1]!.slice(0, 28), expected[4]!.slice(0, 28), 'one thread, one prefix');
});

test('ids and correlation ids from three senders interleaved decode to their own strings (the prefixes kept for reuse are two)', async () => {
  await ready;
  const ids = ['11111111-2222-4333-8444-555500000001', '66666666-7777-4888-9999-aaaa00000002', 'bbbbbbbb-cccc-4ddd-aeee-ffff00000003'];
  const made = [0, 1, 2, 0, 2, 1, 1, 0, 2].map((k, i) => new Point({ x: i, y: 0, messageId: ids[k]!, correlationId: ids[(k + 1) % 3]! }));
  const back = made.map((m) => Point.decode(encodeMessage(m)));
  assert.equal(back.map((m) => m.messageId), made.map((m) => m.messageId));
  assert.equal(back.map((m) => m.correlationId), made.map((m) => m.correlationId));
  assert.equal(back.map((m) => m.x), made.map((m) => m.x));
});

test("a message's own keys are its fields: the header is in symbol-keyed slots, and JSON shows the header values first", () => {
  const m = new Point({ x: 1, y: 2, priority: 7 });
  assert.equal(Object.keys(m), ['x', 'y']);
  assert.equal(Object.keys(decodeMessage(encodeMessage(m))), ['x', 'y']);
  assert.equal(JSON.parse(JSON.stringify(m)), { messageId: m.messageId, priority: 7, correlationId: null, x: 1, y: 2 });
  assert.equal({ ...structuredClone(m) }, { x: 1, y: 2 }, 'a structured clone keeps the fields only, as for any class instance');
});

test('importing ringkernel makes no core; the first decode compiles one synchronously, so decoding needs no `await ready`', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { message, t, decodeMessage, encodeMessage, ready } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
    const P = message('LazyCoreP', { x: t.f64 });
    const bytes = encodeMessage(new P({ x: 1.5 }));
    const first = decodeMessage(bytes).x;   // no await before it
    await ready;                             // settled: the first decode installed the core
    console.log(String(first) + ' ' + decodeMessage(bytes).x); // a string: a number would be coloured under FORCE_COLOR`], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), '1.5 1.5');
});

test('message classes get accessors compiled for them, unless RINGKERNEL_CODEGEN=0 (then the shared loops: the tests/run.mjs suite "uncompiled")', () => {
  const off = process.env.RINGKERNEL_CODEGEN === '0';
  assert.is(compiling, !off);
  const C = message('CompiledProbe', { a: t.f64, b: t.string });
  const write = C[CODEC].write;
  assert.is(!/for\s*\(/.test(String(write)), !off, `compiled write in use: ${String(write).slice(0, 60)}`);
  // the same error either way: the compiled assign hands a wrong value to the loop that names it
  assert.throws(() => new C({ a: 'x' as unknown as number, b: 'y' }), /CompiledProbe: field 'a': expected a number/);
  assert.throws(() => new C({ a: 1, b: 'y', c: 2 } as never), /CompiledProbe: unknown field 'c' \(fields: a, b\)/);
  assert.throws(() => new C({ b: 'y' } as never), /CompiledProbe: field 'a': missing/);
  const m = new C({ a: 1.5, b: 'hé', priority: 7 });
  same(C.decode(C.encode(m, { timestamp: 1 })), m);
  // the class itself is compiled too (its name in its source), and its record codec
  assert.is(/class CompiledProbe extends/.test(String(C)), !off, `compiled class in use: ${String(C).slice(0, 60)}`);
  assert.is(!/codec\.read\(/.test(String(C[CODEC].decodeRecord)), !off, `compiled decodeRecord in use: ${String(C[CODEC].decodeRecord).slice(0, 60)}`);
});

test('a message class is named after its type, whatever the name (a reserved word too), and its instances are its own', () => {
  for (const name of ['Plain_Name1', 'if', 'class', 'eval', 'arguments', 'let', 'await', 'yield', 'Message', '$Base'.slice(1), 'init', 'Object']) {
    const C = message(name, { v: t.i32 });
    assert.is(C.name, name);
    assert.is(C.typeName, name);
    const m = new C({ v: 3, priority: 9 });
    assert.is(m.constructor, C);
    assert.is(m.constructor.name, name);
    assert.ok(m instanceof C && m instanceof Message);
    const back = C.decode(C.encode(m));
    assert.ok(back instanceof C);
    assert.is(back.v, 3);
    assert.is(back.priority, 9);
    assert.is(back.messageId, m.messageId);
    assert.throws(() => new C({ v: 1.5 }), new RegExp(`^${name}: field 'v'`) as never);
    assert.throws(() => new C(null as never), new RegExp(`^${name}: expected an object of fields, got null`) as never);
  }
});


test('numeric arrays encode and decode the same at every alignment, through views at an offset too (typed-array loops where aligned, DataView loops where not)', () => {
  const Nums = message('CodecAlignedNums', { tag: t.bool, xs: t.array(t.f64), ys: t.array(t.f32, 16), zs: t.array(t.i32), us: t.array(t.u32), short: t.array(t.f64) });
  const xs = [1.5, -2.25, 1e300, Number.MIN_VALUE, ...Array.from({ length: 13 }, (_, i) => i / 3)];
  const ys = Array.from({ length: 16 }, (_, i) => i * 1.1 - 3);
  const zs = [-1, 2 ** 31 - 1, -(2 ** 31), ...Array.from({ length: 14 }, (_, i) => i * 1000 - 7000)];
  const us = [0, 1, 2 ** 32 - 1, ...Array.from({ length: 13 }, (_, i) => i * 123457)];
  const m = new Nums({ tag: true, xs, ys, zs, us, short: [0.5, -1] });
  const want = { tag: true, xs, ys: ys.map(Math.fround), zs, us, short: [0.5, -1] };
  const bytes = encodeMessage(m);
  const buffer = new ArrayBuffer(4096);
  for (let viewAt = 0; viewAt < 8; viewAt++) {
    const u8 = new Uint8Array(buffer, viewAt, 3072), dv = new DataView(buffer, viewAt, 3072);
    for (let offset = 0; offset < 16; offset++) {
      u8.fill(0xee);
      const n = encodeInto(m, u8, dv, offset, 3072, sentAt(Nums.decode(bytes)));
      assert.is(n, bytes.length, `view at ${viewAt}, record at ${offset}`);
      assert.equal([...u8.subarray(offset, offset + n)], [...bytes], `same bytes: view at ${viewAt}, record at ${offset}`);
      const back = decodeFrom(u8, dv, offset, n) as InstanceType<typeof Nums>;
      assert.equal({ tag: back.tag, xs: back.xs, ys: back.ys, zs: back.zs, us: back.us, short: back.short }, want, `view at ${viewAt}, record at ${offset}`);
    }
  }
  // a record that would end past the DataView's end does not fit (nothing written past it)
  const u8 = new Uint8Array(buffer, 0, 1024), dv = new DataView(buffer, 0, bytes.length - 1);
  new Uint8Array(buffer).fill(0);
  assert.ok(encodeInto(m, u8, dv, 0, bytes.length - 1) < 0);
  assert.is(new Uint8Array(buffer, bytes.length - 1, 256).some((b) => b !== 0), false);
});

test('a field (or an element of a number array) set after construction to a value of another type does not encode: the TypeError names the class and the field (DataView would have written NaN or 0)', () => {
  const M = message('CodecMutated', { s: t.string, n: t.i32, u: t.u32, f: t.f64, g: t.f32 });
  for (const [k, v, why] of [['n', 'zz', 'expected an integer in -2147483648..2147483647, got string "zz"'], ['n', 1.5, 'expected an integer'], ['u', -1, 'expected an integer in 0..4294967295'],
    ['f', 'q', 'expected a number, got string "q"'], ['g', undefined, 'missing'], ['s', 5, 'expected a string, got number 5']] as const) {
    const m = new M({ s: 'a', n: 1, u: 2, f: 3, g: 4 });
    (m as unknown as Record<string, unknown>)[k] = v;
    assert.throws(() => M.encode(m), (e: Error) => e instanceof TypeError && e.message.startsWith(`CodecMutated: field '${k}': ${why}`), `${k} = ${String(v)}`);
  }
  assert.is(M.encode(new M({ s: 'a', n: 1, u: 2, f: 3, g: 4 })).length > 0, true);
  // elements of number arrays too, on both of their write paths (DataView's loop under 16 elements, typed views from 16)
  const A = message('CodecMutatedArrays', { short: t.array(t.f64), long: t.array(t.f32, 16), ints: t.array(t.i32), longInts: t.array(t.i32, 16),
    uints: t.array(t.u32), longUints: t.array(t.u32, 16) });
  for (const [k, i, v, why] of [['short', 1, 'x', 'expected a number, got string "x"'], ['long', 15, null, 'expected a number, got null'],
    ['ints', 0, undefined, 'expected an integer in -2147483648..2147483647, got undefined'], ['ints', 1, 1.5, 'expected an integer in -2147483648..2147483647, got number 1.5'],
    ['longInts', 3, 2 ** 31, 'expected an integer in -2147483648..2147483647, got number 2147483648'], ['uints', 0, -1, 'expected an integer in 0..4294967295, got number -1'],
    ['longUints', 15, 0.25, 'expected an integer in 0..4294967295, got number 0.25']] as const) {
    const m = new A({ short: [1, 2, 3], long: new Array(16).fill(1), ints: [1, 2], longInts: new Array(16).fill(-7), uints: [3], longUints: new Array(16).fill(9) });
    (m as unknown as Record<string, unknown[]>)[k]![i] = v;
    assert.throws(() => A.encode(m), (e: Error) => e instanceof TypeError && e.message === `CodecMutatedArrays: field '${k}[${i}]': ${why}`, `${k}[${i}]`);
  }
  // the extremes of each integer type still encode, and come back as they were
  const ok = new A({ short: [1], long: new Array(16).fill(0.5), ints: [-(2 ** 31), 2 ** 31 - 1], longInts: new Array(16).fill(2 ** 31 - 1),
    uints: [0, 2 ** 32 - 1], longUints: new Array(16).fill(2 ** 32 - 1) });
  const back = A.decode(A.encode(ok));
  assert.equal([back.ints, back.longInts[15], back.uints, back.longUints[0]], [[-(2 ** 31), 2 ** 31 - 1], 2 ** 31 - 1, [0, 2 ** 32 - 1], 2 ** 32 - 1]);
});

test.run();
