// platform.ts — what differs between the JavaScript environments ringkernel runs in (Node,
// Deno, Bun, browsers, workerd), decided once here: which one this is, the clocks, reading
// the package's own files (the wasm core, the GPU shaders), Atomics.waitAsync, running a
// task of its own, and the cores there are. Starting worker threads is js/worker/thread.ts.
import { BackendNotAvailableError } from './errors.js';

const g = globalThis as { Deno?: unknown; Bun?: unknown; process?: { versions?: { node?: string } } };

/**
 * The environment. Deno and Bun also set process.versions.node; they count as themselves.
 * 'web': a browser page or worker, or workerd.
 */
export const runtimeKind: 'node' | 'deno' | 'bun' | 'web' =
  g.Deno !== undefined ? 'deno' : g.Bun !== undefined ? 'bun' : g.process?.versions?.node ? 'node' : 'web';
/** Node itself (worker_threads, node:os), not Deno or Bun. */
export const isNode = runtimeKind === 'node';

// ---- clocks ----

const perf: { now(): number; timeOrigin?: number } = typeof performance !== 'undefined' ? performance : { now: () => Date.now() };
/** Milliseconds, monotonic: the clock of deadlines, busy times and the core's `now` import. */
export const monotonicNow: () => number = () => perf.now();
/** monotonicNow() + timeOrigin = milliseconds since the Unix epoch. */
export const timeOrigin: number = typeof perf.timeOrigin === 'number' ? perf.timeOrigin : Date.now() - perf.now();
/** Milliseconds since the Unix epoch, sub-millisecond where the platform allows: the clock of record timestamps. */
export const epochNow: () => number = () => timeOrigin + perf.now();

// ---- the package's own files ----

/**
 * The URL of a file of the package, `path` relative to the bundle (dist/index.js): this
 * module sits at the same depth in the sources (js/platform.ts), so under tsx the same
 * path reaches the same file.
 */
export function packageFile(path: string): URL { return new URL(path, import.meta.url); }

/** The bytes at `url`: read from disk for a file: URL (Node, Deno, Bun), fetched otherwise. */
export async function readBytes(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return (await readFile(url)) as Uint8Array<ArrayBuffer>; // a Buffer over its own (not shared) memory
  }
  const res = await fetch(url);
  if (!res.ok) throw new BackendNotAvailableError(`cannot load ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The text at `url`, as readBytes finds it. */
export async function readText(url: URL): Promise<string> {
  return new TextDecoder().decode(await readBytes(url));
}

// ---- Atomics.waitAsync (ES2024, not in the ES2022 lib this package compiles against) ----

export type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const atomics = Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, t: number) => WaitAsyncResult };
/** Whether Atomics.waitAsync exists here (Node 16+, Deno, Chromium; not every browser). */
export const hasWaitAsync = typeof atomics.waitAsync === 'function';

/** Atomics.waitAsync on the i32 at byte `addr` of `memory`, while it holds `value`, for up to `ms` (Infinity: no limit). */
export function waitAsync(memory: WebAssembly.Memory, addr: number, value: number, ms: number): WaitAsyncResult {
  return atomics.waitAsync!(new Int32Array(memory.buffer, addr, 1), 0, value, ms);
}

// ---- tasks ----

let taskChannel: { queue: Array<() => void>; port: MessagePort } | null = null;
/**
 * Runs `fn` as a task of its own, after the microtasks queued so far: a spin there cannot
 * hold back work this thread was about to do (which may be what it waits for).
 */
export function nextTask(fn: () => void): void {
  if (typeof setImmediate === 'function') { setImmediate(fn); return; }
  // workerd has neither setImmediate nor MessageChannel (js/kernel/pace.ts yields there too)
  if (typeof MessageChannel !== 'function') { setTimeout(fn, 0); return; }
  if (taskChannel === null) { // browsers
    const ch = new MessageChannel();
    const queue: Array<() => void> = [];
    ch.port1.onmessage = () => queue.shift()!();
    taskChannel = { queue, port: ch.port2 };
  }
  taskChannel.queue.push(fn);
  taskChannel.port.postMessage(0);
}

// ---- timers ----

const denoTimers = (globalThis as { Deno?: { refTimer?(id: number): void; unrefTimer?(id: number): void } }).Deno;
/**
 * Lets a pending timer keep this process alive (`on`) or not, where the runtime has that
 * notion: Node and Bun (a timer's ref / unref), Deno (Deno.refTimer / unrefTimer). False
 * elsewhere, where a caller that must not keep a process waiting clears the timer instead.
 */
export function keepAlive(timer: ReturnType<typeof setTimeout>, on: boolean): boolean {
  const t = timer as unknown as { ref?(): unknown; unref?(): unknown };
  if (typeof t.ref === 'function' && typeof t.unref === 'function') { if (on) t.ref(); else t.unref(); return true; }
  if (typeof timer === 'number' && typeof denoTimers?.refTimer === 'function' && typeof denoTimers.unrefTimer === 'function') {
    if (on) denoTimers.refTimer(timer); else denoTimers.unrefTimer(timer);
    return true;
  }
  return false;
}

// ---- cores ----

/** Cores available to this process, for the default pool size. */
export async function availableCores(): Promise<number> {
  if (isNode) {
    const os = await import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 2;
}
