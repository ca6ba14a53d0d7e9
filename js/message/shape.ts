// shape.ts — one instance of each message class kept for as long as the program runs, so
// that V8 keeps the hidden classes ("maps") its messages have.
//
// Why: V8 holds the maps an object passes through as its properties are stored (one
// transition a property) only weakly. Once every message of a class has died and a full
// collection runs — between bursts of traffic, or before each turn of a benchmark — those
// maps are collected, and every optimized function that named them (the class's decoder,
// its constructor, its field reader) is thrown away ("deoptimizing ... reason: weak
// objects" under --trace-deopt) and runs unoptimized until V8 compiles it again. Measured
// (docs/BENCHMARKS.md): a round trip of 64K message objects through a GPU kernel took 1.25x
// the time after each collection. An object that keeps the last map of the chain keeps
// the whole chain (each map holds the one before it).
//
// The kept instance ends with the shape messages of its class end with: its header slots
// as they are once messages have been both made here and decoded (a send time, an id's
// string, a correlation id: each slot stored once more with such a value, as the runtime's
// own messages do), and its fields holding values of the representation their type gives
// them (f32 and f64 fields fractions, so that they are doubles from the first message on,
// not small integers generalized later, which would give the class new maps).
import type { FieldType } from './schema.js';
import { CORRELATION, Correlation, ID_TEXT, RAW, SENT_AT, raw } from './header.js';
import { DEFAULT_PRIORITY } from './record.js';
import { IdPrefix } from './uuid.js';

const kept: object[] = [];
const prefix = new IdPrefix(0, 0, 0);

/** A value of the representation a field of this type holds. */
function valueLike(f: FieldType): unknown {
  switch (f.kind) {
    case 'f64': case 'f32': return 0.5;
    case 'i32': case 'u32': return 0;
    case 'bool': return false;
    case 'string': return '';
    case 'bytes': return new Uint8Array(0);
    case 'f32array': return new Float32Array(0);
    case 'f64array': return new Float64Array(0);
    case 'array': case 'tuple': return [];
    default: return null; // optional, message, json
  }
}

/** Makes and keeps an instance of `C` (fields `keys` of `types`, in wire order) with the shape its messages end with. */
export function keepShape(C: new (r: typeof RAW) => object, keys: readonly string[], types: readonly FieldType[]): void {
  raw.prefix = prefix;
  raw.count = 0;
  raw.text = null;
  raw.priority = DEFAULT_PRIORITY;
  raw.corr = null;
  raw.timestamp = null;
  const m = new C(RAW) as Record<string | symbol, unknown>;
  for (let i = 0; i < keys.length; i++) m[keys[i]!] = valueLike(types[i]!);
  m[SENT_AT] = 0.5;
  m[ID_TEXT] = '';
  m[CORRELATION] = new Correlation(prefix, 0, null);
  kept.push(m);
}
