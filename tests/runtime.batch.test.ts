// Batches: runtime.sendMany / receiveMany and ctx.receiveMany / sendMany keep every rule
// of their one-message forms (order, priority, backpressure, telemetry).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingKernelRuntime, ringKernel, message, t, QueueFullError, QueueTimeoutError, BackpressureStrategy } from '../js/index.js';

const BItem = message('BItem', { n: t.i32 });

ringKernel({ kernelId: 'batch_echo', input: BItem, output: BItem, queueSize: 64 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let batch;
    try { batch = await ctx.receiveMany({ max: 16, timeout: 50 }); } catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    await ctx.sendMany(batch.map((m) => new BItem({ n: m.n, priority: m.priority, correlationId: m.messageId })));
  }
});
ringKernel({ kernelId: 'batch_idle', input: BItem, output: BItem, queueSize: 8, backpressure: BackpressureStrategy.REJECT }, async (ctx) => {
  await ctx.waitActive();
  for await (const m of ctx) await ctx.send(m);
});

test('sendMany then receiveMany: everything, in order, one copy each', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_echo');
  await rt.activate('batch_echo');
  const sent = Array.from({ length: 500 }, (_, n) => new BItem({ n }));
  const sending = rt.sendMany('batch_echo', sent, { timeout: 5000 });  // 500 through a 64-message queue: BLOCK waits
  const got: number[] = [];
  while (got.length < 500) for (const m of await rt.receiveMany<InstanceType<typeof BItem>>('batch_echo', { timeout: 5000 })) got.push(m.n);
  await sending;
  assert.equal(got, sent.map((m) => m.n));
  const tm = rt.getTelemetry('batch_echo')!;
  assert.ok(tm.messagesProcessed >= 484 && tm.messagesProcessed <= 500); // the last batch counts once the kernel asks again
  assert.is(tm.messagesRejected, 0);
});

test('receiveMany keeps priority order and respects max', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_idle');
  await rt.sendMany('batch_idle', [new BItem({ n: 1, priority: 10 }), new BItem({ n: 2, priority: 200 }), new BItem({ n: 3, priority: 10 }), new BItem({ n: 4, priority: 250 })]);
  await rt.activate('batch_idle');
  for (let i = 0; i < 200 && rt.getTelemetry('batch_idle')!.messagesProcessed < 4; i++) await new Promise((r) => setTimeout(r, 5));
  const first = await rt.receiveMany<InstanceType<typeof BItem>>('batch_idle', { max: 2, timeout: 2000 });
  assert.equal(first.map((m) => m.n), [4, 2]);
  const rest = await rt.receiveMany<InstanceType<typeof BItem>>('batch_idle', { timeout: 2000 });
  assert.equal(rest.map((m) => m.n), [1, 3]);
  const e = await rt.receiveMany('batch_idle', { timeout: 30 }).catch((x) => x);
  assert.instance(e, QueueTimeoutError);
});

test('sendMany under REJECT stops at the first refusal and counts the rest as rejected', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_idle');                   // launched, not active: nothing is taken
  const e = await rt.sendMany('batch_idle', Array.from({ length: 12 }, (_, n) => new BItem({ n }))).catch((x) => x);
  assert.instance(e, QueueFullError);
  assert.is(e.enqueued, 8);
  const tm = rt.getTelemetry('batch_idle')!;
  assert.is(tm.queueDepth, 8);
  assert.is(tm.messagesRejected, 4);
});

test('sendMany checks every item before sending any', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_idle');
  const e = await rt.sendMany('batch_idle', [new BItem({ n: 1 }), { n: 2 } as never]).catch((x) => x);
  assert.instance(e, TypeError);
  assert.match(e.message, /batch_idle/);
  assert.is(rt.getTelemetry('batch_idle')!.queueDepth, 0);
});

test('ctx.receiveAvailable takes what is waiting without waiting, and nothing while deactivated', async () => {
  const seen: number[][] = [];
  let release!: () => void, release2!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const gate2 = new Promise<void>((r) => { release2 = r; });
  ringKernel({ kernelId: 'batch_available', input: BItem, output: BItem }, async (ctx) => {
    await ctx.waitActive();
    seen.push(ctx.receiveAvailable(10).map((m) => m.n));   // nothing queued yet
    await gate;
    seen.push(ctx.receiveAvailable(2).map((m) => m.n));    // two of the three
    seen.push(ctx.receiveAvailable().map((m) => m.n));     // the rest
    await ctx.runtime.deactivate(ctx.kernelId);
    await gate2;
    seen.push(ctx.receiveAvailable().map((m) => m.n));     // deactivated: nothing, though one waits
    await ctx.waitActive();
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_available');
  await rt.activate('batch_available');
  await new Promise((r) => setTimeout(r, 10));
  await rt.sendMany('batch_available', [1, 2, 3].map((n) => new BItem({ n })));
  release();
  for (let i = 0; i < 100 && rt.getState('batch_available') !== 'deactivated'; i++) await new Promise((r) => setTimeout(r, 5));
  await rt.send('batch_available', new BItem({ n: 4 }));
  release2();
  for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(seen, [[], [1, 2], [3], []]);
  assert.is(rt.getTelemetry('batch_available')!.queueDepth, 1);
});

test.run();
