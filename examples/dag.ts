// SEED "DAG Pipelines": A -> (B, C) -> D, driven by a coordinator kernel. B and C get A's
// result and run side by side; D takes both (a message with two nested messages).
//   node --import tsx examples/dag.ts
import { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError } from 'ringkernel';

export const DagRequest = message('DagRequest', { x: t.f64 });
export const AResult = message('AResult', { a: t.f64 });
export const BResult = message('BResult', { b: t.f64 });
export const CResult = message('CResult', { c: t.f64 });
export const MergedInput = message('MergedInput', { b: t.message(BResult), c: t.message(CResult) });
export const DResult = message('DResult', { d: t.f64 });
export const FinalResult = message('FinalResult', { result: t.message(DResult) });

ringKernel({ kernelId: 'stage_a', input: DagRequest, output: AResult }, async (ctx) => {
  for await (const r of ctx) await ctx.send(new AResult({ a: r.x + 1, correlationId: r.messageId }));
});
ringKernel({ kernelId: 'stage_b', input: AResult, output: BResult }, async (ctx) => {
  for await (const r of ctx) await ctx.send(new BResult({ b: r.a * 2, correlationId: r.messageId }));
});
ringKernel({ kernelId: 'stage_c', input: AResult, output: CResult }, async (ctx) => {
  for await (const r of ctx) await ctx.send(new CResult({ c: r.a * r.a, correlationId: r.messageId }));
});
ringKernel({ kernelId: 'stage_d', input: MergedInput, output: DResult }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new DResult({ d: m.b.b + m.c.c, correlationId: m.messageId }));
});

ringKernel({ kernelId: 'dag_coordinator', input: DagRequest, output: FinalResult }, async (ctx) => {
  const runtime = ctx.runtime;
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let request;
    try { request = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    // Stage A
    await runtime.send('stage_a', request);
    const aResult = await runtime.receive('stage_a', { timeout: 5000 });
    // Stages B and C in parallel
    await runtime.send('stage_b', aResult);
    await runtime.send('stage_c', aResult);
    const [bResult, cResult] = await Promise.all([runtime.receive('stage_b', { timeout: 5000 }), runtime.receive('stage_c', { timeout: 5000 })]);
    // Stage D with both inputs
    await runtime.send('stage_d', new MergedInput({ b: bResult, c: cResult }));
    const dResult = await runtime.receive('stage_d', { timeout: 5000 });
    await ctx.send(new FinalResult({ result: dResult, correlationId: request.messageId }));
  }
});

/** d = 2(x + 1) + (x + 1)^2 */
export async function main(xs = [0, 1, 2, 3]) {
  await using runtime = new RingKernelRuntime();
  const ids = ['stage_a', 'stage_b', 'stage_c', 'stage_d', 'dag_coordinator'];
  for (const id of ids) await runtime.launch(id);
  for (const id of ids) await runtime.activate(id);
  const out: number[] = [];
  for (const x of xs) {
    const req = new DagRequest({ x });
    await runtime.send('dag_coordinator', req);
    const final = await runtime.receive('dag_coordinator', { timeout: 5000 });
    if (final.correlationId !== req.messageId) throw new Error('answer to another request');
    out.push(final.result.d);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
