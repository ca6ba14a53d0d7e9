// Waiters (js/kernel/waiters.ts): receives that wait, each with its own timeout, all ended by
// one timer of the thread's; a waiter answered in time is never timed out, and a timer no
// waiter needs keeps no process alive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitIn, settle, wakeTakers, type Waiter } from '../js/kernel/waiters.js';
import { QueueTimeoutError } from '../js/errors.js';
import { RingKernelRuntime, ringKernel, message, t } from '../js/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

test('waiters waiting at once time out each at its own timeout, shortest first, whatever order they came in', async () => {
  const queue: Waiter<number>[] = [];
  const t0 = performance.now();
  const ended: Array<{ timeout: number; after: number }> = [];
  const waits = [80, 20, 50, 20].map((timeout) => waitIn(queue, { timeout }, 'receive', 'w_k').then(
    () => assert.unreachable('nothing settles them'),
    (e) => { assert.instance(e, QueueTimeoutError); assert.match(e.message, new RegExp(`within ${timeout} ms`)); ended.push({ timeout, after: performance.now() - t0 }); }));
  await Promise.all(waits);
  assert.equal(ended.map((e) => e.timeout), [20, 20, 50, 80]);
  for (const e of ended) assert.ok(e.after >= e.timeout - 1, `a ${e.timeout} ms timeout ended after ${e.after.toFixed(1)} ms`);
  assert.is(queue.length, 0, 'each left its queue');
});

test('a waiter settled before its timeout is not timed out later, and one that came after it still is', async () => {
  const queue: Waiter<number>[] = [];
  const answered = waitIn(queue, { timeout: 30 }, 'receive', 'w_k');
  settle(queue.shift()!, 7);
  assert.is(await answered, 7);
  const later = waitIn(queue, { timeout: 40 }, 'receive', 'w_k').then(() => 'settled', (e) => e);
  await new Promise((r) => setTimeout(r, 60));
  assert.instance(await later, QueueTimeoutError);
});

test('wakeTakers settles each waiter in order with what its take takes; one that takes nothing keeps its place and its timeout, one whose take throws rejects, one without a take gets undefined', async () => {
  const queue: Waiter<string | undefined>[] = [];
  let stock = ['a'];
  const taker = (name: string) => (): string | null => (stock.length > 0 ? `${name}:${stock.shift()}` : null);
  const first = waitIn(queue, { timeout: 1000 }, 'receive', 'w_k', false, taker('first'));
  const second = waitIn(queue, { timeout: 40 }, 'receive', 'w_k', false, taker('second')).then((v) => v, (e) => e);
  const plain = waitIn(queue, undefined, 'receive', 'w_k');
  const failing = waitIn(queue, undefined, 'receive', 'w_k', false, () => { throw new RangeError('no'); }).then((v) => v, (e) => e);
  wakeTakers(queue);
  assert.is(await first, 'first:a', 'the first takes what there is');
  assert.is(await plain, undefined);
  assert.instance(await failing, RangeError);
  assert.is(queue.length, 1, 'the second took nothing and waits on, alone');
  stock = ['b', 'c'];
  const third = waitIn(queue, undefined, 'receive', 'w_k', false, taker('third'));
  wakeTakers(queue);
  assert.is(await second, 'second:b', 'in its place, before the one that came after it');
  assert.is(await third, 'third:c');
  const late = waitIn(queue, { timeout: 30 }, 'receive', 'w_k', false, () => null).then((v) => v, (e) => e);
  wakeTakers(queue);
  assert.instance(await late, QueueTimeoutError, 'woken with nothing for it, it still times out');
  assert.is(queue.length, 0);
});

test('a timeout of Infinity never ends, and one over setTimeout\'s limit (2^31 - 1 ms) does not end at once', async () => {
  const queue: Waiter<number>[] = [];
  const forever = waitIn(queue, { timeout: Infinity }, 'receive', 'w_k').then(() => 'settled', (e) => e);
  const long = waitIn(queue, { timeout: 2 ** 33 }, 'receive', 'w_k').then(() => 'settled', (e) => e);
  await new Promise((r) => setTimeout(r, 30));
  assert.is(queue.length, 2, 'both still wait');
  for (const w of queue.splice(0)) settle(w, 1);
  assert.is(await forever, 'settled');
  assert.is(await long, 'settled');
});

test('a receive that has to wait with a negative or NaN timeout rejects with RangeError naming the kernel; nothing is taken', async () => {
  const WItem = message('WaitItem', { n: t.u32 });
  ringKernel({ kernelId: 'w_idle', input: WItem, output: WItem }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
  await using rt = new RingKernelRuntime();
  await rt.launch('w_idle');
  await rt.activate('w_idle');
  for (const timeout of [-5, NaN]) {
    const e = await rt.receive('w_idle', { timeout }).catch((x) => x);
    assert.instance(e, RangeError);
    assert.match(e.message, /receive on kernel 'w_idle': timeout must be a number of milliseconds >= 0, got (-5|NaN)/);
  }
  await rt.send('w_idle', new WItem({ n: 3 }));
  assert.is((await rt.receive<InstanceType<typeof WItem>>('w_idle', { timeout: 1000 })).n, 3, 'the refused receives took nothing');
});

test('a process whose receives waited with a 60 s timeout and were answered exits at once (the timer keeps nothing alive)', () => {
  const script = `
    import { RingKernelRuntime, ringKernel, message, t } from 'ringkernel';
    const P = message('ExitPing', { n: t.u32 });
    ringKernel({ kernelId: 'exit_echo', input: P, output: P }, async (ctx) => { for await (const m of ctx) await ctx.send(new P({ n: m.n })); });
    const rt = new RingKernelRuntime();
    await rt.launch('exit_echo'); await rt.activate('exit_echo');
    for (let i = 0; i < 3; i++) { const answer = rt.receive('exit_echo', { timeout: 60000 }); await rt.send('exit_echo', new P({ n: i })); await answer; }
    console.log('answered');`;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  const took = performance.now() - t0;
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'answered');
  assert.ok(took < 10_000, `the process took ${Math.round(took)} ms to exit`);
});

test.run();
