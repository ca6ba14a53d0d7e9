// RingKernelRuntime, inline placement: the lifecycle half of the facade contract
// (/work/shared/DESIGN.md "API contract"): two-phase launch, legal and illegal transitions,
// unknown and duplicate ids, ringKernel's option checks, terminate / failure / deactivate /
// shutdown semantics, disposal, and the kernel context (kernelId, waitActive, for await,
// AbortSignal).
//
// Kernel and message registries are global to the process (uvu runs every file in one), so
// every kernel id here starts with `lc_` and every message name with `Lc`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RingKernelRuntime, ringKernel, undefineKernel, definedKernelIds, message, t, KernelState,
  BackpressureStrategy, RingKernelError, KernelNotFoundError, KernelStateError,
  KernelAlreadyExistsError, QueueTimeoutError, KernelFailedError, KernelTerminatingError,
  type KernelContext, type KernelDefinition,
} from '../js/index.js';

// ---------------------------------------------------------------------------------------
// helpers

const LcNum = message('LcNum', { n: t.i32 });
const LcTag = message('LcTag', { n: t.i32, who: t.string });

import { sleep, now, rejects, throws, within, until, type Ctor, track, withRuntime } from './helpers/assert.js';



/** An echo kernel (for await, sends every message back) that records what it received. */
function echo(kernelId: string, extra: Partial<Parameters<typeof ringKernel>[0]> = {}) {
  const seen: number[] = [];
  const def = ringKernel({ kernelId, input: LcNum, output: LcNum, ...extra }, async (ctx: KernelContext<any, any>) => {
    for await (const m of ctx) { seen.push(m.n); await ctx.send(new LcNum({ n: m.n })); }
  });
  return { def, seen };
}

/** The KernelStateError of an illegal transition names the kernel, the state and the operation. */
function checkStateError(e: KernelStateError, id: string, state: string, operation: string): void {
  assert.is(e.kernelId, id, `kernelId field of ${operation} error`);
  assert.is(e.state, state, `state field of ${operation} error`);
  assert.is(e.operation, operation, `operation field of ${operation} error`);
  assert.ok(e.message.includes(id), `message names the kernel: ${e.message}`);
  assert.ok(e.message.includes(state), `message names the state '${state}': ${e.message}`);
  assert.ok(e.message.includes(operation), `message names the operation '${operation}': ${e.message}`);
  assert.instance(e, RingKernelError);
}

// ---------------------------------------------------------------------------------------
// two-phase launch

test('two-phase launch: a launched kernel receives nothing until activate; queued messages then flow in order', async () => {
  const { seen } = echo('lc_two_phase');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_two_phase');
      assert.is(rt.getState('lc_two_phase'), 'launched');
      for (let i = 0; i < 3; i++) await rt.send('lc_two_phase', new LcNum({ n: i }));
      await sleep(30);
      assert.equal(seen, [], 'kernel received before activate');
      assert.is(rt.getTelemetry('lc_two_phase')!.queueDepth, 3, 'the three sends wait in the input queue');
      assert.is(rt.getTelemetry('lc_two_phase')!.messagesProcessed, 0);
      await rejects(() => rt.receive('lc_two_phase', { timeout: 20 }), QueueTimeoutError, 'receive before activate');
      await rt.activate('lc_two_phase');
      assert.is(rt.getState('lc_two_phase'), 'active');
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await rt.receive('lc_two_phase', { timeout: 1000 }) as any).n);
      assert.equal(out, [0, 1, 2]);
      assert.equal(seen, [0, 1, 2]);
      // and later sends flow directly
      await rt.send('lc_two_phase', new LcNum({ n: 3 }));
      assert.is((await rt.receive('lc_two_phase', { timeout: 1000 }) as any).n, 3);
    });
  } finally { undefineKernel('lc_two_phase'); }
});

test('two-phase launch: the kernel function starts at launch but isActive is false until activate', async () => {
  const log: string[] = [];
  ringKernel({ kernelId: 'lc_started', input: LcNum }, async (ctx) => {
    log.push(`start active=${ctx.isActive} terminate=${ctx.shouldTerminate}`);
    await ctx.waitActive();
    log.push(`woke active=${ctx.isActive}`);
    for await (const _ of ctx) { /* drain */ }
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_started');
      await sleep(20);
      assert.equal(log, ['start active=false terminate=false'], 'the function runs from launch, inactive');
      await rt.activate('lc_started');
      await until(() => log.length === 2, 500, 'waitActive resolved');
      assert.equal(log[1], 'woke active=true');
    });
  } finally { undefineKernel('lc_started'); }
});

// ---------------------------------------------------------------------------------------
// illegal transitions

test('illegal transitions reject with KernelStateError naming the kernel, the state and the operation', async () => {
  const { def } = echo('lc_illegal');
  try {
    await withRuntime(async (rt) => {
      const id = 'lc_illegal';
      await rt.launch(id);
      // launched
      checkStateError(await rejects(() => rt.deactivate(id), KernelStateError, 'deactivate a launched kernel'), id, 'launched', 'deactivate');
      checkStateError(await rejects(() => rt.reactivate(id), KernelStateError, 'reactivate a launched kernel'), id, 'launched', 'reactivate');
      assert.is(rt.getState(id), 'launched', 'a refused transition changes nothing');
      await rt.activate(id);
      // active
      checkStateError(await rejects(() => rt.activate(id), KernelStateError, 'activate twice'), id, 'active', 'activate');
      checkStateError(await rejects(() => rt.reactivate(id), KernelStateError, 'reactivate an active kernel'), id, 'active', 'reactivate');
      assert.is(rt.getState(id), 'active');
      await rt.deactivate(id);
      // deactivated
      checkStateError(await rejects(() => rt.deactivate(id), KernelStateError, 'deactivate twice'), id, 'deactivated', 'deactivate');
      checkStateError(await rejects(() => rt.activate(id), KernelStateError, 'activate a deactivated kernel'), id, 'deactivated', 'activate');
      assert.is(rt.getState(id), 'deactivated');
      await rt.reactivate(id);
      assert.is(rt.getState(id), 'active');
      await rt.terminate(id);
      // terminated
      checkStateError(await rejects(() => rt.terminate(id), KernelStateError, 'terminate twice'), id, 'terminated', 'terminate');
      checkStateError(await rejects(() => rt.activate(id), KernelStateError, 'activate a terminated kernel'), id, 'terminated', 'activate');
      checkStateError(await rejects(() => rt.deactivate(id), KernelStateError, 'deactivate a terminated kernel'), id, 'terminated', 'deactivate');
      checkStateError(await rejects(() => rt.reactivate(id), KernelStateError, 'reactivate a terminated kernel'), id, 'terminated', 'reactivate');
      assert.is(rt.getState(id), 'terminated');
      // the same rules for a second instance of the definition
      await rt.launch('lc_illegal_2', def);
      checkStateError(await rejects(() => rt.reactivate('lc_illegal_2'), KernelStateError, 'reactivate instance 2'), 'lc_illegal_2', 'launched', 'reactivate');
    });
  } finally { undefineKernel('lc_illegal'); }
});

test('illegal transitions on a failed kernel name the state failed', async () => {
  ringKernel({ kernelId: 'lc_illegal_failed' }, async () => { throw new Error('lc fails at once'); });
  try {
    await withRuntime(async (rt) => {
      const id = 'lc_illegal_failed';
      await rt.launch(id);
      await until(() => rt.getState(id) === 'failed', 500, 'kernel failed');
      checkStateError(await rejects(() => rt.activate(id), KernelStateError, 'activate a failed kernel'), id, 'failed', 'activate');
      checkStateError(await rejects(() => rt.deactivate(id), KernelStateError, 'deactivate a failed kernel'), id, 'failed', 'deactivate');
      checkStateError(await rejects(() => rt.reactivate(id), KernelStateError, 'reactivate a failed kernel'), id, 'failed', 'reactivate');
      assert.is(rt.getState(id), 'failed');
    });
  } finally { undefineKernel('lc_illegal_failed'); }
});

// ---------------------------------------------------------------------------------------
// unknown and duplicate ids

test('unknown kernel ids: every runtime method reports KernelNotFoundError naming the id and the operation', async () => {
  const { def } = echo('lc_nf_known');
  try {
    await withRuntime(async (rt) => {
      const check = (e: KernelNotFoundError, op: string) => {
        assert.is(e.kernelId, 'lc_nope', `${op}: kernelId field`);
        assert.is(e.operation, op, `${op}: operation field`);
        assert.ok(e.message.includes('lc_nope'), `${op}: message names the id: ${e.message}`);
        assert.instance(e, RingKernelError);
      };
      for (const round of ['fresh runtime', 'after a launch']) {
        if (round === 'after a launch') await rt.launch('lc_nf_known', def);
        const msg = new LcNum({ n: 1 });
        check(await rejects(() => rt.send('lc_nope', msg), KernelNotFoundError, `${round}: send`), 'send');
        check(await rejects(() => rt.receive('lc_nope', { timeout: 10 }), KernelNotFoundError, `${round}: receive`), 'receive');
        check(await rejects(() => rt.activate('lc_nope'), KernelNotFoundError, `${round}: activate`), 'activate');
        check(await rejects(() => rt.deactivate('lc_nope'), KernelNotFoundError, `${round}: deactivate`), 'deactivate');
        check(await rejects(() => rt.reactivate('lc_nope'), KernelNotFoundError, `${round}: reactivate`), 'reactivate');
        check(await rejects(() => rt.terminate('lc_nope'), KernelNotFoundError, `${round}: terminate`), 'terminate');
        check(throws(() => rt.getState('lc_nope'), KernelNotFoundError, `${round}: getState`), 'getState');
        check(throws(() => rt.getTelemetry('lc_nope'), KernelNotFoundError, `${round}: getTelemetry`), 'getTelemetry');
        check(throws(() => rt.connect('lc_nope', 'lc_nf_known'), KernelNotFoundError, `${round}: connect from unknown`), 'connect');
      }
      // an unknown target of connect, too
      check(throws(() => rt.connect('lc_nf_known', 'lc_nope'), KernelNotFoundError, 'connect to unknown'), 'connect');
      // launch of an id that no kernel is defined under
      const e = await rejects(() => rt.launch('lc_never_defined'), KernelNotFoundError, 'launch an undefined kernel');
      assert.is(e.kernelId, 'lc_never_defined');
      assert.ok(e.message.includes('lc_never_defined'));
      await rejects(() => rt.launch('lc_nf_other', 'lc_never_defined_either'), KernelNotFoundError, 'launch with an undefined definition id');
      assert.not.ok(rt.kernelIds().includes('lc_never_defined'), 'a failed launch leaves nothing behind');
      assert.not.ok(rt.kernelIds().includes('lc_nf_other'));
    });
  } finally { undefineKernel('lc_nf_known'); }
});

test('launching an id twice rejects with KernelAlreadyExistsError (also when both launches race)', async () => {
  const { def } = echo('lc_twice');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_twice');
      const e = await rejects(() => rt.launch('lc_twice'), KernelAlreadyExistsError, 'second launch');
      assert.is(e.kernelId, 'lc_twice');
      assert.ok(e.message.includes('lc_twice'));
      await rejects(() => rt.launch('lc_twice', def), KernelAlreadyExistsError, 'second launch with the definition');
      assert.is(rt.getState('lc_twice'), 'launched', 'the first instance is untouched');
      // two launches of a new id at the same time: exactly one wins
      const results = await Promise.allSettled([rt.launch('lc_twice_race', def), rt.launch('lc_twice_race', def)]);
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const bad = results.filter((r) => r.status === 'rejected' && r.reason instanceof KernelAlreadyExistsError).length;
      assert.is(ok, 1, 'one concurrent launch succeeds');
      assert.is(bad, 1, 'the other rejects with KernelAlreadyExistsError');
      assert.is(rt.kernelIds().filter((k) => k === 'lc_twice_race').length, 1);
    });
  } finally { undefineKernel('lc_twice'); }
});

test('ringKernel: a duplicate kernelId throws KernelAlreadyExistsError and keeps the first definition', async () => {
  let ran = '';
  const first = ringKernel({ kernelId: 'lc_dup_def' }, async () => { ran = 'first'; });
  try {
    const e = throws(() => ringKernel({ kernelId: 'lc_dup_def' }, async () => { ran = 'second'; }), KernelAlreadyExistsError, 'define twice');
    assert.is(e.kernelId, 'lc_dup_def');
    assert.ok(e.message.includes('lc_dup_def'));
    assert.ok(definedKernelIds().includes('lc_dup_def'));
    await withRuntime(async (rt) => {
      await rt.launch('lc_dup_def');
      await until(() => ran !== '', 500, 'kernel ran');
      assert.is(ran, 'first', 'the registered definition is the first one');
    });
    assert.is(first.kernelId, 'lc_dup_def');
  } finally { undefineKernel('lc_dup_def'); }
  // once undefined, the id may be defined again
  ringKernel({ kernelId: 'lc_dup_def' }, async () => {});
  assert.ok(undefineKernel('lc_dup_def'));
});

test('ringKernel: bad options throw TypeError / RangeError and register nothing', () => {
  const fn = async () => {};
  const EitherError = Error; // a wrongly typed value: TypeError or RangeError, both fine
  const cases: Array<[string, () => unknown, Ctor<Error>]> = [
    ['queueSize 0', () => ringKernel({ kernelId: 'lc_bad', queueSize: 0 }, fn), RangeError],
    ['queueSize -4', () => ringKernel({ kernelId: 'lc_bad', queueSize: -4 }, fn), RangeError],
    ['queueSize 2.5', () => ringKernel({ kernelId: 'lc_bad', queueSize: 2.5 }, fn), RangeError],
    ['queueSize NaN', () => ringKernel({ kernelId: 'lc_bad', queueSize: NaN }, fn), RangeError],
    ['queueSize "16"', () => ringKernel({ kernelId: 'lc_bad', queueSize: '16' as any }, fn), EitherError],
    ['queueSize 2^40', () => ringKernel({ kernelId: 'lc_bad', queueSize: 2 ** 40 }, fn), RangeError],
    ['maxMessageSize 0', () => ringKernel({ kernelId: 'lc_bad', maxMessageSize: 0 }, fn), RangeError],
    ['placement "cloud"', () => ringKernel({ kernelId: 'lc_bad', placement: 'cloud' as any }, fn), TypeError],
    ['backpressure "wait"', () => ringKernel({ kernelId: 'lc_bad', backpressure: 'wait' as any }, fn), TypeError],
    ['backpressure "BLOCK"', () => ringKernel({ kernelId: 'lc_bad', backpressure: 'BLOCK' as any }, fn), TypeError],
    ['missing fn', () => (ringKernel as any)({ kernelId: 'lc_bad' }), TypeError],
    ['fn not a function', () => ringKernel({ kernelId: 'lc_bad' }, 42 as any), TypeError],
    ['empty kernelId', () => ringKernel({ kernelId: '' }, fn), TypeError],
    ['kernelId a number', () => ringKernel({ kernelId: 7 as any }, fn), TypeError],
    ['no options', () => (ringKernel as any)(undefined, fn), TypeError],
    ['null options', () => (ringKernel as any)(null, fn), TypeError],
  ];
  for (const [what, f, cls] of cases) {
    const e = throws(f, cls, what);
    assert.ok(e instanceof TypeError || e instanceof RangeError, `${what}: a TypeError or RangeError, got ${e.name}`);
    assert.ok(e.message.length > 0, `${what}: has a message`);
    assert.not.ok(definedKernelIds().includes('lc_bad'), `${what}: registered the kernel anyway`);
  }
  // the messages say what is wrong
  assert.match(throws(() => ringKernel({ kernelId: 'lc_bad', queueSize: 0 }, fn), RangeError, 'q').message, /queueSize/);
  assert.match(throws(() => ringKernel({ kernelId: 'lc_bad', placement: 'cloud' as any }, fn), TypeError, 'p').message, /placement/);
  assert.match(throws(() => ringKernel({ kernelId: 'lc_bad', backpressure: 'wait' as any }, fn), TypeError, 'b').message, /backpressure/);
  // and after all of that the id is free
  const def = ringKernel({ kernelId: 'lc_bad', queueSize: 8, backpressure: BackpressureStrategy.REJECT }, fn);
  assert.is(def.queueSize, 8);
  assert.is(def.backpressure, 'reject');
  assert.ok(undefineKernel('lc_bad'));
});

test('ringKernel defaults: queueSize 4096, BLOCK, 1 MiB maxMessageSize, inline placement', () => {
  const def = ringKernel({ kernelId: 'lc_defaults' }, async () => {});
  try {
    assert.is(def.queueSize, 4096);
    assert.is(def.backpressure, BackpressureStrategy.BLOCK);
    assert.is(def.backpressure, 'block');
    assert.is(def.maxMessageSize, 1 << 20);
    assert.is(def.placement, 'inline');
  } finally { undefineKernel('lc_defaults'); }
});

// ---------------------------------------------------------------------------------------
// terminate

test('terminate wakes a kernel blocked in receive() (no timeout) at once', async () => {
  let caught: unknown = undefined, caughtAt = 0, returned = false;
  ringKernel({ kernelId: 'lc_wake', input: LcNum }, async (ctx) => {
    try { await ctx.receive(); } catch (e) { caught = e; caughtAt = now(); }
    returned = true;
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_wake');
      await rt.activate('lc_wake');
      await sleep(30); // the kernel is now blocked in receive()
      assert.is(caught, undefined);
      const t0 = now();
      await within(rt.terminate('lc_wake'), 2000, 'terminate');
      const dt = now() - t0;
      assert.ok(dt < 100, `terminate took ${dt.toFixed(1)} ms (the default stop timeout is 5 s; the blocked receive must end at once)`);
      assert.ok(returned, 'kernel function returned');
      assert.ok(caughtAt - t0 < 100, `the blocked receive ended ${(caughtAt - t0).toFixed(1)} ms after terminate`);
      // a QueueTimeoutError, so loops that go on after a timeout end cleanly (README)
      assert.instance(caught, KernelTerminatingError, 'the blocked receive rejects with KernelTerminatingError');
      assert.instance(caught, QueueTimeoutError);
      assert.is((caught as KernelTerminatingError).kernelId, 'lc_wake');
      assert.is(rt.getState('lc_wake'), 'terminated');
    });
  } finally { undefineKernel('lc_wake'); }
});

test('terminate wakes a kernel blocked in receive() while only launched (never activated)', async () => {
  let returned = false;
  ringKernel({ kernelId: 'lc_wake_launched', input: LcNum }, async (ctx) => {
    try { await ctx.receive(); } catch { /* terminating */ }
    returned = true;
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_wake_launched');
      await sleep(20);
      const t0 = now();
      await within(rt.terminate('lc_wake_launched'), 2000, 'terminate');
      assert.ok(now() - t0 < 100, `terminate took ${(now() - t0).toFixed(1)} ms`);
      assert.ok(returned);
      assert.is(rt.getState('lc_wake_launched'), 'terminated');
    });
  } finally { undefineKernel('lc_wake_launched'); }
});

test('terminate: shouldTerminate turns true, the state is terminating while the function winds down, then terminated', async () => {
  const seenDuring: string[] = [];
  let rtRef: RingKernelRuntime | null = null;
  ringKernel({ kernelId: 'lc_winding' }, async (ctx) => {
    while (!ctx.shouldTerminate) await sleep(2);
    seenDuring.push(rtRef!.getState('lc_winding'));
    await sleep(40); // cleanup
    seenDuring.push(rtRef!.getState('lc_winding'));
  });
  try {
    await withRuntime(async (rt) => {
      rtRef = rt;
      await rt.launch('lc_winding');
      await rt.activate('lc_winding');
      const p = rt.terminate('lc_winding');
      assert.is(rt.getState('lc_winding'), KernelState.TERMINATING);
      await within(p, 2000, 'terminate');
      assert.equal(seenDuring, ['terminating', 'terminating']);
      assert.is(rt.getState('lc_winding'), KernelState.TERMINATED);
    });
  } finally { undefineKernel('lc_winding'); }
});

test('terminate gives up on a kernel that ignores it after its timeout', async () => {
  let stop = false;
  ringKernel({ kernelId: 'lc_stubborn' }, async () => { while (!stop) await sleep(10); });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_stubborn');
      await rt.activate('lc_stubborn');
      const t0 = now();
      await within(rt.terminate('lc_stubborn', { timeout: 100 }), 2000, 'terminate with timeout 100');
      const dt = now() - t0;
      assert.ok(dt >= 90 && dt < 600, `terminate({ timeout: 100 }) took ${dt.toFixed(1)} ms`);
      assert.is(rt.getState('lc_stubborn'), 'terminated');
    });
  } finally { stop = true; undefineKernel('lc_stubborn'); }
});

test('a terminate or shutdown issued while another terminate is in progress still ends within its own timeout', async () => {
  let stop = false;
  ringKernel({ kernelId: 'lc_stubborn_2' }, async () => { while (!stop) await sleep(10); });
  try {
    const rt = new RingKernelRuntime();
    await rt.launch('lc_stubborn_2');
    await rt.activate('lc_stubborn_2');
    const first = track(rt.terminate('lc_stubborn_2', { timeout: 2000 }));
    await sleep(10);
    assert.is(rt.getState('lc_stubborn_2'), 'terminating');
    const t0 = now();
    let second: unknown = 'pending';
    try { await within(rt.terminate('lc_stubborn_2', { timeout: 100 }), 700, 'second terminate'); second = 'ok'; } catch (e) { second = e; }
    const t1 = now();
    let shut: unknown = 'pending';
    try { await within(rt.shutdown({ timeout: 100 }), 700, 'shutdown during a terminate'); shut = 'ok'; } catch (e) { shut = e; }
    const t2 = now();
    stop = true; // let the kernel go, whatever happened, so nothing hangs
    await until(() => first.settled, 2000, 'first terminate settled');
    assert.ok(t1 - t0 < 600, `a second terminate({ timeout: 100 }) during a terminate took ${(t1 - t0).toFixed(0)} ms (it waits for a function that ignores termination with no limit)`);
    assert.ok(t2 - t1 < 600, `shutdown({ timeout: 100 }) during a terminate took ${(t2 - t1).toFixed(0)} ms`);
    assert.ok(second === 'ok' || second instanceof RingKernelError, `second terminate: ${String(second)}`);
    assert.is(shut, 'ok', `shutdown({ timeout: 100 }) during a terminate: ${String(shut)}`);
    assert.is(rt.getState('lc_stubborn_2'), 'terminated');
  } finally { stop = true; undefineKernel('lc_stubborn_2'); }
});

test('terminate rejects a host send that was waiting for room (BLOCK, no timeout) at once', async () => {
  echo('lc_term_sender', { queueSize: 2 });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_term_sender'); // never activated: the queue stays full
      await rt.send('lc_term_sender', new LcNum({ n: 0 }));
      await rt.send('lc_term_sender', new LcNum({ n: 1 }));
      const pending = track(rt.send('lc_term_sender', new LcNum({ n: 2 }))); // waits for room, no limit
      await sleep(10);
      assert.not.ok(pending.settled, 'the send waits for room');
      const t0 = now();
      await within(rt.terminate('lc_term_sender'), 2000, 'terminate');
      await until(() => pending.settled || now() - t0 > 300, 400, 'poll');
      assert.ok(pending.settled, 'the waiting send is still pending after terminate (it would wait forever)');
      assert.ok(pending.at - t0 < 100, `the waiting send settled ${(pending.at - t0).toFixed(1)} ms after terminate`);
      assert.instance(pending.error, RingKernelError, `the waiting send must reject, got ${String(pending.error ?? 'a resolve')}`);
      assert.is((pending.error as RingKernelError).kernelId, 'lc_term_sender');
    });
  } finally { undefineKernel('lc_term_sender'); }
});

test('a kernel failing rejects host sends that were waiting for room on it at once', async () => {
  ringKernel({ kernelId: 'lc_fail_sender', input: LcNum, queueSize: 2 }, async (ctx) => {
    await ctx.waitActive();
    throw new Error('lc fail with senders waiting');
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_fail_sender');
      await rt.send('lc_fail_sender', new LcNum({ n: 0 }));
      await rt.send('lc_fail_sender', new LcNum({ n: 1 }));
      const pending = track(rt.send('lc_fail_sender', new LcNum({ n: 2 }), { timeout: 1500 }));
      await sleep(10);
      assert.not.ok(pending.settled, 'the send waits for room');
      const t0 = now();
      await rt.activate('lc_fail_sender'); // the kernel fails right away, without consuming
      await until(() => rt.getState('lc_fail_sender') === 'failed', 500, 'failed');
      await until(() => pending.settled || now() - t0 > 300, 400, 'poll');
      assert.ok(pending.settled && pending.at - t0 < 100,
        `the waiting send ${pending.settled ? `settled ${(pending.at - t0).toFixed(1)} ms` : 'was still pending 300 ms'} after the kernel failed`);
      assert.instance(pending.error, RingKernelError, `the waiting send must reject, got ${String(pending.error ?? 'a resolve')}`);
    });
  } finally { undefineKernel('lc_fail_sender'); }
});

test('terminate wakes a kernel blocked in ctx.send on its full output queue (BLOCK, no timeout)', async () => {
  let sendError: unknown = null, returned = false;
  ringKernel({ kernelId: 'lc_term_ctx_send', input: LcNum, output: LcNum, queueSize: 2 }, async (ctx) => {
    const m = await ctx.receive();
    try { for (let i = 0; i < 10; i++) await ctx.send(new LcNum({ n: m.n + i })); } catch (e) { sendError = e; }
    returned = true;
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_term_ctx_send');
      await rt.activate('lc_term_ctx_send');
      await rt.send('lc_term_ctx_send', new LcNum({ n: 0 }));
      await sleep(20); // two outputs fit; the third send blocks
      assert.not.ok(returned);
      const t0 = now();
      await within(rt.terminate('lc_term_ctx_send', { timeout: 300 }), 2000, 'terminate');
      const dt = now() - t0;
      assert.ok(returned && dt < 100, `terminate took ${dt.toFixed(0)} ms: the kernel stayed blocked in ctx.send until the stop timeout`);
      assert.instance(sendError, RingKernelError);
    });
  } finally { undefineKernel('lc_term_ctx_send'); }
});

test('a host receive waiting on a kernel that is terminated rejects at once', async () => {
  echo('lc_term_host_recv');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_term_host_recv');
      await rt.activate('lc_term_host_recv');
      const pending = track(rt.receive('lc_term_host_recv'));
      await sleep(10);
      const t0 = now();
      await rt.terminate('lc_term_host_recv');
      await until(() => pending.settled, 500, 'the waiting receive settled');
      assert.ok(pending.at - t0 < 100);
      assert.instance(pending.error, KernelStateError);
      assert.is((pending.error as KernelStateError).kernelId, 'lc_term_host_recv');
    });
  } finally { undefineKernel('lc_term_host_recv'); }
});

// ---------------------------------------------------------------------------------------
// failure

test('a kernel that throws goes to failed: error in telemetry, outputs first, then KernelFailedError; send rejects', async () => {
  ringKernel({ kernelId: 'lc_fail', input: LcNum, output: LcNum }, async (ctx) => {
    const m = await ctx.receive();
    await ctx.send(new LcNum({ n: m.n + 1 }));
    await ctx.send(new LcNum({ n: m.n + 2 }));
    throw new Error('lc boom 42');
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_fail');
      await rt.activate('lc_fail');
      await rt.send('lc_fail', new LcNum({ n: 10 }));
      await until(() => rt.getState('lc_fail') === 'failed', 1000, 'kernel failed');
      assert.is(rt.getState('lc_fail'), KernelState.FAILED);
      const tel = rt.getTelemetry('lc_fail')!;
      assert.is(tel.errorCount, 1, 'errorCount');
      assert.ok(tel.lastError !== null && tel.lastError.includes('lc boom 42'), `lastError: ${tel.lastError}`);
      assert.is(tel.state, 'failed');
      // what it sent before failing comes first
      assert.is((await within(rt.receive('lc_fail'), 500, 'receive output 1') as any).n, 11);
      assert.is((await within(rt.receive('lc_fail'), 500, 'receive output 2') as any).n, 12);
      // then receive (no timeout) rejects promptly instead of hanging
      const t0 = now();
      const e = await within(rejects(() => rt.receive('lc_fail'), KernelFailedError, 'receive on a failed kernel'), 1000, 'receive on failed');
      assert.ok(now() - t0 < 100, `receive took ${(now() - t0).toFixed(1)} ms to reject`);
      assert.is(e.kernelId, 'lc_fail');
      assert.ok(e.message.includes('lc_fail'), e.message);
      assert.ok(e.message.includes('lc boom 42'), `the message carries the cause: ${e.message}`);
      assert.instance(e.cause, Error);
      assert.is((e.cause as Error).message, 'lc boom 42');
      // again: it keeps rejecting
      await rejects(() => rt.receive('lc_fail', { timeout: 1000 }), KernelFailedError, 'second receive on a failed kernel');
      // send to it rejects and enqueues nothing
      const se = await rejects(() => rt.send('lc_fail', new LcNum({ n: 1 })), RingKernelError, 'send to a failed kernel');
      assert.is(se.kernelId, 'lc_fail');
      assert.is(rt.getTelemetry('lc_fail')!.queueDepth, 0);
      assert.is(rt.getTelemetry('lc_fail')!.errorCount, 1, 'still one error');
    });
  } finally { undefineKernel('lc_fail'); }
});

test('a receive already waiting on a kernel when it fails rejects with KernelFailedError at once', async () => {
  ringKernel({ kernelId: 'lc_fail_wait', input: LcNum }, async (ctx) => {
    await ctx.receive();
    throw new RangeError('lc late boom');
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_fail_wait');
      await rt.activate('lc_fail_wait');
      const pending = track(rt.receive('lc_fail_wait')); // no timeout
      await sleep(20);
      assert.not.ok(pending.settled, 'nothing to receive yet');
      const t0 = now();
      await rt.send('lc_fail_wait', new LcNum({ n: 1 }));
      await until(() => pending.settled, 1000, 'the waiting receive settled');
      assert.ok(pending.at - t0 < 100, `settled ${(pending.at - t0).toFixed(1)} ms after the failure`);
      assert.instance(pending.error, KernelFailedError);
      assert.is((pending.error as KernelFailedError).kernelId, 'lc_fail_wait');
      assert.instance((pending.error as KernelFailedError).cause, RangeError);
      const tel = rt.getTelemetry('lc_fail_wait')!;
      assert.is(tel.errorCount, 1);
      assert.match(tel.lastError ?? '', /lc late boom/);
    });
  } finally { undefineKernel('lc_fail_wait'); }
});

test('a kernel function that throws synchronously, or throws a non-Error, fails too', async () => {
  ringKernel({ kernelId: 'lc_fail_sync' }, (() => { throw new TypeError('lc sync boom'); }) as any);
  ringKernel({ kernelId: 'lc_fail_string' }, async () => { throw 'lc string boom'; });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_fail_sync');
      await rt.launch('lc_fail_string');
      await until(() => rt.getState('lc_fail_sync') === 'failed' && rt.getState('lc_fail_string') === 'failed', 500, 'both failed');
      assert.match(rt.getTelemetry('lc_fail_sync')!.lastError ?? '', /lc sync boom/);
      assert.match(rt.getTelemetry('lc_fail_string')!.lastError ?? '', /lc string boom/);
      await within(rejects(() => rt.receive('lc_fail_sync'), KernelFailedError, 'receive on sync failure'), 1000, 'receive on sync failure');
      await within(rejects(() => rt.receive('lc_fail_string'), KernelFailedError, 'receive on string failure'), 1000, 'receive on string failure');
    });
  } finally { undefineKernel('lc_fail_sync'); undefineKernel('lc_fail_string'); }
});

test('a failed kernel does not disturb its neighbours', async () => {
  ringKernel({ kernelId: 'lc_fail_nb' }, async () => { throw new Error('lc neighbour boom'); });
  echo('lc_fail_nb_ok');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_fail_nb');
      await rt.launch('lc_fail_nb_ok');
      await rt.activate('lc_fail_nb_ok');
      await until(() => rt.getState('lc_fail_nb') === 'failed', 500, 'failed');
      await rt.send('lc_fail_nb_ok', new LcNum({ n: 5 }));
      assert.is((await rt.receive('lc_fail_nb_ok', 1000) as any).n, 5);
      assert.is(rt.getState('lc_fail_nb_ok'), 'active');
      assert.is(rt.getTelemetry('lc_fail_nb_ok')!.errorCount, 0);
    });
  } finally { undefineKernel('lc_fail_nb'); undefineKernel('lc_fail_nb_ok'); }
});

// ---------------------------------------------------------------------------------------
// deactivate

test('deactivate pauses delivery even for a kernel that never checks isActive; reactivate resumes, nothing lost, order kept', async () => {
  const { seen } = echo('lc_pause');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_pause');
      await rt.activate('lc_pause');
      for (let i = 0; i < 3; i++) await rt.send('lc_pause', new LcNum({ n: i }));
      for (let i = 0; i < 3; i++) assert.is((await rt.receive('lc_pause', 1000) as any).n, i);
      await rt.deactivate('lc_pause');
      assert.is(rt.getState('lc_pause'), 'deactivated');
      for (let i = 3; i < 8; i++) await rt.send('lc_pause', new LcNum({ n: i }));
      await sleep(40);
      assert.equal(seen, [0, 1, 2], 'nothing delivered while deactivated');
      assert.is(rt.getTelemetry('lc_pause')!.queueDepth, 5, 'the five sends wait');
      await rejects(() => rt.receive('lc_pause', 20), QueueTimeoutError, 'no output while deactivated');
      await rt.reactivate('lc_pause');
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push((await rt.receive('lc_pause', 1000) as any).n);
      assert.equal(out, [3, 4, 5, 6, 7]);
      assert.equal(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
      // pause / resume again, with sends interleaved
      await rt.deactivate('lc_pause');
      await rt.send('lc_pause', new LcNum({ n: 8 }));
      await sleep(10);
      assert.is(seen.length, 8);
      await rt.reactivate('lc_pause');
      await rt.send('lc_pause', new LcNum({ n: 9 }));
      assert.is((await rt.receive('lc_pause', 1000) as any).n, 8);
      assert.is((await rt.receive('lc_pause', 1000) as any).n, 9);
    });
  } finally { undefineKernel('lc_pause'); }
});

test('deactivate: isActive is false and waitActive waits until reactivate', async () => {
  const log: string[] = [];
  let rounds = 0;
  ringKernel({ kernelId: 'lc_pause_flags' }, async (ctx) => {
    while (!ctx.shouldTerminate) {
      if (!ctx.isActive) { log.push('wait'); await ctx.waitActive(); log.push(`woke ${ctx.isActive}`); continue; }
      rounds++;
      await sleep(2);
    }
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_pause_flags');
      await sleep(10);
      assert.equal(log, ['wait']);
      await rt.activate('lc_pause_flags');
      await until(() => rounds > 2, 500, 'running');
      await rt.deactivate('lc_pause_flags');
      await until(() => log.length === 3, 500, 'noticed deactivate');
      const r = rounds;
      await sleep(30);
      assert.is(rounds, r, 'no rounds while deactivated');
      assert.equal(log, ['wait', 'woke true', 'wait']);
      await rt.reactivate('lc_pause_flags');
      await until(() => log.length === 4, 500, 'woke after reactivate');
      assert.is(log[3], 'woke true');
      await until(() => rounds > r, 500, 'running again');
    });
  } finally { undefineKernel('lc_pause_flags'); }
});

// ---------------------------------------------------------------------------------------
// shutdown and disposal

test('shutdown ends everything within its timeout even if a kernel ignores termination', async () => {
  let stop = false, sawTerminate = false;
  ringKernel({ kernelId: 'lc_runaway' }, async (ctx) => {
    while (!stop) { await new Promise((r) => setTimeout(r, 10)); if (ctx.shouldTerminate) sawTerminate = true; }
  });
  const { def } = echo('lc_runaway_polite');
  try {
    const rt = new RingKernelRuntime();
    await rt.launch('lc_runaway');
    await rt.activate('lc_runaway');
    await rt.launch('lc_runaway_polite', def);
    await rt.activate('lc_runaway_polite');
    await sleep(20);
    const t0 = now();
    await within(rt.shutdown({ timeout: 200 }), 3000, 'shutdown');
    const dt = now() - t0;
    assert.ok(dt < 1000, `shutdown({ timeout: 200 }) took ${dt.toFixed(1)} ms`);
    assert.ok(sawTerminate, 'the kernel was told (shouldTerminate) even though it ignores it');
    assert.is(rt.getState('lc_runaway'), 'terminated');
    assert.is(rt.getState('lc_runaway_polite'), 'terminated');
    // a second shutdown is a no-op
    await within(rt.shutdown(), 500, 'second shutdown');
  } finally { stop = true; undefineKernel('lc_runaway'); undefineKernel('lc_runaway_polite'); }
});

test('shutdown wakes blocked kernels and is quick when they cooperate; it handles failed and launched-only kernels', async () => {
  const { def } = echo('lc_shut_a');
  ringKernel({ kernelId: 'lc_shut_fail' }, async () => { throw new Error('lc shut boom'); });
  try {
    const rt = new RingKernelRuntime();
    await rt.launch('lc_shut_a');
    await rt.activate('lc_shut_a');
    await rt.launch('lc_shut_b', def);          // launched only
    await rt.launch('lc_shut_c', def);
    await rt.activate('lc_shut_c');
    await rt.deactivate('lc_shut_c');            // deactivated
    await rt.launch('lc_shut_fail');
    await until(() => rt.getState('lc_shut_fail') === 'failed', 500, 'failed');
    const pendingHost = track(rt.receive('lc_shut_a')); // a host receive waiting when the runtime shuts down
    const t0 = now();
    await within(rt.shutdown(), 2000, 'shutdown');
    assert.ok(now() - t0 < 200, `shutdown took ${(now() - t0).toFixed(1)} ms with cooperative kernels`);
    for (const id of ['lc_shut_a', 'lc_shut_b', 'lc_shut_c']) assert.is(rt.getState(id), 'terminated', id);
    assert.ok(['failed', 'terminated'].includes(rt.getState('lc_shut_fail')));
    await until(() => pendingHost.settled, 500, 'the waiting host receive settled');
    assert.instance(pendingHost.error, RingKernelError, 'the waiting host receive rejected');
  } finally { undefineKernel('lc_shut_a'); undefineKernel('lc_shut_fail'); }
});

test('await using disposes the runtime: kernels are terminated after the block', async () => {
  let returned = false;
  ringKernel({ kernelId: 'lc_dispose', input: LcNum, output: LcNum }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
    returned = true;
  });
  let outer: RingKernelRuntime | null = null;
  try {
    {
      await using runtime = new RingKernelRuntime();
      outer = runtime;
      await runtime.launch('lc_dispose');
      await runtime.activate('lc_dispose');
      await runtime.send('lc_dispose', new LcNum({ n: 1 }));
      assert.is((await runtime.receive('lc_dispose', 1000) as any).n, 1);
      assert.not.ok(returned);
    }
    assert.ok(returned, 'the kernel function returned when the block ended');
    assert.is(outer!.getState('lc_dispose'), 'terminated');
    await rejects(() => outer!.send('lc_dispose', new LcNum({ n: 2 })), RingKernelError, 'send after disposal');
  } finally { undefineKernel('lc_dispose'); }
});

test('runtime methods after shutdown reject', async () => {
  const { def } = echo('lc_after');
  try {
    const rt = new RingKernelRuntime();
    await rt.launch('lc_after');
    await rt.activate('lc_after');
    await rt.shutdown();
    const msg = new LcNum({ n: 1 });
    const e = await rejects(() => rt.launch('lc_after_new', def), RingKernelError, 'launch after shutdown');
    assert.match(e.message, /shut ?down/i);
    await rejects(() => rt.launch('lc_after'), RingKernelError, 'relaunch after shutdown');
    await rejects(() => rt.send('lc_after', msg), RingKernelError, 'send after shutdown');
    await rejects(() => rt.receive('lc_after', 10), RingKernelError, 'receive after shutdown');
    await rejects(() => rt.activate('lc_after'), RingKernelError, 'activate after shutdown');
    await rejects(() => rt.deactivate('lc_after'), RingKernelError, 'deactivate after shutdown');
    await rejects(() => rt.reactivate('lc_after'), RingKernelError, 'reactivate after shutdown');
    await rejects(() => rt.terminate('lc_after'), RingKernelError, 'terminate after shutdown');
    throws(() => rt.connect('lc_after', 'lc_after'), RingKernelError, 'connect after shutdown');
    assert.not.ok(rt.kernelIds().includes('lc_after_new'));
  } finally { undefineKernel('lc_after'); }
});

// ---------------------------------------------------------------------------------------
// states, ids, instances

test('getState returns the KernelState strings through the lifecycle', async () => {
  assert.equal({ ...KernelState }, {
    CREATED: 'created', LAUNCHED: 'launched', ACTIVE: 'active', DEACTIVATED: 'deactivated',
    TERMINATING: 'terminating', TERMINATED: 'terminated', FAILED: 'failed',
  });
  echo('lc_states');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_states');
      const s1 = rt.getState('lc_states');
      assert.is(typeof s1, 'string');
      assert.is(s1, KernelState.LAUNCHED);
      await rt.activate('lc_states');
      assert.is(rt.getState('lc_states'), KernelState.ACTIVE);
      await rt.deactivate('lc_states');
      assert.is(rt.getState('lc_states'), KernelState.DEACTIVATED);
      await rt.reactivate('lc_states');
      assert.is(rt.getState('lc_states'), 'active');
      await rt.terminate('lc_states');
      assert.is(rt.getState('lc_states'), KernelState.TERMINATED);
      assert.is(rt.getTelemetry('lc_states')!.state, 'terminated', 'telemetry keeps the last state');
    });
  } finally { undefineKernel('lc_states'); }
});

test('a kernel whose function returns by itself ends terminated (not failed)', async () => {
  ringKernel({ kernelId: 'lc_returns', input: LcNum }, async (ctx) => { await ctx.receive(); });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_returns');
      await rt.activate('lc_returns');
      await rt.send('lc_returns', new LcNum({ n: 1 }));
      await until(() => rt.getState('lc_returns') !== 'active', 500, 'returned');
      assert.is(rt.getState('lc_returns'), 'terminated');
      assert.is(rt.getTelemetry('lc_returns')!.errorCount, 0);
      await rejects(() => rt.send('lc_returns', new LcNum({ n: 2 })), RingKernelError, 'send to a returned kernel');
      await rejects(() => within(rt.receive('lc_returns'), 500, 'receive on returned kernel'), RingKernelError, 'receive on a returned kernel');
    });
  } finally { undefineKernel('lc_returns'); }
});

test('kernelIds lists the launched kernels', async () => {
  const { def } = echo('lc_ids');
  try {
    await withRuntime(async (rt) => {
      assert.equal(rt.kernelIds(), []);
      await rt.launch('lc_ids');
      await rt.launch('lc_ids_1', def);
      await rt.launch('lc_ids_2', 'lc_ids');
      assert.equal([...rt.kernelIds()].sort(), ['lc_ids', 'lc_ids_1', 'lc_ids_2']);
      // a copy: mutating it changes nothing
      rt.kernelIds().push('lc_ids_bogus');
      assert.not.ok(rt.kernelIds().includes('lc_ids_bogus'));
    });
  } finally { undefineKernel('lc_ids'); }
});

test('launching more instances of a definition under new ids: ctx.kernelId is the launched id; instances are independent', async () => {
  const def = ringKernel({ kernelId: 'lc_pre', input: LcNum, output: LcTag }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new LcTag({ n: m.n, who: ctx.kernelId }));
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_pre');
      await rt.launch('lc_pre_0', def);
      await rt.launch('lc_pre_1', 'lc_pre');
      for (const id of ['lc_pre', 'lc_pre_0', 'lc_pre_1']) await rt.activate(id);
      await rt.send('lc_pre_0', new LcNum({ n: 0 }));
      await rt.send('lc_pre_1', new LcNum({ n: 1 }));
      await rt.send('lc_pre', new LcNum({ n: 2 }));
      const a = await rt.receive('lc_pre_0', 1000) as any;
      const b = await rt.receive('lc_pre_1', 1000) as any;
      const c = await rt.receive('lc_pre', 1000) as any;
      assert.equal([a.who, a.n], ['lc_pre_0', 0]);
      assert.equal([b.who, b.n], ['lc_pre_1', 1]);
      assert.equal([c.who, c.n], ['lc_pre', 2]);
      // independent lifecycles
      await rt.deactivate('lc_pre_0');
      assert.is(rt.getState('lc_pre_0'), 'deactivated');
      assert.is(rt.getState('lc_pre_1'), 'active');
      await rt.terminate('lc_pre_1');
      assert.is(rt.getState('lc_pre'), 'active');
      await rt.send('lc_pre', new LcNum({ n: 3 }));
      assert.is((await rt.receive('lc_pre', 1000) as any).n, 3);
      assert.is(rt.getTelemetry('lc_pre_0')!.kernelId, 'lc_pre_0');
      assert.is(rt.getTelemetry('lc_pre_1')!.kernelId, 'lc_pre_1');
    });
  } finally { undefineKernel('lc_pre'); }
});

test('a definition not in the registry (undefined after defining) can still be launched by value', async () => {
  const { def } = echo('lc_by_value');
  undefineKernel('lc_by_value');
  await withRuntime(async (rt) => {
    await rejects(() => rt.launch('lc_by_value'), KernelNotFoundError, 'launch by id after undefine');
    await rt.launch('lc_by_value_0', def as KernelDefinition);
    await rt.activate('lc_by_value_0');
    await rt.send('lc_by_value_0', new LcNum({ n: 9 }));
    assert.is((await rt.receive('lc_by_value_0', 1000) as any).n, 9);
  });
});

// ---------------------------------------------------------------------------------------
// the context

test('terminate wakes a deactivated kernel blocked in receive at once', async () => {
  let ended = false;
  ringKernel({ kernelId: 'lc_term_deact', input: LcNum }, async (ctx) => {
    for await (const _ of ctx) { /* drain */ }
    ended = true;
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_term_deact');
      await rt.activate('lc_term_deact');
      await rt.deactivate('lc_term_deact');
      await rt.send('lc_term_deact', new LcNum({ n: 1 }));
      await sleep(10);
      const t0 = now();
      await within(rt.terminate('lc_term_deact'), 2000, 'terminate');
      assert.ok(now() - t0 < 100, `terminate took ${(now() - t0).toFixed(1)} ms`);
      assert.ok(ended);
      assert.is(rt.getState('lc_term_deact'), 'terminated');
    });
  } finally { undefineKernel('lc_term_deact'); }
});

test('ctx.waitActive resolves on activate, and at once once terminating (a never-activated kernel can be terminated)', async () => {
  const log: string[] = [];
  ringKernel({ kernelId: 'lc_wait_active' }, async (ctx) => {
    await ctx.waitActive();
    log.push(`a active=${ctx.isActive} terminate=${ctx.shouldTerminate}`);
    await ctx.waitActive(); // already active: resolves at once
    log.push('b');
    while (!ctx.shouldTerminate) await sleep(2);
  });
  ringKernel({ kernelId: 'lc_wait_never' }, async (ctx) => {
    await ctx.waitActive();
    log.push(`never active=${ctx.isActive} terminate=${ctx.shouldTerminate}`);
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_wait_active');
      await rt.launch('lc_wait_never');
      await sleep(20);
      assert.equal(log, []);
      await rt.activate('lc_wait_active');
      await until(() => log.length === 2, 500, 'waitActive resolved');
      assert.equal(log, ['a active=true terminate=false', 'b']);
      const t0 = now();
      await within(rt.terminate('lc_wait_never'), 2000, 'terminate a never-activated kernel');
      assert.ok(now() - t0 < 100, `terminate took ${(now() - t0).toFixed(1)} ms`);
      assert.equal(log[2], 'never active=false terminate=true');
      assert.is(rt.getState('lc_wait_never'), 'terminated');
    });
  } finally { undefineKernel('lc_wait_active'); undefineKernel('lc_wait_never'); }
});

test('for await (const m of ctx) ends when the kernel is terminated, and not on deactivate', async () => {
  let ended = false, count = 0;
  ringKernel({ kernelId: 'lc_for_await', input: LcNum }, async (ctx) => {
    for await (const _ of ctx) count++;
    ended = true;
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_for_await');
      await rt.activate('lc_for_await');
      for (let i = 0; i < 4; i++) await rt.send('lc_for_await', new LcNum({ n: i }));
      await until(() => count === 4, 500, 'four messages');
      await rt.deactivate('lc_for_await');
      await sleep(20);
      assert.not.ok(ended, 'the loop does not end on deactivate');
      await rt.reactivate('lc_for_await');
      const t0 = now();
      await within(rt.terminate('lc_for_await'), 2000, 'terminate');
      assert.ok(now() - t0 < 100, `terminate took ${(now() - t0).toFixed(1)} ms`);
      assert.ok(ended, 'the loop ended');
      assert.is(count, 4);
      assert.is(rt.getState('lc_for_await'), 'terminated', 'ended normally, not failed');
      assert.is(rt.getTelemetry('lc_for_await')!.errorCount, 0);
    });
  } finally { undefineKernel('lc_for_await'); }
});

test('ctx.receive: timeout (number or option) rejects with QueueTimeoutError; an AbortSignal aborts a waiting receive; nothing is lost', async () => {
  const ac = new AbortController();
  const events: string[] = [];
  const reason = new Error('lc stop waiting');
  let go: () => void = () => {};
  const step = () => new Promise<void>((r) => { go = r; });
  ringKernel({ kernelId: 'lc_signal', input: LcNum, output: LcNum }, async (ctx) => {
    // 1. timeout as a number
    let t0 = now();
    try { await ctx.receive(20); events.push('no timeout?'); } catch (e) {
      events.push(`${(e as Error).constructor.name} ${(e as QueueTimeoutError).kernelId} ${now() - t0 >= 15 ? 'waited' : 'early'}`);
    }
    // 2. timeout as an option
    t0 = now();
    try { await ctx.receive({ timeout: 20 }); events.push('no timeout?'); } catch (e) { events.push(`${(e as Error).constructor.name}`); }
    // 3. abort while waiting
    await step();
    try { await ctx.receive({ signal: ac.signal }); events.push('no abort?'); } catch (e) { events.push(e === reason ? 'aborted with reason' : `other ${String(e)}`); }
    // 4. an already aborted signal on an empty queue rejects at once
    try { await ctx.receive({ signal: AbortSignal.abort(reason), timeout: 1000 }); events.push('resolved?'); } catch (e) { events.push(e === reason ? 'pre-aborted' : `other ${String(e)}`); }
    // 5. the message sent after the aborts is not lost (the aborted waiters are gone)
    await step();
    const m = await ctx.receive({ timeout: 1000 });
    events.push(`got ${m.n}`);
    await ctx.send(new LcNum({ n: m.n }));
    for await (const _ of ctx) { /* until terminated */ }
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_signal');
      await rt.activate('lc_signal');
      await until(() => events.length === 2, 1000, 'two timeouts');
      assert.equal(events, ['QueueTimeoutError lc_signal waited', 'QueueTimeoutError']);
      go();
      await sleep(10);
      assert.is(events.length, 2, 'still waiting');
      ac.abort(reason);
      await until(() => events.length === 4, 500, 'aborted');
      assert.equal(events.slice(2), ['aborted with reason', 'pre-aborted']);
      await rt.send('lc_signal', new LcNum({ n: 77 }));
      go();
      await until(() => events.length === 5, 1000, 'received after the aborts');
      assert.is(events[4], 'got 77');
      assert.is((await rt.receive('lc_signal', 1000) as any).n, 77);
    });
  } finally { undefineKernel('lc_signal'); }
});

test('ctx.receive with an already aborted signal rejects and does not consume a queued message', async () => {
  const reason = new Error('lc already aborted');
  const events: string[] = [];
  ringKernel({ kernelId: 'lc_signal_pre', input: LcNum }, async (ctx) => {
    await ctx.waitActive();
    try { const m = await ctx.receive({ signal: AbortSignal.abort(reason) }); events.push(`took ${m.n}`); }
    catch (e) { events.push(e === reason ? 'rejected with the reason' : `other ${String(e)}`); }
    try { const m = await ctx.receive({ timeout: 200 }); events.push(`then got ${m.n}`); }
    catch (e) { events.push(`then ${(e as Error).name}`); }
    for await (const _ of ctx) { /* until terminated */ }
  });
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_signal_pre');
      await rt.send('lc_signal_pre', new LcNum({ n: 5 })); // queued before the kernel asks
      await rt.activate('lc_signal_pre');
      await until(() => events.length === 2, 1000, 'both receives settled');
      assert.equal(events, ['rejected with the reason', 'then got 5'],
        'an aborted signal must win over a queued message (as fetch / events.once do), and leave it queued');
    });
  } finally { undefineKernel('lc_signal_pre'); }
});

test('runtime.receive takes an AbortSignal too: aborting a waiting receive rejects with the reason and loses nothing', async () => {
  echo('lc_host_signal');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_host_signal');
      await rt.activate('lc_host_signal');
      const ac = new AbortController();
      const reason = new Error('lc host abort');
      const pending = track(rt.receive('lc_host_signal', { signal: ac.signal }));
      await sleep(10);
      assert.not.ok(pending.settled);
      ac.abort(reason);
      await until(() => pending.settled, 500, 'aborted receive settled');
      assert.is(pending.error, reason);
      await rt.send('lc_host_signal', new LcNum({ n: 3 }));
      assert.is((await rt.receive('lc_host_signal', 1000) as any).n, 3, 'the output went to the next receive');
      // already aborted, nothing waiting: rejects at once
      await rejects(() => rt.receive('lc_host_signal', { signal: AbortSignal.abort(reason) }), Error, 'pre-aborted host receive');
    });
  } finally { undefineKernel('lc_host_signal'); }
});

test('runtime.receive with an already aborted signal rejects and does not consume an available output', async () => {
  echo('lc_host_signal_pre');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_host_signal_pre');
      await rt.activate('lc_host_signal_pre');
      await rt.send('lc_host_signal_pre', new LcNum({ n: 8 }));
      await until(() => rt.getTelemetry('lc_host_signal_pre')!.queueDepth === 0, 500, 'consumed');
      await sleep(10); // the echo is now in the output queue
      const reason = new Error('lc host already aborted');
      let got: unknown = 'nothing', err: unknown;
      try { got = await rt.receive('lc_host_signal_pre', { signal: AbortSignal.abort(reason) }); } catch (e) { err = e; }
      assert.is(err, reason, `expected a rejection with the reason, got ${String(err)} / ${got === 'nothing' ? 'no value' : 'a message'}`);
      assert.is((await rt.receive('lc_host_signal_pre', 1000) as any).n, 8, 'the output is still there');
    });
  } finally { undefineKernel('lc_host_signal_pre'); }
});

test('runtime.receive: timeout rejects with QueueTimeoutError naming the kernel; a bad timeout is a RangeError', async () => {
  echo('lc_rt_timeout');
  try {
    await withRuntime(async (rt) => {
      await rt.launch('lc_rt_timeout');
      await rt.activate('lc_rt_timeout');
      const t0 = now();
      const e = await rejects(() => rt.receive('lc_rt_timeout', { timeout: 30 }), QueueTimeoutError, 'receive timeout');
      const dt = now() - t0;
      assert.ok(dt >= 25 && dt < 500, `timed out after ${dt.toFixed(1)} ms`);
      assert.is(e.kernelId, 'lc_rt_timeout');
      assert.is(e.operation, 'receive');
      await rejects(() => rt.receive('lc_rt_timeout', 30), QueueTimeoutError, 'receive(number)');
      await rejects(() => rt.receive('lc_rt_timeout', { timeout: -1 }), RangeError, 'negative timeout');
      await rejects(() => rt.receive('lc_rt_timeout', { timeout: NaN }), RangeError, 'NaN timeout');
      // a receive that timed out took nothing: a later message goes to the next receive
      await rt.send('lc_rt_timeout', new LcNum({ n: 4 }));
      assert.is((await rt.receive('lc_rt_timeout', 1000) as any).n, 4);
    });
  } finally { undefineKernel('lc_rt_timeout'); }
});

test('register: false (auto_register=False): the definition is only returned, may be made again, and launches under any id', async () => {
  const M = message('LcUnregistered', { n: t.i32 });
  const make = (k: number) => ringKernel({ kernelId: 'lc_unregistered', register: false, input: M, output: M }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new M({ n: m.n * k }));
  });
  const double = make(2), triple = make(3); // a factory that runs twice: no KernelAlreadyExistsError
  assert.not.ok(definedKernelIds().includes('lc_unregistered'));
  await withRuntime(async (rt) => {
    await rt.launch('x2', double); await rt.launch('x3', triple);
    await rt.activate('x2'); await rt.activate('x3');
    await rt.send('x2', new M({ n: 5 })); await rt.send('x3', new M({ n: 5 }));
    assert.is((await rt.receive('x2', { timeout: 1000 })).n, 10);
    assert.is((await rt.receive('x3', { timeout: 1000 })).n, 15);
    const e = await rt.launch('lc_unregistered').catch((x) => x);
    assert.instance(e, KernelNotFoundError, 'not registered, so not launchable by its id');
  });
  assert.throws(() => ringKernel({ kernelId: 'lc_unreg_worker', register: false, placement: 'worker', module: import.meta.url }, async () => {}),
    /a worker kernel must be registered/);
});

test.run();
