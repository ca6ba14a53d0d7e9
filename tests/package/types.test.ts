// A user's TypeScript project type-checks against the installed package's declarations:
// strict, `skipLibCheck: false`, `lib: ["ES2022"]` (no DOM), and typed sends and receives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { files, repo, run } from './project.js';

const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const config = (types: string[]) => JSON.stringify({
  compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], strict: true, skipLibCheck: false, noEmit: true, types },
  include: ['*.ts'],
});

const user = `import { RingKernelRuntime, ringKernel, message, t, type MessageOf, type OutputOf } from 'ringkernel';
const RawData = message('RawData', { values: t.array(t.f64) });
type RawData = MessageOf<typeof RawData>;
const Result = message('Result', { result: t.f64 });
const compute = ringKernel({ kernelId: 'compute', input: RawData, output: Result }, async (ctx) => {
  for await (const raw of ctx) await ctx.send(new Result({ result: raw.values[0] ?? 0 }));
});
export async function run(rt: RingKernelRuntime, raw: RawData): Promise<number> {
  await rt.send(compute, raw);
  // @ts-expect-error: compute takes RawData, not Result
  await rt.send(compute, new Result({ result: 1 }));
  const r = await rt.receive(compute, { timeout: 1000 });
  // @ts-expect-error: a Result has no field 'values' (receive(def) is typed, not any)
  r.values;
  const many: OutputOf<typeof compute>[] = await rt.receiveMany(compute, { max: 8 });
  const untyped = await rt.receive('compute');   // by id: any, as before
  return r.result + many.length + (untyped.result as number);
}
`;

test('with @types/node, lib ES2022 and skipLibCheck false, a user file compiles with no errors; receive(def) returns the output type', () => {
  files({ 'types-node/tsconfig.json': config(['node']), 'types-node/main.ts': user });
  const r = run('node', [tsc, '-p', 'types-node/tsconfig.json']);
  assert.is(r.stdout, '', 'tsc reported errors');
  assert.is(r.status, 0);
});

test('a wrong send and a wrong field on receive(def) are type errors', () => {
  files({ 'types-wrong/tsconfig.json': config(['node']), 'types-wrong/main.ts': user.replaceAll('// @ts-expect-error', '// (expected error)') });
  const r = run('node', [tsc, '-p', 'types-wrong/tsconfig.json']);
  assert.is(r.status, 2);
  assert.match(r.stdout, /main\.ts\(11,\d+\): error TS\d+/); // compute takes RawData
  assert.match(r.stdout, /main\.ts\(14,\d+\): error TS2339: Property 'values' does not exist/);
});

test.run();
