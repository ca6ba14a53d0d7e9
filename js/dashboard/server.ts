// server.ts — serveDashboard(runtime, { port, host }): a read-only HTTP server over a runtime,
// on node:http (Node, Deno and Bun all have it). It binds 127.0.0.1 unless another host is
// asked for, answers GET and HEAD only (405 otherwise), and nothing it serves can change the
// runtime: it only calls topology(), getTelemetry() and metrics().
//   /         the page: HTML, its style and script inline (nothing from elsewhere; a CSP says so)
//   /events   server-sent events: a snapshot (snapshot.ts) every intervalMs
//   /snapshot the latest snapshot as JSON
//   /metrics  runtime.metrics(), the Prometheus text format
// A sampler runs while the server is open, so a page opened late still shows the last minute.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { RingKernelError } from '../errors.js';
import { PROMETHEUS_CONTENT_TYPE } from '../telemetry/metrics.js';
import { Sampler, checkInterval, isDashboardSource, type DashboardSource } from './snapshot.js';

/** The page's script (page.ts, bundled by build.mjs). Absent when this file runs from source. */
declare const __RINGKERNEL_DASHBOARD_PAGE__: string | undefined;
const PAGE_SCRIPT: string | null = typeof __RINGKERNEL_DASHBOARD_PAGE__ === 'string' ? __RINGKERNEL_DASHBOARD_PAGE__ : null;

export interface DashboardOptions {
  /** TCP port (default 0: any free port; dash.url says which). */
  port?: number;
  /** Address to bind (default '127.0.0.1'). Anything else exposes the page and /metrics beyond this machine. */
  host?: string;
  /** Milliseconds between updates (default 1000). */
  intervalMs?: number;
}

export interface DashboardServer {
  /** The page, e.g. http://127.0.0.1:43117/ (url + 'metrics' is the scrape endpoint). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Ends open event streams and stops listening. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i;

function page(nonce: string): string {
  return '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>ringkernel dashboard</title><link rel="icon" href="data:,"></head>' +
    `<body style="margin:0;background:#f7f8fa"><div id="app"></div><script nonce="${nonce}">${PAGE_SCRIPT!.replace(/<\/script/gi, '<\\/script')}</script></body></html>\n`;
}

function nonce(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export async function serveDashboard(runtime: DashboardSource, options: DashboardOptions = {}): Promise<DashboardServer> {
  if (!isDashboardSource(runtime)) throw new TypeError('serveDashboard: the first argument must be a RingKernelRuntime (topology, getTelemetry and metrics)');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`serveDashboard: port must be an integer from 0 to 65535, got ${String(port)}`);
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw new TypeError(`serveDashboard: host must be a non-empty string (an address to bind), got ${String(host)}`);
  const intervalMs = checkInterval(options.intervalMs, 'serveDashboard');
  const { createServer } = await import('node:http');

  const sampler = new Sampler(runtime, intervalMs);
  let latest = JSON.stringify(sampler.sample());
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  // bound to a loopback address, only requests naming a loopback host are answered: a page
  // elsewhere cannot read the dashboard through a DNS name that resolves to 127.0.0.1
  const checkHost = LOOPBACK.test(host);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
    const send = (status: number, type: string, body: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...headers, 'content-type': type, ...extra });
      res.end(method === 'HEAD' ? undefined : body);
    };
    if (checkHost) {
      const name = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      if (!LOOPBACK.test(name)) { send(403, 'text/plain; charset=utf-8', `this dashboard answers requests for localhost only, not for host ${JSON.stringify(req.headers.host ?? '')}\n`); return; }
    }
    if (method !== 'GET' && method !== 'HEAD') {
      send(405, 'text/plain; charset=utf-8', `${method} is not allowed: the dashboard is read-only (GET and HEAD)\n`, { allow: 'GET, HEAD' });
      return;
    }
    try {
      switch (url.pathname) {
        case '/': {
          if (PAGE_SCRIPT === null) { send(503, 'text/plain; charset=utf-8', 'the dashboard page is built by node build.mjs: serve it from the package (ringkernel/dashboard), not from js/ sources\n'); return; }
          const n = nonce();
          send(200, 'text/html; charset=utf-8', page(n), {
            'content-security-policy': `default-src 'none'; script-src 'nonce-${n}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
          });
          return;
        }
        case '/metrics': send(200, PROMETHEUS_CONTENT_TYPE, runtime.metrics()); return;
        case '/snapshot': send(200, 'application/json; charset=utf-8', latest); return;
        case '/events': {
          res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
          if (method === 'HEAD') { res.end(); return; }
          res.write(`retry: ${Math.max(1000, intervalMs)}\n\ndata: ${latest}\n\n`);
          streams.add(res);
          req.on('close', () => streams.delete(res));
          return;
        }
        default: send(404, 'text/plain; charset=utf-8', `not found: ${url.pathname} (the dashboard serves /, /events, /snapshot and /metrics)\n`);
      }
    } catch (e) {
      send(500, 'text/plain; charset=utf-8', `${e instanceof Error ? e.message : String(e)}\n`);
    }
  };

  const server: Server = createServer(handle);
  server.on('connection', (s: Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => reject(new RingKernelError(`serveDashboard: cannot listen on ${host}:${port}: ${e.message}`, { operation: 'serveDashboard', cause: e }));
    server.once('error', failed);
    server.listen(port, host, () => { server.off('error', failed); resolve(); });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;

  const timer = setInterval(() => {
    try { latest = JSON.stringify(sampler.sample()); } catch { return; /* the runtime is going away: keep the last */ }
    // a client that does not read skips snapshots instead of piling them up here
    for (const res of streams) if (res.writableLength < 1 << 20) res.write(`data: ${latest}\n\n`);
  }, intervalMs);
  (timer as { unref?: () => void }).unref?.();

  let closing: Promise<void> | null = null;
  const close = () => (closing ??= new Promise<void>((resolve) => {
    clearInterval(timer);
    for (const res of streams) res.end();
    streams.clear();
    server.close(() => resolve());
    // keep-alive connections would hold close() open; the page's own reconnects find nothing
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    for (const s of sockets) s.destroy();
  }));
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    host,
    port: bound,
    close,
    [Symbol.asyncDispose]: close,
  };
}
