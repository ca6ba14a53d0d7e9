// Kernels of the soak run (bench/soak.mjs): a worker imports this module to find soak_w.
import { ringKernel, message, t, KernelStateError } from 'ringkernel';

/** One message of producer `src`, its `seq`-th (0, 1, 2, ... per producer). */
export const SoakMsg = message('SoakMsg', { src: t.u32, seq: t.u32 });

/** A stage that passes on what it gets, in batches, until it is terminated. */
async function pass(ctx) {
  for (;;) {
    let ms;
    try { ms = await ctx.receiveMany({ max: 512 }); } catch (e) { if (e instanceof KernelStateError) return; throw e; }
    await ctx.sendMany(ms);
  }
}

export const soakIn = ringKernel({ kernelId: 'soak_in', input: SoakMsg, output: SoakMsg }, pass);
export const soakW = ringKernel({ kernelId: 'soak_w', placement: 'worker', module: import.meta.url, input: SoakMsg, output: SoakMsg }, pass);
