// hash.ts — FNV-1a, 32-bit: message type ids (of their canonical schema text) and routing keys.

/** FNV-1a, 32-bit, over the UTF-16 code units (canonical texts are ASCII). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
