// SEED "Error Handling in Pipelines": a stage that never dies of a bad input: every input
// yields a StageResult, successful or carrying the error and the stage's id.
//   node --import tsx examples/resilient-stage.ts
import { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError } from 'ringkernel';

export const Payload = message('Payload', { text: t.string });
export const StageResult = message('StageResult', {
  data: t.optional(t.f64), success: t.bool, error: t.optional(t.string), stage: t.string,
});

/** Parses a number; throws on anything else. */
function parse(input: InstanceType<typeof Payload>): number {
  const v = Number(input.text);
  if (input.text.trim() === '' || Number.isNaN(v)) throw new Error(`not a number: ${JSON.stringify(input.text)}`);
  return v;
}

ringKernel({ kernelId: 'resilient_stage', input: Payload, output: StageResult }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let input;
    try { input = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    try {
      const result = parse(input);
      await ctx.send(new StageResult({ data: result, success: true, stage: ctx.kernelId, correlationId: input.messageId }));
    } catch (e) {
      await ctx.send(new StageResult({ success: false, error: String((e as Error).message), stage: ctx.kernelId, correlationId: input.messageId }));
    }
  }
});

export async function main(texts = ['42', 'forty-two', '3.5']) {
  await using runtime = new RingKernelRuntime();
  await runtime.launch('resilient_stage');
  await runtime.activate('resilient_stage');
  const results = [];
  for (const text of texts) {
    await runtime.send('resilient_stage', new Payload({ text }));
    const r = await runtime.receive('resilient_stage', { timeout: 1000 });
    results.push({ data: r.data, success: r.success, error: r.error, stage: r.stage });
  }
  return { results, state: runtime.getState('resilient_stage'), errors: runtime.getTelemetry('resilient_stage')!.errorCount };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
