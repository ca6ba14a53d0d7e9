// supervision/events.ts — runtime.events: an EventTarget that tells an application when a
// kernel failed, restarted or put a message in its dead letters, so it can log or alert.
//
// EventTarget is in every runtime ringkernel supports (Node, Deno, Bun, browsers, workerd);
// CustomEvent too, except Node before 19 without a flag: there a plain Event with a
// `detail` property stands in, so listeners read `event.detail` either way.
import type { DeadLetter } from './dead-letters.js';

/** `detail` of each event; every one names the kernel. */
export interface KernelEventDetails {
  /** The kernel failed for good: it threw, or its worker thread died, with no restart left (or no policy). */
  failed: { kernelId: string; error: unknown; restarts: number };
  /** The kernel function threw, or its worker thread died, and it is started again after `delayMs`. */
  restarted: { kernelId: string; error: unknown; restarts: number; delayMs: number };
  /** A message (or undecodable bytes) went to the kernel's dead letters. */
  deadletter: { kernelId: string; letter: DeadLetter };
}

export type KernelEventType = keyof KernelEventDetails;

export type KernelEvent<T extends KernelEventType = KernelEventType> = Event & { readonly detail: KernelEventDetails[T] };

const HasCustomEvent = typeof CustomEvent === 'function';

/** An event of `type` carrying `detail`. */
export function kernelEvent<T extends KernelEventType>(type: T, detail: KernelEventDetails[T]): KernelEvent<T> {
  if (HasCustomEvent) return new CustomEvent(type, { detail }) as KernelEvent<T>;
  const e = new Event(type);
  Object.defineProperty(e, 'detail', { value: detail, enumerable: true });
  return e as KernelEvent<T>;
}

/**
 * Sends an event, after the current task's synchronous work: a listener that throws or
 * calls back into the runtime cannot disturb the lifecycle step that caused the event.
 * (dispatchEvent reports a listener's exception itself, and goes on with the next one.)
 */
export function emit<T extends KernelEventType>(target: EventTarget, type: T, detail: KernelEventDetails[T]): void {
  queueMicrotask(() => target.dispatchEvent(kernelEvent(type, detail)));
}
