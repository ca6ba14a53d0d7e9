// kernel.ts — kernel definitions and the registry `ringKernel()` fills: defining a kernel
// registers it under its kernelId (in this thread; a worker that imports the same module
// registers the same definitions there).
import { KernelAlreadyExistsError, KernelNotFoundError } from '../errors.js';
import { type BackpressureStrategy, strategyCode } from './state.js';
import type { Message, MessageClass } from '../message/message.js';
import type { KernelContext } from './context.js';
import { checkRestartPolicy, type RestartPolicy, type CheckedRestartPolicy } from '../supervision/policy.js';
import type { GpuState } from '../gpu/wgsl.js';

export type Placement = 'inline' | 'worker' | 'gpu';

export interface KernelOptions {
  kernelId: string;
  /** Message class the kernel receives; sends of another class are refused. Omit to take any. */
  input?: MessageClass<any>;
  /** Message class the kernel sends (documentation and GPU structs; not enforced for inline kernels). */
  output?: MessageClass<any>;
  /** Input and output queue capacity in messages (default 4096). */
  queueSize?: number;
  /** What `send` does when the input queue is full (default BLOCK). */
  backpressure?: BackpressureStrategy;
  /** Largest encoded message accepted, in bytes (default 1 MiB). */
  maxMessageSize?: number;
  placement?: Placement;
  /** Worker placement: the module that defines this kernel: `import.meta.url`, or in CommonJS `__filename`. */
  module?: string | URL;
  /**
   * Worker placement where threads cannot share memory (a page without cross-origin
   * isolation): run the kernel inline instead of refusing with BackendNotAvailableError.
   */
  inlineFallback?: boolean;
  /**
   * Register the definition under `kernelId` (default true). With false (PyDotCompute's
   * `auto_register=False`) the definition is only returned: launch it with
   * `runtime.launch(id, definition)`; defining it again is no error. Worker kernels must be
   * registered (a worker finds them by id in the module it imports).
   */
  register?: boolean;
  /** GPU placement: WGSL with `fn handle(m: In) -> Out` (In, Out: the message names). */
  wgsl?: string;
  /** GPU placement: resident state, `state` in the WGSL, kept across dispatches. */
  state?: GpuState;
  /**
   * Supervision: a function that throws is started again (same id, queues and queued
   * messages; a fresh ctx) up to `maxRestarts` times within `withinMs`, after a backoff
   * (docs/supervision.md). Without it the kernel fails at its first throw.
   */
  restart?: RestartPolicy;
}

export type KernelFunction = (ctx: KernelContext<any, any>) => Promise<void> | void;

/**
 * A defined kernel. `I` and `O` are the instance types of its input and output messages, so
 * `runtime.send(def, m)` checks `m` and `runtime.receive(def)` is typed.
 */
export interface KernelDefinition<I extends Message = any, O extends Message = any> extends Required<Pick<KernelOptions, 'kernelId' | 'queueSize' | 'backpressure' | 'maxMessageSize' | 'placement'>> {
  readonly input: MessageClass<any> | undefined;
  readonly output: MessageClass<any> | undefined;
  readonly module: string | undefined;
  readonly inlineFallback: boolean;
  readonly wgsl: string | undefined;
  readonly gpuState: GpuState | undefined;
  /** GPU placement: `fn` is the JS fallback (message in, message out), when one was given. */
  readonly hasFallback: boolean;
  /** The restart policy, checked (undefined: none). */
  readonly restart: CheckedRestartPolicy | undefined;
  readonly fn: KernelFunction;
  /** Types only (never set): the message types the kernel takes and sends. */
  readonly __messages?: { input: I; output: O };
}

/** The instance type of a message class: `type RawData = MessageOf<typeof RawData>`. */
export type MessageOf<C> = C extends abstract new (...args: any) => infer M ? M : never;
/** What a kernel definition takes: `InputOf<typeof preprocess>`. */
export type InputOf<D> = D extends KernelDefinition<infer I, any> ? I : never;
/** What a kernel definition sends: `OutputOf<typeof preprocess>`. */
export type OutputOf<D> = D extends KernelDefinition<any, infer O> ? O : never;

export const DEFAULT_QUEUE_SIZE = 4096;
export const DEFAULT_MAX_MESSAGE_SIZE = 1 << 20;

const registry = new Map<string, KernelDefinition>();

function positiveInt(v: unknown, what: string, kernelId: string, max: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max) return v;
  throw new RangeError(`ringKernel '${kernelId}': ${what} must be an integer 1..${max}, got ${String(v)}`);
}

/**
 * Defines a kernel and registers it under `kernelId` (a second definition of the same id
 * throws KernelAlreadyExistsError). Launch it with `runtime.launch(kernelId)`, or launch the
 * returned definition under other ids: `runtime.launch('stage_2', definition)`.
 */
export function ringKernel<I extends MessageClass<any> = MessageClass<any>, O extends MessageClass<any> = MessageClass<any>>(
  options: KernelOptions & { input?: I; output?: O; placement: 'gpu' },
  fallback?: (message: InstanceType<I>) => InstanceType<O> | Promise<InstanceType<O>>,
): KernelDefinition<InstanceType<I>, InstanceType<O>>;
export function ringKernel<I extends MessageClass<any> = MessageClass<any>, O extends MessageClass<any> = MessageClass<any>>(
  options: KernelOptions & { input?: I; output?: O },
  fn: (ctx: KernelContext<InstanceType<I>, InstanceType<O>>) => Promise<void> | void,
): KernelDefinition<InstanceType<I>, InstanceType<O>>;
export function ringKernel(options: KernelOptions, fn?: (...args: any[]) => unknown): KernelDefinition {
  if (options === null || typeof options !== 'object') throw new TypeError('ringKernel: the first argument must be an options object with a kernelId');
  const { kernelId } = options;
  if (typeof kernelId !== 'string' || kernelId.length === 0) throw new TypeError(`ringKernel: kernelId must be a non-empty string, got ${String(kernelId)}`);
  const placement = options.placement ?? 'inline';
  if (placement === 'gpu') {
    if (typeof options.wgsl !== 'string' || !/\bfn\s+handle\s*\(/.test(options.wgsl))
      throw new TypeError(`ringKernel '${kernelId}': a GPU kernel needs wgsl with fn handle(m: In) -> Out`);
    if (!options.input || !options.output) throw new TypeError(`ringKernel '${kernelId}': a GPU kernel needs input and output message classes`);
    if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`ringKernel '${kernelId}': the fallback must be a function (message in, message out)`);
    const st = options.state;
    if (st !== undefined && (!['f32', 'u32', 'i32'].includes(st.type) || !Number.isInteger(st.words) || st.words < 1))
      throw new TypeError(`ringKernel '${kernelId}': state must be { type: 'f32' | 'u32' | 'i32', words: n >= 1, init? }`);
  } else if (typeof fn !== 'function') throw new TypeError(`ringKernel '${kernelId}': the kernel function is missing`);
  if (placement !== 'inline' && placement !== 'worker' && placement !== 'gpu')
    throw new TypeError(`ringKernel '${kernelId}': placement must be 'inline', 'worker' or 'gpu', got ${JSON.stringify(placement)}`);
  if (placement === 'worker' && (options.module === undefined || String(options.module) === ''))
    throw new TypeError(`ringKernel '${kernelId}': placement 'worker' needs module: import.meta.url (the module a worker imports to find this kernel)`);
  const backpressure = options.backpressure ?? 'block';
  strategyCode(backpressure); // throws on an unknown one
  const def: KernelDefinition = Object.freeze({
    kernelId,
    input: options.input,
    output: options.output,
    queueSize: positiveInt(options.queueSize ?? DEFAULT_QUEUE_SIZE, 'queueSize', kernelId, 1 << 24),
    backpressure,
    maxMessageSize: positiveInt(options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, 'maxMessageSize', kernelId, 1 << 28),
    placement,
    module: options.module === undefined ? undefined : moduleUrl(options.module),
    inlineFallback: options.inlineFallback === true,
    wgsl: options.wgsl,
    gpuState: options.state,
    hasFallback: typeof fn === 'function',
    restart: checkRestartPolicy(options.restart, kernelId),
    fn: (fn ?? (() => {})) as KernelFunction,
  });
  if (options.register === false) {
    if (placement === 'worker') throw new TypeError(`ringKernel '${kernelId}': a worker kernel must be registered (a worker finds it by id in its module); leave out register: false`);
    return def;
  }
  if (registry.has(kernelId)) throw new KernelAlreadyExistsError(`ringKernel: a kernel '${kernelId}' is already defined (define kernels once, at module level; to define it again, call undefineKernel('${kernelId}') first)`, { kernelId, operation: 'define' });
  registry.set(kernelId, def);
  return def;
}

/**
 * The URL a worker imports: `module` as given (import.meta.url), or, for an absolute file
 * path (CommonJS's __filename), its file: URL.
 */
function moduleUrl(m: string | URL): string {
  const s = String(m);
  const enc = (path: string) => path.split('/').map(encodeURIComponent).join('/');
  if (s.startsWith('/')) return 'file://' + enc(s);
  if (/^[A-Za-z]:[\\/]/.test(s)) return 'file:///' + s.slice(0, 2) + enc(s.slice(2).replace(/\\/g, '/'));
  return s;
}

export function registeredKernel(kernelId: string, operation: string): KernelDefinition {
  const def = registry.get(kernelId);
  if (!def) throw new KernelNotFoundError(`no kernel '${kernelId}' is defined (define it with ringKernel({ kernelId: '${kernelId}', ... }))`, { kernelId, operation });
  return def;
}

/** Ids of every kernel defined in this thread. */
export function definedKernelIds(): string[] { return [...registry.keys()]; }

/** Forgets a definition (tests, hot reload). */
export function undefineKernel(kernelId: string): boolean { return registry.delete(kernelId); }
