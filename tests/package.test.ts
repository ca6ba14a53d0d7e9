// The built package: it resolves by its own name from ESM and CommonJS, ships its types, and
// its entry points hold what the export conditions promise.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

function node(args: string[]): string {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const script = (load: string) => `${load}
const V = message('PkgVec', { values: t.array(t.f64) });
const M = message('PkgMean', { mean: t.f64 });
ringKernel({ kernelId: 'pkg_mean', input: V, output: M }, async (ctx) => {
  for await (const v of ctx) await ctx.send(new M({ mean: v.values.reduce((a, b) => a + b, 0) / v.values.length }));
});
(async () => {
  const rt = new RingKernelRuntime();
  await rt.launch('pkg_mean'); await rt.activate('pkg_mean');
  await rt.send('pkg_mean', new V({ values: [1, 2, 3, 6] }));
  console.log(String((await rt.receive('pkg_mean', { timeout: 2000 })).mean));
  await rt.shutdown();
})();`;

test("import 'ringkernel' resolves to the ESM build by the package's own name", () => {
  assert.is(node(['--input-type=module', '-e', script("import { RingKernelRuntime, ringKernel, message, t } from 'ringkernel';")]), '3');
});

test("require('ringkernel') resolves to the CommonJS build", () => {
  assert.is(node(['--input-type=commonjs', '-e', script("const { RingKernelRuntime, ringKernel, message, t } = require('ringkernel');")]), '3');
});

const natsScript = (load: string) => `${load}
const M = message('PkgRemote', { n: t.i32 });
(async () => {
  const rt = new RingKernelRuntime({ remote: natsRemote({ servers: 'nats://127.0.0.1:1', maxReconnectAttempts: 0, requestTimeoutMs: 500 }) });
  const e = await rt.send('remote:x', new M({ n: 1 })).catch((x) => x);
  console.log(e.name + ' ' + (e instanceof RemoteError));
  await rt.shutdown();
})();`;

test("import 'ringkernel/nats' (ESM): natsRemote works with the classes of 'ringkernel'", () => {
  assert.is(node(['--input-type=module', '-e', natsScript("import { RingKernelRuntime, RemoteError, message, t } from 'ringkernel'; import { natsRemote } from 'ringkernel/nats';")]), 'RemoteError true');
});

test("require('ringkernel/nats') (CommonJS)", () => {
  assert.is(node(['--input-type=commonjs', '-e', natsScript("const { RingKernelRuntime, RemoteError, message, t } = require('ringkernel'); const { natsRemote } = require('ringkernel/nats');")]), 'RemoteError true');
});

test("ringkernel/nats from TypeScript under tsx, with its types", () => {
  assert.is(node(['--import', 'tsx', 'tests/helpers/nats-package.ts']), 'RemoteError true RK_pkg_x');
});

test('the core bundles never import a NATS client (browsers, workerd); ringkernel/nats keeps it external', () => {
  for (const f of ['index.js', 'index.cjs', 'node.mjs', 'workerd.js', 'worker.js', 'worker.cjs']) assert.not.match(readFileSync(new URL(`../dist/${f}`, import.meta.url), 'utf8'), /@nats-io/, f);
  // over the one copy of ringkernel of each environment: the ES module bundle, and in Node the CommonJS one
  assert.match(readFileSync(new URL('../dist/nats.js', import.meta.url), 'utf8'), /from "\.\/index\.js"/);
  assert.match(readFileSync(new URL('../dist/nats.cjs', import.meta.url), 'utf8'), /require\("\.\/index\.cjs"\)/);
  assert.match(readFileSync(new URL('../dist/nats.mjs', import.meta.url), 'utf8'), /export \* from '\.\/nats\.cjs'/);
  assert.ok(pkg.peerDependenciesMeta['@nats-io/transport-node'].optional && pkg.peerDependenciesMeta['@nats-io/jetstream'].optional);
  assert.ok(existsSync(new URL('../dist/types/nats/index.d.ts', import.meta.url)));
});

test('export conditions point at files the build wrote, and the types declare the API', () => {
  const targets = new Set<string>();
  const walk = (v: unknown) => { if (typeof v === 'string') targets.add(v); else if (v && typeof v === 'object') Object.values(v).forEach(walk); };
  walk(pkg.exports);
  for (const t of targets) assert.ok(existsSync(new URL(`../${t}`, import.meta.url)), `${t} is missing`);
  for (const cond of ['types', 'workerd', 'browser', 'deno', 'bun', 'node', 'default']) assert.ok(cond in pkg.exports['.'], `no '${cond}' condition`);
  // index.d.ts names or re-exports (export * from './errors.js') each; the declarations are in the folder and its subfolders
  const dir = new URL('../dist/types/', import.meta.url);
  const dts = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.d.ts')).map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
  assert.match(readFileSync(new URL('index.d.ts', dir), 'utf8'), /export \* from '\.\/errors\.js'/);
  for (const name of ['RingKernelRuntime', 'ringKernel', 'message', 'decodeMessage', 't', 'BackpressureStrategy', 'KernelState', 'KernelFailedError', 'BackendNotAvailableError', 'RestartPolicyError', 'CheckpointError'])
    assert.match(dts, new RegExp(`(class|function|const|type) ${name}\\b`), `the types do not declare ${name}`);
  assert.match(readFileSync(new URL('../dist/workerd.js', import.meta.url), 'utf8'), /from "\.\/ringkernel-single\.wasm"/);
});

test.run();
