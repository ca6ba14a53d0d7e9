// gpu/records.ts — a GPU kernel's side of its rings: the same rings as any kernel's, the
// records left undecoded (the GPU reads and writes them as they are).
import type { Message } from '../message.js';
import { decodeFrom } from '../decode.js';
import type { SendOptions } from '../context.js';
import type { KernelInstance } from '../instance.js';
import { StateCode } from '../state.js';
import { countHandled } from '../telemetry.js';
import { monotonicNow } from '../platform.js';
import { FRAME_PREFIX, frameBytes } from '../record.js';

/**
 * Pops up to `max` records into this thread's scratch area as [u32 length][record,
 * padded to 4]... and returns how many (0 unless active). `sentAt` gets each record's
 * send time, for telemetry once the records are handled (recordsHandled).
 */
export function takeRecords(inst: KernelInstance, max: number, sentAt: number[]): number {
  if (inst.stopping || inst.code !== StateCode.ACTIVE) return 0;
  return inst.hub.popRecords(inst.input, max, sentAt);
}

/** Counts records taken at `takenAt` (monotonicNow()) with these send times as handled now. */
export function recordsHandled(inst: KernelInstance, sentAt: readonly number[], takenAt: number): void {
  if (sentAt.length === 0 || !inst.telemetry || inst.released) return;
  countHandled(inst.hub.core.x, inst.kcb, sentAt, takenAt, monotonicNow());
}

/**
 * Sends `count` encoded records ([u32 length][record, padded to 4]... in `records`, whose
 * timestamps it sets) where the kernel's sends go: its output queue, or the kernels it
 * is connected to. Routes that choose per message (round-robin, by key) decode them.
 */
export function sendOutRecords(inst: KernelInstance, records: Uint8Array, count: number, options: SendOptions | undefined): Promise<void> {
  if (inst.stopping && inst.code !== StateCode.TERMINATING) return Promise.reject(inst.stoppedError('send'));
  const who = inst.sendWho;
  const route = inst.route;
  const timeout = options?.timeout;
  if (route === null) return inst.hub.pushRecords(inst.output, records, count, who, inst.id, timeout, inst.sendCancelled);
  if (route.mode === 'one' || route.mode === 'broadcast') {
    return Promise.all(route.targets.map((t) => {
      const gone = t.goneAsTarget(inst.id);
      if (gone) return Promise.reject(gone);
      return t.hub.pushRecords(t.input, records, count, who, t.id, timeout, () => inst.sendCancelled() ?? t.receiveCancelled());
    })).then(() => undefined);
  }
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const msgs: Message[] = [];
  for (let k = 0, p = 0; k < count; k++) {
    const len = dv.getUint32(p, true);
    msgs.push(decodeFrom(records, dv, p + FRAME_PREFIX, len));
    p += frameBytes(len);
  }
  return inst.sendOutMany(msgs, options);
}
