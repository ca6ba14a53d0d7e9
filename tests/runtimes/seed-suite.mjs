// The seed pipeline's checks, for any JavaScript runtime (Node, Deno, a browser page): the
// two stages inline, then on worker threads. `check(name, ok, detail)` records each result.
import { RingKernelRuntime, canShareMemory, whyNoSharedMemory, BackendNotAvailableError, decodeMessage } from '../../dist/index.js';
import { RawData, Num } from './seed-kernels.mjs';
import { supervisionChecks } from './supervision-check.mjs';

// Untrusted bytes decode right after import, before anything is awaited (no `await ready`):
// the core that validates them compiles synchronously. Null when it worked, else what failed.
const decodedAtImport = (() => {
  try {
    const m = decodeMessage(RawData.encode(new RawData({ values: [1, 2] })));
    const again = RawData.decode(RawData.encode(m));
    return again.values.join(',') === '1,2' ? null : `decoded ${again.values}`;
  } catch (e) { return `${e.name}: ${e.message}`; }
})();

async function pipeline(check, pre, comp, onWorkers, spinMicros = 0) {
  const rt = new RingKernelRuntime({ workers: 2, spinMicros });
  const tag = spinMicros ? ` (spinMicros ${spinMicros})` : '';
  try {
    await rt.launch(pre);
    await rt.launch(comp);
    const where = [rt.workerOf(pre), rt.workerOf(comp)];
    check(`${pre}, ${comp}${tag}: ${onWorkers ? 'each on its own worker thread' : 'inline'}`,
      onWorkers ? where[0] !== null && where[1] !== null && where[0] !== where[1] : where[0] === null && where[1] === null, `workers ${where}`);
    rt.connect(pre, comp);
    await rt.activate(pre);
    await rt.activate(comp);
    await rt.send(pre, new RawData({ values: [1, 2, 3, 4, 5] }));
    const first = await rt.receive(comp, { timeout: 5000 });
    check(`${pre} -> ${comp}${tag}: mean of [1..5] normalized is 0.5`, first.result === 0.5, `got ${first.result}`);
    const n = 500;
    for (let i = 0; i < n; i++) await rt.send(pre, new RawData({ values: [0, i, 2 * i + 1] }));
    let right = 0;
    for (let i = 0; i < n; i++) {
      const r = await rt.receive(comp, { timeout: 5000 });
      if (Math.abs(r.result - (1 + i / (2 * i + 1)) / 3) < 1e-12) right++;
    }
    check(`${pre} -> ${comp}${tag}: ${n} messages, each right and in order`, right === n, `${right} of ${n}`);
    check(`${pre}${tag}: telemetry counts them`, rt.getTelemetry(pre).messagesProcessed === n + 1, `${rt.getTelemetry(pre).messagesProcessed}`);
  } finally {
    await rt.shutdown({ timeout: 2000 });
  }
}

async function supervised(check, id) {
  const rt = new RingKernelRuntime({ workers: 1 });
  try { await supervisionChecks(check, rt, id, Num); } finally { await rt.shutdown({ timeout: 2000 }); }
}

/**
 * expectWorkers: true where threads can share memory (the seed runs on workers too); false
 * where they cannot (inline works; a worker kernel is refused, saying why).
 */
export async function runSeedChecks(check, expectWorkers) {
  check('decodeMessage and Class.decode work right after import, without await ready', decodedAtImport === null, decodedAtImport ?? '');
  try {
    await pipeline(check, 'preprocess', 'compute', false);
    await supervised(check, 'resilient');
    check(`shared memory is ${expectWorkers ? '' : 'not '}available`, canShareMemory() === expectWorkers, whyNoSharedMemory() ?? 'available');
    if (expectWorkers) {
      await pipeline(check, 'preprocess_w', 'compute_w', true);
      // threads that poll before sleeping (where there is no setImmediate, a MessageChannel task)
      await pipeline(check, 'preprocess_w', 'compute_w', true, 100);
      await supervised(check, 'resilient_w');
    }
    else {
      const rt = new RingKernelRuntime();
      const e = await rt.launch('preprocess_w').then(() => null, (x) => x);
      check('a worker kernel is refused with BackendNotAvailableError', e instanceof BackendNotAvailableError, String(e?.message));
      check('the refusal says why', /not cross-origin isolated/.test(String(e?.message)), String(e?.message));
      await rt.shutdown();
    }
  } catch (e) {
    check('no unexpected error', false, e?.stack ?? String(e));
  }
}
