// columns.ts — many messages of one class as typed arrays, one per field (message after
// message), sent and received through the same rings, as the same records, as sendMany and
// receiveMany: no message objects in between. The facade checks the arrays and copies each
// field's array into this thread's scratch area (one bulk copy a field), and the core turns
// columns into records and back in the ring's arena (assembly/columns.ts, one call per
// chunk: queue_push_columns, queue_pop_columns). Order, priorities, backpressure and
// telemetry are the ring's, as for messages; a column batch and single messages mix in one
// queue in order.
//
// Columns exist for fixed-size numeric fields: t.f32 t.f64 t.i32 t.u32 (one element a
// message) and t.array(T, n) of them (n elements a message).
import { OwnerCore, Status, Strategy, type Core } from '../core/core.js';
import type { Ring } from '../core/ring.js';
import type { Hub, Who } from '../core/hub.js';
import type { ReceiveOptions } from '../kernel/context.js';
import type { Message, MessageClass } from './message.js';
import { HEADER_BYTES } from './record.js';
import { epochNow, monotonicNow } from '../platform.js';
import type { FieldType } from './schema.js';
import { ColumnError, KernelStateError, MessageTooLargeError, MessageTypeError, QueueFullError } from '../errors.js';
import { messageClassById } from './message-registry.js';

/** A column: the typed array of one numeric field. */
export type ColumnArray = Float32Array | Float64Array | Int32Array | Uint32Array;
export type Columns = Record<string, ColumnArray>;

/** What receiveColumns returns: `count` messages, each field's values back to back. */
export interface ColumnBatch<F extends Columns = Columns> {
  count: number;
  fields: F;
}

export interface SendColumnsOptions {
  /** BLOCK: milliseconds to wait for room; QueueFullError after that. Default: no limit. */
  timeout?: number;
  /** 0..255, for every message of the batch (default 128). */
  priority?: number;
  /** The message class of the columns, for a kernel that declares none (else its own). */
  as?: MessageClass<any>;
}

export interface ColumnReceiveOptions extends ReceiveOptions {
  /** Most messages to take (default 65,536). */
  max?: number;
  /** The message class to read the records as, for a kernel that declares none (else its own). */
  as?: MessageClass<any>;
}

type ColumnCtor = { new (n: number): ColumnArray; new (b: ArrayBufferLike, at: number, n: number): ColumnArray; readonly BYTES_PER_ELEMENT: number; readonly name: string };
const CTORS: Record<string, ColumnCtor> = { f32: Float32Array, f64: Float64Array, i32: Int32Array, u32: Uint32Array };

interface ColumnField {
  readonly name: string;
  readonly Ctor: ColumnCtor;
  /** Elements a message (1, or n for t.array(T, n)). */
  readonly elements: number;
  /** Bytes a message. */
  readonly bytes: number;
  /** Where the field starts in the payload. */
  readonly offset: number;
}

/** How a message class lies in columns. */
export interface ColumnShape {
  readonly cls: MessageClass<any>;
  readonly recordLen: number;
  readonly fields: readonly ColumnField[];
  /** The fields' names. */
  readonly names: ReadonlySet<string>;
  /** Bytes of scratch one message takes in a chunk (its fields, and its timestamp). */
  readonly stride: number;
  /**
   * The owner's chunk chunkIn placed last, and its core's serial: found again without a
   * lookup while the same core asks (the serial, not the core: a shape lives as long as its
   * class, and must not keep a runtime's memory).
   */
  ownSerial: number;
  ownChunk: Chunk | null;
}

const shapes = new WeakMap<MessageClass<any>, ColumnShape | { field: string; why: string }>();

/** The class's column shape, or a ColumnError naming the field that has no column. */
export function columnShape(cls: MessageClass<any>, who: Who): ColumnShape {
  let s = shapes.get(cls);
  if (s === undefined) {
    s = shapeOf(cls);
    shapes.set(cls, s);
  }
  if ('why' in s) {
    throw new ColumnError(`${who.operation} on kernel '${who.kernelId}': ${cls.typeName}.${s.field} is ${s.why}; columns take only t.f32, t.f64, t.i32, t.u32 and fixed arrays of them (t.array(t.f32, n))`,
      { ...who, field: s.field });
  }
  return s;
}

function shapeOf(cls: MessageClass<any>): ColumnShape | { field: string; why: string } {
  const fields: ColumnField[] = [];
  let offset = 0;
  for (const [name, type] of Object.entries(cls.schema as Record<string, FieldType>)) {
    let Ctor = CTORS[type.kind], elements = 1;
    if (type.kind === 'array' && type.length !== undefined && type.element && CTORS[type.element.kind]) {
      Ctor = CTORS[type.element.kind];
      elements = type.length;
    }
    if (Ctor === undefined) {
      const why = type.kind === 'array' ? (type.length === undefined ? 'an array without a fixed length' : `a fixed array of ${type.element!.kind}`) : `a ${type.kind}`;
      return { field: name, why };
    }
    const bytes = elements * Ctor.BYTES_PER_ELEMENT;
    fields.push({ name, Ctor, elements, bytes, offset });
    offset += bytes;
  }
  if (fields.length === 0) return { field: '(none)', why: 'missing: the class has no fields, so a column batch cannot say how many messages it holds' };
  // each field's column starts 8-aligned in scratch; a message's timestamp takes 8 bytes
  return { cls, recordLen: HEADER_BYTES + offset, fields, names: new Set(fields.map((f) => f.name)), stride: fields.reduce((n, f) => n + f.bytes, 8),
    ownSerial: 0, ownChunk: null };
}

/** The start of a ColumnError's message: made only for an error (a batch of one costs a few µs). */
const where = (who: Who) => `${who.operation} to kernel '${who.kernelId}'`;

/**
 * Checks `columns` against the shape and returns how many messages they hold: every field
 * there and no other, each the typed array of its element type, lengths multiples of the
 * field's elements, all giving the same count. Throws ColumnError naming the field.
 */
export function columnCount(shape: ColumnShape, columns: unknown, who: Who): number {
  if (columns === null || typeof columns !== 'object')
    throw new ColumnError(`${where(who)}: expected an object of typed arrays, one per field of ${shape.cls.typeName}`, { ...who, field: undefined });
  const given = columns as Record<string, unknown>;
  for (const k in given) { // (no array of the keys made: a batch of one is a few hundred ns in all)
    if (!Object.prototype.hasOwnProperty.call(given, k)) continue;
    if (!shape.names.has(k))
      throw new ColumnError(`${where(who)}: ${shape.cls.typeName} has no field '${k}' (fields: ${shape.fields.map((f) => f.name).join(', ')})`, { ...who, field: k });
  }
  let count = -1, first = '';
  for (const f of shape.fields) {
    const a = given[f.name];
    if (a === undefined) throw new ColumnError(`${where(who)}: field '${f.name}' is missing (a ${f.Ctor.name} of ${f.elements} per message)`, { ...who, field: f.name });
    if (!(a instanceof f.Ctor)) {
      const got = ArrayBuffer.isView(a) || Array.isArray(a) ? (a as object).constructor.name : a === null ? 'null' : typeof a;
      throw new ColumnError(`${where(who)}: field '${f.name}' must be a ${f.Ctor.name}, got ${got}`, { ...who, field: f.name });
    }
    if (a.length % f.elements !== 0)
      throw new ColumnError(`${where(who)}: field '${f.name}' has ${a.length} elements, not a multiple of its ${f.elements} per message`, { ...who, field: f.name });
    const n = a.length / f.elements;
    if (count < 0) { count = n; first = f.name; }
    else if (n !== count)
      throw new ColumnError(`${where(who)}: field '${f.name}' holds ${n} messages and field '${first}' holds ${count}; the lengths disagree`, { ...who, field: f.name });
  }
  return count;
}

// ---- chunks in scratch ----
// A chunk's scratch: the column layout (assembly/columns.ts), then room for one record
// (one that wraps the arena is made there), then each field's column and the timestamps,
// each 8-aligned; on the owner's thread the layout and that record's room lie in a region of
// their own instead (chunkIn), and scratch holds the columns and timestamps only.

const align8 = (n: number) => (n + 7) & ~7;

/**
 * Byte offsets of a column layout's words (the layout is specified in assembly/columns.ts;
 * tests/columns.test.ts checks these against the core's COL_* globals).
 */
export const enum Col {
  TYPE = 0, RECORD_LEN = 4, TIMESTAMP = 8, SEED = 16, PRIORITY = 32, FIELD_COUNT = 36, TIMES = 40, TEMP = 44,
  BLOCKED = 48, BLOCKED_TYPE = 52, BLOCKED_LEN = 56, INDEX0 = 60, IDS = 64, PRIORITIES = 68,
  /** Where the field entries start, and the bytes of one. */
  FIELDS = 80, FIELD_BYTES = 16,
  /** In a field entry: its column's address, its bytes a message, its offset in the payload. */
  FIELD_COLUMN = 0, FIELD_SIZE = 4, FIELD_OFFSET = 8,
}

/** What a column layout (assembly/columns.ts) says, addresses in the core's memory. */
export interface LayoutSpec {
  typeId: number;
  recordLen: number;
  /** Per field: where its column is, its bytes a message, where it starts in the payload. */
  fields: readonly { column: number; bytes: number; offset: number }[];
  /** Room for one record (one that wraps the arena is made there). */
  temp: number;
  /** Pop: an f64 a message for its send time (0: none). */
  times: number;
  /** 16 bytes a message: pop: its message id; push: its correlation id (0: none). */
  ids: number;
  /** A u8 a message: its priority (0: one priority for all). */
  priorities: number;
}

/** Bytes a layout of `fields` fields takes. */
export const layoutBytes = (fields: number) => Col.FIELDS + Col.FIELD_BYTES * fields;

/** Writes a column layout at `at` (8-aligned). The push fields (time, seed, priority, index0) are set per push. */
export function writeLayout(core: Core, at: number, spec: LayoutSpec): void {
  const dv = core.dv;
  dv.setUint32(at + Col.TYPE, spec.typeId, true);
  dv.setUint32(at + Col.RECORD_LEN, spec.recordLen, true);
  dv.setUint32(at + Col.FIELD_COUNT, spec.fields.length, true);
  dv.setUint32(at + Col.TIMES, spec.times, true);
  dv.setUint32(at + Col.TEMP, spec.temp, true);
  dv.setUint32(at + Col.BLOCKED, 0, true);
  dv.setUint32(at + Col.IDS, spec.ids, true);
  dv.setUint32(at + Col.PRIORITIES, spec.priorities, true);
  spec.fields.forEach((f, i) => {
    const e = at + Col.FIELDS + i * Col.FIELD_BYTES;
    dv.setUint32(e + Col.FIELD_COLUMN, f.column, true);
    dv.setUint32(e + Col.FIELD_SIZE, f.bytes, true);
    dv.setUint32(e + Col.FIELD_OFFSET, f.offset, true);
    dv.setUint32(e + 12, 0, true);
  });
}

/** Sets a layout's push fields: the send time, the id seed (four words), the batch priority and index0. */
export function setPushFields(core: Core, at: number, sentAt: number, s0: number, s1: number, s2: number, s3: number, priority: number, index0: number): void {
  const dv = core.dv;
  dv.setFloat64(at + Col.TIMESTAMP, sentAt, true);
  dv.setUint32(at + Col.SEED, s0, true);
  dv.setUint32(at + Col.SEED + 4, s1, true);
  dv.setUint32(at + Col.SEED + 8, s2, true);
  dv.setUint32(at + Col.SEED + 12, s3, true);
  dv.setUint32(at + Col.PRIORITY, priority, true);
  dv.setUint32(at + Col.INDEX0, index0, true);
}

/** Where a chunk lies in a thread's scratch area: the layout, the columns, the send times. */
interface Chunk { scratch: number; scratchBytes: number; layout: number; max: number; columns: number[]; times: number; words?: Uint32Array }
const chunks = new WeakMap<ColumnShape, Chunk>();
/** The owner's thread: each core's chunks, their layouts in regions of their own. */
const ownChunks = new WeakMap<Core, Map<ColumnShape, Chunk>>();

/**
 * The places of a chunk of the shape: the layout at `layout` and room for one record at
 * `temp` (one that wraps the arena is made there), the columns and send times from `base`
 * to the end of scratch; the layout written.
 */
function placeChunk(core: Core, shape: ColumnShape, layout: number, temp: number, base: number): Chunk {
  // every column rounds up to 8 bytes, so leave that much per field
  const room = core.scratch + core.scratchBytes - base - 8 * (shape.fields.length + 1);
  const max = Math.max(0, Math.floor(room / shape.stride));
  const columns: number[] = [];
  let p = base;
  for (const f of shape.fields) { columns.push(p); p += align8(max * f.bytes); }
  writeLayout(core, layout, { typeId: shape.cls.typeId, recordLen: shape.recordLen, temp, times: p, ids: 0, priorities: 0,
    fields: shape.fields.map((f, i) => ({ column: columns[i]!, bytes: f.bytes, offset: f.offset })) });
  return { scratch: core.scratch, scratchBytes: core.scratchBytes, layout, max, columns, times: p };
}

/**
 * A chunk of up to `max` messages of the shape, in this thread's scratch, with its layout
 * written (the push fields apart). The places are worked out once per shape and scratch
 * area. On the owner's thread the layout lies in a region of its own, written once; on a
 * worker's, at the start of scratch, where other users of scratch overwrite it, so its words
 * are written again each time.
 */
function chunkIn(core: Core, shape: ColumnShape): Chunk {
  const last = shape.ownChunk;
  if (shape.ownSerial === core.serial && last!.scratch === core.scratch && last!.scratchBytes === core.scratchBytes) return last!;
  if (core instanceof OwnerCore) {
    let mine = ownChunks.get(core);
    if (mine === undefined) ownChunks.set(core, (mine = new Map()));
    let ch = mine.get(shape);
    if (ch === undefined || ch.scratch !== core.scratch || ch.scratchBytes !== core.scratchBytes) {
      const layout = ch?.layout ?? core.alloc(align8(layoutBytes(shape.fields.length)) + align8(shape.recordLen));
      ch = placeChunk(core, shape, layout, layout + align8(layoutBytes(shape.fields.length)), core.scratch);
      mine.set(shape, ch);
    }
    shape.ownSerial = core.serial;
    shape.ownChunk = ch;
    return ch;
  }
  let ch = chunks.get(shape);
  if (ch === undefined || ch.scratch !== core.scratch || ch.scratchBytes !== core.scratchBytes) {
    const layout = core.scratch;
    const temp = layout + align8(layoutBytes(shape.fields.length));
    ch = placeChunk(core, shape, layout, temp, temp + align8(shape.recordLen));
    chunks.set(shape, ch);
    ch.words = new Uint32Array(new Uint8Array(core.mem.buffer, layout, layoutBytes(shape.fields.length)).slice().buffer);
  } else {
    // the layout as written the first time (other users of scratch overwrite it)
    (memoryView(core, Uint32Array) as Uint32Array).set(ch.words!, ch.layout / 4);
  }
  return ch;
}

// Seeds come from a pool refilled 256 seeds at a time: a getRandomValues call costs
// microseconds, more than a small batch's whole push.
export const seedPool = new Uint32Array(1024);
let seedAt = seedPool.length;
/** A fresh random seed for a batch's message ids: its four words, in `seedPool` at the index returned (valid until the next call). */
export function nextSeed(): number {
  if (seedAt === seedPool.length) {
    const c = (globalThis as { crypto?: Crypto }).crypto;
    if (typeof c?.getRandomValues === 'function') c.getRandomValues(seedPool);
    else for (let i = 0; i < seedPool.length; i++) seedPool[i] = (Math.random() * 0x100000000) >>> 0;
    seedAt = 0;
  }
  seedAt += 4;
  return seedAt - 4;
}

function checkPriority(p: unknown, who: Who): number {
  if (p === undefined) return 128;
  if (typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 255) return p;
  throw new RangeError(`${who.operation} to kernel '${who.kernelId}': priority must be an integer 0..255, got ${String(p)}`);
}

/** How far a push has got: `done` of `count` messages in; `refused`: the core counted the last step's refusals (REJECT). */
interface Progress { count: number; done: number; refused: number; base: number }
/** Pushes what it can: DONE, Status.FULL (stopped short), or another status (nothing more goes). */
type Step = (p: Progress) => number;

/** One try at the messages of `p` not yet in the ring, from the columns laid out at `layout`: DONE, or why not all went in. */
function pushRest(hub: Hub, ring: Ring, layout: number, p: Progress): number {
  const k = p.count - p.done;
  const r = hub.core.x.queue_push_columns(ring.ptr, layout, p.done, k);
  const accepted = r > 0 ? r : 0;
  if (accepted > 0) hub.wake(ring);
  p.done += accepted;
  if (accepted < k) { p.refused = k - accepted; return accepted > 0 ? Status.FULL : r; }
  return DONE;
}

const RESOLVED: Promise<void> = Promise.resolve();
const DONE = 1;

/**
 * Runs `step` until the messages are in, as Hub.push does for one: under BLOCK waits for
 * room (up to `timeout`; `beforeWait` runs once, before the first wait), under REJECT the
 * first refusal ends the call with QueueFullError (`enqueued` says how many went in; the
 * rest count as rejected), as does a timeout.
 */
function pushWith(hub: Hub, ring: Ring, p: Progress, step: Step, beforeWait: (p: Progress) => void, who: Who, targetId: string,
  timeout: number | undefined, cancelled: (() => Error | null) | undefined): Promise<void> {
  return afterStep(step(p), hub, ring, p, step, beforeWait, who, targetId, timeout, cancelled);
}

/** What pushWith does once a step of `p` ended with `r`. */
function afterStep(r: number, hub: Hub, ring: Ring, p: Progress, step: Step, beforeWait: (p: Progress) => void, who: Who, targetId: string,
  timeout: number | undefined, cancelled: (() => Error | null) | undefined): Promise<void> {
  if (r === DONE) return RESOLVED;
  if (r === Status.FULL && ring.strategy === Strategy.BLOCK && timeout !== 0) {
    beforeWait(p);
    return pushWhenRoom(hub, ring, p, step, who, targetId, timeout, cancelled);
  }
  return Promise.reject(refusal(hub, ring, p, r, who, targetId, timeout));
}

/** The error for a push that stopped with status r; under REJECT (or BLOCK with timeout 0) the rest count as rejected. */
function refusal(hub: Hub, ring: Ring, p: Progress, r: number, who: Who, targetId: string, timeout: number | undefined): Error {
  if (r === Status.TOO_LARGE) return new RangeError(`${who.operation} to kernel '${targetId}': a message does not fit this thread's scratch area`);
  if (r !== Status.FULL) return pushError(r, ring, who, targetId, timeout);
  // the core counted the refusals of the last step under REJECT; the rest count here
  const rest = p.count - p.done - (ring.strategy === Strategy.REJECT ? p.refused : 0);
  if (rest > 0) hub.core.x.queue_add_rejected(ring.ptr, rest);
  const e = pushError(Status.FULL, ring, who, targetId, timeout) as QueueFullError & { enqueued: number };
  e.enqueued = p.base + p.done;
  return e;
}

/** BLOCK: pushes what is left as room appears, up to the timeout (as Hub.push waits for room). */
async function pushWhenRoom(hub: Hub, ring: Ring, p: Progress, step: Step, who: Who, targetId: string,
  timeout: number | undefined, cancelled: (() => Error | null) | undefined): Promise<void> {
  const x = hub.core.x;
  const deadline = timeout === undefined ? Infinity : monotonicNow() + timeout;
  for (;;) {
    const stop = cancelled?.();
    if (stop) throw stop;
    const seq = x.queue_space_enter(ring.ptr);
    try {
      const before = p.done;
      const r = step(p);
      if (r === DONE) return;
      if (r !== Status.FULL) throw refusal(hub, ring, p, r, who, targetId, timeout);
      if (p.done > before) continue; // some went in: room may be there for more at once
      if (deadline - monotonicNow() <= 0) { p.refused = 0; throw refusal(hub, ring, p, Status.FULL, who, targetId, timeout); }
      await hub.waitForSpace(ring, seq, deadline - monotonicNow());
    } finally {
      x.queue_space_leave(ring.ptr);
    }
  }
}

/**
 * Pushes `count` messages from checked columns (columnCount) into `ring`, in order, in
 * chunks that fit this thread's scratch: each field's share is copied there, then one core
 * call makes the records and pushes them. Under BLOCK a chunk that finds no room waits, with
 * a copy of what is left (the caller may reuse its arrays once this returns): on the owner's
 * thread in a region of the core's memory, from where it is pushed as it is (parkRest), else
 * in fresh arrays. Under REJECT the first refusal ends the call with QueueFullError
 * (`enqueued` says how many went in; the rest count as rejected). Errors name `who`.
 */
export function pushColumns(hub: Hub, ring: Ring, shape: ColumnShape, columns: Columns, count: number, who: Who, targetId: string,
  options: SendColumnsOptions | undefined, cancelled?: () => Error | null): Promise<void> {
  let priority: number;
  try { priority = checkPriority(options?.priority, who); } catch (e) { return Promise.reject(e); }
  if (shape.recordLen > ring.maxRecord) {
    return Promise.reject(new MessageTooLargeError(
      `${who.operation} to kernel '${targetId}': a ${shape.cls.typeName} record is ${shape.recordLen} bytes, over the queue's maxMessageSize of ${ring.maxRecord}; nothing was enqueued`,
      { ...who, size: shape.recordLen, limit: ring.maxRecord }));
  }
  if (count === 0) return RESOLVED;
  const sentAt = epochNow(), fields = shape.fields, c = hub.core, x = c.x;
  const at = nextSeed(), s0 = seedPool[at]!, s1 = seedPool[at + 1]!, s2 = seedPool[at + 2]!, s3 = seedPool[at + 3]!;
  // the common case first, with nothing made for the others: the batch fits one chunk of
  // scratch and the ring has room (a batch of one cost 1.2 us here, against 0.9 for sendMany)
  const first = chunkIn(c, shape);
  if (count <= first.max) {
    for (let f = 0; f < fields.length; f++) {
      const fd = fields[f]!;
      memoryView(c, fd.Ctor).set(columns[fd.name]!, first.columns[f]! / fd.Ctor.BYTES_PER_ELEMENT);
    }
    setPushFields(c, first.layout, sentAt, s0, s1, s2, s3, priority, 0);
    const r = x.queue_push_columns(ring.ptr, first.layout, 0, count);
    const accepted = r > 0 ? r : 0;
    if (accepted > 0) hub.wake(ring);
    if (accepted === count) return RESOLVED;
    const p: Progress = { count, done: accepted, refused: count - accepted, base: 0 };
    return pushColumnsRest(hub, ring, shape, columns, p, accepted > 0 ? Status.FULL : r, who, targetId, options, cancelled, priority, sentAt, at);
  }
  return pushColumnsRest(hub, ring, shape, columns, { count, done: 0, refused: 0, base: 0 }, 0, who, targetId, options, cancelled, priority, sentAt, at);
}

/**
 * pushColumns from `p` on, chunk by chunk: `r` is how its first try ended (DONE, Status.FULL
 * or a refusal) when pushColumns made one, else 0 (none yet). `seed`: the batch's id seed in
 * seedPool.
 */
function pushColumnsRest(hub: Hub, ring: Ring, shape: ColumnShape, columns: Columns, p: Progress, r: number, who: Who, targetId: string,
  options: SendColumnsOptions | undefined, cancelled: (() => Error | null) | undefined, priority: number, sentAt: number, seed: number): Promise<void> {
  let arrays = shape.fields.map((f) => columns[f.name]!);
  const fields = shape.fields, c = hub.core, x = c.x;
  const s0 = seedPool[seed]!, s1 = seedPool[seed + 1]!, s2 = seedPool[seed + 2]!, s3 = seedPool[seed + 3]!;
  let step: Step = (p) => {
    while (p.done < p.count) {
      const ch = chunkIn(c, shape);
      const k = Math.min(ch.max, p.count - p.done);
      if (k === 0) return Status.TOO_LARGE;
      for (let f = 0; f < fields.length; f++) {
        const a = arrays[f]!, fd = fields[f]!, view = memoryView(c, fd.Ctor), at = ch.columns[f]! / fd.Ctor.BYTES_PER_ELEMENT;
        // the whole array at once when it fits (no view to make), else this chunk's share
        if (p.done === 0 && k === p.count) view.set(a, at);
        else view.set(a.subarray(p.done * fd.elements, (p.done + k) * fd.elements), at);
      }
      setPushFields(c, ch.layout, sentAt, s0, s1, s2, s3, priority, p.base + p.done);
      const r = x.queue_push_columns(ring.ptr, ch.layout, 0, k);
      const accepted = r > 0 ? r : 0;
      if (accepted > 0) hub.wake(ring);
      p.done += accepted;
      if (accepted < k) { p.refused = k - accepted; return accepted > 0 ? Status.FULL : r; }
    }
    return DONE;
  };
  // before waiting: a copy of what is left, since the caller may reuse its arrays
  let parked = 0;
  const copyRest = (p: Progress) => {
    if (c instanceof OwnerCore) {
      parked = parkRest(c, shape, arrays, p.done, p.count);
      const layout = parked;
      step = (q) => {
        setPushFields(c, layout, sentAt, s0, s1, s2, s3, priority, q.base);
        return pushRest(hub, ring, layout, q);
      };
    } else arrays = arrays.map((a, f) => a.slice(p.done * fields[f]!.elements));
    p.base += p.done;
    p.count -= p.done;
    p.done = 0;
  };
  const pushed = r === 0
    ? pushWith(hub, ring, p, (q) => step(q), copyRest, who, targetId, options?.timeout, cancelled)
    : afterStep(r, hub, ring, p, (q) => step(q), copyRest, who, targetId, options?.timeout, cancelled);
  if (parked === 0) return pushed;
  const region = parked;
  return pushed.finally(() => (c as OwnerCore).free(region));
}

/**
 * Copies messages from..to-1 of the columns into a region of the core's memory laid out as
 * columns (the layout first, then room for one record, then each field's column) and
 * returns its address (the layout's): a push waiting for room then makes its records from
 * there, with no more copies, and frees the region when it ends. The core's memory is
 * reused from push to push (a fresh JS copy of a large rest cost more in page faults and
 * garbage collection than in copying: a million-message push waited with 56 MB).
 */
function parkRest(core: OwnerCore, shape: ColumnShape, arrays: ColumnArray[], from: number, to: number): number {
  const n = to - from, fields = shape.fields;
  const head = align8(layoutBytes(fields.length)) + align8(shape.recordLen);
  const region = core.alloc(fields.reduce((b, f) => b + align8(n * f.bytes), head), false);
  const columns: number[] = [];
  let p = region + head;
  for (let f = 0; f < fields.length; f++) {
    const fd = fields[f]!;
    columns.push(p);
    memoryView(core, fd.Ctor).set(arrays[f]!.subarray(from * fd.elements, to * fd.elements), p / fd.Ctor.BYTES_PER_ELEMENT);
    p += align8(n * fd.bytes);
  }
  writeLayout(core, region, { typeId: shape.cls.typeId, recordLen: shape.recordLen, temp: region + align8(layoutBytes(fields.length)), times: 0, ids: 0, priorities: 0,
    fields: fields.map((f, i) => ({ column: columns[i]!, bytes: f.bytes, offset: f.offset })) });
  return region;
}

/**
 * Pushes messages 0..count-1 of columns already laid out at `layout` in memory that stays
 * put while this runs (the GPU pump's region, with its per-message priorities and
 * correlation ids): one core call, and more only while waiting for room; same rules as
 * pushColumns.
 */
export function pushLaidOut(hub: Hub, ring: Ring, layout: number, count: number, who: Who, targetId: string,
  timeout: number | undefined, cancelled?: () => Error | null): Promise<void> {
  return pushWith(hub, ring, { count, done: 0, refused: 0, base: 0 }, (p) => pushRest(hub, ring, layout, p), () => {}, who, targetId, timeout, cancelled);
}

function pushError(r: number, ring: Ring, who: Who, targetId: string, timeout: number | undefined): Error {
  if (r === Status.CLOSED)
    return new KernelStateError(`${who.operation} to kernel '${targetId}': it is terminated; nothing more was enqueued`, { ...who, state: 'terminated' });
  return new QueueFullError(ring.strategy === Strategy.BLOCK
    ? `${who.operation} to kernel '${targetId}': its queue stayed full (${ring.depth} messages) for ${timeout} ms; the messages not yet in were not enqueued`
    : `${who.operation} to kernel '${targetId}': its queue is full (${ring.depth} messages) and it rejects when full; the messages not yet in were not enqueued`, who);
}

/** A view of the whole memory as `Ctor`s (the core keeps it until the memory grows). */
const memoryView = (core: Core, Ctor: ColumnCtor): ColumnArray => core.view(Ctor);

/** Copies src[from..from + k) to dst[to..]: a few one by one (a view made for them costs more), more with one set. */
function copyNumbers(dst: Float64Array, to: number, src: Float64Array, from: number, k: number): void {
  if (k <= 16) for (let i = 0; i < k; i++) dst[to + i] = src[from + i]!;
  else dst.set(src.subarray(from, from + k), to);
}

/** Appends `k` send times at `at` in the core's memory to `times`. */
function keepTimes(times: Times, core: Core, at: number, k: number): void {
  if (times.at.length < times.count + k) {
    const bigger = new Float64Array(Math.max(2 * times.at.length, times.count + k));
    bigger.set(times.at.subarray(0, times.count));
    times.at = bigger;
  }
  copyNumbers(times.at, times.count, memoryView(core, Float64Array) as Float64Array, at / 8, k);
  times.count += k;
}

/** Where a receive puts each message's send time (a kernel's telemetry), and how many are there. */
export interface Times { at: Float64Array; count: number }

/** The record a column pop stopped before: not of the class it reads, left in the queue. */
export interface NotOfClass { readonly notOfClass: true; readonly typeId: number; readonly bytes: number; /** The layout the pop used (for queue_pop_other). */ readonly layout: number }

/**
 * Pops up to `max` messages of the shape's class from `ring` into fresh typed arrays, in
 * chunks that fit this thread's scratch; null when the ring has none. A record of another
 * class (or length) ends the batch and stays queued: when it is the first, NotOfClass says
 * what it is (the caller decides: receive() takes it, or a kernel's dead letters). `times`
 * gets each message's send time.
 */
export function popColumns(hub: Hub, ring: Ring, shape: ColumnShape, max: number, who: Who, times?: Times): ColumnBatch | NotOfClass | null {
  const c = hub.core, x = c.x, fields = shape.fields;
  let out: ColumnArray[] | null = null, capacity = 0, count = 0, blocked: NotOfClass | null = null;
  while (count < max) {
    const ch = chunkIn(c, shape);
    if (ch.max === 0) throw new RangeError(`${who.operation} from kernel '${who.kernelId}': a ${shape.cls.typeName} does not fit this thread's scratch area`);
    const want = Math.min(ch.max, max - count);
    const r = x.queue_pop_columns(ring.ptr, ch.layout, want);
    if (c.dv.getUint32(ch.layout + Col.BLOCKED, true) !== 0)
      blocked = { notOfClass: true, typeId: c.dv.getUint32(ch.layout + Col.BLOCKED_TYPE, true), bytes: c.dv.getUint32(ch.layout + Col.BLOCKED_LEN, true), layout: ch.layout };
    if (r <= 0) break;
    hub.wakeSpace(ring);
    const k = r;
    if (out === null && (r < want || k >= max)) {
      // the whole batch in one chunk (the common case): each column copied out once, and
      // returned as it is (no closures, no arrays of columns made on the way)
      const result: Columns = {};
      for (let f = 0; f < fields.length; f++) {
        const fd = fields[f]!, at = ch.columns[f]! / fd.Ctor.BYTES_PER_ELEMENT;
        result[fd.name] = memoryView(c, fd.Ctor).slice(at, at + k * fd.elements);
      }
      if (times) keepTimes(times, c, ch.times, k);
      return { count: k, fields: result };
    } else {
      if (out === null || count + k > capacity) {
        // the first chunk sizes the arrays: what came, or all that is queued (up to max)
        const size = out === null ? (r === want && want < max ? Math.min(max, k + ring.depth) : k) : Math.min(max, 2 * capacity);
        capacity = Math.max(size, count + k);
        const prev: ColumnArray[] | null = out;
        out = fields.map((f, i) => {
          const a = new f.Ctor(capacity * f.elements);
          if (prev) a.set(prev[i]!.subarray(0, count * f.elements));
          return a;
        });
      }
      const buf = c.mem.buffer;
      for (let f = 0; f < fields.length; f++) {
        const fd = fields[f]!;
        out![f]!.set(new fd.Ctor(buf, ch.columns[f]!, k * fd.elements), count * fd.elements);
      }
      if (times) keepTimes(times, c, ch.times, k);
      count += k;
    }
    if (r < want || blocked !== null) break; // the ring had no more, or the next is another class's
  }
  if (count === 0) return blocked;
  const result: Columns = {};
  fields.forEach((f, i) => { const a = out![i]!; result[f.name] = count === capacity ? a : a.slice(0, count * f.elements); });
  return { count, fields: result };
}

/**
 * Counts the messages whose send times are in `times` as handled now, in one core call per
 * chunk of scratch (kcb_record_batch): a kernel's telemetry for a column batch.
 */
export function recordBatch(core: Core, kcb: number, times: Times, nowEpochMs: number, busyMs: number, nowMs: number): void {
  const per = Math.floor(core.scratchBytes / 8);
  for (let i = 0; i < times.count; i += per) {
    const k = Math.min(per, times.count - i);
    copyNumbers(core.view(Float64Array) as Float64Array, core.scratch / 8, times.at, i, k);
    core.x.kcb_record_batch(kcb, core.scratch, k, nowEpochMs, busyMs * (k / times.count), nowMs);
  }
}

/**
 * The messages the columns hold, as objects: for routes that choose a target per message
 * (round-robin, by key), which need them.
 */
export function columnsToMessages(shape: ColumnShape, columns: Columns, count: number, priority: number | undefined): InstanceType<MessageClass<any>>[] {
  const out: InstanceType<MessageClass<any>>[] = [];
  const Cls = shape.cls;
  for (let i = 0; i < count; i++) {
    const init: Record<string, unknown> = priority === undefined ? {} : { priority };
    for (const f of shape.fields) {
      const a = columns[f.name]!;
      init[f.name] = f.elements === 1 && !isFixedArray(shape, f) ? a[i] : Array.from(a.subarray(i * f.elements, (i + 1) * f.elements));
    }
    out.push(new Cls(init as never));
  }
  return out;
}

/**
 * Messages already decoded (taken from the ring by a receive before a receiveColumns), all
 * of the shape's class, as columns, in order.
 */
export function messagesToColumns(shape: ColumnShape, mine: readonly Message[]): ColumnBatch {
  const fields: Columns = {};
  for (const f of shape.fields) {
    const a = new f.Ctor(mine.length * f.elements);
    mine.forEach((m, i) => {
      const v = (m as unknown as Record<string, number | ArrayLike<number>>)[f.name]!;
      if (typeof v === 'number') a[i] = v; else a.set(v, i * f.elements);
    });
    fields[f.name] = a;
  }
  return { count: mine.length, fields };
}

function isFixedArray(shape: ColumnShape, f: ColumnField): boolean {
  return (shape.cls.schema as Record<string, FieldType>)[f.name]!.kind === 'array';
}

/**
 * The error of a column receive whose next message is of another class (it stays queued;
 * receive() takes it): names the kernel, the class read and the one found.
 */
export function notOfClassError(found: NotOfClass | Message, shape: ColumnShape, who: Who): MessageTypeError {
  const actual = 'notOfClass' in found
    ? messageClassById(found.typeId)?.typeName ?? `a record of type id ${found.typeId} (${found.bytes} bytes)`
    : (found.constructor as MessageClass).typeName;
  return new MessageTypeError(`${who.operation} from kernel '${who.kernelId}': the next message in the queue is ${'notOfClass' in found && messageClassById(found.typeId) === undefined ? actual : `a ${actual}`}, not a ${shape.cls.typeName}; it stays queued (receive() takes it)`,
    { ...who, expected: shape.cls.typeName, actual });
}
