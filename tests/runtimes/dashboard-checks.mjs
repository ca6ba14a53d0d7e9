// serveDashboard in whatever runtime runs this file (Deno and Bun in the deno and bun suites;
// both run node:http): it listens on 127.0.0.1, serves /metrics as runtime.metrics() has it,
// the page, server-sent events, refuses a POST, and closes. `check(name, ok, detail)`
// records each result.
import { RingKernelRuntime, ringKernel, message, t } from '../../dist/index.js';
import { serveDashboard } from '../../dist/dashboard.js';

const Num = message('RtDashNum', { n: t.f64 });
const stage = ringKernel({ kernelId: 'rt_dash_stage', input: Num, output: Num }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });

export async function runDashboardChecks(check) {
  const rt = new RingKernelRuntime();
  let dash = null;
  try {
    await rt.launch('first', stage);
    await rt.launch('second', stage);
    rt.connect('first', 'second');
    await rt.activate('first');
    await rt.activate('second');
    for (let i = 0; i < 12; i++) { await rt.send('first', new Num({ n: i })); await rt.receive('second', { timeout: 2000 }); }
    dash = await serveDashboard(rt, { port: 0, intervalMs: 200 });
    check('serveDashboard listens on 127.0.0.1', /^http:\/\/127\.0\.0\.1:\d+\/$/.test(dash.url) && dash.port > 0, dash.url);
    const metrics = await fetch(`${dash.url}metrics`);
    const text = await metrics.text();
    check('/metrics is runtime.metrics()', metrics.status === 200 && text === rt.metrics() && /ringkernel_messages_processed_total\{kernel="second"\} 12\n/.test(text), `${metrics.status}`);
    const page = await fetch(dash.url);
    const html = await page.text();
    check('/ is the page, its script inline', page.status === 200 && /^text\/html/.test(page.headers.get('content-type')) && /<script nonce="[0-9a-f]{32}">/.test(html), `${page.status} ${html.length} bytes`);
    const post = await fetch(`${dash.url}metrics`, { method: 'POST', body: 'x' });
    await post.text();
    check('a POST is refused with 405', post.status === 405 && post.headers.get('allow') === 'GET, HEAD', `${post.status}`);
    const ac = new AbortController();
    const events = await fetch(`${dash.url}events`, { signal: ac.signal });
    const reader = events.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    while ((buffer.match(/^data: /gm) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
    }
    ac.abort();
    const snapshots = buffer.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    check('/events streams snapshots of the pipeline', snapshots.length >= 2 && snapshots[1].kernels.length === 2 && snapshots[1].edges[0]?.to === 'second',
      `${snapshots.length} events`);
    const t0 = Date.now();
    await dash.close();
    dash = null;
    check('close() returns promptly', Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
  } catch (e) {
    check('the dashboard serves without an unexpected error', false, e?.stack ?? String(e));
  } finally {
    if (dash) await dash.close();
    await rt.shutdown({ timeout: 1000 });
  }
}
