// bench/gpu.mjs — a GPU kernel (mean of 16 f32 per message) against batch size, and the
// single-message round trip, beside the same work in plain JS and in raw WebGPU without the
// runtime (on the same device), in one run. Prints the adapter; on llvmpipe (no GPU) the
// figures are the CPU's. Each figure is the best of three runs (one for a million).
//   node bench/gpu.mjs            BENCH_GPU_SIZES=1,1000 for fewer sizes
import { writeFileSync, mkdirSync } from 'node:fs';
import { RingKernelRuntime, ringKernel, message, t, gpuAdapterName, gpuDevice } from '../dist/index.js';

const Vec16 = message('BgVec16', { values: t.array(t.f32, 16) });
const Mean = message('BgMean', { mean: t.f32 });
const WGSL = 'fn handle(m: BgVec16) -> BgMean { var s = 0.0; for (var i = 0u; i < 16u; i++) { s += m.values[i]; } return BgMean(s / 16.0); }';
ringKernel({ kernelId: 'bg_mean', placement: 'gpu', input: Vec16, output: Mean, queueSize: 1 << 20, wgsl: WGSL });

const sizes = (process.env.BENCH_GPU_SIZES ?? '1,1000,65536,1000000').split(',').map(Number);
/** Best of three, but a million messages once (their objects take a while to make). */
const repeatsFor = (n) => (n >= 1_000_000 ? 1 : 3);
/** Messages per second of the best of `repeats` runs of `run` (n messages each). */
async function best(repeats, run, n) {
  let fastest = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - t0);
  }
  return n / (Math.max(fastest, 1e-6) / 1000);
}
const adapter = await gpuAdapterName();
if (!adapter) { console.log('no WebGPU adapter here: nothing to measure'); process.exit(0); }
const values = Array.from({ length: 16 }, (_, i) => i);
const results = { date: new Date().toISOString(), adapter, ringkernel: {}, plainJs: {}, rawWebGpu: {} };

// ringkernel: send the batch, receive every answer
const rt = new RingKernelRuntime();
await rt.launch('bg_mean');
await rt.activate('bg_mean');
const batchOf = (n) => Array.from({ length: n }, () => new Vec16({ values }));
async function roundTrip(msgs) {
  const sending = rt.sendMany('bg_mean', msgs);
  for (let got = 0; got < msgs.length;) got += (await rt.receiveMany('bg_mean', { max: 65536, timeout: 60_000 })).length;
  await sending;
}
await roundTrip(batchOf(4096)); // warm-up: the pipeline's first dispatches, the JIT
for (const n of sizes) {
  // the messages are made outside the timed window, as the raw version's arrays are
  const batches = Array.from({ length: repeatsFor(n) }, () => batchOf(n));
  let r = 0;
  results.ringkernel[n] = await best(batches.length, () => roundTrip(batches[r++]), n);
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

// plain JS: the same arithmetic over the same arrays
for (const n of sizes) {
  const data = Array.from({ length: n }, () => values);
  const t0 = performance.now();
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) { let s = 0; for (let i = 0; i < 16; i++) s += data[k][i]; out[k] = s / 16; }
  results.plainJs[n] = n / Math.max((performance.now() - t0) / 1000, 1e-9);
}

// raw WebGPU on the same device: one pipeline; per batch size, buffers made beforehand;
// each batch is upload, dispatch, readback
const device = await gpuDevice();
const module = device.createShaderModule({ code: `
@group(0) @binding(0) var<storage, read> src: array<array<f32, 16>>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> count: vec4<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < count.x) { var s = 0.0; for (var i = 0u; i < 16u; i++) { s += src[id.x][i]; } dst[id.x] = s / 16.0; }
}` });
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
function rawBuffers(n) {
  const src = device.createBuffer({ size: n * 64, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const dst = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const uni = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uni, 0, new Uint32Array([n, 0, 0, 0]));
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [
    { binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }, { binding: 2, resource: { buffer: uni } }] });
  return { n, src, dst, uni, read, bg, destroy() { for (const b of [src, dst, uni, read]) b.destroy(); } };
}
async function rawBatch(b, input) {
  device.queue.writeBuffer(b.src, 0, input);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass(); pass.setPipeline(pipeline); pass.setBindGroup(0, b.bg); pass.dispatchWorkgroups(Math.ceil(b.n / 64)); pass.end();
  enc.copyBufferToBuffer(b.dst, 0, b.read, 0, b.n * 4);
  device.queue.submit([enc.finish()]);
  await b.read.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(b.read.getMappedRange().slice(0));
  b.read.unmap();
  return out;
}
for (const n of sizes) {
  const input = new Float32Array(n * 16);
  for (let k = 0; k < n; k++) input.set(values, k * 16);
  const b = rawBuffers(n);
  await rawBatch(b, input); // warm-up
  results.rawWebGpu[n] = await best(repeatsFor(n), () => rawBatch(b, input), n);
  b.destroy();
}
const one = rawBuffers(1), oneInput = new Float32Array(values);
const rawLat = [];
for (let i = 0; i < 200; i++) { const t0 = performance.now(); await rawBatch(one, oneInput); if (i >= 20) rawLat.push((performance.now() - t0) * 1000); }
one.destroy();
rawLat.sort((a, b) => a - b);
results.rawWebGpuLatencyUs = { p50: rawLat[Math.floor(rawLat.length / 2)], p99: rawLat[Math.floor(rawLat.length * 0.99)] };
await rt.shutdown();

const f = (x) => `${Math.round(x).toLocaleString('en-US').padStart(13)} msg/s`;
console.log(`GPU kernel, mean of 16 f32 per message, on: ${adapter}`);
console.log('  batch         ringkernel            raw WebGPU            plain JS');
for (const n of sizes) console.log(`  ${String(n).padStart(7)}  ${f(results.ringkernel[n])} ${f(results.rawWebGpu[n])} ${f(results.plainJs[n])}`);
console.log(`  one message round trip: ringkernel p50 ${results.ringkernelLatencyUs.p50.toFixed(0)} us, p99 ${results.ringkernelLatencyUs.p99.toFixed(0)} us; raw WebGPU p50 ${results.rawWebGpuLatencyUs.p50.toFixed(0)} us, p99 ${results.rawWebGpuLatencyUs.p99.toFixed(0)} us`);
console.log('  targets (on a real GPU): >= 70% of raw WebGPU at 64K a batch, <= 2x its single-message latency');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/gpu.json', import.meta.url), JSON.stringify(results, null, 2));
process.exit(0);
