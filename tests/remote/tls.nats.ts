// TLS to nats-server: a CA and a server certificate for 127.0.0.1 made here with the openssl
// CLI (.ci/run installs it), nats-server started with --tls, natsRemote given the CA through
// the NATS `tls` option. A wrong CA gives a clear RemoteError within the request timeout (not a
// hang) that carries no credential or key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RingKernelRuntime, ringKernel, message, t, RemoteError } from '../../js/index.js';
import { natsRemote } from '../../js/nats/index.js';
import { startNatsServer } from '../helpers/nats-server.mjs';

const openssl = (() => { try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (!openssl && process.env.CI) throw new Error('tls.nats.ts: no openssl CLI (apt-get install openssl); nothing may be skipped in CI');

const dir = mkdtempSync(join(tmpdir(), 'rk-tls-'));
const f = (name: string) => join(dir, name);
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A self-signed CA, and (with `server`) a server certificate for 127.0.0.1 it signs. */
function makeCa(name: string): void {
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '1', '-subj', `/CN=ringkernel test ${name}`);
}
function makeServerCert(ca: string): void {
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f(`${ca}.pem`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-out', f('server.pem'), '-days', '1', '-extfile', f('san.ext'));
}

const Num = message('TlsNum', { n: t.i32 });
const tlsTest = openssl ? test : test.skip;
if (!openssl) console.log('  skipped: no openssl CLI (apt-get install openssl)');

tlsTest('TLS: natsRemote with the server\'s CA (tls: { ca }) exposes and sends through a TLS-only nats-server', async () => {
  makeCa('ca'); makeServerCert('ca');
  const server = await startNatsServer({ args: ['--tls', '--tlscert', f('server.pem'), '--tlskey', f('server.key'), '--user', 'rk', '--pass', 'tls-PW-6021'] });
  const ca = readFileSync(f('ca.pem'), 'utf8');
  const opts = { servers: `tls://127.0.0.1:${server.port}`, namespace: 'tls', user: 'rk', pass: 'tls-PW-6021', requestTimeoutMs: 2000 };
  const got: number[] = [];
  ringKernel({ kernelId: 'tls_sink', input: Num }, async (ctx) => { for await (const m of ctx) got.push(m.n); });
  const a = new RingKernelRuntime({ remote: natsRemote({ ...opts, tls: { ca } }) });
  const b = new RingKernelRuntime({ remote: natsRemote({ ...opts, tls: { caFile: f('ca.pem') } }) });
  try {
    await a.launch('tls_sink'); await a.activate('tls_sink'); await a.expose('tls_sink');
    await b.sendMany('remote:tls_sink', Array.from({ length: 100 }, (_, n) => new Num({ n })));
    for (const end = Date.now() + 10_000; got.length < 100 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got, Array.from({ length: 100 }, (_, n) => n));

    // a CA that did not sign the server's certificate: refused, as a RemoteError, in time
    makeCa('other');
    const wrong = new RingKernelRuntime({ remote: natsRemote({ ...opts, tls: { ca: readFileSync(f('other.pem'), 'utf8') }, requestTimeoutMs: 1000, maxReconnectAttempts: 0 }) });
    const t0 = performance.now();
    const e = await wrong.send('remote:tls_sink', new Num({ n: 1 })).catch((x) => x);
    const took = performance.now() - t0;
    await wrong.shutdown({ timeout: 1000 });
    assert.instance(e, RemoteError);
    assert.ok(took < 5000, `gave up after ${took.toFixed(0)} ms`);
    assert.match(e.message, /certificate|TLS|self.signed|verify/i);
    const text = `${e.message} ${String(e.stack)}`;
    assert.not.match(text, /tls-PW-6021/);
    assert.not.match(text, /BEGIN|PRIVATE KEY/);

    // no TLS at all towards a server that requires it: a clear error too
    const plain = new RingKernelRuntime({ remote: natsRemote({ ...opts, servers: `nats://127.0.0.1:${server.port}`, requestTimeoutMs: 1000, maxReconnectAttempts: 0 }) });
    const e2 = await plain.send('remote:tls_sink', new Num({ n: 1 })).catch((x) => x);
    await plain.shutdown({ timeout: 1000 });
    assert.instance(e2, RemoteError);
    assert.not.match(`${e2.message} ${String(e2.stack)}`, /tls-PW-6021/);
    console.log(`  [tls] wrong CA: ${e.message.slice(0, 160)}; without TLS: ${e2.message.slice(0, 120)}`);
  } finally {
    await b.shutdown({ timeout: 2000 }); await a.shutdown({ timeout: 2000 });
    await server.dispose();
  }
});

test.after(() => { rmSync(dir, { recursive: true, force: true }); });
test.run();
