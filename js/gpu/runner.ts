// gpu/runner.ts — GPU placement: a ring kernel whose handler is WGSL. WebGPU has no persistent
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
import type { Message, MessageClass } from '../message.js';
import type { FieldType } from '../schema.js';
import { BackendNotAvailableError, MessageDecodeError, QueueFullError, RingKernelError } from '../errors.js';
import type { KernelInstance } from '../instance.js';

/** A GPU kernel's WGSL did not compile: the compiler's first error, in the user's lines. */
export class ShaderCompileError extends RingKernelError {
  readonly line: number;
  readonly column: number;
  constructor(message: string, context: { kernelId: string; line: number; column: number }) {
    super(message, { kernelId: context.kernelId, operation: 'launch' });
    this.line = context.line;
    this.column = context.column;
  }
}

/** The GPU device a kernel ran on was lost (destroyed, driver reset, GPU removed). */
export class GpuDeviceLostError extends RingKernelError {}

export interface GpuState {
  /** Element type of the state array (WGSL `array<type, words>`, named `state`). */
  type: 'f32' | 'u32' | 'i32';
  words: number;
  /** Initial contents (default zeros). */
  init?: ArrayLike<number>;
}

const MAX_BATCH = 65536;
const WAIT_MS = 10_000;
const WORKGROUP = 64;

// ---- message structs, and the WGSL that moves them in and out of records ----

interface Slot { name: string; kind: 'f32' | 'i32' | 'u32'; count: number; fixedArray: boolean }

/** The message's fields as 4-byte words, or why it cannot live on the GPU. */
function slotsOf(cls: MessageClass<any>, kernelId: string, role: string): Slot[] {
  const slots: Slot[] = [];
  for (const [name, type] of Object.entries(cls.schema as Record<string, FieldType>)) {
    const scalar = (k: string) => k === 'f32' || k === 'i32' || k === 'u32';
    if (scalar(type.kind)) slots.push({ name, kind: type.kind as Slot['kind'], count: 1, fixedArray: false });
    else if (type.kind === 'array' && type.length !== undefined && type.element && scalar(type.element.kind))
      slots.push({ name, kind: type.element.kind as Slot['kind'], count: type.length, fixedArray: true });
    else {
      throw new TypeError(`ringKernel '${kernelId}': ${role} ${cls.typeName}.${name} is ${type.kind === 'array' ? 'an array without a fixed length' : `a ${type.kind}`}; ` +
        'a GPU kernel takes only t.f32, t.i32, t.u32 and fixed arrays of them (t.array(t.f32, n))');
    }
  }
  return slots;
}

function structWgsl(name: string, slots: Slot[]): string {
  const fields = slots.map((s) => `  ${s.name}: ${s.fixedArray ? `array<${s.kind}, ${s.count}>` : s.kind},`).join('\n');
  return `struct ${name} {\n${fields}\n}`;
}

const words = (slots: Slot[]) => slots.reduce((n, s) => n + s.count, 0);

/** WGSL that fills `m` from the payload words rk_in[p...] (ingress.wgsl). */
function readFieldsWgsl(slots: Slot[]): string {
  const from = (kind: Slot['kind'], at: string) => (kind === 'u32' ? `rk_in[${at}]` : `bitcast<${kind}>(rk_in[${at}])`);
  let at = 0;
  return slots.map((s) => {
    const line = s.fixedArray
      ? `  for (var k = 0u; k < ${s.count}u; k++) { m.${s.name}[k] = ${from(s.kind, `p + ${at}u + k`)}; }`
      : `  m.${s.name} = ${from(s.kind, `p + ${at}u`)};`;
    at += s.count;
    return line;
  }).join('\n');
}

/** WGSL that writes `m`'s fields to the payload words rk_out[p...] (egress.wgsl). */
function writeFieldsWgsl(slots: Slot[]): string {
  let at = 0;
  return slots.map((s) => {
    const line = s.fixedArray
      ? `  for (var k = 0u; k < ${s.count}u; k++) { rk_out[p + ${at}u + k] = bitcast<u32>(m.${s.name}[k]); }`
      : `  rk_out[p + ${at}u] = bitcast<u32>(m.${s.name});`;
    at += s.count;
    return line;
  }).join('\n');
}

// ---- where WebGPU comes from ----

type Gpu = { requestAdapter(o?: object): Promise<any> };
/** The adapter and the one device this thread asks of it (an adapter gives one device). */
interface GpuHandle { name: string; device: any; lost: string | null; lostPromise: Promise<void>; keep: unknown }
let gpuPromise: Promise<GpuHandle | null> | null = null;

const isNode = typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node && typeof (globalThis as { Deno?: unknown }).Deno === 'undefined';

/**
 * A WebGPU adapter: navigator.gpu where there is one (browsers, Deno); in Node the optional
 * `webgpu` package (Dawn), trying Vulkan, then OpenGL ES, which finds Mesa's llvmpipe on a
 * machine without a GPU (no variable for the user to set). null when there is none.
 */
function findGpu(): Promise<GpuHandle | null> {
  if (gpuPromise) return gpuPromise;
  const made: Promise<GpuHandle | null> = (async () => {
    const found = await findAdapter();
    if (!found) return null;
    const { adapter, gpu } = found;
    // read the adapter's name before it gives its device: Dawn's adapter is spent after that
    const info = adapter.info ?? {};
    // names, not numbers: Deno gives a PCI vendor id and a device number of 0
    const name = [info.vendor, info.architecture, info.device, info.description]
      .filter((v) => typeof v === 'string' && v.length > 0 && !/^\d+$/.test(v)).join(' ') || 'WebGPU adapter';
    const device = await adapter.requestDevice();
    // the GPU object must outlive the device (Dawn tears its instance down when collected)
    const handle: GpuHandle = { name, device, lost: null, lostPromise: new Promise(() => {}), keep: gpu };
    if (device.lost) {
      handle.lostPromise = (device.lost as Promise<{ message?: string; reason?: string }>).then((info) => {
        handle.lost = `${info.reason ?? 'lost'}${info.message ? `: ${info.message}` : ''}`;
        if (gpuPromise === made) gpuPromise = null; // a later launch asks for a new device
      });
    }
    return handle;
  })();
  gpuPromise = made;
  return made;
}

async function findAdapter(): Promise<{ adapter: any; gpu: Gpu } | null> {
  // RINGKERNEL_GPU=none: behave as if there were no GPU (to exercise fallbacks)
  if (typeof process !== 'undefined' && process.env?.RINGKERNEL_GPU === 'none') return null;
  {
    const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
    if (nav?.gpu) {
      const adapter = await nav.gpu.requestAdapter().catch(() => null);
      return adapter ? { adapter, gpu: nav.gpu } : null;
    }
    if (!isNode) return null;
    const name = 'webgpu';
    const dawn = await import(/* @vite-ignore */ name).catch(() => null) as { create(o: string[]): Gpu; globals: object } | null;
    if (!dawn) return null;
    Object.assign(globalThis, dawn.globals);
    if (!process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless'; // GL ES without a display
    for (const backend of ['vulkan', 'opengles']) {
      try {
        const gpu = dawn.create([`backend=${backend}`]);
        const adapter = await gpu.requestAdapter(backend === 'opengles' ? { featureLevel: 'compatibility' } : undefined);
        if (adapter) return { adapter, gpu };
      } catch { /* next backend */ }
    }
    return null;
  }
}

/**
 * The WebGPU device the GPU kernels of this thread share, or null without an adapter: for
 * work beside the kernels (and benchmarks) on the same device. After it is lost, the next
 * call (or GPU kernel launch) makes a new one.
 */
export async function gpuDevice(): Promise<unknown> {
  return (await findGpu())?.device ?? null;
}

/** The WebGPU adapter's name, or null without one (for diagnostics and benchmarks). */
export async function gpuAdapterName(): Promise<string | null> {
  return (await findGpu())?.name ?? null;
}

/**
 * Rejects a batch the GPU has not answered within WAIT_MS. One watchdog timer per runner,
 * not one per batch: a timer made and cleared per dispatch slows Dawn's event delivery in
 * Node by about 100 us a batch.
 */
function watchdog(kernelId: string) {
  const pending = new Set<{ since: number; reject(e: Error): void }>();
  let timer: ReturnType<typeof setInterval> | null = null;
  const check = () => {
    const late = performance.now() - WAIT_MS;
    for (const p of pending) {
      if (p.since > late) continue;
      pending.delete(p);
      p.reject(new RingKernelError(`GPU kernel '${kernelId}': reading results back did not finish within ${WAIT_MS} ms`, { kernelId, operation: 'dispatch' }));
    }
    if (pending.size === 0 && timer !== null) { clearInterval(timer); timer = null; }
  };
  return {
    guard<T>(work: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const entry = { since: performance.now(), reject };
        pending.add(entry);
        if (timer === null) {
          timer = setInterval(check, WAIT_MS / 4);
          (timer as { unref?: () => void }).unref?.();
        }
        work.then((v) => { pending.delete(entry); resolve(v); }, (e) => { pending.delete(entry); reject(e); });
      });
    },
    stop() { if (timer !== null) clearInterval(timer); timer = null; },
  };
}

// ---- the runner: device, pipeline, buffers; one dispatch per batch ----

interface Runner {
  /**
   * Starts a batch: `count` input records of `inputBytes` bytes in `records` (as the pump
   * popped them). Resolves with their answers, as records for the output ring.
   */
  submit(records: ArrayBuffer, count: number): Promise<Uint8Array>;
  destroy(): void;
  /** Most messages one dispatch takes: MAX_BATCH, or fewer where the device's buffer limits say so. */
  readonly maxBatch: number;
}

const shaderFiles = new Map<string, Promise<string>>();
function loadShader(file: string): Promise<string> {
  let text = shaderFiles.get(file);
  if (!text) {
    text = (async () => {
      // the package's shaders/: beside dist/ in the bundle, two levels up from this source file under tsx
      const url = new URL(`${import.meta.url.endsWith('.ts') ? '../' : ''}../shaders/${file}`, import.meta.url);
      if (url.protocol === 'file:') {
        const { readFile } = await import('node:fs/promises');
        return readFile(url, 'utf8');
      }
      const res = await fetch(url);
      if (!res.ok) throw new BackendNotAvailableError(`cannot load ${url}: HTTP ${res.status}`);
      return res.text();
    })();
    text.catch(() => shaderFiles.delete(file));
    shaderFiles.set(file, text);
  }
  return text;
}

/** A kernel's whole WGSL, and the line of it where the user's code starts. */
async function kernelWgsl(def: KernelDefinition, inSlots: Slot[], outSlots: Slot[]): Promise<{ code: string; userLine: number }> {
  const [frame, ingress, egress] = await Promise.all([loadShader('handler.wgsl'), loadShader('ingress.wgsl'), loadShader('egress.wgsl')]);
  const inCls = def.input!, outCls = def.output!, state = def.gpuState;
  const outPayload = words(outSlots) * 4;
  const values: Record<string, string> = {
    IN: inCls.typeName, OUT: outCls.typeName,
    IN_WORDS: String(15 + words(inSlots)), OUT_WORDS: String(15 + words(outSlots)),
    OUT_TYPE_ID: `0x${outCls.typeId.toString(16)}`, OUT_PAYLOAD_BYTES: String(outPayload), OUT_RECORD_BYTES: String(56 + outPayload),
  };
  const fill = (text: string) => text.replace(/\$([A-Z_]+)/g, (all, name: string) => values[name] ?? all);
  const structs = inCls === outCls ? structWgsl(inCls.typeName, inSlots) : `${structWgsl(inCls.typeName, inSlots)}\n\n${structWgsl(outCls.typeName, outSlots)}`;
  const head = frame
    .replace('//#STRUCTS', structs)
    .replace('//#INGRESS', fill(ingress).replace('//#READ_FIELDS', readFieldsWgsl(inSlots)))
    .replace('//#EGRESS', fill(egress).replace('//#WRITE_FIELDS', writeFieldsWgsl(outSlots)))
    .replace('//#STATE', state ? `@group(0) @binding(3) var<storage, read_write> state: array<${state.type}, ${state.words}>;` : '');
  return { code: head.replace('//#USER', def.wgsl!), userLine: head.slice(0, head.indexOf('//#USER')).split('\n').length };
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

async function gpuRunner(id: string, def: KernelDefinition, gpu: GpuHandle, inSlots: Slot[], outSlots: Slot[]): Promise<Runner> {
  const inBytes = (15 + words(inSlots)) * 4, outBytes = (15 + words(outSlots)) * 4;
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
    b.uniform ??= device.createBuffer({ size: 32, usage: U.UNIFORM! | U.COPY_DST! });
    const entries = [{ binding: 0, resource: { buffer: b.inBuf } }, { binding: 1, resource: { buffer: b.outBuf } }, { binding: 2, resource: { buffer: b.uniform } }];
    if (stateBuffer) entries.push({ binding: 3, resource: { buffer: stateBuffer } });
    b.bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  };
  const batchInfo = new Uint32Array(8);
  const dog = watchdog(id);

  return {
    maxBatch,
    submit(records, n) {
      if (gpu.lost) return Promise.reject(deviceLost(id, gpu.lost));
      const b = sets[turn++ % 2]!;
      ensure(b, n);
      device.queue.writeBuffer(b.inBuf, 0, records, 0, n * inBytes);
      batchInfo[0] = n;
      crypto.getRandomValues(batchInfo.subarray(4));
      device.queue.writeBuffer(b.uniform, 0, batchInfo);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, b.bindGroup);
      pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
      pass.end();
      enc.copyBufferToBuffer(b.outBuf, 0, b.readBuf, 0, n * outBytes);
      device.queue.submit([enc.finish()]);
      return dog.guard(b.readBuf.mapAsync(M.READ, 0, n * outBytes) as Promise<void>).then(() => {
        const out = new Uint8Array(b.readBuf.getMappedRange(0, n * outBytes).slice(0));
        b.readBuf.unmap();
        return out;
      }, async (e) => {
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

function deviceLost(kernelId: string, why: string): GpuDeviceLostError {
  return new GpuDeviceLostError(`GPU kernel '${kernelId}': the GPU device was lost (${why}); relaunch the kernel to get a new one`, { kernelId, operation: 'dispatch' });
}

/**
 * The pump of a kernel running on the GPU: while one batch is on the GPU, the next one —
 * whatever has arrived meanwhile, up to MAX_BATCH — is popped, uploaded and dispatched, so
 * a lone message goes at once and a busy mailbox goes in large dispatches. Records go from
 * the input ring to the GPU and from the GPU to the output ring as bytes; answers leave in
 * mailbox order.
 */
function gpuPump(id: string, def: KernelDefinition, runner: Runner, inSlots: Slot[]) {
  const inBytes = (15 + words(inSlots)) * 4;
  const inType = def.input!.typeId, inName = def.input!.typeName;
  let staging = new ArrayBuffer(64 * inBytes);
  interface Batch { answers: Promise<Uint8Array>; count: number; sentAt: number[]; takenAt: number }

  /** Pops up to maxBatch records into `staging`, checking each is an input message. */
  const take = (inst: KernelInstance): Batch | null => {
    const core = inst.hub.core;
    const sentAt: number[] = [];
    const takenAt = performance.now();
    let count = 0;
    while (count < runner.maxBatch) {
      const k = inst.takeRecords(runner.maxBatch - count, sentAt);
      if (k === 0) break;
      for (let r = 0, p = core.scratch; r < k; r++, p += inBytes) {
        const len = core.dv.getUint32(p, true), type = core.dv.getUint32(p + 4, true);
        if (type !== inType || len !== inBytes - 4) {
          throw new MessageDecodeError(`GPU kernel '${id}' received a record of type id ${type} and ${len} bytes; it takes ${inName} (type id ${inType}, ${inBytes - 4} bytes)`, { kernelId: id, operation: 'receive', offset: 0 });
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
      await inst.sendOutRecords(answers, batch.count, undefined);
    } catch (e) {
      // a connected kernel that rejects when full refused some answers: that is its policy,
      // and its telemetry counts them (messagesRejected); the GPU kernel goes on
      if (!(e instanceof QueueFullError)) throw e;
    }
    inst.recordsHandled(batch.sentAt, batch.takenAt);
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
      if (!(r instanceof Out)) throw new TypeError(`GPU kernel '${id}': its JS fallback must return a ${Out.typeName}, got ${r === null || typeof r !== 'object' ? String(r) : r.constructor.name}`);
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
    const bytes = 56 + words(slots) * 4;
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
