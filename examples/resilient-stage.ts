// SEED "Error Handling in Pipelines", with supervision: the stage no longer catches its
// own errors. A bad input throws; the runtime puts that input in the stage's dead letters
// and starts the stage again (its restart policy), with the queued inputs still waiting.
// Every input still yields a StageResult, successful or carrying the error and the stage's
// id: the stage's answers, and a failed result made from each dead letter (a 'deadletter'
// event tells the application as it happens).
//   node --import tsx examples/resilient-stage.ts
import { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError, type Json, type MessageOf, type KernelEvent } from 'ringkernel';

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

// up to 10 restarts a minute (the 11th throw fails the stage), 10 ms apart, then 20, 40, ...
ringKernel({ kernelId: 'resilient_stage', input: Payload, output: StageResult,
  restart: { maxRestarts: 10, withinMs: 60_000, backoffMs: 10, maxBackoffMs: 1000 } }, async (ctx) => {
  for await (const input of ctx) {
    const result = parse(input);   // a bad input throws here: a dead letter, then a restart
    await ctx.send(new StageResult({ data: result, stage: ctx.kernelId, correlationId: input.messageId }));
  }
});

export async function main(texts = ['42', 'forty-two', '{"readings": [1.5, null], "ok": true}']) {
  const runtime = new RingKernelRuntime();
  const log: string[] = [];
  runtime.events.addEventListener('deadletter', (e) => {
    const { kernelId, letter } = (e as KernelEvent<'deadletter'>).detail;
    log.push(`${kernelId}: dead letter (${letter.error.message})`);
  });
  runtime.events.addEventListener('restarted', (e) => {
    const { kernelId, restarts, delayMs } = (e as KernelEvent<'restarted'>).detail;
    log.push(`${kernelId}: restart ${restarts} after ${delayMs} ms`);
  });
  try {
    await runtime.launch('resilient_stage');
    await runtime.activate('resilient_stage');
    const inputs = texts.map((text) => new Payload({ text }));
    for (const input of inputs) await runtime.send('resilient_stage', input);
    // one StageResult per input: an answer, or a failure made from the input's dead letter
    const byInput = new Map<string, StageResult>();
    while (byInput.size < inputs.length) {
      for (const d of runtime.deadLetters('resilient_stage')) {
        const input = d.message as MessageOf<typeof Payload>;
        byInput.set(input.messageId, new StageResult({ data: null, success: false, error: d.error.message, stage: d.kernelId, correlationId: input.messageId }));
      }
      if (byInput.size === inputs.length) break;
      try {
        const r: StageResult = await runtime.receive('resilient_stage', { timeout: 100 });
        byInput.set(r.correlationId!, r);
      } catch (e) { if (!(e instanceof QueueTimeoutError)) throw e; }
    }
    const results = inputs.map((i) => byInput.get(i.messageId)!).map((r) => ({ data: r.data, success: r.success, error: r.error, stage: r.stage }));
    const tel = runtime.getTelemetry('resilient_stage')!;
    return { results, state: runtime.getState('resilient_stage'), restarts: tel.restarts, deadLetters: tel.deadLetters, errors: tel.errorCount, log };
  } finally {
    await runtime.shutdown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
