// Properties of the codec over arbitrary schemas: values round-trip exactly, and no bytes —
// random, or a valid record truncated, bit-flipped, with a length field corrupted — make a
// decoder throw anything but MessageDecodeError (nor hang).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { message, type MessageClass } from '../js/message/message.js';
import { decodeMessage, decodeFrom } from '../js/message/decode.js';
import { encodeInto, encodedSize } from '../js/message/encode.js';
import { ready } from '../js/core/codec-core.js';
import { t, type FieldType, type Fields } from '../js/message/schema.js';
import { MessageDecodeError } from '../js/errors.js';
import { same } from './helpers/same.js';

// ---- arbitrary schemas: a shape is plain data, turned into t.* types (and classes) once ----

type Leaf = 'f64' | 'f32' | 'i32' | 'u32' | 'bool' | 'string' | 'bytes' | 'f32array' | 'f64array' | 'json';
type Shape =
  | { k: Leaf }
  | { k: 'array'; e: Shape; n: number | null }
  | { k: 'optional'; e: Shape }
  | { k: 'tuple'; es: Shape[] }
  | { k: 'message'; fields: Shape[] };

const leaves: Leaf[] = ['f64', 'f32', 'i32', 'u32', 'bool', 'string', 'bytes', 'f32array', 'f64array', 'json'];
const { shape } = fc.letrec<{ shape: Shape; array: Shape; optional: Shape; tuple: Shape; message: Shape }>((tie) => ({
  shape: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...leaves).map((k) => ({ k }) as Shape), tie('array'), tie('optional'), tie('tuple'), tie('message')),
  tuple: fc.record({ k: fc.constant('tuple' as const), es: fc.array(tie('shape'), { minLength: 1, maxLength: 3 }) }),
  array: fc.record({ k: fc.constant('array' as const), e: tie('shape'), n: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }) }),
  optional: fc.record({ k: fc.constant('optional' as const), e: tie('shape') }),
  message: fc.record({ k: fc.constant('message' as const), fields: fc.array(tie('shape'), { maxLength: 3 }) }),
}));
const schemaShape = fc.array(shape, { maxLength: 5 });

let defined = 0;
const types = new Map<string, FieldType<any, any>>();

function fieldsOf(shapes: Shape[]): Fields {
  return Object.fromEntries(shapes.map((s, i) => [`f${i}`, typeOf(s)]));
}

function typeOf(s: Shape): FieldType<any, any> {
  const key = JSON.stringify(s);
  let ty = types.get(key);
  if (ty) return ty;
  switch (s.k) {
    case 'array': {
      const e = typeOf(s.e);
      // elements that can take zero bytes are only allowed in fixed arrays
      ty = t.array(e, s.n ?? (e.minSize === 0 ? 1 : undefined));
      break;
    }
    case 'optional': ty = t.optional(typeOf(s.e)); break;
    case 'tuple': ty = t.tuple(...s.es.map(typeOf)); break;
    case 'message': ty = t.message(message(`CodecPropNested${defined++}`, fieldsOf(s.fields))); break;
    default: ty = t[s.k];
  }
  types.set(key, ty);
  return ty;
}

function valueOf(s: Shape): fc.Arbitrary<unknown> {
  switch (s.k) {
    case 'f64': return fc.double();
    case 'f32': return fc.float();
    case 'i32': return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'u32': return fc.integer({ min: 0, max: 0xffffffff });
    case 'bool': return fc.boolean();
    case 'string': return fc.oneof(fc.string({ maxLength: 10 }), fc.string({ unit: 'binary', maxLength: 40 }));
    case 'bytes': return fc.uint8Array({ maxLength: 20 });
    case 'f32array': return fc.float32Array({ maxLength: 24 });
    case 'f64array': return fc.float64Array({ maxLength: 24 });
    case 'optional': return fc.option(valueOf(s.e), { nil: null });
    case 'json': return fc.jsonValue({ maxDepth: 3 });
    case 'tuple': return fc.tuple(...s.es.map(valueOf));
    case 'message': return record(s.fields);
    case 'array': {
      const n = s.n ?? (typeOf(s.e).minSize === 0 ? 1 : null);
      return fc.array(valueOf(s.e), n === null ? { maxLength: 4 } : { minLength: n, maxLength: n });
    }
  }
}

function record(shapes: Shape[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(...shapes.map(valueOf)).map((vs) => Object.fromEntries(vs.map((v, i) => [`f${i}`, v])));
}

const classes = new Map<string, MessageClass>();
function classOf(shapes: Shape[]): MessageClass {
  const key = JSON.stringify(shapes);
  let C = classes.get(key);
  if (!C) classes.set(key, (C = message(`CodecProp${defined++}`, fieldsOf(shapes)) as MessageClass));
  return C;
}

/** An arbitrary message: its class and an instance. */
const anyMessage = schemaShape.chain((shapes) => record(shapes).map((init) => {
  const C = classOf(shapes);
  return { C, msg: new C(init as never) };
}));

// ---- helpers ----

/** Runs a decoder: a message or MessageDecodeError, nothing else. */
function decodes(run: () => unknown): { ok: true; value: unknown } | { ok: false; error: MessageDecodeError } {
  try { return { ok: true, value: run() }; } catch (e) {
    if (e instanceof MessageDecodeError) return { ok: false, error: e };
    throw e;
  }
}

function sameFields(C: MessageClass, a: object, b: object): boolean {
  return Object.keys(C.schema).every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

// ---- properties ----

test('arbitrary values of arbitrary schemas round-trip exactly', async () => {
  await ready;
  const u8 = new Uint8Array(1 << 16);
  const dv = new DataView(u8.buffer);
  fc.assert(fc.property(anyMessage, fc.integer({ min: 0, max: 64 }), ({ C, msg }, offset) => {
    const bytes = C.encode(msg as never, { timestamp: 5 });
    assert.is(bytes.length, encodedSize(msg));
    for (const d of [C.decode(bytes), decodeMessage(bytes)]) {
      assert.is(d.constructor, C);
      assert.is(d.messageId, msg.messageId);
      assert.is(d.priority, msg.priority);
      assert.ok(sameFields(C, d, msg));
    }
    const n = encodeInto(msg, u8, dv, offset, u8.length, 5);
    assert.is(n, bytes.length);
    assert.ok(sameFields(C, decodeFrom(u8, dv, offset, n, C), msg));
  }), { numRuns: 400 });
});

test('random bytes never crash a decoder', async () => {
  await ready;
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
    decodes(() => decodeMessage(b));
    decodes(() => decodeFrom(b, new DataView(b.buffer), 0, b.length));
  }), { numRuns: 500 });
});

/** Ways to damage a record. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(0xffffffff), fc.constant(0x80000000), fc.nat()) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(src: Uint8Array, m: Mutation, fixLength: boolean): Uint8Array {
  let b: Uint8Array = src.slice();
  // keep most damage in the payload, where the schema-driven checks are
  const at = b.length === 0 ? 0 : m.at % b.length;
  switch (m.kind) {
    case 'truncate': b = b.slice(0, at); break;
    case 'flip': if (b.length) b[at]! ^= 1 << m.bit; break;
    case 'u32': if (at + 4 <= b.length) new DataView(b.buffer).setUint32(at, m.value, true); break;
    case 'insert': b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]); break;
    case 'delete': b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]); break;
  }
  if (fixLength && b.length >= 56) new DataView(b.buffer).setUint32(4, b.length - 56, true);
  return b;
}

test('damaged records decode or fail with MessageDecodeError; validator and decoder agree', async () => {
  await ready;
  fc.assert(fc.property(anyMessage, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), ({ C, msg }, ms, fixLength) => {
    let b = C.encode(msg as never, { timestamp: 1 });
    for (const m of ms) b = mutate(b, m, fixLength);
    const checked = decodes(() => C.decode(b));
    // a record the core accepted must decode: an error here would come from the JS decoder
    if (!checked.ok) assert.is(checked.error.cause, undefined, checked.error.message);
    const any = decodes(() => decodeMessage(b));
    assert.is(any.ok, checked.ok || (!checked.ok && /record holds/.test(checked.error.message) && any.ok));
    decodes(() => decodeFrom(b, new DataView(b.buffer), 0, b.length));
    if (checked.ok) {
      // what was accepted re-encodes to something that decodes to the same fields
      const d = checked.value as InstanceType<typeof C>;
      assert.ok(sameFields(C, C.decode(C.encode(d)), d));
    }
  }), { numRuns: 600 });
});

test('every offset of a valid record can be cut or corrupted safely', async () => {
  await ready;
  const Mixed = message('CodecPropMixed', {
    s: t.string, a: t.array(t.optional(t.string)), f: t.array(t.f32, 2), b: t.bool, y: t.bytes, d: t.f64array,
  });
  const msg = new Mixed({ s: 'héllo', a: ['x', null, 'ÿz'], f: [1, 2], b: true, y: new Uint8Array([7]), d: [1, 2, 3] });
  const bytes = Mixed.encode(msg);
  for (let at = 0; at <= bytes.length; at++) {
    for (const fix of [false, true]) {
      const cut = mutate(bytes, { kind: 'truncate', at: at === bytes.length ? 0 : at }, fix);
      assert.not.ok(decodes(() => Mixed.decode(cut)).ok, `cut at ${at}`);
      for (const value of [0, 1, 2, 0xff, 0xffffffff]) {
        const b = mutate(bytes, { kind: 'u32', at, value }, false);
        decodes(() => Mixed.decode(b));
        decodes(() => decodeFrom(b, new DataView(b.buffer), 0, b.length));
      }
    }
  }
});

test.run();
