// Assertions shared by the runtime tests: typed rejections and throws, time limits, polling.
import * as assert from 'uvu/assert';
import { RingKernelRuntime } from '../../js/index.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();

export type Ctor<E> = abstract new (...args: any[]) => E;

/** Calls `f`, which must return a promise (not throw), and expects it to reject with `cls`. */
export async function rejects<E>(f: () => unknown, cls: Ctor<E>, what: string): Promise<E> {
  let p: unknown;
  try { p = f(); } catch (e) { assert.unreachable(`${what}: threw synchronously (${String(e)}) instead of returning a rejected promise`); }
  assert.ok(p instanceof Promise, `${what}: did not return a promise`);
  let ok = false, err: unknown;
  try { await p; ok = true; } catch (e) { err = e; }
  if (ok) assert.unreachable(`${what}: resolved; expected ${cls.name}`);
  assert.ok(err instanceof cls, `${what}: expected ${cls.name}, got ${String(err)}`);
  return err as E;
}

/** Expects `f` to throw `cls` synchronously. */
export function throws<E>(f: () => unknown, cls: Ctor<E>, what: string): E {
  let ok = false, err: unknown;
  try { f(); ok = true; } catch (e) { err = e; }
  if (ok) assert.unreachable(`${what}: did not throw; expected ${cls.name}`);
  assert.ok(err instanceof cls, `${what}: expected ${cls.name}, got ${String(err)}`);
  return err as E;
}

/** Resolves with p's value, or fails the test when p takes longer than `ms`. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms); });
  try { return await Promise.race([p, limit]); } finally { clearTimeout(timer); }
}

/** Polls `cond` until true (or fails after `ms`). */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = now() + ms;
  while (!cond()) {
    if (now() > end) assert.unreachable(`${what}: not true within ${ms} ms`);
    await sleep(2);
  }
}

/** Settlement state of a promise, without waiting for it. */
export function track<T>(p: Promise<T>) {
  const s = { settled: false, value: undefined as T | undefined, error: undefined as unknown, at: 0 };
  p.then((v) => { s.settled = true; s.value = v; s.at = now(); }, (e) => { s.settled = true; s.error = e; s.at = now(); });
  return s;
}

/** Runs `body` with a fresh runtime that is shut down afterwards whatever happens. */
export async function withRuntime(body: (rt: RingKernelRuntime) => Promise<void>, options = {}): Promise<void> {
  const rt = new RingKernelRuntime(options);
  try { await body(rt); } finally { await rt.shutdown({ timeout: 300 }); }
}
