// Any sequence of pushes and pops behaves like a simple model queue: four priority bands,
// FIFO in each, a message-count limit over all bands and a byte limit per band.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createCore, Status, Strategy } from '../js/core/core.js';
import { Ring } from '../js/core/ring.js';

const MAX_RECORD = 96;
// Two shapes: 8 slots a band are used in order; 32 (four cache lines of slots) are
// interleaved across lines (slotAt in assembly/ring.ts), and 150 commands wrap them twice.
const SHAPES = [{ capacity: 8, bandBytes: 256 }, { capacity: 32, bandBytes: 1024 }];

const bandOf = (p: number) => (p >= 224 ? 0 : p >= 160 ? 1 : p >= 64 ? 2 : 3);
const align8 = (n: number) => (n + 7) & ~7;

class ModelQueue {
  bands: Uint8Array[][] = [[], [], [], []];
  rejected = 0;
  dropped = 0;
  constructor(readonly strategy: Strategy, readonly capacity: number, readonly bandBytes: number) {}
  get depth() { return this.bands.reduce((n, b) => n + b.length, 0); }
  bytes(b: number) { return this.bands[b]!.reduce((n, r) => n + align8(r.length), 0); }
  push(rec: Uint8Array, priority: number): Status {
    if (rec.length > MAX_RECORD) return Status.TOO_LARGE;
    const b = bandOf(priority);
    for (;;) {
      const countFull = this.depth >= this.capacity;
      const bytesFull = !countFull && this.bytes(b) + align8(rec.length) > this.bandBytes;
      if (!countFull && !bytesFull) { this.bands[b]!.push(rec); return Status.OK; }
      if (this.strategy === Strategy.REJECT) { this.rejected++; return Status.FULL; }
      if (this.strategy === Strategy.BLOCK) return Status.FULL;
      const from = bytesFull ? b : [3, 2, 1, 0].find((i) => this.bands[i]!.length > 0)!;
      this.bands[from]!.shift();
      this.dropped++;
    }
  }
  pop(): Uint8Array | null {
    for (const band of this.bands) if (band.length) return band.shift()!;
    return null;
  }
}

type Cmd = { op: 'push'; len: number; priority: number; fill: number } | { op: 'pop' } | { op: 'batch'; max: number };
// pushes outnumber pops so the queue fills up and every limit is reached often
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('push' as const),
    len: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: MAX_RECORD + 8 })),
    priority: fc.oneof(fc.constantFrom(0, 63, 64, 128, 159, 160, 223, 224, 255), fc.integer({ min: 0, max: 255 })),
    fill: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('pop' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('batch' as const), max: fc.integer({ min: 1, max: 5 }) }) },
);

for (const { capacity, bandBytes } of SHAPES) for (const strategy of [Strategy.BLOCK, Strategy.REJECT, Strategy.DROP_OLDEST]) {
  test(`strategy ${['BLOCK', 'REJECT', 'DROP_OLDEST'][strategy]}, capacity ${capacity}: the queue matches the model`, async () => {
    const core = await createCore();
    await fc.assert(fc.asyncProperty(fc.array(cmd, { minLength: 10, maxLength: 150, size: 'max' }), async (cmds) => {
      const ring = Ring.create(core, { capacity, maxRecord: MAX_RECORD, bandBytes, strategy });
      const model = new ModelQueue(strategy, capacity, bandBytes);
      let counter = 0;
      try {
        for (const c of cmds) {
          if (c.op === 'push') {
            const rec = new Uint8Array(c.len).fill(c.fill);
            if (c.len >= 2) { rec[0] = counter & 0xff; rec[1] = (counter >> 8) & 0xff; }
            counter++;
            assert.is(ring.push(rec, c.priority), model.push(rec, c.priority));
          } else if (c.op === 'pop') {
            const got = ring.pop();
            const want = model.pop();
            assert.equal(got && [...got], want && [...want]);
          } else {
            const got = ring.popBatch(c.max).map((r) => [...r]);
            const want: number[][] = [];
            for (let i = 0; i < c.max; i++) { const r = model.pop(); if (!r) break; want.push([...r]); }
            assert.equal(got, want);
          }
          const s = ring.stats();
          assert.is(s.depth, model.depth);
          assert.is(s.rejected, model.rejected);
          assert.is(s.dropped, model.dropped);
        }
      } finally {
        core.free(ring.ptr);
      }
    }), { numRuns: 300 });
  });
}

test.run();
