// schema.ts — the field types of a message (`t`), each with everything the codec needs:
// a construction-time check, an encoder, a decoder, its size, its canonical text (part of
// the type id) and its descriptor for the core's validator. docs/wire-format.md is the
// specification of the bytes; assembly/codec.ts must agree with every writer here.
//
// Encoders and decoders are closures composed once per schema: Cloudflare workerd forbids
// `new Function`, so no code is generated from strings.

/** Descriptor opcodes; the same numbers as assembly/codec.ts. */
export const Op = {
  F64: 1, F32: 2, I32: 3, U32: 4, BOOL: 5, STRING: 6, BYTES: 7,
  ARRAY: 8, FIXED: 9, OPTIONAL: 10, MESSAGE: 11, TUPLE: 12, JSON: 13,
} as const;

export type FieldKind =
  | 'f64' | 'f32' | 'i32' | 'u32' | 'bool' | 'string' | 'bytes'
  | 'array' | 'f32array' | 'f64array' | 'optional' | 'message' | 'tuple' | 'json';

/**
 * Writes a value at p; returns the position after it, or -1 when it would pass `lim`
 * (nothing at or after `lim` is written).
 */
export type Writer<V> = (v: V, u8: Uint8Array, dv: DataView, p: number, lim: number) => number;
export type Reader<V> = (u8: Uint8Array, dv: DataView, end: number) => V;

/** A field type. V is the value a message holds, I what its constructor accepts. */
export interface FieldType<V = unknown, I = V> {
  readonly kind: FieldKind;
  /** Canonical text: what the type id is derived from. */
  readonly canon: string;
  /** Fewest bytes a value takes on the wire. */
  readonly minSize: number;
  /** Bytes every value takes, or -1 when it varies. */
  readonly fixedSize: number;
  /** Fields of optional types may be left out of the constructor's argument. */
  readonly optional: boolean;
  /** t.default: the field may be left out of the constructor's argument; this value is used then. */
  readonly hasDefault?: boolean;
  /** t.tuple: the element types, in order. */
  readonly elements?: readonly FieldType[];
  /** array / optional: the element or inner type. */
  readonly element?: FieldType;
  /** Fixed arrays: the length. */
  readonly length?: number;
  /** t.message: the nested message class. */
  readonly messageClass?: NestedClass;
  /** Returns the value to store (maybe normalized), or throws FieldValueError. */
  check(v: unknown): V;
  size(v: V): number;
  write: Writer<V>;
  /** Reads a value at the decode cursor (see setPos) and moves it past the value. */
  read(u8: Uint8Array, dv: DataView, end: number): V;
  /** Appends the descriptor bytes (see assembly/codec.ts) to `out`. */
  descriptor(out: number[]): void;
  /** Phantom: the constructor-side type. */
  readonly __input?: I;
}

export type ValueOf<F> = F extends FieldType<infer V, any> ? V : never;
export type InputOf<F> = F extends FieldType<any, infer I> ? I : never;
export type Fields = Record<string, FieldType<any, any>>;

/** What t.message needs from a message class (js/message/message.ts makes them). */
export interface NestedClass {
  readonly typeId: number;
  readonly typeName: string;
  new (init: any): object;
  readonly [CODEC]: StructCodec;
}

/** Where a message class keeps its compiled payload codec. */
export const CODEC: unique symbol = Symbol('ringkernel.codec');

/** A value that does not fit its field type; `path` is filled in on the way out ("[3].x"). */
export class FieldValueError extends Error {
  path = '';
  constructor(readonly detail: string) { super(detail); }
}

/** Bytes that do not decode (the trusted decoder's own bounds checks). */
export class DecodeFault extends Error {}

// ---- the decode cursor: decoding is synchronous and never re-entered, so one will do ----
let pos = 0;
export function setPos(p: number): void { pos = p; }
export function getPos(): number { return pos; }

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const hasShared = typeof SharedArrayBuffer === 'function';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

function u32Prefix(dv: DataView, end: number, what: string, minEach: number): number {
  const n = dv.getUint32(pos, true);
  pos += 4;
  if (n * minEach > end - pos) throw new DecodeFault(`${what} length ${n} exceeds the ${end - pos} bytes left at offset ${pos - 4}`);
  return n;
}

// ---- scalars ----

function scalar<V>(kind: FieldKind, op: number, size: number, check: (v: unknown) => V,
  write: Writer<V>, read: (u8: Uint8Array, dv: DataView, end: number) => V): FieldType<V> {
  return {
    kind, canon: kind, minSize: size, fixedSize: size, optional: false, check,
    size: () => size, write, read, descriptor: (out) => { out.push(op); },
  };
}

// The writers check their values too (scalars, and the elements of number arrays): a field can
// be set, after its message was made, to anything, and DataView would write a string as NaN,
// or 0, and an integer field's 1.5 as 1, without a word.
function isNumber(v: unknown): number {
  if (typeof v !== 'number') throw new FieldValueError(`expected a number, got ${describe(v)}`);
  return v;
}

function intIn(lo: number, hi: number, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi)
    throw new FieldValueError(`expected an integer in ${lo}..${hi}, got ${describe(v)}`);
  return v;
}

const asI32 = (v: unknown): number => intIn(-0x80000000, 0x7fffffff, v);
const asU32 = (v: unknown): number => intIn(0, 0xffffffff, v);

const f64: FieldType<number> = scalar('f64', Op.F64, 8, isNumber,
  (v, _u8, dv, p, lim) => { if (p + 8 > lim) return -1; dv.setFloat64(p, isNumber(v), true); return p + 8; },
  (_u8, dv) => { const v = dv.getFloat64(pos, true); pos += 8; return v; });

const f32: FieldType<number> = scalar('f32', Op.F32, 4, (v) => Math.fround(isNumber(v)),
  (v, _u8, dv, p, lim) => { if (p + 4 > lim) return -1; dv.setFloat32(p, isNumber(v), true); return p + 4; },
  (_u8, dv) => { const v = dv.getFloat32(pos, true); pos += 4; return v; });

const i32: FieldType<number> = scalar('i32', Op.I32, 4, (v) => asI32(v) | 0,
  (v, _u8, dv, p, lim) => { if (p + 4 > lim) return -1; dv.setInt32(p, asI32(v), true); return p + 4; },
  (_u8, dv) => { const v = dv.getInt32(pos, true); pos += 4; return v; });

const u32: FieldType<number> = scalar('u32', Op.U32, 4, (v) => asU32(v) >>> 0,
  (v, _u8, dv, p, lim) => { if (p + 4 > lim) return -1; dv.setUint32(p, asU32(v), true); return p + 4; },
  (_u8, dv) => { const v = dv.getUint32(pos, true); pos += 4; return v; });

const bool: FieldType<boolean> = scalar('bool', Op.BOOL, 1,
  (v) => { if (typeof v !== 'boolean') throw new FieldValueError(`expected a boolean, got ${describe(v)}`); return v; },
  (v, u8, _dv, p, lim) => { if (p + 1 > lim) return -1; u8[p] = v ? 1 : 0; return p + 1; },
  (u8) => u8[pos++] !== 0);

// ---- strings and bytes: u32 byte length, then the bytes ----

const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

function readUtf8(u8: Uint8Array, start: number, n: number): string {
  // short ASCII strings (names, ids, tags) are cheaper by hand than through TextDecoder
  if (n <= 32) {
    let s = '';
    let i = 0;
    for (; i < n; i++) {
      const c = u8[start + i]!;
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === n) return s;
  }
  // TextDecoder may refuse views of a SharedArrayBuffer: decode a private copy then
  const view = hasShared && u8.buffer instanceof SharedArrayBuffer ? u8.slice(start, start + n) : u8.subarray(start, start + n);
  return decoder.decode(view);
}

const string: FieldType<string> = {
  kind: 'string', canon: 'string', minSize: 4, fixedSize: -1, optional: false,
  check(v) {
    if (typeof v !== 'string') throw new FieldValueError(`expected a string, got ${describe(v)}`);
    if (!isWellFormed(v)) throw new FieldValueError('string holds a lone surrogate, which UTF-8 cannot encode');
    return v;
  },
  size: (v) => 4 + utf8Length(v),
  write(v, u8, dv, p, lim) {
    const n = v.length;
    if (p + 4 + n > lim) return -1; // UTF-8 never takes fewer bytes than UTF-16 code units
    if (n <= 64) {
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        u8[p + 4 + i] = c;
      }
      if (i === n) { dv.setUint32(p, n, true); return p + 4 + n; }
    }
    const r = encoder.encodeInto(v, u8.subarray(p + 4, lim));
    if (r.read! < n) return -1;
    dv.setUint32(p, r.written!, true);
    return p + 4 + r.written!;
  },
  read(u8, dv, end) {
    const n = u32Prefix(dv, end, 'string', 1);
    const s = pos;
    pos += n;
    return readUtf8(u8, s, n);
  },
  descriptor: (out) => { out.push(Op.STRING); },
};

const bytes: FieldType<Uint8Array> = {
  kind: 'bytes', canon: 'bytes', minSize: 4, fixedSize: -1, optional: false,
  check(v) {
    if (!(v instanceof Uint8Array)) throw new FieldValueError(`expected a Uint8Array, got ${describe(v)}`);
    return v;
  },
  size: (v) => 4 + v.length,
  write(v, u8, dv, p, lim) {
    if (p + 4 + v.length > lim) return -1;
    dv.setUint32(p, v.length, true);
    u8.set(v, p + 4);
    return p + 4 + v.length;
  },
  read(u8, dv, end) {
    const n = u32Prefix(dv, end, 'bytes', 1);
    pos += n;
    return u8.slice(pos - n, pos); // a private copy: the record's memory will be reused
  },
  descriptor: (out) => { out.push(Op.BYTES); },
};

// ---- arrays: u32 count then the elements, or (fixed length n) just the n elements ----

function pushU32(out: number[], n: number): void {
  out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

// Typed-array views of the buffer a DataView is over, for the numeric loops: an indexed
// store or load of a Float32Array is about twice as fast as DataView's setFloat32 /
// getFloat32 in V8 (16 floats: 18 against 34 ns). Kept for the last two DataViews seen: the
// encoders and decoders of a thread write and read its core's memory through one, and a
// batch that waits for room is staged through another. Used where the machine is
// little-endian, as the wire is, the elements are aligned to their size in the buffer and
// lie within the DataView (a typed array ignores a store out of its bounds, where DataView
// throws); else the DataView loop.
class Views {
  readonly at: number;
  readonly f64: Float64Array<ArrayBufferLike>;
  readonly f32: Float32Array<ArrayBufferLike>;
  readonly i32: Int32Array<ArrayBufferLike>;
  readonly u32: Uint32Array<ArrayBufferLike>;
  constructor(readonly dv: DataView | null) {
    const b = dv?.buffer ?? new ArrayBuffer(0);
    this.at = dv?.byteOffset ?? 0;
    this.f64 = new Float64Array(b, 0, b.byteLength >> 3);
    this.f32 = new Float32Array(b, 0, b.byteLength >> 2);
    this.i32 = new Int32Array(b, 0, b.byteLength >> 2);
    this.u32 = new Uint32Array(b, 0, b.byteLength >> 2);
  }
}
let lastViews = new Views(null), viewsBefore = lastViews;
/**
 * The fewest elements the typed-array loops are used for: below it the DataView loop costs
 * no more (inline streaming's 10 doubles took 1.04x the time the typed way; 16 floats 0.77x
 * through a CPU kernel).
 */
const TYPED_LOOP_MIN = LITTLE_ENDIAN ? 16 : Infinity;

/** The views of dv's buffer: one of the last two made, or new ones. */
function viewsOf(dv: DataView): Views {
  const v = lastViews;
  if (v.dv === dv) return v;
  const w = viewsBefore.dv === dv ? viewsBefore : new Views(dv);
  viewsBefore = v;
  return (lastViews = w);
}

/**
 * Where n elements of 2^shift bytes at dv's byte p lie in the views of dv's buffer (then
 * `lastViews` holds them): their index, or -1 where DataView's loop is to be used (too few,
 * not aligned, past dv's end, a big-endian machine).
 */
function typedIndex(dv: DataView, p: number, n: number, shift: 2 | 3): number {
  if (n < TYPED_LOOP_MIN || p + (n << shift) > dv.byteLength) return -1;
  const at = viewsOf(dv).at + p;
  return (at & ((1 << shift) - 1)) === 0 ? at >> shift : -1;
}

/** The loop that writes n numeric elements; one per kind so each stays monomorphic. */
function numericWriter(kind: FieldKind): ((a: ArrayLike<number>, dv: DataView, p: number, n: number) => void) | null {
  switch (kind) {
    case 'f64': return (a, dv, p, n) => {
      const q = typedIndex(dv, p, n, 3);
      if (q >= 0) { const v = lastViews.f64; for (let i = 0; i < n; i++) v[q + i] = isNumber(a[i]); }
      else for (let i = 0; i < n; i++) dv.setFloat64(p + i * 8, isNumber(a[i]), true);
    };
    case 'f32': return (a, dv, p, n) => {
      const q = typedIndex(dv, p, n, 2);
      if (q >= 0) { const v = lastViews.f32; for (let i = 0; i < n; i++) v[q + i] = isNumber(a[i]); }
      else for (let i = 0; i < n; i++) dv.setFloat32(p + i * 4, isNumber(a[i]), true);
    };
    case 'i32': return (a, dv, p, n) => {
      const q = typedIndex(dv, p, n, 2);
      if (q >= 0) { const v = lastViews.i32; for (let i = 0; i < n; i++) v[q + i] = asI32(a[i]); }
      else for (let i = 0; i < n; i++) dv.setInt32(p + i * 4, asI32(a[i]), true);
    };
    case 'u32': return (a, dv, p, n) => {
      const q = typedIndex(dv, p, n, 2);
      if (q >= 0) { const v = lastViews.u32; for (let i = 0; i < n; i++) v[q + i] = asU32(a[i]); }
      else for (let i = 0; i < n; i++) dv.setUint32(p + i * 4, asU32(a[i]), true);
    };
    default: return null;
  }
}

function numericReader(kind: FieldKind): ((dv: DataView, p: number, n: number) => number[]) | null {
  switch (kind) {
    case 'f64': return (dv, p, n) => {
      const a = new Array<number>(n);
      const q = typedIndex(dv, p, n, 3);
      if (q >= 0) { const v = lastViews.f64; for (let i = 0; i < n; i++) a[i] = v[q + i]!; }
      else for (let i = 0; i < n; i++) a[i] = dv.getFloat64(p + i * 8, true);
      return a;
    };
    case 'f32': return (dv, p, n) => {
      const a = new Array<number>(n);
      const q = typedIndex(dv, p, n, 2);
      if (q >= 0) { const v = lastViews.f32; for (let i = 0; i < n; i++) a[i] = v[q + i]!; }
      else for (let i = 0; i < n; i++) a[i] = dv.getFloat32(p + i * 4, true);
      return a;
    };
    case 'i32': return (dv, p, n) => {
      const a = new Array<number>(n);
      const q = typedIndex(dv, p, n, 2);
      if (q >= 0) { const v = lastViews.i32; for (let i = 0; i < n; i++) a[i] = v[q + i]!; }
      else for (let i = 0; i < n; i++) a[i] = dv.getInt32(p + i * 4, true);
      return a;
    };
    case 'u32': return (dv, p, n) => {
      const a = new Array<number>(n);
      const q = typedIndex(dv, p, n, 2);
      if (q >= 0) { const v = lastViews.u32; for (let i = 0; i < n; i++) a[i] = v[q + i]!; }
      else for (let i = 0; i < n; i++) a[i] = dv.getUint32(p + i * 4, true);
      return a;
    };
    default: return null;
  }
}

function array<F extends FieldType<any, any>>(elem: F, length?: number): FieldType<ValueOf<F>[], readonly InputOf<F>[]> {
  type V = ValueOf<F>;
  if (!isFieldType(elem)) throw new TypeError(`t.array: the element type must be a t.* field type, got ${describe(elem)}`);
  const fixed = length !== undefined;
  if (fixed && !(Number.isInteger(length) && length >= 1 && length <= 0xffffffff))
    throw new TypeError(`t.array: a fixed length must be an integer 1..4294967295, got ${String(length)}`);
  // a count must bound the bytes it claims, or a 4-byte record could ask for 2^32 elements
  if (!fixed && elem.minSize === 0)
    throw new TypeError(`t.array: elements of type ${elem.canon} can encode to zero bytes; use a message with at least one field`);
  const n0 = length ?? 0;
  const prefix = fixed ? 0 : 4;
  const es = elem.fixedSize;
  const numW = numericWriter(elem.kind);
  const numR = numericReader(elem.kind);
  const ew = elem.write as Writer<V>;
  return {
    kind: 'array', element: elem, length, optional: false,
    canon: fixed ? `array<${elem.canon},${n0}>` : `array<${elem.canon}>`,
    minSize: fixed ? n0 * elem.minSize : 4,
    fixedSize: fixed && es >= 0 ? n0 * es : -1,
    check(v) {
      if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView)))
        throw new FieldValueError(`expected an array, got ${describe(v)}`);
      const a = v as ArrayLike<unknown>;
      if (fixed && a.length !== n0) throw new FieldValueError(`expected exactly ${n0} elements, got ${a.length}`);
      let out: V[] | null = Array.isArray(a) ? null : new Array<V>(a.length);
      for (let i = 0; i < a.length; i++) {
        let x: V;
        try { x = elem.check(a[i]); } catch (e) {
          if (e instanceof FieldValueError) e.path = `[${i}]` + e.path;
          throw e;
        }
        // keep the caller's array unless an element was normalized (f32 rounding, ...)
        if (out === null && x !== a[i]) out = (a as V[]).slice(0, i);
        if (out !== null) out[i] = x;
      }
      return out ?? (a as V[]);
    },
    size(v) {
      if (es >= 0) return prefix + v.length * es;
      let s = prefix;
      for (let i = 0; i < v.length; i++) s += elem.size(v[i]);
      return s;
    },
    write(v, u8, dv, p, lim) {
      const n = fixed ? n0 : v.length;
      if (fixed && v.length !== n0) throw new TypeError(`fixed array of ${n0} now holds ${v.length} elements`);
      if (!fixed) {
        if (p + 4 > lim) return -1;
        dv.setUint32(p, n, true);
        p += 4;
      }
      if (numW !== null) {
        if (p + n * es > lim) return -1;
        numW(v as unknown as number[], dv, p, n);
        return p + n * es;
      }
      for (let i = 0; i < n && p >= 0; i++) p = ew(v[i]!, u8, dv, p, lim);
      return p;
    },
    read(u8, dv, end) {
      const n = fixed ? n0 : u32Prefix(dv, end, 'array', elem.minSize);
      if (numR !== null) {
        if (pos + n * es > end) throw new DecodeFault(`${n} elements do not fit at offset ${pos}`);
        const a = numR(dv, pos, n);
        pos += n * es;
        return a as V[];
      }
      const a = new Array<V>(n);
      for (let i = 0; i < n; i++) a[i] = elem.read(u8, dv, end);
      return a;
    },
    descriptor(out) {
      if (fixed) { out.push(Op.FIXED); pushU32(out, n0); } else out.push(Op.ARRAY);
      elem.descriptor(out);
    },
  };
}

// ---- typed arrays: the wire form of t.array(t.f32) / t.array(t.f64), decoded as typed arrays ----

function typedArray<T extends Float32Array | Float64Array>(kind: 'f32array' | 'f64array',
  Ctor: { new (n: number): T; new (b: ArrayBufferLike): T; BYTES_PER_ELEMENT: number; from(a: ArrayLike<number>): T }): FieldType<T, T | ArrayLike<number>> {
  const es = Ctor.BYTES_PER_ELEMENT;
  const numW = numericWriter(kind === 'f32array' ? 'f32' : 'f64')!;
  const numR = kind === 'f32array'
    ? (dv: DataView, p: number, a: T) => { for (let i = 0; i < a.length; i++) a[i] = dv.getFloat32(p + i * 4, true); }
    : (dv: DataView, p: number, a: T) => { for (let i = 0; i < a.length; i++) a[i] = dv.getFloat64(p + i * 8, true); };
  return {
    kind, canon: kind, minSize: 4, fixedSize: -1, optional: false,
    check(v) {
      if (v instanceof Ctor) return v;
      if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView)))
        throw new FieldValueError(`expected a ${Ctor.name} or an array of numbers, got ${describe(v)}`);
      const a = v as ArrayLike<unknown>;
      for (let i = 0; i < a.length; i++) {
        if (typeof a[i] !== 'number') {
          const e = new FieldValueError(`expected a number, got ${describe(a[i])}`);
          e.path = `[${i}]`;
          throw e;
        }
      }
      return Ctor.from(a as ArrayLike<number>);
    },
    size: (v) => 4 + v.length * es,
    write(v, u8, dv, p, lim) {
      const n = v.length;
      if (p + 4 + n * es > lim) return -1;
      dv.setUint32(p, n, true);
      // on little-endian machines the typed array's bytes already are the wire bytes
      if (LITTLE_ENDIAN && n > 16) u8.set(new Uint8Array(v.buffer, v.byteOffset, n * es), p + 4);
      else numW(v, dv, p + 4, n);
      return p + 4 + n * es;
    },
    read(u8, dv, end) {
      const n = u32Prefix(dv, end, kind, es);
      const p = pos;
      pos += n * es;
      if (LITTLE_ENDIAN && n > 16) return new Ctor(u8.slice(p, p + n * es).buffer);
      const a = new Ctor(n);
      numR(dv, p, a);
      return a;
    },
    descriptor: (out) => { out.push(Op.ARRAY, kind === 'f32array' ? Op.F32 : Op.F64); },
  };
}

// ---- optional: u8 tag (0 absent, 1 present), then the value when present ----

function optional<F extends FieldType<any, any>>(inner: F): FieldType<ValueOf<F> | null, InputOf<F> | null | undefined> & { readonly optional: true } {
  type V = ValueOf<F>;
  if (!isFieldType(inner)) throw new TypeError(`t.optional: the inner type must be a t.* field type, got ${describe(inner)}`);
  const iw = inner.write as Writer<V>;
  return {
    kind: 'optional', element: inner, optional: true,
    canon: `optional<${inner.canon}>`, minSize: 1, fixedSize: -1,
    check: (v) => (v === undefined || v === null ? null : inner.check(v)),
    size: (v) => (v === null ? 1 : 1 + inner.size(v)),
    write(v, u8, dv, p, lim) {
      if (p + 1 > lim) return -1;
      if (v === null || v === undefined) { u8[p] = 0; return p + 1; }
      u8[p] = 1;
      return iw(v, u8, dv, p + 1, lim);
    },
    read(u8, dv, end) {
      const tag = u8[pos++];
      if (tag === 0) return null;
      if (tag !== 1) throw new DecodeFault(`optional tag ${String(tag)} at offset ${pos - 1} is not 0 or 1`);
      return inner.read(u8, dv, end);
    },
    descriptor(out) { out.push(Op.OPTIONAL); inner.descriptor(out); },
  };
}

// ---- nested messages: the nested message's fields, inline, without a header ----

/** A message class's payload codec (js/message/message.ts compiles one per class). */
export interface StructCodec {
  readonly keys: readonly string[];
  readonly types: readonly FieldType[];
  readonly minSize: number;
  readonly fixedSize: number;
  size(msg: object): number;
  write: Writer<object>;
  /** Reads the fields at the cursor into `target`, in declaration order. */
  read(target: object, u8: Uint8Array, dv: DataView, end: number): void;
  /** A new instance (fresh header values) with the fields read at the cursor. */
  readNested(u8: Uint8Array, dv: DataView, end: number): object;
  /** Field descriptors, back to back. */
  descriptor(out: number[]): void;
  /** The whole record of a message of this class, header and payload: encodeInto's work. */
  encodeRecord(msg: object, u8: Uint8Array, dv: DataView, offset: number, limit: number, timestamp: number): number;
  /** A message of this class from its record (its type id checked already): decodeFrom's work. */
  decodeRecord(u8: Uint8Array, dv: DataView, offset: number, length: number): object;
}

/**
 * A class's payload codec. `compiled`: its write and read compiled for it (js/message/compiled.ts),
 * or null where nothing is compiled: then the loops here, shared by every class.
 */
export function compileStruct(fields: Fields, make: () => object, compiled: Pick<StructCodec, 'write' | 'read'> | null = null): StructCodec {
  const keys = Object.keys(fields);
  const types = keys.map((k) => fields[k]!);
  const n = keys.length;
  const writers = types.map((f) => f.write as Writer<unknown>);
  const readers = types.map((f) => f.read);
  const minSize = types.reduce((s, f) => s + f.minSize, 0);
  const fixedSize = types.every((f) => f.fixedSize >= 0) ? types.reduce((s, f) => s + f.fixedSize, 0) : -1;
  const codec: StructCodec = {
    keys, types, minSize, fixedSize,
    size(msg) {
      if (fixedSize >= 0) return fixedSize;
      const m = msg as Record<string, unknown>;
      let s = 0;
      for (let i = 0; i < n; i++) s += types[i]!.size(m[keys[i]!]);
      return s;
    },
    write(msg, u8, dv, p, lim) {
      const m = msg as Record<string, unknown>;
      for (let i = 0; i < n && p >= 0; i++) p = writers[i]!(m[keys[i]!], u8, dv, p, lim);
      return p;
    },
    read(target, u8, dv, end) {
      const m = target as Record<string, unknown>;
      for (let i = 0; i < n; i++) m[keys[i]!] = readers[i]!(u8, dv, end);
    },
    readNested(u8, dv, end) {
      const m = make();
      codec.read(m, u8, dv, end);
      return m;
    },
    descriptor(out) { for (const f of types) f.descriptor(out); },
    // set by message(), once the class exists (js/message/encode.ts, decode.ts, compiled.ts)
    encodeRecord: () => { throw new Error('encodeRecord before message() set it'); },
    decodeRecord: () => { throw new Error('decodeRecord before message() set it'); },
  };
  if (compiled !== null) {
    codec.write = compiled.write;
    codec.read = compiled.read;
  }
  return codec;
}

function nested<M extends NestedClass>(M: M): FieldType<InstanceType<M>, InstanceType<M> | ConstructorParameters<M>[0]> {
  type V = InstanceType<M>;
  if (typeof M !== 'function' || !(CODEC in M))
    throw new TypeError(`t.message: expected a class made by message(), got ${describe(M)}`);
  const codec = M[CODEC];
  const id = M.typeId;
  return {
    kind: 'message', messageClass: M, optional: false,
    canon: `message<${M.typeName}#${(id >>> 0).toString(16).padStart(8, '0')}>`,
    minSize: codec.minSize, fixedSize: codec.fixedSize,
    check(v) {
      if (v instanceof M) return v as V;
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        throw new FieldValueError(`expected a ${M.typeName} or an object of its fields, got ${describe(v)}`);
      try { return new M(v) as V; } catch (e) {
        if (e instanceof TypeError || e instanceof RangeError) throw new FieldValueError(e.message);
        throw e;
      }
    },
    size: (v) => codec.size(v),
    write: (v, u8, dv, p, lim) => codec.write(v, u8, dv, p, lim),
    read: (u8, dv, end) => codec.readNested(u8, dv, end) as V,
    descriptor(out) { out.push(Op.MESSAGE); pushU32(out, id); },
  };
}

// ---- tuples: the elements back to back, no count (the schema holds it) ----

type TupleValues<E extends readonly FieldType<any, any>[]> = { -readonly [K in keyof E]: ValueOf<E[K]> };
type TupleInputs<E extends readonly FieldType<any, any>[]> = { readonly [K in keyof E]: InputOf<E[K]> };

function tuple<const E extends readonly FieldType<any, any>[]>(...elems: E): FieldType<TupleValues<E>, TupleInputs<E>> {
  if (elems.length < 1 || elems.length > 255) throw new TypeError(`t.tuple: a tuple has 1 to 255 element types, got ${elems.length}`);
  elems.forEach((e, i) => { if (!isFieldType(e)) throw new TypeError(`t.tuple: element ${i} is not a t.* field type, got ${describe(e)}`); });
  const n = elems.length;
  const fixed = elems.every((e) => e.fixedSize >= 0);
  return {
    kind: 'tuple', elements: elems, optional: false,
    canon: `tuple<${elems.map((e) => e.canon).join(',')}>`,
    minSize: elems.reduce((a, e) => a + e.minSize, 0),
    fixedSize: fixed ? elems.reduce((a, e) => a + e.fixedSize, 0) : -1,
    check(v) {
      if (!Array.isArray(v)) throw new FieldValueError(`expected a tuple (an array of ${n}), got ${describe(v)}`);
      if (v.length !== n) throw new FieldValueError(`expected a tuple of ${n} elements, got ${v.length}`);
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        try { out[i] = elems[i]!.check(v[i]); } catch (e) {
          if (e instanceof FieldValueError) e.path = `[${i}]` + e.path;
          throw e;
        }
      }
      return out as TupleValues<E>;
    },
    size(v) {
      let s = 0;
      for (let i = 0; i < n; i++) s += elems[i]!.size((v as unknown[])[i]);
      return s;
    },
    write(v, u8, dv, p, lim) {
      for (let i = 0; i < n && p >= 0; i++) p = (elems[i]!.write as Writer<unknown>)((v as unknown[])[i], u8, dv, p, lim);
      return p;
    },
    read(u8, dv, end) {
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = elems[i]!.read(u8, dv, end);
      return out as TupleValues<E>;
    },
    descriptor(out) { out.push(Op.TUPLE, n); for (const e of elems) e.descriptor(out); },
  };
}

// ---- JSON-like values: a tag byte, then as the tag says (docs/wire-format.md) ----

/** What a t.json field holds: null, booleans, finite numbers, strings, arrays and plain objects of them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const J_NULL = 0, J_FALSE = 1, J_TRUE = 2, J_NUMBER = 3, J_STRING = 4, J_ARRAY = 5, J_OBJECT = 6;
/** Arrays and objects nest at most this deep (the core refuses deeper records too). */
export const JSON_MAX_DEPTH = 64;
/** A t.json value encodes to at most this many bytes (the queue's maxMessageSize may be lower). */
export const JSON_MAX_BYTES = 1 << 24;

/** Checks a JSON-like value, returning its encoded size; `path` names where a bad part is. */
function jsonSize(v: unknown, depth: number, seen: unknown[]): number {
  if (v === null || v === true || v === false) return 1;
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new FieldValueError(`expected a finite number (JSON has no ${v}), got ${v}`);
      return 9;
    case 'string':
      if (!isWellFormed(v)) throw new FieldValueError('string holds a lone surrogate, which UTF-8 cannot encode');
      return 5 + utf8Length(v);
    case 'object': break;
    default: throw new FieldValueError(`expected a JSON-like value (null, boolean, number, string, array, plain object), got ${typeof v === 'function' ? 'a function' : typeof v}`);
  }
  const o = v as object;
  if (seen.includes(o)) throw new FieldValueError('the value contains a cycle (an object that contains itself)');
  if (depth >= JSON_MAX_DEPTH) throw new FieldValueError(`arrays and objects nest deeper than ${JSON_MAX_DEPTH}`);
  seen.push(o);
  let s = 5;
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      try { s += jsonSize(o[i], depth + 1, seen); } catch (e) {
        if (e instanceof FieldValueError) e.path = `[${i}]` + e.path;
        throw e;
      }
    }
  } else {
    const proto = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null)
      throw new FieldValueError(`expected a plain object or an array, got a ${(o as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'} (convert it first, e.g. to a string or a plain object)`);
    for (const k of Object.keys(o)) {
      if (!isWellFormed(k)) throw new FieldValueError('a key holds a lone surrogate, which UTF-8 cannot encode');
      try { s += 4 + utf8Length(k) + jsonSize((o as Record<string, unknown>)[k], depth + 1, seen); } catch (e) {
        if (e instanceof FieldValueError) e.path = `.${k}` + e.path;
        throw e;
      }
    }
  }
  seen.pop();
  if (s > JSON_MAX_BYTES) throw new FieldValueError(`encodes to more than ${JSON_MAX_BYTES} bytes`);
  return s;
}

function writeJsonText(s: string, u8: Uint8Array, dv: DataView, p: number, lim: number): number {
  return (string.write as Writer<string>)(s, u8, dv, p, lim);
}

function writeJson(v: unknown, u8: Uint8Array, dv: DataView, p: number, lim: number, depth: number): number {
  if (p < 0 || p + 1 > lim) return -1;
  if (v === null) { u8[p] = J_NULL; return p + 1; }
  if (v === false) { u8[p] = J_FALSE; return p + 1; }
  if (v === true) { u8[p] = J_TRUE; return p + 1; }
  if (typeof v === 'number') {
    if (p + 9 > lim) return -1;
    u8[p] = J_NUMBER; dv.setFloat64(p + 1, v, true);
    return p + 9;
  }
  if (typeof v === 'string') { u8[p] = J_STRING; return writeJsonText(v, u8, dv, p + 1, lim); }
  // changed since construction into something deeper (or a cycle): refuse rather than recurse forever
  if (depth >= JSON_MAX_DEPTH) throw new TypeError(`t.json value nests deeper than ${JSON_MAX_DEPTH} (changed after construction?)`);
  if (p + 5 > lim) return -1;
  if (Array.isArray(v)) {
    u8[p] = J_ARRAY; dv.setUint32(p + 1, v.length, true);
    p += 5;
    for (let i = 0; i < v.length && p >= 0; i++) p = writeJson(v[i], u8, dv, p, lim, depth + 1);
    return p;
  }
  const keys = Object.keys(v as object);
  u8[p] = J_OBJECT; dv.setUint32(p + 1, keys.length, true);
  p += 5;
  for (let i = 0; i < keys.length && p >= 0; i++) {
    p = writeJsonText(keys[i]!, u8, dv, p, lim);
    if (p >= 0) p = writeJson((v as Record<string, unknown>)[keys[i]!], u8, dv, p, lim, depth + 1);
  }
  return p;
}

function readJson(u8: Uint8Array, dv: DataView, end: number, depth: number): Json {
  if (pos + 1 > end) throw new DecodeFault(`JSON value at offset ${pos} is cut off`);
  const tag = u8[pos++]!;
  switch (tag) {
    case J_NULL: return null;
    case J_FALSE: return false;
    case J_TRUE: return true;
    case J_NUMBER: {
      if (pos + 8 > end) throw new DecodeFault(`JSON number at offset ${pos} is cut off`);
      const n = dv.getFloat64(pos, true);
      pos += 8;
      return n;
    }
    case J_STRING: return string.read(u8, dv, end);
    case J_ARRAY: case J_OBJECT: {
      if (depth >= JSON_MAX_DEPTH) throw new DecodeFault(`JSON nested deeper than ${JSON_MAX_DEPTH} at offset ${pos - 1}`);
      const n = u32Prefix(dv, end, 'JSON', tag === J_ARRAY ? 1 : 5);
      if (tag === J_ARRAY) {
        const a = new Array<Json>(n);
        for (let i = 0; i < n; i++) a[i] = readJson(u8, dv, end, depth + 1);
        return a;
      }
      const o: Record<string, Json> = {};
      for (let i = 0; i < n; i++) {
        const k = string.read(u8, dv, end);
        const x = readJson(u8, dv, end, depth + 1);
        // a key '__proto__' is an own property, as JSON.parse makes it, not the prototype
        if (k === '__proto__') Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
        else o[k] = x;
      }
      return o;
    }
  }
  throw new DecodeFault(`JSON tag ${tag} at offset ${pos - 1} is not 0..6`);
}

const json: FieldType<Json> = {
  kind: 'json', canon: 'json', minSize: 1, fixedSize: -1, optional: false,
  check(v) { jsonSize(v, 0, []); return v as Json; },
  size: (v) => jsonSize(v, 0, []),
  write: (v, u8, dv, p, lim) => writeJson(v, u8, dv, p, lim, 0),
  read: (u8, dv, end) => readJson(u8, dv, end, 0),
  descriptor: (out) => { out.push(Op.JSON); },
};

// ---- defaults: the same wire as T; a field left out of the constructor's argument gets the value ----

function withDefault<F extends FieldType<any, any>>(inner: F, value: InputOf<F>): FieldType<ValueOf<F>, InputOf<F> | undefined> & { readonly hasDefault: true } {
  if (!isFieldType(inner)) throw new TypeError(`t.default: the type must be a t.* field type, got ${describe(inner)}`);
  try { inner.check(value); } catch (e) {
    if (e instanceof FieldValueError) throw new TypeError(`t.default: the default does not fit ${inner.canon}: ${e.path ? `${e.path}: ` : ''}${e.detail}`);
    throw e;
  }
  let text: string;
  try { text = JSON.stringify(value, (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x)); } catch {
    throw new TypeError('t.default: the default must be a value JSON can write (it is part of the type id)');
  }
  // a fresh copy per message, so that one message changing its array does not change the next one's default
  const fresh = typeof value === 'object' && value !== null ? () => structuredClone(value) : () => value;
  return {
    ...inner,
    hasDefault: true,
    canon: `default<${inner.canon},${text}>`,
    check: (v: unknown) => inner.check(v === undefined ? fresh() : v),
  };
}

function isFieldType(v: unknown): v is FieldType {
  return typeof v === 'object' && v !== null && typeof (v as FieldType).canon === 'string' && typeof (v as FieldType).write === 'function';
}

/** The field types. */
export const t = {
  f64, f32, i32, u32, bool, string, bytes,
  /** t.array(T): any length; t.array(T, n): exactly n elements (no length on the wire). */
  array,
  /** Float32Array on both sides (arrays of numbers are accepted and converted). */
  f32array: typedArray('f32array', Float32Array),
  /** Float64Array on both sides (arrays of numbers are accepted and converted). */
  f64array: typedArray('f64array', Float64Array),
  /** null or a value of T; may be left out of the constructor's argument. */
  optional,
  /** A nested message, fields only (no header); an instance or an object of its fields. */
  message: nested,
  /** A list of nested messages: t.array(t.message(M)). */
  list: <M extends NestedClass>(M: M) => array(nested(M)),
  /** A fixed sequence of values of these types, as an array: t.tuple(t.i32, t.string) holds [1, 'a']. */
  tuple,
  /**
   * A JSON-like value: null, booleans, finite numbers, strings, arrays and plain objects of
   * them (PyDotCompute's `Any`), at most 64 deep and 16 MiB encoded. Functions, cycles and
   * class instances are refused at construction; the core validates it like any field.
   */
  json,
  /** T, with a value for when the field is left out of the constructor's argument: t.default(t.f64, 0.85). */
  default: withDefault,
};

export { isFieldType };
