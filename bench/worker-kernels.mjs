// Kernels for bench/workers.mjs, placed on workers (a worker imports this module).
import { ringKernel, message, t } from 'ringkernel';
// the same arithmetic as the anchors' stages, so every contender does the same work
import { preprocess as normalize, compute as mean } from './postmessage-stage.mjs';

export const RawData = message('BwRawData', { values: t.array(t.f64) });
export const PreprocessedData = message('BwPreprocessedData', { normalized: t.array(t.f64) });
export const ComputeResult = message('BwComputeResult', { result: t.f64 });
export const Ping = message('BwPing', { n: t.u32 });
export const Stats = message('BwStats', { p50: t.f64, p99: t.f64 });

// The seed's two stages.
export const preprocess = ringKernel({ kernelId: 'bw_preprocess', placement: 'worker', module: import.meta.url,
  input: RawData, output: PreprocessedData, queueSize: 8192 }, async (ctx) => {
  for await (const raw of ctx) await ctx.send(new PreprocessedData({ normalized: normalize(raw.values), correlationId: raw.messageId }));
});
export const compute = ringKernel({ kernelId: 'bw_compute', placement: 'worker', module: import.meta.url,
  input: PreprocessedData, output: ComputeResult, queueSize: 8192 }, async (ctx) => {
  for await (const d of ctx) await ctx.send(new ComputeResult({ result: mean(d.normalized), correlationId: d.messageId }));
});

export const echo = ringKernel({ kernelId: 'bw_echo', placement: 'worker', module: import.meta.url, input: Ping, output: Ping }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new Ping({ n: m.n }));
});

/** Times n round trips to bw_echo (on another worker) from here, and reports p50/p99 in us. */
export const pinger = ringKernel({ kernelId: 'bw_pinger', placement: 'worker', module: import.meta.url, input: Ping, output: Stats }, async (ctx) => {
  for await (const m of ctx) {
    const times = [];
    for (let i = 0; i < m.n + 100; i++) {
      const t0 = performance.now();
      await ctx.runtime.send('bw_echo', new Ping({ n: i }));
      await ctx.runtime.receive('bw_echo');
      if (i >= 100) times.push((performance.now() - t0) * 1000);
    }
    times.sort((a, b) => a - b);
    await ctx.send(new Stats({ p50: times[Math.floor(times.length * 0.5)], p99: times[Math.floor(times.length * 0.99)] }));
  }
});

// The same two stages with the batch API.
export const preprocessBatch = ringKernel({ kernelId: 'bw_preprocess_batch', placement: 'worker', module: import.meta.url,
  input: RawData, output: PreprocessedData, queueSize: 8192 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let batch;
    try { batch = await ctx.receiveMany({ max: 512 }); } catch { break; }
    await ctx.sendMany(batch.map((raw) => new PreprocessedData({ normalized: normalize(raw.values), correlationId: raw.messageId })));
  }
});
export const computeBatch = ringKernel({ kernelId: 'bw_compute_batch', placement: 'worker', module: import.meta.url,
  input: PreprocessedData, output: ComputeResult, queueSize: 8192 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let batch;
    try { batch = await ctx.receiveMany({ max: 512 }); } catch { break; }
    await ctx.sendMany(batch.map((d) => new ComputeResult({ result: mean(d.normalized), correlationId: d.messageId })));
  }
});
