// decode.ts — a record into a message. Two entry points:
// - decodeMessage (and each class's decode), for bytes from anywhere: validated by the wasm
//   core first (js/core/codec-core.ts), then decoded;
// - decodeFrom, for records the runtime's own encoders wrote (rings): no validation, but
//   still never crashes on bad bytes (a MessageDecodeError at worst).
import { MessageDecodeError } from '../errors.js';
import { CODEC, DecodeFault, getPos, setPos, type StructCodec } from './schema.js';
import { describeMessage, type Message, type MessageClass } from './message.js';
import { RAW, rawCorrelation, rawHeader } from './header.js';
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
  const C = expected !== undefined && expected.typeId === typeId ? expected as unknown as MessageClass : messageClassById(typeId);
  if (C === undefined || (expected !== undefined && C.typeId !== expected.typeId)) {
    const what = C === undefined ? `unknown type id ${typeId}` : `a ${C.typeName} record`;
    throw new MessageDecodeError(`${expected?.typeName ?? C?.typeName ?? 'decodeFrom'}: ${what}${expected ? `, not a ${expected.typeName}` : ''}`, { offset: 0 });
  }
  setPos(offset);
  try {
    return C[CODEC].decodeRecord(u8, dv, offset, length) as M;
  } catch (e) {
    if (e instanceof MessageDecodeError) throw e;
    const detail = e instanceof Error ? e.message : String(e);
    throw new MessageDecodeError(`${C.typeName}: ${detail}`, { offset: getPos() - offset, cause: e });
  }
}

/**
 * A class's record decoder where nothing is compiled (js/message/compiled.ts compiles the
 * same lines for each class): the header into `raw`, the message made from it, then its
 * fields. Throws DecodeFault (decodeFrom names the class); the cursor tells where.
 */
export function recordDecoder(C: new (r: typeof RAW) => object, codec: StructCodec): StructCodec['decodeRecord'] {
  return (u8, dv, offset, length) => {
    readHeader(u8, dv, offset, length);
    const m = new C(RAW);
    setPos(offset + HEADER_BYTES);
    codec.read(m, u8, dv, offset + length);
    if (getPos() !== offset + length) throw payloadEndFault(offset, length);
    return m;
  };
}

/** A record's header values into `raw` (js/message/header.ts), for the constructor of the message being decoded. */
export function readHeader(u8: Uint8Array, dv: DataView, offset: number, length: number): void {
  if (HEADER_BYTES + dv.getUint32(offset + H_PAYLOAD, true) !== length) throw new DecodeFault('payload length disagrees with the record length');
  rawHeader(dv.getInt32(offset + H_ID, false), dv.getInt32(offset + H_ID + 4, false), dv.getInt32(offset + H_ID + 8, false),
    dv.getInt32(offset + H_ID + 12, false), u8[offset + H_PRIORITY]!, dv.getFloat64(offset + H_TIME, true));
  if ((u8[offset + H_FLAGS]! & FLAG_CORRELATION) !== 0) {
    rawCorrelation(dv.getInt32(offset + H_CORR, false), dv.getInt32(offset + H_CORR + 4, false),
      dv.getInt32(offset + H_CORR + 8, false), dv.getInt32(offset + H_CORR + 12, false));
  }
}

export function payloadEndFault(offset: number, length: number): DecodeFault {
  return new DecodeFault(`payload ends at offset ${getPos() - offset}, not at the record's end (${length})`);
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
