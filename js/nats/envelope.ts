// envelope.ts — what a mailbox message carries around a record, so the receiver can put each
// sender's records back in the order it sent them (js/nats/order.ts). 32 bytes, little endian,
// in front of the record (which stays the ring's record format, validated by the wasm core
// when it arrives):
//
//   0  u32  magic 'RKO1' (bytes 52 4B 4F 31)
//   4  u8   kind: 1 a record, 2 a skip notice (records of the sender that will not come)
//   5  u8×3 zero
//   8  f64  sender: a random integer below 2^52, new for each transport (each natsRemote())
//   16 f64  seq: this record's number in the sender's sequence for this target and band, from 1
//   24 f64  floor: the sender's lowest seq of that sequence not yet known to be stored when it
//           published this one (a receiver meeting the sender for the first time starts there);
//           0 in a skip notice
//   32      kind 1: the record's bytes; kind 2: the skipped seqs, f64 each
//
// Everything here came from the network: read() returns null for anything malformed, and the
// mailbox then hands the bytes over as they are, without ordering (the core validates them).

export const ENVELOPE = 32;
const MAGIC = 0x314f4b52;
export const RECORD = 1;
export const SKIP = 2;

export interface Envelope { kind: number; sender: number; seq: number; floor: number; body: Uint8Array }

/** A fresh sender id: random, below 2^52 (an exact f64), never 0. */
export function newSenderId(): number {
  const w = new Uint32Array(2);
  globalThis.crypto.getRandomValues(w);
  return (w[0]! & 0xfffff) * 2 ** 32 + w[1]! || 1;
}

function header(bytes: Uint8Array, kind: number, sender: number, seq: number, floor: number): DataView {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  dv.setUint32(0, MAGIC, true);
  dv.setUint8(4, kind);
  dv.setFloat64(8, sender, true);
  dv.setFloat64(16, seq, true);
  dv.setFloat64(24, floor, true);
  return dv;
}

export function wrapRecord(record: Uint8Array, sender: number, seq: number, floor: number): Uint8Array {
  const out = new Uint8Array(ENVELOPE + record.length);
  header(out, RECORD, sender, seq, floor);
  out.set(record, ENVELOPE);
  return out;
}

export function wrapSkip(sender: number, seqs: readonly number[]): Uint8Array {
  const out = new Uint8Array(ENVELOPE + 8 * seqs.length);
  const dv = header(out, SKIP, sender, 0, 0);
  seqs.forEach((s, i) => dv.setFloat64(ENVELOPE + 8 * i, s, true));
  return out;
}

const seqOk = (n: number) => Number.isSafeInteger(n) && n >= 1;

export function readEnvelope(data: Uint8Array): Envelope | null {
  if (data.length < ENVELOPE) return null;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) return null;
  const kind = dv.getUint8(4), sender = dv.getFloat64(8, true), seq = dv.getFloat64(16, true), floor = dv.getFloat64(24, true);
  if (!seqOk(sender)) return null;
  if (kind === RECORD && seqOk(seq) && seqOk(floor) && floor <= seq) return { kind, sender, seq, floor, body: data.subarray(ENVELOPE) };
  if (kind === SKIP && (data.length - ENVELOPE) % 8 === 0) return { kind, sender, seq: 0, floor: 0, body: data.subarray(ENVELOPE) };
  return null;
}

/** The seqs of a skip notice (those that are not sequence numbers are left out). */
export function skippedSeqs(e: Envelope): number[] {
  const dv = new DataView(e.body.buffer, e.body.byteOffset, e.body.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 8 <= e.body.length; i += 8) { const s = dv.getFloat64(i, true); if (seqOk(s)) out.push(s); }
  return out;
}
