// The wasm core: one module, instantiated by every thread over one shared memory.
// Built with --runtime stub: nothing here allocates; js/core/core.ts carves every region.
export * from "./ring";
export * from "./codec";
export * from "./scheduler";
export { columns_write_records } from "./columns";

/** First free byte after the module's static data: where js/core/core.ts starts carving. */
export function heap_base(): usize { return __heap_base; }
