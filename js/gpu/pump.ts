// gpu/pump.ts — GPU placement: a ring kernel whose handler is WGSL. WebGPU has no persistent
// kernels, so "persistent" means: the device, pipeline, buffers and the kernel's declared
// state are made once at launch and stay on the GPU, and a pump on the owner's thread keeps
// submitting bounded dispatches while the mailbox has work. The pump is the kernel's own
// function (records in -> GPU -> records out), so lifecycle, backpressure and telemetry are
// exactly those of any kernel: messages still cross the rings as bytes.
import type { KernelDefinition } from '../kernel/kernel.js';
import type { KernelContext } from '../kernel/context.js';
import type { Message, MessageClass } from '../message/message.js';
import { BackendNotAvailableError, QueueFullError, MessageTypeError } from '../errors.js';
import type { KernelInstance } from '../kernel/instance.js';
import { monotonicNow } from '../platform.js';
import { HEADER_BYTES } from '../message/record.js';
import { findGpu } from './device.js';
import { slotsOf, words } from './wgsl.js';
import { deviceLost, gpuRunner, type Answers, type Runner } from './runner.js';
import { BatchRegion, batchHandled, ownerCore, sendAnswers, takeBatch, type PayloadShape } from './records.js';

/**
 * The pump of a kernel running on the GPU: while one batch is on the GPU, the next one —
 * whatever has arrived meanwhile, up to maxBatch — is popped, uploaded and dispatched, so
 * a lone message goes at once and a busy mailbox goes in large dispatches. Each step is one
 * bulk move (gpu/records.ts): the input records' payloads popped as one column into the
 * batch's region, copied whole to the upload buffer, the answers' payloads copied whole
 * from the readback mapping into the region and pushed as records made by the core;
 * telemetry is one core call a batch. No loop here runs over records. Answers leave in
 * mailbox order.
 */
function gpuPump(def: KernelDefinition, runner: Runner) {
  const shape = (cls: MessageClass<any>, stride: number): PayloadShape => {
    const payloadBytes = slotsOf(cls, def.kernelId, 'input').reduce((n, sl) => n + 4 * sl.count, 0);
    return { typeId: cls.typeId, typeName: cls.typeName, recordLen: HEADER_BYTES + payloadBytes, payloadBytes: Math.min(payloadBytes, stride) };
  };
  const input = shape(def.input!, runner.inBytes), output = shape(def.output!, runner.outBytes);
  // kept across batches, grown (doubling) when a batch needs more: what is uploaded (Dawn
  // takes no view of shared memory), and a region for each of the two batches in flight
  let staging = new ArrayBuffer(64 * runner.inBytes);
  let regions: BatchRegion[] | null = null;
  let turn = 0;
  interface Batch { answers: Promise<Answers>; count: number; region: BatchRegion; takenAt: number }

  const take = (inst: KernelInstance): Batch | null => {
    const core = ownerCore(inst);
    regions ??= [0, 1].map(() => new BatchRegion(core, input, output, runner.inBytes, runner.outBytes));
    const region = regions[turn % 2]!;
    const takenAt = monotonicNow();
    const n = takeBatch(inst, region, runner.maxBatch);
    if (n === 0) return null;
    inst.batchTaken(n); // in hand until counted as handled: interrupted should the device be lost first
    turn++;
    const bytes = n * runner.inBytes;
    let answers: Promise<Answers>;
    if (core.shared) {
      if (bytes > staging.byteLength) staging = new ArrayBuffer(Math.min(runner.maxBatch, 2 * n) * runner.inBytes);
      new Uint8Array(staging, 0, bytes).set(core.mem.subarray(region.payloadsIn, region.payloadsIn + bytes));
      answers = runner.submit(staging, 0, n);
    } else answers = runner.submit(core.memory.buffer as ArrayBuffer, region.payloadsIn, n); // an ordinary memory: uploaded as it is
    return { answers, count: n, region, takenAt };
  };

  const finish = async (inst: KernelInstance, batch: Batch) => {
    const answers = await batch.answers;
    const core = inst.hub.core;
    core.mem.set(answers.payloads, batch.region.payloadsOut);
    answers.release();
    try {
      await sendAnswers(inst, batch.region, batch.count);
    } catch (e) {
      // a connected kernel that rejects when full refused some answers: that is its policy,
      // and its telemetry counts them (messagesRejected); the GPU kernel goes on
      if (!(e instanceof QueueFullError)) throw e;
    }
    batchHandled(inst, batch.region, batch.count, batch.takenAt);
    inst.batchDone(batch.count);
  };

  return async (inst: KernelInstance, ctx: KernelContext) => {
    let inFlight: Batch | null = null, next: Batch | null = null;
    try {
      while (!ctx.shouldTerminate) {
        next = take(inst);
        if (inFlight) await finish(inst, inFlight);
        else if (!next) await inst.waitInput();
        inFlight = next;
        next = null;
      }
      if (inFlight) await finish(inst, inFlight); // what was on the GPU when terminate came
    } catch (e) {
      // the batch behind the one that failed (a lost device fails both): nobody awaits its
      // answers now; its messages are counted with the kernel's failure (interrupted)
      void next?.answers.catch(() => {});
      throw e;
    } finally {
      runner.destroy(); // terminate frees the GPU resources
      if (regions && !inst.released) for (const r of regions) r.free();
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
  const pump = gpuPump(def, runner);
  return {
    onGpu: true,
    pump: (inst, ctx) => {
      // a lost device fails the kernel at once, even while its mailbox is empty
      void gpu.lostPromise.then(() => { if (!inst.stopping) inst.fail(deviceLost(id, gpu.lost ?? 'lost')); });
      return pump(inst, ctx);
    },
  };
}

