// Supervision's parts on their own: the restart policy's checks, its window and backoff
// rule, the bounded dead-letter list and its wire form, checkpoints' snapshots, events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { message, t, ready, RestartPolicyError, CheckpointError, MessageDecodeError, RingKernelError } from '../js/index.js';
import { checkRestartPolicy, backoffDelay, RestartWindow, DEFAULT_MAX_BACKOFF_MS } from '../js/supervision/policy.js';
import { DeadLetterList, toWire, fromWire, reviveError } from '../js/supervision/dead-letters.js';
import { snapshot, CheckpointSlot } from '../js/supervision/checkpoints.js';
import { kernelEvent, emit } from '../js/supervision/events.js';
import { supervise, type SupervisedKernel, type SupervisionSink } from '../js/supervision/supervisor.js';

const Item = message('SupItem', { n: t.i32, label: t.string });

test('restart policy: defaults, and every bad field refused with RestartPolicyError naming the kernel', () => {
  const p = checkRestartPolicy({ maxRestarts: 3, withinMs: 1000 }, 'k')!;
  assert.equal({ ...p }, { maxRestarts: 3, withinMs: 1000, backoffMs: 0, maxBackoffMs: DEFAULT_MAX_BACKOFF_MS });
  assert.is(checkRestartPolicy({ maxRestarts: 1, withinMs: Infinity, backoffMs: 50_000 }, 'k')!.maxBackoffMs, 50_000);
  assert.is(checkRestartPolicy(undefined, 'k'), undefined);
  const bad: unknown[] = [
    null, 5, [], { withinMs: 10 }, { maxRestarts: -1, withinMs: 10 }, { maxRestarts: 1.5, withinMs: 10 },
    { maxRestarts: 2e6, withinMs: 10 }, { maxRestarts: 1 }, { maxRestarts: 1, withinMs: 0 }, { maxRestarts: 1, withinMs: NaN },
    { maxRestarts: 1, withinMs: 10, backoffMs: -1 }, { maxRestarts: 1, withinMs: 10, backoffMs: Infinity },
    { maxRestarts: 1, withinMs: 10, backoffMs: '5' }, { maxRestarts: 1, withinMs: 10, backoffMs: 100, maxBackoffMs: 50 },
    { maxRestarts: 1, withinMs: 10, retries: 3 },
  ];
  for (const b of bad) {
    try { checkRestartPolicy(b, 'parse'); assert.unreachable(`accepted ${JSON.stringify(b)}`); } catch (e) {
      assert.instance(e, RestartPolicyError);
      assert.instance(e, RingKernelError);
      assert.is((e as RestartPolicyError).kernelId, 'parse');
      assert.is((e as RestartPolicyError).operation, 'define');
      assert.match((e as Error).message, /ringKernel 'parse': restart/);
    }
  }
});

test('backoff: backoffMs * 2^(n-1), capped at maxBackoffMs; 0 stays 0', () => {
  const p = checkRestartPolicy({ maxRestarts: 10, withinMs: 1000, backoffMs: 100, maxBackoffMs: 1000 }, 'k')!;
  assert.equal([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n)), [100, 200, 400, 800, 1000, 1000]);
  const z = checkRestartPolicy({ maxRestarts: 10, withinMs: 1000 }, 'k')!;
  assert.equal([1, 2, 9].map((n) => backoffDelay(z, n)), [0, 0, 0]);
});

test('window: more than maxRestarts within withinMs fails; old restarts leave the window; backoff starts over', () => {
  const w = new RestartWindow(checkRestartPolicy({ maxRestarts: 2, withinMs: 1000, backoffMs: 10 }, 'k')!);
  assert.is(w.next(0), 10);
  assert.is(w.next(100), 20);
  assert.is(w.next(200), null);      // the third throw within 1000 ms
  assert.is(w.next(999), null);      // the restarts at 0 and 100 still count
  assert.is(w.next(1000), 20);       // the one at 0 left the window; the one at 100 counts: n = 2
  assert.is(w.next(3000), 10);       // a quiet window: the first again
  const none = new RestartWindow(checkRestartPolicy({ maxRestarts: 0, withinMs: 1000 }, 'k')!);
  assert.is(none.next(0), null);
});

test('window: moves to another thread as its history; restarts allowed elsewhere join it (note)', () => {
  const policy = checkRestartPolicy({ maxRestarts: 2, withinMs: 1000, backoffMs: 10 }, 'k')!;
  const here = new RestartWindow(policy);
  assert.is(here.next(0), 10);
  here.note(500);                                  // a restart its thread allowed (reported)
  assert.equal(here.history(600), [0, 500]);
  assert.equal(here.history(1200), [500]);         // the one at 0 left the window
  const there = new RestartWindow(policy, here.history(1200));
  assert.is(there.next(1200), 20);                 // n = 2: the one at 500 still counts
  assert.is(there.next(1300), null);               // and fails the third within 1000 ms
  assert.equal(here.history(1200), [500]);         // the copies are independent
});

test('dead-letter list: oldest first, bounded, the overflow counted', () => {
  const l = new DeadLetterList(3);
  const letter = (i: number) => ({ kernelId: 'k', message: new Item({ n: i, label: '' }), error: new Error(String(i)), at: i });
  const overflow = [1, 2, 3, 4, 5].map((i) => l.add(letter(i)));
  assert.equal(overflow, [false, false, false, true, true]);
  assert.equal(l.list().map((d) => d.at), [3, 4, 5]);
  assert.is(l.dropped, 2);
  l.list().pop();                     // a copy
  assert.is(l.size, 3);
  const none = new DeadLetterList(0);
  assert.is(none.add(letter(1)), true);
  assert.is(none.size, 0);
  assert.is(none.dropped, 1);
});

test('dead letters on the wire: a message travels as its record and comes back decoded (validated); bad bytes stay bytes', async () => {
  await ready;
  const m = new Item({ n: 7, label: 'poison', priority: 9 });
  const w = toWire({ kernelId: 'k', message: m, error: new RangeError('bad 7'), at: 123 });
  assert.instance(w.bytes, Uint8Array);
  const back = fromWire('k', structuredClone(w));
  assert.instance(back.message, Item);
  const bm = back.message as InstanceType<typeof Item>;
  assert.equal([bm.n, bm.label, bm.messageId, bm.priority], [7, 'poison', m.messageId, 9]);
  assert.instance(back.error, RangeError);
  assert.is(back.error.message, 'bad 7');
  assert.is(back.at, 123);
  // corrupted on the way: validated by the core, kept as bytes with the kernel's error
  const bad = structuredClone(w);
  bad.bytes[60] = 0xff; bad.bytes[61] = 0xff; bad.bytes[62] = 0xff; bad.bytes[63] = 0x7f;
  const kept = fromWire('k', bad);
  assert.instance(kept.message, Uint8Array);
  assert.is(kept.error.message, 'bad 7');
  // bytes that already failed to decode stay bytes, with their decode error's class
  const raw = toWire({ kernelId: 'k', message: new Uint8Array([1, 2, 3]), error: new MessageDecodeError('short'), at: 1 });
  assert.is(raw.decodable, false);
  const rawBack = fromWire('k', raw);
  assert.equal([...(rawBack.message as Uint8Array)], [1, 2, 3]);
  assert.instance(rawBack.error, MessageDecodeError);
  assert.instance(reviveError({ name: 'TypeError', message: 'x', stack: undefined }), TypeError);
  // a ringkernel error whose constructor wants more than a message still comes back as itself
  for (const name of ['MessageTypeError', 'MessageTooLargeError', 'KernelStateError', 'ShaderCompileError']) {
    const e = reviveError({ name, message: 'm', stack: undefined });
    assert.equal([e instanceof RingKernelError, e.name, e.message], [true, name, 'm']);
  }
  const custom = reviveError({ name: 'ParseError', message: 'x', stack: 'ParseError: x\n    at parse' });
  assert.equal([custom instanceof Error, custom.name, custom.message, custom.stack], [true, 'ParseError', 'x', 'ParseError: x\n    at parse']);
});

test('checkpoints: a snapshot, independent of the value it was taken from; CheckpointError for what cannot be cloned', () => {
  const state = { count: 1, seen: new Set(['a']), sums: new Float64Array([1, 2]) };
  const slot = new CheckpointSlot();
  assert.is(slot.read(), undefined);
  slot.keepSnapshot(snapshot(state, 'k', 'checkpoint'), 42);
  state.count = 2; state.seen.add('b'); state.sums[0] = 9;
  const r = slot.read() as typeof state;
  assert.equal([r.count, [...r.seen], [...r.sums]], [1, ['a'], [1, 2]]);
  (r as { count: number }).count = 100;
  assert.is((slot.read() as typeof state).count, 1);  // each read is a copy
  assert.is(slot.at, 42);
  try { snapshot({ f: () => 1 }, 'stage', 'checkpoint'); assert.unreachable(); } catch (e) {
    assert.instance(e, CheckpointError);
    assert.is((e as CheckpointError).kernelId, 'stage');
    assert.is((e as CheckpointError).operation, 'checkpoint');
    assert.match((e as Error).message, /structured-cloneable/);
  }
});

test('events: an Event with a detail naming the kernel, dispatched after the current step', async () => {
  const e = kernelEvent('failed', { kernelId: 'k', error: new Error('x'), restarts: 2 });
  assert.instance(e, Event);
  assert.is(e.type, 'failed');
  assert.is(e.detail.kernelId, 'k');
  const target = new EventTarget();
  const seen: string[] = [];
  target.addEventListener('restarted', (ev) => seen.push((ev as typeof e).detail.kernelId));
  emit(target, 'restarted', { kernelId: 'k2', error: null, restarts: 1, delayMs: 0 });
  assert.equal(seen, []);
  await Promise.resolve();
  assert.equal(seen, ['k2']);
});

test('events where CustomEvent is missing: a plain Event carrying detail', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    delete globalThis.CustomEvent;
    const { kernelEvent } = await import('${new URL('../js/supervision/events.ts', import.meta.url).href}');
    const e = kernelEvent('deadletter', { kernelId: 'k', letter: null });
    console.log([typeof CustomEvent, e instanceof Event, e.type, e.detail.kernelId].join(' '));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'undefined true deadletter k');
});

/** A kernel for supervise() alone: stopping on demand, messages in hand, pauses recorded. */
function fakeKernel(): SupervisedKernel & { hand: InstanceType<typeof Item>[]; pauses: number[]; stop(): void } {
  let stopping = false;
  let wake: (() => void) | null = null;
  const k = {
    id: 'fake', hand: [] as InstanceType<typeof Item>[], pauses: [] as number[],
    get stopping() { return stopping; },
    dropInHand() { return k.hand.splice(0); },
    pause(ms: number) { k.pauses.push(ms); return new Promise<void>((r) => { wake = r; setTimeout(r, ms); }); },
    stop() { stopping = true; wake?.(); },
  };
  return k;
}

/** A sink for supervise() alone, with the parts a test cares about. */
function sink(parts: Partial<SupervisionSink>): SupervisionSink {
  return { checkpoint: new CheckpointSlot(), deadLetter() {}, restarting() {}, checkpointed: () => Promise.resolve(), ...parts };
}

test('supervise: dead letters for what was in hand, restarts within the policy, then the error', async () => {
  const k = fakeKernel();
  const letters: unknown[] = [], restarts: number[] = [];
  let runs = 0;
  const policy = checkRestartPolicy({ maxRestarts: 2, withinMs: 10_000, backoffMs: 1 }, 'fake');
  const err = await supervise(k, policy, () => { runs++; k.hand.push(new Item({ n: runs, label: '' })); throw new Error(`run ${runs}`); },
    sink({ deadLetter: (l) => { letters.push((l.message as InstanceType<typeof Item>).n); }, restarting: (_e, n) => { restarts.push(n); } })).catch((e) => e);
  assert.is((err as Error).message, 'run 3');
  assert.is(runs, 3);
  assert.equal(letters, [1, 2, 3]);
  assert.equal(restarts, [1, 2]);
  assert.equal(k.pauses, [1, 2]);
});

test('supervise: a stop during the backoff ends it at once, with no further run', async () => {
  const k = fakeKernel();
  let runs = 0;
  const t0 = performance.now();
  const done = supervise(k, checkRestartPolicy({ maxRestarts: 5, withinMs: 10_000, backoffMs: 5000 }, 'fake'),
    () => { runs++; throw new Error('x'); }, sink({}));
  setTimeout(() => k.stop(), 20);
  await done;
  assert.is(runs, 1);
  assert.ok(performance.now() - t0 < 2000);
});

test('supervise: a non-Error throw becomes an Error in the dead letter', async () => {
  const k = fakeKernel();
  k.hand.push(new Item({ n: 1, label: '' }));
  let error: unknown;
  await supervise(k, undefined, () => { throw 'plain string'; }, sink({ deadLetter: (l) => { error = l.error; } })).catch(() => {});
  assert.instance(error, Error);
  assert.is((error as Error).message, 'plain string');
});

test.run();
