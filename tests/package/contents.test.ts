// What `npm pack` ships and what an install pulls in, and the first calls a user makes on
// the installed package: decoding right after import, from ESM and from CommonJS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { files, npm, project, repo, run } from './project.js';

const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

test('the tarball holds what users need: bundles, wasm, types, shaders, LICENSE; no specs, sources, .wat or maps', () => {
  const packed: string[] = JSON.parse(npm(['pack', '--dry-run', '--json']))[0].files.map((f: { path: string }) => f.path);
  for (const need of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/node.mjs', 'dist/worker.js', 'dist/worker.cjs',
    'dist/workerd.js', 'dist/ringkernel.wasm', 'dist/ringkernel-single.wasm', 'dist/types/index.d.ts', 'shaders/handler.wgsl'])
    assert.ok(packed.includes(need), `${need} is not in the tarball`);
  const unwanted = packed.filter((f) => /\.(map|wat)$|__tests__|\.spec\.ts$|^assembly\/|^js\/|^tests\/|^bench\//.test(f));
  assert.equal(unwanted, [], 'files users do not need');
  assert.match(readFileSync(join(repo, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.is(pkg.license, 'MIT');
  // a bundle that names a map the tarball lacks makes bundlers and debuggers warn
  for (const f of ['dist/index.js', 'dist/index.cjs', 'dist/workerd.js'])
    assert.not.match(readFileSync(join(repo, f), 'utf8'), /sourceMappingURL/, `${f} links a source map`);
});

test('webgpu is an optional peer (and a devDependency for the tests), not installed with ringkernel', () => {
  assert.is(pkg.dependencies?.webgpu, undefined);
  assert.is(pkg.optionalDependencies?.webgpu, undefined);
  assert.is(pkg.peerDependencies?.webgpu, pkg.devDependencies?.webgpu);
  assert.ok(pkg.peerDependenciesMeta?.webgpu?.optional, 'webgpu peer is not optional');
});

test('decodeMessage and Class.decode work right after import, from ESM and from CommonJS', () => {
  const body = `const M = message('PkgDecode', { x: t.f64, s: t.string, v: t.array(t.i32) });
const bytes = M.encode(new M({ x: 1.5, s: 'hé', v: [1, -2] }));
const a = decodeMessage(bytes), b = M.decode(bytes);
let bad; try { M.decode(bytes.subarray(0, 60)); } catch (e) { bad = e; }
console.log(a.x, a.s, b.v.join(','), bad instanceof MessageDecodeError);`;
  files({
    'decode/esm.mjs': `import { message, t, decodeMessage, MessageDecodeError } from 'ringkernel';\n${body}\n`,
    'decode/cjs.cjs': `const { message, t, decodeMessage, MessageDecodeError } = require('ringkernel');\n${body}\n`,
  });
  for (const file of ['decode/esm.mjs', 'decode/cjs.cjs']) {
    const r = run('node', [file]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '1.5 hé 1,-2 true', file);
  }
});

test('a GPU kernel launch prints none of Dawn\'s warnings that carry build-machine paths', () => {
  files({
    'gpu/main.mjs': `import { RingKernelRuntime, ringKernel, message, t, gpuAdapterName } from 'ringkernel';
const V = message('PkgGpuVec', { values: t.array(t.f32, 4) });
const M = message('PkgGpuMean', { mean: t.f32 });
ringKernel({ kernelId: 'pkg_gpu', placement: 'gpu', input: V, output: M,
  wgsl: 'fn handle(m: PkgGpuVec) -> PkgGpuMean { return PkgGpuMean((m.values[0] + m.values[1] + m.values[2] + m.values[3]) / 4.0); }' });
if (!(await gpuAdapterName())) { console.log('no adapter'); process.exit(0); }
const rt = new RingKernelRuntime();
await rt.launch('pkg_gpu'); await rt.activate('pkg_gpu');
await rt.send('pkg_gpu', new V({ values: [1, 2, 3, 6] }));
console.log((await rt.receive('pkg_gpu', { timeout: 10000 })).mean);
await rt.shutdown();
`,
  });
  const r = run('node', ['gpu/main.mjs'], { timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  if (r.stdout === 'no adapter') { console.log('  (no WebGPU adapter here: the launch itself is not exercised)'); }
  else assert.is(r.stdout, '3');
  assert.not.match(r.stderr, /\/home\/runner|third_party\/dawn|\.cpp:\d+/, 'Dawn printed build-machine paths');
  // asked for, Dawn says what it says
  const loud = run('node', ['gpu/main.mjs'], { timeout: 60_000, env: { RINGKERNEL_GPU_VERBOSE: '1' } });
  assert.is(loud.status, 0, loud.stderr);
  if (loud.stdout !== 'no adapter') assert.match(loud.stderr, /Warning|adapter/i, 'RINGKERNEL_GPU_VERBOSE=1 printed nothing of Dawn\'s');
});

project();
test.run();
