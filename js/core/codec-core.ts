// codec-core.ts — validation of untrusted records by the wasm core (assembly/codec.ts).
// There is one validator, in the core; JS only stages the bytes, calls it and turns its
// error report into a MessageDecodeError that names the message, the field and the offset.
//
// decode() is synchronous, so a core must be loaded when it runs: a runtime hands over its
// own core (installValidator) at its first launch; otherwise the first decode compiles a
// private single-thread core synchronously (it is small; core.ts compileCoreSync). Importing
// ringkernel makes no core. Only where a synchronous compile is refused (a browser's main
// thread may) does decoding need `await ready`, which loads the core asynchronously.

import { createCore, createCoreSync, OwnerCore, type Core } from './core.js';
import { BackendNotAvailableError, MessageDecodeError } from '../errors.js';

/** Error codes of codec_validate; the same numbers as assembly/codec.ts CODEC_E_*. */
export const CodecError = {
  SHORT_HEADER: -1, UNKNOWN_TYPE: -2, WRONG_TYPE: -3, LENGTH_MISMATCH: -4, BAD_VERSION: -5,
  BAD_FLAGS: -6, RESERVED: -7, BAD_CORRELATION: -8, BAD_TIMESTAMP: -9, TRUNCATED: -10,
  LENGTH_EXCEEDS: -11, BAD_BOOL: -12, BAD_TAG: -13, BAD_UTF8: -14, TRAILING: -15,
  TOO_DEEP: -16, BAD_SCHEMA: -17, BAD_JSON_TAG: -18, BAD_NUMBER: -19, JSON_TOO_DEEP: -20,
} as const;

/** What the validator needs to know about the messages defined so far (js/message/message-registry.ts). */
export interface SchemaSource {
  /** Changes whenever a message is defined. */
  readonly version: number;
  /** The schema table, laid out as assembly/codec.ts describes. */
  table(): Uint8Array;
  typeName(typeId: number): string | undefined;
  fieldName(typeId: number, index: number): string | undefined;
}

interface Validator {
  core: Core;
  alloc: (bytes: number) => number;
  free: (ptr: number) => void;
  table: number;
  tableCap: number;
  tableVersion: number;
  /** [report: 64 bytes][staged record: areaCap - 64 bytes] */
  area: number;
  areaCap: number;
  validate: (table: number, rec: number, len: number, expected: number, flags: number, out: number) => number;
}

const REPORT = 64;
let source: SchemaSource | null = null;
let validator: Validator | null = null;

export function setSchemaSource(s: SchemaSource): void { source = s; }

let settle!: (error?: unknown) => void;
const settled = new Promise<void>((resolve, reject) => {
  settle = (error) => (error === undefined ? resolve() : reject(error));
});
settled.catch(() => {}); // nobody awaiting it is not an unhandled rejection

let privateCoreStarted = false;
/**
 * Loads a private single-thread core to validate with, unless this thread has a validator
 * already (a runtime's core, or one installValidator was given). Only `ready` asks for it:
 * importing ringkernel makes no core, so a thread with a runtime (or a pool worker, which
 * validates nothing) has no second one.
 */
function startPrivateCore(): void {
  if (privateCoreStarted || validator) return;
  privateCoreStarted = true;
  if (syncValidator()) return;
  void (async () => {
    try {
      const core = await createCore({ shared: false });
      if (!validator) installValidator(core);
      settle();
    } catch (e) {
      if (validator) settle();
      else settle(new BackendNotAvailableError('ringkernel: could not load the wasm core that validates untrusted messages', { cause: e }));
    }
  })();
}

/**
 * Settles once a validator is in place. `await ready` before decoding untrusted bytes (a
 * runtime's first launch installs its core too). Rejects with BackendNotAvailableError when
 * the wasm core cannot be loaded here. Awaiting it (then, catch, finally) is what loads a
 * private core where there is no validator yet.
 */
export const ready: Promise<void> = {
  then(onFulfilled, onRejected) { startPrivateCore(); return settled.then(onFulfilled, onRejected); },
  catch(onRejected) { startPrivateCore(); return settled.catch(onRejected); },
  finally(onFinally) { startPrivateCore(); return settled.finally(onFinally); },
  [Symbol.toStringTag]: 'Promise',
} as Promise<void>;

/**
 * Makes `core` the validator of this thread: its schema table and staging area are carved
 * with `alloc` (by default the core's own allocator, when it is an OwnerCore).
 */
export function installValidator(core: Core, alloc?: (bytes: number) => number, free?: (ptr: number) => void): void {
  const validate = core.x['codec_validate'];
  if (typeof validate !== 'function')
    throw new BackendNotAvailableError('ringkernel: this wasm core has no codec (rebuild it with `npm run build`)');
  if (!alloc) {
    if (!(core instanceof OwnerCore)) throw new TypeError('installValidator: pass an allocator for a core that is not an OwnerCore');
    alloc = (n) => core.alloc(n);
    free ??= (p) => core.free(p);
  }
  const old = validator;
  validator = {
    core, alloc, free: free ?? (() => {}),
    table: 0, tableCap: 0, tableVersion: -1, area: 0, areaCap: 0,
    validate: validate as Validator['validate'],
  };
  if (old && old.core === core) {
    if (old.table) old.free(old.table);
    if (old.area) old.free(old.area);
  }
  settle();
}

/** The validator's memory after validate(): the record sits at `offset`. */
export const staged: { u8: Uint8Array; dv: DataView; offset: number } = { u8: new Uint8Array(0), dv: new DataView(new ArrayBuffer(0)), offset: 0 };

/**
 * Copies `bytes` into the core and validates them as a record of type `expected` (or of
 * any defined type when expected is null); throws MessageDecodeError when they are not.
 * On success the copy is described by `staged`.
 */
/** Installs a private core as the validator, synchronously; false where that cannot be done here. */
function syncValidator(): boolean {
  const core = createCoreSync();
  if (!core) return false;
  installValidator(core);
  return true;
}

export function validate(bytes: Uint8Array, expected: number | null, expectedName: string | null): void {
  if (!validator) syncValidator();
  const v = validator;
  if (!v) throw new BackendNotAvailableError('ringkernel: the wasm core that validates untrusted messages is not loaded yet: `await ready` (exported by ringkernel) before decoding');
  if (!source) throw new BackendNotAvailableError('ringkernel: no message types are defined');
  const core = v.core;
  if (v.tableVersion !== source.version) {
    const table = source.table();
    if (table.length > v.tableCap) {
      if (v.table) v.free(v.table);
      v.table = v.alloc(table.length);
      v.tableCap = table.length;
    }
    core.cover(v.table + table.length);
    core.mem.set(table, v.table);
    v.tableVersion = source.version;
  }
  if (REPORT + bytes.length > v.areaCap) {
    if (v.area) v.free(v.area);
    v.areaCap = Math.max(REPORT + bytes.length, 4096);
    v.area = v.alloc(v.areaCap);
  }
  const rec = v.area + REPORT;
  core.cover(rec + bytes.length);
  const u8 = core.mem;
  u8.set(bytes, rec);
  const code = v.validate(v.table, rec, bytes.length, expected ?? 0, expected === null ? 1 : 0, v.area);
  const dv = core.dv;
  if (code !== 0) throw decodeError(dv, v.area, expectedName);
  staged.u8 = u8;
  staged.dv = dv;
  staged.offset = rec;
}

const KIND = ['?', 'f64', 'f32', 'i32', 'u32', 'bool', 'string', 'bytes', 'array', 'fixed array', 'optional', 'message', 'tuple', 'json value'];
const bytesWord = (n: number) => `${n} byte${n === 1 ? '' : 's'}`;
const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/** Turns the core's error report at `out` into a MessageDecodeError. */
function decodeError(dv: DataView, out: number, expectedName: string | null): MessageDecodeError {
  const code = dv.getInt32(out, true);
  const at = dv.getUint32(out + 4, true);
  const value = dv.getUint32(out + 8, true);
  const left = dv.getUint32(out + 12, true);
  const typeId = dv.getUint32(out + 16, true);
  const field = dv.getInt32(out + 20, true);
  const top = dv.getInt32(out + 24, true);
  const kind = KIND[dv.getUint32(out + 28, true)] ?? '?';
  const s = source!;
  // the record's own type (not known when the header is too short to hold it)
  const recordId = code === CodecError.SHORT_HEADER ? undefined : dv.getUint32(out + REPORT, true);
  const recordName = recordId === undefined ? undefined : s.typeName(recordId);
  const who = expectedName ?? recordName ?? 'decodeMessage';
  let where = '';
  if (top >= 0 && recordId !== undefined) {
    where = `field '${s.fieldName(recordId, top) ?? top}'`;
    if (typeId !== recordId) where += ` (${s.typeName(typeId) ?? hex(typeId)}.${s.fieldName(typeId, field) ?? field})`;
    where += ': ';
  }
  let what: string;
  switch (code) {
    case CodecError.SHORT_HEADER: what = `record is ${bytesWord(value)}, shorter than the 56-byte header`; break;
    case CodecError.UNKNOWN_TYPE: what = `unknown type id ${hex(value)} at offset 0 (no message with that id is defined in this thread)`; break;
    case CodecError.WRONG_TYPE: what = `record holds ${s.typeName(value) ?? '?'} (type id ${hex(value)}), not ${expectedName}`; break;
    case CodecError.LENGTH_MISMATCH: what = `header says the payload is ${bytesWord(value)} but ${bytesWord(left)} follow the header (payload length at offset 4)`; break;
    case CodecError.BAD_VERSION: what = `wire format version ${value} at offset 50 is not supported (this build reads version 1)`; break;
    case CodecError.BAD_FLAGS: what = `unknown flag bits ${'0x' + (value & ~1).toString(16)} at offset 49`; break;
    case CodecError.RESERVED: what = `reserved header byte at offset ${at} is ${value}, not 0`; break;
    case CodecError.BAD_CORRELATION: what = 'correlation id bytes at offset 32 are not zero but the has-correlation flag is clear'; break;
    case CodecError.BAD_TIMESTAMP: what = 'timestamp at offset 8 is not a finite number'; break;
    case CodecError.TRUNCATED:
      what = kind === 'fixed array'
        ? `fixed array of ${value} elements does not fit in the ${bytesWord(left)} left at offset ${at}`
        : `${kind} needs ${bytesWord(value)} at offset ${at} but only ${left} ${left === 1 ? 'is' : 'are'} left`;
      break;
    case CodecError.LENGTH_EXCEEDS: what = `${kind} length ${value} exceeds the ${bytesWord(left)} left after its length prefix at offset ${at}`; break;
    case CodecError.BAD_BOOL: what = `bool byte ${value} at offset ${at} is not 0 or 1`; break;
    case CodecError.BAD_TAG: what = `optional tag ${value} at offset ${at} is not 0 (absent) or 1 (present)`; break;
    case CodecError.BAD_UTF8: what = `string is not well-formed UTF-8 (sequence starting with byte 0x${value.toString(16)} at offset ${at})`; break;
    case CodecError.TRAILING: what = `${bytesWord(value)} left over after the last field at offset ${at}`; break;
    case CodecError.TOO_DEEP: what = `messages nested deeper than 64 at offset ${at}`; break;
    case CodecError.BAD_JSON_TAG: what = `json value tag ${value} at offset ${at} is not 0..6 (null, false, true, number, string, array, object)`; break;
    case CodecError.BAD_NUMBER: what = `json number at offset ${at} is not finite`; break;
    case CodecError.JSON_TOO_DEEP: what = `json arrays and objects nested deeper than 64 at offset ${at}`; break;
    case CodecError.BAD_SCHEMA: what = `the schema table is corrupt (${hex(value)}) at offset ${at}`; break;
    default: what = `error ${code} at offset ${at}`;
  }
  return new MessageDecodeError(`${who}: ${where}${what}`, { offset: at });
}
