// The core as the facade sees it: loading, regions, and the ring API over it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCore, Status, Strategy, QueueStat, KernelStat } from '../js/core/core.js';
import { StateCode, STATE_BY_CODE } from '../js/kernel/state.js';
import { Ring } from '../js/core/ring.js';
import { coreGlobals } from './helpers/core-globals.js';

test('the JS status, strategy and stat codes match the ones the core exports', async () => {
  const globals = await coreGlobals();
  const g = (name: string) => globals[name];
  assert.is(g('OK'), Status.OK);
  assert.is(g('EMPTY'), Status.EMPTY);
  assert.is(g('FULL'), Status.FULL);
  assert.is(g('TOO_LARGE'), Status.TOO_LARGE);
  assert.is(g('TIMEOUT'), Status.TIMEOUT);
  assert.is(g('CLOSED_ERR'), Status.CLOSED);
  assert.is(g('DST_TOO_SMALL'), Status.DST_TOO_SMALL);
  assert.is(g('BAD_ARGUMENT'), Status.BAD_ARGUMENT);
  assert.is(g('BLOCK'), Strategy.BLOCK);
  assert.is(g('REJECT'), Strategy.REJECT);
  assert.is(g('DROP_OLDEST'), Strategy.DROP_OLDEST);
  assert.is(g('STAT_DEPTH'), QueueStat.DEPTH);
  assert.is(g('STAT_DROPPED'), QueueStat.DROPPED);
  assert.is(g('STAT_CLOSED'), QueueStat.CLOSED);
});

test('the JS kernel state and kernel stat codes match the ones the core exports', async () => {
  const globals = await coreGlobals();
  const g = (name: string) => globals[name];
  const states: Array<[string, StateCode]> = [
    ['CREATED', StateCode.CREATED], ['LAUNCHED', StateCode.LAUNCHED], ['ACTIVE', StateCode.ACTIVE],
    ['DEACTIVATED', StateCode.DEACTIVATED], ['TERMINATING', StateCode.TERMINATING],
    ['TERMINATED', StateCode.TERMINATED], ['FAILED', StateCode.FAILED],
  ];
  for (const [name, code] of states) {
    assert.is(g(`STATE_${name}`), code, `STATE_${name}`);
    assert.is(STATE_BY_CODE[code], name.toLowerCase(), `the name of state ${code}`);
  }
  assert.is(STATE_BY_CODE.length, states.length);
  const stats: Array<[string, KernelStat]> = [
    ['PROCESSED', KernelStat.PROCESSED], ['ERRORS', KernelStat.ERRORS], ['STARTED', KernelStat.STARTED],
    ['BUSY', KernelStat.BUSY], ['INPUT', KernelStat.INPUT], ['OUTPUT', KernelStat.OUTPUT],
    ['THREAD', KernelStat.THREAD], ['ID', KernelStat.ID], ['FIRST', KernelStat.FIRST], ['LAST', KernelStat.LAST],
    ['DISCARDED', KernelStat.DISCARDED], ['OUT_DISCARDED', KernelStat.OUT_DISCARDED],
    ['RESTARTS', KernelStat.RESTARTS], ['DEAD_LETTERS', KernelStat.DEAD_LETTERS], ['DEAD_DROPPED', KernelStat.DEAD_LETTERS_DROPPED],
    ['INTERRUPTED', KernelStat.INTERRUPTED],
  ];
  for (const [name, code] of stats) assert.is(g(`KSTAT_${name}`), code, `KSTAT_${name}`);
});

for (const shared of [true, false]) {
  const label = shared ? 'shared memory' : 'ordinary memory';

  test(`${label}: push and pop copy bytes in FIFO order`, async () => {
    const core = await createCore({ shared });
    assert.is(core.shared, shared);
    const ring = Ring.create(core, { capacity: 8, maxRecord: 64, strategy: Strategy.BLOCK });
    assert.is(ring.push(Uint8Array.of(1, 2, 3)), Status.OK);
    assert.is(ring.push(Uint8Array.of(4)), Status.OK);
    const a = ring.pop()!;
    assert.equal([...a], [1, 2, 3]);
    a[0] = 99; // the caller owns its copy
    assert.equal([...ring.pop()!], [4]);
    assert.is(ring.pop(), null);
  });

  test(`${label}: priorities, batches, stats`, async () => {
    const core = await createCore({ shared });
    const ring = Ring.create(core, { capacity: 16, maxRecord: 64, strategy: Strategy.BLOCK });
    ring.push(Uint8Array.of(1), 10);
    ring.push(Uint8Array.of(2), 250);
    assert.is(ring.pushBatch([Uint8Array.of(3), Uint8Array.of(4, 4)], 128), 2);
    assert.equal(ring.popBatch(10).map((r) => [...r]), [[2], [3], [4, 4], [1]]);
    assert.equal(ring.stats(), { depth: 0, highWater: 4, enqueued: 4, dequeued: 4, rejected: 0, dropped: 0 });
  });

  test(`${label}: too large, full, closed`, async () => {
    const core = await createCore({ shared });
    const ring = Ring.create(core, { capacity: 2, maxRecord: 8, strategy: Strategy.REJECT });
    assert.is(ring.push(new Uint8Array(9)), Status.TOO_LARGE);
    assert.is(ring.pushBatch([new Uint8Array(9)]), Status.TOO_LARGE);
    ring.push(new Uint8Array(1)); ring.push(new Uint8Array(1));
    assert.is(ring.push(new Uint8Array(1)), Status.FULL);
    assert.is(ring.stats().rejected, 1);
    ring.close();
    assert.ok(ring.closed);
    assert.is(ring.push(new Uint8Array(1)), Status.CLOSED);
    assert.ok(ring.pop());
    assert.ok(ring.pop());
    assert.is(ring.pop(), null);
  });

  test(`${label}: pushAsync under BLOCK waits for room, then times out and counts it`, async () => {
    const core = await createCore({ shared });
    const ring = Ring.create(core, { capacity: 1, maxRecord: 8, strategy: Strategy.BLOCK });
    assert.is(await ring.pushAsync(Uint8Array.of(1), 128, 100), Status.OK);
    const waiting = ring.pushAsync(Uint8Array.of(2), 128, 2000);
    setTimeout(() => ring.pop(), 20);
    assert.is(await waiting, Status.OK);
    const t0 = performance.now();
    assert.is(await ring.pushAsync(Uint8Array.of(3), 128, 30), Status.TIMEOUT);
    assert.ok(performance.now() - t0 >= 25);
    assert.is(ring.stats().rejected, 1);
    assert.equal([...ring.pop()!], [2]);
  });

  test(`${label}: popAsync waits for a record, and returns null on timeout or close`, async () => {
    const core = await createCore({ shared });
    const ring = Ring.create(core, { capacity: 4, maxRecord: 8, strategy: Strategy.BLOCK });
    setTimeout(() => ring.push(Uint8Array.of(7)), 20);
    assert.equal([...(await ring.popAsync(2000))!], [7]);
    assert.is(await ring.popAsync(20), null);
    setTimeout(() => ring.close(), 20);
    const t0 = performance.now();
    assert.is(await ring.popAsync(5000), null);
    assert.ok(performance.now() - t0 < 1000);
  });
}

test('regions are 64-byte aligned, reused after free, and the memory grows on demand', async () => {
  const core = await createCore();
  const a = core.alloc(100);
  const b = core.alloc(10);
  assert.is(a % 64, 0);
  assert.is(b % 64, 0);
  assert.ok(b >= a + 100);
  core.free(a);
  assert.is(core.alloc(64), a);
  const before = core.memory.buffer.byteLength;
  const big = core.alloc(8 << 20);
  assert.ok(core.memory.buffer.byteLength > before);
  core.mem.fill(1, big, big + (8 << 20));
  assert.is(core.mem[big + (8 << 20) - 1], 1);
});

test('a queue shape the core cannot hold is refused with a clear error', async () => {
  const core = await createCore();
  assert.throws(() => Ring.create(core, { capacity: 4, maxRecord: 4096, bandBytes: 1024, strategy: Strategy.BLOCK }), /cannot lay out a queue/);
});

test.run();
