// Worker kernels for the edge cases of tests/workers.test.ts.
import { ringKernel, RingKernelError } from '../../js/index.js';
import { WNum } from './worker-kernels.js';

/** Tries a lifecycle call through ctx.runtime and reports the error it got. */
export const wLifecycle = ringKernel({ kernelId: 'w_lifecycle', placement: 'worker', module: import.meta.url, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) {
    const e = await (ctx.runtime.activate('w_double') as Promise<unknown>).catch((x) => x);
    await ctx.send(new WNum({ n: m.n, from: e instanceof RingKernelError ? e.message : 'no error' }));
  }
});

/** May run inline where workers cannot. */
export const wFallback = ringKernel({ kernelId: 'w_fallback', placement: 'worker', module: import.meta.url, inlineFallback: true, input: WNum, output: WNum }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new WNum({ n: m.n * 2, from: ctx.kernelId }));
});
