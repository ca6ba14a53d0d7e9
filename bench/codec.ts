// Codec timings: encodeInto + decodeFrom (the ring path), encode/decode (validated, the
// public path) and construction, for a message of ten f64 values.
//   node --import tsx bench/codec.ts
import { message } from '../js/message/message.js';
import { encodeInto } from '../js/message/encode.js';
import { decodeFrom } from '../js/message/decode.js';
import { ready } from '../js/core/codec-core.js';
import { t } from '../js/message/schema.js';

await ready;
const cases = [
  { name: 't.array(t.f64)', C: message('BenchArray', { values: t.array(t.f64) }), init: () => ({ values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }) },
  { name: 't.array(t.f64, 10)', C: message('BenchFixed', { values: t.array(t.f64, 10) }), init: () => ({ values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }) },
  { name: 't.f64array', C: message('BenchTyped', { values: t.f64array }), init: () => ({ values: new Float64Array(10).fill(1.5) }) },
];
const u8 = new Uint8Array(1 << 16);
const dv = new DataView(u8.buffer);
const N = Number(process.env.N ?? 1_000_000);

function time(f: () => void, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t0) * 1e6) / n;
}

for (const { name, C, init } of cases) {
  const Cls = C as any;
  const m = new Cls(init());
  const len = encodeInto(m, u8, dv, 0, u8.length, 0);
  const bytes = Cls.encode(m);
  let sink: unknown;
  const rows: Record<string, number> = {};
  for (let round = 0; round < 3; round++) { // the last round, warm, is reported
    rows['encodeInto'] = time(() => { sink = encodeInto(m, u8, dv, 0, u8.length, 0); }, N);
    rows['decodeFrom'] = time(() => { sink = decodeFrom(u8, dv, 0, len); }, N);
    rows['encodeInto+decodeFrom'] = time(() => { sink = decodeFrom(u8, dv, 0, encodeInto(m, u8, dv, 0, u8.length, 0)); }, N);
    rows['encode() (new Uint8Array, timestamp)'] = time(() => { sink = Cls.encode(m); }, N / 4);
    rows['decode() (validated by the core)'] = time(() => { sink = Cls.decode(bytes); }, N / 4);
    rows['new (checked construction)'] = time(() => { sink = new Cls(init()); }, N / 4);
  }
  void sink;
  console.log(`\n${name}, ${len}-byte record`);
  for (const [k, v] of Object.entries(rows)) console.log(`  ${k.padEnd(40)} ${v.toFixed(0).padStart(6)} ns`);
}
