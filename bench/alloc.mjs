// bench/alloc.mjs — bytes allocated on the JS heap while a function runs (Node: v8.GCProfiler),
// for the per-message allocation figures the benchmarks print beside their throughput.
import v8 from 'node:v8';
/** Bytes allocated on the JS heap while `fn` runs: the heap's growth plus what each GC freed. */
export async function allocatedDuring(fn) {
  const p = new v8.GCProfiler();
  p.start();
  const h0 = process.memoryUsage().heapUsed;
  await fn();
  const h1 = process.memoryUsage().heapUsed;
  const { statistics } = p.stop();
  let freed = 0;
  for (const s of statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
  return h1 - h0 + freed;
}

/**
 * The median of `times` runs of allocatedDuring(fn): one run's figure moves with where the
 * collector's cycles fall (a major collection inside it counts what older code left too).
 */
export async function medianAllocatedDuring(fn, times = 5) {
  const runs = [];
  for (let i = 0; i < times; i++) runs.push(await allocatedDuring(fn));
  return runs.sort((a, b) => a - b)[times >> 1];
}
