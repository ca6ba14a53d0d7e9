// Batches: runtime.sendMany / receiveMany and ctx.receiveMany / sendMany keep every rule
// of their one-message forms (order, priority, backpressure, telemetry).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingKernelRuntime, ringKernel, message, t, QueueFullError, QueueTimeoutError, BackpressureStrategy, MessageTooLargeError, MessageTypeError, MessageEncodeError,
} from '../js/index.js';

const BItem = message('BItem', { n: t.i32 });

ringKernel({ kernelId: 'batch_echo', input: BItem, output: BItem, queueSize: 64 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let batch;
    try { batch = await ctx.receiveMany({ max: 16, timeout: 50 }); } catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
    await ctx.sendMany(batch.map((m) => new BItem({ n: m.n, priority: m.priority, correlationId: m.messageId })));
  }
});
ringKernel({ kernelId: 'batch_idle', input: BItem, output: BItem, queueSize: 8, backpressure: BackpressureStrategy.REJECT }, async (ctx) => {
  await ctx.waitActive();
  for await (const m of ctx) await ctx.send(m);
});

// A source that passes on what it receives, in batches of up to 5 (and one by one when n < 0,
// so that batches and single sends share one rotation), into whatever it is connected to.
ringKernel({ kernelId: 'batch_relay', input: BItem, output: BItem, queueSize: 256 }, async (ctx) => {
  while (!ctx.shouldTerminate) {
    let batch;
    try { batch = await ctx.receiveMany({ max: 5 }); } catch { break; }
    if (batch[0]!.n < 0) for (const m of batch) await ctx.send(new BItem({ n: -m.n }));
    else await ctx.sendMany(batch.map((m) => new BItem({ n: m.n })));
  }
});
ringKernel({ kernelId: 'batch_store', input: BItem, output: BItem, queueSize: 64 }, async (ctx) => {
  for await (const m of ctx) await ctx.send(m);
});

/** Everything `id` has sent out so far (waits for `count`). */
async function drain(rt: RingKernelRuntime, id: string, count: number): Promise<number[]> {
  const got: number[] = [];
  while (got.length < count) for (const m of await rt.receiveMany<InstanceType<typeof BItem>>(id, { timeout: 3000 })) got.push(m.n);
  return got;
}

for (const mode of ['one', 'round-robin', 'broadcast', 'key'] as const) {
  test(`ctx.sendMany through connect (${mode}): each target gets its share as one-by-one sends would give it, in order`, async () => {
    await using rt = new RingKernelRuntime();
    const targets = mode === 'one' ? ['bs_0'] : ['bs_0', 'bs_1', 'bs_2'];
    await rt.launch('batch_relay');
    for (const id of targets) await rt.launch(id, 'batch_store');
    if (mode === 'key') rt.connect('batch_relay', targets, { mode, key: (m) => (m as InstanceType<typeof BItem>).n % 4 });
    else if (mode === 'one') rt.connect('batch_relay', targets[0]!);
    else rt.connect('batch_relay', targets, { mode });
    for (const id of ['batch_relay', ...targets]) await rt.activate(id);
    // 1..40 in batches, then 41..45 one by one (sent negated, relayed positive)
    const n = 45;
    await rt.sendMany('batch_relay', Array.from({ length: 40 }, (_, i) => new BItem({ n: i + 1 })));
    for (let i = 41; i <= n; i++) await rt.send('batch_relay', new BItem({ n: -i }));
    const all = Array.from({ length: n }, (_, i) => i + 1);
    const expected = targets.map((_, t) => mode === 'broadcast' || mode === 'one' ? all
      : mode === 'round-robin' ? all.filter((v) => (v - 1) % 3 === t)
        : all.filter((v) => [0, 1, 2, 3].filter((k) => Number(k) % 3 === t).includes(v % 4)));
    for (let t = 0; t < targets.length; t++) {
      const got = await drain(rt, targets[t]!, expected[t]!.length);
      // the batches' part may interleave with nothing else: one source, in order per target
      assert.equal(got, expected[t], `${targets[t]} (${mode})`);
      await rt.receive(targets[t]!, { timeout: 30 }).then(() => assert.unreachable(`${targets[t]} got more`), (e) => assert.instance(e, QueueTimeoutError));
    }
  });
}

ringKernel({ kernelId: 'batch_tiny', input: BItem, output: BItem, queueSize: 2, backpressure: BackpressureStrategy.REJECT }, async (ctx) => {
  await ctx.waitActive();
  for await (const m of ctx) await ctx.send(m);
});
// passes one batch on; a refusal fails it, with the refusal as its error
ringKernel({ kernelId: 'batch_relay_once', input: BItem, output: BItem }, async (ctx) => {
  const batch = await ctx.receiveMany({ max: 10, timeout: 3000 });
  await ctx.sendMany(batch.map((m) => new BItem({ n: m.n })));
  await ctx.receive();
});

test('ctx.sendMany through connect: a full REJECT target refuses its share; the others get theirs', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_relay_once');
  await rt.launch('bt_small', 'batch_tiny');   // launched, never activated: takes 2, refuses the rest
  await rt.launch('bt_big', 'batch_store');
  rt.connect('batch_relay_once', ['bt_small', 'bt_big'], { mode: 'broadcast' });
  await rt.activate('batch_relay_once');
  await rt.activate('bt_big');
  await rt.sendMany('batch_relay_once', Array.from({ length: 6 }, (_, n) => new BItem({ n })));
  assert.equal(await drain(rt, 'bt_big', 6), [0, 1, 2, 3, 4, 5]);
  for (let i = 0; i < 200 && rt.getState('batch_relay_once') !== 'failed'; i++) await new Promise((r) => setTimeout(r, 5));
  assert.is(rt.getState('batch_relay_once'), 'failed');
  assert.match(rt.getTelemetry('batch_relay_once')!.lastError ?? '', /QueueFullError: send to kernel 'bt_small'/);
  assert.is(rt.getTelemetry('bt_small')!.queueDepth, 2);
  assert.is(rt.getTelemetry('bt_small')!.messagesRejected, 4);
});

test('sendMany then receiveMany: everything, in order, one copy each', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_echo');
  await rt.activate('batch_echo');
  const sent = Array.from({ length: 500 }, (_, n) => new BItem({ n }));
  const sending = rt.sendMany('batch_echo', sent, { timeout: 5000 });  // 500 through a 64-message queue: BLOCK waits
  const got: number[] = [];
  while (got.length < 500) for (const m of await rt.receiveMany<InstanceType<typeof BItem>>('batch_echo', { timeout: 5000 })) got.push(m.n);
  await sending;
  assert.equal(got, sent.map((m) => m.n));
  const tm = rt.getTelemetry('batch_echo')!;
  assert.ok(tm.messagesProcessed >= 484 && tm.messagesProcessed <= 500); // the last batch counts once the kernel asks again
  assert.is(tm.messagesRejected, 0);
});

test('receiveMany keeps priority order and respects max', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_idle');
  await rt.sendMany('batch_idle', [new BItem({ n: 1, priority: 10 }), new BItem({ n: 2, priority: 200 }), new BItem({ n: 3, priority: 10 }), new BItem({ n: 4, priority: 250 })]);
  await rt.activate('batch_idle');
  for (let i = 0; i < 200 && rt.getTelemetry('batch_idle')!.messagesProcessed < 4; i++) await new Promise((r) => setTimeout(r, 5));
  const first = await rt.receiveMany<InstanceType<typeof BItem>>('batch_idle', { max: 2, timeout: 2000 });
  assert.equal(first.map((m) => m.n), [4, 2]);
  const rest = await rt.receiveMany<InstanceType<typeof BItem>>('batch_idle', { timeout: 2000 });
  assert.equal(rest.map((m) => m.n), [1, 3]);
  const e = await rt.receiveMany('batch_idle', { timeout: 30 }).catch((x) => x);
  assert.instance(e, QueueTimeoutError);
});

test('sendMany under REJECT stops at the first refusal and counts the rest as rejected', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_idle');                   // launched, not active: nothing is taken
  const e = await rt.sendMany('batch_idle', Array.from({ length: 12 }, (_, n) => new BItem({ n }))).catch((x) => x);
  assert.instance(e, QueueFullError);
  assert.is(e.enqueued, 8);
  const tm = rt.getTelemetry('batch_idle')!;
  assert.is(tm.queueDepth, 8);
  assert.is(tm.messagesRejected, 4);
});

test('sendMany checks every item before sending any', async () => {
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_idle');
  const e = await rt.sendMany('batch_idle', [new BItem({ n: 1 }), { n: 2 } as never]).catch((x) => x);
  assert.instance(e, MessageTypeError);
  assert.match(e.message, /batch_idle/);
  assert.is(rt.getTelemetry('batch_idle')!.queueDepth, 0);
});

test('ctx.receiveAvailable takes what is waiting without waiting, and nothing while deactivated', async () => {
  const seen: number[][] = [];
  let release!: () => void, release2!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const gate2 = new Promise<void>((r) => { release2 = r; });
  ringKernel({ kernelId: 'batch_available', input: BItem, output: BItem }, async (ctx) => {
    await ctx.waitActive();
    seen.push(ctx.receiveAvailable(10).map((m) => m.n));   // nothing queued yet
    await gate;
    seen.push(ctx.receiveAvailable(2).map((m) => m.n));    // two of the three
    seen.push(ctx.receiveAvailable().map((m) => m.n));     // the rest
    await ctx.runtime.deactivate(ctx.kernelId);
    await gate2;
    seen.push(ctx.receiveAvailable().map((m) => m.n));     // deactivated: nothing, though one waits
    await ctx.waitActive();
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_available');
  await rt.activate('batch_available');
  await new Promise((r) => setTimeout(r, 10));
  await rt.sendMany('batch_available', [1, 2, 3].map((n) => new BItem({ n })));
  release();
  for (let i = 0; i < 100 && rt.getState('batch_available') !== 'deactivated'; i++) await new Promise((r) => setTimeout(r, 5));
  await rt.send('batch_available', new BItem({ n: 4 }));
  release2();
  for (let i = 0; i < 100 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(seen, [[], [1, 2], [3], []]);
  assert.is(rt.getTelemetry('batch_available')!.queueDepth, 1);
});

const BBlob = message('BBlob', { n: t.i32, bytes: t.bytes });

test('two sendMany waiting for room at once: every message once, each sender in order, priorities kept', async () => {
  ringKernel({ kernelId: 'batch_narrow', input: BItem, output: BItem, queueSize: 4 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new BItem({ n: m.n, priority: m.priority }));
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_narrow');
  const a = Array.from({ length: 300 }, (_, n) => new BItem({ n, priority: n % 2 ? 128 : 40 }));
  const b = Array.from({ length: 300 }, (_, n) => new BItem({ n: 1000 + n, priority: n % 3 ? 128 : 200 }));
  const sending = Promise.all([rt.sendMany('batch_narrow', a), rt.sendMany('batch_narrow', b)]); // both wait: 4 fit
  await rt.activate('batch_narrow');
  const got: Array<InstanceType<typeof BItem>> = [];
  while (got.length < 600) got.push(...await rt.receiveMany<InstanceType<typeof BItem>>('batch_narrow', { timeout: 5000 }));
  await sending;
  assert.equal(got.map((m) => m.n).sort((x, y) => x - y), [...a, ...b].map((m) => m.n).sort((x, y) => x - y));
  for (const m of got) assert.is(m.priority, (m.n < 1000 ? a[m.n]! : b[m.n - 1000]!).priority);
  // within one sender and one priority, order is kept
  for (const from of [a, b]) for (const p of [40, 128, 200]) {
    const mine = new Set(from.filter((m) => m.priority === p).map((m) => m.n));
    const order = got.filter((m) => mine.has(m.n)).map((m) => m.n);
    assert.equal(order, [...order].sort((x, y) => x - y));
  }
});

test('sendMany: a message over maxMessageSize rejects once those before it are in; none after it is sent', async () => {
  ringKernel({ kernelId: 'batch_small', input: BBlob, output: BBlob, maxMessageSize: 256 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_small');
  const blob = (n: number, size: number) => new BBlob({ n, bytes: new Uint8Array(size) });
  const e = await rt.sendMany('batch_small', [blob(1, 10), blob(2, 100), blob(3, 1000), blob(4, 10)]).catch((x) => x);
  assert.instance(e, MessageTooLargeError);
  assert.match(e.message, /send to kernel 'batch_small': BBlob encodes to \d+ bytes, over the queue's maxMessageSize of 256; it and the messages after it were not enqueued/);
  assert.is(e.enqueued, 2);
  assert.is(rt.getTelemetry('batch_small')!.queueDepth, 2);
  await rt.activate('batch_small');
  const got = await rt.receiveMany<InstanceType<typeof BBlob>>('batch_small', { timeout: 2000 });
  while (got.length < 2) got.push(...await rt.receiveMany<InstanceType<typeof BBlob>>('batch_small', { timeout: 2000 }));
  assert.equal(got.map((m) => m.n), [1, 2]);
});

test('sendMany of a batch bigger than the staging area (4 MiB of records) arrives whole', async () => {
  ringKernel({ kernelId: 'batch_big', input: BBlob, output: BBlob, queueSize: 8192, maxMessageSize: 2048 }, async (ctx) => {
    while (!ctx.shouldTerminate) {
      let batch;
      try { batch = await ctx.receiveMany({ max: 512, timeout: 50 }); } catch (e) { if (e instanceof QueueTimeoutError) continue; throw e; }
      await ctx.sendMany(batch);
    }
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_big');
  await rt.activate('batch_big');
  const sent = Array.from({ length: 4000 }, (_, n) => new BBlob({ n, bytes: new Uint8Array(1000).fill(n & 255) }));
  const sending = rt.sendMany('batch_big', sent);
  const got: Array<InstanceType<typeof BBlob>> = [];
  while (got.length < sent.length) got.push(...await rt.receiveMany<InstanceType<typeof BBlob>>('batch_big', { max: 4096, timeout: 5000 }));
  await sending;
  assert.equal(got.map((m) => m.n), sent.map((m) => m.n));
  assert.ok(got.every((m) => m.bytes.length === 1000 && m.bytes[999] === (m.n & 255)));
});

test('BLOCK with a timeout of 0 refuses at once when full, counted as rejected, for send and sendMany alike', async () => {
  ringKernel({ kernelId: 'batch_zero', input: BItem, output: BItem, queueSize: 2 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_zero');                     // launched, not active: nothing is taken
  await rt.sendMany('batch_zero', [new BItem({ n: 1 }), new BItem({ n: 2 })]);
  const one = await rt.send('batch_zero', new BItem({ n: 3 }), { timeout: 0 }).catch((x) => x);
  assert.instance(one, QueueFullError);
  assert.match(one.message, /its queue stayed full \(2 messages\) for 0 ms; nothing was enqueued/);
  const many = await rt.sendMany('batch_zero', [new BItem({ n: 4 }), new BItem({ n: 5 })], { timeout: 0 }).catch((x) => x);
  assert.instance(many, QueueFullError);
  assert.is(many.enqueued, 0);
  const tm = rt.getTelemetry('batch_zero')!;
  assert.is(tm.queueDepth, 2);
  assert.is(tm.messagesRejected, 3);
});

test('sendMany that fills the queue partway through a run of one priority: enqueued counts from the batch start, the rest rejected, none twice', async () => {
  ringKernel({ kernelId: 'batch_partway', input: BItem, output: BItem, queueSize: 64 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_partway');                  // launched, not active: nothing is taken
  // runs of 10 of one priority each: the queue fills at the 65th message, inside the seventh run
  const batch = Array.from({ length: 100 }, (_, n) => new BItem({ n, priority: Math.floor(n / 10) % 2 ? 200 : 100 }));
  const e = await rt.sendMany('batch_partway', batch, { timeout: 0 }).catch((x) => x);
  assert.instance(e, QueueFullError);
  assert.is(e.enqueued, 64);
  const tm = rt.getTelemetry('batch_partway')!;
  assert.is(tm.queueDepth, 64);
  assert.is(tm.messagesRejected, 36);
  await rt.activate('batch_partway');
  const got: number[] = [];
  while (got.length < 64) for (const m of await rt.receiveMany<InstanceType<typeof BItem>>('batch_partway', { timeout: 2000 })) got.push(m.n);
  assert.equal([...got].sort((x, y) => x - y), Array.from({ length: 64 }, (_, n) => n));
  await rt.receive('batch_partway', { timeout: 30 }).then(() => assert.unreachable('more than 64 arrived'), (x) => assert.instance(x, QueueTimeoutError));
});

test('a sendMany waiting for room sends its messages as they were when it was called, whatever is sent meanwhile', async () => {
  ringKernel({ kernelId: 'batch_hold', input: BItem, output: BItem, queueSize: 4 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_hold');                     // launched, not active: 4 go in, the rest waits
  await rt.launch('batch_idle');
  // twice: the second batch's records are encoded into the room the first one's waits used
  // (a region of the core's memory, freed once its push settled, handed out again)
  for (const [from, count] of [[0, 500], [1000, 300]] as const) {
    const batch = Array.from({ length: count }, (_, n) => new BItem({ n: from + n }));
    const sending = rt.sendMany('batch_hold', batch);
    for (const m of batch) m.n = -1;                 // the caller reuses its messages at once
    // a sendMany to a REJECT queue encodes into the runtime's reused staging buffer meanwhile
    await rt.sendMany('batch_idle', Array.from({ length: 8 }, (_, n) => new BItem({ n: 9000 + n })), { timeout: 0 }).catch(() => {});
    if (from === 0) await rt.activate('batch_hold');
    assert.equal(await drain(rt, 'batch_hold', count), Array.from({ length: count }, (_, n) => from + n)); // every one, in order, as sent
    await sending;
  }
  // two at once, after those: each in a region of its own, neither freed before its push settles
  const a = Array.from({ length: 200 }, (_, n) => new BItem({ n: 2000 + n })), b = Array.from({ length: 200 }, (_, n) => new BItem({ n: 3000 + n }));
  const both = Promise.all([rt.sendMany('batch_hold', a), rt.sendMany('batch_hold', b)]);
  const got = await drain(rt, 'batch_hold', 400);
  await both;
  assert.equal(got.filter((n) => n < 3000), a.map((m) => m.n));
  assert.equal(got.filter((n) => n >= 3000), b.map((m) => m.n));
});

test('a message that does not encode (a field set to another type after it was made): MessageEncodeError naming the kernel and the field, for send and for sendMany, whose messages before it go in, waiting for room, and none after it', async () => {
  const BText = message('BText', { s: t.string });
  ringKernel({ kernelId: 'batch_text', input: BText, output: BText, queueSize: 4 }, async (ctx) => {
    for await (const m of ctx) await ctx.send(m);
  });
  const BNum = message('BNum', { n: t.i32 });
  ringKernel({ kernelId: 'batch_hold_num', input: BNum, queueSize: 4 }, async (ctx) => { await ctx.waitActive(); });
  await using rt = new RingKernelRuntime();
  await rt.launch('batch_text');
  await rt.launch('batch_hold_num');
  const bad = () => { const m = new BText({ s: 'x' }); (m as unknown as { s: unknown }).s = 5; return m; };
  const one = await rt.send('batch_text', bad()).catch((x) => x);
  assert.instance(one, MessageEncodeError);
  assert.match(one.message, /^send to kernel 'batch_text': a BText does not encode: BText: field 's': expected a string, got number 5; nothing was enqueued$/);
  assert.is(rt.getTelemetry('batch_text')!.queueDepth, 0);
  // a number field too (DataView would have sent a string as NaN, or 0)
  const num = new BNum({ n: 1 });
  (num as unknown as { n: unknown }).n = 'zz';
  const two = await rt.send('batch_hold_num', num).catch((x) => x);
  assert.instance(two, MessageEncodeError);
  assert.match(two.message, /^send to kernel 'batch_hold_num': a BNum does not encode: BNum: field 'n': expected an integer in -2147483648\.\.2147483647, got string "zz"; nothing was enqueued$/);
  await rt.activate('batch_text');
  // 30,000 records of about 70 bytes, more than scratch holds: the bad one is encoded with the rest that waits
  const batch = Array.from({ length: 30_000 }, (_, n) => new BText({ s: `m${n}` }));
  batch[29_000] = bad();
  const sending = rt.sendMany('batch_text', batch).then(() => null, (x) => x);
  const got: string[] = [];
  while (got.length < 29_000) for (const m of await rt.receiveMany<InstanceType<typeof BText>>('batch_text', { timeout: 3000 })) got.push(m.s);
  const e = await sending;
  assert.instance(e, MessageEncodeError);
  assert.match(e.message, /field 's': expected a string, got number 5; it and the messages after it were not enqueued/);
  assert.is(e.enqueued, 29_000);
  assert.equal(got, batch.slice(0, 29_000).map((m) => m.s));
  await rt.receive('batch_text', { timeout: 50 }).then(() => assert.unreachable('one after the bad one arrived'), (x) => assert.instance(x, QueueTimeoutError));
  // and in the first run, before anything waits: those before it go in
  const small = [new BText({ s: 'a' }), new BText({ s: 'b' }), bad(), new BText({ s: 'c' })];
  const e2 = await rt.sendMany('batch_text', small).catch((x) => x);
  assert.instance(e2, MessageEncodeError);
  assert.is(e2.enqueued, 2);
  const tail: string[] = [];
  while (tail.length < 2) for (const m of await rt.receiveMany<InstanceType<typeof BText>>('batch_text', { timeout: 3000 })) tail.push(m.s);
  assert.equal(tail, ['a', 'b']);
});

test.run();
