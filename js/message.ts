// message.ts — message classes: `message(name, fields)` makes one, with a checked
// constructor and a codec composed once from its schema. The record format (56-byte header,
// then the payload in field order) is docs/wire-format.md; the payload codec is js/schema.ts.
//
// Two entry points decode:
// - decode / decodeMessage, for bytes from anywhere: validated by the wasm core first
//   (js/codec-core.ts), then decoded;
// - decodeFrom, for records the runtime's own encoders wrote (rings): no validation, but
//   still never crashes on bad bytes (a MessageDecodeError at worst).

import { MessageDecodeError } from './errors.js';
import {
  CODEC, compileStruct, DecodeFault, FieldValueError, getPos, isFieldType, setPos,
  type Fields, type FieldType, type InputOf, type StructCodec, type ValueOf,
} from './schema.js';
import { setSchemaSource, staged, validate } from './codec-core.js';
import { epochNow as now } from './platform.js';

export { ready, installValidator } from './codec-core.js';

// ---- record header (offsets; see assembly/codec.ts) ----
export const HEADER_BYTES = 56;
const H_TYPE = 0, H_PAYLOAD = 4, H_TIME = 8, H_ID = 16, H_CORR = 32, H_PRIORITY = 48, H_FLAGS = 49, H_VERSION = 50;
const FLAG_CORRELATION = 1;
const WIRE_VERSION = 1;
export const DEFAULT_PRIORITY = 128;

export interface MessageOptions {
  /** 0..255, higher is received first; default 128. */
  priority?: number;
  /** The messageId of the message this one answers, or null. */
  correlationId?: string | null;
  /** A UUID; a random (v4) one by default. */
  messageId?: string;
}

type OptionalKeys<S extends Fields> = { [K in keyof S]: S[K] extends { readonly optional: true } ? K : never }[keyof S];
export type Values<S extends Fields> = { -readonly [K in keyof S]: ValueOf<S[K]> };
export type Init<S extends Fields> =
  & { [K in Exclude<keyof S, OptionalKeys<S>>]: InputOf<S[K]> }
  & { [K in OptionalKeys<S>]?: InputOf<S[K]> }
  & MessageOptions;

/**
 * A message's header values. One object per message, under one symbol key: the base
 * constructor then makes one store on instances of many classes (a megamorphic site) instead of
 * eight, and the id is kept as four big-endian words, cheap to make (random pool), encode and
 * decode; its string is only made when someone reads messageId.
 */
class Header {
  constructor(
    public w0: number, public w1: number, public w2: number, public w3: number,
    public id: string | null, public priority: number,
    /** The correlation id, as words (c0..c3, when hasCorr) and, once read, as a string. */
    public hasCorr: boolean, public c0: number, public c1: number, public c2: number, public c3: number,
    public corr: string | null,
    public timestamp: number,
  ) {}
}
const HDR: unique symbol = Symbol('ringkernel.header');

/** Sets h's correlation id to `s`, whose words uuid() just left in `words`. */
function setCorrelation(h: Header, s: string): void {
  h.hasCorr = true;
  h.c0 = words[0]!; h.c1 = words[1]!; h.c2 = words[2]!; h.c3 = words[3]!;
  h.corr = s;
}

function checkPriority(p: unknown, typeName: string): number {
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 255) return p;
  throw new RangeError(`${typeName}: priority must be an integer 0..255, got ${typeof p === 'string' ? JSON.stringify(p) : String(p)}`);
}

/** What every message has, whatever its fields (header values are accessors; fields are own properties). */
export class Message {
  // `declare`: assigned in the constructor only; a field definition would run in an
  // initializer that turns slow once many message classes share this base.
  declare [HDR]: Header;

  constructor(init: MessageOptions | typeof RAW, typeName: string) {
    if (init === RAW) {
      this[HDR] = new Header(raw.w0, raw.w1, raw.w2, raw.w3, null, raw.priority, raw.hasCorr, raw.c0, raw.c1, raw.c2, raw.c3, null, raw.timestamp);
      return;
    }
    let id: string | null = null;
    if (init.messageId === undefined) randomWords();
    else id = uuid(init.messageId, typeName, 'messageId');
    const p = init.priority === undefined ? DEFAULT_PRIORITY : checkPriority(init.priority, typeName);
    const h = new Header(words[0]!, words[1]!, words[2]!, words[3]!, id, p, false, 0, 0, 0, 0, null, NaN);
    this[HDR] = h;
    const c = init.correlationId;
    if (c !== undefined && c !== null) setCorrelation(h, uuid(c, typeName, 'correlationId'));
  }

  /** UUID (lowercase). */
  get messageId(): string {
    const h = this[HDR];
    if (h.id === null) {
      h.id = wordsToUuid(h.w0, h.w1, h.w2, h.w3);
      lastId = h; // `correlationId: m.messageId` then takes its words without parsing
    }
    return h.id;
  }

  set messageId(v: string) {
    const s = uuid(v, this.constructor.name, 'messageId');
    const h = this[HDR];
    h.w0 = words[0]!;
    h.w1 = words[1]!;
    h.w2 = words[2]!;
    h.w3 = words[3]!;
    h.id = s;
  }

  /** 0..255, higher first (checked when set). */
  get priority(): number { return this[HDR].priority; }
  set priority(p: number) { this[HDR].priority = checkPriority(p, this.constructor.name); }

  /** UUID of the message this one answers, or null (checked when set). */
  get correlationId(): string | null {
    const h = this[HDR];
    return h.hasCorr ? (h.corr ??= wordsToUuid(h.c0, h.c1, h.c2, h.c3)) : null;
  }
  set correlationId(c: string | null) {
    const h = this[HDR];
    if (c === null || c === undefined) { h.hasCorr = false; h.corr = null; }
    else setCorrelation(h, uuid(c, this.constructor.name, 'correlationId'));
  }

  /** When it was encoded (ms since the Unix epoch); NaN for a message never sent. */
  get timestamp(): number { return this[HDR].timestamp; }
  set timestamp(t: number) { this[HDR].timestamp = t; }

  /** Header values first, then the fields. */
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = { messageId: this.messageId, priority: this.priority, correlationId: this.correlationId, timestamp: this.timestamp };
    for (const k of Object.keys(this)) o[k] = (this as unknown as Record<string, unknown>)[k];
    return o;
  }

  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return `${this.constructor.name} ${inspect(this.toJSON(), options)}`;
  }
}

export type MessageInstance<S extends Fields> = Message & Values<S>;

export interface MessageClass<S extends Fields = Fields> {
  new (init: Init<S>): MessageInstance<S>;
  readonly prototype: MessageInstance<S>;
  /** FNV-1a (32-bit) of the canonical schema text: the same in every thread. */
  readonly typeId: number;
  readonly typeName: string;
  readonly schema: Readonly<S>;
  /** The text the type id is derived from, e.g. `RawData{values:array<f64>}`. */
  readonly canonical: string;
  /** One record; `timestamp` defaults to now. */
  encode(msg: MessageInstance<S>, options?: { timestamp?: number }): Uint8Array;
  /** Validates (wasm core) and decodes a record of this type; MessageDecodeError otherwise. */
  decode(bytes: Uint8Array | ArrayBuffer): MessageInstance<S>;
  readonly [CODEC]: StructCodec;
}

// ---- uuids ----


/** The header whose id string was made last (see uuid). */
let lastId: Header | null = null;

/** Checks a UUID string, leaving its value in `words`; returns it in lowercase. */
function uuid(v: unknown, typeName: string, what: string): string {
  const last = lastId;
  if (typeof v === 'string' && last !== null && v === last.id) {
    // the id of a message just read (`correlationId: m.messageId`): known good, words known
    words[0] = last.w0; words[1] = last.w1; words[2] = last.w2; words[3] = last.w3;
    return v;
  }
  if (typeof v === 'string' && parseUuid(v)) return sawUpper ? v.toLowerCase() : v;
  throw new TypeError(`${typeName}: ${what} must be a UUID string${what === 'correlationId' ? ' or null' : ''}, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
}

/** Value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;       // 0-9
  c |= 0x20;                                   // fold A-F to a-f
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/**
 * Checks a UUID string (8-4-4-4-12 hex digits) and leaves its value in `words`, in one pass
 * with no allocation: messages keep ids as words, parsing only the strings users set.
 */
let sawUpper = false;
function parseUuid(s: string): boolean {
  if (s.length !== 36) return false;
  let w = 0, word = 0, digits = 0;
  sawUpper = false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) { if (c !== 45) return false; continue; }
    if (c >= 65 && c <= 70) sawUpper = true;
    const h = hexValue(c);
    if (h < 0) return false;
    w = (w << 4) | h;
    if (++digits === 8) { words[word++] = w >>> 0; w = 0; digits = 0; }
  }
  return true;
}

const HEX_CODES = Array.from({ length: 16 }, (_, i) => i.toString(16).charCodeAt(0));
/** The char code of the hex digit at bit `shift` of w. */
const hx = (w: number, shift: number) => HEX_CODES[(w >>> shift) & 15]!;

// One String.fromCharCode of 36 codes makes one flat string, 2-3x faster here than joining
// pieces (a getter like messageId is read once per message in a typical stage).
function wordsToUuid(w0: number, w1: number, w2: number, w3: number): string {
  return String.fromCharCode(
    hx(w0, 28), hx(w0, 24), hx(w0, 20), hx(w0, 16), hx(w0, 12), hx(w0, 8), hx(w0, 4), hx(w0, 0), 45,
    hx(w1, 28), hx(w1, 24), hx(w1, 20), hx(w1, 16), 45, hx(w1, 12), hx(w1, 8), hx(w1, 4), hx(w1, 0), 45,
    hx(w2, 28), hx(w2, 24), hx(w2, 20), hx(w2, 16), 45, hx(w2, 12), hx(w2, 8), hx(w2, 4), hx(w2, 0),
    hx(w3, 28), hx(w3, 24), hx(w3, 20), hx(w3, 16), hx(w3, 12), hx(w3, 8), hx(w3, 4), hx(w3, 0));
}

/** Out-parameter of uuid, parseUuid and randomWords (no allocation per message). */
const words = new Uint32Array(4);

// Random ids come from a pool refilled 1024 ids at a time: crypto.randomUUID would cost more
// than the rest of making a message.
const cryptoApi = (globalThis as { crypto?: Crypto }).crypto;
const pool = new Uint32Array(4096); // 1024 ids per refill: a getRandomValues call costs microseconds
let poolAt = pool.length;

/** A random v4 UUID into `words`. */
function randomWords(): void {
  if (poolAt === pool.length) {
    if (typeof cryptoApi?.getRandomValues === 'function') cryptoApi.getRandomValues(pool);
    else for (let i = 0; i < pool.length; i++) pool[i] = (Math.random() * 0x100000000) >>> 0;
    poolAt = 0;
  }
  words[0] = pool[poolAt]!;
  words[1] = (pool[poolAt + 1]! & 0xffff0fff) | 0x4000; // version 4
  words[2] = (pool[poolAt + 2]! & 0x3fffffff) | 0x80000000; // RFC 4122 variant
  words[3] = pool[poolAt + 3]!;
  poolAt += 4;
}

/** A random v4 UUID string. */
export function randomUuid(): string {
  randomWords();
  return wordsToUuid(words[0]!, words[1]!, words[2]!, words[3]!);
}



// ---- the registry: every message class defined in this thread ----

const byName = new Map<string, MessageClass<any>>();
const byId = new Map<number, MessageClass<any>>();
let version = 0;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_KEYS = new Set(['messageId', 'priority', 'correlationId', 'timestamp']);
const RESERVED = new Set(['messageId', 'priority', 'correlationId', 'timestamp', 'constructor', '__proto__', 'prototype']);

/** FNV-1a, 32-bit, over the UTF-16 code units (canonical texts are ASCII). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Header values for the constructor's decode path (decoding is never re-entered). */
const RAW: unique symbol = Symbol('ringkernel.raw');
const raw = { w0: 0, w1: 0, w2: 0, w3: 0, priority: DEFAULT_PRIORITY, hasCorr: false, c0: 0, c1: 0, c2: 0, c3: 0, timestamp: NaN };

/**
 * Makes a message class. Field order is wire order. Defining the same name with the same
 * schema again returns the class already defined; with a different schema it throws.
 */
export function message<S extends Fields>(name: string, fields: S): MessageClass<S> {
  if (typeof name !== 'string' || !IDENT.test(name))
    throw new TypeError(`message: the name must be an identifier (letters, digits, _), got ${JSON.stringify(name)}`);
  if (fields === null || typeof fields !== 'object')
    throw new TypeError(`message ${name}: fields must be an object of t.* field types`);
  const keys = Object.keys(fields);
  for (const k of keys) {
    if (!IDENT.test(k)) throw new TypeError(`message ${name}: field name ${JSON.stringify(k)} is not an identifier (letters, digits, _)`);
    if (RESERVED.has(k)) throw new TypeError(`message ${name}: field name '${k}' is reserved`);
    if (!isFieldType(fields[k])) throw new TypeError(`message ${name}: field '${k}' is not a t.* field type`);
  }
  const canonical = `${name}{${keys.map((k) => `${k}:${fields[k]!.canon}`).join(',')}}`;
  const existing = byName.get(name);
  if (existing) {
    if (existing.canonical === canonical) return existing as unknown as MessageClass<S>;
    throw new TypeError(`message ${name} is already defined with a different schema (${existing.canonical}, now ${canonical})`);
  }
  const typeId = fnv1a(canonical);
  const clash = byId.get(typeId);
  if (clash) throw new TypeError(`message ${name}: its type id ${typeId} collides with ${clash.typeName}'s; rename one of them`);

  const types: FieldType[] = keys.map((k) => fields[k]!);
  const n = keys.length;
  const known = new Set(keys);
  const codec = compileStruct(fields, () => {
    randomWords();
    raw.w0 = words[0]!;
    raw.w1 = words[1]!;
    raw.w2 = words[2]!;
    raw.w3 = words[3]!;
    raw.priority = DEFAULT_PRIORITY;
    raw.hasCorr = false;
    raw.timestamp = NaN;
    return new Cls(RAW);
  });

  const Cls = class extends Message {
    constructor(init: Init<S> | typeof RAW) {
      if (init === RAW) { super(RAW, name); return; }
      if (init === null || typeof init !== 'object')
        throw new TypeError(`${name}: expected an object of fields, got ${init === null ? 'null' : typeof init}`);
      super(init, name);
      const self = this as unknown as Record<string, unknown>;
      const src = init as Record<string, unknown>;
      for (let i = 0; i < n; i++) {
        const k = keys[i]!;
        try { self[k] = types[i]!.check(src[k]); } catch (e) {
          if (e instanceof FieldValueError) {
            const missing = src[k] === undefined && !types[i]!.optional && e.path === '';
            throw new TypeError(`${name}: field '${k}${e.path}': ${missing ? 'missing' : e.detail}`);
          }
          throw e;
        }
      }
      for (const k in src) {
        if (!known.has(k) && !HEADER_KEYS.has(k))
          throw new TypeError(`${name}: unknown field '${k}' (fields: ${keys.join(', ') || 'none'})`);
      }
    }

    static readonly typeId = typeId;
    static readonly typeName = name;
    static readonly schema = Object.freeze({ ...fields });
    static readonly canonical = canonical;
    static readonly [CODEC] = codec;

    static encode(msg: MessageInstance<S>, options?: { timestamp?: number }): Uint8Array {
      if (!(msg instanceof Cls)) throw new TypeError(`${name}.encode: expected a ${name}, got ${describeMessage(msg)}`);
      return encode(msg, options?.timestamp);
    }

    static decode(bytes: Uint8Array | ArrayBuffer): MessageInstance<S> {
      const u8 = asBytes(bytes, name);
      validate(u8, typeId, name);
      return decodeFrom(staged.u8, staged.dv, staged.offset, u8.length, Cls as unknown as MessageClass<S>);
    }
  };
  Object.defineProperty(Cls, 'name', { value: name });
  const C = Cls as unknown as MessageClass<S>;
  byName.set(name, C);
  byId.set(typeId, C);
  version++;
  return C;
}

function describeMessage(v: unknown): string {
  if (v instanceof Message) return (v.constructor as MessageClass).typeName;
  if (v === null) return 'null';
  return typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
}

function asBytes(bytes: unknown, who: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError(`${who}: expected a Uint8Array of record bytes, got ${describeMessage(bytes)}`);
}

/** The class defined for a type id in this thread, if any. */
export function messageClassById(typeId: number): MessageClass | undefined { return byId.get(typeId); }
/** The class defined under a name in this thread, if any. */
export function messageClassByName(name: string): MessageClass | undefined { return byName.get(name); }

// ---- encoding ----

/**
 * Writes `msg` as one record at `offset`, using no bytes at or past `limit`. Returns the
 * record's length in bytes; when it does not fit, returns minus the length it needs (and
 * the bytes in [offset, limit) are garbage), so the caller can grow its buffer or throw
 * MessageTooLargeError. `timestamp` defaults to now (ms since the Unix epoch).
 */
export function encodeInto(msg: Message, u8: Uint8Array, dv: DataView, offset: number, limit: number, timestamp: number = now()): number {
  const codec = (msg.constructor as MessageClass)[CODEC];
  if (codec === undefined) throw new TypeError(`encodeInto: expected a message, got ${describeMessage(msg)}`);
  const start = offset + HEADER_BYTES;
  const end = start <= limit ? codec.write(msg, u8, dv, start, limit) : -1;
  if (end < 0) return -(HEADER_BYTES + codec.size(msg));
  dv.setUint32(offset + H_TYPE, (msg.constructor as MessageClass).typeId, true);
  dv.setUint32(offset + H_PAYLOAD, end - start, true);
  dv.setFloat64(offset + H_TIME, timestamp, true);
  const h = msg[HDR];
  dv.setUint32(offset + H_ID, h.w0, false);
  dv.setUint32(offset + H_ID + 4, h.w1, false);
  dv.setUint32(offset + H_ID + 8, h.w2, false);
  dv.setUint32(offset + H_ID + 12, h.w3, false);
  const corr = h.hasCorr;
  dv.setUint32(offset + H_CORR, corr ? h.c0 : 0, false);
  dv.setUint32(offset + H_CORR + 4, corr ? h.c1 : 0, false);
  dv.setUint32(offset + H_CORR + 8, corr ? h.c2 : 0, false);
  dv.setUint32(offset + H_CORR + 12, corr ? h.c3 : 0, false);
  // priority, flags, version, then five reserved zero bytes
  u8[offset + H_PRIORITY] = h.priority;
  u8[offset + H_FLAGS] = corr ? FLAG_CORRELATION : 0;
  u8[offset + H_VERSION] = WIRE_VERSION;
  u8[offset + 51] = 0;
  dv.setUint32(offset + 52, 0, true);
  return end - offset;
}

/** Encoded size of `msg` in bytes, header included. */
export function encodedSize(msg: Message): number {
  return HEADER_BYTES + (msg.constructor as MessageClass)[CODEC].size(msg);
}

let buf = new Uint8Array(4096);
let bufView = new DataView(buf.buffer);

function encode(msg: Message, timestamp: number = now()): Uint8Array {
  let n = encodeInto(msg, buf, bufView, 0, buf.length, timestamp);
  if (n < 0) {
    buf = new Uint8Array(2 ** Math.ceil(Math.log2(-n)));
    bufView = new DataView(buf.buffer);
    n = encodeInto(msg, buf, bufView, 0, buf.length, timestamp);
  }
  return buf.slice(0, n);
}

/** The record of any message (RawData.encode(msg) does the same for one type). */
export function encodeMessage(msg: Message, options?: { timestamp?: number }): Uint8Array {
  if (!(msg instanceof Message)) throw new TypeError(`encodeMessage: expected a message, got ${describeMessage(msg)}`);
  return encode(msg, options?.timestamp);
}

// ---- decoding ----

/** Header fields of a record, without decoding it (the ring plumbing routes on these). */
export function recordTypeId(dv: DataView, offset: number): number { return dv.getUint32(offset + H_TYPE, true); }
export function recordPriority(u8: Uint8Array, offset: number): number { return u8[offset + H_PRIORITY]!; }
export function recordTimestamp(dv: DataView, offset: number): number { return dv.getFloat64(offset + H_TIME, true); }

/**
 * Decodes the record of `length` bytes at `offset`, written by encodeInto (trusted: only
 * cheap bounds checks, no validation). Throws MessageDecodeError for an unknown type id,
 * one other than `expected`'s, or bytes that do not decode.
 */
export function decodeFrom<M extends Message = Message>(u8: Uint8Array, dv: DataView, offset: number, length: number,
  expected?: { readonly typeId: number; readonly typeName: string; new (...a: any[]): M }): M {
  if (length < HEADER_BYTES) throw new MessageDecodeError(`${expected?.typeName ?? 'decodeFrom'}: record is ${length} bytes, shorter than the 56-byte header`, { offset: 0 });
  const typeId = dv.getUint32(offset + H_TYPE, true);
  const C = byId.get(typeId);
  const who = expected?.typeName ?? C?.typeName ?? 'decodeFrom';
  if (C === undefined || (expected !== undefined && C.typeId !== expected.typeId)) {
    const what = C === undefined ? `unknown type id ${typeId}` : `a ${C.typeName} record`;
    throw new MessageDecodeError(`${who}: ${what}${expected ? `, not a ${expected.typeName}` : ''}`, { offset: 0 });
  }
  const end = offset + length;
  setPos(offset);
  try {
    if (HEADER_BYTES + dv.getUint32(offset + H_PAYLOAD, true) !== length) throw new DecodeFault('payload length disagrees with the record length');
    raw.w0 = dv.getUint32(offset + H_ID, false);
    raw.w1 = dv.getUint32(offset + H_ID + 4, false);
    raw.w2 = dv.getUint32(offset + H_ID + 8, false);
    raw.w3 = dv.getUint32(offset + H_ID + 12, false);
    raw.priority = u8[offset + H_PRIORITY]!;
    raw.hasCorr = (u8[offset + H_FLAGS]! & FLAG_CORRELATION) !== 0;
    raw.c0 = dv.getUint32(offset + H_CORR, false);
    raw.c1 = dv.getUint32(offset + H_CORR + 4, false);
    raw.c2 = dv.getUint32(offset + H_CORR + 8, false);
    raw.c3 = dv.getUint32(offset + H_CORR + 12, false);
    raw.timestamp = dv.getFloat64(offset + H_TIME, true);
    const m = new (C as unknown as new (r: typeof RAW) => M)(RAW);
    setPos(offset + HEADER_BYTES);
    C[CODEC].read(m, u8, dv, end);
    if (getPos() !== end) throw new DecodeFault(`payload ends at offset ${getPos() - offset}, not at the record's end (${length})`);
    return m;
  } catch (e) {
    if (e instanceof MessageDecodeError) throw e;
    const detail = e instanceof Error ? e.message : String(e);
    throw new MessageDecodeError(`${who}: ${detail}`, { offset: getPos() - offset, cause: e });
  }
}

/**
 * Validates (wasm core) and decodes a record of any message type defined in this thread.
 * Needs the core: `await ready` first.
 */
export function decodeMessage(bytes: Uint8Array | ArrayBuffer): Message {
  const u8 = asBytes(bytes, 'decodeMessage');
  validate(u8, null, null);
  return decodeFrom(staged.u8, staged.dv, staged.offset, u8.length);
}

// ---- the schema table the core validates against (layout: assembly/codec.ts) ----

/** The table for `classes` (by default every class defined in this thread, in definition order). */
export function buildSchemaTable(classes: readonly MessageClass<any>[] = [...byId.values()]): Uint8Array {
  let slots = 8;
  while (slots < classes.length * 2) slots *= 2;
  const out: number[] = [];
  const u32 = (n: number) => { out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24); };
  const setU32 = (at: number, n: number) => { out[at] = n & 0xff; out[at + 1] = (n >>> 8) & 0xff; out[at + 2] = (n >>> 16) & 0xff; out[at + 3] = n >>> 24; };
  u32(slots);
  u32(classes.length);
  for (let i = 0; i < slots * 2; i++) u32(0);
  // insertion in definition order keeps the table deterministic (golden vectors check it)
  for (const C of classes) {
    const at = out.length;
    u32(C.typeId);
    u32(Object.keys(C.schema).length);
    C[CODEC].descriptor(out);
    let i = C.typeId & (slots - 1);
    while (out[8 + i * 8 + 4] !== 0 || out[8 + i * 8 + 5] !== 0 || out[8 + i * 8 + 6] !== 0 || out[8 + i * 8 + 7] !== 0) i = (i + 1) & (slots - 1);
    setU32(8 + i * 8, C.typeId);
    setU32(8 + i * 8 + 4, at);
  }
  return Uint8Array.from(out);
}

setSchemaSource({
  get version() { return version; },
  table: buildSchemaTable,
  typeName: (id) => byId.get(id)?.typeName,
  fieldName: (id, i) => { const C = byId.get(id); return C ? Object.keys(C.schema)[i] : undefined; },
});

