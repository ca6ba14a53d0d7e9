// taken.ts — messages popped from a ring in one call into the core and handed out one by
// one: a kernel's input (its for-await / receive) and the host's receive from a kernel's
// output. One pop per batch instead of per message; the messages are decoded at the pop
// (the scratch area they come through is reused), a record that does not decode sits in
// its place as its error, thrown when its turn comes.
import { Message } from '../message/message.js';
import type { Hub } from '../core/hub.js';
import type { Ring } from '../core/ring.js';

export class TakenBatch {
  // written by index and never truncated: V8 keeps the backing stores (see instance.inHand)
  private readonly items: unknown[] = [];
  private readonly sentAt: number[] = [];
  private count = 0;
  private next = 0;
  /** The send time (ms since the epoch) of the message shift() handed out last. */
  lastSentAt = 0;

  /** Messages taken and not yet handed out. */
  get size(): number { return this.count - this.next; }

  /** Pops up to `max` from `ring` (call it empty); how many came. */
  fill(hub: Hub, ring: Ring, max: number): number {
    this.next = 0;
    return (this.count = hub.popInto(ring, max, this.items, this.sentAt));
  }

  /** How many of the next messages, up to `max`, are instances of `cls` (a run from the next one on). */
  leadingRun(cls: abstract new (...a: never[]) => unknown, max: number): number {
    let k = 0;
    while (k < max && this.next + k < this.count && this.items[this.next + k] instanceof cls) k++;
    return k;
  }

  /** The next message or decode error, left where it is (size > 0). */
  peek(): unknown { return this.items[this.next]; }

  /** The next message (size > 0; its send time in lastSentAt); throws a record's decode error. */
  shift(): Message {
    const i = this.next++;
    const v = this.items[i];
    this.items[i] = undefined; // the receiver owns it now
    this.lastSentAt = this.sentAt[i]!;
    if (!(v instanceof Message)) throw v;
    return v;
  }
}
