// Runs every test suite and ends with one line: `N passed, M failed` (and skipped, with
// reasons, when a suite cannot run here; under CI nothing may be skipped).
// Usage: node tests/run.mjs [suite...]   (suites: aspect, uvu, uncompiled, remote, deno, bun, browser, workerd)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { natsServerMissing } from './helpers/nats-server.mjs';

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');
const only = process.argv.slice(2);

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    child.on('close', (code) => resolve({ code, out: strip(out) }));
  });
}

/** Each suite returns { passed, failed, skipped, reason? }. */
const suites = {
  async aspect() {
    const { code, out } = await run(process.execPath, ['node_modules/@as-pect/cli/bin/asp.js', '--config', 'as-pect.config.js']);
    const m = out.match(/\[Tests\]:\s*(\d+)\s*\/\s*(\d+)/);
    if (!m) return { passed: 0, failed: 1, reason: `as-pect printed no summary (exit ${code})` };
    const passed = +m[1], total = +m[2];
    return { passed, failed: total - passed + (code !== 0 && passed === total ? 1 : 0) };
  },
  uvu: () => uvuSuite('tests', '\\.test\\.ts$'),
  // the codec and messaging suites again with the loops every class shares, as workerd and
  // pages under a strict Content-Security-Policy run them (js/message/compiled.ts)
  uncompiled: () => uvuSuite('tests', '^(codec.*|runtime\\.messaging|runtime\\.batch|columns)\\.test\\.ts$', { RINGKERNEL_CODEGEN: '0' }),
  // remote kernels over a real nats-server (tests/remote/*.nats.ts start their own)
  async remote() {
    const missing = natsServerMissing();
    if (missing) return { passed: 0, failed: 0, skipped: 1, reason: `skipped: ${missing}` };
    return uvuSuite('tests/remote', '\\.nats\\.ts$');
  },
};

/** uvu over the files in `dir` matching `pattern`, under tsx. */
async function uvuSuite(dir, pattern, env = {}) {
  const { code, out } = await run(process.execPath, ['--import', 'tsx', 'node_modules/uvu/bin.js', dir, pattern], env);
  const total = out.match(/Total:\s+(\d+)/), passed = out.match(/Passed:\s+(\d+)/), skipped = out.match(/Skipped:\s+(\d+)/);
  if (!total || !passed) return { passed: 0, failed: 1, reason: `uvu printed no summary (exit ${code})` };
  // uvu's Total counts the tests that ran; skipped ones are counted apart
  const failed = +total[1] - +passed[1];
  return { passed: +passed[1], failed: failed + (code !== 0 && failed === 0 ? 1 : 0), skipped: skipped ? +skipped[1] : 0,
    reason: code !== 0 && failed === 0 ? `uvu exited with ${code}` : undefined };
}

/** The Deno binary the `deno` npm package brought (its platform package), or null. */
function denoBinary() {
  try {
    const pkg = createRequire(import.meta.url).resolve(`@deno/${process.platform}-${process.arch}${process.platform === 'linux' ? '-glibc' : ''}/package.json`);
    const bin = pkg.replace(/package\.json$/, process.platform === 'win32' ? 'deno.exe' : 'deno');
    return existsSync(bin) ? bin : null;
  } catch { return null; }
}

/** Runs a script that ends with its own `N passed, M failed` line. */
async function tallied(cmd, args, env = {}) {
  const { code, out } = await run(cmd, args, env);
  const skip = /^skipped: (.*)$/m.exec(out);
  const m = [...out.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/gm)].pop();
  if (skip && (!m || +m[1] + +m[2] === 0)) return { passed: 0, failed: 0, skipped: 1, reason: `skipped: ${skip[1]}` };
  if (!m) return { passed: 0, failed: 1, reason: `printed no tally (exit ${code})` };
  const failed = +m[2] + (code !== 0 && +m[2] === 0 ? 1 : 0);
  const skipped = m[3] ? +m[3] : 0;
  return { passed: +m[1], failed, skipped,
    reason: code !== 0 && +m[2] === 0 ? `exited with ${code}` : skipped && skip ? `skipped: ${skip[1]}` : undefined };
}

/** Two tallies of one suite as one (the seed checks, and remote kernels over nats-server). */
function sum(x, y) {
  return { passed: x.passed + y.passed, failed: x.failed + y.failed, skipped: (x.skipped ?? 0) + (y.skipped ?? 0),
    reason: [x.reason, y.reason].filter(Boolean).join('; ') || undefined };
}

suites.deno = async () => {
  const deno = denoBinary();
  if (!deno) return { passed: 0, failed: 0, skipped: 1, reason: 'skipped: no Deno binary (npm ci installs the deno package)' };
  return sum(await tallied(deno, ['run', '--allow-read', '--allow-env', '--allow-net=127.0.0.1', 'tests/runtimes/seed-check.mjs']),
    await tallied(deno, ['run', '--allow-read', '--allow-env', '--allow-net', '--allow-run', '--allow-write', 'tests/runtimes/remote-check.mjs']));
};

/** The Bun binary of the @oven/bun-<platform> npm package, or null. */
function bunBinary() {
  try {
    const pkg = createRequire(import.meta.url).resolve(`@oven/bun-${process.platform}-${process.arch}/package.json`);
    const bin = pkg.replace(/package\.json$/, 'bin/bun');
    return existsSync(bin) ? bin : null;
  } catch { return null; }
}

suites.bun = async () => {
  const bun = bunBinary();
  if (!bun) return { passed: 0, failed: 0, skipped: 1, reason: `skipped: no Bun binary for ${process.platform}-${process.arch} (npm ci installs @oven/bun-linux-x64 on Linux x64)` };
  // Bun's process.env does not reach the webgpu package's native EGL probe: Mesa's
  // surfaceless platform (llvmpipe, no display) must be in the environment it starts with
  return sum(await tallied(bun, ['tests/runtimes/seed-check.mjs'], { EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' }),
    await tallied(bun, ['tests/runtimes/remote-check.mjs']));
};

suites.browser = () => tallied(process.execPath, ['tests/browser/run.mjs']);
suites.workerd = () => tallied(process.execPath, ['tests/workerd/run.mjs']);

const results = [];
for (const [name, fn] of Object.entries(suites)) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n=== suite: ${name} ===`);
  const t0 = Date.now();
  const r = await fn();
  results.push({ name, ...r, seconds: (Date.now() - t0) / 1000 });
}

console.log('\n=== summary ===');
let passed = 0, failed = 0, skipped = 0;
for (const r of results) {
  passed += r.passed; failed += r.failed; skipped += r.skipped ?? 0;
  console.log(`${r.name.padEnd(10)} ${String(r.passed).padStart(5)} passed ${String(r.failed).padStart(3)} failed` +
    `${r.skipped ? ` ${r.skipped} skipped` : ''}  (${r.seconds.toFixed(1)} s)${r.reason ? `  — ${r.reason}` : ''}`);
}
if (process.env.CI && skipped > 0) {
  console.log(`CI: ${skipped} test(s) were skipped; nothing may be skipped in CI`);
  failed += skipped;
  skipped = 0;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
