// gpu/device.ts — where WebGPU comes from: one adapter and one device per thread, shared
// by its GPU kernels, found again after the device is lost.

type Gpu = { requestAdapter(o?: object): Promise<any> };
/** The adapter and the one device this thread asks of it (an adapter gives one device). */
export interface GpuHandle { name: string; device: any; lost: string | null; lostPromise: Promise<void>; keep: unknown }
let gpuPromise: Promise<GpuHandle | null> | null = null;

import { runtimeKind } from '../platform.js';

/**
 * A WebGPU adapter: navigator.gpu where there is one (browsers, Deno); in Node the optional
 * `webgpu` package (Dawn), trying Vulkan, then OpenGL ES, which finds Mesa's llvmpipe on a
 * machine without a GPU (no variable for the user to set). null when there is none.
 */
export function findGpu(): Promise<GpuHandle | null> {
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
    if (runtimeKind !== 'node' && runtimeKind !== 'bun') return null; // the webgpu package is a Node addon (Bun loads those too)
    const name = 'webgpu';
    const dawn = await import(/* @vite-ignore */ name).catch(() => null) as { create(o: string[]): Gpu; globals: object } | null;
    if (!dawn) return null;
    Object.assign(globalThis, dawn.globals);
    if (!process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless'; // GL ES without a display
    // Dawn prints what it finds from native code, straight to stderr. Trying Vulkan where
    // there is no Vulkan loader prints a warning with Dawn's build-machine paths; so Vulkan
    // is tried only where a loader is installed, unless RINGKERNEL_GPU_VERBOSE=1 asks to
    // hear everything Dawn says (then each backend is tried, verbosely).
    const verbose = process.env.RINGKERNEL_GPU_VERBOSE === '1';
    const backends = verbose || await hasVulkanLoader() ? ['vulkan', 'opengles'] : ['opengles'];
    for (const backend of backends) {
      try {
        const gpu = dawn.create(verbose ? [`backend=${backend}`, 'verbose=1'] : [`backend=${backend}`]);
        const adapter = await gpu.requestAdapter(backend === 'opengles' ? { featureLevel: 'compatibility' } : undefined);
        if (adapter) return { adapter, gpu };
      } catch { /* next backend */ }
    }
    return null;
  }
}

/**
 * Whether a Vulkan loader (libvulkan) can be found: on Linux in the dynamic linker's cache or
 * LD_LIBRARY_PATH, elsewhere assumed (Dawn looks for it itself).
 */
async function hasVulkanLoader(): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  const fs = await import('node:fs');
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`))) return true;
  try { return fs.readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1'); } catch { return true; }
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
