// Remote kernels in headless Chromium (part of the browser suite, tests/browser/run.mjs): a
// page connects to a real nats-server over its WebSocket listener with `wsconnect` from
// @nats-io/nats-core, passed to natsRemote({ connect }), as docs/remote.md says browsers do.
// The page runs ringkernel's browser build (dist/index.js, dist/nats.js as they are); the NATS
// client packages, which npm ships as CommonJS, are bundled for the browser with esbuild (what
// a user's bundler does) and found through an import map. The page exposes a kernel that
// doubles what it gets and sends the results to a kernel this Node process exposes over TCP;
// the page also sends to it directly.
import { createServer } from 'node:http';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { RingKernelRuntime, ringKernel, message, t } from '../../dist/index.js';
import { natsRemote } from '../../dist/nats.js';
import { startNatsServer, freePort, natsServerMissing } from '../helpers/nats-server.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WsNum = message('WsNum', { n: t.i32, from: t.string });

const PAGE = (wsUrl) => `<!doctype html><meta charset="utf-8"><title>ringkernel/nats over wsconnect</title>
<script type="importmap">{ "imports": { "@nats-io/nats-core": "/nats-client.js", "@nats-io/jetstream": "/nats-client.js" } }</script>
<script type="module">
  import { RingKernelRuntime, ringKernel, message, t } from '/dist/index.js';
  import { natsRemote } from '/dist/nats.js';
  import { wsconnect } from '@nats-io/nats-core';
  const WsNum = message('WsNum', { n: t.i32, from: t.string });
  ringKernel({ kernelId: 'ws_double', input: WsNum, output: WsNum }, async (ctx) => {
    for await (const m of ctx) await ctx.send(new WsNum({ n: m.n * 2, from: 'page' }));
  });
  try {
    const rt = new RingKernelRuntime({ remote: natsRemote({ servers: ${JSON.stringify(wsUrl)}, namespace: 'ws', connect: wsconnect, requestTimeoutMs: 4000 }) });
    window.__rt = rt;
    await rt.launch('ws_double'); await rt.activate('ws_double'); await rt.expose('ws_double');
    rt.connect('ws_double', 'remote:ws_node_sink');
    window.__send = (n) => rt.sendMany('remote:ws_node_sink', Array.from({ length: n }, (_, i) => new WsNum({ n: 1000 + i, from: 'page-send' })));
    window.__ready = true;
  } catch (e) { window.__error = String(e && e.stack || e); }
</script>`;

export async function runRemoteChecks(browser, check) {
  const missing = natsServerMissing();
  if (missing) return { skipped: `remote kernels over wsconnect: ${missing}` };
  const dir = await mkdtemp(join(tmpdir(), 'rk-ws-'));
  const wsPort = await freePort();
  const conf = join(dir, 'ws.conf');
  await writeFile(conf, `websocket { host: "127.0.0.1", port: ${wsPort}, no_tls: true }\n`);
  const server = await startNatsServer({ args: ['-c', conf] });
  const bundled = await build({ stdin: { contents: "export { wsconnect } from '@nats-io/nats-core'; export { jetstream, jetstreamManager } from '@nats-io/jetstream';", resolveDir: ROOT },
    bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent' });
  const client = bundled.outputFiles[0].contents;
  const http = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE(`ws://127.0.0.1:${wsPort}`));
    if (path === '/nats-client.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(client);
    const file = normalize(join(ROOT, path));
    if (!path.startsWith('/dist/') || !file.startsWith(join(ROOT, 'dist'))) return res.writeHead(404).end();
    try { res.writeHead(200, { 'content-type': file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript' }).end(await readFile(file)); } catch { res.writeHead(404).end(); }
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const got = [];
  ringKernel({ kernelId: 'ws_node_sink', input: WsNum }, async (ctx) => { for await (const m of ctx) got.push({ n: m.n, from: m.from }); });
  const node = new RingKernelRuntime({ remote: natsRemote({ servers: server.url, namespace: 'ws', requestTimeoutMs: 4000 }) });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await node.launch('ws_node_sink'); await node.activate('ws_node_sink'); await node.expose('ws_node_sink');
    await page.goto(`http://127.0.0.1:${http.address().port}/`);
    await page.waitForFunction(() => window.__ready || window.__error, null, { timeout: 20_000 });
    const pageError = await page.evaluate(() => window.__error);
    check('a page connects with natsRemote({ connect: wsconnect }) over the server\'s WebSocket listener and exposes a kernel', !pageError, pageError ?? '');
    if (pageError) return {};
    await node.sendMany('remote:ws_double', Array.from({ length: 100 }, (_, n) => new WsNum({ n, from: 'node' })));
    await page.evaluate(() => window.__send(50));
    for (const end = Date.now() + 15_000; got.length < 150 && Date.now() < end;) await new Promise((r) => setTimeout(r, 20));
    const doubled = got.filter((g) => g.from === 'page').map((g) => g.n);
    const direct = got.filter((g) => g.from === 'page-send').map((g) => g.n);
    check('Node sends to the page\'s kernel (TCP → JetStream → WebSocket); its results come back in order through connect', JSON.stringify(doubled) === JSON.stringify(Array.from({ length: 100 }, (_, n) => n * 2)), `${doubled.length} of 100`);
    check('the page sends to a kernel this process exposes: in order, once each', JSON.stringify(direct) === JSON.stringify(Array.from({ length: 50 }, (_, i) => 1000 + i)), `${direct.length} of 50`);
    await page.evaluate(() => window.__rt.shutdown({ timeout: 2000 }));
    check('the page\'s runtime shuts down cleanly, with no script error', errors.length === 0, errors.join('; '));
    return {};
  } finally {
    await page.close();
    await node.shutdown({ timeout: 2000 });
    http.close();
    await server.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
