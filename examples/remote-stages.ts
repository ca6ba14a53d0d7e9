// The far process of examples/remote-pipeline.ts: the seed's two stages, preprocess and
// compute, in a runtime of their own. preprocess is exposed (other runtimes send to it as
// 'remote:preprocess'); compute's results go to 'remote:results', which the first process
// exposes. Run by remote-pipeline.ts, or by hand on another machine:
//   NATS_URL=nats://10.0.0.5:4222 node --import tsx examples/remote-stages.ts
import { RingKernelRuntime } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';
import './stages.js';

const runtime = new RingKernelRuntime({ remote: natsRemote({ servers: process.env.NATS_URL, namespace: 'example' }) });
await runtime.launch('preprocess');
await runtime.launch('compute');
runtime.connect('preprocess', 'compute');            // in this process: over the shared rings
runtime.connect('compute', 'remote:results');         // to the other process: over JetStream
await runtime.activate('preprocess');
await runtime.activate('compute');
await runtime.expose('preprocess');
console.log('ready');
// SIGTERM: stop taking new work, publish what compute has sent, close the connection
process.on('SIGTERM', async () => { await runtime.shutdown(); process.exit(0); });
