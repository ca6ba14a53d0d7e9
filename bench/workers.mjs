// bench/workers.mjs — the seed's two-stage pipeline (10-float messages) on two worker
// threads, end to end, beside the same two stages wired by hand with postMessage /
// MessagePort and run through piscina, all in one run; and round-trip latencies.
//   node bench/workers.mjs        (npm run bench builds first and runs every benchmark)
import { Worker, MessageChannel } from 'node:worker_threads';
import { writeFileSync, mkdirSync } from 'node:fs';
import { Piscina } from 'piscina';
import { RingKernelRuntime } from 'ringkernel';
import { RawData, Ping } from './worker-kernels.mjs';

const N = Number(process.env.BENCH_MESSAGES ?? 100_000);
// every contender's input, made the same way; a plain loop, as Array.from with a mapping
// function costs about 1.5 us here, which would time the data rather than the pipelines
const values = () => {
  const a = new Array(10);
  for (let i = 0; i < 10; i++) a[i] = i + Math.random();
  return a;
};
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

/** The best throughput (msg/s) of 3 runs of `run`, which moves N messages end to end. */
async function bestOf3(run) {
  let best = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    await run();
    best = Math.max(best, N / ((performance.now() - t0) / 1000));
  }
  return best;
}

/** The two stages connected on two workers; `run(rt)` moves N messages through them. */
async function ringkernelPipeline(pre, comp, run) {
  const rt = new RingKernelRuntime({ workers: 2 });
  await rt.launch(pre);
  await rt.launch(comp);
  rt.connect(pre, comp);
  await rt.activate(pre);
  await rt.activate(comp);
  const best = await bestOf3(() => run(rt));
  await rt.shutdown();
  return best;
}

/** One message per call. */
const ringkernelOneByOne = () => ringkernelPipeline('bw_preprocess', 'bw_compute', async (rt) => {
  const sending = (async () => { for (let i = 0; i < N; i++) await rt.send('bw_preprocess', new RawData({ values: values() })); })();
  for (let i = 0; i < N; i++) await rt.receive('bw_compute');
  await sending;
});

/** The same, with the batch API on the host and in the kernels. */
const ringkernelBatched = () => ringkernelPipeline('bw_preprocess_batch', 'bw_compute_batch', async (rt) => {
  const sending = (async () => {
    for (let i = 0; i < N; i += 1000) {
      const chunk = [];
      for (let k = i; k < Math.min(N, i + 1000); k++) chunk.push(new RawData({ values: values() }));
      await rt.sendMany('bw_preprocess_batch', chunk);
    }
  })();
  for (let got = 0; got < N;) got += (await rt.receiveMany('bw_compute_batch', { max: 4096 })).length;
  await sending;
});

async function postMessagePipeline() {
  const url = new URL('./postmessage-stage.mjs', import.meta.url);
  const pre = new Worker(url, { workerData: { mode: 'port', stage: 'preprocess' } });
  const comp = new Worker(url, { workerData: { mode: 'port', stage: 'compute' } });
  const { port1, port2 } = new MessageChannel();
  pre.postMessage({ port: port1 }, [port1]);
  comp.postMessage({ port: port2 }, [port2]);
  const best = await bestOf3(() => new Promise((resolve) => {
    let got = 0;
    const on = () => { if (++got === N) { comp.off('message', on); resolve(); } };
    comp.on('message', on);
    for (let i = 0; i < N; i++) pre.postMessage(values());
  }));
  await pre.terminate(); await comp.terminate();
  return best;
}

async function piscinaPipeline() {
  const pool = new Piscina({ filename: new URL('./piscina-task.mjs', import.meta.url).href, minThreads: 2, maxThreads: 2 });
  const best = await bestOf3(() => {
    const all = [];
    for (let i = 0; i < N; i++) all.push(pool.run(values(), { name: 'preprocess' }).then((n) => pool.run(n, { name: 'compute' })));
    return Promise.all(all);
  });
  await pool.destroy();
  return best;
}

/** Round trips host <-> worker kernel and worker kernel <-> worker kernel (spinMicros: see docs/workers.md). */
async function ringkernelPingPongs(spinMicros) {
  const rt = new RingKernelRuntime({ workers: 2, spinMicros });
  await rt.launch('bw_echo');
  await rt.activate('bw_echo');
  const times = [];
  for (let i = 0; i < 1100; i++) {
    const t0 = performance.now();
    await rt.send('bw_echo', new Ping({ n: i }));
    await rt.receive('bw_echo');
    if (i >= 100) times.push((performance.now() - t0) * 1000);
  }
  times.sort((a, b) => a - b);
  await rt.launch('bw_pinger');
  await rt.activate('bw_pinger');
  await rt.send('bw_pinger', new Ping({ n: 1000 }));
  const cross = await rt.receive('bw_pinger', { timeout: 60_000 });
  await rt.shutdown();
  return {
    hostToWorker: { p50Us: quantile(times, 0.5), p99Us: quantile(times, 0.99) },
    workerToWorker: { p50Us: cross.p50, p99Us: cross.p99 },
  };
}

async function postMessagePingPong() {
  const w = new Worker(new URL('./postmessage-stage.mjs', import.meta.url), { workerData: { mode: 'port', stage: 'echo' } });
  const pm = [];
  for (let i = 0; i < 1100; i++) {
    const t0 = performance.now();
    await new Promise((resolve) => { w.once('message', resolve); w.postMessage(i); });
    if (i >= 100) pm.push((performance.now() - t0) * 1000);
  }
  pm.sort((a, b) => a - b);
  await w.terminate();
  return { p50Us: quantile(pm, 0.5), p99Us: quantile(pm, 0.99) };
}

/**
 * The floor under any round trip that sleeps: the main thread wakes a worker blocked in
 * Atomics.waitAsync and waits (waitAsync) for it to wake it back. No message, no work.
 */
async function bareWakePingPong() {
  const sab = new SharedArrayBuffer(128);
  const i32 = new Int32Array(sab);
  const w = new Worker(new URL('./postmessage-stage.mjs', import.meta.url), { workerData: { mode: 'wake', sab } });
  await new Promise((resolve) => w.once('message', resolve));
  const times = [];
  for (let i = 0; i < 1100; i++) {
    const t0 = performance.now();
    const seq = Atomics.load(i32, 16);
    Atomics.add(i32, 0, 1);
    Atomics.notify(i32, 0);
    const r = Atomics.waitAsync(i32, 16, seq);
    if (r.async) await r.value;
    if (i >= 100) times.push((performance.now() - t0) * 1000);
  }
  times.sort((a, b) => a - b);
  await w.terminate();
  return { p50Us: quantile(times, 0.5), p99Us: quantile(times, 0.99) };
}

const results = { date: new Date().toISOString(), messages: N };
results.ringkernel = await ringkernelOneByOne();
results.ringkernelBatched = await ringkernelBatched();
results.postMessage = await postMessagePipeline();
results.piscina = await piscinaPipeline();
results.pingPong = { ...await ringkernelPingPongs(undefined), postMessage: await postMessagePingPong(), bareWake: await bareWakePingPong() };
results.pingPongNoSpin = await ringkernelPingPongs(0);

const r = (x) => `${Math.round(x).toLocaleString('en-US').padStart(10)} msg/s`;
const l = (x) => `p50 ${x.p50Us.toFixed(1).padStart(6)} us   p99 ${x.p99Us.toFixed(1).padStart(7)} us`;
console.log(`two-stage pipeline on two worker threads, ${N.toLocaleString('en-US')} messages of 10 floats, end to end (best of 3)`);
console.log(`  ringkernel (shared rings)          ${r(results.ringkernel)}   target >= 3x postMessage, one message per call (issue 14)`);
console.log(`  ringkernel, batch API               ${r(results.ringkernelBatched)}`);
console.log(`  postMessage / MessagePort (anchor) ${r(results.postMessage)}   ringkernel is ${(results.ringkernel / results.postMessage).toFixed(2)}x, with batches ${(results.ringkernelBatched / results.postMessage).toFixed(2)}x`);
console.log(`  piscina (anchor)                   ${r(results.piscina)}   ringkernel is ${(results.ringkernel / results.piscina).toFixed(2)}x`);
console.log('round trips, 100 warm-up + 1,000; ringkernel with default options (spinMicros: \'adaptive\')');
console.log(`  host <-> worker kernel             ${l(results.pingPong.hostToWorker)}   target p50 <= postMessage\'s (${(results.pingPong.hostToWorker.p50Us / results.pingPong.postMessage.p50Us).toFixed(2)}x it)`);
console.log(`  worker kernel <-> worker kernel    ${l(results.pingPong.workerToWorker)}`);
console.log(`  postMessage host <-> worker        ${l(results.pingPong.postMessage)}   (anchor)`);
console.log(`  bare waitAsync wake-ups both ways  ${l(results.pingPong.bareWake)}   (anchor: the floor of a round trip that sleeps)`);
console.log('  with spinMicros: 0 (threads sleep at once)');
console.log(`  host <-> worker kernel             ${l(results.pingPongNoSpin.hostToWorker)}`);
console.log(`  worker kernel <-> worker kernel    ${l(results.pingPongNoSpin.workerToWorker)}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/workers.json', import.meta.url), JSON.stringify(results, null, 2));
