// header.ts — a message's header values in memory: six own properties of the message itself
// under symbol keys (no field name can take them, Object.keys and JSON leave them out), and
// the values the constructors store there. Their place in a record is js/message/record.ts.
//
// Why on the message and not in an object of their own: a header object was a second
// allocation for every message made or decoded (88 bytes, and one more object for the
// collector to trace and move); as six slots of the message it is 48 bytes. Each class's
// constructor stores them (js/message/compiled.ts), so the stores are sites of one class.
import { DEFAULT_PRIORITY } from './record.js';
import { idCount, idPrefix, nextId, prefixOf, uuid, type IdPrefix } from './uuid.js';

/** The id's prefix (js/message/uuid.ts): shared by the ids of one thread, or of one sender. */
export const ID_PREFIX: unique symbol = Symbol('ringkernel.idPrefix');
/** The id's last 32 bits (int32). */
export const ID_COUNT: unique symbol = Symbol('ringkernel.idCount');
/** The id's string, once made or set; null before. */
export const ID_TEXT: unique symbol = Symbol('ringkernel.idText');
export const PRIORITY: unique symbol = Symbol('ringkernel.priority');
/** The correlation id (a Correlation), or null: most messages have none. */
export const CORRELATION: unique symbol = Symbol('ringkernel.correlation');
/**
 * The send time of a decoded message (sentAt); null for one made here (a number would be a
 * boxed double in every message made).
 */
export const SENT_AT: unique symbol = Symbol('ringkernel.sentAt');

/** A message's header slots, as the code that reads them sees them. */
export interface HeaderSlots {
  [ID_PREFIX]: IdPrefix;
  [ID_COUNT]: number;
  [ID_TEXT]: string | null;
  [PRIORITY]: number;
  [CORRELATION]: Correlation | null;
  [SENT_AT]: number | null;
}

/** A correlation id: its prefix and count and, once read, its string. */
export class Correlation {
  constructor(readonly prefix: IdPrefix, readonly count: number, public text: string | null) {}
}

export function checkPriority(p: unknown, typeName: string): number {
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 255) return p;
  throw new RangeError(`${typeName}: priority must be an integer 0..255, got ${typeof p === 'string' ? JSON.stringify(p) : String(p)}`);
}

/** Passed to a constructor instead of fields: make the message from the header values in `raw`. */
export const RAW: unique symbol = Symbol('ringkernel.raw');
/**
 * The header values a constructor stores next: left by headerOf (a message made with `new C(init)`),
 * by decode's readHeader, or by a fresh default. Neither is ever re-entered before the
 * constructor has stored them.
 */
export const raw: { prefix: IdPrefix | null; count: number; text: string | null; priority: number; corr: Correlation | null; timestamp: number | null } =
  { prefix: null, count: 0, text: null, priority: DEFAULT_PRIORITY, corr: null, timestamp: null };

/** What a message's constructor takes besides its fields (MessageOptions, unchecked). */
export interface HeaderOptions { messageId?: unknown; priority?: unknown; correlationId?: unknown }

/**
 * The header of a message made with `new C(init)`, into `raw`: a new id unless `init` names
 * one, and init's priority and correlation id, checked (TypeError / RangeError naming the class).
 */
export function headerOf(init: HeaderOptions, typeName: string): void {
  let text: string | null = null;
  if (init.messageId === undefined) nextId();
  else text = uuid(init.messageId, typeName, 'messageId');
  raw.prefix = idPrefix;
  raw.count = idCount;
  raw.text = text;
  raw.priority = init.priority === undefined ? DEFAULT_PRIORITY : checkPriority(init.priority, typeName);
  const c = init.correlationId;
  raw.corr = c === undefined || c === null ? null : correlationOf(uuid(c, typeName, 'correlationId'));
  raw.timestamp = null;
}

/** What headerOf takes for a message made fresh, with defaults and a new id (a field's default message). */
export const NO_OPTIONS: HeaderOptions = Object.freeze({});

/** A Correlation of the id uuid() just checked (its string `s`). */
export function correlationOf(s: string): Correlation {
  return new Correlation(idPrefix, idCount, s);
}

/**
 * The send time decoded last, as the one boxed number every message decoded with it shares:
 * the records of one send (a batch, a column batch, a GPU kernel's answers) carry one time,
 * and a number stored in a message is otherwise a box of its own (16 bytes each).
 */
let lastSentAt = NaN;

/** The header of a record being decoded, into `raw` (js/message/decode.ts readHeader reads the bytes). */
export function rawHeader(w0: number, w1: number, w2: number, w3: number, priority: number, timestamp: number): void {
  raw.prefix = prefixOf(w0, w1, w2);
  raw.count = w3;
  raw.text = null;
  raw.priority = priority;
  raw.corr = null;
  if (timestamp !== lastSentAt) lastSentAt = timestamp;
  raw.timestamp = lastSentAt;
}

/** The correlation id of a record being decoded, into `raw` (after rawHeader). */
export function rawCorrelation(c0: number, c1: number, c2: number, c3: number): void {
  raw.corr = new Correlation(prefixOf(c0, c1, c2), c3, null);
}
