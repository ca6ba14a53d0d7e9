// SEED "Error Handling in Pipelines", with supervision: the stage no longer catches its
// own errors. A bad input throws; the runtime puts that input in the stage's dead letters
// and starts the stage again (its restart policy), with the queued inputs still waiting.
// Every input still yields a StageResult: the stage's answers, and a failed result made
// from each dead letter (a 'deadletter' event tells the application as it happens).
//   node --import tsx examples/resilient-stage.ts
import { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError, type KernelEvent } from 'ringkernel';

export const Payload = message('Payload', { text: t.string });
export const StageResult = message('StageResult', {
  data: t.optional(t.f64), success: t.bool, error: t.optional(t.string), stage: t.string,
});
type Result = InstanceType<typeof StageResult>;

/** Parses a number; throws on anything else. */
function parse(input: InstanceType<typeof Payload>): number {
  const v = Number(input.text);
  if (input.text.trim() === '' || Number.isNaN(v)) throw new Error(`not a number: ${JSON.stringify(input.text)}`);
  return v;
}

// up to 10 restarts a minute (the 11th throw fails the stage), 10 ms apart, then 20, 40, ...
ringKernel({ kernelId: 'resilient_stage', input: Payload, output: StageResult,
  restart: { maxRestarts: 10, withinMs: 60_000, backoffMs: 10, maxBackoffMs: 1000 } }, async (ctx) => {
  for await (const input of ctx) {
    const result = parse(input);
    await ctx.send(new StageResult({ data: result, success: true, stage: ctx.kernelId, correlationId: input.messageId }));
  }
});

export async function main(texts = ['42', 'forty-two', '3.5']) {
  await using runtime = new RingKernelRuntime();
  const log: string[] = [];
  runtime.events.addEventListener('deadletter', (e) => {
    const { kernelId, letter } = (e as KernelEvent<'deadletter'>).detail;
    log.push(`${kernelId}: dead letter (${letter.error.message})`);
  });
  runtime.events.addEventListener('restarted', (e) => {
    const { kernelId, restarts, delayMs } = (e as KernelEvent<'restarted'>).detail;
    log.push(`${kernelId}: restart ${restarts} after ${delayMs} ms`);
  });
  await runtime.launch('resilient_stage');
  await runtime.activate('resilient_stage');

  const inputs = texts.map((text) => new Payload({ text }));
  for (const input of inputs) await runtime.send('resilient_stage', input);
  // one StageResult per input: an answer, or a failure made from the input's dead letter
  const byInput = new Map<string, Result>();
  while (byInput.size < inputs.length) {
    for (const d of runtime.deadLetters('resilient_stage')) {
      const input = d.message as InstanceType<typeof Payload>;
      byInput.set(input.messageId, new StageResult({ success: false, error: d.error.message, stage: d.kernelId, correlationId: input.messageId }));
    }
    if (byInput.size === inputs.length) break;
    try {
      const r = await runtime.receive<Result>('resilient_stage', { timeout: 100 });
      byInput.set(r.correlationId!, r);
    } catch (e) { if (!(e instanceof QueueTimeoutError)) throw e; }
  }
  const results = inputs.map((i) => byInput.get(i.messageId)!).map((r) => ({ data: r.data, success: r.success, error: r.error, stage: r.stage }));
  const tel = runtime.getTelemetry('resilient_stage')!;
  return { results, state: runtime.getState('resilient_stage'), restarts: tel.restarts, deadLetters: tel.deadLetters, errors: tel.errorCount, log };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
