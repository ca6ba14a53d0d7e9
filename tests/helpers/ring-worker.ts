// A worker that produces into or consumes from a queue of a shared core, for the stress
// tests in tests/ring.workers.test.ts. Records: [u32 producer][u32 seq][8 bytes filler].
import { parentPort, workerData } from 'node:worker_threads';
import { attachCore } from '../../js/core/core.js';
import { Ring } from '../../js/core/ring.js';
import { Status } from '../../js/core/core.js';

interface Job {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  scratch: number;
  scratchBytes: number;
  queue: number;
  role: 'producer' | 'consumer';
  producer: number;      // producer id
  count: number;         // producer: messages to send; consumer: messages expected at most
  producers: number;     // consumer: how many producers feed it
  untilClosed: boolean;  // consumer: stop when the queue is closed and drained
  batch: number;         // consumer: records per pop (1 = queue_pop_wait)
}

const job = workerData as Job;
const core = attachCore(job.module, job.memory, job.scratch, job.scratchBytes);
const ring = new Ring(core, job.queue);

if (job.role === 'producer') {
  const rec = new Uint8Array(16);
  const dv = new DataView(rec.buffer);
  dv.setUint32(0, job.producer, true);
  let accepted = 0, refused = 0, other = 0;
  for (let i = 0; i < job.count; i++) {
    dv.setUint32(4, i, true);
    const r = ring.pushWait(rec, 128, 30_000);
    if (r === Status.OK) accepted++;
    else if (r === Status.FULL) refused++;
    else other++;
  }
  parentPort!.postMessage({ accepted, refused, other });
} else {
  // per producer: how many seen, the last seq, and any order violation
  const seen = new Array<number>(job.producers).fill(0);
  const last = new Array<number>(job.producers).fill(-1);
  let violations = 0, duplicates = 0, bad = 0, total = 0;
  const check = (p: number, seq: number) => {
    if (p >= job.producers) { bad++; return; }
    if (seq === last[p]) duplicates++;
    else if (seq < last[p]!) violations++;
    last[p] = seq;
    seen[p]!++;
    total++;
  };
  for (;;) {
    if (job.batch > 1) {
      const n = core.x.queue_pop_batch(job.queue, core.scratch, core.scratchBytes, job.batch);
      if (n > 0) {
        let p = core.scratch;
        for (let i = 0; i < n; i++) {
          const len = core.dv.getUint32(p, true);
          check(core.dv.getUint32(p + 4, true), core.dv.getUint32(p + 8, true));
          p += 4 + ((len + 3) & ~3);
        }
      } else if (n === Status.CLOSED) break;
      else if (!job.untilClosed && total >= job.count) break;
      else {
        const db = core.x.queue_doorbell(job.queue);
        const seq = core.x.doorbell_enter(db);
        if (ring.empty && !ring.closed) core.x.doorbell_wait(db, seq, 100);
        core.x.doorbell_leave(db);
      }
    } else {
      const n = core.x.queue_pop_wait(job.queue, core.scratch, core.scratchBytes, 30_000);
      if (n === Status.CLOSED || n === Status.TIMEOUT) break;
      check(core.dv.getUint32(core.scratch, true), core.dv.getUint32(core.scratch + 4, true));
    }
    if (!job.untilClosed && total >= job.count) break;
  }
  parentPort!.postMessage({ seen, last, violations, duplicates, bad, total });
}
