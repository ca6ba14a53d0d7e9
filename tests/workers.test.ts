// Worker placement: kernels in worker threads, wired to each other and to inline kernels
// over the shared rings.
import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import {
  RingKernelRuntime, ringKernel, KernelFailedError, KernelStateError, BackendNotAvailableError, QueueTimeoutError, message, t,
} from '../js/index.js';
import { WNum, WVec, WMean, wDouble } from './helpers/worker-kernels.js';
import { Hub, ADAPTIVE_SPIN_MICROS, ADAPTIVE_WINDOW_MS, ADAPTIVE_MISSES, ADAPTIVE_PROBE_EVERY } from '../js/core/hub.js';

const num = (n: number) => new WNum({ n, from: 'host' });

/** Waits until cond() holds, checking every 10 ms, for up to `ms` (then the test's assertions judge). */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = performance.now() + ms; !cond() && performance.now() < end;) await new Promise((r) => setTimeout(r, 10));
}

async function withRuntime(workers: number, fn: (rt: RingKernelRuntime) => Promise<void>): Promise<void> {
  const rt = new RingKernelRuntime({ workers });
  try { await fn(rt); } finally { await rt.shutdown({ timeout: 1000 }); }
}

test('a worker kernel runs with the same context API and answers the host', () => withRuntime(2, async (rt) => {
  await rt.launch('w_double');
  assert.is(rt.getState('w_double'), 'launched');
  assert.is(rt.workerOf('w_double'), 0);
  await rt.send('w_double', num(1));          // waits until activate
  await rt.activate('w_double');
  const r = await rt.receive('w_double', { timeout: 5000 });
  assert.is(r.n, 2);
  assert.is(r.from, 'w_double');             // ctx.kernelId is the launched id
  assert.instance(r, WNum);
}));

test('seed-style kernels on workers: preprocess -> mean, connected worker to worker', () => withRuntime(2, async (rt) => {
  await rt.launch('w_preprocess');
  await rt.launch('w_mean');
  assert.is.not(rt.workerOf('w_preprocess'), rt.workerOf('w_mean')); // n >= k: a thread each
  rt.connect('w_preprocess', 'w_mean');
  await rt.activate('w_preprocess');
  await rt.activate('w_mean');
  await rt.send('w_preprocess', new WVec({ values: [1, 2, 3, 4, 5] }));
  const r = await rt.receive('w_mean', { timeout: 5000 });
  assert.instance(r, WMean);
  assert.is(r.mean, 0.5);
}));

test('deactivate pauses a worker kernel; reactivate resumes it; telemetry counts', () => withRuntime(1, async (rt) => {
  await rt.launch('w_double');
  await rt.activate('w_double');
  await rt.deactivate('w_double');
  for (let i = 0; i < 5; i++) await rt.send('w_double', num(i));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(rt.getTelemetry('w_double')!.queueDepth, 5);   // nothing was taken while deactivated
  await rt.reactivate('w_double');
  for (let i = 0; i < 5; i++) assert.is((await rt.receive('w_double', { timeout: 5000 })).n, 2 * i);
  await rt.send('w_double', num(9));
  await rt.receive('w_double', { timeout: 5000 });
  assert.is(rt.getTelemetry('w_double')!.messagesProcessed, 6);
}));

test('several kernels share a worker when there are more kernels than threads', () => withRuntime(1, async (rt) => {
  await rt.launch('w_double');
  await rt.launch('w_inc');
  assert.is(rt.workerOf('w_double'), 0);
  assert.is(rt.workerOf('w_inc'), 0);
  rt.connect('w_double', 'w_inc');
  await rt.activate('w_double');
  await rt.activate('w_inc');
  for (let i = 0; i < 100; i++) await rt.send('w_double', num(i));
  for (let i = 0; i < 100; i++) assert.is((await rt.receive('w_inc', { timeout: 5000 })).n, 2 * i + 1);
}));

test('inline -> worker -> worker -> inline, with no host hop between kernels', () => withRuntime(2, async (rt) => {
  const Seen = message('WSeen', { n: t.f64, from: t.string });
  ringKernel({ kernelId: 'wt_inline_in', input: WNum, output: WNum }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new WNum({ n: m.n + 100, from: 'inline_in' }));
  });
  ringKernel({ kernelId: 'wt_inline_out', input: WNum, output: Seen }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new Seen({ n: m.n, from: m.from }));
  });
  for (const id of ['wt_inline_in', 'w_double', 'w_inc', 'wt_inline_out']) await rt.launch(id);
  rt.connect('wt_inline_in', 'w_double');
  rt.connect('w_double', 'w_inc');
  rt.connect('w_inc', 'wt_inline_out');
  for (const id of ['wt_inline_in', 'w_double', 'w_inc', 'wt_inline_out']) await rt.activate(id);
  for (let i = 0; i < 50; i++) await rt.send('wt_inline_in', num(i));
  for (let i = 0; i < 50; i++) {
    const r = await rt.receive('wt_inline_out', { timeout: 5000 });
    assert.is(r.n, 2 * (i + 100) + 1);
    assert.is(r.from, 'w_inc');
  }
}));

test('fan-out from a worker: round-robin, broadcast and by key; fan-in into one worker', () => withRuntime(2, async (rt) => {
  for (const id of ['d0', 'd1', 'd2']) await rt.launch(id, 'w_double');
  await rt.launch('rr_src', 'w_inc');
  rt.connect('rr_src', ['d0', 'd1', 'd2']);
  for (const id of ['d0', 'd1', 'd2', 'rr_src']) await rt.activate(id);
  for (let i = 0; i < 30; i++) await rt.send('rr_src', num(i));
  const got: number[][] = [[], [], []];
  for (let k = 0; k < 3; k++) for (let i = 0; i < 10; i++) got[k]!.push((await rt.receive(`d${k}`, { timeout: 5000 })).n);
  assert.equal(got[0], Array.from({ length: 10 }, (_, i) => 2 * (3 * i + 1)));
  rt.disconnect('rr_src');
  rt.connect('rr_src', ['d0', 'd1'], { mode: 'broadcast' });
  await rt.send('rr_src', num(5));
  assert.is((await rt.receive('d0', { timeout: 5000 })).n, 12);
  assert.is((await rt.receive('d1', { timeout: 5000 })).n, 12);
  rt.disconnect('rr_src');
  assert.throws(() => rt.connect('rr_src', ['d0', 'd1'], { mode: 'key', key: (m) => m.messageId }), /keyField/);
  rt.connect('rr_src', ['d0', 'd1', 'd2'], { mode: 'key', keyField: 'from' });
  const before = [0, 1, 2].map((k) => rt.getTelemetry(`d${k}`)!.messagesProcessed);
  for (let i = 0; i < 6; i++) await rt.send('rr_src', num(i));  // every message has from: 'w_inc'
  const handled = () => [0, 1, 2].map((k) => rt.getTelemetry(`d${k}`)!.messagesProcessed - before[k]!);
  await until(() => handled().reduce((a, b) => a + b, 0) >= 6);
  // one key: one target takes them all (a message counts as handled once its reply is sent)
  assert.equal(handled().sort(), [0, 0, 6]);

  // fan-in: three worker producers into one counter
  await rt.launch('counter', 'w_counter');
  for (const id of ['p0', 'p1', 'p2']) { await rt.launch(id, 'w_inc'); rt.connect(id, 'counter'); await rt.activate(id); }
  await rt.activate('counter');
  for (let i = 0; i < 300; i++) await rt.send(`p${i % 3}`, num(i));
  await until(() => rt.getTelemetry('counter')!.messagesProcessed >= 300);
  await rt.send('counter', num(-1));
  const report = await rt.receive('counter', { timeout: 5000 });
  assert.is(report.n, 300);
  assert.is(Number(report.from), 300 * 299 / 2 + 300);
}));

test('connectGraph wires A -> (B, C) -> D', () => withRuntime(2, async (rt) => {
  await rt.launch('ga', 'w_inc');
  await rt.launch('gb', 'w_double');
  await rt.launch('gc', 'w_inc');
  await rt.launch('gd', 'w_counter');
  rt.connectGraph({ ga: ['gb', 'gc'], gb: 'gd', gc: 'gd' });
  for (const id of ['ga', 'gb', 'gc', 'gd']) await rt.activate(id);
  await rt.send('ga', num(1));      // a: 2; b: 4; c: 3; d counts 2, sum 7
  await until(() => rt.getTelemetry('gd')!.messagesProcessed >= 2);
  await rt.send('gd', num(-1));
  const r = await rt.receive('gd', { timeout: 5000 });
  assert.is(r.n, 2);
  assert.is(r.from, '7');
}));

test('a coordinator on a worker drives other worker kernels through ctx.runtime', () => withRuntime(2, async (rt) => {
  for (const id of ['w_double', 'w_inc', 'w_coordinator']) { await rt.launch(id); await rt.activate(id); }
  for (const n of [1, 5, 10]) {
    const req = num(n);
    await rt.send('w_coordinator', req);
    const r = await rt.receive('w_coordinator', { timeout: 5000 });
    assert.is(r.n, 2 * n + 1);
    assert.is(r.correlationId, req.messageId);
  }
}));

test('a kernel that throws on a worker fails alone, with a clear KernelFailedError', () => withRuntime(1, async (rt) => {
  await rt.launch('w_fragile');
  await rt.launch('w_double');
  assert.is(rt.workerOf('w_fragile'), rt.workerOf('w_double'));
  await rt.activate('w_fragile');
  await rt.activate('w_double');
  await rt.send('w_fragile', num(1));
  assert.is((await rt.receive('w_fragile', { timeout: 5000 })).n, 1);
  await rt.send('w_fragile', num(-1));
  const t0 = performance.now();
  const err = await rt.receive('w_fragile', { timeout: 5000 }).catch((e) => e);
  assert.instance(err, KernelFailedError);
  assert.match(err.message, /w_fragile/);
  assert.match(err.message, /negative input -1/);
  assert.ok(performance.now() - t0 < 2000);
  assert.is(rt.getState('w_fragile'), 'failed');
  const tm = rt.getTelemetry('w_fragile')!;
  assert.is(tm.errorCount, 1);
  assert.match(tm.lastError!, /RangeError: negative input -1/);
  // its neighbour on the same thread goes on
  await rt.send('w_double', num(4));
  assert.is((await rt.receive('w_double', { timeout: 5000 })).n, 8);
}));

test('terminate of a worker kernel stuck in a busy loop ends its thread after the timeout; the runtime goes on', () => withRuntime(2, async (rt) => {
  await rt.launch('w_spin');
  await rt.launch('stuck_neighbour', 'w_double');
  await rt.launch('w_inc');
  assert.is(rt.workerOf('w_spin'), 0);
  assert.is(rt.workerOf('stuck_neighbour'), 1);
  assert.is(rt.workerOf('w_inc'), 0);      // shares the thread that will be stuck
  for (const id of ['w_spin', 'stuck_neighbour', 'w_inc']) await rt.activate(id);
  await rt.send('w_spin', num(666));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  await rt.terminate('w_spin', { timeout: 200 });
  const took = performance.now() - t0;
  assert.ok(took >= 190 && took < 3000, `terminate took ${took} ms`);
  assert.is(rt.getState('w_spin'), 'terminated');
  // kernels on the ended thread fail with the reason; kernels elsewhere go on
  const spinWorker = 0;
  for (const id of ['stuck_neighbour', 'w_inc']) {
    if (rt.workerOf(id) === spinWorker) {
      assert.is(rt.getState(id), 'failed');
      const e = await rt.receive(id, { timeout: 1000 }).catch((x) => x);
      assert.instance(e, KernelFailedError);
      assert.match(e.message, /did not stop/);
    } else {
      await rt.send(id, num(1));
      assert.ok(await rt.receive(id, { timeout: 5000 }));
    }
  }
  // new kernels still launch (on a fresh thread if need be)
  await rt.launch('after', 'w_double');
  await rt.activate('after');
  await rt.send('after', num(3));
  assert.is((await rt.receive('after', { timeout: 5000 })).n, 6);
}));

test('a worker thread that dies fails only the kernels it hosts; new kernels get a new thread', () => withRuntime(2, async (rt) => {
  await rt.launch('w_exit');
  await rt.launch('survivor', 'w_double');
  await rt.launch('w_inc');
  assert.equal([rt.workerOf('w_exit'), rt.workerOf('survivor'), rt.workerOf('w_inc')], [0, 1, 0]);
  for (const id of ['w_exit', 'survivor', 'w_inc']) await rt.activate(id);
  await rt.send('w_exit', num(3));
  await until(() => rt.getState('w_inc') === 'failed');
  for (const id of ['w_exit', 'w_inc']) {
    assert.is(rt.getState(id), 'failed');
    const e = await rt.receive(id, { timeout: 1000 }).catch((x) => x);
    assert.instance(e, KernelFailedError);
    assert.match(e.message, new RegExp(`the worker thread running kernel '${id}' died: it exited with code 3`));
  }
  await rt.send('survivor', num(4));
  assert.is((await rt.receive('survivor', { timeout: 5000 })).n, 8);
  await rt.launch('fresh', 'w_double');
  assert.is(rt.workerOf('fresh'), 2);
  await rt.activate('fresh');
  await rt.send('fresh', num(5));
  assert.is((await rt.receive('fresh', { timeout: 5000 })).n, 10);
}));

test('terminated worker kernels give their memory back once every worker has let go of it', () => withRuntime(1, async (rt) => {
  await rt.launch('w_double');
  await rt.terminate('w_double');
  await until(() => false, 100);                // the workers acknowledge the new directory
  const carved = rt.core!.carvedBytes;
  for (let i = 0; i < 5; i++) {
    await rt.launch(`cycle_${i}`, 'w_double');
    await rt.activate(`cycle_${i}`);
    await rt.send(`cycle_${i}`, num(i));
    assert.is((await rt.receive(`cycle_${i}`, { timeout: 5000 })).n, 2 * i);
    await rt.terminate(`cycle_${i}`);
    await until(() => false, 50);
  }
  assert.is(rt.core!.carvedBytes, carved);        // every launch reused the regions freed before it
}));

// A receive that timed out leaves its wait armed on the ring; once the kernel is gone, a new
// one may be laid out at the same address, and a receive there must still be woken.
test('a receive that timed out on a kernel since terminated does not stall receives from its successor', () => withRuntime(2, async (rt) => {
  // from the host
  await rt.launch('tr_a', wDouble);
  await rt.activate('tr_a');
  await rt.receive('tr_a', { timeout: 30 }).then(() => assert.unreachable('received'), (e) => assert.instance(e, QueueTimeoutError));
  await rt.terminate('tr_a');
  await new Promise((r) => setTimeout(r, 200)); // the workers let go of its memory, which is free again
  await rt.launch('tr_b', wDouble);
  await rt.activate('tr_b');
  await rt.send('tr_b', num(5));
  assert.is((await rt.receive('tr_b', { timeout: 3000 })).n, 10);
  await rt.terminate('tr_b');
  // from a worker kernel, through ctx.runtime
  await rt.launch('w_asker');
  await rt.launch('tr_c', wDouble);
  await rt.activate('w_asker');
  await rt.activate('tr_c');
  await rt.send('w_asker', new WNum({ n: 0, from: 'tr_c' }));
  assert.is((await rt.receive('w_asker', { timeout: 3000 })).n, -1);
  await rt.terminate('tr_c');
  await new Promise((r) => setTimeout(r, 200));
  await rt.launch('tr_d', wDouble);
  await rt.activate('tr_d');
  await rt.send('w_asker', new WNum({ n: 1, from: 'tr_d' }));
  assert.is((await rt.receive('w_asker', { timeout: 5000 })).n, 42);
}));

test('terminate wakes a worker kernel blocked in receive at once', () => withRuntime(1, async (rt) => {
  await rt.launch('w_double');
  await rt.activate('w_double');
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  await rt.terminate('w_double', { timeout: 5000 });
  assert.ok(performance.now() - t0 < 1000);
  assert.is(rt.getState('w_double'), 'terminated');
  const e = await rt.send('w_double', num(1)).catch((x) => x);
  assert.instance(e, KernelStateError);
}));

test('lifecycle calls from inside a worker kernel say where they belong', () => withRuntime(1, async (rt) => {
  const { wLifecycle } = await import('./helpers/worker-lifecycle.js');
  await rt.launch(wLifecycle.kernelId);
  await rt.activate(wLifecycle.kernelId);
  await rt.send(wLifecycle.kernelId, num(1));
  const r = await rt.receive(wLifecycle.kernelId, { timeout: 5000 });
  assert.match(r.from, /belong to the thread that owns the runtime/);
}));

test('without shared memory, a worker kernel is refused with the reason, or runs inline if allowed', async () => {
  const { createCore } = await import('../js/core/core.js');
  const core = await createCore({ shared: false });
  assert.is(core.shared, false);
  // the runtime decides from its own core; simulate an environment without SharedArrayBuffer
  const SAB = globalThis.SharedArrayBuffer;
  // @ts-expect-error: removing it on purpose
  delete globalThis.SharedArrayBuffer;
  try {
    const rt = new RingKernelRuntime();
    const e = await rt.launch('w_double').catch((x) => x);
    assert.instance(e, BackendNotAvailableError);
    assert.match(e.message, /SharedArrayBuffer/);
    assert.match(e.message, /inlineFallback/);
    const { wFallback } = await import('./helpers/worker-lifecycle.js');
    await rt.launch(wFallback.kernelId);
    assert.is(rt.workerOf(wFallback.kernelId), null);
    await rt.activate(wFallback.kernelId);
    await rt.send(wFallback.kernelId, num(2));
    assert.is((await rt.receive(wFallback.kernelId, { timeout: 2000 })).n, 4);
    await rt.shutdown();
  } finally {
    globalThis.SharedArrayBuffer = SAB;
  }
});

test('bad runtime options are refused with a RangeError that names them', async () => {
  for (const spinMicros of [-1, NaN, 20_000, '50' as unknown as number, 'always' as unknown as number]) {
    assert.throws(() => new RingKernelRuntime({ spinMicros }), (e: Error) => e instanceof RangeError && /spinMicros must be 'adaptive' or a number of microseconds from 0 to 10000/.test(e.message), String(spinMicros));
  }
  for (const workers of [0, 1.5]) {
    const rt = new RingKernelRuntime({ workers });
    try {
      await rt.launch('w_double').then(() => assert.unreachable('launched'), (e: Error) => {
        assert.instance(e, RangeError);
        assert.match(e.message, /workers must be an integer >= 1/);
      });
    } finally { await rt.shutdown({ timeout: 1000 }); }
  }
});

// process.cpuUsage counts every thread of the process: a worker that kept polling would add
// about as much CPU time as the idle window lasts
async function idleCpuMs(ms: number): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

test('adaptive spinning: polls only soon after taking a message, stops after misses in a row, probes as long as a poll now and then, polls again once one catches', async () => {
  const hub = new Hub({} as never, 'adaptive');
  assert.is(hub.spinMicros(), 0, 'nothing taken yet: sleep at once');
  hub.took();
  assert.is(hub.spinMicros(), ADAPTIVE_SPIN_MICROS);
  // a catch clears the misses: a few misses between catches never stop the polls
  for (let i = 0; i < 3 * ADAPTIVE_MISSES; i++) { assert.is(hub.spinMicros(), ADAPTIVE_SPIN_MICROS); hub.spun(i % ADAPTIVE_MISSES !== 0); }
  for (let i = 0; i < ADAPTIVE_MISSES; i++) { assert.is(hub.spinMicros(), ADAPTIVE_SPIN_MICROS, `miss ${i + 1} in a row`); hub.spun(false); }
  const probes = Array.from({ length: 2 * ADAPTIVE_PROBE_EVERY }, () => hub.spinMicros()).filter((b) => b > 0);
  assert.equal(probes, [ADAPTIVE_SPIN_MICROS, ADAPTIVE_SPIN_MICROS], 'one probe in ADAPTIVE_PROBE_EVERY waits, as long as a poll');
  hub.spun(false);
  assert.is(Array.from({ length: ADAPTIVE_PROBE_EVERY }, () => hub.spinMicros()).filter((b) => b > 0).length, 1, 'a probe that missed: still one in ADAPTIVE_PROBE_EVERY');
  hub.spun(true);
  assert.is(hub.spinMicros(), ADAPTIVE_SPIN_MICROS, 'a probe that caught: every wait polls again');
  assert.is(hub.spinMicros(), ADAPTIVE_SPIN_MICROS);
  await new Promise((r) => setTimeout(r, ADAPTIVE_WINDOW_MS + 5));
  assert.is(hub.spinMicros(), 0, 'idle for a while: sleep at once');
  assert.is(new Hub({} as never, 30).spinMicros(), 30, 'a number always polls that long');
});

for (const spinMicros of [undefined, 0, 2000] as const) {
  test(`an idle worker sleeps on its doorbell: no CPU between messages (spinMicros ${spinMicros ?? 'by default: adaptive'})`, async () => {
    const rt = new RingKernelRuntime({ workers: 1, spinMicros });
    try {
      await rt.launch('w_double');
      await rt.activate('w_double');
      for (let i = 0; i < 200; i++) {
        await rt.send('w_double', num(i));
        assert.is((await rt.receive('w_double', { timeout: 5000 })).n, 2 * i);
      }
      await new Promise((r) => setTimeout(r, 50)); // past any spin
      const cpu = await idleCpuMs(400);
      assert.ok(cpu < 150, `${cpu.toFixed(0)} ms of CPU in 400 ms of idling`);
      // and it still wakes for the next message
      await rt.send('w_double', num(21));
      assert.is((await rt.receive('w_double', { timeout: 5000 })).n, 42);
    } finally { await rt.shutdown({ timeout: 1000 }); }
  });
}

test('a worker kernel needs module: import.meta.url', () => {
  assert.throws(() => ringKernel({ kernelId: 'wt_no_module', placement: 'worker' }, async () => {}), /needs module: import\.meta\.url/);
});

/** A script for a child node: the facade and the test kernels imported, then `body`. */
const childScript = (body: string) => `
    import { RingKernelRuntime } from '${new URL('../js/index.ts', import.meta.url).href}';
    import { WNum } from '${new URL('./helpers/worker-kernels.ts', import.meta.url).href}';
    ${body}`;

/** Runs `script` in a child `node <flags> --import tsx -e` (an ES module). */
const runChild = (flags: string[], script: string) =>
  spawnSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20000 });

test('worker kernels run whatever flags node was started with (per-process ones stay with the process)', async () => {
  const script = childScript(`
    const rt = new RingKernelRuntime({ workers: 1 });
    await rt.launch('w_double'); await rt.activate('w_double');
    await rt.send('w_double', new WNum({ n: 4, from: 'x' }));
    console.log(String((await rt.receive('w_double', { timeout: 5000 })).n)); // a string: FORCE_COLOR would color a number
    await rt.shutdown();`);
  // -e with --input-type: the worker gets a list of flags, without that one
  for (const flags of [['--max-old-space-size=512'], ['--max-old-space-size=512', '--stack-trace-limit=20']]) {
    const r = runChild(flags, script);
    assert.is(r.stdout.trim(), '8', `${flags.join(' ')}: ${r.stderr}`);
  }
  // a file, inheriting every flag
  const { writeFileSync, rmSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rk-flags-'));
  try {
    writeFileSync(join(dir, 'main.mjs'), script);
    const r = spawnSync(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', join(dir, 'main.mjs')], { encoding: 'utf8', timeout: 20000 });
    assert.is(r.stdout.trim(), '8', r.stderr);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('shutdown ends every worker thread', async () => {
  const script = childScript(`
    const rt = new RingKernelRuntime({ workers: 2 });
    await rt.launch('w_double'); await rt.launch('w_inc');
    await rt.activate('w_double'); await rt.activate('w_inc');
    await rt.send('w_double', new WNum({ n: 1, from: 'x' }));
    await rt.receive('w_double', { timeout: 5000 });
    await rt.shutdown();
    console.log('done');`);
  const t0 = performance.now();
  const r = runChild([], script);
  assert.is(r.stdout.trim(), 'done', r.stderr);
  assert.is(r.status, 0);             // the process ended by itself: no thread kept it alive
  assert.ok(performance.now() - t0 < 20000);
});

test('a worker kernel\'s sendMany far bigger than its output queue: every message, in order, as it was at the call (twice, the second reusing the first one\'s buffer, then two at once)', () => withRuntime(1, async (rt) => {
  await rt.launch('w_burst');
  await rt.activate('w_burst');
  for (const count of [3000, 2000]) {
    await rt.send('w_burst', new WNum({ n: count, from: 'test' }));
    const got: number[] = [];
    while (got.length < count) for (const m of await rt.receiveMany<InstanceType<typeof WNum>>('w_burst', { timeout: 5000 })) got.push(m.n);
    assert.equal(got, Array.from({ length: count }, (_, i) => i));
  }
  // two at once: one takes the kept buffer, the other a fresh one, neither the other's
  await rt.send('w_burst', new WNum({ n: -1500, from: 'test' }));
  const got: number[] = [];
  while (got.length < 3000) for (const m of await rt.receiveMany<InstanceType<typeof WNum>>('w_burst', { timeout: 5000 })) got.push(m.n);
  assert.equal(got.filter((n) => n < 100_000), Array.from({ length: 1500 }, (_, i) => i));
  assert.equal(got.filter((n) => n >= 100_000), Array.from({ length: 1500 }, (_, i) => 100_000 + i));
}));

test.run();

test('message ids made on the host and on two workers are well-formed v4 UUIDs, all different; each thread has its own prefix', () => withRuntime(2, async (rt) => {
  const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  await rt.launch('ids_a', wDouble);
  await rt.launch('ids_b', wDouble);
  assert.is.not(rt.workerOf('ids_a'), rt.workerOf('ids_b'));
  await rt.activate('ids_a');
  await rt.activate('ids_b');
  const ids: string[] = [];
  for (const id of ['ids_a', 'ids_b']) {
    const sent = Array.from({ length: 500 }, (_, i) => num(i));
    ids.push(...sent.map((m) => m.messageId));
    await rt.sendMany(id, sent);
    for (let got = 0; got < 500;) for (const m of await rt.receiveMany(id, { timeout: 5000 })) { ids.push(m.messageId); got++; }
  }
  assert.is(ids.length, 2000);
  for (const id of ids) assert.match(id, UUID_V4);
  assert.is(new Set(ids).size, 2000);
  // an id's first 24 hex digits are its thread's random prefix: host, worker a, worker b
  const prefixes = new Set(ids.map((id) => id.slice(0, 28)));
  assert.is(prefixes.size, 3);
}));
