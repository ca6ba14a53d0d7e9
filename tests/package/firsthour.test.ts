// A PyDotCompute user's first hour, through the installed package in fresh processes: a
// `timestamp` field, the README's receive loop ending on terminate, wrong classes on every
// placement, and seconds by habit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { files, repo, run } from './project.js';

test('a message may have a field called timestamp (PyDotCompute streaming_pipeline.py); sentAt reads the send time', () => {
  const body = `const Reading = message('Reading', { sensor_id: t.string, value: t.f64, timestamp: t.f64 });
const r = new Reading({ sensor_id: 's1', value: 2.5, timestamp: 1700000000.25 });
const back = Reading.decode(Reading.encode(r, { timestamp: 42 }));
console.log(r.timestamp, back.timestamp, sentAt(back), Number.isNaN(sentAt(r)), JSON.stringify(back.toJSON()).includes('"timestamp":1700000000.25'));`;
  files({
    'ts-field/esm.mjs': `import { message, t, sentAt } from 'ringkernel';\n${body}\n`,
    'ts-field/cjs.cjs': `const { message, t, sentAt } = require('ringkernel');\n${body}\n`,
  });
  for (const f of ['ts-field/esm.mjs', 'ts-field/cjs.cjs']) {
    const r = run('node', [f]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '1700000000.25 1700000000.25 42 true true', f);
  }
});

const loopKernel = (placement: string) => `
const In = message('LoopIn_${placement}', { n: t.i32 });
const Out = message('LoopOut_${placement}', { n: t.i32 });
ringKernel({ kernelId: 'loop_${placement}', placement: '${placement}', module: import.meta.url, input: In, output: Out }, async (ctx) => {
  let handled = 0;
  while (!ctx.shouldTerminate) {
    if (!ctx.isActive) { await ctx.waitActive(); continue; }
    let m;
    try { m = await ctx.receive({ timeout: 100 }); }
    catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    handled++;
    await ctx.send(new Out({ n: m.n }));
  }
  await ctx.send(new Out({ n: -handled }));   // the code after the loop: clean-up, a last word
});
export { In, Out };
`;

test("the README's loop (catch QueueTimeoutError, rethrow the rest) ends cleanly on terminate and runs the code after it, inline and on a worker", () => {
  for (const placement of ['inline', 'worker']) {
    files({
      [`loop/${placement}-kernels.mjs`]: `import { ringKernel, message, t, QueueTimeoutError } from 'ringkernel';\n${loopKernel(placement)}`,
      [`loop/${placement}-main.mjs`]: `import { RingKernelRuntime } from 'ringkernel';
import { In } from './${placement}-kernels.mjs';
const rt = new RingKernelRuntime({ workers: 1 });
try {
  await rt.launch('loop_${placement}'); await rt.activate('loop_${placement}');
  await rt.send('loop_${placement}', new In({ n: 7 }));
  const first = await rt.receive('loop_${placement}', { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 50));     // the kernel now waits in receive({ timeout: 100 })
  const stop = rt.terminate('loop_${placement}');
  const last = await rt.receive('loop_${placement}', { timeout: 5000 });
  await stop;
  console.log(first.n, last.n, rt.getState('loop_${placement}'), rt.getTelemetry('loop_${placement}').errorCount);
} finally { await rt.shutdown(); }
`,
    });
    const r = run('node', [`loop/${placement}-main.mjs`]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '7 -1 terminated 0', placement);
  }
});

test('a message of the wrong class: MessageTypeError naming the kernel and both classes, on send and on a kernel\'s own send, inline and on a worker', () => {
  const kernels = (placement: string) => `import { ringKernel, message, t } from 'ringkernel';
export const A = message('WrongA', { n: t.i32 });
export const B = message('WrongB', { n: t.i32 });
export const C = message('WrongC', { n: t.i32 });
ringKernel({ kernelId: 'wrong_${placement}', placement: '${placement}', module: import.meta.url, input: A, output: B }, async (ctx) => {
  for await (const m of ctx) {
    try { await ctx.send(new C({ n: m.n })); } catch (e) { await ctx.send(new B({ n: e.constructor.name === 'MessageTypeError' && /wrong_${placement}/.test(e.message) && /WrongB/.test(e.message) && /WrongC/.test(e.message) ? 1 : 0 })); }
    await ctx.send(new C({ n: 2 }));   // uncaught: the kernel fails with it
  }
});
`;
  for (const placement of ['inline', 'worker']) {
    files({
      [`wrong/${placement}-kernels.mjs`]: kernels(placement),
      [`wrong/${placement}-main.mjs`]: `import { RingKernelRuntime, RingKernelError, MessageTypeError, KernelFailedError } from 'ringkernel';
import { A, C } from './${placement}-kernels.mjs';
const rt = new RingKernelRuntime({ workers: 1 });
try {
  await rt.launch('wrong_${placement}'); await rt.activate('wrong_${placement}');
  const e = await rt.send('wrong_${placement}', new C({ n: 1 })).catch((x) => x);
  const named = e instanceof MessageTypeError && e instanceof RingKernelError && e.kernelId === 'wrong_${placement}' && e.expected === 'WrongA' && e.actual === 'WrongC' && /WrongA/.test(e.message) && /WrongC/.test(e.message);
  await rt.send('wrong_${placement}', new A({ n: 1 }));
  const caught = await rt.receive('wrong_${placement}', { timeout: 5000 });
  const failed = await rt.receive('wrong_${placement}', { timeout: 5000 }).catch((x) => x);
  console.log(named, caught.n, failed instanceof KernelFailedError, /MessageTypeError/.test(failed.message), rt.getState('wrong_${placement}'));
} finally { await rt.shutdown(); }
`,
    });
    const r = run('node', [`wrong/${placement}-main.mjs`]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'true 1 true true failed', placement);
  }
});

test('a fractional timeout under 10 ms warns once per call site, naming the call; whole milliseconds do not', () => {
  files({
    'seconds/main.cjs': `const { RingKernelRuntime, ringKernel, message, t, QueueTimeoutError } = require('ringkernel');
const M = message('SecM', { n: t.i32 });
ringKernel({ kernelId: 'sec', input: M, output: M }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
(async () => {
  const rt = new RingKernelRuntime();
  await rt.launch('sec'); await rt.activate('sec');
  for (let i = 0; i < 3; i++) await rt.receive('sec', { timeout: 0.5 }).catch((e) => { if (!(e instanceof QueueTimeoutError)) throw e; });
  await rt.receive('sec', { timeout: 2 }).catch(() => {});
  await rt.receive('sec', { timeout: 1.5 }).catch(() => {});
  await rt.shutdown();
})();
`,
  });
  const r = run('node', ['seconds/main.cjs']);
  assert.is(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.includes('RingKernelWarning'));
  assert.is(warnings.length, 2, r.stderr);   // the loop's call site once, the 1.5 ms call once; none for 2
  assert.match(warnings[0]!, /runtime\.receive from kernel 'sec': timeout 0\.5 is milliseconds.*write 500.*main\.cjs:7/);
  assert.match(warnings[1]!, /timeout 1\.5 .*write 1500.*main\.cjs:9/);
});

test('PyDotCompute field shapes: defaults, tuples and Any (t.json) through a worker kernel, from CommonJS', () => {
  files({
    'shapes/kernels.cjs': `const { ringKernel, message, t } = require('ringkernel');
const Params = message('ShapeParams', { damping: t.default(t.f64, 0.85), edges: t.array(t.tuple(t.i32, t.i32)), extra: t.default(t.json, null) });
const StageResult = message('ShapeResult', { data: t.json, success: t.default(t.bool, true), stage: t.default(t.string, '') });
ringKernel({ kernelId: 'shapes', placement: 'worker', module: __filename, input: Params, output: StageResult }, async (ctx) => {
  for await (const p of ctx) await ctx.send(new StageResult({ data: { damping: p.damping, degree: p.edges.length, extra: p.extra }, stage: ctx.kernelId }));
});
module.exports = { Params };
`,
    'shapes/main.cjs': `const { RingKernelRuntime, ringKernel, undefineKernel, KernelAlreadyExistsError } = require('ringkernel');
const { Params } = require('./kernels.cjs');
(async () => {
  const rt = new RingKernelRuntime({ workers: 1 });
  try {
    await rt.launch('shapes'); await rt.activate('shapes');
    await rt.send('shapes', new Params({ edges: [[0, 1], [1, 2]], extra: { tags: ['a', 'b'], n: null } }));
    const r = await rt.receive('shapes', { timeout: 5000 });
    let twice; try { ringKernel({ kernelId: 'shapes' }, async () => {}); } catch (e) { twice = e; }
    undefineKernel('again'); ringKernel({ kernelId: 'again' }, async () => {}); undefineKernel('again'); ringKernel({ kernelId: 'again' }, async () => {});
    console.log(JSON.stringify(r.data), r.success, r.stage, twice instanceof KernelAlreadyExistsError && /undefineKernel\\('shapes'\\)/.test(twice.message));
  } finally { await rt.shutdown(); }
})().catch((e) => { console.error(e); process.exit(1); });
`,
  });
  const r = run('node', ['shapes/main.cjs']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '{"damping":0.85,"degree":2,"extra":{"tags":["a","b"],"n":null}} true shapes true');
});

test('wrong classes on the GPU placement (its JS fallback, as where no GPU is found): a send of another class, and a fallback that returns one', () => {
  files({
    'wrong-gpu/main.mjs': `import { RingKernelRuntime, ringKernel, message, t, MessageTypeError, KernelFailedError } from 'ringkernel';
const V = message('WgVec', { values: t.array(t.f32, 4) });
const M = message('WgMean', { mean: t.f32 });
const wgsl = 'fn handle(m: WgVec) -> WgMean { return WgMean(m.values[0]); }';
ringKernel({ kernelId: 'wrong_gpu', placement: 'gpu', input: V, output: M, wgsl }, (m) => (m.values[0] > 0 ? new M({ mean: 1 }) : new V({ values: [0, 0, 0, 0] })));
const rt = new RingKernelRuntime();
try {
  await rt.launch('wrong_gpu'); await rt.activate('wrong_gpu');
  const e = await rt.send('wrong_gpu', new M({ mean: 1 })).catch((x) => x);
  await rt.send('wrong_gpu', new V({ values: [1, 0, 0, 0] }));
  const ok = await rt.receive('wrong_gpu', { timeout: 5000 });
  await rt.send('wrong_gpu', new V({ values: [-1, 0, 0, 0] }));
  const failed = await rt.receive('wrong_gpu', { timeout: 5000 }).catch((x) => x);
  console.log(e instanceof MessageTypeError && e.expected === 'WgVec' && e.actual === 'WgMean', ok.mean,
    failed instanceof KernelFailedError && failed.cause instanceof MessageTypeError && /WgMean/.test(failed.message) && /WgVec/.test(failed.message));
} finally { await rt.shutdown(); }
`,
  });
  const r = run('node', ['wrong-gpu/main.mjs'], { env: { RINGKERNEL_GPU: 'none' } });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'true 1 true');
});

test("the README's quick start runs as it is: in a .mjs file on Node 20, and as TypeScript under tsx", () => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const start = readme.indexOf('## Quick start');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(start))![1]!;
  assert.match(code, /finally \{\s*await runtime\.shutdown\(\);/, 'the quick start shows try/finally');
  files({ 'readme/quickstart.mjs': code, 'readme/quickstart.ts': code });
  for (const args of [['readme/quickstart.mjs'], ['--import', 'tsx', 'readme/quickstart.ts']]) {
    const r = run('node', args);
    assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '0.5', args.join(' '));
  }
});

test.run();
