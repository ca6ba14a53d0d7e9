// bench/core.mjs — the wasm ring through its JS API, beside postMessage, in one run.
//   node bench/core.mjs [--json]      (npm run bench:core builds first)
// 1. same-thread push+pop pair of a 64-byte message: ns per pair
// 2. cross-thread SPSC: a worker pushes 64-byte messages, the main thread pops them
// 3. the same transfer with postMessage (a worker posts each message to the main thread)
// 4. anchor: a bare single-producer ring in plain JS (fixed 64-byte slots, no priorities,
//    strategies or counters), same-thread pair and cross-thread, to show what the ring's
//    features cost on this machine
import { Worker } from 'node:worker_threads';
import { createCore, Ring, Strategy } from 'ringkernel';
import { writeFileSync, mkdirSync } from 'node:fs';

const json = process.argv.includes('--json');
const results = {};
const MSG = new Uint8Array(64).fill(1);

function best(runs, fn) {
  let b = Infinity;
  for (let i = 0; i < runs; i++) b = Math.min(b, fn());
  return b;
}

async function pair() {
  const core = await createCore();
  const ring = Ring.create(core, { capacity: 4096, maxRecord: 1024, strategy: Strategy.BLOCK });
  const N = 2_000_000;
  const copy = best(7, () => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) { ring.push(MSG); ring.pop(); }
    return ((performance.now() - t0) * 1e6) / N;
  });
  // the facade's own path: an encoder writes into scratch, a decoder reads from scratch
  core.mem.set(MSG, core.scratch);
  const staged = best(7, () => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) { ring.pushStaged(64); ring.popStaged(); }
    return ((performance.now() - t0) * 1e6) / N;
  });
  results.pairNs = copy;
  results.pairStagedNs = staged;
}

// The bare ring: [i32 head at 0][i32 tail at 64][slots of 64 bytes from 128]
const BARE_SLOTS = 8192;
const bareRing = () => new SharedArrayBuffer(128 + BARE_SLOTS * 64);

function barePair() {
  const sab = bareRing();
  const i32 = new Int32Array(sab), u8 = new Uint8Array(sab);
  const N = 2_000_000;
  return best(7, () => {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      // push: copy into the slot, publish head
      const head = Atomics.load(i32, 0);
      if (head - Atomics.load(i32, 16) < BARE_SLOTS) {
        u8.set(MSG, 128 + (head & (BARE_SLOTS - 1)) * 64);
        Atomics.store(i32, 0, head + 1);
      }
      // pop: copy out of the slot, publish tail
      const tail = Atomics.load(i32, 16);
      if (tail !== Atomics.load(i32, 0)) {
        const at = 128 + (tail & (BARE_SLOTS - 1)) * 64;
        u8.slice(at, at + 64);
        Atomics.store(i32, 16, tail + 1);
      }
    }
    return ((performance.now() - t0) * 1e6) / N;
  });
}

async function bareCrossThread() {
  const sab = bareRing();
  const i32 = new Int32Array(sab);
  const count = 5_000_000;
  const w = await worker({ mode: 'bare', sab, count, slots: BARE_SLOTS });
  const done = new Promise((r) => w.once('exit', r));
  const t0 = performance.now();
  w.postMessage('go');
  // the consumer takes everything published at once, as the ring's consumer takes batches
  let tail = 0;
  while (tail < count) {
    const head = Atomics.load(i32, 0);
    if (head !== tail) Atomics.store(i32, 16, (tail = head));
  }
  const s = (performance.now() - t0) / 1000;
  await done;
  return count / s;
}

function worker(data) {
  const w = new Worker(new URL('./core-worker.mjs', import.meta.url), { workerData: data });
  return new Promise((resolve) => w.once('message', () => resolve(w)));
}

async function crossThread(batch) {
  const core = await createCore();
  const ring = Ring.create(core, { capacity: 8192, maxRecord: 1024, strategy: Strategy.BLOCK });
  const count = 5_000_000;
  const scratch = core.alloc(1 << 20);
  const w = await worker({ mode: 'ring', module: core.module, memory: core.memory, scratch, scratchBytes: 1 << 20, queue: ring.ptr, count, batch });
  const x = core.x;
  const done = new Promise((r) => w.once('exit', r));
  const t0 = performance.now();
  w.postMessage('go');
  let got = 0;
  // the consumer pops in batches of up to 256 and spins when the ring is empty
  while (got < count) {
    const n = x.queue_pop_batch(ring.ptr, core.scratch, core.scratchBytes, 256);
    if (n > 0) got += n;
  }
  const s = (performance.now() - t0) / 1000;
  await done;
  return count / s;
}

async function postMessageRate() {
  const count = 1_000_000;
  const w = await worker({ mode: 'post', count });
  let got = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    w.on('message', () => { if (++got === count) resolve(); });
    w.postMessage('go');
  });
  const s = (performance.now() - t0) / 1000;
  await w.terminate();
  return count / s;
}

await pair();
results.barePairNs = barePair();
results.crossThreadMsgPerSec = await crossThread(1);
results.crossThreadBatchedMsgPerSec = await crossThread(64);
results.postMessageMsgPerSec = await postMessageRate();
results.bareCrossThreadMsgPerSec = await bareCrossThread();
results.ratio = results.crossThreadMsgPerSec / results.postMessageMsgPerSec;

const fmt = (n) => (n / 1e6).toFixed(2) + ' M msg/s';
console.log('core ring, 64-byte messages (this machine, one run)');
console.log(`  same-thread push+pop pair (copy in, copy out)      ${results.pairNs.toFixed(1)} ns   target <= 60 ns`);
console.log(`  same-thread push+pop pair (staged in scratch)      ${results.pairStagedNs.toFixed(1)} ns`);
console.log(`  cross-thread SPSC, one push call per message       ${fmt(results.crossThreadMsgPerSec)}   target >= 10 M msg/s`);
console.log(`  cross-thread SPSC, 64 staged records a push call   ${fmt(results.crossThreadBatchedMsgPerSec)}`);
console.log(`  postMessage, one message per post (anchor)         ${fmt(results.postMessageMsgPerSec)}`);
console.log(`  ring / postMessage                                 ${results.ratio.toFixed(1)}x   target >= 10x`);
console.log('  anchor: a bare single-producer ring in plain JS (fixed 64-byte slots, no priorities, strategies or counters)');
console.log(`    same-thread push+pop pair (copy in, copy out)    ${results.barePairNs.toFixed(1)} ns`);
console.log(`    cross-thread, one push per message               ${fmt(results.bareCrossThreadMsgPerSec)}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/core.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2));
if (json) console.log(JSON.stringify(results));
