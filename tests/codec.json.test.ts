// t.json, t.tuple and t.default: construction checks, round trips, and the wasm core's
// validation of their bytes (every bad record is a MessageDecodeError naming the field).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { message } from '../js/message/message.js';
import { decodeMessage } from '../js/message/decode.js';
import { t, JSON_MAX_DEPTH, type Json } from '../js/message/schema.js';
import { MessageDecodeError } from '../js/errors.js';

const Stage = message('JStageResult', { stage: t.string, data: t.json, ok: t.bool });
const P = 56 + 4 + 1; // the payload offset of `data` in a Stage record whose stage is 1 character

// ---- t.json ----

test('t.json holds null, booleans, numbers, strings, arrays and plain objects, and they round-trip', () => {
  const values: Json[] = [null, true, false, 0, -0.5, 1e300, '', 'hé ✓ 😀', [], [1, [2, [3]]], {}, { a: { b: [null, 'x', { c: false }] } }, { '': 1, __proto__x: 2 }];
  for (const data of values) {
    const back = Stage.decode(Stage.encode(new Stage({ stage: 's', data, ok: true })));
    assert.equal(back.data, data, JSON.stringify(data));
    assert.equal((decodeMessage(Stage.encode(back)) as typeof back).data, data);
  }
});

test("t.json: a key '__proto__' decodes as an own property, as JSON.parse makes it, not as the prototype", () => {
  const data = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}');
  const back = Stage.decode(Stage.encode(new Stage({ stage: 's', data, ok: true })));
  const o = back.data as Record<string, unknown>;
  assert.is(Object.getPrototypeOf(o), Object.prototype);
  assert.equal(Object.keys(o), ['__proto__', 'x']);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test('t.json: every JSON value round-trips (property)', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (data) => {
    // JSON has no -0; fast-check's jsonValue may make one, which round-trips too (f64)
    const back = Stage.decode(Stage.encode(new Stage({ stage: 's', data: data as never, ok: false })));
    assert.equal(back.data, data);
  }), { numRuns: 300 });
});

test('t.json refuses functions, cycles, class instances, undefined, NaN, Infinity, bigints and symbols at construction, naming the place', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: Array<[string, unknown, RegExp]> = [
    ['a function', { f: () => 1 }, /field 'data\.f': .*got a function/],
    ['a cycle', cyclic, /field 'data\.self': .*cycle/],
    ['a Date', [new Date()], /field 'data\[0\]': expected a plain object or an array, got a Date/],
    ['a Map', new Map(), /got a Map/],
    ['a message', new Stage({ stage: 'x', data: null, ok: true }), /got a JStageResult/],
    ['a typed array', new Float64Array(2), /got a Float64Array/],
    ['undefined', [undefined], /field 'data\[0\]': .*got undefined/],
    ['NaN', { n: NaN }, /field 'data\.n': expected a finite number/],
    ['Infinity', Infinity, /finite number/],
    ['a bigint', 1n, /got bigint/],
    ['a symbol', Symbol('s'), /got symbol/],
    ['a lone surrogate', '\ud800', /lone surrogate/],
  ];
  for (const [what, data, re] of cases) {
    assert.throws(() => new Stage({ stage: 's', data: data as never, ok: true }), re, what);
    assert.throws(() => new Stage({ stage: 's', data: data as never, ok: true }), (e: unknown) => e instanceof TypeError, what);
  }
  // the same array twice is no cycle
  const shared = [1, 2];
  assert.equal(new Stage({ stage: 's', data: { a: shared, b: shared }, ok: true }).data, { a: [1, 2], b: [1, 2] });
});

test(`t.json: arrays and objects nest at most ${JSON_MAX_DEPTH} deep, and a value encodes to at most 16 MiB`, () => {
  let ok: unknown = 1;
  for (let i = 0; i < JSON_MAX_DEPTH; i++) ok = [ok];
  assert.equal(Stage.decode(Stage.encode(new Stage({ stage: 's', data: ok as never, ok: true }))).data, ok);
  assert.throws(() => new Stage({ stage: 's', data: [ok] as never, ok: true }), /nest deeper than 64/);
  assert.throws(() => new Stage({ stage: 's', data: ['x'.repeat(1 << 23), 'y'.repeat(1 << 23)], ok: true }), /more than 16777216 bytes/);
});

/** A Stage record with `data` bytes spliced in at P (the payload and header lengths fixed up). */
function withData(data: number[]): Uint8Array {
  const good = Stage.encode(new Stage({ stage: 's', data: null, ok: true }));
  const out = new Uint8Array(good.length - 1 + data.length);
  out.set(good.subarray(0, P));
  out.set(data, P);
  out.set(good.subarray(P + 1), P + data.length);
  new DataView(out.buffer).setUint32(4, out.length - 56, true);
  return out;
}
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const f64 = (x: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, x, true); return [...b]; };

test('the core validates t.json bytes: tags, numbers, lengths, UTF-8 of strings and keys, depth; each a MessageDecodeError naming the field', () => {
  assert.equal(Stage.decode(withData([5, ...u32(2), 3, ...f64(1.5), 4, ...u32(1), 0x61])).data, [1.5, 'a']);
  const bad: Array<[string, number[], RegExp]> = [
    ['an unknown tag', [7], /field 'data': json value tag 7 at offset 61 is not 0\.\.6/],
    ['a NaN', [3, ...f64(NaN)], /field 'data': json number at offset 62 is not finite/],
    ['an Infinity in an array', [5, ...u32(1), 3, ...f64(Infinity)], /json number at offset 67 is not finite/],
    ['a cut number', [3, 0, 0], /json value needs 8 bytes at offset 62/],
    ['a count past the end', [5, ...u32(1000)], /json value length 1000 exceeds/],
    ['an object count past the end', [6, ...u32(3), ...u32(0), 0], /json value length 3 exceeds/],
    ['a string past the end', [4, ...u32(50), 0x61], /json value length 50 exceeds/],
    ['bad UTF-8 in a string', [4, ...u32(2), 0xc0, 0x80], /not well-formed UTF-8/],
    ['bad UTF-8 in a key', [6, ...u32(1), ...u32(1), 0xff, 0], /not well-formed UTF-8 \(sequence starting with byte 0xff/],
    ['nesting past 64', [...Array.from({ length: 65 }, () => [5, ...u32(1)]).flat(), 0], /json arrays and objects nested deeper than 64/],
  ];
  for (const [what, data, re] of bad) {
    let e: unknown;
    try { Stage.decode(withData(data)); } catch (x) { e = x; }
    assert.instance(e, MessageDecodeError, what);
    assert.match((e as Error).message, /^JStageResult: field 'data'/, what);
    assert.match((e as Error).message, re, `${what}: ${(e as Error).message}`);
  }
});

// ---- t.tuple ----

const Graph = message('JGraph', { edges: t.array(t.tuple(t.i32, t.i32)), label: t.tuple(t.string, t.f64, t.optional(t.bool)) });

test('t.tuple holds a fixed sequence of typed values, as an array, and round-trips', () => {
  const g = new Graph({ edges: [[0, 1], [1, 2], [2, 0]], label: ['ring', 0.5, null] });
  const back = Graph.decode(Graph.encode(g));
  assert.equal(back.edges, [[0, 1], [1, 2], [2, 0]]);
  assert.equal(back.label, ['ring', 0.5, null]);
  assert.is(Graph.canonical, 'JGraph{edges:array<tuple<i32,i32>>,label:tuple<string,f64,optional<bool>>}');
  const n: number = back.edges[0]![1]; // typed as [number, number]
  assert.is(n, 1);
});

test('t.tuple checks its length and each element at construction, naming the place', () => {
  assert.throws(() => new Graph({ edges: [[0, 1, 2] as never], label: ['x', 1, null] }), /field 'edges\[0\]': expected a tuple of 2 elements, got 3/);
  assert.throws(() => new Graph({ edges: [[0, 1.5]], label: ['x', 1, null] }), /field 'edges\[0\]\[1\]': expected an integer/);
  assert.throws(() => new Graph({ edges: [], label: 'x' as never }), /field 'label': expected a tuple/);
  assert.throws(() => t.tuple(), /1 to 255 element types/);
  assert.throws(() => t.tuple(t.i32, 3 as never), /element 1 is not a t\.\* field type/);
});

test('the core validates tuple bytes like any field: a cut element is a MessageDecodeError', () => {
  const b = Graph.encode(new Graph({ edges: [[0, 1]], label: ['x', 1, true] }));
  let e: unknown;
  try { Graph.decode(b.subarray(0, b.length - 3).map((x, i) => (i === 4 ? b[4]! - 3 : x))); } catch (x) { e = x; }
  assert.instance(e, MessageDecodeError);
  assert.match((e as Error).message, /^JGraph: field 'label': /);
});

// ---- t.default ----

test('t.default fills a field left out of the constructor; given values win; arrays are fresh per message', () => {
  const Params = message('JParams', { damping: t.default(t.f64, 0.85), iterations: t.default(t.i32, 20), seeds: t.default(t.array(t.i32), [1, 2]), name: t.string });
  const a = new Params({ name: 'a' });
  assert.is(a.damping, 0.85);
  assert.is(a.iterations, 20);
  assert.equal(a.seeds, [1, 2]);
  a.seeds.push(3);
  assert.equal(new Params({ name: 'b' }).seeds, [1, 2], 'another message does not see the first one change its default');
  const c = new Params({ name: 'c', damping: 0.5 });
  assert.is(c.damping, 0.5);
  assert.is(Params.decode(Params.encode(c)).damping, 0.5);
  assert.match(Params.canonical, /damping:default<f64,0\.85>/);
  assert.throws(() => new Params({ name: 'd', iterations: 1.5 }), /field 'iterations': expected an integer/);
});

test('t.default refuses a default that does not fit its type, at definition', () => {
  assert.throws(() => t.default(t.i32, 0.5 as never), /t\.default: the default does not fit i32: expected an integer/);
  assert.throws(() => t.default(t.string, 3 as never), /t\.default: the default does not fit string/);
});

test.run();
