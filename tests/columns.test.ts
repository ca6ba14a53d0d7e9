// Columns: runtime.sendColumns / receiveColumns and ctx.sendColumns / receiveColumns move
// typed arrays through the same rings, as the same records, under the same rules as
// sendMany / receiveMany (order, priority, backpressure, telemetry); bad columns are refused
// with a ColumnError naming the kernel and the field before anything is enqueued.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RingKernelRuntime, ringKernel, message, t, ColumnError, RingKernelError, QueueFullError, QueueTimeoutError,
  BackpressureStrategy, MessageDecodeError, MessageTooLargeError, KernelStateError, MessageTypeError, sentAt,
} from '../js/index.js';
import { CSample, CSum, sampleColumns, sampleSum } from './helpers/column-kernels.js';
import { createCore, Strategy } from '../js/core/core.js';
import { Ring } from '../js/core/ring.js';
import { Col, setPushFields, writeLayout } from '../js/message/columns.js';
import { coreGlobals } from './helpers/core-globals.js';

type SampleColumns = ReturnType<typeof sampleColumns>;

const CNum = message('CNum', { n: t.i32 });
const CText = message('CText', { x: t.f32, name: t.string });
const CVar = message('CVar', { x: t.f32, v: t.array(t.f32) });
const CBig = message('CBig', { v: t.array(t.f64, 200) });

/** A kernel that does nothing until told: its input queue is where the test looks. */
const park = (kernelId: string, input: any, options: object = {}) =>
  ringKernel({ kernelId, input, output: input, ...options }, async (ctx) => { await new Promise<void>((r) => { const i = setInterval(() => { if (ctx.shouldTerminate) { clearInterval(i); r(); } }, 5); }); });

test('the column layout offsets the facade writes are the ones the core reads (its COL_* globals)', async () => {
  const globals = await coreGlobals();
  const g = (name: string) => globals[name];
  const offsets: Array<[string, Col]> = [
    ['TYPE', Col.TYPE], ['RECORD_LEN', Col.RECORD_LEN], ['TIMESTAMP', Col.TIMESTAMP], ['SEED', Col.SEED],
    ['PRIORITY', Col.PRIORITY], ['FIELD_COUNT', Col.FIELD_COUNT], ['TIMES', Col.TIMES], ['TEMP', Col.TEMP],
    ['BLOCKED', Col.BLOCKED], ['BLOCKED_TYPE', Col.BLOCKED_TYPE], ['BLOCKED_LEN', Col.BLOCKED_LEN], ['INDEX0', Col.INDEX0],
    ['IDS', Col.IDS], ['PRIORITIES', Col.PRIORITIES], ['FIELDS', Col.FIELDS], ['FIELD_BYTES', Col.FIELD_BYTES],
    ['FIELD_COLUMN', Col.FIELD_COLUMN], ['FIELD_SIZE', Col.FIELD_SIZE], ['FIELD_OFFSET', Col.FIELD_OFFSET],
  ];
  for (const [name, offset] of offsets) assert.is(g(`COL_${name}`), offset, `COL_${name}`);
  // and no COL_ global the facade does not name
  const exported = Object.keys(globals).filter((k) => k.startsWith('COL_')).sort();
  assert.equal(exported, offsets.map(([n]) => `COL_${n}`).sort());
});

test('a pushed column run makes the records columnsEncode makes one by one (its ids mixed four at a time), at every start and length', async () => {
  const core = await createCore();
  const ring = Ring.create(core, { capacity: 1024, maxRecord: 256, strategy: Strategy.BLOCK });
  const n = 23, recordLen = 56 + 8;
  const layout = core.alloc(256), temp = core.alloc(256), column = core.alloc(8 * n), out = core.alloc(128 * n);
  writeLayout(core, layout, { typeId: 77, recordLen, fields: [{ column, bytes: 8, offset: 0 }], temp, times: 0, ids: 0, priorities: 0 });
  for (let i = 0; i < 2 * n; i++) core.dv.setUint32(column + 4 * i, 1000 + i, true);
  setPushFields(core, layout, 1234.5, 0xfffffffd, 0x9e3779b9, 0x7f4a7c15, 0x12345678, 200, 0);
  // runs of 1..4 records starting at each lane of the four-at-a-time mix, then the rest
  let first = 0;
  for (const k of [1, 2, 3, 4, 1, 5, 7]) { assert.is(core.x.queue_push_columns(ring.ptr, layout, first, k), k); first += k; }
  assert.is(first, n);
  const pushed = ring.popBatch(n);
  core.x.columns_write_records(layout, 0, n, out);
  for (let i = 0, p = out; i < n; i++) {
    const len = core.dv.getUint32(p, true);
    assert.is(len, recordLen);
    assert.equal(Array.from(pushed[i]!), Array.from(core.mem.subarray(p + 4, p + 4 + len)), `record ${i}`);
    p += 4 + ((len + 3) & ~3);
  }
  assert.is(new Set(pushed.map((r) => Array.from(r.subarray(16, 32)).join())).size, n); // n different ids
});

test('column runs across the arena\'s end and the slots\' groups: the records pushed are those columnsEncode makes, and a column pop reads them back in order', async () => {
  const core = await createCore();
  // 1,024 slots a band (two groups of 512) and an arena of 8 KB (113 records of 72 bytes):
  // runs wrap the arena, cross groups and wrap the slot array many times
  const ring = Ring.create(core, { capacity: 700, maxRecord: 256, bandBytes: 8192, strategy: Strategy.BLOCK });
  const recordLen = 56 + 12, most = 100;
  const layout = core.alloc(256), temp = core.alloc(256), column = core.alloc(12 * most), out = core.alloc(80 * most);
  const popLayout = core.alloc(256), popColumn = core.alloc(12 * most), times = core.alloc(8 * most), ids = core.alloc(16 * most), prios = core.alloc(most);
  writeLayout(core, layout, { typeId: 78, recordLen, fields: [{ column, bytes: 12, offset: 0 }], temp, times: 0, ids: 0, priorities: 0 });
  writeLayout(core, popLayout, { typeId: 78, recordLen, fields: [{ column: popColumn, bytes: 12, offset: 0 }], temp, times, ids, priorities: prios });
  let seed = 12345;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  let sent = 0;
  for (let round = 0; round < 300; round++) {
    const k = 1 + rand(most);
    for (let i = 0; i < 3 * k; i++) core.dv.setUint32(column + 4 * i, sent * 3 + i, true);
    setPushFields(core, layout, 1000 + round, rand(0x100000000), rand(0x100000000), rand(0x100000000), rand(0x100000000), 128, 0);
    assert.is(core.x.queue_push_columns(ring.ptr, layout, 0, k), k, `round ${round}`);
    if (round % 2 === 0) {
      const pushed = ring.popBatch(k);
      assert.is(pushed.length, k);
      core.x.columns_write_records(layout, 0, k, out);
      for (let i = 0, p = out; i < k; i++, p += 4 + ((recordLen + 3) & ~3))
        assert.equal(Array.from(pushed[i]!), Array.from(core.mem.subarray(p + 4, p + 4 + recordLen)), `round ${round}, record ${i}`);
    } else {
      assert.is(core.x.queue_pop_columns(ring.ptr, popLayout, most), k, `round ${round}`);
      assert.is(core.dv.getUint32(popLayout + Col.BLOCKED, true), 0);
      for (let i = 0; i < 3 * k; i++) assert.is(core.dv.getUint32(popColumn + 4 * i, true), sent * 3 + i);
      for (let i = 0; i < k; i++) {
        assert.is(core.dv.getFloat64(times + 8 * i, true), 1000 + round);
        assert.is(core.mem[prios + i], 128);
      }
    }
    sent += k;
  }
});

park('col_park', CNum, { queueSize: 16 });
park('col_park_reject', CNum, { queueSize: 16, backpressure: BackpressureStrategy.REJECT });
park('col_park_drop', CNum, { queueSize: 16, backpressure: BackpressureStrategy.DROP_OLDEST });
park('col_text', CText);
park('col_var', CVar);
park('col_big', CBig, { maxMessageSize: 1024 });
park('col_sample_park', CSample, { queueSize: 64 });
park('col_any', undefined);
ringKernel({ kernelId: 'col_echo', input: CNum, output: CNum, queueSize: 64 }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });

async function withRuntime(fn: (rt: RingKernelRuntime) => Promise<void>, options = {}): Promise<void> {
  const rt = new RingKernelRuntime(options);
  try { await fn(rt); } finally { await rt.shutdown({ timeout: 1000 }); }
}

/** Everything the kernel sends, as columns, until `count` messages came. */
async function drainColumns(rt: RingKernelRuntime, id: string, count: number): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  let got = 0;
  while (got < count) {
    const b = await rt.receiveColumns(id, { timeout: 5000 });
    assert.ok(b.count >= 1);
    for (const [k, a] of Object.entries(b.fields)) (out[k] ??= []).push(...a);
    got += b.count;
  }
  assert.is(got, count);
  return out;
}

test('host -> inline kernel -> host, all as columns, every field type, in order', () => withRuntime(async (rt) => {
  await rt.launch('col_sum');
  await rt.activate('col_sum');
  const n = 12_345; // more than one chunk of scratch, and more than the queue holds (BLOCK waits)
  const c = sampleColumns(n);
  const sending = rt.sendColumns('col_sum', c);
  const out = await drainColumns(rt, 'col_sum', n);
  await sending;
  for (let i = 0; i < n; i++) {
    assert.is(out.id![i], i);
    const want = sampleSum({ x: c.x[i]!, y: c.y[i]!, k: c.k[i]!, v: c.v.subarray(4 * i, 4 * i + 4), w: c.w.subarray(2 * i, 2 * i + 2), u: c.u.subarray(3 * i, 3 * i + 3), s: c.s.subarray(2 * i, 2 * i + 2) });
    if (out.sum![i] !== want) assert.unreachable(`message ${i}: ${out.sum![i]} vs ${want}`);
  }
  const tel = rt.getTelemetry('col_sum')!;
  assert.is(tel.messagesProcessed, n);
  assert.ok(tel.latencyP50Ms > 0);
}));

test('a worker kernel takes and gives columns over the shared rings', () => withRuntime(async (rt) => {
  await rt.launch('col_sum_w');
  await rt.activate('col_sum_w');
  const n = 3000;
  const c = sampleColumns(n, 100);
  const sending = rt.sendColumns('col_sum_w', c);
  const out = await drainColumns(rt, 'col_sum_w', n);
  await sending;
  assert.equal(out.id, Array.from({ length: n }, (_, i) => 100 + i));
  assert.is(out.sum![7], sampleSum({ x: c.x[7]!, y: c.y[7]!, k: c.k[7]!, v: c.v.subarray(28, 32), w: c.w.subarray(14, 16), u: c.u.subarray(21, 24), s: c.s.subarray(14, 16) }));
  await new Promise((r) => setTimeout(r, 50));
  assert.is(rt.getTelemetry('col_sum_w')!.messagesProcessed, n);
}, { workers: 1 }));

test('ctx.runtime in a worker sends columns to another kernel', () => withRuntime(async (rt) => {
  await rt.launch('col_forward_w');
  await rt.launch('col_sum');
  await rt.activate('col_forward_w');
  await rt.activate('col_sum');
  const n = 2000;
  const sending = rt.sendColumns('col_forward_w', sampleColumns(n));
  const out = await drainColumns(rt, 'col_sum', n);
  await sending;
  assert.equal(out.id, Array.from({ length: n }, (_, i) => i));
}, { workers: 1 }));

test('ids of column batches: v4 UUIDs, distinct within a batch (one run wraps the arena) and across batches', () => withRuntime(async (rt) => {
  await rt.launch('col_echo');
  await rt.activate('col_echo');
  const ids = new Set<string>();
  const prefixes = new Set<string>();
  for (const n of [3000, 3000, 1]) {
    const sending = rt.sendColumns('col_echo', { n: new Int32Array(n) });
    const ms: InstanceType<typeof CNum>[] = [];
    while (ms.length < n) ms.push(...await rt.receiveMany('col_echo', { max: n - ms.length, timeout: 3000 }));
    await sending;
    const batch = new Set<string>();
    for (const m of ms) {
      assert.match(m.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.not.ok(ids.has(m.messageId), `id ${m.messageId} made twice`);
      ids.add(m.messageId);
      batch.add(m.messageId.slice(0, 28));
    }
    assert.is(batch.size, 1, 'a batch\'s ids share their first 96 bits, as a thread\'s ids do');
    prefixes.add([...batch][0]!);
  }
  assert.is(prefixes.size, 3, 'each batch draws a fresh prefix');
}));

test('columns are the records messages are: sent as columns, received as objects, and back', () => withRuntime(async (rt) => {
  await rt.launch('col_echo');
  await rt.activate('col_echo');
  await rt.sendColumns('col_echo', { n: new Int32Array([5, -6, 7]) });
  const ms: InstanceType<typeof CNum>[] = [];
  while (ms.length < 3) ms.push(...await rt.receiveMany('col_echo', { max: 3 - ms.length, timeout: 3000 }));
  assert.equal(ms.map((m) => m.n), [5, -6, 7]);
  for (const m of ms) {
    assert.instance(m, CNum);
    assert.match(m.messageId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.is(m.priority, 128);
    assert.is(m.correlationId, null);
    assert.ok(Math.abs(sentAt(m) - (performance.timeOrigin + performance.now())) < 10_000);
  }
  assert.is(new Set(ms.map((m) => m.messageId)).size, 3);
  // the bytes of a record made from columns decode through the validating decoder too
  const again = CNum.decode(CNum.encode(ms[0]!));
  assert.is(again.messageId, ms[0]!.messageId);

  await rt.sendMany('col_echo', [new CNum({ n: 1 }), new CNum({ n: 2 })]);
  const b = await rt.receiveColumns('col_echo', { max: 1, timeout: 3000 });
  assert.instance(b.fields.n, Int32Array);
  assert.equal([...b.fields.n!], [1]);
  assert.equal((await drainColumns(rt, 'col_echo', 1)).n, [2]);
}));

test('a column batch and single messages mix in one queue in order', () => withRuntime(async (rt) => {
  await rt.launch('col_echo');
  await rt.send('col_echo', new CNum({ n: -1 }));
  await rt.sendColumns('col_echo', { n: Int32Array.from({ length: 40 }, (_, i) => i) });
  await rt.send('col_echo', new CNum({ n: -2 }));
  await rt.sendColumns('col_echo', { n: new Int32Array([100, 101]) });
  await rt.activate('col_echo');
  const got: number[] = [];
  while (got.length < 44) for (const m of await rt.receiveMany('col_echo', { timeout: 3000 })) got.push(m.n);
  assert.equal(got, [-1, ...Array.from({ length: 40 }, (_, i) => i), -2, 100, 101]);
}));

test('priorities: a batch goes in its band, received before lower bands, FIFO within one', () => withRuntime(async (rt) => {
  await rt.launch('col_echo');
  await rt.sendColumns('col_echo', { n: new Int32Array([1, 2, 3]) });
  await rt.sendColumns('col_echo', { n: new Int32Array([10, 11]) }, { priority: 250 });
  await rt.send('col_echo', new CNum({ n: 4 }));
  await rt.sendColumns('col_echo', { n: new Int32Array([0]) }, { priority: 10 });
  await rt.activate('col_echo');
  const out = await drainColumns(rt, 'col_echo', 7);
  assert.equal(out.n, [10, 11, 1, 2, 3, 4, 0]);
  try { await rt.sendColumns('col_echo', { n: new Int32Array(1) }, { priority: 256 }); assert.unreachable(); } catch (e) { assert.instance(e, RangeError); }
  try { await rt.sendColumns('col_echo', { n: new Int32Array(1) }, { priority: 1.5 }); assert.unreachable(); } catch (e) { assert.instance(e, RangeError); }
}));

test('BLOCK: a batch bigger than the queue waits for room and loses nothing; its timeout gives QueueFullError', () => withRuntime(async (rt) => {
  await rt.launch('col_park');
  await rt.sendColumns('col_park', { n: new Int32Array(10) });
  try { await rt.sendColumns('col_park', { n: new Int32Array(10) }, { timeout: 30 }); assert.unreachable(); } catch (e) {
    assert.instance(e, QueueFullError);
    assert.is((e as QueueFullError & { enqueued: number }).enqueued, 6);
    assert.is((e as RingKernelError).kernelId, 'col_park');
  }
  assert.is(rt.getTelemetry('col_park')!.queueDepth, 16);
  assert.is(rt.getTelemetry('col_park')!.messagesRejected, 4);
  try { await rt.sendColumns('col_park', { n: new Int32Array(3) }, 0); assert.unreachable(); } catch (e) { assert.instance(e, QueueFullError); }
  assert.is(rt.getTelemetry('col_park')!.messagesRejected, 7);

  // a draining consumer: everything arrives, in order, though the batch is 40x the queue
  await rt.launch('col_echo');
  await rt.activate('col_echo');
  const n = 64 * 40;
  const data = Int32Array.from({ length: n }, (_, i) => i);
  const sending = rt.sendColumns('col_echo', { n: data });
  data.fill(-1); // the caller may reuse its arrays once sendColumns returned: what waits is a copy
  const out = await drainColumns(rt, 'col_echo', n);
  await sending;
  assert.equal(out.n, Array.from({ length: n }, (_, i) => i));
  // what waited was parked in the core's memory and given back: the next batch reuses it
  const carved = rt.core!.carvedBytes;
  for (let round = 0; round < 3; round++) {
    const again = Int32Array.from({ length: n }, (_, i) => n - i);
    const sent = rt.sendColumns('col_echo', { n: again });
    again.fill(-1);
    assert.equal((await drainColumns(rt, 'col_echo', n)).n, Array.from({ length: n }, (_, i) => n - i));
    await sent;
  }
  assert.is(rt.core!.carvedBytes, carved);
}));

test('REJECT: the first refusal ends the batch, what did not go in counts as rejected', () => withRuntime(async (rt) => {
  await rt.launch('col_park_reject');
  await rt.sendColumns('col_park_reject', { n: new Int32Array(10) });
  try { await rt.sendColumns('col_park_reject', { n: new Int32Array(10) }); assert.unreachable(); } catch (e) {
    assert.instance(e, QueueFullError);
    assert.is((e as QueueFullError & { enqueued: number }).enqueued, 6);
  }
  const tel = rt.getTelemetry('col_park_reject')!;
  assert.is(tel.queueDepth, 16);
  assert.is(tel.messagesRejected, 4);
}));

test('DROP_OLDEST: a batch always goes in; the oldest are dropped and counted', () => withRuntime(async (rt) => {
  await rt.launch('col_park_drop');
  await rt.sendColumns('col_park_drop', { n: Int32Array.from({ length: 40 }, (_, i) => i) });
  const tel = rt.getTelemetry('col_park_drop')!;
  assert.is(tel.queueDepth, 16);
  assert.is(tel.messagesDropped, 24);
}));

test('receiveColumns waits like receive: timeout, and at least one message', () => withRuntime(async (rt) => {
  await rt.launch('col_echo');
  await rt.activate('col_echo');
  const t0 = performance.now();
  try { await rt.receiveColumns('col_echo', { timeout: 40 }); assert.unreachable(); } catch (e) { assert.instance(e, QueueTimeoutError); }
  assert.ok(performance.now() - t0 >= 35);
  const waiting = rt.receiveColumns('col_echo', { max: 2, timeout: 3000 });
  setTimeout(() => void rt.sendColumns('col_echo', { n: new Int32Array([8, 9, 10]) }), 20);
  const b = await waiting;
  assert.ok(b.count >= 1 && b.count <= 2);
  assert.is(b.fields.n!.length, b.count);
  assert.equal([...b.fields.n!], [8, 9].slice(0, b.count));
  try { await rt.receiveColumns('col_echo', { max: 0 }); assert.unreachable(); } catch (e) { assert.instance(e, RangeError); }
}));

test('column receives waiting at once are answered in order, each keeping its place and its timeout while nothing is there for it', () => withRuntime(async (rt) => {
  await rt.launch('col_echo');
  await rt.activate('col_echo');
  // (the echo sends its messages one at a time: each push hands the first waiting receive its batch)
  const waits = [3000, 3000, 3000, 50].map((timeout) => rt.receiveColumns('col_echo', { timeout }).then((b) => [...b.fields.n!], (e) => e));
  await rt.sendColumns('col_echo', { n: new Int32Array([1, 2, 3]) });
  const got = await Promise.all(waits);
  assert.equal(got.slice(0, 3), [[1], [2], [3]]);
  assert.instance(got[3], QueueTimeoutError, 'the last, with nothing for it, timed out');
}));

test('a column receive waiting in a kernel, and one waiting on the host, end with the kernel', () => withRuntime(async (rt) => {
  let ended: unknown = null;
  ringKernel({ kernelId: 'col_waits', input: CNum, output: CNum }, async (ctx) => {
    try { await ctx.receiveColumns(); } catch (e) { ended = e; }
  });
  await rt.launch('col_waits');
  await rt.activate('col_waits');
  const host = rt.receiveColumns('col_waits').then((b) => b, (e) => e);
  await new Promise((r) => setTimeout(r, 10));
  await rt.terminate('col_waits');
  assert.instance(ended, Error, 'the kernel\'s receive rejected (it did not resolve with nothing)');
  assert.instance(await host, Error, 'so did the host\'s');
}));

test('receiveColumns stops before a message of another class, which stays queued for receive; one at the head: MessageTypeError', () => withRuntime(async (rt) => {
  // a kernel that declares no output class may send what it likes; { as } names the class to read
  ringKernel({ kernelId: 'col_liar', input: CNum }, async (ctx) => {
    for await (const m of ctx) {
      if (m.n < 0) await ctx.send(new CText({ x: 1, name: 'not a CNum' }));
      else await ctx.send(m);
    }
  });
  await rt.launch('col_liar');
  await rt.activate('col_liar');
  await rt.sendMany('col_liar', [new CNum({ n: 1 }), new CNum({ n: -1 }), new CNum({ n: 2 })]);
  await new Promise((r) => setTimeout(r, 30));
  const b = await rt.receiveColumns('col_liar', { timeout: 3000, as: CNum });
  assert.equal([...b.fields.n!], [1]);
  try { await rt.receiveColumns('col_liar', { timeout: 3000, as: CNum }); assert.unreachable(); } catch (e) {
    assert.instance(e, MessageTypeError);
    assert.match((e as Error).message, /col_liar/);
    assert.match((e as Error).message, /the next message in the queue is a CText, not a CNum; it stays queued/);
  }
  const text = await rt.receive('col_liar', { timeout: 1000 });
  assert.instance(text, CText);
  assert.is(text.name, 'not a CNum');
  assert.equal([...(await rt.receiveColumns('col_liar', { timeout: 3000, as: CNum })).fields.n!], [2], 'nothing lost, in order');
  // without { as }: the kernel's columns are unknown
  await refused(rt.receiveColumns('col_liar', { timeout: 10 }), undefined, /declares no output message class/, 'col_liar');
}));

test('a kernel that reads its input as columns stops before a message of another class too, which its receive() then takes', () => withRuntime(async (rt) => {
  const got: string[] = [];
  ringKernel({ kernelId: 'col_mixed_in' }, async (ctx) => {
    for (;;) {
      try { got.push(`columns ${[...(await ctx.receiveColumns({ as: CNum, timeout: 2000 })).fields.n!]}`); } catch (e) {
        if (!(e instanceof MessageTypeError)) break;
        got.push(`${(e as Error).message.includes('a CText, not a CNum') ? 'MessageTypeError' : (e as Error).message}, then ${(await ctx.receive(1000)).constructor.name}`);
      }
    }
  });
  await rt.launch('col_mixed_in');
  await rt.sendMany('col_mixed_in', [new CNum({ n: 1 }), new CNum({ n: 2 }), new CText({ x: 1, name: 'x' }), new CNum({ n: 3 })]);
  await rt.activate('col_mixed_in');
  for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.slice(0, 3), ['columns 1,2', 'MessageTypeError, then CText', 'columns 3']);
  assert.is(rt.getTelemetry('col_mixed_in')!.deadLetters, 0);
}));

test('a record of a class the kernel does not take, in the input it reads as columns (bytes from a worker of another version): a dead letter, the rest in order', () => withRuntime(async (rt) => {
  const { Skew, SkewGo } = await import('./helpers/column-skew.js');
  await rt.launch('col_skew_sink');
  await rt.launch('col_skew_sender');
  await rt.activate('col_skew_sender');
  await rt.sendColumns('col_skew_sink', { n: new Int32Array([1, 2]) });
  await rt.send('col_skew_sender', new SkewGo({ n: 99 }));
  for (let i = 0; i < 200 && rt.getTelemetry('col_skew_sender')!.messagesProcessed === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await rt.sendColumns('col_skew_sink', { n: new Int32Array([3]) });
  await rt.activate('col_skew_sink');
  const ns: number[] = [];
  while (ns.length < 3) ns.push((await rt.receive('col_skew_sink', { timeout: 5000 })).n);
  assert.equal(ns, [1, 2, 3]);
  const letters = rt.deadLetters('col_skew_sink');
  assert.is(letters.length, 1);
  assert.instance(letters[0]!.message, Uint8Array);
  assert.instance(letters[0]!.error, MessageDecodeError);
  assert.match(letters[0]!.error.message, /unknown type id/);
  assert.is(rt.getTelemetry('col_skew_sink')!.deadLetters, 1);
  assert.ok(Skew.typeName === 'ColSkew');
}));

test('a kernel that declares its input class never gets a message of another one, even one this thread knows (a worker whose module declares another): a dead letter', () => withRuntime(async (rt) => {
  const { answersToSkewedInput } = await import('./helpers/column-skew.js');
  assert.equal(await answersToSkewedInput(rt, 'col_skew_typed', 'col_skew_typed_sender', 5000), [1, 3]);
  const letters = rt.deadLetters('col_skew_typed');
  assert.is(letters.length, 1);
  assert.instance(letters[0]!.error, MessageDecodeError);
  assert.match(letters[0]!.error.message, /a ColSkewGo record, not a ColSkew/);
}));

test('{ as } names the class of a kernel that declares none, and must be its class when it does', () => withRuntime(async (rt) => {
  await rt.launch('col_any');
  await rt.sendColumns('col_any', { n: new Int32Array([3, 4]) }, { as: CNum });
  assert.is(rt.getTelemetry('col_any')!.queueDepth, 2);
  await rt.launch('col_echo');
  try { await rt.sendColumns('col_echo', { x: new Float32Array(1), name: undefined } as never, { as: CText }); assert.unreachable(); } catch (e) {
    assert.instance(e, MessageTypeError);
    assert.is((e as MessageTypeError).expected, 'CNum');
    assert.is((e as MessageTypeError).actual, 'CText');
  }
  try { await rt.receiveColumns('col_echo', { as: {} as never }); assert.unreachable(); } catch (e) { assert.instance(e, TypeError); }
}));

// ---- errors: refused before anything is enqueued, naming the kernel and the field ----

async function refused(p: Promise<unknown>, field: string | undefined, pattern: RegExp, kernelId: string): Promise<ColumnError> {
  try { await p; } catch (e) {
    assert.instance(e, ColumnError);
    assert.instance(e, RingKernelError);
    assert.is((e as ColumnError).field, field);
    assert.is((e as ColumnError).kernelId, kernelId);
    assert.match((e as Error).message, pattern);
    assert.match((e as Error).message, new RegExp(kernelId));
    return e as ColumnError;
  }
  assert.unreachable('expected a ColumnError');
  throw new Error('unreachable');
}

test('a class with a field that is not fixed-size numeric has no columns', () => withRuntime(async (rt) => {
  await rt.launch('col_text');
  await rt.launch('col_var');
  await refused(rt.sendColumns('col_text', { x: new Float32Array(1) } as never), 'name', /CText\.name is a string/, 'col_text');
  await refused(rt.receiveColumns('col_text', { timeout: 10 }), 'name', /CText\.name/, 'col_text');
  await refused(rt.sendColumns('col_var', { x: new Float32Array(1), v: new Float32Array(1) }), 'v', /CVar\.v is an array without a fixed length/, 'col_var');
  assert.is(rt.getTelemetry('col_text')!.queueDepth, 0);
  assert.is(rt.getTelemetry('col_var')!.queueDepth, 0);
  // inside a kernel: ctx.receiveColumns and ctx.sendColumns of such classes
  const seen: unknown[] = [];
  ringKernel({ kernelId: 'col_ctx_text', input: CText, output: CText }, async (ctx) => {
    await ctx.waitActive();
    seen.push(await ctx.receiveColumns().catch((e) => e));
    seen.push(await ctx.sendColumns({ x: new Float32Array(1) }).catch((e) => e));
  });
  await rt.launch('col_ctx_text');
  await rt.activate('col_ctx_text');
  for (let i = 0; i < 100 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  for (const e of seen) { assert.instance(e, ColumnError); assert.is((e as ColumnError).field, 'name'); assert.is((e as ColumnError).kernelId, 'col_ctx_text'); }
  // no class declared at all
  await rt.launch('col_any');
  await refused(rt.sendColumns('col_any', { n: new Int32Array(1) }), undefined, /declares no input message class/, 'col_any');
}));

test('lengths that disagree, or are not a multiple of the field\'s length, are refused', () => withRuntime(async (rt) => {
  await rt.launch('col_sample_park');
  const c: SampleColumns = sampleColumns(5);
  await refused(rt.sendColumns('col_sample_park', { ...c, v: new Float32Array(19) }), 'v', /19 elements, not a multiple of its 4/, 'col_sample_park');
  await refused(rt.sendColumns('col_sample_park', { ...c, w: new Float64Array(12) }), 'w', /holds 6 messages and field 'id' holds 5/, 'col_sample_park');
  await refused(rt.sendColumns('col_sample_park', { ...c, k: new Int32Array(4) }), 'k', /lengths disagree/, 'col_sample_park');
  const { s: _s, ...missing } = c;
  await refused(rt.sendColumns('col_sample_park', missing as never), 's', /field 's' is missing/, 'col_sample_park');
  await refused(rt.sendColumns('col_sample_park', { ...c, extra: new Float32Array(5) } as never), 'extra', /no field 'extra'/, 'col_sample_park');
  assert.is(rt.getTelemetry('col_sample_park')!.queueDepth, 0);
}));

test('a typed array of the wrong element type is refused', () => withRuntime(async (rt) => {
  await rt.launch('col_sample_park');
  const c: SampleColumns = sampleColumns(3);
  await refused(rt.sendColumns('col_sample_park', { ...c, y: new Float64Array(3) } as never), 'y', /'y' must be a Float32Array, got Float64Array/, 'col_sample_park');
  await refused(rt.sendColumns('col_sample_park', { ...c, u: new Int32Array(9) } as never), 'u', /Uint32Array, got Int32Array/, 'col_sample_park');
  await refused(rt.sendColumns('col_sample_park', { ...c, id: [0, 1, 2] } as never), 'id', /Uint32Array, got Array/, 'col_sample_park');
  await refused(rt.sendColumns('col_sample_park', { ...c, k: new Uint8Array(3) } as never), 'k', /Int32Array, got Uint8Array/, 'col_sample_park');
  await refused(rt.sendColumns('col_sample_park', null as never), undefined, /typed arrays/, 'col_sample_park');
  assert.is(rt.getTelemetry('col_sample_park')!.queueDepth, 0);
  // and inside a kernel, for its output class
  let seen: unknown;
  ringKernel({ kernelId: 'col_ctx_wrong', input: CNum, output: CSum }, async (ctx) => {
    await ctx.waitActive();
    seen = await ctx.sendColumns({ id: new Uint32Array(2), sum: new Float32Array(2) }).catch((e) => e);
  });
  await rt.launch('col_ctx_wrong');
  await rt.activate('col_ctx_wrong');
  for (let i = 0; i < 100 && seen === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  assert.instance(seen, ColumnError);
  assert.is((seen as ColumnError).field, 'sum');
  assert.is((seen as ColumnError).kernelId, 'col_ctx_wrong');
}));

test('a record over maxMessageSize, a terminated kernel: the errors sendMany gives', () => withRuntime(async (rt) => {
  await rt.launch('col_big');
  try { await rt.sendColumns('col_big', { v: new Float64Array(200) }); assert.unreachable(); } catch (e) { assert.instance(e, MessageTooLargeError); }
  assert.is(rt.getTelemetry('col_big')!.queueDepth, 0);
  await rt.launch('col_echo');
  await rt.terminate('col_echo');
  try { await rt.sendColumns('col_echo', { n: new Int32Array(1) }); assert.unreachable(); } catch (e) { assert.instance(e, KernelStateError); }
  try { await rt.receiveColumns('col_echo', { timeout: 100 }); assert.unreachable(); } catch (e) { assert.instance(e, KernelStateError); }
}));

test('a kernel sending columns through connect: one target as records, round-robin as messages', () => withRuntime(async (rt) => {
  ringKernel({ kernelId: 'col_fan', input: CNum, output: CNum, queueSize: 256 }, async (ctx) => {
    for (;;) {
      let b;
      try { b = await ctx.receiveColumns(); } catch { break; }
      await ctx.sendColumns({ n: (b.fields.n as Int32Array).map((v) => v * 10) });
    }
  });
  ringKernel({ kernelId: 'col_sink_a', input: CNum, output: CNum, queueSize: 256 }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
  ringKernel({ kernelId: 'col_sink_b', input: CNum, output: CNum, queueSize: 256 }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
  for (const id of ['col_fan', 'col_sink_a', 'col_sink_b']) await rt.launch(id);
  rt.connect('col_fan', 'col_sink_a');
  for (const id of ['col_fan', 'col_sink_a', 'col_sink_b']) await rt.activate(id);
  await rt.sendColumns('col_fan', { n: new Int32Array([1, 2, 3]) });
  assert.equal((await drainColumns(rt, 'col_sink_a', 3)).n, [10, 20, 30]);
  rt.disconnect('col_fan');
  rt.connect('col_fan', ['col_sink_a', 'col_sink_b']);
  await rt.sendColumns('col_fan', { n: new Int32Array([4, 5, 6, 7]) });
  assert.equal((await drainColumns(rt, 'col_sink_a', 2)).n, [40, 60]);
  assert.equal((await drainColumns(rt, 'col_sink_b', 2)).n, [50, 70]);
}));


// a kernel that takes one message with for-await (which pops up to 64 at once) and the rest
// as columns: the columns start with what that pop took, in order
ringKernel({ kernelId: 'col_mixed_receive', input: CNum, output: CNum, queueSize: 256 }, async (ctx) => {
  const it = ctx[Symbol.asyncIterator]();
  const first = await it.next();
  const seen = [first.value.n];
  while (seen.length < 200) {
    const b = await ctx.receiveColumns({ max: 50 });
    seen.push(...b.fields.n!);
  }
  await ctx.sendColumns({ n: Int32Array.from(seen) });
});

test('receiveColumns after for-await in one kernel: the messages that pop took come first, in order', () => withRuntime(async (rt) => {
  await rt.launch('col_mixed_receive');
  await rt.sendColumns('col_mixed_receive', { n: Int32Array.from({ length: 200 }, (_, i) => i) });
  await rt.activate('col_mixed_receive');
  const out = await drainColumns(rt, 'col_mixed_receive', 200);
  assert.equal(out.n, Array.from({ length: 200 }, (_, i) => i));
}));

test.run();
