// SEED "Parallel Pipelines": three instances of each stage, launched from the same
// definitions under new ids, fed round-robin by the host; each preprocess_i is connected
// to its compute_i, so the host only sends and collects.
//   node --import tsx examples/parallel-pipelines.ts
import { RingKernelRuntime } from 'ringkernel';
import { RawData, preprocess, compute } from './stages.js';

export async function main(count = 30): Promise<{ results: number[]; perStage: number[] }> {
  await using runtime = new RingKernelRuntime();
  for (let i = 0; i < 3; i++) {
    await runtime.launch(`preprocess_${i}`, preprocess);
    await runtime.launch(`compute_${i}`, compute);
    runtime.connect(`preprocess_${i}`, `compute_${i}`);
  }
  for (let i = 0; i < 3; i++) {
    await runtime.activate(`preprocess_${i}`);
    await runtime.activate(`compute_${i}`);
  }

  // round-robin distribution
  let workerIdx = 0;
  for (let n = 0; n < count; n++) {
    await runtime.send(`preprocess_${workerIdx}`, new RawData({ values: [0, n, 2 * n + 1] }));
    workerIdx = (workerIdx + 1) % 3;
  }
  const results: number[] = [];
  for (let n = 0; n < count; n++) results.push((await runtime.receive(`compute_${n % 3}`, { timeout: 1000 })).result);
  const perStage = [0, 1, 2].map((i) => runtime.getTelemetry(`compute_${i}`)!.messagesProcessed);
  return { results, perStage };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, perStage } = await main();
  console.log(`${results.length} results; handled per compute stage: ${perStage.join(', ')}`);
}
