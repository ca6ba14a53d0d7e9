// ringkernel/dashboard as users get it: the built package by its own name, in a fresh
// process, from ESM, CommonJS and TypeScript (tsx), serving a runtime of 'ringkernel'.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function node(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}

// serves a one-kernel runtime, scrapes /metrics, checks the page answers, closes; prints the count
const body = `
const Num = message('PkgDashNum', { n: t.f64 });
ringKernel({ kernelId: 'pkg_dash', input: Num, output: Num }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
(async () => {
  const rt = new RingKernelRuntime();
  await rt.launch('pkg_dash'); await rt.activate('pkg_dash');
  for (let i = 0; i < 7; i++) { await rt.send('pkg_dash', new Num({ n: i })); await rt.receive('pkg_dash', { timeout: 2000 }); }
  const dash = await serveDashboard(rt, { port: 0 });
  const text = await (await fetch(dash.url + 'metrics')).text();
  const page = await fetch(dash.url);
  if (page.status !== 200 || !(await page.text()).includes('<script nonce=')) throw new Error('no page');
  if (text !== rt.metrics()) throw new Error('metrics differ');
  await dash.close(); await rt.shutdown();
  console.log(/ringkernel_messages_processed_total\\{kernel="pkg_dash"\\} (\\d+)/.exec(text)[1]);
})().catch((e) => { console.error(e); process.exit(1); });`;

test("import 'ringkernel/dashboard' (ESM) serves a runtime of 'ringkernel'", () => {
  assert.is(node(['--input-type=module', '-e', `import { RingKernelRuntime, ringKernel, message, t } from 'ringkernel';
import { serveDashboard, mountDashboard } from 'ringkernel/dashboard';
if (typeof mountDashboard !== 'function') throw new Error('no mountDashboard');${body}`]), '7');
});

test("require('ringkernel/dashboard') (CommonJS)", () => {
  assert.is(node(['--input-type=commonjs', '-e', `const { RingKernelRuntime, ringKernel, message, t } = require('ringkernel');
const { serveDashboard } = require('ringkernel/dashboard');${body}`]), '7');
});

test('TypeScript under tsx: the types of ringkernel/dashboard resolve and the same script runs', () => {
  // tests/fixtures/dashboard-package.mts imports both by the package's name (it sits inside the package)
  assert.is(node(['--import', 'tsx', 'tests/fixtures/dashboard-package.mts']), '7');
});

test('the dashboard entry is declared and built for both module systems', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const entry = pkg.exports['./dashboard'];
  for (const f of [entry.types, entry.import, entry.require]) assert.ok(existsSync(new URL(`../${f}`, import.meta.url)), f);
  assert.match(readFileSync(new URL('../dist/types/dashboard/index.d.ts', import.meta.url), 'utf8'), /serveDashboard/);
  // the ESM bundle shares the facade's module (one RingKernelError class), and imports node:http only when serving
  const esm = readFileSync(new URL('../dist/dashboard.js', import.meta.url), 'utf8');
  assert.match(esm, /from "\.\/index\.js"/);
  assert.not.match(esm, /^import .* from "node:http"/m);
});

test.run();
