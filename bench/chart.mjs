// bench/chart.mjs — draws docs/benchmarks.svg from the benchmarks' JSON (bench/results/*.json):
// ringkernel beside its anchors, throughput bars on a log scale.
//   node bench/chart.mjs        (after npm run bench)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const read = (name) => {
  const f = new URL(`./results/${name}.json`, import.meta.url);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
};
const core = read('core'), inline = read('inline'), workers = read('workers'), gpu = read('gpu');

// [group, label, msg/s, is an anchor]
const rows = [];
if (core) rows.push(
  ['core ring, 64 B, cross-thread', 'ring, one call per message', core.crossThreadMsgPerSec, false],
  ['core ring, 64 B, cross-thread', 'ring, 64 records per call', core.crossThreadBatchedMsgPerSec, false],
  ['core ring, 64 B, cross-thread', 'postMessage', core.postMessageMsgPerSec, true]);
if (inline) rows.push(
  ['inline, streaming 10 floats, n = 5,000', 'ringkernel, one per call', inline.streaming['5000'], false],
  ['inline, streaming 10 floats, n = 5,000', 'ringkernel, batch API', inline.streamingBatched?.['5000'] ?? 0, false],
  ['inline, streaming 10 floats, n = 5,000', 'PyDotCompute 0.2 (recorded)', inline.anchor.pyDotCompute.streaming5000, true]);
if (workers) rows.push(
  ['two stages on two workers, end to end', 'ringkernel, one per call', workers.ringkernel, false],
  ['two stages on two workers, end to end', 'ringkernel, batch API', workers.ringkernelBatched ?? 0, false],
  ['two stages on two workers, end to end', 'postMessage / MessagePort', workers.postMessage, true],
  ['two stages on two workers, end to end', 'piscina', workers.piscina, true]);

if (gpu) rows.push(
  [`GPU kernel, 64K messages a batch (${gpu.adapter.split(' ')[0]})`, 'ringkernel, columns', gpu.columns['65536'] ?? 0, false],
  [`GPU kernel, 64K messages a batch (${gpu.adapter.split(' ')[0]})`, 'ringkernel, objects', gpu.objects['65536'] ?? 0, false],
  [`GPU kernel, 64K messages a batch (${gpu.adapter.split(' ')[0]})`, 'raw WebGPU', gpu.rawWebGpu['65536'] ?? 0, true]);

const W = 760, left = 250, barH = 18, gap = 6, groupGap = 28, top = 40;
const max = Math.max(...rows.map((r) => r[2]), 1), min = 1e3;
const x = (v) => left + (Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max * 1.5) - Math.log10(min)) * (W - left - 90);
let y = top, svg = '', group = '';
for (const [g, label, v, anchor] of rows) {
  if (g !== group) { y += group ? groupGap : 0; svg += `<text x="10" y="${y + 12}" font-weight="bold">${g}</text>`; y += 20; group = g; }
  svg += `<text x="${left - 8}" y="${y + 13}" text-anchor="end">${label}</text>`;
  svg += `<rect x="${left}" y="${y}" width="${Math.max(1, x(v) - left)}" height="${barH}" fill="${anchor ? '#9aa5b1' : '#2f6fb0'}"/>`;
  svg += `<text x="${x(v) + 6}" y="${y + 13}">${Math.round(v).toLocaleString('en-US')} msg/s</text>`;
  y += barH + gap;
}
const H = y + 30;
const out = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="14" font-weight="bold">ringkernel (blue) beside its anchors (grey): messages per second, log scale</text>
${svg}
<text x="10" y="${H - 10}" fill="#555">From bench/results/*.json (${[core, inline, workers, gpu].filter(Boolean).map((r) => r.date.slice(0, 10))[0] ?? ''}), one run on the project's 2-core VM.</text>
</svg>
`;
writeFileSync(new URL('../docs/benchmarks.svg', import.meta.url), out);
console.log(`docs/benchmarks.svg: ${rows.length} bars`);
