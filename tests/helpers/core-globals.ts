// core-globals.ts — the core's exported globals (its status codes, layout offsets, ...) and
// their values, read from a fresh instance, for the tests that check the facade's copies.
import { compileCore } from '../../js/core/core.js';

/** Every exported global of the core, by name. */
export async function coreGlobals(): Promise<Record<string, number>> {
  const module = await compileCore(true);
  const memory = new WebAssembly.Memory({ initial: 17, maximum: 65536, shared: true });
  const inst = new WebAssembly.Instance(module, { env: { memory, now: () => 0, abort() {} } });
  return Object.fromEntries(Object.entries(inst.exports)
    .filter(([, v]) => v instanceof WebAssembly.Global)
    .map(([k, v]) => [k, (v as WebAssembly.Global).value as number]));
}
