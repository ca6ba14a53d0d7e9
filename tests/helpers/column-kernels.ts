// Kernels that take and give columns, for tests/columns.test.ts: the same function inline and
// on a worker (a worker imports this module to find it).
import { ringKernel, message, t, type KernelContext } from '../../js/index.js';

/** Every column type: scalars of each kind and fixed arrays of each. */
export const CSample = message('CSample', {
  id: t.u32, x: t.f64, y: t.f32, k: t.i32,
  v: t.array(t.f32, 4), w: t.array(t.f64, 2), u: t.array(t.u32, 3), s: t.array(t.i32, 2),
});
export const CSum = message('CSum', { id: t.u32, sum: t.f64 });

/** The sum a CSample's fields add up to (what the kernels compute). */
export function sampleSum(c: { x: number; y: number; k: number; v: ArrayLike<number>; w: ArrayLike<number>; u: ArrayLike<number>; s: ArrayLike<number> }): number {
  let s = c.x + c.y + c.k;
  for (const a of [c.v, c.w, c.u, c.s]) for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Columns of `n` samples numbered from `from`. */
export function sampleColumns(n: number, from = 0) {
  const id = new Uint32Array(n), x = new Float64Array(n), y = new Float32Array(n), k = new Int32Array(n);
  const v = new Float32Array(4 * n), w = new Float64Array(2 * n), u = new Uint32Array(3 * n), s = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const m = from + i;
    id[i] = m; x[i] = m * 0.5; y[i] = m + 0.25; k[i] = -m;
    for (let j = 0; j < 4; j++) v[4 * i + j] = m + j / 8;
    for (let j = 0; j < 2; j++) w[2 * i + j] = m * 1e-3 + j;
    for (let j = 0; j < 3; j++) u[3 * i + j] = 4_000_000_000 - m - j;
    for (let j = 0; j < 2; j++) s[2 * i + j] = m * (j === 0 ? 7 : -7);
  }
  return { id, x, y, k, v, w, u, s };
}

/** Receives samples as columns, answers each with its sum, as columns. */
async function sumColumns(ctx: KernelContext): Promise<void> {
  while (!ctx.shouldTerminate) {
    let b;
    try { b = await ctx.receiveColumns({ max: 5000 }); } catch { break; }
    const f = b.fields as ReturnType<typeof sampleColumns>;
    const sum = new Float64Array(b.count);
    for (let i = 0; i < b.count; i++) {
      sum[i] = sampleSum({ x: f.x[i]!, y: f.y[i]!, k: f.k[i]!, v: f.v.subarray(4 * i, 4 * i + 4), w: f.w.subarray(2 * i, 2 * i + 2), u: f.u.subarray(3 * i, 3 * i + 3), s: f.s.subarray(2 * i, 2 * i + 2) });
    }
    await ctx.sendColumns({ id: f.id, sum });
  }
}

export const colSum = ringKernel({ kernelId: 'col_sum', input: CSample, output: CSum, queueSize: 1024 }, sumColumns);
export const colSumWorker = ringKernel({ kernelId: 'col_sum_w', placement: 'worker', module: import.meta.url, input: CSample, output: CSum, queueSize: 1024 }, sumColumns);

/** Passes each column batch on to kernel 'col_sum' through ctx.runtime (the worker's view of the runtime). */
export const colForwardWorker = ringKernel({ kernelId: 'col_forward_w', placement: 'worker', module: import.meta.url, input: CSample, output: CSample, queueSize: 1024 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let b;
    try { b = await ctx.receiveColumns({ max: 700 }); } catch { break; }
    await ctx.runtime.sendColumns('col_sum', b.fields);
  }
});
