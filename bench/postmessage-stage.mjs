// The anchors' stages for bench/workers.mjs: the seed's two stages as plain workers wired by
// hand with postMessage / MessagePort (mode 'port'), or as piscina task functions; and a
// worker that only answers Atomics wake-ups (mode 'wake').
import { parentPort, workerData } from 'node:worker_threads';

export function preprocess(values) {
  let min = Infinity, max = -Infinity;
  for (const v of values) { if (v < min) min = v; if (v > max) max = v; }
  return values.map((v) => (v - min) / (max - min));
}
export function compute(normalized) {
  let s = 0;
  for (const v of normalized) s += v;
  return s / normalized.length;
}

if (parentPort && workerData?.mode === 'wake') {
  // the bare wake-up anchor: wait on word 0, answer on word 16, nothing else
  const i32 = new Int32Array(workerData.sab);
  let seen = 0;
  parentPort.on('message', () => {}); // a pending waitAsync does not keep a thread alive; a listener does
  parentPort.postMessage('ready');
  for (;;) {
    const w = Atomics.waitAsync(i32, 0, seen);
    if (w.async) await w.value;
    seen = Atomics.load(i32, 0);
    Atomics.add(i32, 16, 1);
    Atomics.notify(i32, 16);
  }
}

if (parentPort && workerData?.mode === 'port') {
  // stage 'preprocess' gets {values} from the main thread and posts to `next` (a MessagePort);
  // stage 'compute' gets from its port and posts results to the main thread; 'echo' echoes
  const { stage } = workerData;
  if (stage === 'echo') parentPort.on('message', (m) => parentPort.postMessage(m));
  else parentPort.once('message', ({ port }) => {
    if (stage === 'preprocess') parentPort.on('message', (m) => port.postMessage(preprocess(m)));
    else port.on('message', (m) => parentPort.postMessage(compute(m)));
  });
}
