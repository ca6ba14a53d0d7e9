// record.ts — where things are in a record (docs/wire-format.md; the same offsets as
// assembly/codec.ts): the 56-byte header, then the payload in field order; and how records
// follow one another in a batch.

export const HEADER_BYTES = 56;
export const H_TYPE = 0, H_PAYLOAD = 4, H_TIME = 8, H_ID = 16, H_CORR = 32, H_PRIORITY = 48, H_FLAGS = 49, H_VERSION = 50;
export const FLAG_CORRELATION = 1;
export const WIRE_VERSION = 1;
export const DEFAULT_PRIORITY = 128;

/** Header fields of a record, without decoding it (the ring plumbing routes on these). */
export function recordTypeId(dv: DataView, offset: number): number { return dv.getUint32(offset + H_TYPE, true); }
export function recordPriority(u8: Uint8Array, offset: number): number { return u8[offset + H_PRIORITY]!; }
export function recordTimestamp(dv: DataView, offset: number): number { return dv.getFloat64(offset + H_TIME, true); }

// ---- batches: [u32 length][record, padded to 4 bytes]... (queue_push_batch and
// queue_pop_batch, assembly/ring.ts) ----

/** Bytes before each record in a batch: its length. */
export const FRAME_PREFIX = 4;
/** Bytes a record of `len` bytes takes in a batch. */
export function frameBytes(len: number): number { return FRAME_PREFIX + ((len + 3) & ~3); }
