// A worker kernel module that a thread may refuse to load again: a worker thread started
// while RK_TEST_MODULE_REFUSES is 'throw' fails to import it; while it is 'exit', the thread
// exits as it imports it. (A worker's environment is a copy of the process's when it starts.)
// For tests/supervision.threads.test.ts: a kernel whose restart after its thread's death
// cannot be carried out.
import { isMainThread } from 'node:worker_threads';
import { ringKernel, type KernelContext } from '../../js/index.js';
import { SNum, SReport } from './supervised-kernels.js';

const refuse = isMainThread ? undefined : process.env.RK_TEST_MODULE_REFUSES;
if (refuse === 'throw') throw new Error('this module refuses to load here');
if (refuse === 'exit') process.exit(4);

/** Answers each n; on an n >= 1000 its thread exits (code 3). Two restarts a minute. */
export const reloaded = ringKernel({
  kernelId: 'w_sup_reloaded', input: SNum, output: SReport, placement: 'worker', module: import.meta.url,
  restart: { maxRestarts: 2, withinMs: 60_000 },
}, async (ctx: KernelContext) => {
  for await (const m of ctx as AsyncIterable<InstanceType<typeof SNum>>) {
    if (m.n >= 1000) process.exit(3);
    await ctx.send(new SReport({ what: 'answer', n: m.n, at: Date.now() }));
  }
}).kernelId;
