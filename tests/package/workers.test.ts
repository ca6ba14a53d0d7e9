// Worker kernels as a user meets them through the installed package: from CommonJS, from
// TypeScript under tsx (`node --import tsx`, and the tsx CLI), and a script that never calls
// shutdown(), which must still end once its kernels are idle, without losing a message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, files, project, run } from './project.js';

const doubler = (load: string, module: string, id: string) => `${load}
const In = message('${id}In', { x: t.f64 });
const Out = message('${id}Out', { y: t.f64 });
ringKernel({ kernelId: '${id}', placement: 'worker', module: ${module}, input: In, output: Out }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new Out({ y: m.x * 2, correlationId: m.messageId }));
});
`;

test("require('ringkernel') with a worker kernel defined in a .cjs module, end to end", () => {
  files({
    'cjs/kernels.cjs': doubler("const { ringKernel, message, t } = require('ringkernel');", "require('node:url').pathToFileURL(__filename).href", 'cjsDouble')
      + 'module.exports = { In };\n',
    'cjs/main.cjs': `const { RingKernelRuntime, Message } = require('ringkernel');
const { In } = require('./kernels.cjs');
(async () => {
  const rt = new RingKernelRuntime({ workers: 1 });
  await rt.launch('cjsDouble'); await rt.activate('cjsDouble');
  const m = new In({ x: 21 });
  await rt.send('cjsDouble', m);
  const r = await rt.receive('cjsDouble', { timeout: 5000 });
  console.log(r.y, r.correlationId === m.messageId, r instanceof Message, rt.workerOf('cjsDouble'));
  await rt.shutdown();
})().catch((e) => { console.error(e); process.exit(1); });
`,
  });
  const r = run('node', ['cjs/main.cjs']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '42 true true 0');
});

test('import and require in one process share one copy: kernels, message classes and errors', () => {
  files({
    'mixed/kernels.cjs': doubler("const { ringKernel, message, t } = require('ringkernel');", "require('node:url').pathToFileURL(__filename).href", 'mixDouble')
      + 'module.exports = { In };\n',
    'mixed/main.mjs': `import { RingKernelRuntime, Message, QueueTimeoutError, definedKernelIds } from 'ringkernel';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { In } = require('./kernels.cjs');
const cjs = require('ringkernel');
const rt = new RingKernelRuntime({ workers: 1 });
await rt.launch('mixDouble'); await rt.activate('mixDouble');
await rt.send('mixDouble', new In({ x: 1.5 }));
const r = await rt.receive('mixDouble', { timeout: 5000 });
const e = await rt.receive('mixDouble', { timeout: 5 }).catch((x) => x);
console.log(r.y, r instanceof Message, cjs.RingKernelRuntime === RingKernelRuntime, e instanceof cjs.QueueTimeoutError && e instanceof QueueTimeoutError, definedKernelIds().includes('mixDouble'));
await rt.shutdown();
`,
  });
  const r = run('node', ['mixed/main.mjs']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '3 true true true true');
});

const tsMain = (id: string) => `import { RingKernelRuntime } from 'ringkernel';
import { In } from './kernels.ts';
const rt = new RingKernelRuntime({ workers: 1 });
await rt.launch('${id}'); await rt.activate('${id}');
await rt.send('${id}', new In({ x: 4 }));
const r = await rt.receive('${id}', { timeout: 5000 });
console.log(r.y satisfies number, rt.workerOf('${id}'));
await rt.shutdown();
`;

test('a worker kernel written in TypeScript loads under node --import tsx', () => {
  files({
    'tsimport/kernels.ts': doubler("import { ringKernel, message, t } from 'ringkernel';", 'import.meta.url', 'tsImportDouble') + 'export { In };\n',
    'tsimport/main.ts': tsMain('tsImportDouble'),
  });
  const r = run('node', ['--import', 'tsx', 'tsimport/main.ts']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '8 0');
});

test('a worker kernel written in TypeScript loads under the tsx CLI (npx tsx)', () => {
  files({
    'tscli/kernels.ts': doubler("import { ringKernel, message, t } from 'ringkernel';", 'import.meta.url', 'tsCliDouble') + 'export { In };\n',
    'tscli/main.ts': tsMain('tsCliDouble'),
  });
  const r = run('node', [bin('tsx'), 'tscli/main.ts']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '8 0');
});

test('a script that forgets shutdown() ends once its worker kernels are idle', () => {
  files({
    'forget/kernels.mjs': doubler("import { ringKernel, message, t } from 'ringkernel';", 'import.meta.url', 'forgetDouble') + 'export { In };\n',
    'forget/main.mjs': `import { RingKernelRuntime } from 'ringkernel';
import { In } from './kernels.mjs';
const rt = new RingKernelRuntime({ workers: 2 });
await rt.launch('forgetDouble'); await rt.activate('forgetDouble');
await rt.send('forgetDouble', new In({ x: 5 }));
console.log((await rt.receive('forgetDouble', { timeout: 5000 })).y);
`,
  });
  const r = run('node', ['forget/main.mjs'], { timeout: 15_000 });
  assert.is(r.signal, null, `the process did not end by itself (${r.ms} ms)`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '10');
});

test('without shutdown() and without a receive, messages sent to a worker kernel are still handled before the process ends', () => {
  const out = join(project(), 'forget-side', 'seen.txt');
  files({
    'forget-side/kernels.mjs': `import { ringKernel, message, t } from 'ringkernel';
import { appendFileSync } from 'node:fs';
export const Job = message('SideJob', { n: t.i32 });
ringKernel({ kernelId: 'sideEffect', placement: 'worker', module: import.meta.url, input: Job }, async (ctx) => {
  for await (const m of ctx) {
    await new Promise((r) => setTimeout(r, 20)); // work that takes a while, off the main thread
    appendFileSync(${JSON.stringify(out)}, m.n + '\\n');
  }
});
`,
    'forget-side/main.mjs': `import { RingKernelRuntime } from 'ringkernel';
import { Job } from './kernels.mjs';
const rt = new RingKernelRuntime({ workers: 1 });
await rt.launch('sideEffect'); await rt.activate('sideEffect');
for (let n = 0; n < 20; n++) await rt.send('sideEffect', new Job({ n }));
`,
  });
  const r = run('node', ['forget-side/main.mjs'], { timeout: 15_000 });
  assert.is(r.signal, null, `the process did not end by itself (${r.ms} ms)`);
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(out), 'the kernel handled nothing');
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').map(Number), Array.from({ length: 20 }, (_, i) => i));
});

test('without shutdown(), a message an inline kernel passes on to a worker kernel (connect) is still handled before the process ends', () => {
  const out = join(project(), 'forget-route', 'seen.txt');
  files({
    'forget-route/kernels.mjs': `import { ringKernel, message, t } from 'ringkernel';
import { appendFileSync } from 'node:fs';
export const Job = message('RouteJob', { n: t.i32 });
ringKernel({ kernelId: 'routeFront', input: Job, output: Job }, async (ctx) => {
  for await (const m of ctx) { await new Promise((r) => setTimeout(r, 5)); await ctx.send(new Job({ n: m.n * 10 })); }
});
ringKernel({ kernelId: 'routeBack', placement: 'worker', module: import.meta.url, input: Job }, async (ctx) => {
  for await (const m of ctx) { await new Promise((r) => setTimeout(r, 20)); appendFileSync(${JSON.stringify(out)}, m.n + '\\n'); }
});
`,
    'forget-route/main.mjs': `import { RingKernelRuntime } from 'ringkernel';
import { Job } from './kernels.mjs';
const rt = new RingKernelRuntime({ workers: 1 });
await rt.launch('routeFront'); await rt.launch('routeBack');
rt.connect('routeFront', 'routeBack');
await rt.activate('routeFront'); await rt.activate('routeBack');
for (let n = 1; n <= 5; n++) await rt.send('routeFront', new Job({ n }));
`,
  });
  const r = run('node', ['forget-route/main.mjs'], { timeout: 15_000 });
  assert.is(r.signal, null, `the process did not end by itself (${r.ms} ms)`);
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(out), 'the worker kernel handled nothing');
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').map(Number), [10, 20, 30, 40, 50]);
});

test.run();
