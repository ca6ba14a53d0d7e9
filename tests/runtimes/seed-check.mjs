// The seed pipeline in whatever JavaScript runtime runs this file (Node, Deno, ...): inline,
// then on worker threads; in Deno (navigator.gpu) and Bun (the webgpu package) also GPU
// kernels, on Mesa's llvmpipe on this machine class. Prints one line per check and ends
// with `N passed, M failed`.
//   deno run --allow-read --allow-env --allow-net=127.0.0.1 tests/runtimes/seed-check.mjs
import { runSeedChecks } from './seed-suite.mjs';
import { runGpuChecks } from './gpu-checks.mjs';
import { runDashboardChecks } from './dashboard-checks.mjs';

const runtimeName = globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : globalThis.Bun ? `Bun ${globalThis.Bun.version}` : `Node ${globalThis.process?.version}`;
let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}

console.log(`ringkernel seed pipeline on ${runtimeName}`);
await runSeedChecks(check, true);
await runDashboardChecks(check);
let skipped = 0;
// Bun (like Node) lets a script that forgot shutdown() end once its worker kernels are idle
if (globalThis.Bun) {
  const t0 = performance.now();
  const r = globalThis.Bun.spawnSync([process.execPath, new URL('./forget-shutdown.mjs', import.meta.url).pathname], { timeout: 20_000 });
  const out = r.stdout.toString().trim();
  check('a script that forgets shutdown() ends by itself once its worker kernels are idle', r.exitCode === 0 && out === 'result 0.5',
    `exit ${r.exitCode}${r.signalCode ? ` (${r.signalCode})` : ''} after ${Math.round(performance.now() - t0)} ms, printed ${JSON.stringify(out)}`);
}
if ((globalThis.Deno || globalThis.Bun) && !(await runGpuChecks(check))) {
  skipped++;
  console.log(`skipped: no WebGPU adapter here (the GPU checks)${globalThis.Bun && !globalThis.process?.env?.EGL_PLATFORM ? '; without a GPU, Bun needs EGL_PLATFORM=surfaceless in its environment' : ''}`);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (globalThis.Deno) Deno.exit(failed ? 1 : 0);
else if (globalThis.process?.exit) process.exit(failed ? 1 : 0);
