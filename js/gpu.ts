// gpu.ts — GPU placement: a ring kernel whose handler is WGSL. WebGPU has no persistent
// kernels, so "persistent" means: the device, pipeline, buffers and the kernel's declared
// state are made once at launch and stay on the GPU, and a pump on the owner's thread keeps
// submitting bounded dispatches while the mailbox has work. The pump is the kernel's own
// function (receiveMany -> GPU -> sendMany), so lifecycle, backpressure and telemetry are
// exactly those of any kernel: messages still cross the rings as bytes.
//
// Batches: receiveMany hands over everything waiting (up to 4096), so a lone message goes
// at once and a busy mailbox goes in large dispatches.
import type { KernelDefinition } from './kernel.js';
import type { KernelContext } from './context.js';
import type { Message, MessageClass } from './message.js';
import type { FieldType } from './schema.js';
import { BackendNotAvailableError, QueueTimeoutError, RingKernelError } from './errors.js';

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

export interface GpuState {
  /** Element type of the state array (WGSL `array<type, words>`, named `state`). */
  type: 'f32' | 'u32' | 'i32';
  words: number;
  /** Initial contents (default zeros). */
  init?: ArrayLike<number>;
}

const MAX_BATCH = 4096;
const WAIT_MS = 10_000;
const WORKGROUP = 64;

// ---- message structs ----

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

function writeMessage(m: Message, slots: Slot[], dv: DataView, at: number): void {
  const values = m as unknown as Record<string, number | ArrayLike<number>>;
  let p = at;
  for (const s of slots) {
    const v = values[s.name]!;
    for (let i = 0; i < s.count; i++, p += 4) {
      const x = s.fixedArray ? (v as ArrayLike<number>)[i]! : (v as number);
      if (s.kind === 'f32') dv.setFloat32(p, x, true);
      else if (s.kind === 'u32') dv.setUint32(p, x, true);
      else dv.setInt32(p, x, true);
    }
  }
}

const getters = {
  f32: (dv: DataView, q: number) => dv.getFloat32(q, true),
  u32: (dv: DataView, q: number) => dv.getUint32(q, true),
  i32: (dv: DataView, q: number) => dv.getInt32(q, true),
};

function readFields(slots: Slot[], dv: DataView, at: number): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  let p = at;
  for (const s of slots) {
    const get = getters[s.kind];
    if (!s.fixedArray) { out[s.name] = get(dv, p); p += 4; continue; }
    const a: number[] = new Array(s.count);
    for (let i = 0; i < s.count; i++, p += 4) a[i] = get(dv, p);
    out[s.name] = a;
  }
  return out;
}

// ---- where WebGPU comes from ----

type Gpu = { requestAdapter(o?: object): Promise<any> };
/** The adapter and the one device this thread asks of it (an adapter gives one device). */
interface GpuHandle { name: string; device: any; lost: string | null; keep: unknown }
let gpuPromise: Promise<GpuHandle | null> | null = null;

const isNode = typeof process !== 'undefined' && !!(process as { versions?: { node?: string } }).versions?.node && typeof (globalThis as { Deno?: unknown }).Deno === 'undefined';

/**
 * A WebGPU adapter: navigator.gpu where there is one (browsers, Deno); in Node the optional
 * `webgpu` package (Dawn), trying Vulkan, then OpenGL ES, which finds Mesa's llvmpipe on a
 * machine without a GPU (no variable for the user to set). null when there is none.
 */
function findGpu(): Promise<GpuHandle | null> {
  gpuPromise ??= (async () => {
    const found = await findAdapter();
    if (!found) return null;
    const { adapter, gpu } = found;
    // read the adapter's name before it gives its device: Dawn's adapter is spent after that
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'WebGPU adapter';
    const device = await adapter.requestDevice();
    // the GPU object must outlive the device (Dawn tears its instance down when collected)
    const handle: GpuHandle = { name, device, lost: null, keep: gpu };
    device.lost?.then((info: { message?: string; reason?: string }) => {
      handle.lost = `${info.reason ?? 'lost'}: ${info.message ?? ''}`;
      gpuPromise = null; // a later launch asks for a new device
    });
    return handle;
  })();
  return gpuPromise;
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

/** The WebGPU adapter's name, or null without one (for diagnostics and benchmarks). */
export async function gpuAdapterName(): Promise<string | null> {
  return (await findGpu())?.name ?? null;
}

function withTimeout<T>(p: Promise<T>, what: string, kernelId: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RingKernelError(`GPU kernel '${kernelId}': ${what} did not finish within ${WAIT_MS} ms`, { kernelId, operation: 'dispatch' })), WAIT_MS);
  })]).finally(() => clearTimeout(timer));
}

// ---- the runner: device, pipeline, buffers; one dispatch per batch ----

interface Runner {
  /** Starts a batch; resolves with its outputs (in order). At most two are in flight. */
  submit(batch: Message[]): Promise<Message[]>;
  destroy(): void;
  readonly onGpu: boolean;
}

let shaderTemplate: Promise<string> | null = null;
function loadTemplate(): Promise<string> {
  shaderTemplate ??= (async () => {
    const url = new URL('../shaders/handler.wgsl', import.meta.url);
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      return readFile(url, 'utf8');
    }
    const res = await fetch(url);
    if (!res.ok) throw new BackendNotAvailableError(`cannot load ${url}: HTTP ${res.status}`);
    return res.text();
  })();
  shaderTemplate.catch(() => { shaderTemplate = null; });
  return shaderTemplate;
}

async function gpuRunner(id: string, def: KernelDefinition, gpu: GpuHandle): Promise<Runner> {
  const inCls = def.input!, outCls = def.output!;
  const inSlots = slotsOf(inCls, id, 'input'), outSlots = slotsOf(outCls, id, 'output');
  const inStride = words(inSlots) * 4, outStride = words(outSlots) * 4;
  const state = def.gpuState;
  const template = await loadTemplate();
  const structs = inCls === outCls ? structWgsl(inCls.typeName, inSlots) : `${structWgsl(inCls.typeName, inSlots)}\n\n${structWgsl(outCls.typeName, outSlots)}`;
  const head = template
    .replace('//#STRUCTS', structs)
    .replace('RK_IN', inCls.typeName).replace('RK_OUT', outCls.typeName)
    .replace('//#STATE', state ? `@group(0) @binding(3) var<storage, read_write> state: array<${state.type}, ${state.words}>;` : '');
  const userAt = head.slice(0, head.indexOf('//#USER')).split('\n').length; // the user's first line
  const code = head.replace('//#USER', def.wgsl!);

  const device = gpu.device;
  let destroyed = false;

  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const error = info.messages.find((m: { type: string }) => m.type === 'error');
  if (error) {
    const line = error.lineNum - userAt + 1, column = error.linePos;
    throw new ShaderCompileError(`GPU kernel '${id}': WGSL does not compile: ${line >= 1 ? `line ${line}, column ${column}` : `generated line ${error.lineNum}`}: ${error.message}`,
      { kernelId: id, line, column });
  }
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'rk_main' } });
  const invalid = await device.popErrorScope();
  if (invalid) { throw new ShaderCompileError(`GPU kernel '${id}': the pipeline is invalid: ${invalid.message}`, { kernelId: id, line: 0, column: 0 }); }

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
  interface BufferSet { cap: number; inBuf: any; outBuf: any; readBuf: any; uniform: any; bindGroup: any; staging: DataView }
  const sets: BufferSet[] = [0, 1].map(() => ({ cap: 0, inBuf: null, outBuf: null, readBuf: null, uniform: null, bindGroup: null, staging: new DataView(new ArrayBuffer(0)) }));
  let turn = 0;
  const ensure = (b: BufferSet, n: number) => {
    if (n <= b.cap) return;
    b.cap = Math.max(n, 64);
    for (const x of [b.inBuf, b.outBuf, b.readBuf]) x?.destroy();
    b.inBuf = device.createBuffer({ size: b.cap * inStride, usage: U.STORAGE! | U.COPY_DST! });
    b.outBuf = device.createBuffer({ size: b.cap * outStride, usage: U.STORAGE! | U.COPY_SRC! });
    b.readBuf = device.createBuffer({ size: b.cap * outStride, usage: U.MAP_READ! | U.COPY_DST! });
    b.uniform ??= device.createBuffer({ size: 16, usage: U.UNIFORM! | U.COPY_DST! });
    b.staging = new DataView(new ArrayBuffer(b.cap * inStride));
    const entries = [{ binding: 0, resource: { buffer: b.inBuf } }, { binding: 1, resource: { buffer: b.outBuf } }, { binding: 2, resource: { buffer: b.uniform } }];
    if (stateBuffer) entries.push({ binding: 3, resource: { buffer: stateBuffer } });
    b.bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  };

  return {
    onGpu: true,
    submit(batch) {
      if (gpu.lost) return Promise.reject(new RingKernelError(`GPU kernel '${id}': the GPU device was lost (${gpu.lost})`, { kernelId: id, operation: 'dispatch' }));
      const b = sets[turn++ % 2]!;
      const n = batch.length;
      ensure(b, n);
      for (let i = 0; i < n; i++) writeMessage(batch[i]!, inSlots, b.staging, i * inStride);
      device.queue.writeBuffer(b.inBuf, 0, b.staging.buffer, 0, n * inStride);
      device.queue.writeBuffer(b.uniform, 0, new Uint32Array([n, 0, 0, 0]));
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, b.bindGroup);
      pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
      pass.end();
      enc.copyBufferToBuffer(b.outBuf, 0, b.readBuf, 0, n * outStride);
      device.queue.submit([enc.finish()]);
      return withTimeout(b.readBuf.mapAsync(M.READ, 0, n * outStride) as Promise<void>, 'reading results back', id).then(() => {
        const dv = new DataView(b.readBuf.getMappedRange(0, n * outStride).slice(0));
        b.readBuf.unmap();
        const out: Message[] = new Array(n);
        for (let i = 0; i < n; i++) {
          const src = batch[i]!;
          out[i] = new outCls({ ...readFields(outSlots, dv, i * outStride), correlationId: src.messageId, priority: src.priority });
        }
        return out;
      });
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const b of sets) for (const x of [b.inBuf, b.outBuf, b.readBuf, b.uniform]) x?.destroy();
      stateBuffer?.destroy();
    },
  };
}

/** The same work in JS, one message at a time, where no GPU is found and a fallback is given. */
function fallbackRunner(id: string, def: KernelDefinition): Runner {
  const f = def.fn as unknown as (m: Message) => Message | Promise<Message>;
  const Out = def.output!;
  return {
    onGpu: false,
    async submit(batch) {
      const out: Message[] = [];
      for (const m of batch) {
        const r = await f(m);
        if (!(r instanceof Out)) throw new TypeError(`GPU kernel '${id}': its JS fallback must return a ${Out.typeName}, got ${r === null || typeof r !== 'object' ? String(r) : r.constructor.name}`);
        r.correlationId = m.messageId;
        r.priority = m.priority;
        out.push(r);
      }
      return out;
    },
    destroy() {},
  };
}

/**
 * Prepares a GPU kernel at launch (device, compiled pipeline, resident state) and returns
 * the function its instance runs: the pump. Throws BackendNotAvailableError without a GPU
 * (unless a JS fallback was given) and ShaderCompileError for WGSL that does not compile.
 */
export async function gpuKernelFunction(id: string, def: KernelDefinition): Promise<{ fn: (ctx: KernelContext) => Promise<void>; onGpu: boolean }> {
  if (!def.input || !def.output) throw new TypeError(`ringKernel '${id}': a GPU kernel needs input and output message classes`);
  slotsOf(def.input, id, 'input');
  slotsOf(def.output, id, 'output');
  const gpu = await findGpu();
  let runner: Runner;
  if (gpu) runner = await gpuRunner(id, def, gpu);
  else if (def.hasFallback) runner = fallbackRunner(id, def);
  else throw new BackendNotAvailableError(`launch '${id}': no WebGPU adapter here (no navigator.gpu, and in Node neither the webgpu package nor a GPU or Mesa driver it can use); give ringKernel a JS fallback to run it inline`, { kernelId: id, operation: 'launch' });
  // The pump: while one batch is on the GPU, the next one (whatever has arrived meanwhile)
  // is uploaded and dispatched; outputs leave in mailbox order.
  const fn = async (ctx: KernelContext) => {
    let inFlight: Promise<Message[]> | null = null;
    try {
      while (!ctx.shouldTerminate) {
        let batch: Message[];
        if (inFlight) batch = ctx.receiveAvailable(MAX_BATCH);
        else {
          try { batch = await ctx.receiveMany({ max: MAX_BATCH, timeout: 100 }); }
          catch (e) { if (e instanceof QueueTimeoutError) continue; if (ctx.shouldTerminate) break; throw e; }
        }
        const next = batch.length > 0 ? runner.submit(batch) : null;
        if (inFlight) await ctx.sendMany(await inFlight);
        inFlight = next;
      }
      if (inFlight) await ctx.sendMany(await inFlight); // what was on the GPU when terminate came
    } finally {
      runner.destroy(); // terminate frees the GPU resources
    }
  };
  return { fn, onGpu: runner.onGpu };
}
