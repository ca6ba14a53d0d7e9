// Metrics, topology and the dashboard (docs/observability.md): the seed's two stages on a
// stream, then the pipeline's shape, its Prometheus metrics, and the same metrics scraped
// from the dashboard the way Prometheus would.
//   node --import tsx examples/observability.ts
import { RingKernelRuntime, type Topology } from 'ringkernel';
import { serveDashboard } from 'ringkernel/dashboard';
import { RawData } from './stages.js';

export async function main(count = 500): Promise<{ topology: Topology; metrics: string; scraped: string; url: string }> {
  await using runtime = new RingKernelRuntime();
  await runtime.launch('preprocess');
  await runtime.launch('compute');
  runtime.connect('preprocess', 'compute');
  await runtime.activate('preprocess');
  await runtime.activate('compute');
  for (let i = 0; i < count; i++) await runtime.send('preprocess', new RawData({ values: [i, i + 1, i + 3] }));
  for (let i = 0; i < count; i++) await runtime.receive('compute', { timeout: 2000 });

  await using dash = await serveDashboard(runtime);            // http://127.0.0.1:<free port>/
  const scraped = await (await fetch(`${dash.url}metrics`)).text();
  return { topology: runtime.topology(), metrics: runtime.metrics(), scraped, url: dash.url };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { topology, scraped, url } = await main();
  console.log('kernels:', topology.kernels.map((k) => `${k.id} (${k.placement}, ${k.state})`).join(', '));
  console.log('edges:  ', topology.edges.map((e) => `${e.from} -> ${e.to} (${e.mode})`).join(', '));
  console.log(`\nscraped from ${url}metrics:\n`);
  console.log(scraped.split('\n').filter((l) => /processed_total|quantile="0.99"/.test(l)).join('\n'));
}
