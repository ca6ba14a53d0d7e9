// The seed's two stages (SEED-pipelines.md, "Simple Pipeline"), shared by the examples and
// the demo: preprocess normalizes a list of values to [0, 1], compute takes their mean.
import { ringKernel, message, t, QueueTimeoutError } from 'ringkernel';

export const RawData = message('RawData', { values: t.array(t.f64) });
export const PreprocessedData = message('PreprocessedData', { normalized: t.array(t.f64) });
export const ComputeResult = message('ComputeResult', { result: t.f64 });

// Stage 1: written like the seed, checking isActive and polling with a timeout.
export const preprocess = ringKernel({ kernelId: 'preprocess', input: RawData, output: PreprocessedData }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let raw;
    try { raw = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    const min = Math.min(...raw.values), max = Math.max(...raw.values);
    const span = max - min || 1; // a constant input normalizes to zeros rather than NaN
    await ctx.send(new PreprocessedData({
      normalized: raw.values.map((v) => (v - min) / span),
      correlationId: raw.messageId,
    }));
  }
});

// Stage 2: the same loop as `for await`, which ends when the kernel is terminated.
export const compute = ringKernel({ kernelId: 'compute', input: PreprocessedData, output: ComputeResult }, async (ctx) => {
  for await (const data of ctx) {
    const result = data.normalized.reduce((a, b) => a + b, 0) / data.normalized.length;
    await ctx.send(new ComputeResult({ result, correlationId: data.messageId }));
  }
});
