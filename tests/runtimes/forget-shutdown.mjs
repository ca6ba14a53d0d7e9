// A script that launches worker kernels and never calls shutdown(): it must end by itself
// once they are idle (seed-check.mjs runs it in a child process where the runtime can
// unreference worker threads: Node and Bun).
import { RingKernelRuntime } from '../../dist/index.js';
import { RawData } from './seed-kernels.mjs';

const rt = new RingKernelRuntime({ workers: 2 });
await rt.launch('preprocess_w');
await rt.launch('compute_w');
rt.connect('preprocess_w', 'compute_w');
await rt.activate('preprocess_w');
await rt.activate('compute_w');
await rt.send('preprocess_w', new RawData({ values: [1, 2, 3, 4, 5] }));
console.log(`result ${(await rt.receive('compute_w', { timeout: 5000 })).result}`);
