// A message class whose schema differs between threads (a worker running a module of
// another version, say): its records reach the owner as bytes of a type it does not know,
// in the input of a kernel that declares its class. For tests/columns.test.ts.
import { ringKernel, message, t, type KernelContext, type RingKernelRuntime } from '../../js/index.js';

const inWorker = typeof process !== 'undefined' && !(await import('node:worker_threads')).isMainThread;
export const Skew = message('ColSkew', inWorker ? { n: t.i32, extra: t.f64 } : { n: t.i32 });
export const SkewGo = message('ColSkewGo', { n: t.i32 });

/** Inline: takes Skew messages as columns and answers each batch with the numbers it got. */
export const skewSink = ringKernel({ kernelId: 'col_skew_sink', input: Skew, output: SkewGo, queueSize: 64 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let b;
    try { b = await ctx.receiveColumns({ timeout: 5000 }); } catch { break; }
    for (const n of b.fields.n as Int32Array) await ctx.send(new SkewGo({ n }));
  }
});

/** On a worker: sends one Skew of its own version to the sink for each go. */
export const skewSender = ringKernel({ kernelId: 'col_skew_sender', placement: 'worker', module: import.meta.url, input: SkewGo },
  async (ctx: KernelContext) => {
    for await (const m of ctx) await ctx.runtime.send('col_skew_sink', new Skew({ n: (m as InstanceType<typeof SkewGo>).n, extra: 1 } as never));
  });

/**
 * Declares another input class on each thread (ColSkew here, ColSkewGo in a worker), so a
 * worker sends it ColSkewGo messages, which this thread knows: they must not reach its
 * function, which takes ColSkew.
 */
export const skewTyped = ringKernel({ kernelId: 'col_skew_typed', input: inWorker ? SkewGo : Skew, output: SkewGo, queueSize: 64 }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new SkewGo({ n: (m as { n: number }).n }));
});

/** On a worker: sends a ColSkewGo to col_skew_typed (whose input is ColSkewGo there) for each go. */
export const skewTypedSender = ringKernel({ kernelId: 'col_skew_typed_sender', placement: 'worker', module: import.meta.url, input: SkewGo },
  async (ctx: KernelContext) => {
    for await (const m of ctx) await ctx.runtime.send('col_skew_typed', new SkewGo({ n: (m as InstanceType<typeof SkewGo>).n }));
  });

/** A GPU kernel taking ColSkew here (ColSkewGo in a worker, whose sends to it are of that class). */
export const skewGpu = ringKernel({ kernelId: 'col_skew_gpu', placement: 'gpu', input: inWorker ? SkewGo : Skew, output: SkewGo, queueSize: 64,
  wgsl: inWorker ? 'fn handle(m: ColSkewGo) -> ColSkewGo { return ColSkewGo(m.n); }' : 'fn handle(m: ColSkew) -> ColSkewGo { return ColSkewGo(m.n); }' });

/** On a worker: sends a ColSkewGo to col_skew_gpu for each go. */
export const skewGpuSender = ringKernel({ kernelId: 'col_skew_gpu_sender', placement: 'worker', module: import.meta.url, input: SkewGo },
  async (ctx: KernelContext) => {
    for await (const m of ctx) await ctx.runtime.send('col_skew_gpu', new SkewGo({ n: (m as InstanceType<typeof SkewGo>).n }));
  });

/**
 * Queues in `target`'s input (launched here, activated only after): a Skew of n 1, a record of
 * the other class (n 2) that `sender` (a worker kernel, launched and activated here) sends it,
 * then a Skew of n 3. Returns the n of the first two answers `target` gives.
 */
export async function answersToSkewedInput(rt: RingKernelRuntime, target: string, sender: string, timeout: number): Promise<number[]> {
  await rt.launch(target);
  await rt.launch(sender);
  await rt.activate(sender);
  await rt.send(target, new Skew({ n: 1 }));
  await rt.send(sender, new SkewGo({ n: 2 }));
  for (let i = 0; i < 200 && rt.getTelemetry(sender)!.messagesProcessed === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await rt.send(target, new Skew({ n: 3 }));
  await rt.activate(target);
  const answers = [];
  for (let i = 0; i < 2; i++) answers.push((await rt.receive<InstanceType<typeof SkewGo>>(target, { timeout })).n);
  return answers;
}
