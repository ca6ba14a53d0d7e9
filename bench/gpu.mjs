// bench/gpu.mjs — a GPU kernel (mean of 16 f32 per message) against batch size, and the
// single-message round trip, beside the same work in plain JS and in raw WebGPU without the
// runtime, in one run. Prints the adapter; on llvmpipe (no GPU) the figures are the CPU's.
//   node bench/gpu.mjs            BENCH_GPU_SIZES=1,1000,65536,1000000 for the full set
import { writeFileSync, mkdirSync } from 'node:fs';
import { RingKernelRuntime, ringKernel, message, t, gpuAdapterName } from '../dist/index.js';

const Vec16 = message('BgVec16', { values: t.array(t.f32, 16) });
const Mean = message('BgMean', { mean: t.f32 });
const WGSL = 'fn handle(m: BgVec16) -> BgMean { var s = 0.0; for (var i = 0u; i < 16u; i++) { s += m.values[i]; } return BgMean(s / 16.0); }';
ringKernel({ kernelId: 'bg_mean', placement: 'gpu', input: Vec16, output: Mean, queueSize: 1 << 20, wgsl: WGSL });

const sizes = (process.env.BENCH_GPU_SIZES ?? '1,1000,65536').split(',').map(Number);
const adapter = await gpuAdapterName();
if (!adapter) { console.log('no WebGPU adapter here: nothing to measure'); process.exit(0); }
const values = Array.from({ length: 16 }, (_, i) => i);
const results = { date: new Date().toISOString(), adapter, ringkernel: {}, plainJs: {}, rawWebGpu: {} };

// ringkernel: send the batch, receive every answer
const rt = new RingKernelRuntime();
await rt.launch('bg_mean');
await rt.activate('bg_mean');
for (const n of sizes) {
  const msgs = Array.from({ length: n }, () => new Vec16({ values }));
  const t0 = performance.now();
  const sending = rt.sendMany('bg_mean', msgs);
  for (let got = 0; got < n;) got += (await rt.receiveMany('bg_mean', { max: 65536, timeout: 60_000 })).length;
  await sending;
  results.ringkernel[n] = n / ((performance.now() - t0) / 1000);
}
const lat = [];
for (let i = 0; i < 200; i++) {
  const t0 = performance.now();
  await rt.send('bg_mean', new Vec16({ values }));
  await rt.receive('bg_mean', { timeout: 10_000 });
  if (i >= 20) lat.push((performance.now() - t0) * 1000);
}
lat.sort((a, b) => a - b);
results.ringkernelLatencyUs = { p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)] };
await rt.shutdown();

// plain JS: the same arithmetic over the same arrays
for (const n of sizes) {
  const data = Array.from({ length: n }, () => values);
  const t0 = performance.now();
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) { let s = 0; for (let i = 0; i < 16; i++) s += data[k][i]; out[k] = s / 16; }
  results.plainJs[n] = n / Math.max((performance.now() - t0) / 1000, 1e-9);
}

// raw WebGPU: one pipeline, upload, dispatch, readback per batch
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
process.env.EGL_PLATFORM ??= 'surfaceless';
let gpu, ad;
for (const backend of ['vulkan', 'opengles']) {
  gpu = create([`backend=${backend}`]);
  ad = await gpu.requestAdapter(backend === 'opengles' ? { featureLevel: 'compatibility' } : undefined);
  if (ad) break;
}
const device = await ad.requestDevice();
const module = device.createShaderModule({ code: `
@group(0) @binding(0) var<storage, read> src: array<array<f32, 16>>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> count: vec4<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < count.x) { var s = 0.0; for (var i = 0u; i < 16u; i++) { s += src[id.x][i]; } dst[id.x] = s / 16.0; }
}` });
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
async function rawBatch(n, input) {
  const src = device.createBuffer({ size: n * 64, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const dst = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const uni = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(src, 0, input);
  device.queue.writeBuffer(uni, 0, new Uint32Array([n, 0, 0, 0]));
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [
    { binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }, { binding: 2, resource: { buffer: uni } }] });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass(); pass.setPipeline(pipeline); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(Math.ceil(n / 64)); pass.end();
  enc.copyBufferToBuffer(dst, 0, read, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [src, dst, uni, read]) b.destroy();
  return out;
}
for (const n of sizes) {
  const input = new Float32Array(n * 16);
  for (let k = 0; k < n; k++) input.set(values, k * 16);
  const t0 = performance.now();
  await rawBatch(n, input);
  results.rawWebGpu[n] = n / ((performance.now() - t0) / 1000);
}
const rawLat = [];
for (let i = 0; i < 200; i++) { const t0 = performance.now(); await rawBatch(1, new Float32Array(values)); if (i >= 20) rawLat.push((performance.now() - t0) * 1000); }
rawLat.sort((a, b) => a - b);
results.rawWebGpuLatencyUs = { p50: rawLat[Math.floor(rawLat.length / 2)], p99: rawLat[Math.floor(rawLat.length * 0.99)] };

const f = (x) => `${Math.round(x).toLocaleString('en-US').padStart(13)} msg/s`;
console.log(`GPU kernel, mean of 16 f32 per message, on: ${adapter}`);
console.log('  batch         ringkernel            raw WebGPU            plain JS');
for (const n of sizes) console.log(`  ${String(n).padStart(7)}  ${f(results.ringkernel[n])} ${f(results.rawWebGpu[n])} ${f(results.plainJs[n])}`);
console.log(`  one message round trip: ringkernel p50 ${results.ringkernelLatencyUs.p50.toFixed(0)} us, p99 ${results.ringkernelLatencyUs.p99.toFixed(0)} us; raw WebGPU p50 ${results.rawWebGpuLatencyUs.p50.toFixed(0)} us, p99 ${results.rawWebGpuLatencyUs.p99.toFixed(0)} us`);
console.log('  targets (on a real GPU): >= 70% of raw WebGPU at 64K a batch, <= 2x its single-message latency');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/gpu.json', import.meta.url), JSON.stringify(results, null, 2));
process.exit(0);
