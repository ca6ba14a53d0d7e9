// nats-server.mjs — starts a real nats-server for one test file or benchmark: JetStream on,
// a temporary store, a free port on 127.0.0.1 only, stopped by its PID. Debian's package
// (apt-get install nats-server) puts it at /usr/sbin/nats-server.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The nats-server binary, or null (with why in natsServerMissing()). */
export function natsServerBinary() {
  for (const p of [process.env.NATS_SERVER, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'])
    if (p && existsSync(p)) return p;
  return null;
}

export const natsServerMissing = () => (natsServerBinary() ? null : 'no nats-server binary (apt-get install nats-server, or set NATS_SERVER)');

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const c = connect({ port, host: '127.0.0.1' });
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/**
 * Starts nats-server with JetStream. `args` adds flags (e.g. ['--user', 'u', '--pass', 'p']).
 * Returns { url, port, storeDir, pid, stop(), restart() }: stop() ends it by PID with SIGTERM
 * (its clean stop: JetStream flushes the store), restart() starts it again on the same port
 * and store.
 */
export async function startNatsServer({ args = [], port, storeDir } = {}) {
  const bin = natsServerBinary();
  if (!bin) throw new Error(natsServerMissing());
  port ??= await freePort();
  storeDir ??= mkdtempSync(join(tmpdir(), 'rk-nats-'));
  const server = { port, storeDir, url: `nats://127.0.0.1:${port}`, pid: 0, child: null, log: '' };
  server.start = async () => {
    const child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    server.child = child;
    server.pid = child.pid;
    child.stdout.on('data', (d) => { server.log += d; });
    child.stderr.on('data', (d) => { server.log += d; });
    const exited = new Promise((r) => child.once('exit', r));
    server.exited = exited;
    for (let i = 0; i < 200; i++) {
      if (/Server is ready/.test(server.log) && await portOpen(port)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    process.kill(child.pid, 'SIGKILL');
    throw new Error(`nats-server did not start on 127.0.0.1:${port}:\n${server.log.slice(-2000)}`);
  };
  /** Stops it by PID: SIGTERM (clean), SIGKILL after 5 s. */
  server.stop = async ({ hard = false } = {}) => {
    const child = server.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    await server.exited;
    clearTimeout(timer);
  };
  server.restart = async () => { await server.stop(); await server.start(); };
  /** Stops it and removes its store. */
  server.dispose = async () => { await server.stop(); rmSync(storeDir, { recursive: true, force: true }); };
  await server.start();
  return server;
}
