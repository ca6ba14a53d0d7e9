// Per-sender order (docs/remote.md, "Delivery", 1): several senders — runtimes with their own
// connections in this process, and a real child process (child-order-sender.mjs) — race into
// one small, full BLOCK mailbox drained by a slow kernel. A sender's record refused there (or
// left unanswered) while later ones of its window were stored must still reach the kernel in
// order: each sender's messages are checked in order and exactly once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { RingKernelRuntime, ringKernel, message, t } from '../../js/index.js';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { natsRemote, mailboxNames, type NatsRemoteOptions } from '../../js/nats/index.js';
import { wrapRecord, wrapSkip } from '../../js/nats/envelope.js';
import { BackpressureStrategy, QueueFullError, encodeMessage } from '../../js/index.js';
import { startNatsServer } from '../helpers/nats-server.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const server = await startNatsServer();
const OrderNum = message('OrderNum', { s: t.i32, n: t.i32 });
let nsCount = 0;

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  for (const end = performance.now() + ms; !cond();) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Per sender: the n it received, in order. */
function check(got: { s: number; n: number }[], senders: number, n: number): void {
  for (let s = 0; s < senders; s++) {
    const mine = got.filter((g) => g.s === s).map((g) => g.n);
    const wrong = mine.findIndex((v, i) => v !== i);
    assert.ok(wrong === -1 && mine.length === n, `sender ${s}: ${mine.length} of ${n}, first out of place at ${wrong}: ${mine.slice(Math.max(0, wrong - 3), wrong + 4).join(',')}`);
  }
}

function sink(id: string, queueSize: number, delayMs: number, backpressure?: BackpressureStrategy) {
  const got: { s: number; n: number }[] = [];
  ringKernel({ kernelId: id, input: OrderNum, queueSize, backpressure }, async (ctx) => {
    for await (const m of ctx) { got.push({ s: m.s, n: m.n }); if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs)); }
  });
  return got;
}

/**
 * Runs `body` against an exposed kernel `id` (a sink of `queueSize`) in a runtime of its own,
 * with a plain NATS connection beside it to publish to the kernel's mailbox by hand.
 */
async function byHand(id: string, queueSize: number, gapTimeoutMs: number,
  body: (got: { s: number; n: number }[], rx: RingKernelRuntime, js: ReturnType<typeof jetstream>, names: ReturnType<typeof mailboxNames>) => Promise<void>): Promise<void> {
  const ns = `order${++nsCount}`;
  const got = sink(id, queueSize, 0);
  const rx = new RingKernelRuntime({ remote: natsRemote({ servers: server.url, namespace: ns, gapTimeoutMs }) });
  const nc = await connect({ servers: server.url });
  try {
    await rx.launch(id); await rx.activate(id); await rx.expose(id);
    await body(got, rx, jetstream(nc), mailboxNames(ns, id));
  } finally {
    await nc.close();
    await rx.shutdown({ timeout: 2000 });
  }
}

test('several senders (10 connections here and a child process) racing into a full 16-place BLOCK mailbox: each in order, exactly once', async () => {
  const ns = `order${++nsCount}`, N = 800;
  const got = sink('order_sink', 16, 0);
  const opts: NatsRemoteOptions = { servers: server.url, namespace: ns, requestTimeoutMs: 4000 };
  const rx = new RingKernelRuntime({ remote: natsRemote(opts) });
  const senders = Array.from({ length: 10 }, (_, i) => i).map(() => new RingKernelRuntime({ remote: natsRemote(opts) }));
  try {
    await rx.launch('order_sink'); await rx.activate('order_sink'); await rx.expose('order_sink');
    const child = spawn(process.execPath, [join(here, 'child-order-sender.mjs')], { env: { ...process.env, NATS_URL: server.url, NS: ns, S: String(senders.length), N: String(N), BATCH: '64' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; }); child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((r) => child.once('exit', r));
    await Promise.all(senders.map(async (rt, s) => {
      for (let i = 0; i < N; i += 64) await rt.sendMany('remote:order_sink', Array.from({ length: Math.min(64, N - i) }, (_, k) => new OrderNum({ s, n: i + k })));
    }));
    await until(() => /done/.test(out), 60_000, `the child sender (${out.slice(-300)})`);
    await exited;
    await until(() => got.length >= (senders.length + 1) * N, 30_000, `all messages (got ${got.length})`);
    await new Promise((r) => setTimeout(r, 300));
    assert.is(got.length, (senders.length + 1) * N, 'nothing twice');
    check(got, senders.length + 1, N);
    const st = rx.remoteStats().exposed[0]!;
    console.log(`  [race] ${got.length} messages; held back for an earlier one of their sender: ${st.heldBack}, gaps skipped: ${st.gapsSkipped}, late: ${st.late}`);
  } finally {
    await Promise.all(senders.map((r) => r.shutdown({ timeout: 2000 })));
    await rx.shutdown({ timeout: 2000 });
  }
});

/**
 * One sender's sendMany windows in flight while the server goes away under them (`disturb`),
 * into a receiver in this process: what comes must be in order and exactly once.
 */
async function disturbed(name: string, disturb: (s: Awaited<ReturnType<typeof startNatsServer>>) => Promise<void>) {
  const own = await startNatsServer();
  const ns = `order${++nsCount}`, N = 6000, id = `order_${name}`;
  const got = sink(id, 4096, 0);
  // deliveries the broken connection lost come again after ackWaitMs: the gap waits for them
  const opts: NatsRemoteOptions = { servers: own.url, namespace: ns, requestTimeoutMs: 1000, ackWaitMs: 3000 };
  const rx = new RingKernelRuntime({ remote: natsRemote(opts) });
  const tx = new RingKernelRuntime({ remote: natsRemote(opts) });
  try {
    await rx.launch(id); await rx.activate(id); await rx.expose(id);
    let sent = 0;
    const sending = (async () => {
      for (let i = 0; i < N; i += 500) {
        const batch = Array.from({ length: Math.min(500, N - i) }, (_, k) => new OrderNum({ s: 0, n: i + k, messageId: `00000000-0000-4000-8000-${(i + k).toString(16).padStart(12, '0')}` }));
        // a send that failed (no answer in time) is sent again: the same ids, stored once
        for (;;) { try { await tx.sendMany(`remote:${id}`, batch); break; } catch { await new Promise((r) => setTimeout(r, 50)); } }
        sent = i + batch.length;
      }
    })();
    await until(() => sent >= 1000, 20_000, 'the first sends');
    await disturb(own);
    await sending;
    await until(() => got.length >= N, 30_000, `all ${N} messages (got ${got.length})`);
    await new Promise((r) => setTimeout(r, 300));
    const st = rx.remoteStats().exposed[0]!;
    console.log(`  [${name}] ${got.length} messages; held back: ${st.heldBack}, gaps skipped: ${st.gapsSkipped}, late: ${st.late}, repeats dropped: ${st.repeatsSkipped}`);
    check(got, 1, N);
  } finally {
    await tx.shutdown({ timeout: 2000 }); await rx.shutdown({ timeout: 2000 });
    await own.dispose();
  }
}

test('publishes left unanswered (the server stopped with SIGSTOP for longer than requestTimeoutMs, then SIGCONT) while later ones of the window are stored: in order, exactly once', () =>
  disturbed('paused', async (s) => {
    process.kill(s.pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(s.pid, 'SIGCONT');
  }));

test('publishes lost with the server (SIGKILL mid-window, restarted on its store) while later ones are stored after the reconnect: in order, exactly once', () =>
  disturbed('killed', async (s) => {
    await s.stop({ hard: true });
    await new Promise((r) => setTimeout(r, 300));
    await s.start();
  }));

test('REJECT: senders racing into a full 4-place mailbox, refused sends given up: what arrives of each sender is in its order, nothing waits for the gap timeout', async () => {
  const ns = `order${++nsCount}`, N = 300, id = 'order_reject';
  const got = sink(id, 4, 0, BackpressureStrategy.REJECT);
  const opts: NatsRemoteOptions = { servers: server.url, namespace: ns, requestTimeoutMs: 4000, gapTimeoutMs: 60_000 };
  const rx = new RingKernelRuntime({ remote: natsRemote(opts) });
  const senders = Array.from({ length: 6 }, () => new RingKernelRuntime({ remote: natsRemote(opts) }));
  try {
    await rx.launch(id); await rx.activate(id); await rx.expose(id);
    const accepted = senders.map(() => new Set<number>());
    let refused = 0;
    await Promise.all(senders.map(async (rt, s) => {
      for (let i = 0; i < N; i += 20) {
        const batch = Array.from({ length: 20 }, (_, k) => new OrderNum({ s, n: i + k }));
        try { await rt.sendMany(`remote:${id}`, batch); batch.forEach((m) => accepted[s]!.add(m.n)); } catch (e) {
          assert.instance(e, QueueFullError);
          refused++;
          batch.slice(0, (e as QueueFullError & { enqueued: number }).enqueued).forEach((m) => accepted[s]!.add(m.n));
        }
      }
    }));
    await until(() => senders.every((_, s) => [...accepted[s]!].every((n) => got.some((g) => g.s === s && g.n === n))), 20_000, 'every accepted message');
    await new Promise((r) => setTimeout(r, 300));
    for (let s = 0; s < senders.length; s++) {
      const mine = got.filter((g) => g.s === s).map((g) => g.n);
      assert.ok(mine.every((v, i) => i === 0 || v > mine[i - 1]!), `sender ${s} in order, once: ${mine.join(',')}`);
    }
    const st = rx.remoteStats().exposed[0]!;
    console.log(`  [reject] ${refused} sendMany refused; ${got.length} handled; held back ${st.heldBack}; gaps skipped ${st.gapsSkipped}`);
    assert.ok(refused > 0, 'the mailbox was full');
    assert.is(st.gapsSkipped, 0, 'given-up records are announced: no gap waits for the timeout');
  } finally {
    await Promise.all(senders.map((r) => r.shutdown({ timeout: 2000 })));
    await rx.shutdown({ timeout: 2000 });
  }
});

test('a send retried with the same message ids (stored once) leaves no gap to wait for: the new ones behind them come at once', async () => {
  const ns = `order${++nsCount}`, id = 'order_retry';
  const got = sink(id, 256, 0);
  const opts: NatsRemoteOptions = { servers: server.url, namespace: ns, gapTimeoutMs: 60_000 };
  const rx = new RingKernelRuntime({ remote: natsRemote(opts) });
  const tx = new RingKernelRuntime({ remote: natsRemote(opts) });
  try {
    await rx.launch(id); await rx.activate(id); await rx.expose(id);
    const first = Array.from({ length: 50 }, (_, n) => new OrderNum({ s: 0, n }));
    await tx.sendMany(`remote:${id}`, first);
    await tx.sendMany(`remote:${id}`, [...first.slice(20), ...Array.from({ length: 10 }, (_, k) => new OrderNum({ s: 0, n: 50 + k }))]);
    await until(() => got.length >= 60, 5000, `the new ones (got ${got.length})`);
    await new Promise((r) => setTimeout(r, 200));
    check(got, 1, 60);
    assert.is(rx.remoteStats().exposed[0]!.gapsSkipped, 0);
  } finally { await tx.shutdown(); await rx.shutdown(); }
});

test('no deadlock: a 4-place BLOCK mailbox full of held-back records refuses their missing predecessor, which the late lane takes; all five handed over in order', async () => {
  await byHand('order_full', 4, 60_000, async (got, rx, js, names) => {
    const env = (seq: number) => wrapRecord(encodeMessage(new OrderNum({ s: 0, n: seq })), 55, seq, 1);
    for (const seq of [2, 3, 4, 5]) await js.publish(names.subjects[2]!, env(seq), { msgID: `full-${seq}` });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got, [], 'all held back for seq 1');
    const refused = await js.publish(names.subjects[2]!, env(1), { msgID: 'full-1' }).then(() => null, (e) => e);
    assert.ok(refused && /maximum messages/i.test(String(refused.message ?? refused)), `the mailbox is full of them: ${refused}`);
    await js.publish(names.laneSubjects[2]!, env(1), { msgID: 'full-1' });
    await until(() => got.length >= 5, 5000, `the five (got ${got.length})`);
    assert.equal(got.map((g) => g.n), [1, 2, 3, 4, 5]);
    assert.is(rx.remoteStats().exposed[0]!.gapsSkipped, 0);
  });
});

test('the wire, by hand: a gap that never fills is skipped after gapTimeoutMs (counted), its record coming after all is handed over late, a repeat by sequence is dropped, a skip notice frees the held-back at once', async () => {
  await byHand('order_wire', 64, 400, async (got, rx, js, names) => {
    const rec = (n: number) => encodeMessage(new OrderNum({ s: 0, n }));
    const put = (seq: number, floor: number, n = seq, sender = 77) => js.publish(names.subjects[2]!, wrapRecord(rec(n), sender, seq, floor), { msgID: `w-${sender}-${seq}-${n}-${floor}` });
    await put(1, 1); await put(3, 1); await put(4, 1);               // 2 never comes
    await until(() => got.length >= 1, 5000, 'the first');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(got.map((g) => g.n), [1], '3 and 4 wait for 2');
    const t0 = performance.now();
    await until(() => got.length >= 3, 5000, 'the gap timeout');
    assert.ok(performance.now() - t0 > 150, 'they waited');
    assert.equal(got.map((g) => g.n), [1, 3, 4]);
    await put(2, 1);                                                  // came after all: late, not lost
    await put(3, 1, 3, 77).catch(() => {});                            // the same msgID: JetStream drops it
    await js.publish(names.subjects[2]!, wrapRecord(rec(3), 77, 3, 1), { msgID: 'w-again-3' }); // a repeat by sequence
    await until(() => got.length >= 4, 5000, 'the late one');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.map((g) => g.n), [1, 3, 4, 2]);
    let st = rx.remoteStats().exposed[0]!;
    assert.is(st.gapsSkipped, 1); assert.is(st.late, 1); assert.ok(st.repeatsSkipped >= 1); assert.is(st.heldBack, 2);
    // another sender: 2 given up by a skip notice on the late lane, 3 goes at once
    await put(1, 1, 101, 88); await put(3, 1, 103, 88);
    await new Promise((r) => setTimeout(r, 100));
    await js.publish(names.laneSubjects[2]!, wrapSkip(88, [2]));
    await until(() => got.length >= 6, 300, 'the skip notice (before the gap timeout)');
    assert.equal(got.slice(4).map((g) => g.n), [101, 103]);
    st = rx.remoteStats().exposed[0]!;
    assert.is(st.gapsSkipped, 1, 'no timeout for the given-up one');
    // a malformed envelope is handed over as bytes: the core refuses it, the kernel goes on
    const bad = wrapRecord(rec(5), 99, 1, 1); bad[4] = 7;
    await js.publish(names.subjects[2]!, bad, { msgID: 'w-bad' });
    await until(() => rx.remoteStats().exposed[0]!.badRecords === 1, 3000, 'the bad record');
    await put(1, 1, 500, 99);
    await until(() => got.length >= 7, 3000, 'the next');
    assert.is(got[6]!.n, 500);
  });
});

test.after(async () => { await server.dispose(); });
test.run();
