// Entry for Cloudflare workerd (the `workerd` export condition). workerd compiles no wasm
// from bytes and has no threads: the core comes in as an imported module, over an ordinary
// memory, and only the inline placement exists.
// @ts-expect-error: a .wasm module import, resolved by workerd
import single from './ringkernel-single.wasm';
import { disableSharedMemory, setWasmSource } from './core/core.js';

setWasmSource({ single: single as WebAssembly.Module });
disableSharedMemory('workerd runs one thread per isolate (no worker threads)');

export * from './index.js';
