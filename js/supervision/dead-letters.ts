// supervision/dead-letters.ts — the messages a kernel could not handle: the one it was
// handling when its function threw (kept, not retried, so one poison message cannot loop),
// and records that failed to decode on their way into it (kept as their bytes).
//
// The list is on the owner's thread (runtime.deadLetters(id)), bounded: past its limit the
// oldest letter goes and is counted (telemetry deadLettersDropped). A worker kernel's letters
// reach the owner as record bytes (WireDeadLetter, a control message), never as live objects.
import { Message } from '../message/message.js';
import { decodeMessage } from '../message/decode.js';
import { encodeMessage } from '../message/encode.js';
import * as errors from '../errors.js';
import { serializeError, type SerializedError } from '../worker/protocol.js';

export interface DeadLetter<M extends Message = Message> {
  /** The id the kernel was launched under. */
  kernelId: string;
  /**
   * The message the kernel was handling when it threw; or, for a record that did not decode
   * (or a worker's letter this thread cannot decode), its bytes.
   */
  message: M | Uint8Array;
  /** What the kernel threw, or the MessageDecodeError of bytes that did not decode. */
  error: Error;
  /** When it became a dead letter, ms since the Unix epoch. */
  at: number;
}

/** runtime.deadLetters' default bound, per kernel (RuntimeOptions.deadLetterLimit). */
export const DEFAULT_DEAD_LETTER_LIMIT = 1000;

/** A letter's bound: the newest `limit` letters stay; older ones are dropped and counted. */
export class DeadLetterList {
  readonly limit: number;
  private readonly letters: DeadLetter[] = [];
  /** Letters pushed out by newer ones. */
  dropped = 0;

  constructor(limit: number) { this.limit = limit; }

  /** Adds a letter; returns true when an older one had to go to make room. */
  add(letter: DeadLetter): boolean {
    if (this.limit === 0) { this.dropped++; return true; }
    this.letters.push(letter);
    if (this.letters.length <= this.limit) return false;
    this.letters.shift();
    this.dropped++;
    return true;
  }

  /** The letters kept, oldest first (a copy). */
  list(): DeadLetter[] { return this.letters.slice(); }

  get size(): number { return this.letters.length; }
}

const BUILTIN_ERRORS: Record<string, new (m: string, context: object) => Error> = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

/**
 * An error rebuilt from a control message: a ringkernel error or a built-in one comes back
 * as its own class (a MessageDecodeError stays one, a RangeError one), anything else as an
 * Error with the original name.
 */
export function reviveError(s: SerializedError): Error {
  const own = (errors as Record<string, unknown>)[s.name];
  const C = typeof own === 'function' && (own === errors.RingKernelError || (own as { prototype: unknown }).prototype instanceof errors.RingKernelError)
    ? own as new (m: string, context: object) => Error
    : BUILTIN_ERRORS[s.name];
  const e = C ? make(C, s.message) : Object.assign(new Error(s.message), { name: s.name });
  if (s.stack !== undefined) e.stack = s.stack;
  return e;
}

/** An error of class C (whose constructor may want more context than a message: none given). */
function make(C: new (m: string, context: object) => Error, message: string): Error {
  try { return new C(message, {}); } catch { return Object.assign(Object.create(C.prototype) as Error, { message, name: C.name }); }
}

/** A dead letter as a worker sends it to the owner: the record's bytes, the error as data. */
export interface WireDeadLetter {
  bytes: Uint8Array;
  error: SerializedError;
  at: number;
  /** False for bytes that already failed to decode (they stay bytes). */
  decodable: boolean;
}

/** The wire form of a letter (in the thread that ran the kernel). */
export function toWire(letter: DeadLetter): WireDeadLetter {
  const m = letter.message;
  let bytes: Uint8Array, decodable = true;
  if (m instanceof Message) {
    try { bytes = encodeMessage(m); } catch { bytes = new Uint8Array(0); decodable = false; }
  } else { bytes = m; decodable = false; }
  return { bytes, error: serializeError(letter.error), at: letter.at, decodable };
}

/**
 * A worker's letter on the owner. Its bytes came from another thread, so they are validated
 * by the core (decodeMessage); bytes that do not pass stay bytes, with the kernel's error.
 */
export function fromWire(kernelId: string, w: WireDeadLetter): DeadLetter {
  let message: Message | Uint8Array = w.bytes;
  if (w.decodable) {
    try { message = decodeMessage(w.bytes); } catch { /* stays bytes */ }
  }
  return { kernelId, message, error: reviveError(w.error), at: w.at };
}
