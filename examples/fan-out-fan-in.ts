// SEED "Fan-Out / Fan-In": a distributor kernel deals work round-robin to three workers
// through ctx.runtime; the workers are connected (fan-in) to an aggregator that sends one
// summary per 10 results and flushes a partial batch when no result came for 100 ms.
//   node --import tsx examples/fan-out-fan-in.ts
import { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError } from 'ringkernel';

export const Task = message('Task', { n: t.i32 });
export const Squared = message('Squared', { n: t.i32, square: t.f64, worker: t.string });
export const Aggregated = message('Aggregated', { count: t.u32, sum: t.f64, workers: t.array(t.string) });

ringKernel({ kernelId: 'distributor', input: Task }, async (ctx) => {
  const workers = ['worker_0', 'worker_1', 'worker_2'];
  let idx = 0;
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let work;
    try { work = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    // send to the next worker (round-robin)
    await ctx.runtime.send(workers[idx]!, work);
    idx = (idx + 1) % workers.length;
  }
});

export const worker = ringKernel({ kernelId: 'fan_worker', input: Task, output: Squared }, async (ctx) => {
  for await (const task of ctx) await ctx.send(new Squared({ n: task.n, square: task.n * task.n, worker: ctx.kernelId }));
});

function aggregate(batch: InstanceType<typeof Squared>[]) {
  return new Aggregated({ count: batch.length, sum: batch.reduce((s, r) => s + r.square, 0), workers: [...new Set(batch.map((r) => r.worker))].sort() });
}

ringKernel({ kernelId: 'aggregator', input: Squared, output: Aggregated }, async (ctx) => {
  let batch: InstanceType<typeof Squared>[] = [];
  const batchSize = 10;
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    try {
      batch.push(await ctx.receive({ timeout: 100 }));
      if (batch.length >= batchSize) { await ctx.send(aggregate(batch)); batch = []; }
    } catch (e) {
      if (!(e instanceof QueueTimeoutError)) throw e;
      // flush a partial batch on timeout
      if (batch.length) { await ctx.send(aggregate(batch)); batch = []; }
    }
  }
});

export async function main(count = 25) {
  await using runtime = new RingKernelRuntime();
  await runtime.launch('distributor');
  for (let i = 0; i < 3; i++) await runtime.launch(`worker_${i}`, worker);
  await runtime.launch('aggregator');
  for (let i = 0; i < 3; i++) runtime.connect(`worker_${i}`, 'aggregator'); // fan-in
  for (const id of runtime.kernelIds()) await runtime.activate(id);

  for (let n = 1; n <= count; n++) await runtime.send('distributor', new Task({ n }));
  const batches = [];
  let seen = 0;
  while (seen < count) {
    const a = await runtime.receive('aggregator', { timeout: 2000 });
    batches.push({ count: a.count, sum: a.sum, workers: a.workers });
    seen += a.count;
  }
  return batches;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
