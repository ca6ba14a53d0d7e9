// schema-table.ts — the schema table the core validates records against (its layout is
// assembly/codec.ts): a hash index by type id, then each type's field descriptors.
import { CODEC } from './schema.js';
import type { MessageClass } from './message.js';

/** The table for `classes` (the registry passes every class defined in this thread, in definition order). */
export function buildSchemaTable(classes: readonly MessageClass<any>[]): Uint8Array {
  let slots = 8;
  while (slots < classes.length * 2) slots *= 2;
  const out: number[] = [];
  const u32 = (n: number) => { out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24); };
  const setU32 = (at: number, n: number) => { out[at] = n & 0xff; out[at + 1] = (n >>> 8) & 0xff; out[at + 2] = (n >>> 16) & 0xff; out[at + 3] = n >>> 24; };
  u32(slots);
  u32(classes.length);
  for (let i = 0; i < slots * 2; i++) u32(0);
  // insertion in definition order keeps the table deterministic (golden vectors check it)
  for (const C of classes) {
    const at = out.length;
    u32(C.typeId);
    u32(Object.keys(C.schema).length);
    C[CODEC].descriptor(out);
    let i = C.typeId & (slots - 1);
    while (out[8 + i * 8 + 4] !== 0 || out[8 + i * 8 + 5] !== 0 || out[8 + i * 8 + 6] !== 0 || out[8 + i * 8 + 7] !== 0) i = (i + 1) & (slots - 1);
    setU32(8 + i * 8, C.typeId);
    setU32(8 + i * 8 + 4, at);
  }
  return Uint8Array.from(out);
}
