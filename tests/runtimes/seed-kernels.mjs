// The seed's two stages, placed on workers, for the runtime smoke test (seed-check.mjs). A
// worker imports this module to find them.
import { ringKernel, message, t } from '../../dist/index.js';

export const RawData = message('RawData', { values: t.array(t.f64) });
export const PreprocessedData = message('PreprocessedData', { normalized: t.array(t.f64) });
export const ComputeResult = message('ComputeResult', { result: t.f64 });

async function preprocess(ctx) {
  for await (const raw of ctx) {
    const min = Math.min(...raw.values), max = Math.max(...raw.values);
    await ctx.send(new PreprocessedData({ normalized: raw.values.map((v) => (v - min) / (max - min)), correlationId: raw.messageId }));
  }
}
async function compute(ctx) {
  for await (const d of ctx) {
    await ctx.send(new ComputeResult({ result: d.normalized.reduce((a, b) => a + b, 0) / d.normalized.length, correlationId: d.messageId }));
  }
}

export const inlineStages = [
  ringKernel({ kernelId: 'preprocess', input: RawData, output: PreprocessedData }, preprocess),
  ringKernel({ kernelId: 'compute', input: PreprocessedData, output: ComputeResult }, compute),
];
/** Answers n * 10, throws on a negative n: restarted by its policy (supervision-check.mjs). */
export const Num = message('SupNum', { n: t.f64 });
async function resilient(ctx) {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(new Num({ n: m.n * 10 }));
  }
}
const restart = { maxRestarts: 5, withinMs: 60_000 };
ringKernel({ kernelId: 'resilient', input: Num, output: Num, restart }, resilient);
ringKernel({ kernelId: 'resilient_w', placement: 'worker', module: import.meta.url, input: Num, output: Num, restart }, resilient);

export const workerStages = [
  ringKernel({ kernelId: 'preprocess_w', placement: 'worker', module: import.meta.url, input: RawData, output: PreprocessedData }, preprocess),
  ringKernel({ kernelId: 'compute_w', placement: 'worker', module: import.meta.url, input: PreprocessedData, output: ComputeResult }, compute),
];
