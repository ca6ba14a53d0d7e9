// build.mjs — compiles the AssemblyScript core (asc) and bundles the TypeScript facade
// (esbuild) into dist/. `node build.mjs` is all the build there is.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';

import { fileURLToPath } from 'node:url';
const here = fileURLToPath(new URL('.', import.meta.url));
process.chdir(here);
mkdirSync('dist', { recursive: true });

// 1. the wasm core, twice: over a shared memory (threads) and over an ordinary one (where
//    SharedArrayBuffer is missing). Same source, same exports.
for (const target of ['release', 'single'])
  execFileSync(process.execPath, ['node_modules/assemblyscript/bin/asc.js', '--config', 'asconfig.json', '--target', target],
    { stdio: 'inherit' });

// 2. the facade: one ESM bundle per entry; the wasm file sits beside it. The bundles are not
//    minified, so stack traces read as the source does; their maps (dist/*.map, for work on
//    ringkernel itself) are not shipped and not linked from the bundles (package.json files).
// The small single-memory core is embedded (base64) too, so decoding can compile it
// synchronously right after import (js/core/core.ts compileCoreSync); workerd imports it instead.
const coreSingle = JSON.stringify(readFileSync('dist/ringkernel-single.wasm').toString('base64'));
const common = { bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', sourcemap: 'external', logLevel: 'warning',
  define: { __RINGKERNEL_CORE_SINGLE__: coreSingle } };
await build({ ...common, entryPoints: ['js/index.ts'], outdir: 'dist', external: ['node:*', 'webgpu', 'tsx/esm/api'] });
// workerd: the same facade, importing the core as a wasm module (workerd compiles no bytes)
await build({ ...common, entryPoints: ['js/workerd.ts'], outdir: 'dist', external: ['node:*', 'webgpu', 'tsx/esm/api', '*.wasm'],
  define: { __RINGKERNEL_CORE_SINGLE__: 'undefined' } });
// CommonJS for require(): the same facade; import.meta.url becomes this file's URL
await build({ ...common, format: 'cjs', platform: 'node', entryPoints: ['js/index.ts'], outfile: 'dist/index.cjs',
  external: ['node:*', 'webgpu', 'tsx/esm/api'], define: { ...common.define, 'import.meta.url': '__ringkernelModuleUrl' },
  banner: { js: "const __ringkernelModuleUrl = require('node:url').pathToFileURL(__filename).href;" } });
// Node runs one copy of the facade, the CommonJS one, for require() and import alike
// (dist/node.mjs re-exports it): two copies would keep two registries of kernels and message
// classes, so a kernel defined through one would be unknown to the other (a worker's host,
// say), and `instanceof` would fail across them. Node 20 cannot require() an ES module, so
// the shared copy is the CommonJS one.
writeFileSync('dist/node.mjs', "// Node's ES module entry: the same copy of ringkernel as require('ringkernel').\nexport * from './index.cjs';\n");
// the pool worker's entry imports the facade bundle itself, so that the kernel modules it
// imports (`import ... from 'ringkernel'`) register where its host looks them up: in Node the
// CommonJS copy (worker.cjs), elsewhere the ES module one (worker.js; the source imports
// '../index.js', the bundle sits beside dist/index.js)
const facadeBeside = { name: 'facade-beside', setup(b) { b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.js', external: true })); } };
await build({ ...common, entryPoints: [{ in: 'js/worker/entry.ts', out: 'worker' }], outdir: 'dist', plugins: [facadeBeside] });
writeFileSync('dist/worker.cjs', "// A pool worker in Node: the host of the one copy of ringkernel Node runs (dist/node.mjs).\nrequire('./index.cjs').__startWorkerHost();\n");
// ringkernel/nats: its own entry over the facade bundle beside it, so it shares that one
// copy's classes (the ES module one; in Node the CommonJS one, for import too: nats.mjs);
// the NATS client packages stay external (optional peers), the core bundles never import them
const natsExternal = ['@nats-io/*'];
await build({ ...common, entryPoints: [{ in: 'js/nats/index.ts', out: 'nats' }], outdir: 'dist', plugins: [facadeBeside], external: natsExternal });
const facadeBesideCjs = { name: 'facade-beside-cjs', setup(b) { b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.cjs', external: true })); } };
await build({ ...common, format: 'cjs', platform: 'node', entryPoints: ['js/nats/index.ts'], outfile: 'dist/nats.cjs', plugins: [facadeBesideCjs], external: natsExternal });
writeFileSync('dist/nats.mjs', "// Node's ES module entry of ringkernel/nats: over the same copy of ringkernel as dist/node.mjs.\nexport * from './nats.cjs';\n");

// ringkernel/dashboard: the page's script first (one IIFE), inlined into the server so the
// page fetches nothing; the dashboard shares the facade's classes (errors) through ./index
const page = await build({ ...common, platform: 'browser', format: 'iife', entryPoints: ['js/dashboard/page.ts'], write: false, minify: true, sourcemap: false });
const dashboard = (facade) => ({ ...common, external: ['node:*'], define: { __RINGKERNEL_DASHBOARD_PAGE__: JSON.stringify(page.outputFiles[0].text) },
  plugins: [{ name: 'facade', setup: (b) => b.onResolve({ filter: /^\.\.\/errors\.js$/ }, () => ({ path: facade, external: true })) }] });
await build({ ...dashboard('./index.js'), entryPoints: { dashboard: 'js/dashboard/index.ts' }, outdir: 'dist' });
await build({ ...dashboard('./index.cjs'), format: 'cjs', platform: 'node', entryPoints: ['js/dashboard/index.ts'], outfile: 'dist/dashboard.cjs' });
// in Node, import shares the one CommonJS copy of the facade too (see dist/node.mjs)
writeFileSync('dist/dashboard-node.mjs', "// Node's ES module entry of ringkernel/dashboard: over the same copy of ringkernel as dist/node.mjs.\nexport * from './dashboard.cjs';\n");

// 3. type declarations, from the same sources
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

const gz = (f) => gzipSync(readFileSync(f)).length;
const size = (f) => `${(statSync(f).size / 1024).toFixed(1)} KiB (${(gz(f) / 1024).toFixed(1)} KiB gzipped)`;
console.log(`wasm core  dist/ringkernel.wasm  ${size('dist/ringkernel.wasm')}`);
console.log(`facade     dist/index.js         ${size('dist/index.js')}`);
console.log(`           dist/index.cjs        ${size('dist/index.cjs')}`);
console.log(`dashboard  dist/dashboard.js     ${size('dist/dashboard.js')}`);
