// The seed's examples (examples/*.ts) run as written and give the results the seed's prose
// describes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('simple pipeline: the mean of [1..5] normalized is 0.5', async () => {
  const { main } = await import('../examples/simple-pipeline.js');
  assert.is(await main(), 0.5);
});

test('parallel pipelines: round-robin spreads the stream evenly and every result is right', async () => {
  const { main } = await import('../examples/parallel-pipelines.js');
  const { results, perStage } = await main(30);
  assert.equal(perStage, [10, 10, 10]);
  // values [0, n, 2n + 1] normalize to [0, n / (2n + 1), 1]
  results.forEach((r, n) => assert.ok(Math.abs(r - (1 + n / (2 * n + 1)) / 3) < 1e-12, `result ${n}`));
});

test('coordinator: three stages in turn, and the stage that failed is reported', async () => {
  const { main } = await import('../examples/coordinator.js');
  assert.equal(await main([1, 2, -5]), [{ result: 17 }, { result: 27 }, { failedStage: 'stage1' }]);
});

test('fan-out / fan-in: every task reaches a worker once, batches of 10 and a flushed partial one', async () => {
  const { main } = await import('../examples/fan-out-fan-in.js');
  const batches = await main(25);
  assert.equal(batches.map((b) => b.count), [10, 10, 5]);
  let want = 0;
  for (let n = 1; n <= 25; n++) want += n * n;
  assert.is(batches.reduce((s, b) => s + b.sum, 0), want);
  assert.equal(batches[0]!.workers, ['worker_0', 'worker_1', 'worker_2']);
});

test('graceful stop: deactivate is a barrier, a drained stage handles its queue, its sender carries on', async () => {
  const { main } = await import('../examples/graceful-stop.js');
  assert.equal(await main(), { stored: 110, afterStop: [70], enrichSeenWhilePaused: 0, accounted: true });
});

test('DAG: A -> (B, C) -> D computes 2(x + 1) + (x + 1)^2', async () => {
  const { main } = await import('../examples/dag.js');
  assert.equal(await main([0, 1, 2, 3]), [3, 8, 15, 24]);
});

test('backpressure: BLOCK loses nothing, REJECT refuses, DROP_OLDEST drops and counts', async () => {
  const { main } = await import('../examples/backpressure.js');
  const r = await main(300);
  assert.equal(r.slow_block, { sent: 300, refused: 0, received: 300, dropped: 0, firstReceived: 0 });
  assert.ok(r.slow_reject!.refused > 0);
  assert.is(r.slow_reject!.refused + r.slow_reject!.received, 300);
  assert.ok(r.slow_drop!.dropped > 0);
  assert.is(r.slow_drop!.dropped + r.slow_drop!.received, 300);
  assert.is(r.slow_drop!.refused, 0);
});

test('resilient stage: a bad input becomes a dead letter and a failed StageResult; the stage restarts and stays up', async () => {
  const { main } = await import('../examples/resilient-stage.js');
  const { results, state, errors, restarts, deadLetters, log } = await main(['42', 'forty-two', '{"readings": [1.5, null], "ok": true}', '', '7']);
  assert.equal(results.map((r) => r.success), [true, false, true, false, true]);
  assert.equal(results.map((r) => r.data), [42, null, { readings: [1.5, null], ok: true }, null, 7]); // data: Any, as in the seed
  assert.match(results[1]!.error!, /not JSON: "forty-two"/);
  assert.match(results[3]!.error!, /not JSON: ""/);
  assert.equal(results.map((r) => r.error), [null, results[1]!.error, null, results[3]!.error, null]);
  assert.ok(results.every((r) => r.stage === 'resilient_stage'));
  assert.is(state, 'active');
  assert.equal([errors, restarts, deadLetters], [2, 2, 2]);
  assert.equal(log, ['resilient_stage: dead letter (not JSON: "forty-two")', 'resilient_stage: restart 1 after 10 ms',
    'resilient_stage: dead letter (not JSON: "")', 'resilient_stage: restart 2 after 20 ms']);
});

test('crash-safe stage: its worker thread dies under it; it starts again on a fresh thread with its total, and the lines sent meanwhile are counted', async () => {
  const { main } = await import('../examples/crash-safe-stage.js');
  const r = await main();
  assert.equal(r.totals, [4, 6, 9, 10]);       // 4 + 2 words, then (restored 6) + 3 + 1
  assert.equal(r.log, ["restart 1 after 50 ms: the worker thread running kernel 'word_counter' died: it exited with code 70"]);
  assert.equal([r.state, r.freshThread, r.processed, r.interrupted, r.restarts], ['active', true, 4, 1, 1]);
});

test('monitoring: per-stage telemetry after a stream', async () => {
  const { main } = await import('../examples/monitoring.js');
  const [pre, comp] = await main(500);
  for (const tm of [pre!, comp!]) {
    assert.is(tm.messagesProcessed, 500);
    assert.ok(tm.throughput > 0);
    assert.ok(tm.latencyP50Ms > 0 && tm.latencyP50Ms <= tm.latencyP99Ms);
    assert.is(tm.queueDepth, 0);
  }
});

test('observability: topology of the two stages, and /metrics scraped from the dashboard is runtime.metrics()', async () => {
  const { main } = await import('../examples/observability.js');
  const { topology, metrics, scraped, url } = await main(50);
  assert.equal(topology.edges, [{ from: 'preprocess', to: 'compute', mode: 'round-robin' }]);
  assert.equal(topology.kernels.map((k) => [k.id, k.state]), [['preprocess', 'active'], ['compute', 'active']]);
  assert.is(scraped, metrics);
  assert.match(metrics, /^ringkernel_messages_processed_total\{kernel="compute"\} 50$/m);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

test('GPU anomaly detection: z-scores over GPU-resident running statistics match the CPU, the spike is flagged', async () => {
  const { main } = await import('../examples/gpu-anomaly.js');
  const { adapter, maxDiff, flagged } = await main(40);
  assert.ok(adapter, 'a WebGPU adapter (llvmpipe in CI)');
  assert.ok(maxDiff < 1e-3, `GPU and CPU differ by ${maxDiff}`);
  assert.equal(flagged.map((f) => [f.round, f.stream]), [[30, 3]]);
});

test('GPU PageRank: 20 iterations with the ranks resident on the GPU match the CPU version', async () => {
  const { main } = await import('../examples/gpu-pagerank.js');
  const { maxDiff, top, cpuTop } = await main(20);
  assert.ok(maxDiff < 1e-5, `GPU and CPU ranks differ by ${maxDiff}`);
  assert.is(top, cpuTop);
});

test.run();
