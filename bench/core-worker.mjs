// Worker side of bench/core.mjs: produces into a ring, or posts with postMessage.
import { parentPort, workerData } from 'node:worker_threads';
import { attachCore, Ring, Status } from 'ringkernel';

const { mode, count, batch } = workerData;
const msg = new Uint8Array(64).fill(7);

if (mode === 'ring') {
  const core = attachCore(workerData.module, workerData.memory, workerData.scratch, workerData.scratchBytes);
  const ring = new Ring(core, workerData.queue);
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  if (batch > 1) {
    // stage `batch` length-prefixed records in scratch once, as an encoder would write them,
    // then push the staged batch again and again: one call into the core per batch
    const x = core.x;
    let p = core.scratch;
    for (let i = 0; i < batch; i++) { core.dv.setUint32(p, msg.length, true); core.mem.set(msg, p + 4); p += 4 + msg.length; }
    for (let sent = 0; sent < count;) {
      const n = x.queue_push_batch(workerData.queue, core.scratch, Math.min(batch, count - sent), 128);
      if (n > 0) sent += n;
      else {
        const seq = x.queue_space_enter(workerData.queue);
        if (x.queue_push_batch(workerData.queue, core.scratch, 1, 128) === 1) sent++;
        else Atomics.wait(new Int32Array(core.memory.buffer, x.queue_space_word(workerData.queue), 1), 0, seq, 10);
        x.queue_space_leave(workerData.queue);
      }
    }
  } else {
    for (let i = 0; i < count; i++) {
      if (ring.push(msg) !== Status.OK) ring.pushWait(msg, 128, -1);
    }
  }
} else if (mode === 'bare') {
  // the bare ring of bench/core.mjs: copy into the slot, publish head; wait while full
  const i32 = new Int32Array(workerData.sab), u8 = new Uint8Array(workerData.sab);
  const slots = workerData.slots;
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  let tailSeen = 0;
  for (let head = 0; head < count; head++) {
    while (head - tailSeen >= slots) tailSeen = Atomics.load(i32, 16);
    u8.set(msg, 128 + (head & (slots - 1)) * 64);
    Atomics.store(i32, 0, head + 1);
  }
} else {
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  for (let i = 0; i < count; i++) parentPort.postMessage(msg);
}
