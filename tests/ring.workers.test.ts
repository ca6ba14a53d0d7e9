// Queues under real contention: producer and consumer threads over one shared memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { createCore, Strategy, type OwnerCore } from '../js/core/core.js';
import { Ring } from '../js/core/ring.js';

const WORKER = new URL('./helpers/ts-worker.mjs', import.meta.url);
const ENTRY = new URL('./helpers/ring-worker.ts', import.meta.url).href;

function spawn(core: OwnerCore, ring: Ring, job: Record<string, unknown>): Promise<any> {
  const scratch = core.alloc(64 * 1024);
  const w = new Worker(WORKER, {
    workerData: { tsEntry: ENTRY, module: core.module, memory: core.memory, scratch, scratchBytes: 64 * 1024, queue: ring.ptr, producers: 0, untilClosed: false, batch: 1, ...job },
  });
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
}

const N = 1_000_000;

test('BLOCK: two producers, one consumer, 1,000,000 messages each, each seen once and in order', async () => {
  const core = await createCore();
  const ring = Ring.create(core, { capacity: 256, maxRecord: 64, strategy: Strategy.BLOCK });
  const consumer = spawn(core, ring, { role: 'consumer', count: 2 * N, producers: 2 });
  const producers = [0, 1].map((p) => spawn(core, ring, { role: 'producer', producer: p, count: N }));
  const sent = await Promise.all(producers);
  const got = await consumer;
  for (const s of sent) assert.equal(s, { accepted: N, refused: 0, other: 0 });
  assert.equal(got.total, 2 * N);
  assert.equal(got.seen, [N, N]);
  assert.equal(got.last, [N - 1, N - 1]);
  assert.is(got.violations, 0);
  assert.is(got.duplicates, 0);
  assert.is(got.bad, 0);
  const s = ring.stats();
  assert.is(s.enqueued, 2 * N);
  assert.is(s.dequeued, 2 * N);
  assert.is(s.depth, 0);
  assert.is(s.rejected, 0);
  assert.ok(s.highWater <= 256);
});

test('BLOCK: the same through batched pops', async () => {
  const core = await createCore();
  const ring = Ring.create(core, { capacity: 1024, maxRecord: 64, strategy: Strategy.BLOCK });
  const consumer = spawn(core, ring, { role: 'consumer', count: 2 * N, producers: 2, batch: 64 });
  await Promise.all([0, 1].map((p) => spawn(core, ring, { role: 'producer', producer: p, count: N })));
  const got = await consumer;
  assert.equal(got.seen, [N, N]);
  assert.is(got.violations + got.duplicates + got.bad, 0);
});

test('REJECT under contention: refused + received = sent, the counter agrees', async () => {
  const core = await createCore();
  const ring = Ring.create(core, { capacity: 64, maxRecord: 64, strategy: Strategy.REJECT });
  const n = 200_000;
  const consumer = spawn(core, ring, { role: 'consumer', producers: 2, untilClosed: true, batch: 16 });
  const sent = await Promise.all([0, 1].map((p) => spawn(core, ring, { role: 'producer', producer: p, count: n })));
  ring.close();
  const got = await consumer;
  const refused = sent[0].refused + sent[1].refused;
  const accepted = sent[0].accepted + sent[1].accepted;
  assert.ok(refused > 0, 'the queue should have been full sometimes');
  assert.is(accepted + refused, 2 * n);
  assert.is(got.total, accepted);
  assert.equal(got.seen, [sent[0].accepted, sent[1].accepted]);
  assert.is(got.violations + got.duplicates + got.bad, 0);
  const s = ring.stats();
  assert.is(s.rejected, refused);
  assert.is(s.enqueued, accepted);
  assert.is(s.dropped, 0);
});

test('DROP_OLDEST under contention: received + dropped = sent, nothing seen twice', async () => {
  const core = await createCore();
  const ring = Ring.create(core, { capacity: 64, maxRecord: 64, strategy: Strategy.DROP_OLDEST });
  const n = 200_000;
  const consumer = spawn(core, ring, { role: 'consumer', producers: 2, untilClosed: true, batch: 16 });
  const sent = await Promise.all([0, 1].map((p) => spawn(core, ring, { role: 'producer', producer: p, count: n })));
  for (const s of sent) assert.equal(s, { accepted: n, refused: 0, other: 0 });
  ring.close();
  const got = await consumer;
  const s = ring.stats();
  assert.ok(s.dropped > 0, 'the queue should have dropped some');
  assert.is(got.total + s.dropped, 2 * n);
  assert.is(s.dequeued, got.total);
  assert.is(s.enqueued, 2 * n);
  assert.is(got.violations + got.duplicates + got.bad, 0);
});

test.run();
