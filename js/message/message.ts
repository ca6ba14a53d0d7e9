// message.ts — message classes: `message(name, fields)` makes one, with a checked
// constructor and a codec composed once from its schema, and registers it. The record
// format (56-byte header, then the payload in field order) is docs/wire-format.md; the
// payload codec is js/message/schema.ts, encoding js/message/encode.ts, decoding js/message/decode.ts.
import { compileStruct, FieldValueError, isFieldType, getPos, setPos, type Fields, type FieldType, type InputOf, type StructCodec, type ValueOf, CODEC } from './schema.js';
import { staged, validate } from '../core/codec-core.js';
import { fnv1a } from './hash.js';
import { DEFAULT_PRIORITY, HEADER_BYTES } from './record.js';
import { CORRELATION, ID_COUNT, ID_PREFIX, ID_TEXT, PRIORITY, RAW, SENT_AT, raw, checkPriority, correlationOf, headerOf, NO_OPTIONS, type Correlation } from './header.js';
import { idCount, idPrefix, idText, rememberId, uuid, type IdPrefix } from './uuid.js';
import { messageClassById, messageClassByName, registerMessageClass } from './message-registry.js';
import { encode, recordEncoder, writeHeader } from './encode.js';
import { asBytes, decodeFrom, payloadEndFault, readHeader, recordDecoder } from './decode.js';
import { MessageNestingError } from '../errors.js';
import { compileAccessors } from './compiled.js';
import { keepShape } from './shape.js';

export interface MessageOptions {
  /** 0..255, higher is received first; default 128. */
  priority?: number;
  /** The messageId of the message this one answers, or null. */
  correlationId?: string | null;
  /** A UUID; by default a new v4 one: this thread's random prefix and a counter (js/message/uuid.ts). */
  messageId?: string;
}

type OptionalKeys<S extends Fields> = { [K in keyof S]: S[K] extends { readonly optional: true } | { readonly hasDefault: true } ? K : never }[keyof S];
export type Values<S extends Fields> = { -readonly [K in keyof S]: ValueOf<S[K]> };
export type Init<S extends Fields> =
  & { [K in Exclude<keyof S, OptionalKeys<S>>]: InputOf<S[K]> }
  & { [K in OptionalKeys<S>]?: InputOf<S[K]> }
  & MessageOptions;

/** What every message has, whatever its fields (header values are accessors; fields are own properties). */
export class Message {
  // The header's slots (js/message/header.ts). `declare`: assigned in each class's
  // constructor only; a field definition would run in an initializer that turns slow once
  // many message classes share this base.
  declare [ID_PREFIX]: IdPrefix;
  declare [ID_COUNT]: number;
  declare [ID_TEXT]: string | null;
  declare [PRIORITY]: number;
  declare [CORRELATION]: Correlation | null;
  declare [SENT_AT]: number | null;

  // No constructor: each class's own sets the header (js/message/compiled.ts says why).

  /** UUID (lowercase). */
  get messageId(): string {
    const s = this[ID_TEXT] ?? (this[ID_TEXT] = idText(this[ID_PREFIX], this[ID_COUNT]));
    rememberId(s, this[ID_PREFIX], this[ID_COUNT]); // `correlationId: m.messageId` then takes its parts without parsing
    return s;
  }

  set messageId(v: string) {
    const s = uuid(v, this.constructor.name, 'messageId');
    this[ID_PREFIX] = idPrefix;
    this[ID_COUNT] = idCount;
    this[ID_TEXT] = s;
  }

  /** 0..255, higher first (checked when set). */
  get priority(): number { return this[PRIORITY]; }
  set priority(p: number) { this[PRIORITY] = checkPriority(p, this.constructor.name); }

  /** UUID of the message this one answers, or null (checked when set). */
  get correlationId(): string | null {
    const c = this[CORRELATION];
    return c === null ? null : (c.text ??= idText(c.prefix, c.count));
  }
  set correlationId(c: string | null) {
    this[CORRELATION] = c === null || c === undefined ? null : correlationOf(uuid(c, this.constructor.name, 'correlationId'));
  }

  /** Header values first, then the fields. */
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = { messageId: this.messageId, priority: this.priority, correlationId: this.correlationId };
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

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Only these three header values are properties of a message; the send time the record
// carries is read with sentAt(m), so a field may be called `timestamp` (PyDotCompute's
// messages often have one).
const HEADER_KEYS = new Set(['messageId', 'priority', 'correlationId']);
const RESERVED = new Set(['messageId', 'priority', 'correlationId', 'constructor', '__proto__', 'prototype']);



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
  const existing = messageClassByName(name);
  if (existing) {
    if (existing.canonical === canonical) return existing as unknown as MessageClass<S>;
    throw new TypeError(`message ${name} is already defined with a different schema (${existing.canonical}, now ${canonical})`);
  }
  const nesting = Math.max(0, ...keys.map((k) => nestingOf(fields[k]!)));
  if (nesting > MAX_NESTING) {
    throw new MessageNestingError(`message ${name}: its messages would be nested ${nesting} deep (t.message inside t.message), over the limit of ${MAX_NESTING} that encode and decode both apply`,
      { operation: 'define', depth: nesting, limit: MAX_NESTING });
  }
  const typeId = fnv1a(canonical);
  const clash = messageClassById(typeId);
  if (clash) throw new TypeError(`message ${name}: its type id ${typeId} collides with ${clash.typeName}'s; rename one of them`);

  const types: FieldType[] = keys.map((k) => fields[k]!);
  const n = keys.length;
  const known = new Set(keys);
  const accessors = compileAccessors(keys, types, [...HEADER_KEYS]);
  const codec = compileStruct(fields, () => {
    headerOf(NO_OPTIONS, name);
    return new Cls(RAW);
  }, accessors);

  /** Sets the fields from `init`, checked; throws the TypeError that names what is wrong. */
  const checkFields = (self: Record<string, unknown>, src: Record<string, unknown>): void => {
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
  };
  const notFields = (init: unknown) => new TypeError(`${name}: expected an object of fields, got ${init === null ? 'null' : typeof init}`);
  // compiled for this class where code may be compiled (js/message/compiled.ts); else the
  // same constructor, shared by every class
  const Cls = (accessors?.makeClass(Message, name, { RAW, raw, headerOf, notFields, checkFields })
    ?? { [name]: class extends Message {
      constructor(init: Init<S> | typeof RAW) {
        super();
        if (init !== RAW) {
          if (init === null || typeof init !== 'object') throw notFields(init);
          headerOf(init, name);
        }
        this[ID_PREFIX] = raw.prefix!;
        this[ID_COUNT] = raw.count;
        this[ID_TEXT] = raw.text;
        this[PRIORITY] = raw.priority;
        this[CORRELATION] = raw.corr;
        this[SENT_AT] = raw.timestamp;
        if (init !== RAW) checkFields(this as unknown as Record<string, unknown>, init as Record<string, unknown>);
      }
    } }[name]!) as unknown as { new (init: Init<S> | typeof RAW): MessageInstance<S> } & Record<string | symbol, unknown>;
  Object.assign(Cls, {
    typeId,
    /** How deep its messages nest: 0 without t.message fields, else 1 + the deepest nested class's. */
    nesting,
    typeName: name,
    schema: Object.freeze({ ...fields }),
    canonical,
    [CODEC]: codec,
  });
  const statics = {
    encode(msg: MessageInstance<S>, options?: { timestamp?: number }): Uint8Array {
      if (!(msg instanceof Cls)) throw new TypeError(`${name}.encode: expected a ${name}, got ${describeMessage(msg)}`);
      return encode(msg, options?.timestamp);
    },
    decode(bytes: Uint8Array | ArrayBuffer): MessageInstance<S> {
      const u8 = asBytes(bytes, name);
      validate(u8, typeId, name);
      return decodeFrom(staged.u8, staged.dv, staged.offset, u8.length, Cls as unknown as MessageClass<S>);
    },
  };
  for (const k of ['encode', 'decode'] as const) Object.defineProperty(Cls, k, { value: statics[k], writable: true, configurable: true });
  Object.assign(codec, accessors?.recordCodec(Cls as unknown as new (r: symbol) => object, codec,
    { RAW, typeId, headerBytes: HEADER_BYTES, writeHeader, readHeader, setPos, getPos, payloadEndFault })
    ?? { encodeRecord: recordEncoder(codec, typeId), decodeRecord: recordDecoder(Cls as unknown as new (r: typeof RAW) => object, codec) });
  const C = Cls as unknown as MessageClass<S>;
  registerMessageClass(C);
  keepShape(Cls as unknown as new (r: typeof RAW) => object, keys, types);
  return C;
}

/**
 * The deepest nesting of messages a record may have, counted from the top-level message (0):
 * the wasm validator's limit (assembly/codec.ts MAX_DEPTH), applied when a class is defined.
 */
export const MAX_NESTING = 64;

function nestingOf(f: FieldType): number {
  if (f.kind === 'message') return 1 + ((f.messageClass as { nesting?: number } | undefined)?.nesting ?? 0);
  return f.element ? nestingOf(f.element) : 0;
}

/** A value as an error message names it: a message by its type name. */
export function describeMessage(v: unknown): string {
  if (v instanceof Message) return (v.constructor as MessageClass).typeName;
  if (v === null) return 'null';
  return typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
}

/**
 * When a message was sent (encoded into its record), in ms since the Unix epoch, as the
 * record's header says; NaN for a message made here and never decoded. A function, not a
 * property, so that no field name is taken.
 */
export function sentAt(msg: Message): number {
  if (!(msg instanceof Message)) throw new TypeError(`sentAt: expected a message, got ${describeMessage(msg)}`);
  return msg[SENT_AT] ?? NaN;
}
