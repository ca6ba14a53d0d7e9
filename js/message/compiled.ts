// compiled.ts — a message class's field accessors, compiled from source once per class.
//
// Why: the codec and the checked constructor are composed from closures that every class
// shares (schema.ts, message.ts). V8 keeps type feedback per function literal, so a loop
// such as `m[keys[i]] = readers[i](...)` sees the fields and the shapes of every class in the
// program: its property accesses and calls turn megamorphic, each a lookup in a global
// cache. A function compiled for one class (`m.values = r0(u8, dv, end)`) is a function of
// its own, with feedback of its own: one shape, one callee, inlined. Measured here on the
// inline streaming benchmark's parts (make, encode and decode of a message): see
// docs/BENCHMARKS.md.
//
// Safe to compile: field names are identifiers (message() checks them against
// /^[A-Za-z_][A-Za-z0-9_]*$/ and refuses reserved ones) and everything else is passed in as
// arguments, never spliced into the source.
//
// Where code cannot be made from strings (workerd; a page whose Content-Security-Policy lacks
// 'unsafe-eval'), or with RINGKERNEL_CODEGEN=0 in the environment, every class uses the shared
// loops instead: the same semantics, each suite runs them (workerd always; Node with the
// variable set, tests/run.mjs), only slower.
import type { FieldType, Writer, Reader, StructCodec } from './schema.js';
import { CORRELATION, ID_COUNT, ID_PREFIX, ID_TEXT, PRIORITY, SENT_AT } from './header.js';

function codegenAllowed(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.RINGKERNEL_CODEGEN === '0') return false;
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false; // EvalError: code generation from strings is disallowed here
  }
}

/** Whether message classes get compiled accessors in this realm. */
export const compiling = codegenAllowed();

export interface CompiledAccessors {
  write: Writer<object>;
  read(target: object, u8: Uint8Array, dv: DataView, end: number): void;
  /**
   * The checked constructor's fields: `self.k = check_k(src.k)` for each, then every key of
   * `src` must be a field or a header option. False when anything is wrong (a check threw, a
   * key is unknown): the caller then runs its own loop, which throws the error that names it.
   */
  assign(self: object, src: object): boolean;
  /**
   * The class itself, its constructor compiled for it: its allocation, its header's store
   * and its fields' are then sites of one class each, which V8 inlines where `new C(...)`
   * is written (a constructor shared by every class allocated through the generic path:
   * 52 ns to decode-construct a one-field message here, against 16 ns with its own).
   */
  makeClass(base: new () => object, typeName: string, parts: ClassParts): new (init: unknown) => object;
  /** The class's record encoder and decoder (js/message/encode.ts recordEncoder, decode.ts recordDecoder), compiled for it. */
  recordCodec(C: new (r: symbol) => object, codec: StructCodec, parts: RecordParts): Pick<StructCodec, 'encodeRecord' | 'decodeRecord'>;
}

/** What a class's record encoder and decoder call (js/message/encode.ts, decode.ts, schema.ts). */
export interface RecordParts {
  RAW: symbol;
  typeId: number;
  headerBytes: number;
  writeHeader(prefix: object, count: number, priority: number, corr: object | null, typeId: number, payloadBytes: number, timestamp: number, u8: Uint8Array, dv: DataView, offset: number): void;
  readHeader(u8: Uint8Array, dv: DataView, offset: number, length: number): void;
  setPos(p: number): void;
  getPos(): number;
  payloadEndFault(offset: number, length: number): Error;
}

/** What a message class's constructor calls (js/message/message.ts, js/message/header.ts). */
export interface ClassParts {
  RAW: symbol;
  /** The header values the constructor stores (js/message/header.ts `raw`). */
  raw: object;
  /** Leaves the header of `new C(init)` in `raw`. */
  headerOf(init: object, typeName: string): void;
  notFields(init: unknown): Error;
  /** Sets the fields from `src`, checked, or throws the error that names what is wrong. */
  checkFields(self: object, src: object): void;
}

const args = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Accessors for a class with these fields (in wire order), or null where nothing is compiled. */
export function compileAccessors(keys: readonly string[], types: readonly FieldType[], headerKeys: readonly string[]): CompiledAccessors | null {
  if (!compiling) return null;
  const n = keys.length;
  const w = args('w', n), r = args('r', n), c = args('c', n);
  const write = new Function(...w, `return function write(m, u8, dv, p, lim) {
${keys.map((k, i) => `  p = w${i}(m.${k}, u8, dv, p, lim);\n  if (p < 0) return p;`).join('\n')}
  return p;
};`)(...types.map((f) => f.write)) as Writer<object>;
  const read = new Function(...r, `return function read(m, u8, dv, end) {
${keys.map((k, i) => `  m.${k} = r${i}(u8, dv, end);`).join('\n')}
};`)(...types.map((f) => f.read as Reader<unknown>)) as CompiledAccessors['read'];
  const cases = [...keys, ...headerKeys].map((k) => `case ${JSON.stringify(k)}:`).join(' ');
  const assign = new Function(...c, `return function assign(self, src) {
  try {
${keys.map((k, i) => `    self.${k} = c${i}(src.${k});`).join('\n')}
  } catch {
    return false;
  }
  for (const k in src) switch (k) { ${cases} break; default: return false; }
  return true;
};`)(...types.map((f) => f.check)) as CompiledAccessors['assign'];
  // message.ts's shared constructor, line for line, but for `assign`. The class's name is
  // in the source: one set at run time (defineProperty, or a computed key's naming) left
  // V8 constructing the class the slow way, 130-200 ns a message against 3 here. Parameters
  // start with `$`, which no message name has, so the name shadows none of them; a name
  // that cannot name a class (a reserved word) gets it at run time instead.
  const classSource = (className: string) => `return class ${className} extends $Base {
  constructor(init) {
    super();
    if (init !== $RAW) {
      if (init === null || typeof init !== 'object') throw $notFields(init);
      $headerOf(init, $typeName);
    }
    this[$ID_PREFIX] = $raw.prefix;
    this[$ID_COUNT] = $raw.count;
    this[$ID_TEXT] = $raw.text;
    this[$PRIORITY] = $raw.priority;
    this[$CORRELATION] = $raw.corr;
    this[$SENT_AT] = $raw.timestamp;
    if (init !== $RAW && !$assign(this, init)) $checkFields(this, init);
  }
};`;
  const makeClass = (base: new () => object, typeName: string, p: ClassParts) => {
    const params = ['$Base', '$RAW', '$raw', '$headerOf', '$notFields', '$checkFields', '$assign', '$typeName',
      '$ID_PREFIX', '$ID_COUNT', '$ID_TEXT', '$PRIORITY', '$CORRELATION', '$SENT_AT'];
    const args = [base, p.RAW, p.raw, p.headerOf, p.notFields, p.checkFields, assign, typeName,
      ID_PREFIX, ID_COUNT, ID_TEXT, PRIORITY, CORRELATION, SENT_AT];
    try {
      return new Function(...params, classSource(typeName))(...args);
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      const C = new Function(...params, classSource(''))(...args);
      Object.defineProperty(C, 'name', { value: typeName });
      return C;
    }
  };
  // encode.ts's recordEncoder and decode.ts's recordDecoder, line for line
  const recordCodec = (C: new (r: symbol) => object, codec: StructCodec, p: RecordParts) => new Function('C', 'write', 'read', 'size', 'ID_PREFIX', 'ID_COUNT', 'PRIORITY', 'CORRELATION', 'RAW', 'typeId', 'HEADER_BYTES', 'writeHeader', 'readHeader', 'setPos', 'getPos', 'payloadEndFault',
    `return {
  encodeRecord(msg, u8, dv, offset, limit, timestamp) {
    const start = offset + HEADER_BYTES;
    const end = start <= limit ? write(msg, u8, dv, start, limit) : -1;
    if (end < 0) return -(HEADER_BYTES + size(msg));
    writeHeader(msg[ID_PREFIX], msg[ID_COUNT], msg[PRIORITY], msg[CORRELATION], typeId, end - start, timestamp, u8, dv, offset);
    return end - offset;
  },
  decodeRecord(u8, dv, offset, length) {
    readHeader(u8, dv, offset, length);
    const m = new C(RAW);
    setPos(offset + HEADER_BYTES);
    read(m, u8, dv, offset + length);
    if (getPos() !== offset + length) throw payloadEndFault(offset, length);
    return m;
  },
};`)(C, write, read, codec.size, ID_PREFIX, ID_COUNT, PRIORITY, CORRELATION, p.RAW, p.typeId, p.headerBytes, p.writeHeader, p.readHeader, p.setPos, p.getPos, p.payloadEndFault);
  return { write, read, assign, makeClass, recordCodec };
}
