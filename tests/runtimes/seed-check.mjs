// The seed pipeline in whatever JavaScript runtime runs this file (Node, Deno, ...): inline,
// then on worker threads. Prints one line per check and ends with `N passed, M failed`.
//   deno run --allow-read --allow-env tests/runtimes/seed-check.mjs
import { RingKernelRuntime, canShareMemory } from '../../dist/index.js';
import { RawData } from './seed-kernels.mjs';

const runtimeName = globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : globalThis.Bun ? `Bun ${globalThis.Bun.version}` : `Node ${globalThis.process?.version}`;
let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}

async function pipeline(pre, comp, onWorkers) {
  const rt = new RingKernelRuntime({ workers: 2 });
  try {
    await rt.launch(pre);
    await rt.launch(comp);
    const where = [rt.workerOf(pre), rt.workerOf(comp)];
    check(`${pre}, ${comp}: ${onWorkers ? 'each on its own worker thread' : 'inline'}`,
      onWorkers ? where[0] !== null && where[1] !== null && where[0] !== where[1] : where[0] === null && where[1] === null, `workers ${where}`);
    rt.connect(pre, comp);
    await rt.activate(pre);
    await rt.activate(comp);
    const req = new RawData({ values: [1, 2, 3, 4, 5] });
    await rt.send(pre, req);
    const first = await rt.receive(comp, { timeout: 5000 });
    check(`${pre} -> ${comp}: mean of [1..5] normalized is 0.5`, first.result === 0.5, `got ${first.result}`);
    const n = 500;
    for (let i = 0; i < n; i++) await rt.send(pre, new RawData({ values: [0, i, 2 * i + 1] }));
    let right = 0;
    for (let i = 0; i < n; i++) {
      const r = await rt.receive(comp, { timeout: 5000 });
      if (Math.abs(r.result - (1 + i / (2 * i + 1)) / 3) < 1e-12) right++;
    }
    check(`${pre} -> ${comp}: ${n} messages, each right and in order`, right === n, `${right} of ${n}`);
    check(`${pre}: telemetry counts them`, rt.getTelemetry(pre).messagesProcessed === n + 1, `${rt.getTelemetry(pre).messagesProcessed}`);
  } finally {
    await rt.shutdown({ timeout: 2000 });
  }
}

try {
  console.log(`ringkernel seed pipeline on ${runtimeName}`);
  await pipeline('preprocess', 'compute', false);
  check('shared memory is available', canShareMemory());
  await pipeline('preprocess_w', 'compute_w', true);
} catch (e) {
  check('no unexpected error', false, e?.stack ?? String(e));
}
console.log(`${passed} passed, ${failed} failed`);
if (globalThis.process?.exit) process.exit(failed ? 1 : 0);
else if (globalThis.Deno) Deno.exit(failed ? 1 : 0);
