// The message types of tests/fixtures/golden.json (shared by the codec tests and the
// script that writes the fixture). Keep them in sync with assembly/__tests__/codec.spec.ts.
import { message } from '../../js/message/message.js';
import { t } from '../../js/message/schema.js';

export const Scalars = message('GScalars', { a: t.f64, b: t.f32, c: t.i32, d: t.u32, e: t.bool });
export const Texts = message('GTexts', { s: t.string, b: t.bytes, o: t.optional(t.i32), n: t.optional(t.string) });
export const Arrays = message('GArrays', {
  v: t.array(t.f64), fx: t.array(t.f32, 3), ta: t.f32array, tb: t.f64array, flags: t.array(t.bool),
});
export const Point = message('GPoint', { x: t.f32, y: t.f32 });
export const Path = message('GPath', {
  name: t.string, points: t.list(Point), origin: t.message(Point), tag: t.optional(t.message(Point)),
});
export const goldenClasses = [Scalars, Texts, Arrays, Point, Path];

const ID = '00112233-4455-6677-8899-aabbccddeeff';
const CORR = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

/** name, class, constructor argument, timestamp */
export const goldenMessages = () => [
  { name: 'scalars', cls: Scalars, timestamp: 1700000000000.5,
    msg: new Scalars({ a: 1.5, b: -2.25, c: -7, d: 4000000000, e: true, messageId: ID, correlationId: CORR, priority: 200 }) },
  { name: 'texts', cls: Texts, timestamp: 0,
    msg: new Texts({ s: 'h\u00e9llo \u2192 \u{1F600}', b: new Uint8Array([0, 1, 2, 255]), o: 42, n: null, messageId: ID, priority: 0 }) },
  { name: 'arrays', cls: Arrays, timestamp: 1,
    msg: new Arrays({ v: [1, -0.5], fx: [1, 2, 3], ta: [0.5], tb: [], flags: [true, false], messageId: ID, priority: 255 }) },
  { name: 'nested', cls: Path, timestamp: 2.25,
    msg: new Path({ name: 'p', points: [{ x: 1, y: 2 }, new Point({ x: -1, y: 0.5 })], origin: { x: 0, y: 0 }, tag: null, messageId: ID, correlationId: CORR }) },
];
