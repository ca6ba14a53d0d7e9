// GPU placement checks for a JavaScript runtime with navigator.gpu (the browser suite runs
// them in Chromium, whose WebGPU runs on SwiftShader without a GPU). `check(name, ok,
// detail)` records each result; returns false, touching nothing, when there is no adapter.
import { RingKernelRuntime, ringKernel, message, t, gpuAdapterName, ShaderCompileError } from '../../dist/index.js';

const Vec8 = message('BrVec8', { values: t.array(t.f32, 8) });
const Mean = message('BrMean', { mean: t.f32 });
const Count = message('BrCount', { n: t.u32 });

ringKernel({ kernelId: 'br_normalize_mean', placement: 'gpu', input: Vec8, output: Mean, wgsl: `
fn handle(m: BrVec8) -> BrMean {
  var lo = m.values[0];
  var hi = m.values[0];
  for (var i = 1u; i < 8u; i++) { lo = min(lo, m.values[i]); hi = max(hi, m.values[i]); }
  var span = hi - lo;
  if (span == 0.0) { span = 1.0; }
  var s = 0.0;
  for (var i = 0u; i < 8u; i++) { s += (m.values[i] - lo) / span; }
  return BrMean(s / 8.0);
}` });
ringKernel({ kernelId: 'br_counter', placement: 'gpu', input: Count, output: Count, state: { type: 'u32', words: 1 },
  wgsl: 'fn handle(m: BrCount) -> BrCount { state[0] = state[0] + m.n; return BrCount(state[0]); }' });
ringKernel({ kernelId: 'br_broken', placement: 'gpu', input: Count, output: Count,
  wgsl: 'fn handle(m: BrCount) -> BrCount {\n  return BrCount(m.n + not_defined);\n}' });

function cpuNormalizeMean(values) {
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  return values.reduce((s, v) => s + (v - lo) / span, 0) / values.length;
}

export async function runGpuChecks(check) {
  const adapter = await gpuAdapterName();
  if (!adapter) return false;
  check('a WebGPU adapter is found', true, adapter);
  const rt = new RingKernelRuntime();
  try {
    await rt.launch('br_normalize_mean');
    await rt.activate('br_normalize_mean');
    const inputs = Array.from({ length: 300 }, (_, k) => new Vec8({ values: Array.from({ length: 8 }, (_, i) => Math.fround(Math.sin(k * 8 + i) * 100)) }));
    await rt.sendMany('br_normalize_mean', inputs);
    let right = 0, answered = 0;
    for (const input of inputs) {
      const out = await rt.receive('br_normalize_mean', { timeout: 10_000 });
      if (out.correlationId === input.messageId) answered++;
      if (Math.abs(out.mean - cpuNormalizeMean(input.values)) < 1e-5) right++;
    }
    check('normalize + mean on the GPU equals the CPU result', right === inputs.length, `${right} of ${inputs.length}`);
    check('answer i answers input i (correlationId)', answered === inputs.length, `${answered} of ${inputs.length}`);

    await rt.launch('br_counter');
    await rt.activate('br_counter');
    let last = 0;
    for (let i = 1; i <= 20; i++) {
      await rt.send('br_counter', new Count({ n: 1 }));
      last = (await rt.receive('br_counter', { timeout: 10_000 })).n;
    }
    check('resident state persists across dispatches', last === 20, `counter ${last}`);

    const e = await rt.launch('br_broken').then(() => null, (x) => x);
    check('WGSL that does not compile is refused with its line and column, naming the error',
      e instanceof ShaderCompileError && e.line === 2 && e.column > 1 && /not_defined/.test(e.message), String(e?.message));
  } catch (e) {
    check('no unexpected error on the GPU', false, e?.stack ?? String(e));
  } finally {
    await rt.shutdown({ timeout: 2000 });
  }
  return true;
}
