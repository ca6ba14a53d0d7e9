// gpu/pump.ts — GPU placement: a ring kernel whose handler is WGSL. WebGPU has no persistent
// kernels, so "persistent" means: the device, pipeline, buffers and the kernel's declared
// state are made once at launch and stay on the GPU, and a pump on the owner's thread keeps
// submitting bounded dispatches while the mailbox has work. The pump is the kernel's own
// function (receiveMany -> GPU -> sendMany), so lifecycle, backpressure and telemetry are
// exactly those of any kernel: messages still cross the rings as bytes.
//
// Batches: receiveMany hands over everything waiting (up to 4096), so a lone message goes
// at once and a busy mailbox goes in large dispatches.
import type { KernelDefinition } from '../kernel.js';
import type { KernelContext } from '../context.js';
import type { Message } from '../message.js';
import { BackendNotAvailableError, MessageDecodeError, QueueFullError, MessageTypeError } from '../errors.js';
import type { KernelInstance } from '../instance.js';
import { monotonicNow } from '../platform.js';
import { FRAME_PREFIX, HEADER_BYTES, frameWords, recordTypeId } from '../record.js';
import { findGpu } from './device.js';
import { slotsOf, words, type Slot } from './wgsl.js';
import { deviceLost, gpuRunner, type Runner } from './runner.js';
import { recordsHandled, sendOutRecords, takeRecords } from './records.js';

/**
 * The pump of a kernel running on the GPU: while one batch is on the GPU, the next one —
 * whatever has arrived meanwhile, up to MAX_BATCH — is popped, uploaded and dispatched, so
 * a lone message goes at once and a busy mailbox goes in large dispatches. Records go from
 * the input ring to the GPU and from the GPU to the output ring as bytes; answers leave in
 * mailbox order.
 */
function gpuPump(id: string, def: KernelDefinition, runner: Runner, inSlots: Slot[]) {
  const inBytes = frameWords(words(inSlots)) * 4;
  const inType = def.input!.typeId, inName = def.input!.typeName;
  let staging = new ArrayBuffer(64 * inBytes);
  interface Batch { answers: Promise<Uint8Array>; count: number; sentAt: number[]; takenAt: number }

  /** Pops up to maxBatch records into `staging`, checking each is an input message. */
  const take = (inst: KernelInstance): Batch | null => {
    const core = inst.hub.core;
    const sentAt: number[] = [];
    const takenAt = monotonicNow();
    let count = 0;
    while (count < runner.maxBatch) {
      const k = takeRecords(inst, runner.maxBatch - count, sentAt);
      if (k === 0) break;
      for (let r = 0, p = core.scratch; r < k; r++, p += inBytes) {
        const len = core.dv.getUint32(p, true), type = recordTypeId(core.dv, p + FRAME_PREFIX);
        if (type !== inType || len !== inBytes - FRAME_PREFIX) {
          throw new MessageDecodeError(`GPU kernel '${id}' received a record of type id ${type} and ${len} bytes; it takes ${inName} (type id ${inType}, ${inBytes - FRAME_PREFIX} bytes)`, { kernelId: id, operation: 'receive', offset: 0 });
        }
      }
      if ((count + k) * inBytes > staging.byteLength) {
        const bigger = new ArrayBuffer(Math.min(runner.maxBatch, 2 * (count + k)) * inBytes);
        new Uint8Array(bigger).set(new Uint8Array(staging, 0, count * inBytes));
        staging = bigger;
      }
      new Uint8Array(staging, count * inBytes, k * inBytes).set(core.mem.subarray(core.scratch, core.scratch + k * inBytes));
      count += k;
    }
    return count === 0 ? null : { answers: runner.submit(staging, count), count, sentAt, takenAt };
  };

  const finish = async (inst: KernelInstance, batch: Batch) => {
    const answers = await batch.answers;
    try {
      await sendOutRecords(inst, answers, batch.count, undefined);
    } catch (e) {
      // a connected kernel that rejects when full refused some answers: that is its policy,
      // and its telemetry counts them (messagesRejected); the GPU kernel goes on
      if (!(e instanceof QueueFullError)) throw e;
    }
    recordsHandled(inst, batch.sentAt, batch.takenAt);
  };

  return async (inst: KernelInstance, ctx: KernelContext) => {
    let inFlight: Batch | null = null;
    try {
      while (!ctx.shouldTerminate) {
        const next = take(inst);
        if (inFlight) await finish(inst, inFlight);
        else if (!next) await inst.waitInput();
        inFlight = next;
      }
      if (inFlight) await finish(inst, inFlight); // what was on the GPU when terminate came
    } finally {
      runner.destroy(); // terminate frees the GPU resources
    }
  };
}

/** The same work in JS, inline, where no GPU is found and a fallback is given. */
function fallbackPump(id: string, def: KernelDefinition) {
  const f = def.fn as unknown as (m: Message) => Message | Promise<Message>;
  const Out = def.output!;
  return async (_inst: KernelInstance, ctx: KernelContext) => {
    for await (const m of ctx) {
      const r = await f(m);
      if (!(r instanceof Out)) {
        const got = r === null || typeof r !== 'object' ? String(r) : r.constructor.name;
        throw new MessageTypeError(`GPU kernel '${id}': its JS fallback must return a ${Out.typeName}, got ${got}`,
          { kernelId: id, operation: 'send', expected: Out.typeName, actual: got });
      }
      r.correlationId = m.messageId;
      r.priority = m.priority;
      await ctx.send(r);
    }
  };
}

export type GpuPump = (inst: KernelInstance, ctx: KernelContext) => Promise<void>;

/**
 * Prepares a GPU kernel at launch (device, compiled pipeline, resident state) and returns
 * the function its instance runs: the pump. Throws BackendNotAvailableError without a GPU
 * (unless a JS fallback was given) and ShaderCompileError for WGSL that does not compile.
 * A lost device fails the kernel with GpuDeviceLostError.
 */
export async function gpuKernelFunction(id: string, def: KernelDefinition): Promise<{ pump: GpuPump; onGpu: boolean }> {
  if (!def.input || !def.output) throw new TypeError(`ringKernel '${id}': a GPU kernel needs input and output message classes`);
  const inSlots = slotsOf(def.input, id, 'input');
  const outSlots = slotsOf(def.output, id, 'output');
  for (const [cls, slots] of [[def.input, inSlots], [def.output, outSlots]] as const) {
    const bytes = HEADER_BYTES + words(slots) * 4;
    if (bytes > def.maxMessageSize) throw new RangeError(`ringKernel '${id}': a ${cls.typeName} record is ${bytes} bytes, over the kernel's maxMessageSize of ${def.maxMessageSize}`);
  }
  const gpu = await findGpu();
  if (!gpu) {
    if (def.hasFallback) return { pump: fallbackPump(id, def), onGpu: false };
    throw new BackendNotAvailableError(`launch '${id}': no WebGPU adapter here (no navigator.gpu, and in Node neither the webgpu package nor a GPU or Mesa driver it can use); give ringKernel a JS fallback to run it inline`, { kernelId: id, operation: 'launch' });
  }
  const runner = await gpuRunner(id, def, gpu, inSlots, outSlots);
  const pump = gpuPump(id, def, runner, inSlots);
  return {
    onGpu: true,
    pump: (inst, ctx) => {
      // a lost device fails the kernel at once, even while its mailbox is empty
      void gpu.lostPromise.then(() => { if (!inst.stopping) inst.fail(deviceLost(id, gpu.lost ?? 'lost')); });
      return pump(inst, ctx);
    },
  };
}

