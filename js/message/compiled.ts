// compiled.ts — a message class's field accessors, compiled from source once per class.
//
// Why: the codec and the checked constructor are composed from closures that every class
// shares (schema.ts, message.ts). V8 keeps type feedback per function literal, so a loop
// such as `m[keys[i]] = readers[i](...)` sees the fields and the shapes of every class in the
// program: its property accesses and calls turn megamorphic, each a lookup in a global
// cache. A function compiled for one class (`m.values = r0(u8, dv, end)`) is a function of
// its own, with feedback of its own: one shape, one callee, inlined. Measured here on the
// inline streaming benchmark's parts (make, encode and decode of a message): see
// docs/BENCHMARKS.md.
//
// Safe to compile: field names are identifiers (message() checks them against
// /^[A-Za-z_][A-Za-z0-9_]*$/ and refuses reserved ones) and everything else is passed in as
// arguments, never spliced into the source.
//
// Where code cannot be made from strings (workerd; a page whose Content-Security-Policy lacks
// 'unsafe-eval'), or with RINGKERNEL_CODEGEN=0 in the environment, every class uses the shared
// loops instead: the same semantics, each suite runs them (workerd always; Node with the
// variable set, tests/run.mjs), only slower.
import type { FieldType, Writer, Reader } from './schema.js';

function codegenAllowed(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.RINGKERNEL_CODEGEN === '0') return false;
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false; // EvalError: code generation from strings is disallowed here
  }
}

/** Whether message classes get compiled accessors in this realm. */
export const compiling = codegenAllowed();

export interface CompiledAccessors {
  write: Writer<object>;
  read(target: object, u8: Uint8Array, dv: DataView, end: number): void;
  /**
   * The checked constructor's fields: `self.k = check_k(src.k)` for each, then every key of
   * `src` must be a field or a header option. False when anything is wrong (a check threw, a
   * key is unknown): the caller then runs its own loop, which throws the error that names it.
   */
  assign(self: object, src: object): boolean;
}

const args = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** Accessors for a class with these fields (in wire order), or null where nothing is compiled. */
export function compileAccessors(keys: readonly string[], types: readonly FieldType[], headerKeys: readonly string[]): CompiledAccessors | null {
  if (!compiling) return null;
  const n = keys.length;
  const w = args('w', n), r = args('r', n), c = args('c', n);
  const write = new Function(...w, `return function write(m, u8, dv, p, lim) {
${keys.map((k, i) => `  p = w${i}(m.${k}, u8, dv, p, lim);\n  if (p < 0) return p;`).join('\n')}
  return p;
};`)(...types.map((f) => f.write)) as Writer<object>;
  const read = new Function(...r, `return function read(m, u8, dv, end) {
${keys.map((k, i) => `  m.${k} = r${i}(u8, dv, end);`).join('\n')}
};`)(...types.map((f) => f.read as Reader<unknown>)) as CompiledAccessors['read'];
  const cases = [...keys, ...headerKeys].map((k) => `case ${JSON.stringify(k)}:`).join(' ');
  const assign = new Function(...c, `return function assign(self, src) {
  try {
${keys.map((k, i) => `    self.${k} = c${i}(src.${k});`).join('\n')}
  } catch {
    return false;
  }
  for (const k in src) switch (k) { ${cases} break; default: return false; }
  return true;
};`)(...types.map((f) => f.check)) as CompiledAccessors['assign'];
  return { write, read, assign };
}
