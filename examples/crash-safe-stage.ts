// A worker stage that outlives the death of its thread. The stage counts words on a worker
// thread and keeps its running total in a checkpoint. One input kills the thread under it
// (process.exit here; a native addon that crashes, or running out of memory, ends a thread
// the same way): the runtime counts the line it was handling as interrupted and, under the
// stage's restart policy, starts it again on a fresh thread — the same kernel id and queue,
// its total back from the checkpoint. Lines sent meanwhile wait in the queue.
//   node --import tsx examples/crash-safe-stage.ts
import { RingKernelRuntime, ringKernel, message, t, type KernelEvent } from 'ringkernel';

export const Line = message('CrashSafeLine', { text: t.string });
export const Count = message('CrashSafeCount', { words: t.u32, total: t.u32 });

// throws and thread deaths together: 3 restarts a minute, the first after 50 ms
ringKernel({ kernelId: 'word_counter', placement: 'worker', module: import.meta.url, input: Line, output: Count,
  restart: { maxRestarts: 3, withinMs: 60_000, backoffMs: 50 } }, async (ctx) => {
  const state = (ctx.restored as { total: number } | undefined) ?? { total: 0 };
  for await (const line of ctx) {
    if (line.text === 'CRASH') process.exit(70);     // the thread dies with this line in hand
    const words = line.text.split(/\s+/).filter(Boolean).length;
    state.total += words;
    await ctx.checkpoint(state);                     // held by the owner: it outlives the thread
    await ctx.send(new Count({ words, total: state.total }));
  }
});

export async function main(before = ['the quick brown fox', 'jumps over'], after = ['the lazy dog', 'again']) {
  const runtime = new RingKernelRuntime({ workers: 1 });
  const log: string[] = [];
  const restarted = new Promise<void>((resolve) => runtime.events.addEventListener('restarted', (e) => {
    const { restarts, delayMs, error } = (e as KernelEvent<'restarted'>).detail;
    log.push(`restart ${restarts} after ${delayMs} ms: ${(error as Error).message}`);
    resolve();
  }));
  try {
    await runtime.launch('word_counter');
    await runtime.activate('word_counter');
    const totals: number[] = [];
    const answer = async () => { totals.push((await runtime.receive('word_counter', { timeout: 5000 })).total); };
    for (const text of before) { await runtime.send('word_counter', new Line({ text })); await answer(); }
    const firstThread = runtime.workerOf('word_counter');
    await runtime.send('word_counter', new Line({ text: 'CRASH' }));
    await restarted;                                 // the backoff has begun
    for (const text of after) await runtime.send('word_counter', new Line({ text }));   // queued meanwhile
    for (let i = 0; i < after.length; i++) await answer();
    const tel = runtime.getTelemetry('word_counter')!;
    return {
      totals, log, state: runtime.getState('word_counter'), freshThread: runtime.workerOf('word_counter') !== firstThread,
      processed: tel.messagesProcessed, interrupted: tel.messagesInterrupted, restarts: tel.restarts,
    };
  } finally {
    await runtime.shutdown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
