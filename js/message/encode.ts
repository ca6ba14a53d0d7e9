// encode.ts — a message into a record: the header (js/message/record.ts) and the payload its class's
// codec writes (js/message/schema.ts), straight into the caller's buffer (a ring's staging area).
import { CODEC, type StructCodec } from './schema.js';
import { Message, describeMessage, type MessageClass } from './message.js';
import { CORRELATION, ID_COUNT, ID_PREFIX, PRIORITY, type Correlation, type HeaderSlots } from './header.js';
import type { IdPrefix } from './uuid.js';
import { FLAG_CORRELATION, HEADER_BYTES, H_CORR, H_FLAGS, H_ID, H_PAYLOAD, H_PRIORITY, H_TIME, H_TYPE, H_VERSION, WIRE_VERSION } from './record.js';
import { epochNow as now } from '../platform.js';

/**
 * Writes `msg` as one record at `offset`, using no bytes at or past `limit`. Returns the
 * record's length in bytes; when it does not fit, returns minus the length it needs (and
 * the bytes in [offset, limit) are garbage), so the caller can grow its buffer or throw
 * MessageTooLargeError. `timestamp` defaults to now (ms since the Unix epoch).
 */
export function encodeInto(msg: Message, u8: Uint8Array, dv: DataView, offset: number, limit: number, timestamp: number = now()): number {
  const codec = (msg.constructor as MessageClass)[CODEC];
  if (codec === undefined) throw new TypeError(`encodeInto: expected a message, got ${describeMessage(msg)}`);
  try {
    return codec.encodeRecord(msg, u8, dv, offset, limit, timestamp);
  } catch (e) {
    // a field set, after the message was made, to a value of another type: the class's own
    // checks, run on a copy of its fields, throw the TypeError that names it
    new (msg.constructor as new (init: object) => Message)({ ...msg });
    throw e;
  }
}

/**
 * A class's record encoder where nothing is compiled (js/message/compiled.ts compiles the
 * same lines for each class): the payload, then the header.
 */
export function recordEncoder(codec: StructCodec, typeId: number): StructCodec['encodeRecord'] {
  return (msg, u8, dv, offset, limit, timestamp) => {
    const start = offset + HEADER_BYTES;
    const end = start <= limit ? codec.write(msg, u8, dv, start, limit) : -1;
    if (end < 0) return -(HEADER_BYTES + codec.size(msg));
    const h = msg as HeaderSlots;
    writeHeader(h[ID_PREFIX], h[ID_COUNT], h[PRIORITY], h[CORRELATION], typeId, end - start, timestamp, u8, dv, offset);
    return end - offset;
  };
}

/**
 * A record's header at `offset`, before a payload of `payloadBytes`: the message's header
 * slots, read by its class's encoder (one shape there) and passed in.
 */
export function writeHeader(prefix: IdPrefix, count: number, priority: number, corr: Correlation | null,
  typeId: number, payloadBytes: number, timestamp: number, u8: Uint8Array, dv: DataView, offset: number): void {
  dv.setUint32(offset + H_TYPE, typeId, true);
  dv.setUint32(offset + H_PAYLOAD, payloadBytes, true);
  dv.setFloat64(offset + H_TIME, timestamp, true);
  dv.setInt32(offset + H_ID, prefix.w0, false);
  dv.setInt32(offset + H_ID + 4, prefix.w1, false);
  dv.setInt32(offset + H_ID + 8, prefix.w2, false);
  dv.setInt32(offset + H_ID + 12, count, false);
  if (corr !== null) {
    const cp = corr.prefix;
    dv.setInt32(offset + H_CORR, cp.w0, false);
    dv.setInt32(offset + H_CORR + 4, cp.w1, false);
    dv.setInt32(offset + H_CORR + 8, cp.w2, false);
    dv.setInt32(offset + H_CORR + 12, corr.count, false);
  } else {
    dv.setInt32(offset + H_CORR, 0, false);
    dv.setInt32(offset + H_CORR + 4, 0, false);
    dv.setInt32(offset + H_CORR + 8, 0, false);
    dv.setInt32(offset + H_CORR + 12, 0, false);
  }
  // priority, flags, version, then five reserved zero bytes
  u8[offset + H_PRIORITY] = priority;
  u8[offset + H_FLAGS] = corr !== null ? FLAG_CORRELATION : 0;
  u8[offset + H_VERSION] = WIRE_VERSION;
  u8[offset + 51] = 0;
  dv.setUint32(offset + 52, 0, true);
}

/** Encoded size of `msg` in bytes, header included. */
export function encodedSize(msg: Message): number {
  return HEADER_BYTES + (msg.constructor as MessageClass)[CODEC].size(msg);
}

let buf = new Uint8Array(4096);
let bufView = new DataView(buf.buffer);

export function encode(msg: Message, timestamp: number = now()): Uint8Array {
  // decode refuses a record whose timestamp is not a finite number: never write one
  if (!Number.isFinite(timestamp))
    throw new RangeError(`${describeMessage(msg)}.encode: timestamp must be a finite number of milliseconds since the Unix epoch, got ${String(timestamp)}`);
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
