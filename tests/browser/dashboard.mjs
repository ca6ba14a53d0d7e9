// The dashboard in headless Chromium (part of the browser suite, tests/browser/run.mjs):
//  - the page serveDashboard serves, over a runtime in this process: it shows the kernels,
//    their edges and counts, updates by itself, logs no script error and fetches nothing
//    from elsewhere;
//  - 50 kernels stay readable (no two nodes overlap, labels large enough), screenshot taken
//    (DASHBOARD_SCREENSHOT=docs/dashboard.png keeps it);
//  - mountDashboard in a page of its own (dashboard-mount.html), over a runtime in that page.
import { RingKernelRuntime, ringKernel, message, t, BackpressureStrategy } from '../../dist/index.js';
import { serveDashboard } from '../../dist/dashboard.js';
import { RawData } from '../runtimes/seed-kernels.mjs';   // and its worker kernels preprocess_w, compute_w

const Num = message('BdNum', { n: t.f64 });
const stage = ringKernel({ kernelId: 'bd_stage', input: Num, output: Num }, async (ctx) => { for await (const m of ctx) await ctx.send(new Num({ n: m.n + 1 })); });
// consumes slowly and sends nothing: its input (a small DROP_OLDEST queue) fills and drops
// (25 ms a message: at 3 ms its queue drained below the 80% the page marks as high whenever
// the feeding loop below paused, and the check of it failed now and then)
const slowSink = ringKernel({ kernelId: 'bd_slow_sink', input: Num, output: Num, queueSize: 256, backpressure: BackpressureStrategy.DROP_OLDEST },
  async (ctx) => { for await (const _ of ctx) await sleep(25); });
const fragile = ringKernel({ kernelId: 'bd_fragile', input: Num, output: Num }, async (ctx) => {
  for await (const m of ctx) { if (m.n < 0) throw new RangeError('negative reading'); await ctx.send(m); }
});

const plain = (s) => s.replace(/,/g, '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Opens a page and records its script errors, console errors and requests. */
async function open(browser, url, viewport = { width: 1400, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  const problems = [];
  const requests = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  return { page, problems, requests };
}

/** The table as the page shows it (within `scope`, a selector): kernel -> { field: text }. */
const table = (page, scope = 'body') => page.evaluate((scope) => Object.fromEntries([...document.querySelectorAll(`${scope} tr[data-kernel]`)].map((tr) =>
  [tr.dataset.kernel, Object.fromEntries([...tr.querySelectorAll('td[data-field]')].map((td) => [td.dataset.field, td.textContent]))])), scope);

async function servedPage(browser, check) {
  const rt = new RingKernelRuntime();
  const dash = await serveDashboard(rt);
  try {
    for (const id of ['ingest', 'normalize', 'score']) await rt.launch(id, stage);
    await rt.launch('audit', fragile);
    rt.connect('ingest', 'normalize');
    rt.connect('normalize', ['score', 'audit'], { mode: 'broadcast' });
    for (const id of rt.kernelIds()) await rt.activate(id);
    const pass = async (n) => { for (let i = 0; i < n; i++) { await rt.send('ingest', new Num({ n: i })); await rt.receive('score', { timeout: 2000 }); } };
    await pass(30);
    const { page, problems, requests } = await open(browser, dash.url);
    try {
      await page.waitForSelector('tr[data-kernel="audit"]', { timeout: 10_000 });
      const nodes = await page.$$eval('g.rkd-node', (gs) => gs.map((g) => g.getAttribute('data-kernel')));
      check('the page draws each kernel as a node of the graph', JSON.stringify(nodes.sort()) === JSON.stringify(['audit', 'ingest', 'normalize', 'score']), nodes.join(', '));
      const edges = await page.$$eval('path.rkd-edge', (ps) => ps.map((p) => p.querySelector('title').textContent));
      check('and each connect as an edge, with its mode', edges.length === 3 && edges.includes('normalize → audit (broadcast)') && edges.includes('ingest → normalize (round-robin)'), edges.join('; '));
      await page.waitForFunction(() => document.querySelector('tr[data-kernel="score"] td[data-field="messagesProcessed"]')?.textContent === '30', null, { timeout: 5000 });
      let rows = await table(page);
      check('the table shows each kernel\'s counts as getTelemetry has them', ['ingest', 'normalize', 'score', 'audit'].every((id) =>
        Number(plain(rows[id].messagesProcessed)) === rt.getTelemetry(id).messagesProcessed && rows[id].state === 'active' && rows[id].placement === 'inline'),
        JSON.stringify(rows.score));
      check('queue depth against capacity', rows.ingest.queueDepth === '0 / 4,096', rows.ingest.queueDepth);
      check('p50 and p99 latency', /(µs|ms|s)$/.test(rows.score.latencyP50Ms) && /(µs|ms|s)$/.test(rows.score.latencyP99Ms), `${rows.score.latencyP50Ms} ${rows.score.latencyP99Ms}`);

      // it updates by itself: more messages, a failure, a paused kernel, and no reload
      await pass(70);
      await rt.send('audit', new Num({ n: -1 }));
      await rt.deactivate('score');
      await page.waitForFunction(() => {
        const row = (id) => document.querySelector(`tr[data-kernel="${id}"]`);
        return row('ingest')?.querySelector('td[data-field="messagesProcessed"]').textContent === '100'
          && row('audit')?.dataset.state === 'failed' && row('score')?.dataset.state === 'deactivated';
      }, null, { timeout: 6000 }).then(() => true, () => false);
      rows = await table(page);
      check('it updates by itself (server-sent events): counts grow, states change', rows.ingest.messagesProcessed === '100' && rows.audit.state === 'failed' && rows.score.state === 'deactivated',
        `ingest ${rows.ingest.messagesProcessed}, audit ${rows.audit.state}, score ${rows.score.state}`);
      check('errors are counted in the row', rows.audit.errorCount === '1', rows.audit.errorCount);
      const rate = await page.evaluate(() => document.querySelector('tr[data-kernel="ingest"] .rkd-spark span').textContent);
      check('throughput over the last minute is drawn, with the current rate', /\/s$/.test(rate), rate);
      const status = await page.textContent('.rkd-status');
      check('the header says it is live', /^live/.test(status), status);
      check('the page fetched nothing from elsewhere', requests.every((u) => u.startsWith(dash.url)), requests.filter((u) => !u.startsWith(dash.url)).join(', '));
      check('no script errors, no console errors or warnings', problems.length === 0, problems.join('; '));
      // the server goes away: the page says so (EventSource keeps retrying on its own)
      await dash.close();
      const gone = await page.waitForFunction(() => /^reconnecting/.test(document.querySelector('.rkd-status').textContent), null, { timeout: 5000 }).then(() => true, () => false);
      check('when the server goes away the page says it is reconnecting', gone, await page.textContent('.rkd-status'));
    } finally { await page.close(); }
  } finally { await dash.close(); await rt.shutdown({ timeout: 1000 }); }
}

async function fiftyKernels(browser, check) {
  // a pipeline of 50 with something of everything: a wide fan-out, a broadcast, a slow sink
  // whose DROP_OLDEST queue is full and dropping, a kernel that failed, two on worker
  // threads, one launched and never activated
  const rt = new RingKernelRuntime({ workers: 2 });
  const dash = await serveDashboard(rt, { intervalMs: 500 });
  let stop = false;
  try {
    const scores = Array.from({ length: 41 }, (_, i) => `score_${String(i).padStart(2, '0')}`);
    // (launch order is the table's order: the varied ones first, the 41 alike last)
    for (const id of ['ingest', 'parse', 'join', 'store']) await rt.launch(id, stage);
    await rt.launch('archive', slowSink);
    await rt.launch('audit', fragile);
    await rt.launch('preprocess_w');
    await rt.launch('compute_w');
    for (const id of ['spare', ...scores]) await rt.launch(id, stage);
    rt.connect('ingest', 'parse');
    rt.connect('parse', scores);
    for (const w of scores) rt.connect(w, 'join');
    rt.connect('join', ['store', 'archive'], { mode: 'broadcast' });
    rt.connect('audit', 'store');
    rt.connect('preprocess_w', 'compute_w');
    for (const id of rt.kernelIds()) if (id !== 'spare') await rt.activate(id);
    await rt.send('audit', new Num({ n: -1 }));
    const seconds = Number(process.env.DASHBOARD_SCREENSHOT_SECONDS ?? 4);
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        await rt.send('ingest', new Num({ n: i }));
        await rt.receive('store', { timeout: 2000 });
        if (i % 4 === 0) { await rt.send('preprocess_w', new RawData({ values: [i, i + 1, i + 5] })); await rt.receive('compute_w', { timeout: 5000 }); }
        // a load that rises and falls over ~40 s, so the minute's chart has a shape
        if (i % 20 === 0) await sleep(2 + 8 * (1 + Math.sin(Date.now() / 6000)));
      }
    })();
    const { page, problems } = await open(browser, dash.url, { width: 1440, height: 1100 });
    try {
      await page.waitForSelector('tr[data-kernel="spare"]', { timeout: 10_000 });
      await sleep(seconds * 1000);
      const layout = await page.evaluate(() => {
        const boxes = [...document.querySelectorAll('g.rkd-node')].map((g) => { const r = g.querySelector('rect.box').getBoundingClientRect(); return { id: g.dataset.kernel, x: r.x, y: r.y, w: r.width, h: r.height }; });
        const svg = document.querySelector('.rkd-graph svg');
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return { boxes, scale, rows: document.querySelectorAll('tr[data-kernel]').length, panel: document.querySelector('.rkd-graph').getBoundingClientRect().height };
      });
      const { boxes } = layout;
      let overlap = '';
      for (let i = 0; i < boxes.length && !overlap; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) { overlap = `${a.id} / ${b.id}`; break; }
      }
      check('50 kernels: 50 nodes, none overlapping another', boxes.length === 50 && !overlap, overlap || `${boxes.length} nodes`);
      check('50 kernels: node labels stay at 10 px or more on a 1440 px page, the graph under 700 px tall', layout.scale * 12 >= 10 && layout.panel < 700, `scale ${layout.scale.toFixed(2)}, graph ${Math.round(layout.panel)} px`);
      check('50 kernels: a row each in the table', layout.rows === 50, `${layout.rows} rows`);
      const rows = await table(page);
      const full = await page.$eval('tr[data-kernel="archive"] .rkd-queue', (q) => q.classList.contains('high'));
      check('a full DROP_OLDEST queue shows as nearly full, its drops counted', full && Number(plain(rows.archive.messagesDropped)) > 0 && Number(plain(rows.archive.messagesDropped)) <= rt.getTelemetry('archive').messagesDropped,
        `${rows.archive.queueDepth}, dropped ${rows.archive.messagesDropped}`);
      check('a failed kernel and worker placement are shown', rows.audit.state === 'failed' && rows.preprocess_w.placement === 'worker' && rows.compute_w.placement === 'worker',
        `audit ${rows.audit.state}, preprocess_w ${rows.preprocess_w.placement}`);
      const path = process.env.DASHBOARD_SCREENSHOT ?? `${process.env.TMPDIR ?? '/tmp'}/ringkernel-dashboard-${process.pid}.png`;
      const png = await page.screenshot({ path, fullPage: !!process.env.DASHBOARD_SCREENSHOT_FULL });
      check('50 kernels: a screenshot', png.length > 20_000, `${path}, ${png.length} bytes`);
      check('50 kernels: no script errors', problems.length === 0, problems.join('; '));
    } finally { await page.close(); }
    stop = true;
    await load;
  } finally { stop = true; await dash.close(); await rt.shutdown({ timeout: 1000 }); }
}

async function mounted(browser, check, pageUrl) {
  const { page, problems } = await open(browser, pageUrl);
  try {
    await page.waitForFunction(() => window.__mount !== undefined, null, { timeout: 20_000 });
    const result = await page.evaluate(() => window.__mount);
    if (result.failed) { check('mountDashboard page ran', false, result.failed); return; }
    check('mountDashboard refuses a non-runtime and a missing element with TypeError, naming itself',
      result.errors.length === 2 && result.errors.every((e) => /^TypeError: mountDashboard: /.test(e)), result.errors.join('; '));
    await page.waitForFunction(() => document.querySelector('#dash tr[data-kernel="store"] td[data-field="messagesProcessed"]')?.textContent === '40', null, { timeout: 5000 }).catch(() => {});
    const rows = await table(page, '#dash');
    const nodes = await page.$$eval('#dash g.rkd-node', (gs) => gs.length);
    check('mountDashboard draws the page\'s own runtime: 3 nodes, a row each with its counts', nodes === 3 && ['parse', 'enrich', 'store'].every((id) => rows[id]?.messagesProcessed === '40'),
      `${nodes} nodes; ${JSON.stringify(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.messagesProcessed])))}`);
    await page.evaluate(() => window.__pass(10));
    const updated = await page.waitForFunction(() => document.querySelector('#dash tr[data-kernel="store"] td[data-field="messagesProcessed"]')?.textContent === '50', null, { timeout: 5000 }).then(() => true, () => false);
    check('and updates by itself', updated);
    const heads = async (sel) => page.$$eval(`${sel} th`, (ths) => ths.map((th) => th.textContent));
    const cell = (field) => page.$eval(`#later tr[data-kernel="enrich"] td[data-field="${field}"]`, (td) => td.textContent).catch(() => null);
    const [restarts, dead, interrupted] = [await cell('restarts'), await cell('deadLetters'), await cell('messagesInterrupted')];
    const later = await heads('#later');
    check('discarded, restarts, interrupted and dead letters have columns (the telemetry has them), with their counts',
      ['discarded', 'restarts', 'interrupted', 'dead letters'].every((h) => later.includes(h)) && restarts === '2' && dead === '3' && interrupted === '1',
      `columns: ${later.join(' ')}; enrich restarts ${restarts}, dead letters ${dead}, interrupted ${interrupted}`);
    await page.evaluate(() => window.__later.close());
    await page.evaluate(() => window.__dash.close());
    check('close() removes the view', (await page.$$('#dash .rkd')).length === 0 && (await page.$$('#later .rkd')).length === 0);
    check('mountDashboard page: no script errors', problems.length === 0, problems.join('; '));
  } finally { await page.close(); }
}

export async function runDashboardChecks(browser, check, staticBase) {
  try {
    await servedPage(browser, check);
    await fiftyKernels(browser, check);
    await mounted(browser, check, `${staticBase}/tests/browser/dashboard-mount.html`);
  } catch (e) {
    check('dashboard checks ran without an unexpected error', false, e?.stack ?? String(e));
  }
}
