// The seed pipeline in whatever JavaScript runtime runs this file (Node, Deno, ...): inline,
// then on worker threads; in Deno also GPU kernels on its navigator.gpu (on this machine
// class, Mesa's llvmpipe). Prints one line per check and ends with `N passed, M failed`.
//   deno run --allow-read --allow-env tests/runtimes/seed-check.mjs
import { runSeedChecks } from './seed-suite.mjs';
import { runGpuChecks } from './gpu-checks.mjs';

const runtimeName = globalThis.Deno ? `Deno ${globalThis.Deno.version.deno}` : globalThis.Bun ? `Bun ${globalThis.Bun.version}` : `Node ${globalThis.process?.version}`;
let passed = 0, failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
}

console.log(`ringkernel seed pipeline on ${runtimeName}`);
await runSeedChecks(check, true);
let skipped = 0;
if (globalThis.Deno && !(await runGpuChecks(check))) {
  skipped++;
  console.log('skipped: Deno found no WebGPU adapter (the GPU checks)');
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (globalThis.Deno) Deno.exit(failed ? 1 : 0);
else if (globalThis.process?.exit) process.exit(failed ? 1 : 0);
