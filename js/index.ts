// ringkernel — public entry point.
export * from './errors.js';
export { createCore, attachCore, compileCore, setWasmSource, canShareMemory, whyNoSharedMemory, Core, OwnerCore, Status, Strategy } from './core.js';
export type { CoreExports, QueueStats, WasmSource } from './core.js';
export { Ring } from './ring.js';
export type { RingOptions } from './ring.js';
