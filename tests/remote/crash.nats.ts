// Delivery when processes die (docs/remote.md, "Delivery"): real child processes that use the
// built package by its name (child-receiver.mjs, child-sender.mjs), killed with SIGKILL and
// started again, and a nats-server killed and restarted under them. The receiver writes a
// line per handled message, so the file says what was lost (nothing may be) and what came
// twice (at most what was in flight: maxInFlight).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '../helpers/nats-server.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const server = await startNatsServer();
const dir = mkdtempSync(join(tmpdir(), 'rk-crash-'));
let nsCount = 0;
const MAX_IN_FLIGHT = 64;

interface Child { proc: ChildProcess; out: string; exited: Promise<number | null> }

function start(script: string, env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [join(here, script)], { env: { ...process.env, FORCE_COLOR: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const c: Child = { proc, out: '', exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
  proc.stdout!.on('data', (d) => { c.out += d; });
  proc.stderr!.on('data', (d) => { c.out += d; });
  return c;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  for (const end = performance.now() + ms; !cond();) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : []);

function tally(file: string, n: number) {
  const got = lines(file);
  const distinct = new Set(got);
  const missing: number[] = [];
  for (let i = 0; i < n; i++) if (!distinct.has(i)) missing.push(i);
  // in the sender's order: the first time each message was handled, they come in order
  const seen = new Set<number>(), first: number[] = [];
  for (const v of got) if (!seen.has(v)) { seen.add(v); first.push(v); }
  const outOfOrder = first.findIndex((v, i) => i > 0 && v < first[i - 1]!);
  return { handled: got.length, distinct: distinct.size, repeated: got.length - distinct.size, missing, outOfOrder };
}

async function kill(c: Child, signal: NodeJS.Signals = 'SIGKILL') { process.kill(c.proc.pid!, signal); await c.exited; }

for (const placement of ['inline', 'worker']) {
  test(`the receiving process (a ${placement} kernel) killed mid-stream and started again: nothing lost, repeats bounded by maxInFlight`, async () => {
    const ns = `crash${++nsCount}`, out = join(dir, `${ns}.txt`), N = 1500;
    const env = { NATS_URL: server.url, NS: ns, OUT: out, PLACEMENT: placement, MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) };
    let r = start('child-receiver.mjs', env);
    await until(() => /ready/.test(r.out), 15_000, 'the receiver');
    const s = start('child-sender.mjs', { ...env, FROM: '0', TO: String(N) });
    await until(() => lines(out).length >= 300, 30_000, 'messages to be handled');
    await kill(r);
    const before = tally(out, N);
    r = start('child-receiver.mjs', env);
    await until(() => /ready/.test(r.out), 15_000, 'the restarted receiver');
    await until(() => tally(out, N).missing.length === 0, 60_000, `all ${N} messages (sender: ${s.out.slice(-300)})`);
    await until(() => /done/.test(s.out), 30_000, 'the sender');
    await new Promise((res) => setTimeout(res, 300));
    const after = tally(out, N);
    await kill(r, 'SIGTERM');
    console.log(`  [${placement}] killed after ${before.handled} handled; then ${after.handled} lines for ${N} messages: ${after.repeated} repeated (bound ${MAX_IN_FLIGHT})`);
    assert.equal(after.missing, [], 'nothing accepted is lost');
    assert.is(after.outOfOrder, -1, `first deliveries in the sender's order (receiver: ${r.out.slice(-400)})`);
    assert.ok(after.repeated <= MAX_IN_FLIGHT, `${after.repeated} repeated, more than the ${MAX_IN_FLIGHT} in flight`);
  });
}

test('the sending process killed mid-send and run again with the same messages: each is handed over once', async () => {
  const ns = `crash${++nsCount}`, out = join(dir, `${ns}.txt`), N = 1200;
  const env = { NATS_URL: server.url, NS: ns, OUT: out, DELAY_MS: '0' };
  const r = start('child-receiver.mjs', env);
  await until(() => /ready/.test(r.out), 15_000, 'the receiver');
  const s1 = start('child-sender.mjs', { ...env, FROM: '0', TO: String(N), BATCH: '50' });
  await until(() => /sent (\d+)/.test(s1.out) && Number([...s1.out.matchAll(/sent (\d+)/g)].pop()![1]) >= 400, 30_000, 'the first sender');
  await kill(s1);
  const s2 = start('child-sender.mjs', { ...env, FROM: '0', TO: String(N), BATCH: '50' });
  await until(() => /done/.test(s2.out), 30_000, `the second sender (${s2.out.slice(-300)})`);
  await until(() => tally(out, N).missing.length === 0, 30_000, 'all messages');
  await new Promise((res) => setTimeout(res, 500));
  const t = tally(out, N);
  await kill(r, 'SIGTERM');
  assert.equal(t.missing, []);
  assert.is(t.repeated, 0, 'a message sent again with its id is stored once');
});

test('nats-server killed (SIGKILL) and restarted under running processes: nothing lost, repeats bounded', async () => {
  const own = await startNatsServer();
  const ns = `crash${++nsCount}`, out = join(dir, `${ns}.txt`), N = 1500;
  const env = { NATS_URL: own.url, NS: ns, OUT: out, MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) };
  const r = start('child-receiver.mjs', env);
  try {
    await until(() => /ready/.test(r.out), 15_000, 'the receiver');
    const s = start('child-sender.mjs', { ...env, FROM: '0', TO: String(N) });
    await until(() => lines(out).length >= 300, 30_000, 'messages to be handled');
    await own.stop({ hard: true });
    await new Promise((res) => setTimeout(res, 500));
    await own.start();
    await until(() => tally(out, N).missing.length === 0, 60_000, `all messages (receiver: ${r.out.slice(-300)}; sender: ${s.out.slice(-300)})`);
    await until(() => /done/.test(s.out), 30_000, 'the sender');
    const t = tally(out, N);
    console.log(`  [server killed] ${t.handled} lines for ${N} messages: ${t.repeated} repeated (bound ${MAX_IN_FLIGHT}); ${[...r.out.matchAll(/order: [^\n]*/g)].pop()?.[0] ?? ''}`);
    assert.equal(t.missing, []);
    assert.is(t.outOfOrder, -1, `in the sender's order (receiver: ${r.out.slice(-400)})`);
    assert.ok(t.repeated <= MAX_IN_FLIGHT, `${t.repeated} repeated`);
  } finally {
    await kill(r, 'SIGTERM').catch(() => {});
    await own.dispose();
  }
});

test.after(async () => { await server.dispose(); rmSync(dir, { recursive: true, force: true }); });
test.run();
