// SEED "Backpressure Handling": a slow stage with a 100-message queue under each strategy.
// BLOCK loses nothing (senders wait); REJECT refuses at once when full; DROP_OLDEST keeps
// the newest messages and counts what it discarded.
//   node --import tsx examples/backpressure.ts
import { RingKernelRuntime, ringKernel, message, t, BackpressureStrategy, QueueFullError } from 'ringkernel';

export const Reading = message('Reading', { seq: t.u32 });

function slowStage(kernelId: string, backpressure: BackpressureStrategy) {
  return ringKernel({ kernelId, input: Reading, output: Reading, queueSize: 100, backpressure }, async (ctx) => {
    for await (const data of ctx) {
      await new Promise((r) => setTimeout(r, 0)); // slow_processing(data)
      await ctx.send(new Reading({ seq: data.seq }));
    }
  });
}
slowStage('slow_block', BackpressureStrategy.BLOCK);
slowStage('slow_reject', BackpressureStrategy.REJECT);
slowStage('slow_drop', BackpressureStrategy.DROP_OLDEST);

export async function main(count = 300) {
  await using runtime = new RingKernelRuntime();
  const report: Record<string, { sent: number; refused: number; received: number; dropped: number; firstReceived: number }> = {};
  for (const id of ['slow_block', 'slow_reject', 'slow_drop']) {
    await runtime.launch(id);
    await runtime.activate(id);
    // collect the stage's output while sending, as a next stage would
    const collected = (async () => {
      const seqs: number[] = [];
      for (;;) {
        try { seqs.push((await runtime.receive(id, { timeout: 300 })).seq); }
        catch { return seqs; }
      }
    })();
    // the host sends faster than the stage handles: its queue fills up
    let refused = 0;
    for (let seq = 0; seq < count; seq++) {
      try { await runtime.send(id, new Reading({ seq }), { timeout: 5000 }); }
      catch (e) { if (e instanceof QueueFullError) refused++; else throw e; }
    }
    const seqs = await collected;
    const tm = runtime.getTelemetry(id)!;
    report[id] = { sent: count, refused, received: seqs.length, dropped: tm.messagesDropped, firstReceived: seqs[0] ?? -1 };
  }
  return report;
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await main());
