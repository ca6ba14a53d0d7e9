// Message classes keep their hidden classes alive (js/message/shape.ts): when every message
// of a class has died and a full collection runs, V8 must not throw away the class's
// optimized decoder, constructor and field reader. Checked in a fresh process under
// --trace-deopt, with a plain JS class beside it whose code does get thrown away, so that
// the check cannot pass by the trace saying nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = `
import { message, t } from 'ringkernel';
const Reading = message('ShapeReading', { v: t.f64, n: t.i32, tag: t.string, xs: t.array(t.f32, 16) });
const bytes = Reading.encode(new Reading({ v: 0.5, n: 1, tag: 'x', xs: new Array(16).fill(0.25) }));
class Control {}
function control(i) { const o = new Control(); o.a = i + 0.5; o.b = 'x'; return o; }
function sumControl(os) { let s = 0; for (const o of os) s += o.a + o.b.length; return s; }
let decoded = 0;
for (let round = 0; round < 8; round++) {
  let keep = [], ctl = [];
  for (let i = 0; i < 50000; i++) { keep.push(Reading.decode(bytes)); ctl.push(control(i)); }
  decoded += keep.length + sumControl(ctl) * 0;
  keep = ctl = null;
  globalThis.gc();
}
console.log('decoded ' + decoded);
`;

test('decoding goes on in optimized code after all of a class\'s messages died and a full collection ran (no "weak objects" deopts)', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', '--trace-deopt', '--input-type=module', '-e', script],
    { cwd: root, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes('decoded 400000'), r.stdout.slice(-500));
  const weak = r.stdout.split('\n').filter((l) => l.includes('reason: weak objects'));
  const of = (name: string) => weak.filter((l) => l.includes(`<SharedFunctionInfo ${name}>`)).length;
  assert.ok(of('control') >= 4, `the control's code is thrown away after collections (${of('control')} times): the trace shows what it checks`);
  for (const name of ['ShapeReading', 'decodeRecord', 'decodeFrom', 'read', 'decode'])
    assert.is(of(name), 0, `${name} deoptimized for weak objects ${of(name)} times`);
});

test.run();
