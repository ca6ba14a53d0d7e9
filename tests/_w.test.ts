// Worker placement: kernels in worker threads, wired to each other and to inline kernels
// over the shared rings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RingKernelRuntime, ringKernel, KernelFailedError, KernelStateError, RingKernelError, BackendNotAvailableError, message, t,
} from '../js/index.js';
import { WNum, WVec, WMean } from './helpers/worker-kernels.js';

const num = (n: number) => new WNum({ n, from: 'host' });

async function withRuntime(workers: number, fn: (rt: RingKernelRuntime) => Promise<void>): Promise<void> {
  const rt = new RingKernelRuntime({ workers });
  try { await fn(rt); } finally { await rt.shutdown({ timeout: 1000 }); }
}

test.skip('a worker kernel runs with the same context API and answers the host', () => withRuntime(2, async (rt) => {
  await rt.launch('w_double');
  assert.is(rt.getState('w_double'), 'launched');
  assert.is(rt.workerOf('w_double'), 0);
  await rt.send('w_double', num(1));          // waits until activate
  await rt.activate('w_double');
  const r = await rt.receive('w_double', { timeout: 5000 });
  assert.is(r.n, 2);
  assert.is(r.from, 'w_double');             // ctx.kernelId is the launched id
  assert.instance(r, WNum);
}));

test('seed-style kernels on workers: preprocess -> mean, connected worker to worker', () => withRuntime(2, async (rt) => {
  await rt.launch('w_preprocess');
  await rt.launch('w_mean');
  assert.is.not(rt.workerOf('w_preprocess'), rt.workerOf('w_mean')); // n >= k: a thread each
  rt.connect('w_preprocess', 'w_mean');
  await rt.activate('w_preprocess');
  await rt.activate('w_mean');
  await rt.send('w_preprocess', new WVec({ values: [1, 2, 3, 4, 5] }));
  const r = await rt.receive('w_mean', { timeout: 5000 });
  assert.instance(r, WMean);
  assert.is(r.mean, 0.5);
}));

test('deactivate pauses a worker kernel; reactivate resumes it; telemetry counts', () => withRuntime(1, async (rt) => {
  await rt.launch('w_double');
  await rt.activate('w_double');
  await rt.deactivate('w_double');
  for (let i = 0; i < 5; i++) await rt.send('w_double', num(i));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(rt.getTelemetry('w_double')!.queueDepth, 5);
  await rt.reactivate('w_double');
  for (let i = 0; i < 5; i++) assert.is((await rt.receive('w_double', { timeout: 5000 })).n, 2 * i);
  await rt.send('w_double', num(9));
  await rt.receive('w_double', { timeout: 5000 });
  assert.is(rt.getTelemetry('w_double')!.messagesProcessed, 6);
}));

test.run();
