// SEED "Pipeline Coordinator": a kernel that drives three stages through ctx.runtime,
// reporting either the final result or the stage that failed.
//   node --import tsx examples/coordinator.ts
import { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError } from 'ringkernel';

export const Work = message('Work', { value: t.f64 });
export const StageOutput = message('StageOutput', { value: t.f64, success: t.bool, error: t.optional(t.string) });
export const PipelineResult = message('PipelineResult', { result: t.f64 });
export const PipelineError = message('PipelineError', { failedStage: t.string, error: t.string });

/** A stage applies `op`; it reports an error instead of a value for negative input. */
function stage(kernelId: string, op: (v: number) => number) {
  return ringKernel({ kernelId, input: Work, output: StageOutput }, async (ctx) => {
    for await (const w of ctx) {
      if (w.value < 0) await ctx.send(new StageOutput({ value: 0, success: false, error: `${kernelId}: negative input ${w.value}`, correlationId: w.messageId }));
      else await ctx.send(new StageOutput({ value: op(w.value), success: true, correlationId: w.messageId }));
    }
  });
}
stage('stage1', (v) => v + 1);
stage('stage2', (v) => v * 10);
stage('stage3', (v) => v - 3);

ringKernel({ kernelId: 'pipeline_coordinator', input: Work }, async (ctx) => {
  const stages = ['stage1', 'stage2', 'stage3'];
  const runtime = ctx.runtime;
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let request;
    try { request = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }

    let current = request;
    let failed = false;
    for (const s of stages) {
      await runtime.send(s, current);
      const out = await runtime.receive(s, { timeout: 5000 });
      if (!out.success) {
        await ctx.send(new PipelineError({ failedStage: s, error: out.error ?? '', correlationId: request.messageId }));
        failed = true;
        break;
      }
      current = new Work({ value: out.value });
    }
    if (!failed) await ctx.send(new PipelineResult({ result: current.value, correlationId: request.messageId }));
  }
});

export async function main(inputs = [1, 2, -5]): Promise<Array<{ result?: number; failedStage?: string }>> {
  await using runtime = new RingKernelRuntime();
  for (const id of ['stage1', 'stage2', 'stage3', 'pipeline_coordinator']) await runtime.launch(id);
  for (const id of ['stage1', 'stage2', 'stage3', 'pipeline_coordinator']) await runtime.activate(id);
  const out = [];
  for (const v of inputs) {
    await runtime.send('pipeline_coordinator', new Work({ value: v }));
    const r = await runtime.receive('pipeline_coordinator', { timeout: 5000 });
    out.push(r instanceof PipelineResult ? { result: r.result } : { failedStage: r.failedStage });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
