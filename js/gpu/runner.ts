// gpu/runner.ts — one GPU kernel's resources on the device: its compiled pipeline, its
// resident state and two sets of batch buffers (kept, grown only when a batch needs more),
// and one dispatch per batch: the payloads up, one dispatch, the answers' payloads back.
import type { KernelDefinition } from '../kernel/kernel.js';
import { GpuDeviceLostError, ShaderCompileError } from '../errors.js';
import type { GpuHandle } from './device.js';
import { kernelWgsl, words, type Slot } from './wgsl.js';
import { watchdog } from './watchdog.js';

const MAX_BATCH = 65536;
const WORKGROUP = 64;

/** A batch's answers, read back: their payloads, in the mapped readback buffer. */
export interface Answers {
  /** `count` payloads of outBytes each: valid until release(). */
  readonly payloads: Uint8Array;
  /** Unmaps the readback buffer (the next batch of its buffer set needs it). */
  release(): void;
}

export interface Runner {
  /**
   * Starts a batch: the payloads of `count` input messages (inBytes each) at `offset` in
   * `data`, copied to the GPU before it returns. Resolves with their answers' payloads.
   */
  submit(data: ArrayBuffer, offset: number, count: number): Promise<Answers>;
  /** Bytes of one input payload and of one answer's (4-byte words: at least one). */
  readonly inBytes: number;
  readonly outBytes: number;
  destroy(): void;
  /** Most messages one dispatch takes: MAX_BATCH, or fewer where the device's buffer limits say so. */
  readonly maxBatch: number;
}

/**
 * Most messages one dispatch may take, for records of inBytes in and outBytes out: MAX_BATCH,
 * or fewer where the device's limits say so (WebGPU's defaults: 128 MiB a storage binding,
 * 256 MiB a buffer, 65,535 workgroups a dimension); 0 when not even one record fits. @internal
 */
export function batchLimit(limits: { maxStorageBufferBindingSize?: number; maxBufferSize?: number; maxComputeWorkgroupsPerDimension?: number },
  inBytes: number, outBytes: number): number {
  const bufferBytes = Math.min(limits.maxStorageBufferBindingSize ?? 128 * 2 ** 20, limits.maxBufferSize ?? 256 * 2 ** 20);
  return Math.min(MAX_BATCH, Math.floor(bufferBytes / Math.max(inBytes, outBytes)),
    (limits.maxComputeWorkgroupsPerDimension ?? 65535) * WORKGROUP);
}

export async function gpuRunner(id: string, def: KernelDefinition, gpu: GpuHandle, inSlots: Slot[], outSlots: Slot[]): Promise<Runner> {
  const inBytes = Math.max(1, words(inSlots)) * 4, outBytes = Math.max(1, words(outSlots)) * 4;
  const state = def.gpuState;
  const { code, userLine } = await kernelWgsl(def, inSlots, outSlots);
  const device = gpu.device;
  let destroyed = false;

  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const error = info.messages.find((m: { type: string }) => m.type === 'error');
  if (error) {
    const line = error.lineNum - userLine + 1, column = error.linePos;
    // the compiler's first line says what is wrong (some, like Deno's, go on to quote the generated source)
    const what = String(error.message).split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'error';
    throw new ShaderCompileError(`GPU kernel '${id}': WGSL does not compile: ${line >= 1 ? `line ${line}, column ${column}` : `generated line ${error.lineNum}`}: ${what}`,
      { kernelId: id, line, column });
  }
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'rk_main' } });
  const invalid = await device.popErrorScope();
  if (invalid) { throw new ShaderCompileError(`GPU kernel '${id}': the pipeline is invalid: ${invalid.message}`, { kernelId: id, line: 0, column: 0 }); }

  const maxBatch = batchLimit(device.limits ?? {}, inBytes, outBytes);
  if (maxBatch === 0) throw new RangeError(`ringKernel '${id}': a record of ${Math.max(inBytes, outBytes)} bytes is over this GPU's largest storage buffer`);
  const U = (globalThis as unknown as { GPUBufferUsage: Record<string, number> }).GPUBufferUsage;
  const M = (globalThis as unknown as { GPUMapMode: Record<string, number> }).GPUMapMode;
  let stateBuffer: any = null;
  if (state) {
    const Arr = state.type === 'f32' ? Float32Array : state.type === 'u32' ? Uint32Array : Int32Array;
    const init = new Arr(state.words);
    if (state.init) init.set(Array.from(state.init).slice(0, state.words));
    stateBuffer = device.createBuffer({ size: Math.max(16, state.words * 4), usage: U.STORAGE! | U.COPY_DST! });
    device.queue.writeBuffer(stateBuffer, 0, init);
  }
  // Two sets of batch buffers, used in turn: while one batch is read back, the next is
  // uploaded and dispatched (double buffering). Queue order keeps dispatches, and so the
  // resident state, in mailbox order.
  interface BufferSet { cap: number; inBuf: any; outBuf: any; readBuf: any; uniform: any; bindGroup: any }
  const sets: BufferSet[] = [0, 1].map(() => ({ cap: 0, inBuf: null, outBuf: null, readBuf: null, uniform: null, bindGroup: null }));
  let turn = 0;
  const ensure = (b: BufferSet, n: number) => {
    if (n <= b.cap) return;
    b.cap = Math.min(maxBatch, Math.max(64, 2 ** Math.ceil(Math.log2(n)))); // grow by doubling
    for (const x of [b.inBuf, b.outBuf, b.readBuf]) x?.destroy();
    b.inBuf = device.createBuffer({ size: b.cap * inBytes, usage: U.STORAGE! | U.COPY_DST! });
    b.outBuf = device.createBuffer({ size: b.cap * outBytes, usage: U.STORAGE! | U.COPY_SRC! });
    b.readBuf = device.createBuffer({ size: b.cap * outBytes, usage: U.MAP_READ! | U.COPY_DST! });
    b.uniform ??= device.createBuffer({ size: 16, usage: U.UNIFORM! | U.COPY_DST! });
    const entries = [{ binding: 0, resource: { buffer: b.inBuf } }, { binding: 1, resource: { buffer: b.outBuf } }, { binding: 2, resource: { buffer: b.uniform } }];
    if (stateBuffer) entries.push({ binding: 3, resource: { buffer: stateBuffer } });
    b.bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  };
  const batchInfo = new Uint32Array(4);
  const dog = watchdog(id);

  return {
    maxBatch, inBytes, outBytes,
    submit(data, offset, n) {
      if (gpu.lost) return Promise.reject(deviceLost(id, gpu.lost));
      const b = sets[turn++ % 2]!;
      ensure(b, n);
      device.queue.writeBuffer(b.inBuf, 0, data, offset, n * inBytes);
      batchInfo[0] = n;
      device.queue.writeBuffer(b.uniform, 0, batchInfo);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, b.bindGroup);
      pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
      pass.end();
      enc.copyBufferToBuffer(b.outBuf, 0, b.readBuf, 0, n * outBytes);
      device.queue.submit([enc.finish()]);
      return dog.guard(b.readBuf.mapAsync(M.READ, 0, n * outBytes) as Promise<void>).then(() => ({
        payloads: new Uint8Array(b.readBuf.getMappedRange(0, n * outBytes)),
        release: () => { if (!destroyed) b.readBuf.unmap(); },
      }), async (e) => {
        // a lost device rejects the mapping a moment before device.lost settles
        await Promise.race([gpu.lostPromise, new Promise((r) => setTimeout(r, 100))]);
        throw gpu.lost ? deviceLost(id, gpu.lost) : e;
      });
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      dog.stop();
      for (const b of sets) for (const x of [b.inBuf, b.outBuf, b.readBuf, b.uniform]) x?.destroy();
      stateBuffer?.destroy();
    },
  };
}

export function deviceLost(kernelId: string, why: string): GpuDeviceLostError {
  return new GpuDeviceLostError(`GPU kernel '${kernelId}': the GPU device was lost (${why}); relaunch the kernel to get a new one`, { kernelId, operation: 'dispatch' });
}
