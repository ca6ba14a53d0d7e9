// Browser suite: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// loads tests/browser/page.html from a localhost server twice: cross-origin isolated (COOP
// and COEP headers: the seed runs inline and on workers) and not isolated (inline runs; a
// worker kernel is refused, saying why); the isolated page also runs GPU kernels on
// Chromium's WebGPU (SwiftShader: no GPU needed). Ends with `N passed, M failed`.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { runDashboardChecks } from './dashboard.mjs';
import { runRemoteChecks } from './remote.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json', '.wgsl': 'text/plain' };

if (!existsSync(CHROMIUM)) {
  console.log(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  console.log('0 passed, 0 failed, 1 skipped');
  process.exit(0);
}

// /iso/... is served with the headers that make a page cross-origin isolated; /plain/... is not
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [, mode, ...rest] = url.pathname.split('/');
  const file = normalize(join(ROOT, ...rest));
  if ((mode !== 'iso' && mode !== 'plain') || !file.startsWith(ROOT)) { res.writeHead(404).end(); return; }
  try {
    const body = await readFile(file);
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' };
    if (mode === 'iso') Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.writeHead(200, headers).end(body);
  } catch { res.writeHead(404).end(); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

let passed = 0, failed = 0, skipped = 0;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (const mode of ['iso', 'plain']) {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${port}/${mode}/tests/browser/page.html`);
    let result;
    try {
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60_000 });
      result = await page.evaluate(() => window.__result);
    } catch (e) {
      result = { passed: 0, failed: 1, lines: [`FAIL the page did not finish: ${e.message}; ${errors.join('; ')}`] };
    }
    console.log(`-- Chromium ${browser.version()}, ${mode === 'iso' ? 'cross-origin isolated' : 'not isolated'}`);
    for (const l of result.lines) console.log(l);
    passed += result.passed;
    failed += result.failed;
    skipped += result.skipped ?? 0;
    await page.close();
  }
  console.log('-- the dashboard (tests/browser/dashboard.mjs)');
  await runDashboardChecks(browser, (name, ok, detail = '') => {
    if (ok) passed++; else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  }, `http://127.0.0.1:${port}/plain`);
  console.log('-- remote kernels over wsconnect (tests/browser/remote.mjs)');
  const remote = await runRemoteChecks(browser, (name, ok, detail = '') => {
    if (ok) passed++; else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  });
  if (remote.skipped) { skipped++; console.log(`skipped: ${remote.skipped}`); }
} finally {
  await browser.close();
  server.close();
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
