// message-registry.ts — every message class defined in this thread, by name and by type id:
// what decoding looks types up in, and the schema source of the core's validator.
import type { MessageClass } from './message.js';
import { setSchemaSource } from '../core/codec-core.js';
import { buildSchemaTable } from './schema-table.js';

const byName = new Map<string, MessageClass<any>>();
const byId = new Map<number, MessageClass<any>>();
let version = 0;

/** Adds a class just defined. */
export function registerMessageClass(C: MessageClass<any>): void {
  byName.set(C.typeName, C);
  byId.set(C.typeId, C);
  version++;
  lastId = -1;
}

/** The class looked up last: a ring's records mostly hold one class, run after run. */
let lastId = -1, lastClass: MessageClass | undefined;

/** The class defined for a type id in this thread, if any. */
export function messageClassById(typeId: number): MessageClass | undefined {
  if (typeId === lastId) return lastClass;
  const C = byId.get(typeId);
  if (C !== undefined) { lastId = typeId; lastClass = C; }
  return C;
}
/** The class defined under a name in this thread, if any. */
export function messageClassByName(name: string): MessageClass | undefined { return byName.get(name); }

setSchemaSource({
  get version() { return version; },
  table: () => buildSchemaTable([...byId.values()]),
  typeName: (id) => byId.get(id)?.typeName,
  fieldName: (id, i) => { const C = byId.get(id); return C ? Object.keys(C.schema)[i] : undefined; },
});
