// taken.ts — messages popped from a ring in one call into the core and handed out one by
// one: a kernel's input (its for-await / receive) and the host's receive from a kernel's
// output. One pop per batch instead of per message; the messages are decoded at the pop
// (the scratch area they come through is reused), a record that does not decode sits in
// its place as its error, thrown when its turn comes.
import { Message } from './message.js';
import type { Hub } from './hub.js';
import type { Ring } from './ring.js';

export class TakenBatch {
  private readonly items: unknown[] = [];
  private readonly sentAt: number[] = [];
  private next = 0;

  /** Messages taken and not yet handed out. */
  get size(): number { return this.items.length - this.next; }

  /** Pops up to `max` from `ring` (call it empty); how many came. */
  fill(hub: Hub, ring: Ring, max: number): number {
    this.items.length = 0;
    this.sentAt.length = 0;
    this.next = 0;
    return hub.popInto(ring, max, this.items, this.sentAt);
  }

  /** The next message (size > 0), its send time pushed onto `times` when given; throws a record's decode error. */
  shift(times: number[] | null): Message {
    const i = this.next++;
    const v = this.items[i];
    this.items[i] = undefined; // the receiver owns it now
    if (times !== null) times.push(this.sentAt[i]!);
    if (!(v instanceof Message)) throw v;
    return v;
  }

  /** Up to `max` messages into `out` (send times onto `times`); a decode error is thrown only when nothing came before it, else skipped (as Hub.popMany). */
  shiftInto(out: Message[], max: number, times: number[] | null): void {
    while (out.length < max && this.size > 0) {
      try { out.push(this.shift(times)); } catch (e) { if (out.length === 0) throw e; }
    }
  }
}
