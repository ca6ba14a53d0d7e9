// uuid.ts — message ids: checked and parsed without allocation, made from a random prefix
// per thread and a counter, turned into strings only when read. Ids travel as four words
// (`words` is the out-parameter of every function here).

/** An id as a message header holds it: four big-endian words (int32), and its string once made. */
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
    if (++digits === 8) { words[word++] = w; w = 0; digits = 0; }
  }
  return true;
}

const HEX_CODES = Array.from({ length: 16 }, (_, i) => i.toString(16).charCodeAt(0));
/** The char code of the hex digit at bit `shift` of w. */
const hx = (w: number, shift: number) => HEX_CODES[(w >>> shift) & 15]!;

// The first 24 digits of an id are its thread's prefix (nextIdWords), shared by every id
// that thread made: the string of the last prefix seen is kept, and an id with the same
// prefix is that string joined to the 8 digits of its counter (a rope; nothing is copied):
// 2.4x faster here than one String.fromCharCode of all 36 codes.
// A getter like messageId is read once per message in a typical stage
// (`correlationId: m.messageId`).
let prefix0 = 0, prefix1 = 0, prefix2 = 0, prefixText: string | null = null;

export function wordsToUuid(w0: number, w1: number, w2: number, w3: number): string {
  if (prefixText === null || w0 !== prefix0 || w1 !== prefix1 || w2 !== prefix2) {
    prefix0 = w0; prefix1 = w1; prefix2 = w2;
    prefixText = String.fromCharCode(
      hx(w0, 28), hx(w0, 24), hx(w0, 20), hx(w0, 16), hx(w0, 12), hx(w0, 8), hx(w0, 4), hx(w0, 0), 45,
      hx(w1, 28), hx(w1, 24), hx(w1, 20), hx(w1, 16), 45, hx(w1, 12), hx(w1, 8), hx(w1, 4), hx(w1, 0), 45,
      hx(w2, 28), hx(w2, 24), hx(w2, 20), hx(w2, 16), 45, hx(w2, 12), hx(w2, 8), hx(w2, 4), hx(w2, 0));
  }
  return prefixText + String.fromCharCode(hx(w3, 28), hx(w3, 24), hx(w3, 20), hx(w3, 16), hx(w3, 12), hx(w3, 8), hx(w3, 4), hx(w3, 0));
}


/**
 * Out-parameter of uuid, parseUuid and nextIdWords (no allocation per message). Signed:
 * words are kept as int32 everywhere (headers, decode), which V8 holds as small integers
 * in an object's fields; an unsigned word over 2^31 would be a boxed number, 16 bytes each.
 */
export const words = new Int32Array(4);

// New ids: a random prefix drawn once per thread (90 random bits: w0, w1 and w2 less the
// version and variant bits), then a counter in w3. No randomness per message: an id costs
// an increment; ids from two threads or runtimes differ in their prefixes (two prefixes
// collide with odds of 2^-90 per pair). After 2^32 ids the thread draws a new prefix.
const cryptoApi = (globalThis as { crypto?: Crypto }).crypto;
// The prefix is drawn at the first id, not at import: workerd allows no random values in
// a module's global scope.
let p0 = 0, p1 = 0, p2 = 0, counter = 0, counterEnd = 0, drawn = false;

function drawPrefix(): void {
  const r = new Int32Array(4);
  if (typeof cryptoApi?.getRandomValues === 'function') cryptoApi.getRandomValues(r);
  else for (let i = 0; i < 4; i++) r[i] = (Math.random() * 0x100000000) | 0;
  p0 = r[0]!;
  p1 = (r[1]! & 0xffff0fff) | 0x4000; // version 4
  p2 = (r[2]! & 0x3fffffff) | 0x80000000; // RFC 4122 variant
  counter = counterEnd = r[3]!; // the counter starts anywhere: ids do not start at 0
  drawn = true;
}

/** A new v4 UUID into `words`: this thread's prefix and the next count. */
export function nextIdWords(): void {
  if (!drawn) drawPrefix();
  words[0] = p0;
  words[1] = p1;
  words[2] = p2;
  words[3] = counter;
  counter = (counter + 1) | 0;
  if (counter === counterEnd) drawn = false; // 2^32 ids made: the next one draws a new prefix
}
