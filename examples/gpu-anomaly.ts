// Streaming anomaly detection on the GPU: each message carries the latest readings of one
// stream; the kernel keeps every stream's running mean and variance resident on the GPU
// (exponentially weighted, across dispatches) and answers with the z-score of the newest
// reading against them. Checked against the same arithmetic on the CPU. The readings go in
// and the z-scores come out as columns (typed arrays, one per field): no message objects.
//   node --import tsx examples/gpu-anomaly.ts
import { RingKernelRuntime, ringKernel, message, t, gpuAdapterName } from 'ringkernel';

const STREAMS = 8;
export const Readings = message('Readings', { stream: t.u32, values: t.array(t.f32, 8) });
export const Anomaly = message('Anomaly', { stream: t.u32, z: t.f32 });

// state: [mean, variance, seen] per stream. One message per stream per dispatch (the host
// sends a round and waits for it), so no two invocations touch the same stream's state.
ringKernel({ kernelId: 'anomaly', placement: 'gpu', input: Readings, output: Anomaly,
  state: { type: 'f32', words: 3 * STREAMS },
  wgsl: `
const ALPHA: f32 = 0.1;
fn handle(m: Readings) -> Anomaly {
  let b = m.stream * 3u;
  var mean = state[b];
  var variance = state[b + 1u];
  var seen = state[b + 2u];
  let last = m.values[7];
  var z = 0.0;
  if (seen > 0.0 && variance > 0.0) { z = (last - mean) / sqrt(variance); }
  for (var i = 0u; i < 8u; i++) {
    let x = m.values[i];
    if (seen == 0.0) { mean = x; variance = 0.0; } else {
      let d = x - mean;
      mean = mean + ALPHA * d;
      variance = (1.0 - ALPHA) * (variance + ALPHA * d * d);
    }
    seen = seen + 1.0;
  }
  state[b] = mean; state[b + 1u] = variance; state[b + 2u] = seen;
  return Anomaly(m.stream, z);
}` });

/** The same arithmetic in f32 on the CPU. */
export function cpuDetector() {
  const f = Math.fround;
  const st = Array.from({ length: STREAMS }, () => ({ mean: 0, variance: 0, seen: 0 }));
  return (stream: number, values: number[]) => {
    const s = st[stream]!;
    const last = f(values[7]!);
    let z = 0;
    if (s.seen > 0 && s.variance > 0) z = f(f(last - s.mean) / f(Math.sqrt(s.variance)));
    for (const v of values) {
      const x = f(v);
      if (s.seen === 0) { s.mean = x; s.variance = 0; } else {
        const d = f(x - s.mean);
        s.mean = f(s.mean + f(f(0.1) * d));
        s.variance = f(f(f(1) - f(0.1)) * f(s.variance + f(f(f(0.1) * d) * d)));
      }
      s.seen++;
    }
    return z;
  };
}

export async function main(rounds = 40) {
  await using runtime = new RingKernelRuntime();
  await runtime.launch('anomaly');
  await runtime.activate('anomaly');
  const cpu = cpuDetector();
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  let maxDiff = 0;
  const flagged: Array<{ round: number; stream: number; z: number }> = [];
  for (let round = 0; round < rounds; round++) {
    // one round: a message per stream, as columns: stream i's readings at values[8i .. 8i+8)
    const stream = Uint32Array.from({ length: STREAMS }, (_, i) => i);
    const values = new Float32Array(8 * STREAMS);
    for (let i = 0; i < values.length; i++) values[i] = 10 + Math.floor(i / 8) + rand();
    if (round === 30) values[8 * 3 + 7] = 40; // a spike in stream 3
    await runtime.sendColumns('anomaly', { stream, values });
    const z = new Float32Array(STREAMS);
    for (let got = 0; got < STREAMS;) {
      const answers = await runtime.receiveColumns('anomaly', { timeout: 10_000 });
      const s = answers.fields.stream as Uint32Array, zs = answers.fields.z as Float32Array;
      for (let k = 0; k < answers.count; k++) z[s[k]!] = zs[k]!;
      got += answers.count;
    }
    for (let i = 0; i < STREAMS; i++) {
      const want = cpu(i, Array.from(values.subarray(8 * i, 8 * i + 8)));
      maxDiff = Math.max(maxDiff, Math.abs(z[i]! - want));
      if (Math.abs(z[i]!) > 6) flagged.push({ round, stream: i, z: z[i]! });
    }
  }
  return { adapter: await gpuAdapterName(), maxDiff, flagged };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
