// worker/thread.ts — starting a worker thread and talking to it, the same way in Node
// (worker_threads), browsers, Deno and Bun (Web Workers). Only control messages travel
// this way (launch, terminate, routes); kernel messages cross the shared rings.
import { isNode } from '../platform.js';
import { BackendNotAvailableError, RingKernelError } from '../errors.js';

export interface WorkerHandle {
  post(message: unknown): void;
  onMessage(listener: (message: any) => void): void;
  /** The thread ended (Node: exit code; web: an uncaught error), or cannot start. */
  onExit(listener: (reason: string) => void): void;
  terminate(): Promise<void>;
  /**
   * Whether the thread keeps the process alive (Node and Bun; a no-op in Deno, whose Worker
   * cannot be unreferenced, and in browsers, which have no process to end).
   */
  keepAlive(on: boolean): void;
}

/** Starts a module worker running `url`. */
export async function startWorker(url: URL, name: string): Promise<WorkerHandle> {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    // The worker inherits node's flags (--import tsx, --conditions, ...), but not one that
    // only makes sense for `node -e`. Leaving that out means listing the flags, and a listed
    // flag a worker cannot take itself (--max-old-space-size, --trace-gc) is refused: those
    // stay with the process, as they do when a worker inherits.
    let execArgv: string[] | undefined;
    if (process.execArgv.some((a) => a.startsWith('--input-type'))) execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    let w: InstanceType<typeof Worker>;
    try {
      w = new Worker(url, { name, execArgv });
    } catch (e) {
      if (execArgv === undefined || (e as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
      const refused = new Set(String((e as Error).message).replace(/^.*flags: /, '').split(', '));
      w = new Worker(url, { name, execArgv: execArgv.filter((a) => !refused.has(a)) });
    }
    let ended = false;
    const exitListeners: Array<(reason: string) => void> = [];
    const end = (reason: string) => { if (!ended) { ended = true; for (const f of exitListeners) f(reason); } };
    w.on('error', (e) => end(`it threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`));
    w.on('exit', (code) => end(`it exited with code ${code}`));
    return {
      post: (m) => w.postMessage(m),
      onMessage: (f) => { w.on('message', f); },
      onExit: (f) => { exitListeners.push(f); },
      terminate: async () => { ended = true; await w.terminate(); },
      keepAlive: (on) => { if (on) w.ref(); else w.unref(); },
    };
  }
  const W = (globalThis as { Worker?: new (u: URL | string, o?: object) => Worker }).Worker;
  if (!W) throw new BackendNotAvailableError('this JavaScript environment has no Worker');
  const w = new W(url, { type: 'module', name });
  let ended = false;
  const exitListeners: Array<(reason: string) => void> = [];
  // A web worker may go on after an uncaught error (a browser's does; Deno's when the error
  // event is cancelled, as here): it is ended, so that a thread reported gone is gone — the
  // owner may start its kernels again on another thread (docs/supervision.md).
  const end = (reason: string) => { if (!ended) { ended = true; w.terminate(); for (const f of exitListeners) f(reason); } };
  w.addEventListener('error', (e: Event) => { e.preventDefault?.(); end(`it threw ${(e as ErrorEvent).message ?? 'an error'}`); });
  w.addEventListener('messageerror', () => end('a control message could not be read'));
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.addEventListener('message', (e: MessageEvent) => f(e.data)),
    onExit: (f) => { exitListeners.push(f); },
    terminate: async () => { ended = true; w.terminate(); },
    // Bun's Worker has ref/unref as Node's does; Deno's and browsers' have not
    keepAlive: (on) => { const x = w as { ref?(): void; unref?(): void }; if (on) x.ref?.(); else x.unref?.(); },
  };
}

export interface ParentPort {
  post(message: unknown): void;
  onMessage(listener: (message: any) => void): void;
}

/** Inside a worker: the channel to the thread that started it. */
export async function parentPort(): Promise<ParentPort> {
  if (isNode) {
    const { parentPort: port } = await import('node:worker_threads');
    if (!port) throw new RingKernelError('ringkernel worker host started outside a worker thread');
    return { post: (m) => port.postMessage(m), onMessage: (f) => { port.on('message', f); } };
  }
  const self = globalThis as unknown as { postMessage(m: unknown): void; addEventListener(t: string, f: (e: MessageEvent) => void): void };
  return { post: (m) => self.postMessage(m), onMessage: (f) => self.addEventListener('message', (e) => f(e.data)) };
}
