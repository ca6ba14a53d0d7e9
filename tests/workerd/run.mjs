// workerd suite: serves tests/workerd/worker.mjs with workerd (from the npm package's
// platform binary) on a free localhost port, asks it once, and prints its checks and the
// tally `N passed, M failed`.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

function workerdBinary() {
  try {
    const pkg = createRequire(import.meta.url).resolve(`@cloudflare/workerd-${process.platform}-${process.arch === 'x64' ? '64' : process.arch}/package.json`);
    const bin = pkg.replace(/package\.json$/, 'bin/workerd');
    return existsSync(bin) ? bin : null;
  } catch { return null; }
}

const bin = workerdBinary();
if (!bin) {
  console.log('skipped: no workerd binary (npm ci installs the workerd package)');
  process.exit(0);
}
const port = await new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const config = fileURLToPath(new URL('./config.capnp', import.meta.url));
const child = spawn(bin, ['serve', config, '--socket-addr', `http=127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
child.stdout.on('data', (d) => { log += d; });
child.stderr.on('data', (d) => { log += d; });

let result = null, lastError = null;
for (const end = Date.now() + 30_000; Date.now() < end && result === null;) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    result = await res.json();
  } catch (e) { lastError = e; await new Promise((r) => setTimeout(r, 200)); }
}
child.kill();
if (result === null) result = { passed: 0, failed: 1, lines: [`FAIL workerd did not answer: ${lastError}; its log: ${log.slice(-2000)}`] };
console.log('-- workerd');
for (const l of result.lines) console.log(l);
console.log(`${result.passed} passed, ${result.failed} failed`);
process.exit(result.failed ? 1 : 0);
