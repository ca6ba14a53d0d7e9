// No accepted message is lost under BLOCK: 1,000,000 messages through three stages on two
// worker threads, each received exactly once and in order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingKernelRuntime } from '../js/index.js';
import { WSeq } from './helpers/worker-kernels.js';

const N = Number(process.env.STRESS_MESSAGES ?? 1_000_000);

test(`BLOCK: ${N} messages through three worker stages on two threads, each received once, in order`, async () => {
  const rt = new RingKernelRuntime({ workers: 2 });
  try {
    for (const id of ['s1', 's2', 's3']) await rt.launch(id, 'w_hop');
    assert.equal(new Set(['s1', 's2', 's3'].map((id) => rt.workerOf(id))), new Set([0, 1]));
    rt.connect('s1', 's2');
    rt.connect('s2', 's3');
    for (const id of ['s1', 's2', 's3']) await rt.activate(id);
    const sending = (async () => {
      for (let i = 0; i < N; i++) await rt.send('s1', new WSeq({ seq: i, hops: 0 }));
    })();
    let next = 0, bad = 0;
    for (let i = 0; i < N; i++) {
      const m = await rt.receive('s3', { timeout: 30_000 });
      if (m.seq !== next || m.hops !== 3) bad++;
      next = m.seq + 1;
    }
    await sending;
    assert.is(bad, 0);
    assert.is(next, N);
    await assert.not.ok(await rt.receive('s3', { timeout: 50 }).then(() => true, () => false), 'nothing extra');
    for (const id of ['s1', 's2', 's3']) {
      const tm = rt.getTelemetry(id)!;
      assert.is(tm.messagesProcessed, N);
      assert.is(tm.messagesDropped + tm.messagesRejected, 0);
    }
  } finally {
    await rt.shutdown({ timeout: 2000 });
  }
});

test.run();
