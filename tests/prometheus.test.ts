// A real Prometheus (Debian's `prometheus` package; .ci/run installs it) scrapes the
// dashboard's /metrics with the scrape config of docs/observability.md, and what it stored
// agrees with getTelemetry: every metric of every kernel, the latency summary per kernel and
// quantile included (which the npm parser of tests/metrics.test.ts cannot group by kernel),
// and the types and help Prometheus read. Prometheus listens on 127.0.0.1, keeps its data in
// a temporary folder and is stopped by its PID.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RingKernelRuntime, ringKernel, message, t, BackpressureStrategy } from 'ringkernel';
import { serveDashboard } from 'ringkernel/dashboard';

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const found = spawnSync(PROMETHEUS, ['--version'], { encoding: 'utf8' });
const haveProm = found.status === 0;
console.log(haveProm ? `Prometheus: ${found.stdout.split('\n')[0] || found.stderr.split('\n')[0]}` : `no Prometheus at ${PROMETHEUS} (apt-get install prometheus): its test is skipped`);

const PmNum = message('PmNum', { n: t.f64 });
ringKernel({ kernelId: 'pm_echo', input: PmNum, output: PmNum }, async (ctx) => { for await (const m of ctx) await ctx.send(m); });
ringKernel({ kernelId: 'pm_drop', input: PmNum, output: PmNum, queueSize: 4, backpressure: BackpressureStrategy.DROP_OLDEST },
  async (ctx) => { while (!ctx.shouldTerminate) await new Promise((r) => setTimeout(r, 5)); });

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});

interface Series { metric: Record<string, string>; value: [number, string] }
async function query(base: string, q: string): Promise<Series[]> {
  const r = await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`)).json() as { status: string; data: { result: Series[] } };
  assert.is(r.status, 'success', q);
  return r.data.result;
}

const FIELDS: Record<string, string> = {
  ringkernel_messages_processed_total: 'messagesProcessed', ringkernel_messages_dropped_total: 'messagesDropped',
  ringkernel_messages_discarded_total: 'messagesDiscarded', ringkernel_output_discarded_total: 'outputDiscarded',
  ringkernel_messages_rejected_total: 'messagesRejected', ringkernel_errors_total: 'errorCount',
  ringkernel_queue_depth: 'queueDepth', ringkernel_queue_high_water: 'queueHighWater', ringkernel_queue_capacity: 'queueCapacity',
};

(haveProm ? test : test.skip)('Prometheus scrapes /metrics: every series agrees with getTelemetry, summary per kernel and quantile', async () => {
  const rt = new RingKernelRuntime();
  const dir = mkdtempSync(join(tmpdir(), 'ringkernel-prometheus-'));
  let prom: ChildProcess | null = null;
  let log = '';
  const dash = await serveDashboard(rt, { port: 0 });
  try {
    for (const id of ['ingest', 'score']) await rt.launch(id, 'pm_echo');
    await rt.launch('sampler', 'pm_drop');
    rt.connect('ingest', 'score');
    for (const id of rt.kernelIds()) await rt.activate(id);
    for (let i = 0; i < 40; i++) { await rt.send('ingest', new PmNum({ n: i })); await rt.receive('score', { timeout: 2000 }); }
    for (let i = 0; i < 9; i++) await rt.send('sampler', new PmNum({ n: i }));

    // the scrape config of docs/observability.md, with this dashboard's port and a 1 s interval
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ringkernel\n    static_configs:\n      - targets: ['127.0.0.1:${dash.port}']\n`);
    const port = await freePort();
    prom = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (d) => { log += d; });
    prom.stderr!.on('data', (d) => { log += d; });
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    let series: Series[] = [];
    while (Date.now() < deadline) {
      series = await query(base, 'ringkernel_messages_processed_total').catch(() => []);
      if (series.length === 3) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.is(series.length, 3, `Prometheus stored the three kernels' series within a minute; its log: ${log}`);

    const targets = await (await fetch(`${base}/api/v1/targets`)).json() as { data: { activeTargets: Array<{ health: string; lastError: string; scrapeUrl: string }> } };
    const target = targets.data.activeTargets[0]!;
    assert.is(target.health, 'up', target.lastError);
    assert.is(target.scrapeUrl, `${dash.url}metrics`);

    for (const [name, field] of Object.entries(FIELDS)) {
      const got = await query(base, name);
      assert.equal(got.map((s) => s.metric.kernel).sort(), ['ingest', 'sampler', 'score'], name);
      for (const s of got) {
        assert.equal(Object.keys(s.metric).sort(), ['__name__', 'instance', 'job', 'kernel'], `${name}: one kernel label`);
        assert.is(Number(s.value[1]), (rt.getTelemetry(s.metric.kernel!) as unknown as Record<string, number>)[field], `${name}{kernel="${s.metric.kernel}"}`);
      }
    }
    const latency = await query(base, 'ringkernel_latency_seconds');
    assert.is(latency.length, 9, 'three quantiles for each of three kernels');
    const ms: Record<string, string> = { '0.5': 'latencyP50Ms', '0.95': 'latencyP95Ms', '0.99': 'latencyP99Ms' };
    for (const s of latency) {
      const tm = rt.getTelemetry(s.metric.kernel!) as unknown as Record<string, number>;
      assert.is(Number(s.value[1]), tm[ms[s.metric.quantile!]!]! / 1000, `latency ${s.metric.kernel} ${s.metric.quantile}`);
    }
    assert.ok(Number((await query(base, 'ringkernel_latency_seconds{kernel="score",quantile="0.99"}'))[0]!.value[1]) > 0);
    assert.is(Number((await query(base, 'ringkernel_messages_dropped_total{kernel="sampler"}'))[0]!.value[1]), 5);

    // what Prometheus read from # TYPE and # HELP
    const meta = await (await fetch(`${base}/api/v1/metadata`)).json() as { data: Record<string, Array<{ type: string; help: string }>> };
    assert.is(meta.data.ringkernel_messages_processed_total?.[0]?.type, 'counter');
    assert.is(meta.data.ringkernel_queue_depth?.[0]?.type, 'gauge');
    assert.is(meta.data.ringkernel_latency_seconds?.[0]?.type, 'summary');
    assert.match(meta.data.ringkernel_errors_total?.[0]?.help ?? '', /Errors thrown by the kernel function/);
  } finally {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      process.kill(prom.pid!, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (prom.exitCode === null && prom.signalCode === null) process.kill(prom.pid!, 'SIGKILL');
    }
    await dash.close();
    await rt.shutdown({ timeout: 1000 });
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
