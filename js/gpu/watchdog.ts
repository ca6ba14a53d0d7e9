// gpu/watchdog.ts — a GPU that never answers a batch fails it instead of hanging its kernel.
import { RingKernelError } from '../errors.js';
import { monotonicNow } from '../platform.js';

const WAIT_MS = 10_000;

/**
 * Rejects a batch the GPU has not answered within WAIT_MS. One watchdog timer per runner,
 * not one per batch: a timer made and cleared per dispatch slows Dawn's event delivery in
 * Node by about 100 us a batch.
 */
export function watchdog(kernelId: string) {
  const pending = new Set<{ since: number; reject(e: Error): void }>();
  let timer: ReturnType<typeof setInterval> | null = null;
  const check = () => {
    const late = monotonicNow() - WAIT_MS;
    for (const p of pending) {
      if (p.since > late) continue;
      pending.delete(p);
      p.reject(new RingKernelError(`GPU kernel '${kernelId}': reading results back did not finish within ${WAIT_MS} ms`, { kernelId, operation: 'dispatch' }));
    }
    if (pending.size === 0 && timer !== null) { clearInterval(timer); timer = null; }
  };
  return {
    guard<T>(work: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const entry = { since: monotonicNow(), reject };
        pending.add(entry);
        if (timer === null) {
          timer = setInterval(check, WAIT_MS / 4);
          (timer as { unref?: () => void }).unref?.();
        }
        work.then((v) => { pending.delete(entry); resolve(v); }, (e) => { pending.delete(entry); reject(e); });
      });
    },
    stop() { if (timer !== null) clearInterval(timer); timer = null; },
  };
}
