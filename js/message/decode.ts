// decode.ts — a record into a message. Two entry points:
// - decodeMessage (and each class's decode), for bytes from anywhere: validated by the wasm
//   core first (js/core/codec-core.ts), then decoded;
// - decodeFrom, for records the runtime's own encoders wrote (rings): no validation, but
//   still never crashes on bad bytes (a MessageDecodeError at worst).
import { MessageDecodeError } from '../errors.js';
import { CODEC, DecodeFault, getPos, setPos } from './schema.js';
import { describeMessage, type Message } from './message.js';
import { RAW, raw } from './header.js';
import { FLAG_CORRELATION, HEADER_BYTES, H_CORR, H_FLAGS, H_ID, H_PAYLOAD, H_PRIORITY, H_TIME, H_TYPE } from './record.js';
import { messageClassById } from './message-registry.js';
import { staged, validate } from '../core/codec-core.js';

/** Record bytes as a Uint8Array (from an ArrayBuffer or any view), or a TypeError naming `who`. */
export function asBytes(bytes: unknown, who: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError(`${who}: expected a Uint8Array of record bytes, got ${describeMessage(bytes)}`);
}

/**
 * Decodes the record of `length` bytes at `offset`, written by encodeInto (trusted: only
 * cheap bounds checks, no validation). Throws MessageDecodeError for an unknown type id,
 * one other than `expected`'s, or bytes that do not decode.
 */
export function decodeFrom<M extends Message = Message>(u8: Uint8Array, dv: DataView, offset: number, length: number,
  expected?: { readonly typeId: number; readonly typeName: string; new (...a: any[]): M }): M {
  if (length < HEADER_BYTES) throw new MessageDecodeError(`${expected?.typeName ?? 'decodeFrom'}: record is ${length} bytes, shorter than the 56-byte header`, { offset: 0 });
  const typeId = dv.getUint32(offset + H_TYPE, true);
  const C = messageClassById(typeId);
  const who = expected?.typeName ?? C?.typeName ?? 'decodeFrom';
  if (C === undefined || (expected !== undefined && C.typeId !== expected.typeId)) {
    const what = C === undefined ? `unknown type id ${typeId}` : `a ${C.typeName} record`;
    throw new MessageDecodeError(`${who}: ${what}${expected ? `, not a ${expected.typeName}` : ''}`, { offset: 0 });
  }
  const end = offset + length;
  setPos(offset);
  try {
    if (HEADER_BYTES + dv.getUint32(offset + H_PAYLOAD, true) !== length) throw new DecodeFault('payload length disagrees with the record length');
    raw.w0 = dv.getInt32(offset + H_ID, false);
    raw.w1 = dv.getInt32(offset + H_ID + 4, false);
    raw.w2 = dv.getInt32(offset + H_ID + 8, false);
    raw.w3 = dv.getInt32(offset + H_ID + 12, false);
    raw.priority = u8[offset + H_PRIORITY]!;
    raw.hasCorr = (u8[offset + H_FLAGS]! & FLAG_CORRELATION) !== 0;
    raw.c0 = dv.getInt32(offset + H_CORR, false);
    raw.c1 = dv.getInt32(offset + H_CORR + 4, false);
    raw.c2 = dv.getInt32(offset + H_CORR + 8, false);
    raw.c3 = dv.getInt32(offset + H_CORR + 12, false);
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
