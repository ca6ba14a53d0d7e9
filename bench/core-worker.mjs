// Worker side of bench/core.mjs: produces into a ring, or posts with postMessage.
import { parentPort, workerData } from 'node:worker_threads';
import { attachCore, Ring, Status } from '../dist/index.js';

const { mode, count, batch } = workerData;
const msg = new Uint8Array(64).fill(7);

if (mode === 'ring') {
  const core = attachCore(workerData.module, workerData.memory, workerData.scratch, workerData.scratchBytes);
  const ring = new Ring(core, workerData.queue);
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  if (batch > 1) {
    const group = new Array(batch).fill(msg);
    for (let sent = 0; sent < count;) {
      const n = ring.pushBatch(group.slice(0, Math.min(batch, count - sent)));
      if (n > 0) sent += n;
      else ring.pushWait(msg, 128, 1000) === Status.OK && sent++;
    }
  } else {
    for (let i = 0; i < count; i++) {
      if (ring.push(msg) !== Status.OK) ring.pushWait(msg, 128, -1);
    }
  }
} else {
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  for (let i = 0; i < count; i++) parentPort.postMessage(msg);
}
