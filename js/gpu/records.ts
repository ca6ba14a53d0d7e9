// gpu/records.ts — a GPU kernel's side of its rings: the same rings and records as any
// kernel's, moved in bulk. A batch's input records are popped as columns (assembly/columns.ts)
// into a region of the pump's own in the core's memory: each message's payload (the words
// the GPU reads), message id, priority and send time. The GPU writes the answers' payloads;
// the core makes each answer's record around its payload as it pushes it: a fresh message
// id, the input's message id as correlation id, the input's priority, one send time for the
// batch. One core call a step, no loop over records in JS.
import type { Message } from '../message/message.js';
import { decodeFrom } from '../message/decode.js';
import { FRAME_PREFIX, frameBytes } from '../message/record.js';
import type { KernelInstance } from '../kernel/instance.js';
import { OwnerCore } from '../core/core.js';
import { StateCode } from '../kernel/state.js';
import { RingKernelError } from '../errors.js';
import { epochNow, monotonicNow, timeOrigin } from '../platform.js';
import { Col, layoutBytes, nextSeed, pushLaidOut, seedPool, setPushFields, writeLayout } from '../message/columns.js';

const align8 = (n: number) => (n + 7) & ~7;

/** A message class as the pump lays it out: its records' type and length, its payload bytes. */
export interface PayloadShape { typeId: number; typeName: string; recordLen: number; payloadBytes: number }

/**
 * One batch's room in the core's memory, carved by the owner (GPU kernels run on its thread),
 * kept from batch to batch and made bigger (doubling) only when a batch needs more:
 *   layoutIn, layoutOut   column layouts: the input records' payloads, the answers' payloads
 *   temp                  one record (one that wraps a ring's arena is made or read there)
 *   payloadsIn            `stride` bytes a message: what is uploaded
 *   payloadsOut           the answers' payloads, as read back
 *   ids                   16 bytes a message: its message id, the answer's correlation id
 *   priorities            a byte a message: its priority, the answer's
 *   times                 an f64 a message: its send time (telemetry)
 */
export class BatchRegion {
  private ptr = 0;
  capacity = 0;
  layoutIn = 0;
  layoutOut = 0;
  payloadsIn = 0;
  payloadsOut = 0;
  times = 0;

  constructor(private readonly core: OwnerCore, private readonly input: PayloadShape, private readonly output: PayloadShape,
    /** Bytes a message takes in payloadsIn and payloadsOut (the GPU buffers' strides). */
    private readonly inStride: number, private readonly outStride: number) {}

  /** Makes room for `n` messages (at least). */
  ensure(n: number): void {
    if (n <= this.capacity) return;
    let cap = Math.max(64, this.capacity);
    while (cap < n) cap *= 2;
    this.free();
    const { input, output } = this;
    const fixed = 2 * align8(layoutBytes(1)) + align8(Math.max(input.recordLen, output.recordLen));
    const per = this.inStride + this.outStride + 16 + 1 + 8;
    const bytes = fixed + cap * per + 64;
    const at = this.core.alloc(bytes);
    this.ptr = at;
    this.capacity = cap;
    let p = at;
    const take = (size: number) => { const q = p; p = align8(p + size); return q; };
    this.layoutIn = take(layoutBytes(1));
    this.layoutOut = take(layoutBytes(1));
    const temp = take(Math.max(input.recordLen, output.recordLen));
    this.payloadsIn = take(cap * this.inStride);
    this.payloadsOut = take(cap * this.outStride);
    const ids = take(cap * 16), priorities = take(cap);
    this.times = take(cap * 8);
    const field = (column: number, s: PayloadShape) => (s.payloadBytes > 0 ? [{ column, bytes: s.payloadBytes, offset: 0 }] : []);
    writeLayout(this.core, this.layoutIn, { typeId: input.typeId, recordLen: input.recordLen, fields: field(this.payloadsIn, input), temp, times: this.times, ids, priorities });
    writeLayout(this.core, this.layoutOut, { typeId: output.typeId, recordLen: output.recordLen, fields: field(this.payloadsOut, output), temp, times: 0, ids, priorities });
  }

  free(): void {
    if (this.ptr !== 0) this.core.free(this.ptr);
    this.ptr = 0;
    this.capacity = 0;
  }
}

/** The pump's region pair for an instance: owner-carved. */
export function ownerCore(inst: KernelInstance): OwnerCore {
  const core = inst.hub.core;
  if (!(core instanceof OwnerCore)) throw new RingKernelError(`GPU kernel '${inst.id}' must run on the thread that owns its runtime`, { kernelId: inst.id, operation: 'launch' });
  return core;
}

/**
 * Pops up to `max` input records of the kernel into `region` as columns (0 unless active):
 * one core call. A batch ends before a record of another type (or length); one at the head
 * is taken into the kernel's dead letters, with the MessageDecodeError naming it.
 */
export function takeBatch(inst: KernelInstance, region: BatchRegion, max: number): number {
  if (inst.stopping || inst.code !== StateCode.ACTIVE) return 0;
  const core = inst.hub.core, x = core.x, dv = core.dv;
  region.ensure(Math.min(max, Math.max(1, inst.input.depth)));
  for (;;) {
    const n = x.queue_pop_columns(inst.input.ptr, region.layoutIn, Math.min(max, region.capacity));
    if (n > 0) { inst.hub.wakeSpace(inst.input); return n; }
    // the next record is not of the kernel's input class (bytes another thread wrote): it
    // goes to the dead letters, counted, and the batch is taken from the next one on
    if (dv.getUint32(region.layoutIn + Col.BLOCKED, true) === 0 || !inst.dropNotOfClass(region.layoutIn)) return 0;
  }
}

/** Counts a batch of `count` taken at `takenAt` (monotonicNow()) as handled now: one core call. */
export function batchHandled(inst: KernelInstance, region: BatchRegion, count: number, takenAt: number): void {
  // (a failed kernel's batches in hand were counted as interrupted when it failed)
  if (count === 0 || !inst.telemetry || inst.released || inst.code === StateCode.FAILED) return;
  const t = monotonicNow();
  inst.hub.core.x.kcb_record_batch(inst.kcb, region.times, count, timeOrigin + t, t - takenAt, t);
}

/**
 * Sends the `count` answers laid out in `region` (their payloads in payloadsOut) where the
 * kernel's sends go: its output queue, or the kernels it is connected to, as records made
 * by the core, with one send time. Routes that choose per message (round-robin, by key)
 * decode them.
 */
export function sendAnswers(inst: KernelInstance, region: BatchRegion, count: number): Promise<void> {
  if (inst.stopping && inst.code !== StateCode.TERMINATING) return Promise.reject(inst.stoppedError('send'));
  const core = inst.hub.core;
  const s = nextSeed(); // one seed for the batch's message ids
  setPushFields(core, region.layoutOut, epochNow(), seedPool[s]!, seedPool[s + 1]!, seedPool[s + 2]!, seedPool[s + 3]!, 0, 0);
  const who = inst.sendWho;
  const route = inst.route;
  if (route === null) return pushLaidOut(inst.hub, inst.output, region.layoutOut, count, who, inst.id, undefined, inst.sendCancelled);
  if (route.mode === 'one' || route.mode === 'broadcast') {
    return Promise.all(route.targets.map((t) => {
      const gone = t.goneAsTarget(inst.id);
      if (gone) return Promise.reject(gone);
      return pushLaidOut(t.hub, t.input, region.layoutOut, count, who, t.id, undefined, () => inst.sendCancelled() ?? t.receiveCancelled());
    })).then(() => undefined);
  }
  // per message: the records, made in scratch a chunk at a time, decoded
  const recordLen = core.dv.getUint32(region.layoutOut + Col.RECORD_LEN, true);
  const stride = frameBytes(recordLen);
  const per = Math.floor(core.scratchBytes / stride);
  const msgs: Message[] = [];
  for (let i = 0; i < count; i += per) {
    const k = Math.min(per, count - i);
    core.x.columns_write_records(region.layoutOut, i, k, core.scratch);
    for (let j = 0; j < k; j++) msgs.push(decodeFrom(core.mem, core.dv, core.scratch + j * stride + FRAME_PREFIX, recordLen));
  }
  return inst.sendOutMany(msgs, undefined);
}
