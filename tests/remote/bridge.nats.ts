// Remote kernels over a real nats-server (JetStream, temp store, free loopback port, stopped by
// its PID): two runtimes in this process, each with its own NATS connection, talking only
// through JetStream. Crashes of whole processes are in crash.nats.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RingKernelRuntime, ringKernel, message, t, BackpressureStrategy, KernelNotFoundError, KernelStateError,
  QueueFullError, RemoteError, RingKernelError, MessageTooLargeError, MessageDecodeError, encodeMessage,
} from '../../js/index.js';
import { natsRemote, mailboxNames, type NatsRemoteOptions } from '../../js/nats/index.js';
import { startNatsServer } from '../helpers/nats-server.mjs';
import { WNum } from '../helpers/worker-kernels.js';

const server = await startNatsServer();
let nsCount = 0;
const Num = message('RemoteNum', { n: t.i32, tag: t.string });
const num = (n: number, priority?: number, tag = '') => new Num({ n, tag, priority });

/** Waits until cond() holds, checking every 10 ms, for up to `ms`. */
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = performance.now() + ms; !cond() && performance.now() < end;) await new Promise((r) => setTimeout(r, 10));
}

/** Two runtimes in one namespace of the test server (a fresh namespace per test). */
async function pair(fn: (a: RingKernelRuntime, b: RingKernelRuntime, ns: string) => Promise<void>, options: NatsRemoteOptions = {}, workers?: number) {
  const ns = `t${++nsCount}`;
  const a = new RingKernelRuntime({ workers, remote: natsRemote({ servers: server.url, namespace: ns, requestTimeoutMs: 4000, ...options }) });
  const b = new RingKernelRuntime({ workers, remote: natsRemote({ servers: server.url, namespace: ns, requestTimeoutMs: 4000, ...options }) });
  try { await fn(a, b, ns); } finally { await Promise.all([a.shutdown({ timeout: 2000 }), b.shutdown({ timeout: 2000 })]); }
}

/** A kernel that records what it receives (n and priority), in order. */
function recorder(id: string, opts: { queueSize?: number; backpressure?: BackpressureStrategy } = {}) {
  const got: { n: number; priority: number; tag: string }[] = [];
  const def = ringKernel({ kernelId: id, input: Num, ...opts }, async (ctx) => {
    for await (const m of ctx) got.push({ n: m.n, priority: m.priority, tag: m.tag });
  });
  return { def, got };
}

test('send to remote:<id> reaches the exposed kernel exactly once, in order; connect answers back over remote', () => pair(async (a, b) => {
  const sink = recorder('r_sink2');
  ringKernel({ kernelId: 'r_square2', input: Num, output: Num }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new Num({ n: m.n * m.n, tag: 'sq', correlationId: m.messageId }));
  });
  await a.launch('r_sink2'); await a.activate('r_sink2'); await a.expose('r_sink2');
  await b.launch('r_square2'); await b.activate('r_square2'); await b.expose('r_square2');
  b.connect('r_square2', 'remote:r_sink2');
  for (let i = 0; i < 50; i++) await a.send('remote:r_square2', num(i));
  await b.sendMany('remote:r_sink2', Array.from({ length: 200 }, (_, i) => num(1000 + i)));
  await until(() => sink.got.length === 250);
  const squares = sink.got.filter((g) => g.tag === 'sq').map((g) => g.n);
  const direct = sink.got.filter((g) => g.tag === '').map((g) => g.n);
  assert.equal(squares, Array.from({ length: 50 }, (_, i) => i * i));
  assert.equal(direct, Array.from({ length: 200 }, (_, i) => 1000 + i));
  await new Promise((r) => setTimeout(r, 200));
  assert.is(sink.got.length, 250, 'nothing arrives twice');
  const stats = a.remoteStats().exposed.find((s) => s.kernelId === 'r_sink2')!;
  assert.is(stats.delivered, 250);
  await until(() => a.remoteStats().exposed[0]!.acknowledged === 250);
  assert.is(a.remoteStats().exposed.find((s) => s.kernelId === 'r_sink2')!.acknowledged, 250, 'each acknowledged once handled');
  assert.is(b.remoteStats().forwarding[0]!.published, 50);
  assert.is(a.getTelemetry('r_sink2')!.messagesProcessed, 250);
}));

test('priorities: a kernel that was paused receives higher bands first, FIFO within a band', () => pair(async (a, b) => {
  const sink = recorder('r_prio');
  await a.launch('r_prio'); await a.expose('r_prio');            // launched, not active: messages wait
  const sent = [10, 200, 130, 250, 20, 170, 240, 100].flatMap((p, i) => [num(i * 2, p), num(i * 2 + 1, p)]);
  await b.sendMany('remote:r_prio', sent);
  await until(() => a.getTelemetry('r_prio')!.queueDepth === sent.length, 5000);
  await a.activate('r_prio');
  await until(() => sink.got.length === sent.length);
  const band = (p: number) => (p >= 224 ? 0 : p >= 160 ? 1 : p >= 64 ? 2 : 3);
  const expected = [...sent].map((m, i) => ({ m, i })).sort((x, y) => band(x.m.priority) - band(y.m.priority) || x.i - y.i).map((x) => x.m.n);
  assert.equal(sink.got.map((g) => g.n), expected);
}));

test('higher bands are pulled first: a SYSTEM message overtakes a LOW backlog still in the mailbox', () => pair(async (a, b) => {
  const got: { n: number; priority: number }[] = [];
  ringKernel({ kernelId: 'r_overtake', input: Num }, async (ctx) => {
    for await (const m of ctx) { got.push({ n: m.n, priority: m.priority }); await new Promise((r) => setTimeout(r, 5)); }
  });
  await a.launch('r_overtake'); await a.activate('r_overtake'); await a.expose('r_overtake');
  await b.sendMany('remote:r_overtake', Array.from({ length: 60 }, (_, i) => num(i, 10)));
  await until(() => got.length >= 3);
  await b.send('remote:r_overtake', num(999, 250));
  await until(() => got.some((g) => g.n === 999));
  const at = got.findIndex((g) => g.n === 999);
  assert.ok(at < 12, `the SYSTEM message came ${at}th, behind ${at - 3} LOW ones pulled after it was sent`);
  assert.ok(got.length < 60, 'it came while the LOW backlog was still there');
}, { maxInFlight: 4 }));

test('terminate with drain on an exposed kernel acknowledges what it handles; exposed again, it gets exactly the rest', () => pair(async (a, b, ns) => {
  const got: number[] = [];
  const def = ringKernel({ kernelId: 'r_redrain', input: Num, queueSize: 64 }, async (ctx) => {
    for await (const m of ctx) { got.push(m.n); await new Promise((r) => setTimeout(r, 2)); }
  });
  await a.launch('r_redrain'); await a.activate('r_redrain'); await a.expose('r_redrain');
  await b.sendMany('remote:r_redrain', Array.from({ length: 60 }, (_, i) => num(i)));
  await until(() => got.length >= 5);
  await a.terminate('r_redrain', { drain: true, timeout: 5000 });
  const first = got.length;
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await until(() => false, 300);                                     // acknowledgements reach the server
  const left = (await jsm.streams.info(mailboxNames(ns, 'r_redrain').stream)).state.messages;
  assert.is(left, 60 - first, 'every message the drain handled was acknowledged');
  await a.launch('r_redrain', def); await a.activate('r_redrain'); await a.expose('r_redrain');
  await until(() => got.length >= 60);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal([...got].sort((x, y) => x - y), Array.from({ length: 60 }, (_, i) => i), 'each exactly once');
  await nc.close();
}));

test("a kernel id that is no NATS token ('stage.1 *x>') is written in hex and reached the same way", () => pair(async (a, b, ns) => {
  const odd = 'stage.1 *x>';
  const sink = recorder('r_odd');
  await a.launch(odd, sink.def); await a.activate(odd); await a.expose(odd);
  assert.is(mailboxNames(ns, odd).stream, `RK_${ns}_~${Buffer.from(odd).toString('hex')}`);
  await b.send(`remote:${odd}`, num(3));
  await until(() => sink.got.length === 1);
  assert.equal(sink.got.map((g) => g.n), [3]);
}));

test('an exposed kernel receiving columns is refused (columns carry no ids to acknowledge by), with KernelStateError', () => pair(async (a) => {
  const Col = message('RemoteCol', { v: t.f32 });
  let caught: unknown = null;
  ringKernel({ kernelId: 'r_cols', input: Col }, async (ctx) => {
    await ctx.waitActive();                                          // exposed by then
    try { await ctx.receiveColumns({ timeout: 2000 }); } catch (e) { caught = e; }
  });
  await a.launch('r_cols'); await a.expose('r_cols'); await a.activate('r_cols');
  await until(() => caught !== null, 3000);
  assert.instance(caught, KernelStateError);
  assert.match((caught as Error).message, /exposed to other runtimes/);
}));

test('a retried publish (the same message id) is handed over once', () => pair(async (a, b) => {
  const sink = recorder('r_dedup');
  await a.launch('r_dedup'); await a.activate('r_dedup'); await a.expose('r_dedup');
  const m = num(7);
  await b.send('remote:r_dedup', m);
  await b.send('remote:r_dedup', m);                            // a retry after an unknown outcome
  await b.sendMany('remote:r_dedup', [m, m, num(8)]);
  await until(() => sink.got.length >= 2);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sink.got.map((g) => g.n), [7, 8]);
}));

test('BLOCK across machines: a send waits while the remote mailbox is full, QueueFullError after its timeout', () => pair(async (a, b) => {
  const sink = recorder('r_block', { queueSize: 8 });
  await a.launch('r_block'); await a.expose('r_block');          // not active: nothing is handled
  for (let i = 0; i < 8; i++) await b.send('remote:r_block', num(i));
  const t0 = performance.now();
  const e = await b.send('remote:r_block', num(8), { timeout: 300 }).catch((x) => x);
  assert.instance(e, QueueFullError);
  assert.ok(performance.now() - t0 >= 280, 'it waited for room');
  assert.match(e.message, /remote:r_block/);
  let done = false;
  const waiting = b.send('remote:r_block', num(9)).then(() => { done = true; });   // no timeout: waits
  await new Promise((r) => setTimeout(r, 300));
  assert.is(done, false, 'still waiting while full');
  await a.activate('r_block');
  await waiting;
  await until(() => sink.got.length === 9);
  assert.equal(sink.got.map((g) => g.n), [0, 1, 2, 3, 4, 5, 6, 7, 9]);
}));

test('BLOCK: a pipelined sendMany into a small mailbox keeps its order while the receiver drains it', () => pair(async (a, b) => {
  const got: number[] = [];
  ringKernel({ kernelId: 'r_order', input: Num, queueSize: 16 }, async (ctx) => {
    for await (const m of ctx) { got.push(m.n); if (m.n % 50 === 0) await new Promise((r) => setTimeout(r, 5)); }
  });
  await a.launch('r_order'); await a.activate('r_order'); await a.expose('r_order');
  await b.sendMany('remote:r_order', Array.from({ length: 600 }, (_, i) => num(i)));
  await until(() => got.length === 600);
  assert.equal(got, Array.from({ length: 600 }, (_, i) => i));
}));

test('REJECT across machines: a send to a full remote mailbox throws QueueFullError at once', () => pair(async (a, b) => {
  recorder('r_reject', { queueSize: 4, backpressure: BackpressureStrategy.REJECT });
  await a.launch('r_reject'); await a.expose('r_reject');
  for (let i = 0; i < 4; i++) await b.send('remote:r_reject', num(i));
  const t0 = performance.now();
  const e = await b.send('remote:r_reject', num(4), { timeout: 5000 }).catch((x) => x);
  assert.instance(e, QueueFullError);
  assert.ok(performance.now() - t0 < 1500, 'refused without waiting out the timeout');
  assert.match(e.message, /rejects when full/);
  const many = await b.sendMany('remote:r_reject', [num(5), num(6)]).catch((x) => x);
  assert.instance(many, QueueFullError);
  assert.is(many.enqueued, 0);
  // a sendMany larger than the room: the first ones go in, in order, and the rest are refused
  const sink = recorder('r_reject2', { queueSize: 4, backpressure: BackpressureStrategy.REJECT });
  await a.launch('r_reject2'); await a.expose('r_reject2');
  const part = await b.sendMany('remote:r_reject2', Array.from({ length: 7 }, (_, i) => num(i))).catch((x) => x);
  assert.instance(part, QueueFullError);
  assert.is(part.enqueued, 4);
  await a.activate('r_reject2');
  await until(() => sink.got.length === 4);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sink.got.map((g) => g.n), [0, 1, 2, 3]);
}));

test('DROP_OLDEST across machines: sends always succeed; what the mailbox dropped is counted in messagesDropped', () => pair(async (a, b) => {
  const sink = recorder('r_drop', { queueSize: 8, backpressure: BackpressureStrategy.DROP_OLDEST });
  await a.launch('r_drop'); await a.expose('r_drop');
  for (let i = 0; i < 30; i++) await b.send('remote:r_drop', num(i));
  // in flight (taken into the kernel's queue, at most queueSize): 8; the mailbox keeps the newest 8
  await until(() => a.getTelemetry('r_drop')!.messagesDropped >= 14, 3000);
  await a.activate('r_drop');
  await until(() => sink.got.length + a.getTelemetry('r_drop')!.messagesDropped === 30, 5000);
  const dropped = a.getTelemetry('r_drop')!.messagesDropped;
  assert.ok(dropped >= 14 && dropped <= 22, `dropped ${dropped}`);
  assert.is(sink.got.length + dropped, 30, 'every accepted message ends handled or dropped');
  assert.equal(sink.got.slice(-6).map((g) => g.n), [24, 25, 26, 27, 28, 29], 'the newest are kept');
  assert.is(a.remoteStats().exposed[0]!.dropped, dropped);
}));

test('untrusted bytes: a malformed record in the mailbox is counted, refused by the core and kept in the dead letters; the kernel goes on', () => pair(async (a, b, ns) => {
  const sink = recorder('r_bad');
  await a.launch('r_bad'); await a.activate('r_bad'); await a.expose('r_bad');
  const nc = await connect({ servers: server.url });
  const { jetstream } = await import('@nats-io/jetstream');
  const js = jetstream(nc);
  const subject = mailboxNames(ns, 'r_bad').subjects[2]!;
  const good = encodeMessage(num(1));
  const truncated = good.slice(0, good.length - 2);
  const wrongType = encodeMessage(new WNum({ n: 1, from: 'x' }));
  const corrupt = good.slice(); corrupt[50] = 9;                    // version byte
  for (const [i, bytes] of [truncated, new Uint8Array([1, 2, 3]), wrongType, corrupt].entries()) await js.publish(subject, bytes, { msgID: `bad-${i}` });
  await b.send('remote:r_bad', num(2));
  await until(() => sink.got.length === 1);
  assert.equal(sink.got.map((g) => g.n), [2]);
  const s = a.remoteStats().exposed[0]!;
  assert.is(s.badRecords, 4);
  assert.match(s.lastBadRecord!, /version|RemoteNum|header|record/i);
  // each is a dead letter: its bytes and the core's decode error, counted in telemetry
  const letters = a.deadLetters('r_bad');
  assert.is(letters.length, 4);
  for (const l of letters) { assert.ok(l.message instanceof Uint8Array); assert.instance(l.error, MessageDecodeError); assert.is(l.kernelId, 'r_bad'); }
  assert.equal(letters.map((l) => (l.message as Uint8Array).length).sort((x, y) => x - y), [truncated.length, 3, wrongType.length, corrupt.length].sort((x, y) => x - y));
  assert.is(a.getTelemetry('r_bad')!.deadLetters, 4);
  assert.is(a.getState('r_bad'), 'active');
  await nc.close();
  // refused records are terminated, not offered again: the stream holds nothing more
  const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(await connect({ servers: server.url }));
  await until(() => false, 300);
  const info = await jsm.streams.info(mailboxNames(ns, 'r_bad').stream);
  assert.is(info.state.messages, 0);
}));

test('worker kernels: an exposed worker kernel is fed from the mailbox, and a worker kernel connected to remote:<id> publishes from its ring', () => pair(async (a, b) => {
  const got: number[] = [];
  ringKernel({ kernelId: 'r_wsink', input: WNum }, async (ctx) => { for await (const m of ctx) got.push(m.n); });
  await a.launch('w_double'); await a.activate('w_double'); await a.expose('w_double');
  await a.launch('r_wsink'); await a.activate('r_wsink'); await a.expose('r_wsink');
  await b.launch('w_inc'); await b.activate('w_inc'); b.connect('w_inc', 'remote:r_wsink');
  assert.ok(a.workerOf('w_double') !== null && b.workerOf('w_inc') !== null);
  for (let i = 0; i < 20; i++) await b.send('remote:w_double', new WNum({ n: i, from: 'b' }));
  const doubled: number[] = [];
  while (doubled.length < 20) doubled.push((await a.receive('w_double', { timeout: 5000 })).n);
  assert.equal(doubled, Array.from({ length: 20 }, (_, i) => i * 2));
  await until(() => a.remoteStats().exposed.find((s) => s.kernelId === 'w_double')!.acknowledged === 20);
  assert.is(a.remoteStats().exposed.find((s) => s.kernelId === 'w_double')!.acknowledged, 20, 'the worker reported each handled message');
  for (let i = 0; i < 20; i++) await b.send('w_inc', new WNum({ n: i, from: 'b' }));
  await until(() => got.length === 20);
  assert.equal(got, Array.from({ length: 20 }, (_, i) => i + 1));
}, {}, 1));

test('errors: no transport, nobody exposes it, unknown kernel, exposed twice, mixed targets, receive on a forwarding kernel, too large', () => pair(async (a, b) => {
  const plain = new RingKernelRuntime();
  const e1 = await plain.send('remote:x', num(1)).catch((x) => x);
  assert.instance(e1, RingKernelError);
  assert.match(e1.message, /no remote transport/);
  await plain.shutdown();
  const e2 = await b.send('remote:nobody_here', num(1)).catch((x) => x);
  assert.instance(e2, KernelNotFoundError);
  assert.match(e2.message, /no runtime exposes kernel 'nobody_here'/);
  const e3 = await a.expose('not_launched').catch((x) => x);
  assert.instance(e3, KernelNotFoundError);
  recorder('r_err', { queueSize: 4 });
  ringKernel({ kernelId: 'r_err_small', input: Num, maxMessageSize: 200 }, async (ctx) => { for await (const _ of ctx); });
  await a.launch('r_err'); await a.expose('r_err');
  await a.launch('r_err_small'); await a.expose('r_err_small');
  const e4 = await a.expose('r_err').catch((x) => x);
  assert.instance(e4, KernelStateError);
  assert.throws(() => a.connect('r_err', ['remote:x', 'r_err_small']), /all local or all remote/);
  a.connect('r_err', 'remote:x');
  const e5 = await a.receive('r_err', { timeout: 10 }).catch((x) => x);
  assert.instance(e5, KernelStateError);
  a.disconnect('r_err');
  const e6 = await b.send('remote:r_err_small', num(1, 128, 'x'.repeat(500))).catch((x) => x);
  assert.instance(e6, MessageTooLargeError);
  const e7 = await b.send('remote:', num(1)).catch((x) => x);
  assert.instance(e7, TypeError);
  const e8 = await b.send('remote:r_err', {} as never).catch((x) => x);
  assert.instance(e8, TypeError);
  assert.throws(() => natsRemote({ namespace: 'a.b' }), /namespace/);
  assert.throws(() => natsRemote({ requestTimeoutMs: -1 }), /requestTimeoutMs/);
  assert.throws(() => natsRemote({ gapTimeoutMs: 0 }), /gapTimeoutMs must be a positive number/);
}));

test('connect to several remote targets: round-robin and by key; a full REJECT target through connect is counted as refused', () => pair(async (a, b) => {
  const s1 = recorder('r_rr1'), s2 = recorder('r_rr2');
  recorder('r_rfull', { queueSize: 2, backpressure: BackpressureStrategy.REJECT });
  ringKernel({ kernelId: 'r_rr_src', input: Num, output: Num }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
  ringKernel({ kernelId: 'r_key_src', input: Num, output: Num }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
  ringKernel({ kernelId: 'r_rej_src', input: Num, output: Num }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
  for (const id of ['r_rr1', 'r_rr2']) { await a.launch(id); await a.activate(id); await a.expose(id); }
  await a.launch('r_rfull'); await a.expose('r_rfull');                 // not active: fills up
  for (const id of ['r_rr_src', 'r_key_src', 'r_rej_src']) { await b.launch(id); await b.activate(id); }
  b.connect('r_rr_src', ['remote:r_rr1', 'remote:r_rr2']);
  await b.sendMany('r_rr_src', Array.from({ length: 10 }, (_, i) => num(i)));
  await until(() => s1.got.length + s2.got.length === 10);
  assert.equal(s1.got.map((g) => g.n), [0, 2, 4, 6, 8]);
  assert.equal(s2.got.map((g) => g.n), [1, 3, 5, 7, 9]);
  b.disconnect('r_rr_src');
  b.connect('r_key_src', ['remote:r_rr1', 'remote:r_rr2'], { mode: 'key', keyField: 'tag' });
  await b.sendMany('r_key_src', ['x', 'y', 'x', 'y', 'x'].map((tag, i) => num(100 + i, 128, tag)));
  await until(() => s1.got.length + s2.got.length === 15);
  const byTag = (got: { n: number; tag: string }[]) => [...new Set(got.filter((g) => g.n >= 100).map((g) => g.tag))];
  assert.ok(byTag(s1.got).length <= 1 && byTag(s2.got).length <= 1, 'equal keys go to the same target');
  assert.throws(() => b.connect('r_rej_src', ['remote:a', 'remote:b'], { mode: 'key' }), /keyField/);
  assert.throws(() => b.connect('r_rej_src', ['remote:a', 'remote:b'], { mode: 'nope' as never }), /mode must be/);
  b.connect('r_rej_src', 'remote:r_rfull');
  assert.throws(() => b.connect('r_rej_src', 'remote:r_rr1'), (e: unknown) => e instanceof KernelStateError);
  assert.throws(() => b.connect('r_rej_src', 'r_rr_src'), (e: unknown) => e instanceof KernelStateError);
  await b.sendMany('r_rej_src', Array.from({ length: 5 }, (_, i) => num(i)));
  await until(() => { const f = b.remoteStats().forwarding.find((x) => x.kernelId === 'r_rej_src')!; return f.published + f.refused === 5; });
  const f = b.remoteStats().forwarding.find((x) => x.kernelId === 'r_rej_src')!;
  assert.is(f.published, 2);
  assert.is(f.refused, 3);
  assert.match(f.lastError!, /QueueFullError/);
}));

test('expose refuses a kernel that is terminated, and a GPU kernel', () => pair(async (a) => {
  recorder('r_gone');
  await a.launch('r_gone'); await a.activate('r_gone'); await a.terminate('r_gone');
  const e1 = await a.expose('r_gone').catch((x) => x);
  assert.instance(e1, KernelStateError);
  const Vec4 = message('RemoteVec4', { v: t.array(t.f32, 4) });
  const gpu = ringKernel({ kernelId: 'r_gpu', placement: 'gpu', input: Vec4, output: Vec4, wgsl: 'fn handle(m: RemoteVec4) -> RemoteVec4 { return m; }' }, (m) => m);
  await a.launch('r_gpu', gpu);                         // with a JS fallback: launches with or without a GPU
  const e2 = await a.expose('r_gpu').catch((x) => x);
  assert.instance(e2, RingKernelError);
  assert.match(e2.message, /GPU kernel/);
}));

test('credentials stay out of errors; token and user/password auth pass through', async () => {
  const secured = await startNatsServer({ args: ['--user', 'rkuser', '--pass', 's3cr3t-PW-991'] });
  const tokened = await startNatsServer({ args: ['--auth', 'tok-SECRET-4242'] });
  try {
    const wrong = new RingKernelRuntime({ remote: natsRemote({ servers: secured.url, user: 'rkuser', pass: 'wrong-PW-7731', requestTimeoutMs: 1000, maxReconnectAttempts: 0 }) });
    const e1 = await wrong.send('remote:x', num(1)).catch((x) => x);
    assert.instance(e1, RemoteError);
    assert.not.match(e1.message + String(e1.stack), /wrong-PW-7731/);
    assert.match(e1.message, /auth|Authorization/i);
    await wrong.shutdown();
    const inUrl = new RingKernelRuntime({ remote: natsRemote({ servers: `nats://rkuser:url-PW-5150@127.0.0.1:${secured.port + 0}`, requestTimeoutMs: 1000, maxReconnectAttempts: 0, pass: undefined }) });
    const okUrl = await inUrl.send('remote:x', num(1)).catch((x) => x);
    assert.not.match(String(okUrl?.message) + String(okUrl?.stack), /url-PW-5150/);
    await inUrl.shutdown();
    const dead = new RingKernelRuntime({ remote: natsRemote({ servers: `nats://rkuser:dead-PW-8080@127.0.0.1:1`, requestTimeoutMs: 1000, maxReconnectAttempts: 0 }) });
    const e2 = await dead.send('remote:x', num(1)).catch((x) => x);
    assert.instance(e2, RemoteError);
    assert.not.match(e2.message + String(e2.stack), /dead-PW-8080/);
    await dead.shutdown();
    for (const [url, opts] of [[secured.url, { user: 'rkuser', pass: 's3cr3t-PW-991' }], [tokened.url, { token: 'tok-SECRET-4242' }]] as const) {
      const got: number[] = [];
      ringKernel({ kernelId: `r_auth_${url.slice(-5)}`, input: Num }, async (ctx) => { for await (const m of ctx) got.push(m.n); });
      const a = new RingKernelRuntime({ remote: natsRemote({ servers: url, namespace: 'auth', ...opts }) });
      const b = new RingKernelRuntime({ remote: natsRemote({ servers: url, namespace: 'auth', ...opts }) });
      const id = `r_auth_${url.slice(-5)}`;
      await a.launch(id); await a.activate(id); await a.expose(id);
      await b.send(`remote:${id}`, num(42));
      await until(() => got.length === 1);
      assert.equal(got, [42]);
      await b.shutdown(); await a.shutdown();
    }
  } finally { await secured.dispose(); await tokened.dispose(); }
});

test('nkeys pass through: an nkey user connects with natsRemote({ authenticator })', async () => {
  const { createUser } = await import('@nats-io/nkeys');
  const { nkeyAuthenticator } = await import('@nats-io/nats-core');
  const user = createUser();
  const conf = join(mkdtempSync(join(tmpdir(), 'rk-nkey-')), 'nats.conf');
  writeFileSync(conf, `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`);
  const s = await startNatsServer({ args: ['-c', conf] });
  try {
    const refused = new RingKernelRuntime({ remote: natsRemote({ servers: s.url, requestTimeoutMs: 1000, maxReconnectAttempts: 0 }) });
    const e = await refused.send('remote:x', num(1)).catch((x) => x);
    assert.instance(e, RemoteError, 'without the nkey the server refuses');
    await refused.shutdown();
    const got: number[] = [];
    ringKernel({ kernelId: 'r_nkey', input: Num }, async (ctx) => { for await (const m of ctx) got.push(m.n); });
    const seed = user.getSeed();
    const opts = () => natsRemote({ servers: s.url, namespace: 'nkey', authenticator: nkeyAuthenticator(seed) });
    const a = new RingKernelRuntime({ remote: opts() });
    const b = new RingKernelRuntime({ remote: opts() });
    await a.launch('r_nkey'); await a.activate('r_nkey'); await a.expose('r_nkey');
    await b.send('remote:r_nkey', num(5));
    await until(() => got.length === 1);
    assert.equal(got, [5]);
    await b.shutdown(); await a.shutdown();
  } finally { await s.dispose(); }
});

test('a dead engine: sends and exposes fail with RemoteError within the request timeout, not hang', async () => {
  const s = await startNatsServer();
  ringKernel({ kernelId: 'r_deadsink', input: Num }, async (ctx) => { for await (const _ of ctx); });
  const a = new RingKernelRuntime({ remote: natsRemote({ servers: s.url, namespace: 'dead', requestTimeoutMs: 800 }) });
  try {
    await a.launch('r_deadsink'); await a.expose('r_deadsink');
    await a.send('remote:r_deadsink', num(1));
    await s.stop();
    const t0 = performance.now();
    const e = await a.send('remote:r_deadsink', num(2)).catch((x) => x);
    const took = performance.now() - t0;
    assert.instance(e, RemoteError);
    assert.ok(took < 5000, `gave up after ${took.toFixed(0)} ms`);
    assert.match(e.message, /remote:r_deadsink/);
    const never = new RingKernelRuntime({ remote: natsRemote({ servers: `nats://127.0.0.1:${s.port}`, requestTimeoutMs: 800, maxReconnectAttempts: 0 }) });
    ringKernel({ kernelId: 'r_deadsink2', input: Num }, async (ctx) => { for await (const _ of ctx); });
    await never.launch('r_deadsink2');
    const t1 = performance.now();
    const e2 = await never.expose('r_deadsink2').catch((x) => x);
    assert.instance(e2, RemoteError);
    assert.ok(performance.now() - t1 < 5000);
    await never.shutdown({ timeout: 1000 });
  } finally {
    const t2 = performance.now();
    await a.shutdown({ timeout: 1000 });
    assert.ok(performance.now() - t2 < 5000, 'shutdown with a dead engine ends');
    await s.dispose();
  }
});

test('shutdown drains: what a connected kernel sent is published before the runtime closes', () => pair(async (a, _b, ns) => {
  const sink = recorder('r_drain_sink');
  let forwarded = 0;
  ringKernel({ kernelId: 'r_drain_src', input: Num, output: Num }, async (ctx) => { for await (const m of ctx) { await ctx.send(m); forwarded++; } });
  await a.launch('r_drain_sink'); await a.activate('r_drain_sink'); await a.expose('r_drain_sink');
  const c = new RingKernelRuntime({ remote: natsRemote({ servers: server.url, namespace: ns }) });
  await c.launch('r_drain_src'); await c.activate('r_drain_src');
  c.connect('r_drain_src', 'remote:r_drain_sink');
  await c.sendMany('r_drain_src', Array.from({ length: 300 }, (_, i) => num(i)));
  await until(() => forwarded === 300);                            // sent: in its output ring, or published
  await c.shutdown();
  await until(() => sink.got.length === 300);
  assert.equal(sink.got.map((g) => g.n), Array.from({ length: 300 }, (_, i) => i));
}));

test('a server restart: the mailbox keeps its messages, connections come back, every message arrives once', async () => {
  const s = await startNatsServer();
  const got: number[] = [];
  ringKernel({ kernelId: 'r_restart', input: Num }, async (ctx) => { for await (const m of ctx) got.push(m.n); });
  const a = new RingKernelRuntime({ remote: natsRemote({ servers: s.url, namespace: 'restart', requestTimeoutMs: 3000 }) });
  const b = new RingKernelRuntime({ remote: natsRemote({ servers: s.url, namespace: 'restart', requestTimeoutMs: 3000 }) });
  try {
    await a.launch('r_restart'); await a.expose('r_restart');
    await b.sendMany('remote:r_restart', Array.from({ length: 100 }, (_, i) => num(i)));
    await s.restart();                                       // SIGTERM, then the same port and store
    await b.sendMany('remote:r_restart', Array.from({ length: 100 }, (_, i) => num(100 + i)));
    await a.activate('r_restart');
    await until(() => got.length >= 200, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal([...got].sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i));
  } finally {
    await b.shutdown({ timeout: 1000 }); await a.shutdown({ timeout: 1000 });
    await s.dispose();
  }
});

test.after(async () => { await server.dispose(); });
test.run();
