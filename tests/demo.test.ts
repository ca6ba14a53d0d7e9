// npm run demo: prints the dashboard's URL and ends by itself; with --serve it keeps the
// pipeline and the page up until SIGINT (Ctrl-C).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, DEMO_MESSAGES: '300', FORCE_COLOR: '0' };

test('the demo prints the dashboard URL, answers on it while it runs, and ends by itself', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Dashboard: http:\/\/127\.0\.0\.1:\d+\/ {3}\(Prometheus: http:\/\/127\.0\.0\.1:\d+\/metrics\) {3}npm run demo -- --serve keeps it open$/m);
  assert.match(r.stdout, /300 messages through 2 stages/);
});

test('--serve keeps it running with a live stream until SIGINT', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts', '--serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (!/Serving (http:\S+)/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const url = /Serving (http:\S+)/.exec(out)?.[1];
    assert.ok(url, `no "Serving" line: ${out} ${err}`);
    const count = async () => Number(/ringkernel_messages_processed_total\{kernel="compute"\} (\d+)/.exec(await (await fetch(`${url}metrics`)).text())![1]);
    const a = await count();
    await new Promise((r) => setTimeout(r, 1500));
    const b = await count();
    assert.ok(b > a, `the stream goes on: ${a} then ${b}`);
    child.kill('SIGINT');
    assert.is(await exited, 0, err);
    assert.match(out, /stopped/);
  } finally { if (child.exitCode === null) child.kill('SIGKILL'); }
});

test.run();
