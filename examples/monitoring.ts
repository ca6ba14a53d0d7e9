// SEED "Monitoring Pipelines": run the two-stage pipeline (connected, no host hop) on a
// stream, then print each stage's telemetry.
//   node --import tsx examples/monitoring.ts
import { RingKernelRuntime, type KernelTelemetry } from 'ringkernel';
import { RawData } from './stages.js';

export async function main(count = 2000): Promise<KernelTelemetry[]> {
  await using runtime = new RingKernelRuntime({ enableTelemetry: true });
  await runtime.launch('preprocess');
  await runtime.launch('compute');
  runtime.connect('preprocess', 'compute');
  await runtime.activate('preprocess');
  await runtime.activate('compute');

  const sent = [];
  for (let i = 0; i < count; i++) sent.push(runtime.send('preprocess', new RawData({ values: [i, i + 1, i + 3, i + 7] })));
  await Promise.all(sent);
  for (let i = 0; i < count; i++) await runtime.receive('compute', { timeout: 2000 });

  // Get per-stage metrics
  return ['preprocess', 'compute'].map((stage) => runtime.getTelemetry(stage)!);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const telemetry of await main()) {
    console.log(`${telemetry.kernelId}:`);
    console.log(`  Throughput: ${telemetry.throughput.toFixed(1)} msg/s`);
    console.log(`  Processed: ${telemetry.messagesProcessed}`);
    console.log(`  Latency p50/p99: ${telemetry.latencyP50Ms.toFixed(3)} / ${telemetry.latencyP99Ms.toFixed(3)} ms`);
  }
}
