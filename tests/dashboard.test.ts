// serveDashboard from the built package by its name (ringkernel/dashboard over ringkernel, as users get
// it): where it listens, what it serves, that it is read-only, live events, closing. The
// page itself is checked in Chromium (tests/browser/dashboard.mjs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { createServer } from 'node:net';
import parsePrometheus from 'parse-prometheus-text-format';
import { RingKernelRuntime, ringKernel, message, t, RingKernelError } from 'ringkernel';
import { serveDashboard, type DashboardSnapshot } from 'ringkernel/dashboard';

const DbNum = message('DbNum', { n: t.f64 });
ringKernel({ kernelId: 'db_echo', input: DbNum, output: DbNum }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });

async function pipeline(): Promise<RingKernelRuntime> {
  const rt = new RingKernelRuntime();
  await rt.launch('db_a', 'db_echo');
  await rt.launch('db_b', 'db_echo');
  rt.connect('db_a', 'db_b');
  await rt.activate('db_a');
  await rt.activate('db_b');
  return rt;
}
async function pass(rt: RingKernelRuntime, n: number): Promise<void> {
  for (let i = 0; i < n; i++) { await rt.send('db_a', new DbNum({ n: i })); await rt.receive('db_b', { timeout: 2000 }); }
}

/** A raw HTTP request (any method, any Host header), resolved with status, headers and body. */
function http(url: string, options: { method?: string; host?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port, path: u.pathname, method: options.method ?? 'GET', headers: options.host ? { host: options.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The first `n` server-sent events of /events, parsed. */
async function events(url: string, n: number): Promise<DashboardSnapshot[]> {
  const ac = new AbortController();
  const res = await fetch(`${url}events`, { signal: ac.signal });
  assert.is(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const out: DashboardSnapshot[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) out.push(JSON.parse(data));
    }
  }
  ac.abort();
  return out;
}

test('binds 127.0.0.1 on a free port by default; url ends in / so url + "metrics" is the scrape endpoint', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt);
  try {
    assert.is(dash.host, '127.0.0.1');
    assert.ok(dash.port > 0);
    assert.is(dash.url, `http://127.0.0.1:${dash.port}/`);
    await pass(rt, 25);
    const res = await http(`${dash.url}metrics`);
    assert.is(res.status, 200);
    assert.is(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.is(res.body, rt.metrics());
    const processed = parsePrometheus(res.body).find((f) => f.name === 'ringkernel_messages_processed_total')!;
    assert.equal(processed.metrics.map((m) => [m.labels!.kernel, Number(m.value)]), [['db_a', 25], ['db_b', 25]]);
  } finally { await dash.close(); await rt.shutdown(); }
});

test('the page: HTML with its script and style inline, a CSP that allows nothing from elsewhere', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt);
  try {
    const res = await http(dash.url);
    assert.is(res.status, 200);
    assert.is(res.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    const nonce = /script-src 'nonce-([0-9a-f]{32})'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(res.body, new RegExp(`<script nonce="${nonce}">`));
    // nothing to fetch: no src= or href= but the empty data: icon, no http(s) URL outside the script's text
    assert.not.match(res.body, /\ssrc=/);
    assert.equal([...res.body.matchAll(/href="([^"]*)"/g)].map((m) => m[1]), ['data:,']);
    assert.ok(res.body.length > 5000, 'the view is in the page');
    // a fresh nonce per page
    assert.is.not(/nonce-([0-9a-f]+)/.exec(String((await http(dash.url)).headers['content-security-policy']))?.[1], nonce);
  } finally { await dash.close(); await rt.shutdown(); }
});

test('read-only: POST, PUT, DELETE, PATCH get 405 (Allow: GET, HEAD) and the runtime is unchanged; HEAD works', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt);
  try {
    await pass(rt, 3);
    const before = JSON.stringify([rt.topology(), rt.getTelemetry('db_a')!.messagesProcessed]);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      for (const path of ['', 'metrics', 'events', 'snapshot']) {
        const res = await http(dash.url + path, { method });
        assert.is(res.status, 405, `${method} /${path}`);
        assert.is(res.headers.allow, 'GET, HEAD');
        assert.match(res.body, /read-only/);
      }
    }
    assert.is(JSON.stringify([rt.topology(), rt.getTelemetry('db_a')!.messagesProcessed]), before);
    const head = await http(`${dash.url}metrics`, { method: 'HEAD' });
    assert.is(head.status, 200);
    assert.is(head.body, '');
    assert.is((await http(`${dash.url}nope`)).status, 404);
  } finally { await dash.close(); await rt.shutdown(); }
});

test('bound to loopback, a request naming another host (DNS rebinding) is refused with 403', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt);
  try {
    for (const host of ['evil.example', 'evil.example:80', `attacker.test:${dash.port}`]) {
      const res = await http(`${dash.url}metrics`, { host });
      assert.is(res.status, 403, host);
    }
    for (const host of [`localhost:${dash.port}`, `127.0.0.1:${dash.port}`, `[::1]:${dash.port}`]) assert.is((await http(`${dash.url}metrics`, { host })).status, 200, host);
  } finally { await dash.close(); await rt.shutdown(); }
});

test('server-sent events: a snapshot at once, then about once a second, with what changed', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt, { intervalMs: 200 });
  try {
    await pass(rt, 10);
    const sending = (async () => { for (let i = 0; i < 10; i++) { await pass(rt, 5); await new Promise((r) => setTimeout(r, 60)); } })();
    const t0 = Date.now();
    const got = await events(dash.url, 4);
    await sending;
    assert.is(got.length, 4);
    assert.ok(Date.now() - t0 < 8000, 'four events at 200 ms take well under 8 s');
    const first = got[0]!;
    assert.equal(first.kernels.map((k) => [k.id, k.placement]), [['db_a', 'inline'], ['db_b', 'inline']]);
    assert.equal(first.edges, [{ from: 'db_a', to: 'db_b', mode: 'round-robin' }]);
    assert.is(first.kernels[0]!.queueCapacity, 4096);
    assert.is(first.intervalMs, 200);
    const seen = got.map((s) => s.kernels[0]!.telemetry!.messagesProcessed);
    assert.ok(seen[3]! > seen[0]!, `processed grows between events: ${seen}`);
    assert.ok(got[3]!.kernels[0]!.rate.some((r) => r > 0), 'a throughput was measured');
    // /snapshot: the latest one
    const snap = JSON.parse((await http(`${dash.url}snapshot`)).body) as DashboardSnapshot;
    assert.ok(snap.at >= first.at);
  } finally { await dash.close(); await rt.shutdown(); }
});

test('the default interval is a second', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt);
  try {
    const t0 = Date.now();
    const got = await events(dash.url, 2);
    const took = Date.now() - t0;
    assert.is(got[0]!.intervalMs, 1000);
    assert.ok(took >= 500 && took < 4000, `${took} ms for the second event`);
  } finally { await dash.close(); await rt.shutdown(); }
});

test('close() ends open event streams and frees the port; closing twice is fine', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt);
  const res = await fetch(`${dash.url}events`);
  const reader = res.body!.getReader();
  await reader.read();
  const t0 = Date.now();
  await dash.close();
  await dash.close();
  assert.ok(Date.now() - t0 < 2000, 'close did not wait for the stream');
  let ended = false;
  try { for (;;) { const r = await reader.read(); if (r.done) { ended = true; break; } } } catch { ended = true; }
  assert.ok(ended, 'the stream ended');
  // the port is free again
  const again = await serveDashboard(rt, { port: dash.port });
  assert.is(again.port, dash.port);
  await again.close();
  await rt.shutdown();
});

test('bad options: TypeError / RangeError naming serveDashboard; a port in use: RingKernelError', async () => {
  const rt = await pipeline();
  try {
    const bad: Array<[unknown, unknown, RegExp, new (...a: any[]) => Error]> = [
      [{}, {}, /serveDashboard: the first argument must be a RingKernelRuntime/, TypeError],
      [rt, { port: -1 }, /serveDashboard: port must be an integer from 0 to 65535, got -1/, RangeError],
      [rt, { port: 1.5 }, /port must be an integer/, RangeError],
      [rt, { port: 70000 }, /port must be an integer/, RangeError],
      [rt, { host: '' }, /serveDashboard: host must be a non-empty string/, TypeError],
      [rt, { intervalMs: 5 }, /serveDashboard: intervalMs must be a number of milliseconds from 100 to 60000, got 5/, RangeError],
    ];
    for (const [runtime, options, message, cls] of bad) {
      const e = await serveDashboard(runtime as never, options as never).then(() => null, (x) => x);
      assert.instance(e, cls);
      assert.match(String(e.message), message);
    }
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const e = await serveDashboard(rt, { port }).then(() => null, (x) => x);
      assert.instance(e, RingKernelError);
      assert.is(e.operation, 'serveDashboard');
      assert.match(e.message, new RegExp(`serveDashboard: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally { taken.close(); }
  } finally { await rt.shutdown(); }
});

test('another host only when asked for: host "::1" gives a bracketed url', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt, { host: '::1' });
  try {
    assert.is(dash.url, `http://[::1]:${dash.port}/`);
    assert.is((await http(`${dash.url}metrics`)).status, 200);
  } finally { await dash.close(); await rt.shutdown(); }
});

test('a runtime shut down under the dashboard: the page still answers with the last numbers', async () => {
  const rt = await pipeline();
  const dash = await serveDashboard(rt, { intervalMs: 200 });
  try {
    await pass(rt, 4);
    await rt.shutdown();
    const res = await http(`${dash.url}metrics`);
    assert.is(res.status, 200);
    assert.match(res.body, /ringkernel_messages_processed_total\{kernel="db_a"\} 4/);
    // the first event is the latest sample (taken before the shutdown, maybe), the next one after it
    const [, snap] = await events(dash.url, 2);
    assert.equal(snap!.kernels.map((k) => k.state), ['terminated', 'terminated']);
  } finally { await dash.close(); }
});

test.run();
