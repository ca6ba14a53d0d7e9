// SEED "Simple Pipeline": launch both stages, activate them, and carry one message
// through by hand (host -> preprocess -> host -> compute -> host).
//   node --import tsx examples/simple-pipeline.ts
import { RingKernelRuntime } from 'ringkernel';
import { RawData } from './stages.js';

export async function main(): Promise<number> {
  await using runtime = new RingKernelRuntime();
  await runtime.launch('preprocess');
  await runtime.launch('compute');
  await runtime.activate('preprocess');
  await runtime.activate('compute');

  await runtime.send('preprocess', new RawData({ values: [1, 2, 3, 4, 5] }));
  const preprocessed = await runtime.receive('preprocess', { timeout: 1000 });
  await runtime.send('compute', preprocessed);
  const result = await runtime.receive('compute', { timeout: 1000 });
  return result.result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(`Result: ${await main()}`);
