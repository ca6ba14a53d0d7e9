// bench/costs.mjs — what one streaming message costs, counted rather than timed: bytes
// allocated, clock reads, promises made and calls into the wasm core, for one message
// sent to an inline kernel and its answer received (bench/inline.mjs's streaming case,
// n = 5000, after warm-up), and for one through two connected inline kernels (routed
// sends). docs/BENCHMARKS.md keeps the tables, before and after.
//   node bench/costs.mjs [path/to/dist]     (default: the package by name, 'ringkernel')
// The counting wrappers allocate themselves, so bytes are measured in a second process
// without them (the same script with --bytes --case=one|two).
import { createHook } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { allocatedDuring } from './alloc.mjs';

const bytesOnly = process.argv.includes('--bytes');
const distArg = process.argv.slice(2).find((a) => !a.startsWith('--'));
const counts = { clock: 0, promises: 0, core: 0 };
let counting = false;
if (!bytesOnly) instrument();

function instrument() {
// clock reads: performance.now and Date.now, wherever the facade reads them
const perfNow = performance.now.bind(performance), dateNow = Date.now;
performance.now = () => { if (counting) counts.clock++; return perfNow(); };
Date.now = () => { if (counting) counts.clock++; return dateNow(); };
// core calls: every export of every core instance, wrapped
const Instance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const inst = new Instance(module, imports);
  const x = {};
  for (const [k, v] of Object.entries(inst.exports)) x[k] = typeof v === 'function' ? (...a) => { if (counting) counts.core++; return v(...a); } : v;
  return { exports: x };
};
// promises: every one made (awaits included)
createHook({ init(_id, type) { if (counting && type === 'PROMISE') counts.promises++; } }).enable();
}

// the package as users import it by name (Node: its CommonJS build), or a dist folder given to compare
const dist = distArg ? new URL(distArg + '/index.js', new URL(import.meta.url)).href : 'ringkernel';
const { RingKernelRuntime, ringKernel, message, t } = await import(dist);
const Floats = message('CostFloats', { values: t.array(t.f64) });
const Sum = message('CostSum', { sum: t.f64 });
ringKernel({ kernelId: 'cost_sum', input: Floats, output: Sum, queueSize: 65536 }, async (ctx) => {
  for await (const m of ctx) {
    let s = 0;
    for (const v of m.values) s += v;
    await ctx.send(new Sum({ sum: s }));
  }
});
// the seed's two stages, connected: each answer names what it answers (a routed send per stage)
const Scaled = message('CostScaled', { values: t.array(t.f64) });
ringKernel({ kernelId: 'cost_scale', input: Floats, output: Scaled, queueSize: 65536 }, async (ctx) => {
  for await (const m of ctx) await ctx.send(new Scaled({ values: m.values.map((v) => v / 10), correlationId: m.messageId }));
});
ringKernel({ kernelId: 'cost_mean', input: Scaled, output: Sum, queueSize: 65536 }, async (ctx) => {
  for await (const m of ctx) {
    let s = 0;
    for (const v of m.values) s += v;
    await ctx.send(new Sum({ sum: s / m.values.length, correlationId: m.messageId }));
  }
});
const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const N = 5000;
const rt = new RingKernelRuntime();
for (const id of ['cost_sum', 'cost_scale', 'cost_mean']) await rt.launch(id);
rt.connect('cost_scale', 'cost_mean');
for (const id of ['cost_sum', 'cost_scale', 'cost_mean']) await rt.activate(id);
const CASES = {
  one: { title: 'one streaming message (sent, handled by an inline kernel, its answer received)', into: 'cost_sum', from: 'cost_sum' },
  two: { title: 'the same through two connected inline kernels (the seed\'s two stages)', into: 'cost_scale', from: 'cost_mean' },
};
const roundOf = ({ into, from }) => async () => {
  for (let i = 0; i < N; i++) await rt.send(into, new Floats({ values }));
  for (let i = 0; i < N; i++) await rt.receive(from);
};
const which = process.argv.find((a) => a.startsWith('--case='))?.slice(7);
if (bytesOnly) {
  const round = roundOf(CASES[which]);
  for (let i = 0; i < 20; i++) await round();
  const bytes = [];
  for (let i = 0; i < 5; i++) bytes.push(await allocatedDuring(round) / N);
  bytes.sort((a, b) => a - b);
  console.log(Math.round(bytes[2]));
  await rt.shutdown();
  process.exit(0);
}
const per = (k) => (counts[k] / N).toFixed(2);
for (const [name, c] of Object.entries(CASES)) {
  const round = roundOf(c);
  for (let i = 0; i < 20; i++) await round();
  counts.clock = counts.promises = counts.core = 0;
  counting = true;
  await round();
  counting = false;
  const bytes = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--bytes', `--case=${name}`, ...(distArg ? [distArg] : [])], { encoding: 'utf8' }).trim();
  console.log(`${c.title}, n = ${N}, ${distArg ?? "'ringkernel'"}`);
  console.log(`  bytes allocated (JS heap, median of 5)  ${bytes}`);
  console.log(`  clock reads                             ${per('clock')}`);
  console.log(`  promises made (awaits included)          ${per('promises')}`);
  console.log(`  calls into the wasm core                ${per('core')}`);
}
await rt.shutdown();
