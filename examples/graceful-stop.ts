// Stopping a stage of a running pipeline without losing track of a message
// (docs/guarantees.md): ingest -> enrich -> store. The host pauses `enrich` (deactivate is a
// barrier: nothing reaches its code until reactivate), lets `store` finish what it has
// queued (terminate with drain), and sees every message accounted for in telemetry: once
// `store` is gone, `enrich` carries on and its results come to the host instead.
//   node --import tsx examples/graceful-stop.ts
import { RingKernelRuntime, ringKernel, message, t } from 'ringkernel';

const Reading = message('GsReading', { sensor: t.u32, value: t.f64 });

ringKernel({ kernelId: 'gs_ingest', input: Reading, output: Reading }, async (ctx) => {
  for await (const r of ctx) await ctx.send(r);
});
ringKernel({ kernelId: 'gs_enrich', input: Reading, output: Reading }, async (ctx) => {
  for await (const r of ctx) await ctx.send(new Reading({ sensor: r.sensor, value: r.value * 10 }));
});
const stored: number[] = [];
ringKernel({ kernelId: 'gs_store', input: Reading, output: Reading }, async (ctx) => {
  for await (const r of ctx) stored.push(r.value);
});

export async function main(): Promise<{ stored: number; afterStop: number[]; enrichSeenWhilePaused: number; accounted: boolean }> {
  await using runtime = new RingKernelRuntime();
  for (const id of ['gs_ingest', 'gs_enrich', 'gs_store']) await runtime.launch(id);
  runtime.connect('gs_ingest', 'gs_enrich');
  runtime.connect('gs_enrich', 'gs_store');
  for (const id of ['gs_ingest', 'gs_enrich', 'gs_store']) await runtime.activate(id);

  for (let i = 0; i < 100; i++) await runtime.send('gs_ingest', new Reading({ sensor: i % 4, value: i }));
  await runtime.deactivate('gs_enrich');                       // a barrier: enrich's code sees nothing now
  const before = runtime.getTelemetry('gs_enrich')!.messagesProcessed;
  for (let i = 100; i < 110; i++) await runtime.send('gs_ingest', new Reading({ sensor: 0, value: i }));
  await new Promise((r) => setTimeout(r, 20));
  const enrichSeenWhilePaused = runtime.getTelemetry('gs_enrich')!.messagesProcessed - before;
  await runtime.reactivate('gs_enrich');
  while (runtime.getTelemetry('gs_store')!.messagesProcessed + runtime.getTelemetry('gs_store')!.queueDepth < 110)
    await new Promise((r) => setTimeout(r, 5));

  await runtime.terminate('gs_store', { drain: true, timeout: 2000 }); // handles its queue, then stops
  const store = runtime.getTelemetry('gs_store')!;
  // enrich is disconnected from store, not failed: its results now come to the host
  await runtime.send('gs_ingest', new Reading({ sensor: 1, value: 7 }));
  const afterStop = [(await runtime.receive('gs_enrich', { timeout: 1000 })).value];
  return {
    stored: stored.length,
    afterStop,
    enrichSeenWhilePaused,
    // every accepted message is in exactly one column (docs/guarantees.md)
    accounted: store.messagesProcessed + store.messagesDropped + store.messagesDiscarded + store.deadLetters + store.messagesInterrupted === 110,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
