// core.ts — the wasm core as the facade sees it: one compiled module, one memory, regions
// carved out of it, and typed handles over the rings and control blocks that live there.
//
// Threads: the owner (the thread that made the RingKernelRuntime) compiles the module once,
// creates the memory and carves every region. Each worker instantiates the same
// WebAssembly.Module over the same WebAssembly.Memory (both are posted to it) and only
// touches regions it is handed. The module is built with the stub runtime and never
// allocates, so two instances over one memory cannot trip over each other's heap.
//
// Memory map (owner's view; every region 64-byte aligned so hot words get their own line):
//   [0, heap_base)           the module's static data
//   [heap_base, ...)         regions handed out by Core.alloc: queues (ring.ts layout),
//                            kernel control blocks and thread blocks (scheduler.ts layout),
//                            per-thread scratch areas (below), codec schema tables.
// A scratch area belongs to one thread: it stages a record on its way into a ring and
// receives one on its way out, so JS encoders write straight into wasm memory.
//
// Where SharedArrayBuffer is missing (a browser page without cross-origin isolation,
// workerd) the memory is an ordinary one: everything works on the one thread there is.

import { BackendNotAvailableError, RingKernelError } from '../errors.js';
import { monotonicNow, packageFile, readBytes } from '../platform.js';

// The public types name WebAssembly.Module, WebAssembly.Memory, URL and AbortSignal. Their
// declarations come with the DOM lib (the last two also with @types/node), which a Node
// project compiling with `lib: ["ES2022"]` and `skipLibCheck: false` may not have: these
// empty interfaces give the names there, and merge with the full declarations elsewhere.
declare global {
  namespace WebAssembly {
    interface Module {}
    interface Memory {}
  }
  interface URL {}
  interface AbortSignal {}
}

/** The functions the wasm module exports (assembly/index.ts). Addresses are numbers. */
export interface CoreExports {
  heap_base(): number;
  // ring.ts
  queue_bytes(capacity: number, bandBytes: number): number;
  queue_init(q: number, capacity: number, maxRecord: number, bandBytes: number, strategy: number): number;
  queue_push(q: number, src: number, len: number, priority: number): number;
  queue_push_wait(q: number, src: number, len: number, priority: number, timeoutMs: number): number;
  queue_pop(q: number, dst: number, cap: number): number;
  queue_pop_other(q: number, layout: number, dst: number, cap: number): number;
  queue_pop_wait(q: number, dst: number, cap: number, timeoutMs: number): number;
  queue_push_batch(q: number, src: number, count: number, priority: number): number;
  queue_pop_batch(q: number, dst: number, cap: number, maxCount: number): number;
  queue_note_rejected(q: number): void;
  queue_note_dropped(q: number, n: number): void;
  queue_add_rejected(q: number, n: number): void;
  queue_push_columns(q: number, layout: number, first: number, count: number): number;
  queue_pop_columns(q: number, layout: number, maxCount: number): number;
  columns_write_records(layout: number, first: number, count: number, dst: number): void;
  queue_space_enter(q: number): number;
  queue_space_leave(q: number): void;
  queue_space_word(q: number): number;
  queue_close(q: number): void;
  queue_discard(q: number): number;
  queue_is_empty(q: number): number;
  queue_stat(q: number, which: number): number;
  queue_set_doorbell(q: number, db: number): void;
  queue_doorbell(q: number): number;
  doorbell_ring(db: number): void;
  doorbell_enter(db: number): number;
  doorbell_leave(db: number): void;
  doorbell_wait(db: number, seq: number, timeoutMs: number): void;
  // scheduler.ts
  kcb_init(k: number, id: number, input: number, output: number): void;
  kcb_state(k: number): number;
  kcb_transition(k: number, from: number, to: number): number;
  kcb_force_state(k: number, to: number): void;
  kcb_record(k: number, latencyNs: number, busyMs: number, nowMs: number): void;
  kcb_record_batch(k: number, times: number, count: number, nowEpochMs: number, busyMs: number, nowMs: number): void;
  kcb_add_processed(k: number, n: number): void;
  kcb_record_error(k: number): void;
  kcb_record_restart(k: number): void;
  kcb_record_dead_letter(k: number, n: number): void;
  kcb_record_dead_letter_dropped(k: number, n: number): void;
  kcb_set_started(k: number, ms: number): void;
  kcb_discard_input(k: number): number;
  kcb_discard_taken(k: number): number;
  kcb_set_taken(k: number, n: number): void;
  kcb_taken(k: number): number;
  kcb_interrupt_in_hand(k: number): number;
  kcb_discard_output(k: number): number;
  kcb_stat(k: number, which: number): number;
  hist_quantile(k: number, q: number): number;
  hist_bucket(ns: number): number;
  hist_lower(bucket: number): number;
  hist_count(k: number, bucket: number): number;
  thread_init(t: number): void;
  sched_add(t: number, k: number): number;
  sched_remove(t: number, k: number): void;
  sched_next(t: number): number;
  sched_wait_next(t: number, timeoutMs: number): number;
  sched_enter_sleep(t: number): number;
  sched_leave_sleep(t: number): void;
  sched_kernel_count(t: number): number;
  // codec.ts (see js/core/codec-core.ts)
  [name: string]: unknown;
}

/** Status codes of ring.ts (>= 0 is success). */
export const enum Status {
  OK = 0,
  EMPTY = -1,
  FULL = -2,
  TOO_LARGE = -3,
  TIMEOUT = -4,
  CLOSED = -5,
  DST_TOO_SMALL = -6,
  BAD_ARGUMENT = -7,
}

export const enum Strategy { BLOCK = 0, REJECT = 1, DROP_OLDEST = 2 }

/** What queue_stat reads (ring.ts STAT_*; tests/core.test.ts checks they agree). */
export const enum QueueStat {
  DEPTH = 0, HIGH_WATER = 1, ENQUEUED = 2, DEQUEUED = 3, REJECTED = 4, DROPPED = 5,
  CAPACITY = 6, MAX_RECORD = 7, BAND_BYTES = 8, STRATEGY = 9, CLOSED = 10,
}

/** What kcb_stat reads (scheduler.ts KSTAT_*; tests/core.test.ts checks they agree). */
export const enum KernelStat {
  PROCESSED = 0, ERRORS = 1, STARTED = 2, BUSY = 3, INPUT = 4, OUTPUT = 5, THREAD = 6, ID = 7, FIRST = 8, LAST = 9,
  DISCARDED = 10, OUT_DISCARDED = 11,
  RESTARTS = 12, DEAD_LETTERS = 13, DEAD_LETTERS_DROPPED = 14, INTERRUPTED = 15,
}

export const QUEUE_STATS = ['depth', 'highWater', 'enqueued', 'dequeued', 'rejected', 'dropped'] as const;
export type QueueStats = Record<(typeof QUEUE_STATS)[number], number>;

const PAGE = 65536;
const MAX_PAGES = 65536; // must match asconfig.json maximumMemory
const INITIAL_PAGES = 17; // must match asconfig.json initialMemory
export const DEFAULT_SCRATCH_BYTES = (1 << 20) + 64 * 1024;

let noSharingBecause: string | null = null;

/** Tells the loader this runtime has no threads (entry points for such runtimes call it). */
export function disableSharedMemory(reason: string): void { noSharingBecause = reason; }

/** True when this JS environment can share memory between threads. */
export function canShareMemory(): boolean {
  return noSharingBecause === null && typeof SharedArrayBuffer === 'function' &&
    (typeof (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== 'boolean' ||
      (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
}

/** Why workers cannot run here, or null when they can. */
export function whyNoSharedMemory(): string | null {
  if (noSharingBecause !== null) return noSharingBecause;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false)
    return 'the page is not cross-origin isolated, so SharedArrayBuffer is off (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  if (typeof SharedArrayBuffer !== 'function')
    return 'SharedArrayBuffer is not available in this JavaScript environment';
  return null;
}

function imports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      now: monotonicNow,
      abort(msg: number, file: number, line: number, col: number) {
        throw new RingKernelError(`ringkernel core aborted at ${line}:${col} (message @${msg}, file @${file})`);
      },
    },
  };
}

/** A typed array constructor, for Core.view. */
export type TypedViewCtor<T extends ArrayBufferView = ArrayBufferView> = { new (b: ArrayBufferLike, at: number, n: number): T; readonly BYTES_PER_ELEMENT: number };

let serials = 0;

/** One thread's handle on the core: its own instance over the shared memory. */
export class Core {
  /** Tells this handle from every other of this thread (a cache can name it by this, without holding it). */
  readonly serial = ++serials;
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly x: CoreExports;
  /** This thread's staging area: [scratch, scratch + scratchBytes). */
  scratch = 0;
  scratchBytes = 0;
  /**
   * Views of the whole memory. Always valid over this thread's scratch area and every
   * region this thread allocated: growing the memory (only the owner does, in alloc)
   * refreshes them, and a worker refreshes them when it is handed a region (cover).
   */
  mem: Uint8Array;
  dv: DataView;
  /** The same, as 32-bit words: a kernel's state (the first word of its control block) is read here, not through a call. */
  i32: Int32Array;
  /** The same, as other element types (columns copy whole fields through them): made on first use. */
  private typed = new Map<TypedViewCtor, ArrayBufferView>();

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    this.module = module;
    this.memory = memory;
    this.shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
    const instance = new WebAssembly.Instance(module, imports(memory));
    this.x = instance.exports as unknown as CoreExports;
    this.mem = new Uint8Array(memory.buffer);
    this.dv = new DataView(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }

  /** Makes sure the views cover [0, end). Cheap when they already do. */
  cover(end: number): void {
    if (end > this.mem.byteLength || this.mem.byteLength === 0) this.refresh();
  }

  private refresh(): void {
    this.mem = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.typed.clear();
  }

  /** A view of the whole memory (as far as `mem` reaches) as `Ctor`s. */
  view<T extends ArrayBufferView>(Ctor: TypedViewCtor<T>): T {
    let v = this.typed.get(Ctor);
    if (v === undefined) {
      const buf = this.mem.buffer;
      this.typed.set(Ctor, (v = new Ctor(buf, 0, Math.floor(buf.byteLength / Ctor.BYTES_PER_ELEMENT))));
    }
    return v as T;
  }

  /** A constant the core exports (a layout size, say), read from its wasm global. */
  constant(name: string): number {
    const g = (this.x as Record<string, unknown>)[name];
    if (!(g instanceof WebAssembly.Global)) throw new BackendNotAvailableError(`ringkernel core exports no constant ${name} (rebuild it with \`npm run build\`)`);
    return Number(g.value);
  }

  useScratch(ptr: number, bytes: number): void {
    this.scratch = ptr;
    this.scratchBytes = bytes;
    this.cover(ptr + bytes);
  }
}

/**
 * The owner's core: everything a thread's Core has, plus the region allocator.
 * Regions are first-fit from a free list kept here (only the owner allocates).
 */
export class OwnerCore extends Core {
  private top: number;
  private freeList: Array<{ ptr: number; bytes: number }> = [];
  private sizes = new Map<number, number>();

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    super(module, memory);
    this.top = align(this.x.heap_base(), 64);
    const s = this.alloc(DEFAULT_SCRATCH_BYTES);
    this.useScratch(s, DEFAULT_SCRATCH_BYTES);
  }

  /**
   * A zero-filled (unless `zeroed` is false: for a region about to be overwritten), 64-byte
   * aligned region of at least `bytes`. Grows the memory if needed.
   */
  alloc(bytes: number, zeroed = true): number {
    const size = align(Math.max(bytes, 64), 64);
    for (let i = 0; i < this.freeList.length; i++) {
      const f = this.freeList[i]!;
      if (f.bytes >= size) {
        const ptr = f.ptr;
        if (f.bytes === size) this.freeList.splice(i, 1);
        else { f.ptr += size; f.bytes -= size; }
        this.sizes.set(ptr, size);
        if (zeroed) this.mem.fill(0, ptr, ptr + size);
        return ptr;
      }
    }
    const ptr = this.top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES)
        throw new RangeError(`ringkernel: shared memory exhausted (asked for ${size} bytes; the wasm memory tops out at 4 GiB)`);
      this.memory.grow(pages);
    }
    this.top = end;
    this.sizes.set(ptr, size);
    this.cover(end);
    return ptr;
  }

  /** Returns a region to the allocator. */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.freeList.push({ ptr, bytes: size });
    this.freeList.sort((a, b) => a.ptr - b.ptr);
    // merge neighbours so large queues can reuse the space of small ones
    for (let i = this.freeList.length - 1; i > 0; i--) {
      const a = this.freeList[i - 1]!, b = this.freeList[i]!;
      if (a.ptr + a.bytes === b.ptr) { a.bytes += b.bytes; this.freeList.splice(i, 1); }
    }
  }

  /** Bytes carved so far (high-water mark of the region allocator). */
  get carvedBytes(): number { return this.top; }
}

function align(n: number, a: number): number { return Math.ceil(n / a) * a; }

// ---- loading the module ----

/** Where the compiled core comes from, per runtime (see the entry points). */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | (() => Promise<WebAssembly.Module | ArrayBuffer | ArrayBufferView>);

const wasmSource: { shared?: WasmSource; single?: WasmSource } = {};
const compiled: { shared?: Promise<WebAssembly.Module>; single?: Promise<WebAssembly.Module> } = {};

/**
 * Tells the loader where the wasm core is (entry points call this; users rarely need to).
 * `shared` is the build over shared memory (ringkernel.wasm), `single` the one over an
 * ordinary memory (ringkernel-single.wasm).
 */
export function setWasmSource(source: { shared?: WasmSource; single?: WasmSource }): void {
  if (source.shared !== undefined) { wasmSource.shared = source.shared; compiled.shared = undefined; }
  if (source.single !== undefined) { wasmSource.single = source.single; compiled.single = undefined; }
}

/** The wasm file beside the bundle (dist/), or from the sources (tsx) the one in dist/. */
async function defaultSource(file: string): Promise<BufferSource> {
  const beside = packageFile('./' + file);
  if (beside.protocol !== 'file:') {
    try { return await readBytes(beside); } catch (e) {
      throw new BackendNotAvailableError(`ringkernel: fetching the wasm core from ${beside} failed: ${(e as Error).message}`, { cause: e });
    }
  }
  let last: unknown;
  for (const url of [beside, packageFile('../dist/' + file)]) {
    try { return await readBytes(url); } catch (e) { last = e; }
  }
  throw new BackendNotAvailableError(`ringkernel: cannot find the wasm core next to ${import.meta.url} (run \`npm run build\`)`, { cause: last });
}

/** The compiled module (shared-memory build or not), compiled once per thread and cached. */
export function compileCore(shared: boolean): Promise<WebAssembly.Module> {
  const which = shared ? 'shared' : 'single';
  let p = compiled[which];
  if (!p) {
    p = compiled[which] = (async () => {
      let src: WasmSource | undefined = wasmSource[which];
      if (typeof src === 'function') src = await src();
      if (src instanceof WebAssembly.Module) return src;
      if (src === undefined) return WebAssembly.compile(await defaultSource(shared ? 'ringkernel.wasm' : 'ringkernel-single.wasm'));
      if (typeof src === 'string' || src instanceof URL) return WebAssembly.compile(await readBytes(packageFile(String(src))));
      return WebAssembly.compile(src as BufferSource);
    })();
    p.catch(() => { compiled[which] = undefined; });
  }
  return p;
}

/** The single-memory core's bytes, base64, embedded by the build (build.mjs); not under tsx. */
declare const __RINGKERNEL_CORE_SINGLE__: string | undefined;

/**
 * The core over an ordinary memory, compiled synchronously (decoding untrusted bytes needs
 * one, and decode is synchronous), or null where it cannot be had at once. It is small
 * (about 11 KiB), so every runtime compiles it synchronously: from the bytes the bundle
 * embeds, the module an entry point set (workerd), or, running from the TypeScript sources
 * in Node, the built file. A browser that refused (main-thread limits) gets it from
 * compileCore instead (`await ready`).
 */
export function compileCoreSync(): WebAssembly.Module | null {
  const src = wasmSource.single;
  try {
    if (src instanceof WebAssembly.Module) return src;
    if (src instanceof ArrayBuffer || ArrayBuffer.isView(src)) return new WebAssembly.Module(src as BufferSource);
    if (src !== undefined) return null;
    if (typeof __RINGKERNEL_CORE_SINGLE__ === 'string') {
      const text = atob(__RINGKERNEL_CORE_SINGLE__);
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      return new WebAssembly.Module(bytes);
    }
    const fs = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
    if (!fs) return null;
    for (const rel of ['./ringkernel-single.wasm', '../dist/ringkernel-single.wasm']) {
      const url = packageFile(rel);
      if (url.protocol === 'file:' && fs.existsSync(url)) return new WebAssembly.Module(fs.readFileSync(url));
    }
  } catch { /* refused here: the asynchronous path remains */ }
  return null;
}

/** A fresh core over an ordinary memory, made synchronously, or null (see compileCoreSync). */
export function createCoreSync(): OwnerCore | null {
  const module = compileCoreSync();
  if (!module) return null;
  return new OwnerCore(module, new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES }));
}

/**
 * A fresh core for one runtime: its own memory (shared where the environment allows,
 * unless `shared: false`), its own regions.
 */
export async function createCore(options: { shared?: boolean } = {}): Promise<OwnerCore> {
  const shared = options.shared ?? canShareMemory();
  if (shared && !canShareMemory())
    throw new BackendNotAvailableError(`ringkernel: shared memory requested but ${whyNoSharedMemory()}`);
  const module = await compileCore(shared);
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
  return new OwnerCore(module, memory);
}

/** A worker's core: the owner's module and memory, with a scratch area it was handed. */
export function attachCore(module: WebAssembly.Module, memory: WebAssembly.Memory, scratch: number, scratchBytes: number): Core {
  const core = new Core(module, memory);
  core.useScratch(scratch, scratchBytes);
  return core;
}
