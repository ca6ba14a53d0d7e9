// Remote kernels (ringkernel/nats) in whatever JavaScript runtime runs this file (Deno, Bun,
// Node): two runtimes through a real nats-server it starts (loopback, JetStream, temp store,
// stopped by PID), with @nats-io/transport-node. Ends with `N passed, M failed`, or
// `skipped: <why>` when there is no nats-server.
//   deno run --allow-read --allow-env --allow-net --allow-run --allow-write tests/runtimes/remote-check.mjs
import { startNatsServer, natsServerMissing } from '../helpers/nats-server.mjs';
import { RingKernelRuntime, ringKernel, message, t, QueueFullError, BackpressureStrategy } from 'ringkernel';
import { natsRemote } from 'ringkernel/nats';

const exit = (code) => (globalThis.Deno ? Deno.exit(code) : process.exit(code));
const runtimeName = globalThis.Deno ? `Deno ${Deno.version.deno}` : globalThis.Bun ? `Bun ${Bun.version}` : `Node ${process.version}`;
if (natsServerMissing()) { console.log(`skipped: ${natsServerMissing()}`); exit(0); }
let passed = 0, failed = 0;
const check = (name, ok, detail = '') => { if (ok) passed++; else failed++; console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`); };
const until = async (cond, ms = 10_000) => { for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10)); };

console.log(`ringkernel/nats on ${runtimeName}`);
const server = await startNatsServer();
try {
  const V = message('RuntimeRemoteV', { n: t.i32 });
  const got = [];
  ringKernel({ kernelId: 'rt_sink', input: V }, async (ctx) => { for await (const m of ctx) got.push(m.n); });
  ringKernel({ kernelId: 'rt_double', input: V, output: V }, async (ctx) => { for await (const m of ctx) await ctx.send(new V({ n: m.n * 2 })); });
  ringKernel({ kernelId: 'rt_full', input: V, queueSize: 2, backpressure: BackpressureStrategy.REJECT }, async (ctx) => { for await (const _ of ctx); });
  const remote = () => natsRemote({ servers: server.url, namespace: 'runtimes' });
  const a = new RingKernelRuntime({ remote: remote() });
  const b = new RingKernelRuntime({ remote: remote() });
  await a.launch('rt_sink'); await a.activate('rt_sink'); await a.expose('rt_sink');
  await a.launch('rt_full'); await a.expose('rt_full');
  await b.launch('rt_double'); await b.activate('rt_double'); await b.expose('rt_double');
  b.connect('rt_double', 'remote:rt_sink');
  await b.sendMany('remote:rt_sink', Array.from({ length: 100 }, (_, n) => new V({ n })));
  await until(() => got.length === 100);
  check('sendMany to remote:<id>: all arrive once, in order', got.length === 100 && got.every((n, i) => n === i), `${got.length}`);
  for (let i = 0; i < 10; i++) await a.send('remote:rt_double', new V({ n: 1000 + i }));
  await until(() => got.length === 110);
  check('an exposed kernel connected to remote:<id> answers across runtimes', got.slice(100).join() === Array.from({ length: 10 }, (_, i) => 2000 + 2 * i).join());
  await b.send('remote:rt_full', new V({ n: 1 })); await b.send('remote:rt_full', new V({ n: 2 }));
  const e = await b.send('remote:rt_full', new V({ n: 3 })).catch((x) => x);
  check('REJECT: a full remote mailbox throws QueueFullError', e instanceof QueueFullError, String(e?.message));
  await b.shutdown(); await a.shutdown();
} catch (e) {
  check('remote kernels ran', false, String(e?.stack ?? e));
} finally { await server.dispose(); }
console.log(`${passed} passed, ${failed} failed`);
exit(failed ? 1 : 0);
