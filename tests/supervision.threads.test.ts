// Supervision across the death of a worker thread (process.exit in a kernel, an uncaught
// error in the thread): a worker kernel with a restart policy starts again on a fresh thread,
// with its id, queue and checkpoint; throws and deaths share one restart window; terminate
// and shutdown end the backoff at once; a kernel without a policy still fails; connections
// work after the restart. Every message sent is accounted for exactly. Real worker threads;
// the kernels are in tests/helpers/supervised-kernels.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { within } from './helpers/assert.js';
import { RingKernelRuntime, KernelFailedError, BackendNotAvailableError, WorkerThreadDiedError, type KernelEvent, type KernelTelemetry, type RuntimeOptions } from '../js/index.js';
import { SNum, exits, uncaught, twoLives, slowPhoenix, mortal, relay } from './helpers/supervised-kernels.js';
import { reloaded } from './helpers/refusing-module.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withRuntime(fn: (rt: RingKernelRuntime) => Promise<void>, options: RuntimeOptions = {}): Promise<void> {
  const rt = new RingKernelRuntime({ workers: 1, ...options });
  try { await fn(rt); } finally { await rt.shutdown({ timeout: 1000 }); }
}

/** Every supervision event, as 'type:kernelId', with its detail. */
function recordEvents(rt: RingKernelRuntime): { seen: string[]; details: Array<{ type: string; detail: any }> } {
  const seen: string[] = [], details: Array<{ type: string; detail: any }> = [];
  for (const type of ['failed', 'restarted', 'deadletter'] as const) {
    rt.events.addEventListener(type, (e) => {
      const d = (e as KernelEvent).detail;
      seen.push(`${type}:${d.kernelId}`);
      details.push({ type, detail: d });
    });
  }
  return { seen, details };
}

/** The next `type` event for kernel `id`, or a rejection after `ms` (so a missing restart fails the test, not hangs it). */
function nextEvent(rt: RingKernelRuntime, type: 'failed' | 'restarted', id: string, ms = 5000): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { rt.events.removeEventListener(type, on); reject(new Error(`no '${type}' event for ${id} within ${ms} ms`)); }, ms);
    const on = (e: Event) => {
      const d = (e as KernelEvent).detail;
      if (d.kernelId !== id) return;
      clearTimeout(timer);
      rt.events.removeEventListener(type, on);
      resolve(d);
    };
    rt.events.addEventListener(type, on);
  });
}

/** Waits until the kernel's checkpoint says it holds `n` (it then waits for its queue, and dies). */
async function untilHolding(rt: RingKernelRuntime, id: string, n: number): Promise<void> {
  for (let i = 0; i < 500 && (rt.checkpoint(id) as { holding?: number } | undefined)?.holding !== n; i++) await sleep(10);
  assert.is((rt.checkpoint(id) as { holding?: number }).holding, n, `${id} never held ${n}`);
}

const report = async (rt: RingKernelRuntime, id: string) => {
  const r = await rt.receive(id, { timeout: 5000 });
  return `${r.what} ${r.n}`;
};

/** docs/guarantees.md: every accepted message is in exactly one of these columns. */
const columns = (t: KernelTelemetry) => ({
  processed: t.messagesProcessed, interrupted: t.messagesInterrupted, deadLetters: t.deadLetters, discarded: t.messagesDiscarded,
  dropped: t.messagesDropped, depth: t.queueDepth,
});
const accounted = (t: KernelTelemetry) =>
  t.messagesProcessed + t.messagesDropped + t.messagesDiscarded + t.deadLetters + t.messagesInterrupted + t.queueDepth;

for (const [id, how, died] of [[exits, 'process.exit', /it exited with code 3/], [uncaught, 'an uncaught error in a timer', /it threw Error: uncaught in the thread/]] as const) {
  test(`worker: its thread dies (${how}) mid-stream: the kernel starts again on a fresh thread with its queue and its checkpoint; each message handled once and in order, or interrupted`, () => withRuntime(async (rt) => {
    const events = recordEvents(rt);
    await rt.launch(id);
    await rt.activate(id);
    const first = rt.workerOf(id);
    assert.is(await report(rt, id), 'start 0');
    for (const n of [1, 2, 3, 4]) await rt.send(id, new SNum({ n }));
    for (const n of [1, 2, 3, 4]) assert.is(await report(rt, id), `answer ${n}`);
    const restarted = nextEvent(rt, 'restarted', id);
    await rt.send(id, new SNum({ n: 1010 }));        // held until 10 more are queued behind it, then the thread dies
    await untilHolding(rt, id, 1010);
    const behind = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
    for (const n of behind) await rt.send(id, new SNum({ n }));
    const d = await restarted;
    assert.instance(d.error, WorkerThreadDiedError);
    assert.is(d.error.kernelId, id);
    assert.match(String(d.error?.message), new RegExp(`the worker thread running kernel '${id}' died`));
    assert.match(String(d.error?.message), died);
    assert.is(d.restarts, 1);
    assert.is(d.delayMs, 20);                         // the policy's backoff
    assert.is(await report(rt, id), 'start 10');      // ctx.restored: the last checkpoint (1 + 2 + 3 + 4)
    for (const n of behind) assert.is(await report(rt, id), `answer ${n}`);   // the queue survived, in order
    await rt.receive(id, { timeout: 200 }).then(() => assert.unreachable('a message was answered twice'), () => {});
    assert.is(rt.getState(id), 'active');
    assert.is.not(rt.workerOf(id), first);            // a fresh thread
    const tel = rt.getTelemetry(id)!;
    assert.equal(columns(tel), { processed: 14, interrupted: 1, deadLetters: 0, discarded: 0, dropped: 0, depth: 0 });
    assert.is(accounted(tel), 15);                    // processed + interrupted + deadLetters + discarded == sent
    assert.is(tel.restarts, 1);
    assert.match(String(tel.lastError), /died/);
    assert.equal(rt.checkpoint(id), { sum: 10 + behind.reduce((a, n) => a + n, 0) });
    await sleep(0);
    assert.equal(events.seen, [`restarted:${id}`]);   // no failed event
    await rt.terminate(id);
    assert.equal(columns(rt.getTelemetry(id)!), { processed: 14, interrupted: 1, deadLetters: 0, discarded: 0, dropped: 0, depth: 0 });
  }));
}

test('worker: a thread that dies with a batch taken: in hand is interrupted, taken and not handed out is discarded, the kernel restarts and goes on', () => withRuntime(async (rt) => {
  const id = exits;
  const events = recordEvents(rt);
  await rt.launch(id);
  const sent = [-1, 1, 2, 3, 4, 1000, 6, 7, 8, 9, 10];   // one batch: -1 a restart, 1..4 handled, 1000 in hand (dies at once), 6..10 taken
  for (const n of sent) await rt.send(id, new SNum({ n }));
  const restarted = nextEvent(rt, 'restarted', id);
  await rt.activate(id);
  for (const r of ['start 0', 'start 0', 'answer 1', 'answer 2', 'answer 3', 'answer 4']) assert.is(await report(rt, id), r);
  await restarted;                                 // the throw's
  const d = await nextEvent(rt, 'restarted', id);  // the death's
  assert.is(d.restarts, 2);
  assert.is(await report(rt, id), 'start 10');
  let tel = rt.getTelemetry(id)!;
  assert.equal(columns(tel), { processed: 4, interrupted: 1, deadLetters: 1, discarded: 5, dropped: 0, depth: 0 });
  assert.is(accounted(tel), sent.length);
  assert.is(tel.restarts, 2);
  assert.equal(rt.deadLetters(id).map((l) => (l.message as InstanceType<typeof SNum>).n), [-1]);
  for (const n of [20, 21]) await rt.send(id, new SNum({ n }));
  for (const n of [20, 21]) assert.is(await report(rt, id), `answer ${n}`);
  await rt.terminate(id);
  tel = rt.getTelemetry(id)!;
  assert.equal(columns(tel), { processed: 6, interrupted: 1, deadLetters: 1, discarded: 5, dropped: 0, depth: 0 });
  assert.is(accounted(tel), sent.length + 2);
  await sleep(0);
  assert.equal(events.seen, [`deadletter:${id}`, `restarted:${id}`, `restarted:${id}`]);
}));

test('worker: the restart limit counts throws and deaths in one window (maxRestarts 2): throw, death, then a throw fails it', () => withRuntime(async (rt) => {
  const id = twoLives;
  await rt.launch(id);
  await rt.activate(id);
  assert.is(await report(rt, id), 'start 0');
  let restarted = nextEvent(rt, 'restarted', id);
  await rt.send(id, new SNum({ n: -1 }));          // a throw: restart 1, on the thread
  assert.is((await restarted).restarts, 1);
  assert.is(await report(rt, id), 'start 0');
  restarted = nextEvent(rt, 'restarted', id);
  await rt.send(id, new SNum({ n: 1000 }));        // a death: restart 2, by the owner
  assert.is((await restarted).restarts, 2);
  assert.is(await report(rt, id), 'start 0');
  const failed = nextEvent(rt, 'failed', id);
  await rt.send(id, new SNum({ n: -2 }));          // a throw on the new thread, whose window holds both
  const f = await failed;
  assert.is(f.restarts, 2);
  assert.match(String(f.error?.message), /poison -2/);
  assert.is(rt.getState(id), 'failed');
  const e = await rt.receive(id, { timeout: 5000 }).then(() => null, (x) => x);
  assert.instance(e, KernelFailedError);
  const tel = rt.getTelemetry(id)!;
  assert.equal(columns(tel), { processed: 0, interrupted: 1, deadLetters: 2, discarded: 0, dropped: 0, depth: 0 });
  assert.is(accounted(tel), 3);
  assert.is(tel.restarts, 2);
}));

test('worker: the restart limit counts throws and deaths in one window (maxRestarts 2): death, throw, then a death fails it', () => withRuntime(async (rt) => {
  const id = twoLives;
  const events = recordEvents(rt);
  await rt.launch(id);
  await rt.activate(id);
  assert.is(await report(rt, id), 'start 0');
  let restarted = nextEvent(rt, 'restarted', id);
  await rt.send(id, new SNum({ n: 1000 }));        // a death: restart 1
  assert.is((await restarted).restarts, 1);
  assert.is(await report(rt, id), 'start 0');
  restarted = nextEvent(rt, 'restarted', id);
  await rt.send(id, new SNum({ n: -1 }));          // a throw on the new thread: restart 2, reported to the owner
  assert.is((await restarted).restarts, 2);
  assert.is(await report(rt, id), 'start 0');
  const failed = nextEvent(rt, 'failed', id);
  await rt.send(id, new SNum({ n: 1000 }));        // a death: the owner's window holds both
  const f = await failed;
  assert.is(f.restarts, 2);
  assert.match(String(f.error?.message), new RegExp(`the worker thread running kernel '${id}' died: it exited with code 3`));
  assert.is(rt.getState(id), 'failed');
  const e = await rt.receive(id, { timeout: 5000 }).then(() => null, (x) => x);
  assert.instance(e, KernelFailedError);
  assert.match((e as Error).message, /died/);
  const tel = rt.getTelemetry(id)!;
  assert.equal(columns(tel), { processed: 0, interrupted: 2, deadLetters: 1, discarded: 0, dropped: 0, depth: 0 });
  assert.is(accounted(tel), 3);
  assert.is(tel.restarts, 2);
  await sleep(0);
  assert.equal(events.seen, [`restarted:${id}`, `deadletter:${id}`, `restarted:${id}`, `failed:${id}`]);
}));

test('worker: terminate during the backoff after a thread died ends at once; so does shutdown', async () => {
  const id = slowPhoenix;                          // 10 s backoff
  const rt = new RingKernelRuntime({ workers: 1 });
  try {
    await rt.launch(id);
    await rt.activate(id);
    assert.is(await report(rt, id), 'start 0');
    let restarted = nextEvent(rt, 'restarted', id);
    await rt.send(id, new SNum({ n: 1000 }));
    await rt.send(id, new SNum({ n: 1 }));         // queued behind: discarded by the terminate
    assert.is((await restarted).delayMs, 10_000);
    await within(rt.terminate(id), 1000, 'terminate during the backoff');
    assert.is(rt.getState(id), 'terminated');
    const tel = rt.getTelemetry(id)!;
    assert.is(tel.restarts, 1);
    assert.equal(columns(tel), { processed: 0, interrupted: 1, deadLetters: 0, discarded: 1, dropped: 0, depth: 0 });
    // the same again, ended by shutdown
    await rt.launch(id);
    await rt.activate(id);
    assert.is(await report(rt, id), 'start 0');
    restarted = nextEvent(rt, 'restarted', id);
    await rt.send(id, new SNum({ n: 1000 }));
    await restarted;
    await within(rt.shutdown(), 1000, 'shutdown during the backoff');
    assert.is(rt.getState(id), 'terminated');
  } finally { await rt.shutdown(); }
});

test('worker: a thread dies under several kernels: each goes by its own policy (none: failed), and connections to, from and between the restarted ones work', () => withRuntime(async (rt) => {
  const events = recordEvents(rt);
  // relay (inline) -> exits (worker) -> relay (worker), and mortal (worker, no policy): one thread for all three
  for (const k of [relay.inline, exits, relay.worker, mortal]) await rt.launch(k);
  rt.connect(relay.inline, exits);
  rt.connect(exits, relay.worker);
  for (const k of [relay.worker, exits, relay.inline, mortal]) await rt.activate(k);
  assert.is(rt.workerOf(exits), rt.workerOf(mortal));
  assert.is(rt.workerOf(exits), rt.workerOf(relay.worker));
  const first = rt.workerOf(exits);
  assert.is(await report(rt, exits), 'start 0');      // sent as it was launched, before connect: in its own output
  assert.is(await report(rt, mortal), 'start 0');
  for (const n of [1, 2]) await rt.send(relay.inline, new SNum({ n }));
  for (const n of [1, 2]) assert.is(await report(rt, relay.worker), `answer ${n}`);
  const mortalFailed = nextEvent(rt, 'failed', mortal);
  const restarted = Promise.all([nextEvent(rt, 'restarted', exits), nextEvent(rt, 'restarted', relay.worker)]);
  await rt.send(relay.inline, new SNum({ n: 1000 }));   // exits ends the thread
  await restarted;
  const f = await mortalFailed;
  assert.match(String(f.error?.message), new RegExp(`the worker thread running kernel '${mortal}' died: it exited with code 3`));
  assert.is(rt.getState(mortal), 'failed');
  assert.instance(f.error, WorkerThreadDiedError);
  const e = await rt.receive(mortal, { timeout: 5000 }).then(() => null, (x) => x);
  assert.instance(e, KernelFailedError);
  assert.instance((e as Error).cause, WorkerThreadDiedError);
  // exits, started again with its route in place, reports through it to the relay, started again too
  assert.is(await report(rt, relay.worker), 'start 3');
  for (const n of [4, 5]) await rt.send(relay.inline, new SNum({ n }));   // the inline relay's route into exits
  for (const n of [4, 5]) assert.is(await report(rt, relay.worker), `answer ${n}`);
  assert.is(rt.getState(exits), 'active');
  assert.is(rt.getState(relay.worker), 'active');
  assert.is.not(rt.workerOf(exits), first);
  const tel = rt.getTelemetry(exits)!;
  assert.equal(columns(tel), { processed: 4, interrupted: 1, deadLetters: 0, discarded: 0, dropped: 0, depth: 0 });
  assert.is(tel.restarts, 1);
  assert.is(rt.getTelemetry(relay.worker)!.restarts, 1);
  await sleep(0);
  assert.equal(events.seen.filter((s) => s.startsWith('failed')), [`failed:${mortal}`]);
}));

test('worker: a kernel whose module no fresh thread can import fails after its thread died (BackendNotAvailableError, naming the kernel)', () => withRuntime(async (rt) => {
  const id = reloaded;
  await rt.launch(id);
  await rt.activate(id);
  await rt.send(id, new SNum({ n: 1 }));
  assert.is(await report(rt, id), 'answer 1');
  const restarted = nextEvent(rt, 'restarted', id);
  const failed = nextEvent(rt, 'failed', id);
  process.env.RK_TEST_MODULE_REFUSES = 'throw';     // threads started from now on refuse the module
  try {
    await rt.send(id, new SNum({ n: 1000 }));
    await restarted;
    const f = await failed;
    assert.instance(f.error, BackendNotAvailableError);
    assert.is(f.error.kernelId, id);
    assert.match(f.error.message, new RegExp(`kernel '${id}' could not be started again after its worker thread died: .*this module refuses to load here`));
  } finally { delete process.env.RK_TEST_MODULE_REFUSES; }
  assert.is(rt.getState(id), 'failed');
  const e = await rt.receive(id, { timeout: 5000 }).then(() => null, (x) => x);
  assert.instance(e, KernelFailedError);
  assert.match((e as Error).message, /could not be started again/);
  assert.equal(columns(rt.getTelemetry(id)!), { processed: 1, interrupted: 1, deadLetters: 0, discarded: 0, dropped: 0, depth: 0 });
}));

test('worker: a thread that dies while the kernel is being started on it is one more death in the window (maxRestarts 2: the third death fails it)', () => withRuntime(async (rt) => {
  const id = reloaded;
  const events = recordEvents(rt);
  await rt.launch(id);
  await rt.activate(id);
  const failed = nextEvent(rt, 'failed', id);
  process.env.RK_TEST_MODULE_REFUSES = 'exit';      // each fresh thread exits as it imports the module
  try {
    await rt.send(id, new SNum({ n: 1000 }));
    const f = await failed;
    assert.is(f.restarts, 2);
    assert.match(String(f.error?.message), new RegExp(`the worker thread running kernel '${id}' died: it exited with code 4`));
  } finally { delete process.env.RK_TEST_MODULE_REFUSES; }
  await sleep(0);
  assert.equal(events.seen, [`restarted:${id}`, `restarted:${id}`, `failed:${id}`]);
  assert.match(String(events.details[1]!.detail.error?.message), /it exited with code 4/);
  const tel = rt.getTelemetry(id)!;
  assert.is(tel.restarts, 2);
  assert.equal(columns(tel), { processed: 0, interrupted: 1, deadLetters: 0, discarded: 0, dropped: 0, depth: 0 });
  // the runtime goes on: the same kernel again, on a thread that imports it
  await rt.terminate(id);
  await rt.launch(id);
  await rt.activate(id);
  await rt.send(id, new SNum({ n: 7 }));
  assert.is(await report(rt, id), 'answer 7');
}));

test.run();
