// A workerd fetch handler that runs the seed pipeline inline and answers with the checks.
import { RingKernelRuntime, ringKernel, message, t, canShareMemory, whyNoSharedMemory, BackendNotAvailableError, decodeMessage } from '../../dist/workerd.js';
import { supervisionChecks } from '../runtimes/supervision-check.mjs';

const RawData = message('RawData', { values: t.array(t.f64) });
const PreprocessedData = message('PreprocessedData', { normalized: t.array(t.f64) });
const ComputeResult = message('ComputeResult', { result: t.f64 });
const Vec = message('WdVec', { v: t.f64 });

ringKernel({ kernelId: 'preprocess', input: RawData, output: PreprocessedData }, async (ctx) => {
  for await (const raw of ctx) {
    const min = Math.min(...raw.values), max = Math.max(...raw.values);
    await ctx.send(new PreprocessedData({ normalized: raw.values.map((v) => (v - min) / (max - min)), correlationId: raw.messageId }));
  }
});
ringKernel({ kernelId: 'compute', input: PreprocessedData, output: ComputeResult }, async (ctx) => {
  for await (const d of ctx) await ctx.send(new ComputeResult({ result: d.normalized.reduce((a, b) => a + b, 0) / d.normalized.length }));
});
const Num = message('SupNum', { n: t.f64 });
ringKernel({ kernelId: 'resilient', input: Num, output: Num, restart: { maxRestarts: 5, withinMs: 60_000 } }, async (ctx) => {
  for await (const m of ctx) {
    if (m.n < 0) throw new RangeError(`poison ${m.n}`);
    await ctx.send(new Num({ n: m.n * 10 }));
  }
});
const Item = message('WdItem', { n: t.i32 });
ringKernel({ kernelId: 'narrow', input: Item, output: Item, queueSize: 4 }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
ringKernel({ kernelId: 'wide', input: Item, output: Item, queueSize: 20_000 }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
// (workerd gives modules no import.meta.url; the module is never loaded: the launch is refused)
ringKernel({ kernelId: 'on_worker', placement: 'worker', module: 'tests/workerd/worker.mjs', input: Vec }, async () => {});

// Untrusted bytes decode right after import, at global scope (no `await ready`). workerd
// allows no random numbers there, so the message gets its id from here.
const decodedAtImport = (() => {
  try {
    const bytes = RawData.encode(new RawData({ values: [1, 2], messageId: '00112233-4455-6677-8899-aabbccddeeff' }), { timestamp: 1 });
    const m = RawData.decode(bytes);
    return decodeMessage(bytes).values.join(',') === '1,2' && m.messageId === '00112233-4455-6677-8899-aabbccddeeff' ? null : 'decoded wrong values';
  } catch (e) { return `${e.name}: ${e.message}`; }
})();

export default {
  async fetch() {
    const lines = [];
    let passed = 0, failed = 0;
    const check = (name, ok, detail = '') => { if (ok) passed++; else failed++; lines.push(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`); };
    check('decodeMessage and Class.decode work right after import, without await ready', decodedAtImport === null, decodedAtImport ?? '');
    try {
      const rt = new RingKernelRuntime();
      await rt.launch('preprocess');
      await rt.launch('compute');
      rt.connect('preprocess', 'compute');
      await rt.activate('preprocess');
      await rt.activate('compute');
      await rt.send('preprocess', new RawData({ values: [1, 2, 3, 4, 5] }));
      const r = await rt.receive('compute', { timeout: 5000 });
      check('preprocess -> compute inline: mean of [1..5] normalized is 0.5', r.result === 0.5, `got ${r.result}`);
      const n = 300;
      for (let i = 0; i < n; i++) await rt.send('preprocess', new RawData({ values: [0, i, 2 * i + 1] }));
      let right = 0;
      for (let i = 0; i < n; i++) if (Math.abs((await rt.receive('compute', { timeout: 5000 })).result - (1 + i / (2 * i + 1)) / 3) < 1e-12) right++;
      check(`${n} messages through the pipeline, each right and in order`, right === n, `${right} of ${n}`);
      check('no shared memory here, and it says why', !canShareMemory() && /workerd/.test(whyNoSharedMemory() ?? ''), whyNoSharedMemory() ?? '');
      const e = await rt.launch('on_worker').then(() => null, (x) => x);
      check('a worker kernel is refused with BackendNotAvailableError', e instanceof BackendNotAvailableError, String(e?.message));
      // a batch bigger than its queue waits in the core's memory; launching a kernel with large
      // queues meanwhile grows that memory, and an ordinary memory's old views then read nothing
      await rt.launch('narrow'); // not active: 4 go in, the rest waits
      const batch = Array.from({ length: 3000 }, (_, n) => new Item({ n }));
      const sending = rt.sendMany('narrow', batch);
      for (const m of batch) m.n = -1;
      await rt.launch('wide');
      await rt.activate('narrow');
      const got = [];
      while (got.length < batch.length) for (const m of await rt.receiveMany('narrow', { timeout: 5000 })) got.push(m.n);
      await sending;
      check('a sendMany bigger than its queue, waiting while the memory grows, arrives whole, in order, as sent', got.length === 3000 && got.every((n, i) => n === i),
        `${got.length} arrived; first wrong at ${got.findIndex((n, i) => n !== i)}`);
      await supervisionChecks(check, rt, 'resilient', Num);
      await rt.shutdown();
    } catch (e) {
      check('no unexpected error', false, e?.stack ?? String(e));
    }
    return new Response(JSON.stringify({ passed, failed, lines }), { headers: { 'content-type': 'application/json' } });
  },
};
