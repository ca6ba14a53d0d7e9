// bench/inline-parts.mts — the parts of one streaming message of bench/inline.mjs (b),
// each timed alone and hot: what the per-message work costs before any scheduling,
// telemetry or clock reads, hence the most any design that gives each side its own
// message object could stream here.   node --import tsx bench/inline-parts.mts
import { message, t, createCore, Ring, Strategy } from '../js/index.js';
import { encodeInto } from '../js/message/encode.js';
import { decodeFrom } from '../js/message/decode.js';
import { mustYield } from '../js/kernel/pace.js';

const Floats = message('PartsFloats', { values: t.array(t.f64) });
const Sum = message('PartsSum', { sum: t.f64 });
const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/** ns per call of fn, the best of 7 loops of n calls. */
function time(fn: () => unknown, n = 300_000): number {
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
  }
  return best;
}

const buf = new Uint8Array(4096);
const dv = new DataView(buf.buffer);
const floats = new Floats({ values });
const sum = new Sum({ sum: 55 });
const floatsLen = encodeInto(floats, buf, dv, 0, 2048, 0);
const sumLen = encodeInto(sum, buf, dv, 2048, 4096, 0);
const core = await createCore();
const ring = Ring.create(core, { capacity: 4096, maxRecord: 1024, strategy: Strategy.BLOCK });
const resolved = Promise.resolve();
async function awaits(n: number): Promise<void> { for (let i = 0; i < n; i++) await resolved; }
let awaitNs = Infinity;
for (let r = 0; r < 7; r++) {
  const t0 = performance.now();
  await awaits(300_000);
  awaitNs = Math.min(awaitNs, ((performance.now() - t0) * 1e6) / 300_000);
}

// one streaming message: the host makes and encodes a Floats, the kernel decodes it, makes
// and encodes a Sum, the host decodes that; two push+pop pairs; three awaits
const parts: Array<[string, number, number]> = [
  ['make a Floats (10 f64)', 1, time(() => new Floats({ values }))],
  ['make a Sum', 1, time(() => new Sum({ sum: 55 }))],
  ['encode the Floats', 1, time(() => encodeInto(floats, buf, dv, 0, 2048, 0))],
  ['encode the Sum', 1, time(() => encodeInto(sum, buf, dv, 2048, 4096, 0))],
  ['decode the Floats', 1, time(() => decodeFrom(buf, dv, 0, floatsLen))],
  ['decode the Sum', 1, time(() => decodeFrom(buf, dv, 2048, sumLen))],
  ['ring push + pop, staged', 2, time(() => { ring.pushStaged(floatsLen); ring.popStaged(); })],
  ['await of a settled promise', 3, awaitNs],
  // js/kernel/pace.ts: the look every send and receive takes at whether the thread must yield
  ['pace check (mustYield)', 4, time(() => mustYield())],
];
let total = 0;
console.log('inline streaming, the parts of one message, each alone and hot (this machine, one run)');
for (const [what, times, ns] of parts) {
  total += times * ns;
  console.log(`  ${what.padEnd(30)} ${String(times)} x ${ns.toFixed(0).padStart(4)} ns`);
}
console.log(`  sum ${total.toFixed(0)} ns a message: at most ${Math.round(1e9 / total).toLocaleString('en-US')} msg/s before scheduling, telemetry and clock reads (target 1,500,000)`);
