// routing.ts — where a connected kernel's sends go (runtime.connect): one target, or several
// by round-robin, broadcast or key. Each send still goes into the target's input ring.
import { Message } from '../message/message.js';
import { either, type Who } from '../core/hub.js';
import type { KernelInstance } from './instance.js';
import { MessageTypeError, RingKernelError } from '../errors.js';
import { fnv1a } from '../message/hash.js';

/** Where a kernel's sends go once `connect` wired it to others. */
export interface Route {
  targets: KernelInstance[];
  mode: 'one' | 'round-robin' | 'broadcast' | 'key';
  /** The mode connect was asked for (mode is 'one' for a single target), for topology(). */
  connectMode: 'round-robin' | 'broadcast' | 'key';
  key: ((m: Message) => unknown) | undefined;
  next: number;
  /**
   * False when connect could not check classes (the sender declares no output class): each
   * send is then checked against its target's input class (MessageTypeError).
   */
  checked: boolean;
  /** For mode 'key' by a field: its name (a worker's copy of the route is made from it). */
  keyField?: string | undefined;
}

/** Why `target` cannot take `m` from kernel `from` (its input is of another class), or null. */
export function wrongClass(target: KernelInstance, m: Message, from: string, operation: string): MessageTypeError | null {
  const takes = target.takes;
  const C = m.constructor as { typeId?: number; typeName?: string; name: string };
  if (takes === null || C.typeId === takes.typeId) return null;
  const actual = C.typeName ?? C.name;
  return new MessageTypeError(`${operation} from kernel '${from}' to kernel '${target.id}': it takes ${takes.typeName} messages, got ${actual}; nothing was sent`,
    { kernelId: from, operation, expected: takes.typeName, actual });
}

/** The key of mode 'key' routing by a field: the same on the owner and in a worker. */
export function keyOfField(field: string): (m: Message) => unknown {
  return (m) => (m as unknown as Record<string, unknown>)[field];
}

export function sendRouted(route: Route, msg: Message, who: Who, timeout: number | undefined, cancelled: () => Error | null,
  sentAt: number): Promise<void> {
  const ts = route.targets;
  switch (route.mode) {
    case 'one': return sendTo(ts[0]!, route, msg, who, timeout, cancelled, sentAt);
    case 'round-robin': return sendTo(ts[nextInRotation(route)]!, route, msg, who, timeout, cancelled, sentAt);
    case 'broadcast': return Promise.all(ts.map((t) => sendTo(t, route, msg, who, timeout, cancelled, sentAt))).then(() => undefined);
    case 'key': return sendTo(ts[hashKey(route.key!(msg)) % ts.length]!, route, msg, who, timeout, cancelled, sentAt);
  }
  return Promise.reject(new RingKernelError(`unknown route mode for kernel '${who.kernelId}'`, who));
}

/** One routed send into target `t`'s input, stamped `sentAt` (the sender read the clock once for it). */
function sendTo(t: KernelInstance, route: Route, msg: Message, who: Who, timeout: number | undefined,
  cancelled: () => Error | null, sentAt: number): Promise<void> {
  const gone = t.goneAsTarget(who.kernelId) ?? (route.checked ? null : wrongClass(t, msg, who.kernelId, who.operation));
  if (gone) return Promise.reject(gone);
  const sent = t.hub.push(t.input, msg, who, t.id, timeout, cancelled, sentAt, t.receiveCancelled);
  // into a worker kernel, from this thread (the owner's inline kernels): the pool's threads
  // stay referenced until it is in and taken (js/worker/pool.ts)
  return t.worker ? t.worker.hold(sent) : sent;
}

/** What sharing out needs of a route: how many targets, the mode, the key, the rotation. */
export interface RouteShape {
  readonly targets: readonly unknown[];
  readonly mode: Route['mode'];
  readonly key: ((m: Message) => unknown) | undefined;
  next: number;
}

/** The round-robin target for the next message. */
function nextInRotation(route: RouteShape): number {
  const i = route.next;
  route.next = (i + 1) % route.targets.length;
  return i;
}

/**
 * sendMany through a route: the messages are shared out as one-by-one sends would share them
 * (round-robin goes on from where it was, by key, every target for broadcast), and each
 * target's share goes into its queue as one batch, in order. The shares go at once; the call
 * resolves when every share is in and rejects with the first refusal (other targets' shares
 * still go in). `refused` may handle a share's refusal (the sender's route changed: terminate).
 */
export function sendRoutedMany(route: Route, msgs: readonly Message[], who: Who, timeout: number | undefined,
  cancelled: () => Error | null, refused?: (e: unknown, share: readonly Message[]) => Promise<void>): Promise<void> {
  const bad = msgs.findIndex((m) => !(m instanceof Message));
  if (bad >= 0) return Promise.reject(new MessageTypeError(`${who.operation} from kernel '${who.kernelId}': item ${bad} is not a message; nothing was sent`,
    { ...who, expected: null, actual: typeof msgs[bad] }));
  const ts = route.targets;
  const shares = shareOut(route, msgs);
  if (shares === null) return Promise.reject(new RingKernelError(`unknown route mode for kernel '${who.kernelId}'`, who));
  return Promise.all(shares.map((share, i) => {
    if (share.length === 0) return undefined;
    const t = ts[i]!;
    let gone = t.goneAsTarget(who.kernelId);
    if (!gone && !route.checked) for (const m of share) if ((gone = wrongClass(t, m, who.kernelId, who.operation))) break;
    if (gone) return Promise.reject(gone);
    const p = t.hub.pushMany(t.input, share, who, t.id, timeout, either(cancelled, t.receiveCancelled));
    const held = t.worker ? t.worker.hold(p) : p; // into a worker kernel: see sendRouted
    return refused ? held.catch((e) => refused(e, share)) : held;
  })).then(() => undefined);
}

/**
 * Each target's share of `msgs` (index i: route.targets[i]), in order, as one-by-one sends
 * would share them; null for an unknown mode. Also the outbox's, for remote targets.
 */
export function shareOut(route: RouteShape, msgs: readonly Message[]): (readonly Message[])[] | null {
  const ts = route.targets;
  switch (route.mode) {
    case 'one': return [msgs];
    case 'broadcast': return ts.map(() => msgs);
    case 'round-robin': case 'key': {
      const split: Message[][] = ts.map(() => []);
      for (const m of msgs) split[route.mode === 'key' ? hashKey(route.key!(m)) % ts.length : nextInRotation(route)]!.push(m);
      return split;
    }
  }
  return null;
}

/** A stable, non-negative hash of a routing key (numbers route by value). */
export function hashKey(k: unknown): number {
  if (typeof k === 'number' && Number.isInteger(k)) return Math.abs(k);
  return fnv1a(String(k));
}
