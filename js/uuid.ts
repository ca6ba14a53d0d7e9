// uuid.ts — message ids: checked and parsed without allocation, made from a pool of random
// words, turned into strings only when read. Ids travel as four words (`words` is the
// out-parameter of every function here).

/** An id as a message header holds it: four big-endian words, and its string once made. */
export interface IdWords { w0: number; w1: number; w2: number; w3: number; id: string | null }

/** The header whose id string was made last (see uuid). */
let lastId: IdWords | null = null;
/** `h`'s id string was just made: a `correlationId: m.messageId` right after takes its words without parsing. */
export function rememberId(h: IdWords): void { lastId = h; }

/** Checks a UUID string, leaving its value in `words`; returns it in lowercase. */
export function uuid(v: unknown, typeName: string, what: string): string {
  const last = lastId;
  if (typeof v === 'string' && last !== null && v === last.id) {
    // the id of a message just read (`correlationId: m.messageId`): known good, words known
    words[0] = last.w0; words[1] = last.w1; words[2] = last.w2; words[3] = last.w3;
    return v;
  }
  if (typeof v === 'string' && parseUuid(v)) return sawUpper ? v.toLowerCase() : v;
  throw new TypeError(`${typeName}: ${what} must be a UUID string${what === 'correlationId' ? ' or null' : ''}, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
}

/** Value of a hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;       // 0-9
  c |= 0x20;                                   // fold A-F to a-f
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

/**
 * Checks a UUID string (8-4-4-4-12 hex digits) and leaves its value in `words`, in one pass
 * with no allocation: messages keep ids as words, parsing only the strings users set.
 */
let sawUpper = false;
function parseUuid(s: string): boolean {
  if (s.length !== 36) return false;
  let w = 0, word = 0, digits = 0;
  sawUpper = false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) { if (c !== 45) return false; continue; }
    if (c >= 65 && c <= 70) sawUpper = true;
    const h = hexValue(c);
    if (h < 0) return false;
    w = (w << 4) | h;
    if (++digits === 8) { words[word++] = w >>> 0; w = 0; digits = 0; }
  }
  return true;
}

const HEX_CODES = Array.from({ length: 16 }, (_, i) => i.toString(16).charCodeAt(0));
/** The char code of the hex digit at bit `shift` of w. */
const hx = (w: number, shift: number) => HEX_CODES[(w >>> shift) & 15]!;

// One String.fromCharCode of 36 codes makes one flat string, 2-3x faster here than joining
// pieces (a getter like messageId is read once per message in a typical stage).
export function wordsToUuid(w0: number, w1: number, w2: number, w3: number): string {
  return String.fromCharCode(
    hx(w0, 28), hx(w0, 24), hx(w0, 20), hx(w0, 16), hx(w0, 12), hx(w0, 8), hx(w0, 4), hx(w0, 0), 45,
    hx(w1, 28), hx(w1, 24), hx(w1, 20), hx(w1, 16), 45, hx(w1, 12), hx(w1, 8), hx(w1, 4), hx(w1, 0), 45,
    hx(w2, 28), hx(w2, 24), hx(w2, 20), hx(w2, 16), 45, hx(w2, 12), hx(w2, 8), hx(w2, 4), hx(w2, 0),
    hx(w3, 28), hx(w3, 24), hx(w3, 20), hx(w3, 16), hx(w3, 12), hx(w3, 8), hx(w3, 4), hx(w3, 0));
}

/** Out-parameter of uuid, parseUuid and randomWords (no allocation per message). */
export const words = new Uint32Array(4);

// Random ids come from a pool refilled 1024 ids at a time: crypto.randomUUID would cost more
// than the rest of making a message.
const cryptoApi = (globalThis as { crypto?: Crypto }).crypto;
const pool = new Uint32Array(4096); // 1024 ids per refill: a getRandomValues call costs microseconds
let poolAt = pool.length;

/** A random v4 UUID into `words`. */
export function randomWords(): void {
  if (poolAt === pool.length) {
    if (typeof cryptoApi?.getRandomValues === 'function') cryptoApi.getRandomValues(pool);
    else for (let i = 0; i < pool.length; i++) pool[i] = (Math.random() * 0x100000000) >>> 0;
    poolAt = 0;
  }
  words[0] = pool[poolAt]!;
  words[1] = (pool[poolAt + 1]! & 0xffff0fff) | 0x4000; // version 4
  words[2] = (pool[poolAt + 2]! & 0x3fffffff) | 0x80000000; // RFC 4122 variant
  words[3] = pool[poolAt + 3]!;
  poolAt += 4;
}
