import { RingKernelRuntime } from 'ringkernel';
import { RawData } from './worker-kernels.mjs';
const N = 100000;
const values = () => { const a = new Array(10); for (let i = 0; i < 10; i++) a[i] = Math.random(); return a; };
const rt = new RingKernelRuntime({ workers: 2 });
await rt.launch('bw_preprocess'); await rt.launch('bw_compute'); rt.connect('bw_preprocess', 'bw_compute');
await rt.activate('bw_preprocess'); await rt.activate('bw_compute');
for (let rep = 0; rep < 4; rep++) {
  const t0 = performance.now(); const c0 = process.cpuUsage();
  const sending = (async () => { for (let i = 0; i < N; i++) await rt.send('bw_preprocess', new RawData({ values: values() })); })();
  for (let i = 0; i < N; i++) await rt.receive('bw_compute');
  await sending;
  const c = process.cpuUsage(c0);
  console.log(Math.round(N / (performance.now() - t0) * 1000), 'msg/s', ((c.user + c.system) / N).toFixed(2), 'us CPU/msg (all threads)');
}
await rt.shutdown();
