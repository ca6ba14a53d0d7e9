// SEED "Error Handling in Pipelines": a stage that never dies of a bad input: every input
// yields a StageResult, successful or carrying the error and the stage's id.
//   node --import tsx examples/resilient-stage.ts
import { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError, type Json, type MessageOf } from 'ringkernel';

export const Payload = message('Payload', { text: t.string });
// as the seed's dataclass: `data: Any`, `success: bool = True`, `error: str | None = None`, `stage: str = ""`
export const StageResult = message('StageResult', {
  data: t.json, success: t.default(t.bool, true), error: t.optional(t.string), stage: t.default(t.string, ''),
});
export type StageResult = MessageOf<typeof StageResult>;

/** The stage's work: parses JSON text into any JSON value; throws on anything else. */
function parse(input: MessageOf<typeof Payload>): Json {
  try { return JSON.parse(input.text) as Json; } catch { throw new Error(`not JSON: ${JSON.stringify(input.text)}`); }
}

ringKernel({ kernelId: 'resilient_stage', input: Payload, output: StageResult }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let input;
    try { input = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    try {
      const result = parse(input);
      await ctx.send(new StageResult({ data: result, stage: ctx.kernelId, correlationId: input.messageId }));
    } catch (e) {
      await ctx.send(new StageResult({ data: null, success: false, error: String((e as Error).message), stage: ctx.kernelId, correlationId: input.messageId }));
    }
  }
});

export async function main(texts = ['42', 'forty-two', '{"readings": [1.5, null], "ok": true}']) {
  const runtime = new RingKernelRuntime();
  try {
    await runtime.launch('resilient_stage');
    await runtime.activate('resilient_stage');
    const results = [];
    for (const text of texts) {
      await runtime.send('resilient_stage', new Payload({ text }));
      const r: StageResult = await runtime.receive('resilient_stage', { timeout: 1000 });
      results.push({ data: r.data, success: r.success, error: r.error, stage: r.stage });
    }
    return { results, state: runtime.getState('resilient_stage'), errors: runtime.getTelemetry('resilient_stage')!.errorCount };
  } finally {
    await runtime.shutdown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
