// Supervision end to end, inline and in workers: restarts with their window and backoff,
// dead letters (poison messages, undecodable bytes, the bound), checkpoints, events, and
// the telemetry that counts them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './helpers/assert.js';
import {
  RingKernelRuntime, KernelFailedError, KernelNotFoundError, QueueTimeoutError, CheckpointError, MessageDecodeError,
  type DeadLetter, type KernelEvent, type KernelTelemetry,
} from '../js/index.js';
import { epochHigh, epochLow } from './helpers/epoch.js';
import {
  SNum, poison, limited, windowed, backoff, slow, crashLoop, crashNow, counter, fragile, stranger, strangerAfter, sink, batched, fresh, doomed,
  holder, columnar,
} from './helpers/supervised-kernels.js';

type Placement = 'inline' | 'worker';
const placements: Placement[] = ['inline', 'worker'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withRuntime(fn: (rt: RingKernelRuntime) => Promise<void>, options: ConstructorParameters<typeof RingKernelRuntime>[0] = {}): Promise<void> {
  const rt = new RingKernelRuntime({ workers: 2, ...options });
  try { await fn(rt); } finally { await rt.shutdown({ timeout: 1000 }); }
}

/** Every event of these types the runtime sends, as 'type:kernelId'. */
function recordEvents(rt: RingKernelRuntime): { seen: string[]; details: Map<string, unknown[]> } {
  const seen: string[] = [], details = new Map<string, unknown[]>();
  for (const type of ['failed', 'restarted', 'deadletter'] as const) {
    details.set(type, []);
    rt.events.addEventListener(type, (e) => {
      const d = (e as KernelEvent).detail;
      seen.push(`${type}:${d.kernelId}`);
      details.get(type)!.push(d);
    });
  }
  return { seen, details };
}

async function start(rt: RingKernelRuntime, id: string): Promise<void> {
  await rt.launch(id);
  await rt.activate(id);
}

const nOf = (d: DeadLetter) => (d.message as InstanceType<typeof SNum>).n;

/** docs/guarantees.md: every accepted message is in exactly one of these columns. */
const accounted = (t: KernelTelemetry) =>
  t.messagesProcessed + t.messagesDropped + t.messagesDiscarded + t.deadLetters + t.messagesInterrupted + t.queueDepth;
/** The columns an accounting test looks at, by name. */
const columns = (t: KernelTelemetry) => ({
  processed: t.messagesProcessed, discarded: t.messagesDiscarded, interrupted: t.messagesInterrupted, deadLetters: t.deadLetters, depth: t.queueDepth,
});

/** Sends 1..4, `held`, 6..10 before activating (so the kernel takes them in one batch), and waits until it holds `held`. */
async function sendAndHold(rt: RingKernelRuntime, id: string, held: number): Promise<number> {
  await rt.launch(id);
  const sent = [1, 2, 3, 4, held, 6, 7, 8, 9, 10];
  for (const n of sent) await rt.send(id, new SNum({ n }));
  await rt.activate(id);
  for (const n of [1, 2, 3, 4]) assert.is((await rt.receive(id, { timeout: 5000 })).n, n);
  for (let i = 0; i < 500 && (rt.checkpoint(id) as { holding?: number } | undefined)?.holding !== held; i++) await sleep(10);
  assert.equal(rt.checkpoint(id), { holding: held });
  return sent.length;
}

for (const placement of placements) {
  const P = `${placement}:`;

  test(`${P} poison messages among good ones: the good answered once and in order, the poison in the dead letters, restarts counted`, () => withRuntime(async (rt) => {
    const id = poison[placement];
    const events = recordEvents(rt);
    await start(rt, id);
    const before = epochLow();
    const sent = [1, 2, -1, 3, -2, -3, 4, 5].map((n) => new SNum({ n }));
    for (const m of sent) await rt.send(id, m);
    const answers: number[] = [];
    for (let i = 0; i < 5; i++) answers.push((await rt.receive(id, { timeout: 5000 })).n);
    assert.equal(answers, [10, 20, 30, 40, 50]);
    await rt.receive(id, { timeout: 200 }).then(() => assert.unreachable('a message was answered twice'), (e) => assert.instance(e, QueueTimeoutError));
    const letters = rt.deadLetters(id);
    assert.equal(letters.map(nOf), [-1, -2, -3]);
    for (const [i, d] of letters.entries()) {
      assert.is(d.kernelId, id);
      assert.instance(d.message, SNum);
      assert.is((d.message as InstanceType<typeof SNum>).messageId, sent[[2, 4, 5][i]!]!.messageId);
      assert.is(d.error.name, 'RangeError');
      assert.is(d.error.message, `poison ${nOf(d)}`);
      assert.ok(d.at >= before && d.at <= epochHigh());
    }
    const tel = rt.getTelemetry(id)!;
    assert.equal([tel.restarts, tel.deadLetters, tel.deadLettersDropped, tel.messagesProcessed, tel.errorCount, tel.state], [3, 3, 0, 5, 3, 'active']);
    assert.is(tel.lastError, 'RangeError: poison -3');
    const metrics = rt.metrics();   // the same counts in the Prometheus text
    assert.match(metrics, new RegExp(`^ringkernel_restarts_total\\{kernel="${id}"\\} 3$`, 'm'));
    assert.match(metrics, new RegExp(`^ringkernel_dead_letters_total\\{kernel="${id}"\\} 3$`, 'm'));
    await sleep(0);
    assert.equal(events.seen.filter((s) => s.startsWith('restarted')).length, 3);
    assert.equal(events.seen.filter((s) => s.startsWith('deadletter')), [`deadletter:${id}`, `deadletter:${id}`, `deadletter:${id}`]);
    assert.equal(events.seen.filter((s) => s.startsWith('failed')), []);
    const r = events.details.get('restarted')! as { restarts: number; delayMs: number; error: Error }[];
    assert.equal(r.map((d) => [d.restarts, d.delayMs, d.error.message]), [[1, 0, 'poison -1'], [2, 0, 'poison -2'], [3, 0, 'poison -3']]);
    const l = events.details.get('deadletter')! as { letter: DeadLetter }[];
    assert.equal(l.map((d) => nOf(d.letter)), [-1, -2, -3]);
  }));

  test(`${P} more than maxRestarts within withinMs fails the kernel (KernelFailedError), its letters kept`, () => withRuntime(async (rt) => {
    const id = limited[placement];
    const events = recordEvents(rt);
    await start(rt, id);
    await rt.send(id, new SNum({ n: -1 }));
    await rt.send(id, new SNum({ n: -2 }));
    await rt.send(id, new SNum({ n: 7 }));
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 7);   // two restarts: still running
    assert.is(rt.getState(id), 'active');
    await rt.send(id, new SNum({ n: -3 }));                      // the third throw within the minute
    const e = await rt.receive(id, { timeout: 5000 }).then(() => null, (x) => x);
    assert.instance(e, KernelFailedError);
    assert.is((e as KernelFailedError).kernelId, id);
    assert.match((e as Error).message, /poison -3/);
    assert.is(rt.getState(id), 'failed');
    const tel = rt.getTelemetry(id)!;
    assert.equal([tel.restarts, tel.deadLetters, tel.errorCount], [2, 3, 3]);
    assert.equal(rt.deadLetters(id).map(nOf), [-1, -2, -3]);
    await sleep(0);
    assert.equal(events.seen.filter((s) => s.startsWith('failed')), [`failed:${id}`]);
    const f = events.details.get('failed')![0] as { error: Error; restarts: number };
    assert.is(f.restarts, 2);
    assert.match(String(f.error.message), /poison -3/);
  }));

  test(`${P} restarts older than withinMs leave the window`, () => withRuntime(async (rt) => {
    const id = windowed[placement];                 // one restart per 600 ms
    await start(rt, id);
    await rt.send(id, new SNum({ n: -1 }));
    await rt.send(id, new SNum({ n: 1 }));
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 1);
    await sleep(700);                               // the restart left the window
    await rt.send(id, new SNum({ n: -2 }));
    await rt.send(id, new SNum({ n: 2 }));
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 2);
    assert.is(rt.getTelemetry(id)!.restarts, 2);
    await rt.send(id, new SNum({ n: -3 }));         // a second one within 600 ms: failed
    await rt.receive(id, { timeout: 5000 }).then(() => assert.unreachable(), (e) => assert.instance(e, KernelFailedError));
    assert.is(rt.getState(id), 'failed');
  }));

  test(`${P} backoff: 100, 200, then capped at 250 ms between a throw and the next start (tolerance -5 / +300 ms)`, () => withRuntime(async (rt) => {
    const id = backoff[placement];
    await start(rt, id);
    const next = async (what: string) => {
      const r = await rt.receive(id, { timeout: 5000 });
      assert.is(r.what, what);
      return r.at as number;
    };
    await next('start');
    const gaps: number[] = [];
    for (const n of [-1, -2, -3]) {
      await rt.send(id, new SNum({ n }));
      const threw = await next('throw');
      gaps.push((await next('start')) - threw);
    }
    const expected = [100, 200, 250];
    for (const [i, g] of gaps.entries()) {
      assert.ok(g >= expected[i]! - 5, `restart ${i + 1} came after ${g} ms, before its backoff of ${expected[i]} ms`);
      assert.ok(g <= expected[i]! + 300, `restart ${i + 1} came after ${g} ms, long after its backoff of ${expected[i]} ms`);
    }
    assert.is(rt.getTelemetry(id)!.restarts, 3);
  }));

  test(`${P} terminate during a backoff ends at once; so does shutdown`, async () => {
    const id = slow[placement];                     // 10 s backoff
    const rt = new RingKernelRuntime({ workers: 1 });
    try {
      const restarted = new Promise((r) => rt.events.addEventListener('restarted', r, { once: true }));
      await start(rt, id);
      assert.is((await rt.receive(id, { timeout: 5000 })).what, 'start');
      await rt.send(id, new SNum({ n: -1 }));
      await restarted;
      await within(rt.terminate(id), 1000, 'terminate during the backoff');
      assert.is(rt.getState(id), 'terminated');
      assert.is(rt.getTelemetry(id)!.restarts, 1);
      // the same again, ended by shutdown
      const again = new Promise((r) => rt.events.addEventListener('restarted', r, { once: true }));
      await rt.launch(id);
      await rt.activate(id);
      await rt.send(id, new SNum({ n: -1 }));
      await again;
      await within(rt.shutdown(), 1000, 'shutdown during the backoff');
      assert.is(rt.getState(id), 'terminated');
    } finally { await rt.shutdown(); }
  });

  test(`${P} a function that throws at once on every start: restarts on its backoff, no busy loop (process CPU time stays low)`, () => withRuntime(async (rt) => {
    const id = crashLoop[placement];               // backoff 20 ms doubling to 200 ms
    await start(rt, id);
    await sleep(50);
    const cpu0 = process.cpuUsage(), t0 = performance.now(), r0 = rt.getTelemetry(id)!.restarts;
    await sleep(1500);
    const cpu = process.cpuUsage(cpu0), wall = performance.now() - t0;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const restarts = rt.getTelemetry(id)!.restarts - r0;
    assert.ok(cpuMs < 0.3 * wall, `the process used ${cpuMs.toFixed(0)} ms of CPU in ${wall.toFixed(0)} ms`);
    assert.ok(restarts >= 3 && restarts <= 16, `${restarts} restarts in ${wall.toFixed(0)} ms`);
    assert.is(rt.getState(id), 'active');
    assert.equal(rt.deadLetters(id), []);          // it never held a message
  }));

  test(`${P} a function that throws at once with no backoff fails after maxRestarts`, () => withRuntime(async (rt) => {
    const id = crashNow[placement];
    const failed = new Promise((r) => rt.events.addEventListener('failed', r, { once: true }));
    await start(rt, id);
    await failed;
    assert.is(rt.getState(id), 'failed');
    const tel = rt.getTelemetry(id)!;
    assert.equal([tel.restarts, tel.errorCount, tel.deadLetters], [5, 6, 0]);
    await rt.receive(id, { timeout: 1000 }).then(() => assert.unreachable(), (e) => assert.instance(e, KernelFailedError));
  }));

  test(`${P} checkpoints survive restarts; runtime.checkpoint reads the last; launch restores one`, () => withRuntime(async (rt) => {
    const id = counter[placement];
    await start(rt, id);
    for (const n of [1, 2]) await rt.send(id, new SNum({ n }));
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 1);
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 3);
    assert.equal(rt.checkpoint(id), { sum: 3, runs: 1 });
    await rt.send(id, new SNum({ n: -1 }));         // a restart: the new run starts from the checkpoint
    await rt.send(id, new SNum({ n: 4 }));
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 7);
    assert.equal(rt.checkpoint(id), { sum: 7, runs: 2 });
    const copy = rt.checkpoint(id) as { sum: number };
    copy.sum = -1;                                  // a copy: the kept one is untouched
    assert.equal(rt.checkpoint(id), { sum: 7, runs: 2 });
    await rt.send(id, new SNum({ n: 999 }));        // the kernel tries to keep a function
    const r = await rt.receive(id, { timeout: 5000 });
    assert.equal([r.what, r.n], ['CheckpointError', 7]);
    // across runtimes (or processes): the checkpoint as data, a new launch restored from it
    const saved = JSON.parse(JSON.stringify(rt.checkpoint(id)));
    await withRuntime(async (rt2) => {
      await rt2.launch(`${id}_2`, id, { restore: saved });
      await rt2.activate(`${id}_2`);
      await rt2.send(`${id}_2`, new SNum({ n: 100 }));
      assert.is((await rt2.receive(`${id}_2`, { timeout: 5000 })).n, 107);
      assert.equal(rt2.checkpoint(`${id}_2`), { sum: 107, runs: 3 });
      await rt2.terminate(`${id}_2`);
      assert.equal(rt2.checkpoint(`${id}_2`), { sum: 107, runs: 3 });   // still there once terminated
      // a kernel that keeps none: the restore value is its checkpoint
      await rt2.launch('restored_only', fragile[placement], { restore: new Map([['k', [1, 2]]]) });
      assert.equal(rt2.checkpoint('restored_only'), new Map([['k', [1, 2]]]));
    });
  }));

  test(`${P} launch refuses a restore value that cannot be cloned (CheckpointError), and nothing is launched`, () => withRuntime(async (rt) => {
    const id = counter[placement];
    const e = await rt.launch(id, undefined, { restore: { f: () => 1 } }).then(() => null, (x) => x);
    assert.instance(e, CheckpointError);
    assert.is((e as CheckpointError).kernelId, id);
    assert.is((e as CheckpointError).operation, 'launch');
    assert.throws(() => rt.getState(id), (e: unknown) => e instanceof KernelNotFoundError);
    await start(rt, id);                             // the id is free
    assert.is(rt.getState(id), 'active');
  }));

  test(`${P} the dead-letter list is bounded (deadLetterLimit): the newest kept, the overflow counted`, () => withRuntime(async (rt) => {
    const id = poison[placement];
    await start(rt, id);
    for (const n of [-1, -2, -3, -4, 1]) await rt.send(id, new SNum({ n }));
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 10);
    assert.equal(rt.deadLetters(id).map(nOf), [-3, -4]);
    const tel = rt.getTelemetry(id)!;
    assert.equal([tel.deadLetters, tel.deadLettersDropped, tel.restarts], [4, 2, 4]);
  }, { deadLetterLimit: 2 }));

  test(`${P} a batch taken with receiveMany goes to the dead letters whole when the function throws on it`, () => withRuntime(async (rt) => {
    const id = batched[placement];
    await rt.launch(id);
    for (const n of [1, -1, 2]) await rt.send(id, new SNum({ n }));   // queued before activate: one batch
    const restarted = new Promise((r) => rt.events.addEventListener('restarted', r, { once: true }));
    await rt.activate(id);
    await restarted;                                                 // (or 5 could join the batch)
    await rt.send(id, new SNum({ n: 5 }));
    const r = await rt.receive(id, { timeout: 5000 });
    assert.equal([r.what, r.n], ['sum', 5]);
    assert.equal(rt.deadLetters(id).map(nOf), [1, -1, 2]);
    const tel = rt.getTelemetry(id)!;
    assert.equal([tel.restarts, tel.deadLetters, tel.messagesProcessed], [1, 3, 1]);
  }));

  test(`${P} a restarted run has a fresh ctx; the old one is retired (its calls end, it takes no message)`, () => withRuntime(async (rt) => {
    const id = fresh[placement];
    await start(rt, id);
    await rt.send(id, new SNum({ n: -1 }));
    await rt.send(id, new SNum({ n: 3 }));
    const seen = await rt.receive(id, { timeout: 5000 });
    assert.is(seen.what, 'true true KernelStateError KernelStateError nothing');
    const r = await rt.receive(id, { timeout: 5000 });
    assert.equal([r.what, r.n], ['answer', 3]);          // the new run got it, not the old ctx
  }));

  test(`${P} a kernel without a policy fails at its first throw, and the message goes to its dead letters`, () => withRuntime(async (rt) => {
    const id = fragile[placement];
    const events = recordEvents(rt);
    await start(rt, id);
    await rt.send(id, new SNum({ n: 1 }));
    await rt.send(id, new SNum({ n: -1 }));
    assert.is((await rt.receive(id, { timeout: 5000 })).n, 1);
    await rt.receive(id, { timeout: 5000 }).then(() => assert.unreachable(), (e) => assert.instance(e, KernelFailedError));
    assert.equal(rt.deadLetters(id).map(nOf), [-1]);
    assert.is(rt.checkpoint(id), undefined);        // it never kept one
    assert.equal([rt.getTelemetry(id)!.restarts, rt.getTelemetry(id)!.deadLetters], [0, 1]);
    await sleep(0);
    assert.equal(events.seen, [`deadletter:${id}`, `failed:${id}`]);
  }));

  test(`${P} terminate while the function holds a message it never finishes: ${placement === 'worker' ? 'its thread is ended' : 'it is abandoned'}, and that message is counted as interrupted`, () => withRuntime(async (rt) => {
    const id = holder[placement];
    const sent = await sendAndHold(rt, id, 100);
    await rt.terminate(id, { timeout: 200 });
    assert.is(rt.getState(id), 'terminated');
    const tel = rt.getTelemetry(id)!;
    // 1..4 handled, 100 in hand, 6..10 taken in the same batch and never handed out
    assert.equal(columns(tel), { processed: 4, discarded: 5, interrupted: 1, deadLetters: 0, depth: 0 });
    assert.is(accounted(tel), sent);
    assert.match(rt.metrics(), new RegExp(`^ringkernel_messages_interrupted_total\\{kernel="${id}"\\} 1$`, 'm'));
  }));

  test(`${P} terminate while the function holds a message it finishes once terminated: handled, not interrupted (nothing counted twice)`, () => withRuntime(async (rt) => {
    const id = holder[placement];
    const sent = await sendAndHold(rt, id, 101);
    await rt.terminate(id, { timeout: 5000 });
    const tel = rt.getTelemetry(id)!;
    assert.equal(columns(tel), { processed: 5, discarded: 5, interrupted: 0, deadLetters: 0, depth: 0 });
    assert.is(accounted(tel), sent);
  }));

  test(`${P} a function that throws while being terminated leaves the message in its hand as a dead letter`, () => withRuntime(async (rt) => {
    const id = holder[placement];
    const sent = await sendAndHold(rt, id, 102);
    await rt.terminate(id, { timeout: 5000 });
    assert.is(rt.getState(id), 'terminated');
    const tel = rt.getTelemetry(id)!;
    assert.equal(columns(tel), { processed: 4, discarded: 5, interrupted: 0, deadLetters: 1, depth: 0 });
    assert.is(accounted(tel), sent);
    const letters = rt.deadLetters(id);
    assert.equal(letters.map(nOf), [102]);
    assert.is(letters[0]!.error.message, 'thrown while terminating');
  }));

  test(`${P} a batch taken with receiveColumns when the function throws on it is counted as interrupted (columns have no message to keep)`, () => withRuntime(async (rt) => {
    const id = columnar[placement];
    await rt.launch(id);
    for (const n of [1, -1, 2]) await rt.send(id, new SNum({ n }));   // queued before activate: one batch
    const restarted = new Promise((r) => rt.events.addEventListener('restarted', r, { once: true }));
    await rt.activate(id);
    await restarted;
    await rt.send(id, new SNum({ n: 5 }));
    const r = await rt.receive(id, { timeout: 5000 });
    assert.equal([r.what, r.n], ['sum', 5]);
    await rt.terminate(id);
    const tel = rt.getTelemetry(id)!;
    assert.equal(columns(tel), { processed: 1, discarded: 0, interrupted: 3, deadLetters: 0, depth: 0 });
    assert.is(accounted(tel), 4);
    assert.is(tel.restarts, 1);
    assert.equal(rt.deadLetters(id), []);
  }));
}

test('records that do not decode on their way into a kernel land in its dead letters as bytes, with the decode error', () => withRuntime(async (rt) => {
  // worker -> inline, and inline -> worker: each thread sends a message class the other lacks
  for (const [from, to] of [[stranger.worker, sink.inline], [stranger.inline, sink.worker]] as const) {
    await rt.launch(from);
    await rt.launch(to);
    rt.connect(from, to);
    await rt.activate(to);
    await rt.activate(from);
    await rt.send(from, new SNum({ n: 5 }));
    const got = await rt.receive(to, { timeout: 5000 });   // the SNum after the stranger arrives
    assert.equal([got.what, got.n], ['got', 5]);
    for (let i = 0; i < 100 && rt.deadLetters(to).length === 0; i++) await sleep(10);
    const letters = rt.deadLetters(to);
    assert.is(letters.length, 1, `${from} -> ${to}`);
    assert.instance(letters[0]!.message, Uint8Array);
    assert.ok((letters[0]!.message as Uint8Array).length >= 56);
    assert.instance(letters[0]!.error, MessageDecodeError);
    assert.match(letters[0]!.error.message, /unknown type id/);
    assert.is(letters[0]!.kernelId, to);
    assert.is(rt.getTelemetry(to)!.deadLetters, 1);
    assert.is(rt.getState(to), 'active');
  }
}));

test('a host receiveMany that waited keeps the message it woke for when the record after it does not decode (it is skipped)', () => withRuntime(async (rt) => {
  const id = strangerAfter.worker;
  await rt.launch(id);
  await rt.activate(id);
  for (const n of [7, 8]) {
    const receiving = rt.receiveMany(id, { max: 10, timeout: 5000 }); // waits: nothing is there yet
    await rt.send(id, new SNum({ n }));
    assert.equal((await receiving).map((m) => (m as InstanceType<typeof SNum>).n), [n]);
  }
}));

test('a GPU kernel running its JS fallback restarts like an inline one (the message it threw on is a dead letter)', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    import { RingKernelRuntime, ringKernel, message, t } from '${new URL('../js/index.ts', import.meta.url).href}';
    const V = message('SgVec', { values: t.array(t.f32, 2) });
    const M = message('SgSum', { sum: t.f32 });
    ringKernel({ kernelId: 'g_resilient', placement: 'gpu', input: V, output: M, restart: { maxRestarts: 3, withinMs: 60000 },
      wgsl: 'fn handle(m: SgVec) -> SgSum { return SgSum(m.values[0] + m.values[1]); }' },
      (m) => { if (m.values[0] < 0) throw new RangeError('negative'); return new M({ sum: m.values[0] + m.values[1] }); });
    const rt = new RingKernelRuntime();
    await rt.launch('g_resilient'); await rt.activate('g_resilient');
    for (const v of [[1, 2], [-1, 0], [3, 4]]) await rt.send('g_resilient', new V({ values: v }));
    const a = await rt.receive('g_resilient', { timeout: 2000 }), b = await rt.receive('g_resilient', { timeout: 2000 });
    const tel = rt.getTelemetry('g_resilient');
    console.log(a.sum, b.sum, rt.deadLetters('g_resilient').map((d) => d.message.values[0]).join(), tel.restarts, rt.getState('g_resilient'));
    await rt.shutdown();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 30_000, env: { ...process.env, RINGKERNEL_GPU: 'none', NO_COLOR: '1', FORCE_COLOR: '0' } });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), '3 7 -1 1 active');
});

test('a worker kernel\'s checkpoint is on the owner: it outlives the worker thread', () => withRuntime(async (rt) => {
  const id = doomed.worker;
  await start(rt, id);
  await rt.send(id, new SNum({ n: 1 }));
  assert.is((await rt.receive(id, { timeout: 5000 })).n, 1);
  await rt.send(id, new SNum({ n: 666 }));          // checkpoints { n: 666 }, then never yields
  for (let i = 0; i < 200 && (rt.checkpoint(id) as { n: number }).n !== 666; i++) await sleep(10);
  await rt.terminate(id, { timeout: 200 });         // the thread is ended
  assert.is(rt.getState(id), 'terminated');
  assert.equal(rt.checkpoint(id), { n: 666 });
}));

test('runtime.events is an EventTarget; deadLetters and checkpoint of an unknown kernel throw KernelNotFoundError; deadLetterLimit is checked', async () => {
  await withRuntime(async (rt) => {
    assert.instance(rt.events, EventTarget);
    assert.throws(() => rt.deadLetters("nope"), (e: unknown) => e instanceof KernelNotFoundError);
    assert.throws(() => rt.checkpoint("nope"), (e: unknown) => e instanceof KernelNotFoundError);
  });
  for (const bad of [-1, 1.5, 'x', NaN]) assert.throws(() => new RingKernelRuntime({ deadLetterLimit: bad as number }), /deadLetterLimit/);
});

test.run();
