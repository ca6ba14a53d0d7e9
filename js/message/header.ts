// header.ts — a message's header values in memory: one Header object per message (under
// one symbol key), and the values the decode path hands to a constructor. Their place in a
// record is js/message/record.ts.
import { DEFAULT_PRIORITY } from './record.js';
import { nextIdWords, uuid, words } from './uuid.js';

/**
 * A message's header values. One object per message, under one symbol key: each class's
 * constructor makes one store instead of eight (where code cannot be compiled, that store is
 * one site for instances of every class: a megamorphic one). The id is kept as four
 * big-endian words, cheap to make (a counter), encode and decode; its string is only made
 * when someone reads messageId. The correlation id, which most messages lack, is an object
 * of its own: eight fields here instead of thirteen.
 */
export class Header {
  constructor(
    public w0: number, public w1: number, public w2: number, public w3: number,
    public id: string | null, public priority: number,
    public corr: Correlation | null,
    /** The send time of a decoded message (sentAt); null for one made here (a number field would be a boxed double in every message). */
    public timestamp: number | null,
  ) {}
}

/** A correlation id: its words and, once read, its string. */
export class Correlation {
  constructor(public c0: number, public c1: number, public c2: number, public c3: number, public id: string | null) {}
}
export const HDR: unique symbol = Symbol('ringkernel.header');

/** Sets h's correlation id to `s`, whose words uuid() just left in `words`. */
export function setCorrelation(h: Header, s: string): void {
  h.corr = new Correlation(words[0]!, words[1]!, words[2]!, words[3]!, s);
}

export function checkPriority(p: unknown, typeName: string): number {
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 255) return p;
  throw new RangeError(`${typeName}: priority must be an integer 0..255, got ${typeof p === 'string' ? JSON.stringify(p) : String(p)}`);
}

/** Header values for the constructor's decode path (decoding is never re-entered). */
export const RAW: unique symbol = Symbol('ringkernel.raw');
export const raw: { w0: number; w1: number; w2: number; w3: number; priority: number; hasCorr: boolean; c0: number; c1: number; c2: number; c3: number; timestamp: number | null } =
  { w0: 0, w1: 0, w2: 0, w3: 0, priority: DEFAULT_PRIORITY, hasCorr: false, c0: 0, c1: 0, c2: 0, c3: 0, timestamp: null };

/** What a message's constructor takes besides its fields (MessageOptions, unchecked). */
interface HeaderOptions { messageId?: unknown; priority?: unknown; correlationId?: unknown }

/**
 * The header of a message made with `new C(init)`: a new id unless `init` names one, and
 * init's priority and correlation id, checked (TypeError / RangeError naming the class).
 */
export function headerOf(init: HeaderOptions, typeName: string): Header {
  let id: string | null = null;
  if (init.messageId === undefined) nextIdWords();
  else id = uuid(init.messageId, typeName, 'messageId');
  const p = init.priority === undefined ? DEFAULT_PRIORITY : checkPriority(init.priority, typeName);
  const h = new Header(words[0]!, words[1]!, words[2]!, words[3]!, id, p, null, null);
  const c = init.correlationId;
  if (c !== undefined && c !== null) setCorrelation(h, uuid(c, typeName, 'correlationId'));
  return h;
}

/** The header of a message being decoded: the values decode left in `raw`. */
export function rawHeader(): Header {
  return new Header(raw.w0, raw.w1, raw.w2, raw.w3, null, raw.priority,
    raw.hasCorr ? new Correlation(raw.c0, raw.c1, raw.c2, raw.c3, null) : null, raw.timestamp);
}
