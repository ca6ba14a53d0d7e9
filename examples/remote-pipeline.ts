// Remote kernels: a pipeline across two processes (they could be two machines), wired
// through NATS JetStream with the same API as local kernels (docs/remote.md).
//
//   this process                               remote-stages.ts (another process)
//   send('remote:preprocess', raw) ──JetStream──► preprocess ─► compute ─┐
//   results (exposed) ◄──────────────JetStream──────────────────────────┘ connect(compute, 'remote:results')
//
//   nats-server -js -a 127.0.0.1 &   # JetStream on
//   NATS_URL=nats://127.0.0.1:4222 node --import tsx examples/remote-pipeline.ts
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RingKernelRuntime, ringKernel } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';
import { RawData, ComputeResult } from './stages.js';

/** Sends `inputs` through the other process; returns each input's mean of normalized values, in order. */
export async function main(natsUrl: string, inputs: number[][]): Promise<number[]> {
  // the other process, started here for the example; on another machine it runs by itself
  const far = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./remote-stages.ts', import.meta.url))],
    { env: { ...process.env, NATS_URL: natsUrl }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => far.stdout!.on('data', (d) => { if (String(d).includes('ready')) resolve(); }));

  const results: number[] = [];                      // in order: one sender, one priority
  ringKernel({ kernelId: 'results', input: ComputeResult }, async (ctx) => {
    for await (const r of ctx) results.push(r.result);
  });
  const runtime = new RingKernelRuntime({ remote: natsRemote({ servers: natsUrl, namespace: 'example' }) });
  try {
    await runtime.launch('results');
    await runtime.activate('results');
    await runtime.expose('results');
    const sent = inputs.map((values) => new RawData({ values }));
    await runtime.sendMany('remote:preprocess', sent);  // resolves once JetStream stored them
    while (results.length < inputs.length) await new Promise((r) => setTimeout(r, 10));
    return results;
  } finally {
    await runtime.shutdown();
    far.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await main(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', [[1, 2, 3, 4, 5], [10, 0, 5], [2, 2, 4]]);
  console.log('results:', out);
}
