// RingKernelRuntime, inline placement: the messaging half of the facade contract
// (/work/shared/DESIGN.md "API contract", /work/shared/SEED-pipelines.md): backpressure
// (BLOCK, REJECT, DROP_OLDEST), priorities, size limits, type checks, copy semantics,
// header fields, telemetry counts, kernel-to-kernel connect, and coordinator kernels.
//
// Kernel and message registries are global to the process (uvu runs every file in one), so
// every kernel id here starts with `msg_` and every message name with `Msg`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RingKernelRuntime, ringKernel, undefineKernel, message, t, BackpressureStrategy,
  RingKernelError, KernelNotFoundError, KernelStateError, QueueFullError, QueueTimeoutError,
  MessageTooLargeError, sentAt, MessageTypeError,
  type KernelContext, type KernelOptions,
} from '../js/index.js';

// ---------------------------------------------------------------------------------------
// helpers

const MsgNum = message('MsgNum', { n: t.i32 });
const MsgTag = message('MsgTag', { n: t.i32, who: t.string });
const MsgOther = message('MsgOther', { n: t.i32 });
const MsgVec = message('MsgVec', { values: t.f64array });
const MsgBlob = message('MsgBlob', { b: t.bytes });
const MsgCopy = message('MsgCopy', { values: t.array(t.f64), ta: t.f32array, b: t.bytes, name: t.string, tags: t.array(t.string) });

import { sleep, now, rejects, throws, until, track, withRuntime } from './helpers/assert.js';



/** Defines kernels for one test and undefines them afterwards. */
async function withKernels(defs: Array<[KernelOptions, (ctx: KernelContext<any, any>) => Promise<void>]>, body: () => Promise<void>): Promise<void> {
  const ids: string[] = [];
  try {
    for (const [o, f] of defs) { ringKernel(o, f); ids.push(o.kernelId); }
    await body();
  } finally { for (const id of ids) undefineKernel(id); }
}

/** A kernel function: for await, map each message with `f` and send the result. */
const mapper = (f: (m: any, ctx: KernelContext<any, any>) => any, seen?: unknown[]) => async (ctx: KernelContext<any, any>) => {
  for await (const m of ctx) { seen?.push(m); await ctx.send(f(m, ctx)); }
};

const nums = async (rt: RingKernelRuntime, id: string, count: number, timeout = 1000): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await rt.receive(id, { timeout }) as any).n);
  return out;
};
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

// ---------------------------------------------------------------------------------------
// BLOCK

test('BLOCK: with queueSize 4 and a slow kernel, 100 sends all arrive, in order, none rejected or dropped', async () => {
  const seen: number[] = [];
  await withKernels([[{ kernelId: 'msg_block_slow', input: MsgNum, output: MsgNum, queueSize: 4, backpressure: BackpressureStrategy.BLOCK },
    async (ctx) => { for await (const m of ctx) { seen.push(m.n); await sleep(1); await ctx.send(new MsgNum({ n: m.n })); } }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_block_slow');
      await rt.activate('msg_block_slow');
      const consumer = nums(rt, 'msg_block_slow', 100, 3000);
      for (let i = 0; i < 100; i++) await rt.send('msg_block_slow', new MsgNum({ n: i })); // no timeout: waits as long as needed
      const out = await consumer;
      assert.equal(out, range(0, 100), 'outputs in order, none lost');
      assert.equal(seen, range(0, 100), 'inputs in order, none lost');
      const tel = rt.getTelemetry('msg_block_slow')!;
      assert.is(tel.messagesRejected, 0);
      assert.is(tel.messagesDropped, 0);
      assert.is(tel.queueHighWater, 4, 'the queue filled up (so sends did wait) and never exceeded its size');
    });
  });
});

test('BLOCK: a send on a full queue waits up to its timeout, then QueueFullError; nothing enqueued', async () => {
  const seen: number[] = [];
  await withKernels([[{ kernelId: 'msg_block_to', input: MsgNum, output: MsgNum, queueSize: 4 }, mapper((m) => m, seen)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_block_to'); // not activated: nothing is consumed
      for (let i = 0; i < 4; i++) await rt.send('msg_block_to', new MsgNum({ n: i }), { timeout: 50 });
      const t0 = now();
      const e = await rejects(() => rt.send('msg_block_to', new MsgNum({ n: 99 }), { timeout: 60 }), QueueFullError, 'send on a full BLOCK queue');
      const dt = now() - t0;
      assert.ok(dt >= 55 && dt < 500, `QueueFullError after ${dt.toFixed(1)} ms (timeout 60)`);
      assert.is(e.kernelId, 'msg_block_to');
      assert.is(e.operation, 'send');
      assert.ok(e.message.includes('msg_block_to'));
      // the number form of the timeout too
      await rejects(() => rt.send('msg_block_to', new MsgNum({ n: 98 }), 20), QueueFullError, 'send(…, 20) on a full BLOCK queue');
      const tel = rt.getTelemetry('msg_block_to')!;
      assert.is(tel.queueDepth, 4);
      assert.is(tel.messagesRejected, 2, 'a BLOCK send that timed out counts as rejected');
      await rt.activate('msg_block_to');
      assert.equal(await nums(rt, 'msg_block_to', 4), [0, 1, 2, 3]);
      await rejects(() => rt.receive('msg_block_to', 30), QueueTimeoutError, 'the refused messages never arrive');
      assert.equal(seen.map((m: any) => m.n), [0, 1, 2, 3]);
    });
  });
});

test('BLOCK: a waiting send completes as soon as the kernel makes room', async () => {
  await withKernels([[{ kernelId: 'msg_block_room', input: MsgNum, output: MsgNum, queueSize: 4 }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_block_room');
      for (let i = 0; i < 4; i++) await rt.send('msg_block_room', new MsgNum({ n: i }));
      const pending = track(rt.send('msg_block_room', new MsgNum({ n: 4 }), { timeout: 2000 }));
      await sleep(30);
      assert.not.ok(pending.settled, 'the fifth send waits for room');
      const t0 = now();
      await rt.activate('msg_block_room');
      await until(() => pending.settled, 1000, 'the waiting send completed');
      assert.is(pending.error, undefined, `the waiting send failed: ${String(pending.error)}`);
      assert.ok(pending.at - t0 < 100, `completed ${(pending.at - t0).toFixed(1)} ms after room appeared`);
      assert.equal(await nums(rt, 'msg_block_room', 5), [0, 1, 2, 3, 4]);
    });
  });
});

test('BLOCK: many concurrent senders on a full queue: none lost once the kernel runs', async () => {
  const seen: number[] = [];
  await withKernels([[{ kernelId: 'msg_block_many', input: MsgNum, queueSize: 4 },
    async (ctx) => { for await (const m of ctx) seen.push(m.n); }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_block_many');
      const sends = range(0, 24).map((i) => rt.send('msg_block_many', new MsgNum({ n: i }), { timeout: 3000 }));
      await sleep(10);
      assert.is(rt.getTelemetry('msg_block_many')!.queueDepth, 4);
      await rt.activate('msg_block_many');
      await Promise.all(sends);
      await until(() => seen.length === 24, 1000, 'all 24 received');
      assert.equal([...seen].sort((a, b) => a - b), range(0, 24), 'each message exactly once');
      assert.equal(seen.slice(0, 4), [0, 1, 2, 3], 'the queued ones first, in order');
      assert.is(rt.getTelemetry('msg_block_many')!.messagesRejected, 0);
    });
  });
});

// ---------------------------------------------------------------------------------------
// REJECT and DROP_OLDEST

test('REJECT: a full queue refuses at once with QueueFullError; queued messages untouched; messagesRejected exact', async () => {
  await withKernels([[{ kernelId: 'msg_reject', input: MsgNum, output: MsgNum, queueSize: 4, backpressure: BackpressureStrategy.REJECT }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_reject');
      for (let i = 0; i < 4; i++) await rt.send('msg_reject', new MsgNum({ n: i }));
      for (let i = 4; i < 7; i++) {
        const t0 = now();
        const e = await rejects(() => rt.send('msg_reject', new MsgNum({ n: i }), { timeout: 1000 }), QueueFullError, `send #${i} on a full REJECT queue`);
        const dt = now() - t0;
        assert.ok(dt < 200, `REJECT took ${dt.toFixed(1)} ms (must not wait, even with a timeout)`);
        assert.is(e.kernelId, 'msg_reject');
        assert.is(e.operation, 'send');
      }
      const tel = rt.getTelemetry('msg_reject')!;
      assert.is(tel.messagesRejected, 3);
      assert.is(tel.messagesDropped, 0);
      assert.is(tel.queueDepth, 4);
      await rt.activate('msg_reject');
      assert.equal(await nums(rt, 'msg_reject', 4), [0, 1, 2, 3], 'the queued messages, untouched');
      await rejects(() => rt.receive('msg_reject', 30), QueueTimeoutError, 'no refused message arrives');
      // once there is room again, sends succeed
      await rt.send('msg_reject', new MsgNum({ n: 50 }));
      assert.equal(await nums(rt, 'msg_reject', 1), [50]);
      assert.is(rt.getTelemetry('msg_reject')!.messagesRejected, 3);
    });
  });
});

test('DROP_OLDEST: send always succeeds; the oldest are discarded, messagesDropped exact, the newest received', async () => {
  await withKernels([[{ kernelId: 'msg_drop', input: MsgNum, output: MsgNum, queueSize: 4, backpressure: BackpressureStrategy.DROP_OLDEST }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_drop');
      for (let i = 0; i < 10; i++) {
        const t0 = now();
        await rt.send('msg_drop', new MsgNum({ n: i }));
        assert.ok(now() - t0 < 200, 'DROP_OLDEST never waits');
      }
      const tel = rt.getTelemetry('msg_drop')!;
      assert.is(tel.messagesDropped, 6);
      assert.is(tel.messagesRejected, 0);
      assert.is(tel.queueDepth, 4);
      await rt.activate('msg_drop');
      assert.equal(await nums(rt, 'msg_drop', 4), [6, 7, 8, 9], 'the four newest, in order');
      await rejects(() => rt.receive('msg_drop', 30), QueueTimeoutError, 'the dropped ones never arrive');
      assert.is(rt.getTelemetry('msg_drop')!.messagesDropped, 6, 'consuming does not count drops');
    });
  });
});

test('DROP_OLDEST while the kernel keeps up: nothing is dropped', async () => {
  await withKernels([[{ kernelId: 'msg_drop_ok', input: MsgNum, output: MsgNum, queueSize: 4, backpressure: BackpressureStrategy.DROP_OLDEST }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_drop_ok');
      await rt.activate('msg_drop_ok');
      for (let i = 0; i < 20; i++) { await rt.send('msg_drop_ok', new MsgNum({ n: i })); assert.is((await rt.receive('msg_drop_ok', 1000) as any).n, i); }
      assert.is(rt.getTelemetry('msg_drop_ok')!.messagesDropped, 0);
    });
  });
});

// ---------------------------------------------------------------------------------------
// priorities

test('priorities: a higher priority is received first; FIFO among equal priorities', async () => {
  const order: Array<[number, number]> = [];
  await withKernels([[{ kernelId: 'msg_prio', input: MsgNum },
    async (ctx) => { for await (const m of ctx) order.push([m.priority, m.n]); }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_prio');
      // distinct priorities are from different bands (SYSTEM >= 224, HIGH >= 160, NORMAL >= 64, LOW < 64)
      const sent: Array<[number, number]> = [[128, 0], [10, 1], [200, 2], [128, 3], [255, 4], [10, 5], [200, 6], [128, 7], [255, 8], [0, 9], [128, 10]];
      for (const [p, n] of sent) await rt.send('msg_prio', new MsgNum({ n, priority: p }));
      await rt.activate('msg_prio');
      await until(() => order.length === sent.length, 1000, 'all received');
      const expected = [...sent].sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      assert.equal(order, expected);
    });
  });
});

test('priorities apply to a kernel\'s output queue too (runtime.receive gets the highest first)', async () => {
  let done = false;
  await withKernels([[{ kernelId: 'msg_prio_out', input: MsgNum, output: MsgNum },
    async (ctx) => {
      await ctx.receive();
      for (const [p, n] of [[10, 0], [255, 1], [128, 2], [200, 3], [128, 4], [128, 5]]) await ctx.send(new MsgNum({ n: n!, priority: p! }));
      done = true;
      for await (const _ of ctx) { /* until terminated */ }
    }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_prio_out');
      await rt.activate('msg_prio_out');
      await rt.send('msg_prio_out', new MsgNum({ n: 0 }));
      await until(() => done, 1000, 'kernel sent its outputs');
      const got: Array<[number, number]> = [];
      for (let i = 0; i < 6; i++) { const m = await rt.receive('msg_prio_out', 1000) as any; got.push([m.priority, m.n]); }
      assert.equal(got, [[255, 1], [200, 3], [128, 2], [128, 4], [128, 5], [10, 0]]);
    });
  });
});

// ---------------------------------------------------------------------------------------
// size limits and type checks

test('MessageTooLargeError when the encoded message exceeds maxMessageSize; nothing enqueued; size and limit fields', async () => {
  const seen: number[] = [];
  await withKernels([[{ kernelId: 'msg_big', input: MsgVec, output: MsgVec, maxMessageSize: 256 },
    async (ctx) => { for await (const m of ctx) seen.push(m.values.length); }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_big');
      // find the boundary from the codec itself
      let fits = 0;
      while (MsgVec.encode(new MsgVec({ values: new Float64Array(fits + 1) })).length <= 256) fits++;
      const atLimit = new MsgVec({ values: new Float64Array(fits) });
      const over = new MsgVec({ values: new Float64Array(fits + 1) });
      const overSize = MsgVec.encode(over).length;
      assert.ok(MsgVec.encode(atLimit).length <= 256 && overSize > 256);
      await rt.send('msg_big', new MsgVec({ values: new Float64Array(1) }));
      await rt.send('msg_big', atLimit); // at (or just under) the limit: accepted
      assert.is(rt.getTelemetry('msg_big')!.queueDepth, 2);
      const e = await rejects(() => rt.send('msg_big', over), MessageTooLargeError, 'just over the limit');
      assert.is(e.size, overSize, 'size = the encoded size');
      assert.is(e.limit, 256, 'limit = maxMessageSize');
      assert.is(e.kernelId, 'msg_big');
      assert.is(e.operation, 'send');
      assert.ok(e.message.includes('msg_big'));
      assert.instance(e, RingKernelError);
      const huge = new MsgVec({ values: new Float64Array(10_000) });
      const e2 = await rejects(() => rt.send('msg_big', huge), MessageTooLargeError, 'far over the limit');
      assert.is(e2.size, MsgVec.encode(huge).length);
      assert.is(rt.getTelemetry('msg_big')!.queueDepth, 2, 'nothing enqueued');
      await rt.activate('msg_big');
      await until(() => seen.length === 2, 1000, 'received');
      await sleep(10);
      assert.equal(seen, [1, fits], 'only the two that fit arrived');
    });
  });
});

test('the default maxMessageSize is 1 MiB: a bigger message is refused, a 512 KiB one arrives intact', async () => {
  await withKernels([[{ kernelId: 'msg_big_default', input: MsgBlob, output: MsgBlob }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_big_default');
      await rt.activate('msg_big_default');
      const e = await rejects(() => rt.send('msg_big_default', new MsgBlob({ b: new Uint8Array((1 << 20) + 1) })), MessageTooLargeError, '1 MiB + 1 of bytes');
      assert.is(e.limit, 1 << 20);
      assert.ok(e.size > 1 << 20);
      const b = new Uint8Array(512 * 1024);
      for (let i = 0; i < b.length; i++) b[i] = (i * 31 + 7) & 255;
      await rt.send('msg_big_default', new MsgBlob({ b }));
      const out = await rt.receive('msg_big_default', 2000) as any;
      assert.is(out.b.length, b.length);
      let same = true;
      for (let i = 0; i < b.length; i++) if (out.b[i] !== b[i]) { same = false; break; }
      assert.ok(same, 'the bytes arrive intact');
    });
  });
});

test('ctx.send of a message over maxMessageSize rejects with MessageTooLargeError in the kernel', async () => {
  let caught: unknown = null;
  await withKernels([[{ kernelId: 'msg_big_out', input: MsgNum, output: MsgVec, maxMessageSize: 256 },
    async (ctx) => {
      for await (const m of ctx) {
        try { await ctx.send(new MsgVec({ values: new Float64Array(m.n) })); } catch (e) { caught = e; }
      }
    }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_big_out');
      await rt.activate('msg_big_out');
      await rt.send('msg_big_out', new MsgNum({ n: 1000 }));
      await until(() => caught !== null, 1000, 'kernel send settled');
      assert.instance(caught, MessageTooLargeError);
      assert.is((caught as MessageTooLargeError).kernelId, 'msg_big_out');
      assert.is(rt.getState('msg_big_out'), 'active', 'the kernel caught it and goes on');
      await rt.send('msg_big_out', new MsgNum({ n: 2 }));
      assert.is((await rt.receive('msg_big_out', 1000) as any).values.length, 2, 'nothing of the refused send is in the output');
    });
  });
});

test('a kernel with a maxMessageSize over 1 MiB carries a 3 MiB message intact', async () => {
  await withKernels([[{ kernelId: 'msg_big_4m', input: MsgBlob, output: MsgBlob, maxMessageSize: 4 << 20 }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_big_4m');
      await rt.activate('msg_big_4m');
      const b = new Uint8Array(3 << 20);
      for (let i = 0; i < b.length; i += 4096) b[i] = (i >> 12) & 255;
      b[b.length - 1] = 77;
      await rt.send('msg_big_4m', new MsgBlob({ b }));
      const out = await rt.receive('msg_big_4m', 2000) as any;
      assert.is(out.b.length, b.length);
      let same = true;
      for (let i = 0; i < b.length; i += 4096) if (out.b[i] !== b[i]) { same = false; break; }
      assert.ok(same && out.b[b.length - 1] === 77, 'the bytes arrive intact');
      const e = await rejects(() => rt.send('msg_big_4m', new MsgBlob({ b: new Uint8Array((4 << 20) + 1) })), MessageTooLargeError, 'over 4 MiB');
      assert.is(e.limit, 4 << 20);
    });
  });
});

test('a routed send over the target\'s maxMessageSize rejects in the sending kernel with MessageTooLargeError', async () => {
  let caught: unknown = null;
  await withKernels([
    [{ kernelId: 'msg_big_route_a', input: MsgNum, output: MsgVec },
      async (ctx) => { for await (const m of ctx) { try { await ctx.send(new MsgVec({ values: new Float64Array(m.n) })); } catch (e) { caught = e; } } }],
    [{ kernelId: 'msg_big_route_b', input: MsgVec, output: MsgNum, maxMessageSize: 256 }, mapper((m) => new MsgNum({ n: m.values.length }))],
  ], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_big_route_a');
      await rt.launch('msg_big_route_b');
      rt.connect('msg_big_route_a', 'msg_big_route_b');
      await rt.activate('msg_big_route_a');
      await rt.activate('msg_big_route_b');
      await rt.send('msg_big_route_a', new MsgNum({ n: 1000 }));
      await rt.send('msg_big_route_a', new MsgNum({ n: 3 }));
      assert.equal(await nums(rt, 'msg_big_route_b', 1), [3], 'only the message that fits arrives');
      assert.instance(caught, MessageTooLargeError);
      assert.is((caught as MessageTooLargeError).limit, 256);
      await rejects(() => rt.receive('msg_big_route_b', 20), QueueTimeoutError, 'nothing else');
    });
  });
});

test('a kernel sending a message that is not of its output class (send, or one item of a sendMany) gets MessageTypeError naming it and both classes; nothing of that call is sent', async () => {
  const errors: unknown[] = [];
  await withKernels([
    [{ kernelId: 'msg_out_typed', input: MsgNum, output: MsgNum }, async (ctx) => {
      for await (const m of ctx) {
        for (const attempt of [
          () => ctx.send(new MsgOther({ n: m.n }) as never),
          () => ctx.sendMany([new MsgNum({ n: m.n }), new MsgOther({ n: m.n }) as never]),
          () => ctx.sendMany([new MsgNum({ n: m.n }), { n: m.n } as never]),
        ]) errors.push(await Promise.resolve().then(attempt).then(() => null, (e) => e));
        await ctx.send(new MsgNum({ n: m.n + 1 }));
      }
    }],
  ], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_out_typed');
      await rt.activate('msg_out_typed');
      await rt.send('msg_out_typed', new MsgNum({ n: 1 }));
      assert.is((await rt.receive('msg_out_typed', { timeout: 2000 })).n, 2, 'the first thing out is the good send after the refused ones: no MsgNum of a refused sendMany went out');
      assert.is(errors.length, 3);
      for (const e of errors) {
        assert.instance(e, MessageTypeError);
        assert.match((e as Error).message, /kernel 'msg_out_typed' sent a .*, but its output is MsgNum; nothing was sent/);
        assert.is((e as MessageTypeError).expected, 'MsgNum');
      }
      assert.is((errors[0] as MessageTypeError).actual, 'MsgOther');
      assert.is((errors[2] as MessageTypeError).actual, 'Object');
    });
  });
});

test('sending a non-message or a message of the wrong class rejects with MessageTypeError naming the kernel', async () => {
  const seen: unknown[] = [];
  await withKernels([
    [{ kernelId: 'msg_types', input: MsgNum }, async (ctx) => { for await (const m of ctx) seen.push(m); }],
    [{ kernelId: 'msg_types_any' }, async (ctx) => { for await (const m of ctx) seen.push(m); }],
  ], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_types');
      await rt.launch('msg_types_any');
      for (const [what, v] of [['a plain object', { n: 1 }], ['null', null], ['undefined', undefined], ['a number', 42], ['a string', 'MsgNum'],
        ['an encoded record', MsgNum.encode(new MsgNum({ n: 1 }))]] as const) {
        const e = await rejects(() => rt.send('msg_types', v as any), MessageTypeError, `send ${what}`);
        assert.ok(e.message.includes('msg_types'), `${what}: the message names the kernel: ${e.message}`);
        await rejects(() => rt.send('msg_types_any', v as any), MessageTypeError, `send ${what} to a kernel without an input class`);
      }
      const e = await rejects(() => rt.send('msg_types', new MsgOther({ n: 1 })), MessageTypeError, 'send the wrong class');
      assert.instance(e, RingKernelError);
      assert.is((e as MessageTypeError).expected, 'MsgNum'); assert.is((e as MessageTypeError).actual, 'MsgOther');
      assert.ok(e.message.includes('msg_types'), e.message);
      assert.ok(e.message.includes('MsgNum') && e.message.includes('MsgOther'), `names both classes: ${e.message}`);
      // nothing got in
      assert.is(rt.getTelemetry('msg_types')!.queueDepth, 0);
      // a kernel without an input class takes any message class
      await rt.send('msg_types_any', new MsgOther({ n: 2 }));
      await rt.send('msg_types_any', new MsgTag({ n: 3, who: 'x' }));
      await rt.activate('msg_types_any');
      await rt.activate('msg_types');
      await until(() => seen.length === 2, 1000, 'received');
      assert.instance(seen[0], MsgOther);
      assert.instance(seen[1], MsgTag);
    });
  });
});

// ---------------------------------------------------------------------------------------
// copies and header fields

test('a receiver gets its own copy: neither side\'s later mutations reach the other', async () => {
  let held: any = null;
  let firstView: any = null;
  await withKernels([[{ kernelId: 'msg_copy', input: MsgCopy, output: MsgCopy },
    async (ctx) => {
      const m = await ctx.receive() as any;
      firstView = { values: [...m.values], ta: [...m.ta], b: [...m.b], name: m.name, tags: [...m.tags] };
      held = m;
      m.values[1] = -1; m.ta[0] = -1; m.b[0] = 0; m.tags.push('kernel'); // mutate the received copy
      await ctx.send(m);                                                   // send it out
      m.values[2] = -2; m.ta[1] = -2; m.b[1] = 0; m.name = 'changed';      // and mutate after sending
      for await (const _ of ctx) { /* until terminated */ }
    }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_copy');
      const orig = new MsgCopy({ values: [1, 2, 3], ta: new Float32Array([1.5, 2.5]), b: new Uint8Array([7, 8, 9]), name: 'orig', tags: ['a'] });
      await rt.send('msg_copy', orig);
      // mutate after send, before the kernel even runs
      orig.values[0] = 99; orig.values.push(4); orig.ta[0] = 99; orig.b[2] = 99; orig.name = 'mutated'; orig.tags.push('host');
      await rt.activate('msg_copy');
      const out = await rt.receive('msg_copy', 1000) as any;
      assert.equal(firstView, { values: [1, 2, 3], ta: [1.5, 2.5], b: [7, 8, 9], name: 'orig', tags: ['a'] }, 'the kernel saw the message as it was sent');
      assert.ok(out !== held && out !== orig, 'distinct objects');
      assert.equal([...out.values], [1, -1, 3], 'the output is the kernel\'s message as it was at send');
      assert.equal([...out.ta], [-1, 2.5]);
      assert.equal([...out.b], [0, 8, 9]);
      assert.is(out.name, 'orig');
      assert.equal([...out.tags], ['a', 'kernel']);
      // the host's original was not touched by the kernel
      assert.equal([...orig.values], [99, 2, 3, 4]);
      assert.equal([...orig.ta], [99, 2.5]);
      assert.equal([...orig.b], [7, 8, 99]);
      assert.equal([...orig.tags], ['a', 'host']);
      // and mutating what the host received does not reach the kernel's object
      out.values[0] = 1234; out.ta[1] = 1234;
      assert.is(held.values[0], 1);
      assert.is(held.ta[1], -2);
      assert.ok(out.ta.buffer !== held.ta.buffer && out.b.buffer !== held.b.buffer, 'typed arrays do not share a buffer');
    });
  });
});

test('messageId, correlationId and priority survive the trip; replies correlate', async () => {
  let inKernel: any = null;
  await withKernels([[{ kernelId: 'msg_hdr', input: MsgNum, output: MsgNum },
    async (ctx) => {
      for await (const m of ctx) {
        if (!inKernel) inKernel = { id: m.messageId, corr: m.correlationId, p: m.priority, cls: m.constructor };
        await ctx.send(m);                                                           // forward as is
        await ctx.send(new MsgNum({ n: m.n + 1, correlationId: m.messageId }));     // and reply
      }
    }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_hdr');
      await rt.activate('msg_hdr');
      const id = '12345678-9abc-4def-8123-456789abcdef';
      const corr = 'fedcba98-7654-4321-8fed-cba987654321';
      const sent = new MsgNum({ n: 5, messageId: id, correlationId: corr, priority: 77 });
      await rt.send('msg_hdr', sent);
      const fwd = await rt.receive('msg_hdr', 1000) as any;
      const reply = await rt.receive('msg_hdr', 1000) as any;
      assert.equal(inKernel, { id, corr, p: 77, cls: MsgNum }, 'the kernel sees the sent header');
      assert.instance(fwd, MsgNum);
      assert.is(fwd.messageId, id);
      assert.is(fwd.correlationId, corr);
      assert.is(fwd.priority, 77);
      assert.is(fwd.n, 5);
      assert.instance(reply, MsgNum);
      assert.is(reply.correlationId, id, 'the reply correlates with the request');
      assert.is(reply.priority, 128, 'default priority');
      assert.ok(reply.messageId !== id && /^[0-9a-f-]{36}$/.test(reply.messageId), 'a fresh messageId');
      assert.is(reply.n, 6);
      // defaults survive too: null correlationId, random id, priority 128
      const plain = new MsgNum({ n: 1 });
      await rt.send('msg_hdr', plain);
      const back = await rt.receive('msg_hdr', 1000) as any;
      await rt.receive('msg_hdr', 1000);
      assert.is(back.correlationId, null);
      assert.is(back.messageId, plain.messageId);
      assert.is(back.priority, 128);
      assert.ok(Number.isFinite(sentAt(back)) && sentAt(back) > 0, 'a received message carries its send timestamp');
    });
  });
});

test('several host receives waiting on one kernel are served in the order they were made', async () => {
  await withKernels([[{ kernelId: 'msg_host_fifo', input: MsgNum, output: MsgNum }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_host_fifo');
      await rt.activate('msg_host_fifo');
      const waits = range(0, 4).map(() => rt.receive('msg_host_fifo', 1000));
      for (let i = 0; i < 4; i++) await rt.send('msg_host_fifo', new MsgNum({ n: i }));
      const got = (await Promise.all(waits)).map((m: any) => m.n);
      assert.equal(got, [0, 1, 2, 3]);
    });
  });
});

// ---------------------------------------------------------------------------------------
// telemetry

test('telemetry: messagesProcessed is exactly N once the kernel asked for the next message', async () => {
  await withKernels([[{ kernelId: 'msg_tel_count', input: MsgNum, output: MsgNum }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_tel_count');
      const t0 = rt.getTelemetry('msg_tel_count')!;
      assert.is(t0.kernelId, 'msg_tel_count');
      assert.is(t0.messagesProcessed, 0);
      assert.is(t0.throughput, 0);
      await rt.activate('msg_tel_count');
      const N = 25;
      for (let i = 0; i < N; i++) await rt.send('msg_tel_count', new MsgNum({ n: i }));
      assert.equal(await nums(rt, 'msg_tel_count', N), range(0, N));
      await until(() => rt.getTelemetry('msg_tel_count')!.messagesProcessed >= N, 500, 'processed count');
      await sleep(20);
      const tel = rt.getTelemetry('msg_tel_count')!;
      assert.is(tel.messagesProcessed, N);
      assert.is(tel.queueDepth, 0);
      assert.is(tel.errorCount, 0);
      assert.is(tel.lastError, null);
      assert.is(tel.messagesDropped, 0);
      assert.is(tel.messagesRejected, 0);
      assert.is(tel.state, 'active');
      // once terminated, the last numbers are kept
      await rt.terminate('msg_tel_count');
      const fin = rt.getTelemetry('msg_tel_count')!;
      assert.is(fin.messagesProcessed, N);
      assert.is(fin.state, 'terminated');
    });
  });
});

test('telemetry: a message the kernel is still handling is not counted yet', async () => {
  let release: () => void = () => {};
  let handling = 0;
  await withKernels([[{ kernelId: 'msg_tel_inhand', input: MsgNum },
    async (ctx) => { for await (const _ of ctx) { handling++; await new Promise<void>((r) => { release = r; }); } }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_tel_inhand');
      await rt.activate('msg_tel_inhand');
      await rt.send('msg_tel_inhand', new MsgNum({ n: 0 }));
      await rt.send('msg_tel_inhand', new MsgNum({ n: 1 }));
      await until(() => handling === 1, 500, 'handling the first');
      let tel = rt.getTelemetry('msg_tel_inhand')!;
      assert.is(tel.messagesProcessed, 0);
      assert.is(tel.queueDepth, 1);
      release();
      await until(() => handling === 2, 500, 'handling the second');
      tel = rt.getTelemetry('msg_tel_inhand')!;
      assert.is(tel.messagesProcessed, 1);
      assert.is(tel.queueDepth, 0);
      release();
      await until(() => rt.getTelemetry('msg_tel_inhand')!.messagesProcessed === 2, 500, 'both counted');
    });
  });
});

test('telemetry: queueDepth while deactivated equals the number sent', async () => {
  await withKernels([[{ kernelId: 'msg_tel_depth', input: MsgNum, output: MsgNum }, mapper((m) => m)]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_tel_depth');
      await rt.activate('msg_tel_depth');
      await rt.send('msg_tel_depth', new MsgNum({ n: 0 }));
      await nums(rt, 'msg_tel_depth', 1);
      await rt.deactivate('msg_tel_depth');
      for (let i = 1; i <= 7; i++) {
        await rt.send('msg_tel_depth', new MsgNum({ n: i }));
        assert.is(rt.getTelemetry('msg_tel_depth')!.queueDepth, i);
      }
      await sleep(20);
      const tel = rt.getTelemetry('msg_tel_depth')!;
      assert.is(tel.queueDepth, 7);
      assert.ok(tel.queueHighWater >= 7);
      assert.is(tel.messagesProcessed, 1, 'nothing handled while deactivated');
      await rt.reactivate('msg_tel_depth');
      assert.equal(await nums(rt, 'msg_tel_depth', 7), range(1, 8));
      assert.is(rt.getTelemetry('msg_tel_depth')!.queueDepth, 0);
    });
  });
});

test('telemetry: throughput > 0, latency percentiles > 0 and ordered after a stream; latency counts queueing time', async () => {
  await withKernels([[{ kernelId: 'msg_tel_stream', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_tel_wait', input: MsgNum }, async (ctx) => { for await (const _ of ctx) { /* drain */ } }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_tel_stream');
      await rt.activate('msg_tel_stream');
      const consumer = nums(rt, 'msg_tel_stream', 300);
      for (let i = 0; i < 300; i++) await rt.send('msg_tel_stream', new MsgNum({ n: i }));
      assert.equal(await consumer, range(0, 300));
      await until(() => rt.getTelemetry('msg_tel_stream')!.messagesProcessed === 300, 500, 'all counted');
      const tel = rt.getTelemetry('msg_tel_stream')!;
      assert.ok(tel.throughput > 0, `throughput ${tel.throughput}`);
      assert.ok(Number.isFinite(tel.throughput));
      assert.ok(tel.latencyP50Ms > 0, `p50 ${tel.latencyP50Ms}`);
      assert.ok(tel.latencyP50Ms <= tel.latencyP95Ms && tel.latencyP95Ms <= tel.latencyP99Ms, `p50 ${tel.latencyP50Ms} p95 ${tel.latencyP95Ms} p99 ${tel.latencyP99Ms}`);
      assert.ok(tel.latencyP99Ms < 1000, `p99 ${tel.latencyP99Ms} ms is implausible for an echo kernel`);
      assert.ok(tel.uptimeSeconds > 0);
      // messages that wait ~60 ms in the queue have a latency of at least that
      await rt.launch('msg_tel_wait');
      for (let i = 0; i < 10; i++) await rt.send('msg_tel_wait', new MsgNum({ n: i }));
      await sleep(60);
      await rt.activate('msg_tel_wait');
      await until(() => rt.getTelemetry('msg_tel_wait')!.messagesProcessed === 10, 500, 'all counted');
      const w = rt.getTelemetry('msg_tel_wait')!;
      assert.ok(w.latencyP50Ms >= 40 && w.latencyP50Ms < 1000, `p50 of messages queued ~60 ms: ${w.latencyP50Ms} ms`);
    });
  });
});

test('telemetry: latency percentiles from per-batch clock reads stay within the histogram\'s 12.5% of the per-message truth', async () => {
  // the kernel measures each message's latency itself (send time to the moment it asks for
  // the next); 400 messages queued at once are taken in batches, timed once a batch
  const truth: number[] = [];
  const spin = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end) { /* busy */ } };
  let handled: number | null = null, prevSentAt = 0;
  await withKernels([[{ kernelId: 'msg_tel_batch', input: MsgNum }, async (ctx) => {
    for await (const m of ctx) {
      if (handled !== null) truth.push(performance.timeOrigin + performance.now() - prevSentAt);
      prevSentAt = sentAt(m);
      spin(m.n % 2 === 0 ? 0.1 : 0.2);
      handled = m.n;
    }
  }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_tel_batch');
      await rt.sendMany('msg_tel_batch', Array.from({ length: 401 }, (_, n) => new MsgNum({ n })));
      await rt.activate('msg_tel_batch');
      await until(() => truth.length === 400, 10_000, 'all handled');
      await until(() => rt.getTelemetry('msg_tel_batch')!.messagesProcessed >= 400, 500, 'all counted');
      const tel = rt.getTelemetry('msg_tel_batch')!;
      const sorted = [...truth].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.ceil(p * sorted.length) - 1]!;
      for (const [p, got] of [[0.5, tel.latencyP50Ms], [0.95, tel.latencyP95Ms], [0.99, tel.latencyP99Ms]] as const)
        assert.ok(Math.abs(got - q(p)) <= 0.125 * q(p), `p${p * 100}: telemetry ${got.toFixed(3)} ms, measured ${q(p).toFixed(3)} ms`);
    });
  });
});

test('telemetry off: getTelemetry returns null, and messages still flow', async () => {
  await withKernels([[{ kernelId: 'msg_tel_off', input: MsgNum, output: MsgNum }, mapper((m) => new MsgNum({ n: m.n * 3 }))]], async () => {
    await withRuntime(async (rt) => {
      assert.is(rt.enableTelemetry, false);
      await rt.launch('msg_tel_off');
      assert.is(rt.getTelemetry('msg_tel_off'), null);
      await rt.activate('msg_tel_off');
      await rt.send('msg_tel_off', new MsgNum({ n: 4 }));
      assert.equal(await nums(rt, 'msg_tel_off', 1), [12]);
      assert.is(rt.getTelemetry('msg_tel_off'), null);
      await rt.terminate('msg_tel_off');
      assert.is(rt.getTelemetry('msg_tel_off'), null);
    }, { enableTelemetry: false });
  });
  // and the default is on
  assert.is(new RingKernelRuntime().enableTelemetry, true);
});

// ---------------------------------------------------------------------------------------
// connect

test('connect one-to-one: a\'s outputs flow into b, no host hop; runtime.receive(b) gets b\'s outputs of a\'s outputs', async () => {
  await withKernels([
    [{ kernelId: 'msg_c1_a', input: MsgNum, output: MsgNum }, mapper((m) => new MsgNum({ n: m.n * 2 }))],
    [{ kernelId: 'msg_c1_b', input: MsgNum, output: MsgNum }, mapper((m) => new MsgNum({ n: m.n + 1 }))],
  ], async () => {
    await withRuntime(async (rt) => {
      for (const id of ['msg_c1_a', 'msg_c1_b']) await rt.launch(id);
      rt.connect('msg_c1_a', 'msg_c1_b');
      for (const id of ['msg_c1_a', 'msg_c1_b']) await rt.activate(id);
      for (let i = 0; i < 10; i++) await rt.send('msg_c1_a', new MsgNum({ n: i }));
      assert.equal(await nums(rt, 'msg_c1_b', 10), range(0, 10).map((i) => 2 * i + 1));
      await rejects(() => rt.receive('msg_c1_a', 30), QueueTimeoutError, 'nothing reaches a\'s own output');
      await until(() => rt.getTelemetry('msg_c1_b')!.messagesProcessed === 10, 500, 'b counted 10');
      await until(() => rt.getTelemetry('msg_c1_a')!.messagesProcessed === 10, 500, 'a counted 10');
    });
  });
});

test('connect: messages already in the source\'s output stay for runtime.receive; later ones go to the target', async () => {
  await withKernels([
    [{ kernelId: 'msg_c_pre_a', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_c_pre_b', input: MsgNum, output: MsgNum }, mapper((m) => new MsgNum({ n: m.n + 100 }))],
  ], async () => {
    await withRuntime(async (rt) => {
      for (const id of ['msg_c_pre_a', 'msg_c_pre_b']) { await rt.launch(id); await rt.activate(id); }
      await rt.send('msg_c_pre_a', new MsgNum({ n: 1 }));
      await rt.send('msg_c_pre_a', new MsgNum({ n: 2 }));
      await until(() => rt.getTelemetry('msg_c_pre_a')!.messagesProcessed === 2, 500, 'a handled both');
      rt.connect('msg_c_pre_a', 'msg_c_pre_b');
      await rt.send('msg_c_pre_a', new MsgNum({ n: 3 }));
      assert.equal(await nums(rt, 'msg_c_pre_b', 1), [103]);
      assert.equal(await nums(rt, 'msg_c_pre_a', 2), [1, 2]);
      await rejects(() => rt.receive('msg_c_pre_a', 20), QueueTimeoutError, 'no more in a\'s output');
    });
  });
});

test('connect round-robin over 3 targets: each gets n/3, in strict rotation', async () => {
  const tag = (m: any, ctx: KernelContext) => new MsgTag({ n: m.n, who: ctx.kernelId });
  await withKernels([
    [{ kernelId: 'msg_rr_src', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_rr_t', input: MsgNum, output: MsgTag }, mapper(tag)],
  ], async () => {
    await withRuntime(async (rt) => {
      const targets = ['msg_rr_t0', 'msg_rr_t1', 'msg_rr_t2'];
      await rt.launch('msg_rr_src');
      for (const id of targets) await rt.launch(id, 'msg_rr_t');
      rt.connect('msg_rr_src', targets); // round-robin is the default
      for (const id of ['msg_rr_src', ...targets]) await rt.activate(id);
      const n = 30;
      for (let i = 0; i < n; i++) await rt.send('msg_rr_src', new MsgNum({ n: i }));
      const residues = new Set<number>();
      for (const id of targets) {
        const got: number[] = [];
        for (let i = 0; i < n / 3; i++) { const m = await rt.receive(id, 1000) as any; assert.is(m.who, id); got.push(m.n); }
        await rejects(() => rt.receive(id, 20), QueueTimeoutError, `${id} got more than n/3`);
        const r = got[0]! % 3;
        assert.equal(got, range(0, n / 3).map((k) => 3 * k + r), `${id}: every third message, in order`);
        residues.add(r);
      }
      assert.is(residues.size, 3, 'the three targets share the stream');
    });
  });
});

test('connect broadcast: each target gets every message, in order', async () => {
  const tag = (m: any, ctx: KernelContext) => new MsgTag({ n: m.n, who: ctx.kernelId });
  await withKernels([
    [{ kernelId: 'msg_bc_src', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_bc_t', input: MsgNum, output: MsgTag }, mapper(tag)],
  ], async () => {
    await withRuntime(async (rt) => {
      const targets = ['msg_bc_t0', 'msg_bc_t1', 'msg_bc_t2'];
      await rt.launch('msg_bc_src');
      for (const id of targets) await rt.launch(id, 'msg_bc_t');
      rt.connect('msg_bc_src', targets, { mode: 'broadcast' });
      for (const id of ['msg_bc_src', ...targets]) await rt.activate(id);
      for (let i = 0; i < 12; i++) await rt.send('msg_bc_src', new MsgNum({ n: i }));
      for (const id of targets) {
        assert.equal(await nums(rt, id, 12), range(0, 12), id);
        await rejects(() => rt.receive(id, 20), QueueTimeoutError, `${id}: no duplicates`);
      }
    });
  });
});

test('connect key routing: messages with equal keys go to the same target; each message to exactly one', async () => {
  const tag = (m: any, ctx: KernelContext) => new MsgTag({ n: m.n, who: ctx.kernelId });
  await withKernels([
    [{ kernelId: 'msg_key_src', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_key_t', input: MsgNum, output: MsgTag }, mapper(tag)],
  ], async () => {
    await withRuntime(async (rt) => {
      const targets = ['msg_key_t0', 'msg_key_t1', 'msg_key_t2'];
      await rt.launch('msg_key_src');
      for (const id of targets) await rt.launch(id, 'msg_key_t');
      const keyOf = (n: number) => `user-${n % 7}`;
      rt.connect('msg_key_src', targets, { mode: 'key', key: (m) => keyOf((m as any).n) });
      for (const id of ['msg_key_src', ...targets]) await rt.activate(id);
      const n = 42;
      for (let i = 0; i < n; i++) await rt.send('msg_key_src', new MsgNum({ n: i }));
      const where = new Map<string, string>();
      const all: number[] = [];
      for (const id of targets) {
        for (;;) {
          let m: any;
          try { m = await rt.receive(id, 100); } catch (e) { if (e instanceof QueueTimeoutError) break; throw e; }
          all.push(m.n);
          const k = keyOf(m.n);
          if (where.has(k)) assert.is(where.get(k), id, `key ${k} went to ${where.get(k)} and to ${id}`);
          where.set(k, id);
        }
      }
      assert.equal(all.sort((a, b) => a - b), range(0, n), 'each message reached exactly one target');
      assert.is(where.size, 7);
    });
  });
});

test('fan-in: three producers connected to one aggregator; all arrive, each producer\'s order kept', async () => {
  await withKernels([
    [{ kernelId: 'msg_fi_p', input: MsgNum, output: MsgTag }, mapper((m, ctx) => new MsgTag({ n: m.n, who: ctx.kernelId }))],
    [{ kernelId: 'msg_fi_agg', input: MsgTag, output: MsgTag }, mapper((m) => m)],
  ], async () => {
    await withRuntime(async (rt) => {
      const producers = ['msg_fi_p0', 'msg_fi_p1', 'msg_fi_p2'];
      await rt.launch('msg_fi_agg');
      for (const id of producers) { await rt.launch(id, 'msg_fi_p'); rt.connect(id, 'msg_fi_agg'); }
      for (const id of ['msg_fi_agg', ...producers]) await rt.activate(id);
      // interleaved sends from the host to the three producers
      await Promise.all(producers.map(async (id) => { for (let i = 0; i < 10; i++) await rt.send(id, new MsgNum({ n: i })); }));
      const by = new Map<string, number[]>();
      for (let i = 0; i < 30; i++) {
        const m = await rt.receive('msg_fi_agg', 1000) as any;
        if (!by.has(m.who)) by.set(m.who, []);
        by.get(m.who)!.push(m.n);
      }
      await rejects(() => rt.receive('msg_fi_agg', 20), QueueTimeoutError, 'exactly 30');
      assert.equal([...by.keys()].sort(), producers);
      for (const id of producers) assert.equal(by.get(id), range(0, 10), `${id}: all, in order`);
    });
  });
});

test('connect under BLOCK: a small, slow target slows the source down; nothing is lost', async () => {
  await withKernels([
    [{ kernelId: 'msg_cb_src', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_cb_slow', input: MsgNum, output: MsgNum, queueSize: 2 },
      async (ctx) => { for await (const m of ctx) { await sleep(1); await ctx.send(m); } }],
  ], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_cb_src');
      await rt.launch('msg_cb_slow');
      rt.connect('msg_cb_src', 'msg_cb_slow');
      await rt.activate('msg_cb_src');
      await rt.activate('msg_cb_slow');
      const consumer = nums(rt, 'msg_cb_slow', 40, 2000);
      for (let i = 0; i < 40; i++) await rt.send('msg_cb_src', new MsgNum({ n: i }));
      assert.equal(await consumer, range(0, 40));
      const tel = rt.getTelemetry('msg_cb_slow')!;
      assert.is(tel.messagesRejected, 0);
      assert.is(tel.messagesDropped, 0);
      assert.ok(tel.queueHighWater <= 2);
    });
  });
});

test('connect errors: unknown ids, self, already connected, terminated or failed ends, bad options; a refused connect changes nothing', async () => {
  await withKernels([
    [{ kernelId: 'msg_ce_a', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_ce_fail' }, async () => { throw new Error('msg ce boom'); }],
  ], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_ce_a');
      for (const id of ['msg_ce_b', 'msg_ce_c', 'msg_ce_dead']) await rt.launch(id, 'msg_ce_a');
      await rt.launch('msg_ce_fail');
      await rt.terminate('msg_ce_dead');
      await until(() => rt.getState('msg_ce_fail') === 'failed', 500, 'failed');

      assert.is(throws(() => rt.connect('msg_ce_nope', 'msg_ce_b'), KernelNotFoundError, 'unknown source').kernelId, 'msg_ce_nope');
      assert.is(throws(() => rt.connect('msg_ce_a', 'msg_ce_nope'), KernelNotFoundError, 'unknown target').kernelId, 'msg_ce_nope');
      throws(() => rt.connect('msg_ce_a', ['msg_ce_b', 'msg_ce_nope']), KernelNotFoundError, 'unknown among targets');
      const self = throws(() => rt.connect('msg_ce_a', 'msg_ce_a'), RingKernelError, 'self');
      assert.is(self.kernelId, 'msg_ce_a');
      throws(() => rt.connect('msg_ce_a', ['msg_ce_b', 'msg_ce_a']), RingKernelError, 'self among targets');
      const dead = throws(() => rt.connect('msg_ce_a', 'msg_ce_dead'), KernelStateError, 'terminated target');
      assert.is(dead.kernelId, 'msg_ce_dead');
      assert.is(dead.state, 'terminated');
      throws(() => rt.connect('msg_ce_dead', 'msg_ce_a'), KernelStateError, 'terminated source');
      const failed = throws(() => rt.connect('msg_ce_a', 'msg_ce_fail'), KernelStateError, 'failed target');
      assert.is(failed.state, 'failed');
      throws(() => rt.connect('msg_ce_a', []), TypeError, 'no targets');
      throws(() => rt.connect('msg_ce_a', ['msg_ce_b', 'msg_ce_c'], { mode: 'fanout' as any }), TypeError, 'bad mode');
      throws(() => rt.connect('msg_ce_a', ['msg_ce_b', 'msg_ce_c'], { mode: 'key' }), TypeError, 'key mode without a key function');

      // none of those wired anything: a's outputs still come to the host
      await rt.activate('msg_ce_a');
      await rt.send('msg_ce_a', new MsgNum({ n: 1 }));
      assert.equal(await nums(rt, 'msg_ce_a', 1), [1]);

      rt.connect('msg_ce_a', 'msg_ce_b');
      const again = throws(() => rt.connect('msg_ce_a', 'msg_ce_c'), RingKernelError, 'already connected');
      assert.is(again.kernelId, 'msg_ce_a');
      assert.ok(again.message.includes('msg_ce_b'), `says where it is connected: ${again.message}`);
      throws(() => rt.connect('msg_ce_a', 'msg_ce_b'), RingKernelError, 'connected twice to the same target');
      // the first connection still holds
      await rt.activate('msg_ce_b');
      await rt.send('msg_ce_a', new MsgNum({ n: 2 }));
      assert.equal(await nums(rt, 'msg_ce_b', 1), [2]);
      throws(() => rt.disconnect('msg_ce_nope'), KernelNotFoundError, 'disconnect unknown');
    });
  });
});

test('disconnect: the source\'s sends go to its own output again; reconnecting works', async () => {
  await withKernels([
    [{ kernelId: 'msg_dc_a', input: MsgNum, output: MsgNum }, mapper((m) => m)],
    [{ kernelId: 'msg_dc_b', input: MsgNum, output: MsgNum }, mapper((m) => new MsgNum({ n: m.n + 1000 }))],
  ], async () => {
    await withRuntime(async (rt) => {
      for (const id of ['msg_dc_a', 'msg_dc_b']) { await rt.launch(id); await rt.activate(id); }
      rt.connect('msg_dc_a', 'msg_dc_b');
      for (let i = 0; i < 3; i++) await rt.send('msg_dc_a', new MsgNum({ n: i }));
      assert.equal(await nums(rt, 'msg_dc_b', 3), [1000, 1001, 1002]);
      rt.disconnect('msg_dc_a');
      for (let i = 3; i < 6; i++) await rt.send('msg_dc_a', new MsgNum({ n: i }));
      assert.equal(await nums(rt, 'msg_dc_a', 3), [3, 4, 5]);
      await rejects(() => rt.receive('msg_dc_b', 20), QueueTimeoutError, 'b gets nothing after disconnect');
      rt.connect('msg_dc_a', 'msg_dc_b'); // allowed again
      await rt.send('msg_dc_a', new MsgNum({ n: 6 }));
      assert.equal(await nums(rt, 'msg_dc_b', 1), [1006]);
    });
  });
});

// ---------------------------------------------------------------------------------------
// coordinators and the seed pipelines

test('coordinator: a kernel drives other kernels through ctx.runtime.send/receive', async () => {
  let sawRuntime: unknown = null;
  await withKernels([
    [{ kernelId: 'msg_co_s1', input: MsgNum, output: MsgNum }, mapper((m) => new MsgNum({ n: m.n + 1, correlationId: m.messageId }))],
    [{ kernelId: 'msg_co_s2', input: MsgNum, output: MsgNum }, mapper((m) => new MsgNum({ n: m.n * 10, correlationId: m.messageId }))],
    [{ kernelId: 'msg_co_coord', input: MsgNum, output: MsgNum }, async (ctx) => {
      sawRuntime = ctx.runtime;
      while (!ctx.shouldTerminate) {
        if (!ctx.isActive) { await ctx.waitActive(); continue; }
        let req;
        try { req = await ctx.receive({ timeout: 100 }); } catch (e) { if (e instanceof QueueTimeoutError) continue; if (ctx.shouldTerminate) break; throw e; }
        let cur: any = req;
        for (const stage of ['msg_co_s1', 'msg_co_s2']) {
          await ctx.runtime.send(stage, cur);
          cur = await ctx.runtime.receive(stage, { timeout: 1000 });
        }
        await ctx.send(new MsgNum({ n: cur.n, correlationId: req.messageId }));
      }
    }],
  ], async () => {
    await withRuntime(async (rt) => {
      for (const id of ['msg_co_s1', 'msg_co_s2', 'msg_co_coord']) await rt.launch(id);
      for (const id of ['msg_co_s1', 'msg_co_s2', 'msg_co_coord']) await rt.activate(id);
      const reqs = range(0, 5).map((i) => new MsgNum({ n: i }));
      for (const r of reqs) await rt.send('msg_co_coord', r);
      for (const r of reqs) {
        const out = await rt.receive('msg_co_coord', 2000) as any;
        assert.is(out.n, ((r as any).n + 1) * 10);
        assert.is(out.correlationId, r.messageId);
      }
      assert.is(sawRuntime, rt, 'ctx.runtime is the runtime that launched the kernel');
      assert.is(rt.getTelemetry('msg_co_s1')!.errorCount + rt.getTelemetry('msg_co_coord')!.errorCount, 0);
    });
  });
});

test('the SEED pipeline: preprocess -> compute through the host, as in DESIGN.md, with parallel instances', async () => {
  const RawData = message('MsgSeedRawData', { values: t.array(t.f64) });
  const PreprocessedData = message('MsgSeedPreprocessedData', { normalized: t.array(t.f64) });
  const ComputeResult = message('MsgSeedComputeResult', { result: t.f64 });
  const preprocess = ringKernel({ kernelId: 'msg_seed_preprocess', input: RawData, output: PreprocessedData,
    queueSize: 4096, backpressure: BackpressureStrategy.BLOCK }, async (ctx) => {
    while (!ctx.shouldTerminate) {
      if (!ctx.isActive) { await ctx.waitActive(); continue; }
      let raw;
      try { raw = await ctx.receive({ timeout: 100 }); } catch (e) { if (e instanceof QueueTimeoutError) continue; if (ctx.shouldTerminate) break; throw e; }
      const min = Math.min(...raw.values), max = Math.max(...raw.values);
      await ctx.send(new PreprocessedData({ normalized: raw.values.map((v: number) => (v - min) / (max - min)), correlationId: raw.messageId }));
    }
  });
  ringKernel({ kernelId: 'msg_seed_compute', input: PreprocessedData, output: ComputeResult }, async (ctx) => {
    for await (const d of ctx) {
      await ctx.send(new ComputeResult({ result: d.normalized.reduce((a: number, b: number) => a + b, 0) / d.normalized.length, correlationId: d.messageId }));
    }
  });
  try {
    await withRuntime(async (runtime) => {
      await runtime.launch('msg_seed_preprocess');
      await runtime.launch('msg_seed_compute');
      await runtime.activate('msg_seed_preprocess');
      await runtime.activate('msg_seed_compute');
      const raw = new RawData({ values: [1, 2, 3, 4, 5] });
      await runtime.send('msg_seed_preprocess', raw, { timeout: 1000 });
      const pre = await runtime.receive('msg_seed_preprocess', { timeout: 1000 }) as any;
      assert.instance(pre, PreprocessedData);
      assert.equal([...pre.normalized], [0, 0.25, 0.5, 0.75, 1]);
      assert.is(pre.correlationId, raw.messageId);
      await runtime.send('msg_seed_compute', pre);
      const result = await runtime.receive('msg_seed_compute', { timeout: 1000 }) as any;
      assert.is(result.result, 0.5);
      assert.is(result.correlationId, pre.messageId);
      // parallel instances, round-robin from the host
      for (let i = 0; i < 3; i++) { await runtime.launch(`msg_seed_preprocess_${i}`, preprocess); await runtime.activate(`msg_seed_preprocess_${i}`); }
      for (let k = 0; k < 9; k++) await runtime.send(`msg_seed_preprocess_${k % 3}`, new RawData({ values: [0, k + 1] }));
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) assert.equal([...(await runtime.receive(`msg_seed_preprocess_${i}`, 1000) as any).normalized], [0, 1]);
      }
      // terminate wakes the 100 ms receive loops at once
      const t0 = now();
      await runtime.shutdown();
      assert.ok(now() - t0 < 100, `shutdown took ${(now() - t0).toFixed(1)} ms`);
    });
  } finally { undefineKernel('msg_seed_preprocess'); undefineKernel('msg_seed_compute'); }
});

test('ctx.send under BLOCK on a full output queue waits for the host to receive; with a timeout, QueueFullError', async () => {
  const results: string[] = [];
  await withKernels([[{ kernelId: 'msg_out_block', input: MsgNum, output: MsgNum, queueSize: 2 },
    async (ctx) => {
      const m = await ctx.receive();
      for (let i = 0; i < 10; i++) await ctx.send(new MsgNum({ n: m.n + i }));
      results.push('sent 10');
      await ctx.send(new MsgNum({ n: 0 }));
      await ctx.send(new MsgNum({ n: 0 }));
      try { await ctx.send(new MsgNum({ n: 0 }), { timeout: 30 }); results.push('third fit?'); } catch (e) { results.push((e as Error).constructor.name); }
      for await (const _ of ctx) { /* until terminated */ }
    }]], async () => {
    await withRuntime(async (rt) => {
      await rt.launch('msg_out_block');
      await rt.activate('msg_out_block');
      await rt.send('msg_out_block', new MsgNum({ n: 100 }));
      await sleep(20);
      assert.equal(results, [], 'the kernel waits on its full output queue');
      const got: number[] = [];
      for (let i = 0; i < 10; i++) { got.push((await rt.receive('msg_out_block', 1000) as any).n); if (i % 3 === 0) await sleep(2); }
      assert.equal(got, range(100, 110));
      await until(() => results.length === 2, 1000, 'kernel finished its sends');
      assert.equal(results, ['sent 10', 'QueueFullError']);
    });
  });
});

test.run();
