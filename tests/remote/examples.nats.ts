// examples/remote-pipeline.ts runs as written: two processes over a real nats-server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startNatsServer } from '../helpers/nats-server.mjs';

test('remote pipeline example: two processes, the seed stages in the far one, results back over JetStream', async () => {
  const server = await startNatsServer();
  try {
    const { main } = await import('../../examples/remote-pipeline.js');
    const out = await main(server.url, [[1, 2, 3, 4, 5], [10, 0, 5], [2, 2, 4]]);
    assert.equal(out.map((x) => +x.toFixed(6)), [0.5, 0.5, +(1 / 3).toFixed(6)]);
  } finally { await server.dispose(); }
});

test.run();
