// opentelemetry.ts — runtime.observeWith(meter): the metrics of METRICS (metrics.ts) as
// observable instruments on an OpenTelemetry Meter. `@opentelemetry/api` is an optional
// peer: only its types are imported here, so the core bundle never loads it; the user's
// Meter brings the implementation.
//
// Names: a counter's instrument is the Prometheus name without `_total` (OpenTelemetry's
// Prometheus exporter appends it again), gauges keep theirs, and the latency summary is a
// gauge with a `quantile` attribute beside `kernel`. One batch callback reads each kernel's
// telemetry once per collection, so the instruments of one collection agree with each other.
import type { KernelTelemetry } from './telemetry.js';
import { METRICS, type MetricRow } from './metrics.js';

/** An instrument made by the Meter (opaque here: it is only handed back to observe). */
export type ObservableLike = object;

/** What a batch callback is given (@opentelemetry/api BatchObservableResult). */
export interface BatchObservableResultLike {
  observe(observable: ObservableLike, value: number, attributes?: Record<string, string | number>): void;
}

/** The methods of an OpenTelemetry Meter (@opentelemetry/api) that observeWith calls. */
export interface MeterLike {
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): ObservableLike;
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): ObservableLike;
  addBatchObservableCallback(callback: (result: BatchObservableResultLike) => void, observables: ObservableLike[]): void;
  removeBatchObservableCallback(callback: (result: BatchObservableResultLike) => void, observables: ObservableLike[]): void;
}

/** What observeWith reads: a runtime (kernelIds + getTelemetry). */
export interface TelemetrySource {
  kernelIds(): string[];
  getTelemetry(id: string): KernelTelemetry | null;
}

/** Instruments registered by observeWith; close() stops reporting to them. */
export interface MeterObservation {
  /** The instrument names registered, in METRICS order. */
  readonly instruments: readonly string[];
  close(): void;
}

/** The instrument name for a metric row (see the file comment). */
export function instrumentName(row: MetricRow): string {
  return row.type === 'counter' ? row.name.replace(/_total$/, '') : row.name;
}

export function observeWith(source: TelemetrySource, meter: MeterLike, rows: readonly MetricRow[] = METRICS): MeterObservation {
  if (!meter || typeof (meter as Partial<MeterLike>).addBatchObservableCallback !== 'function')
    throw new TypeError('observeWith: expected an OpenTelemetry Meter (from @opentelemetry/api: metrics.getMeter(name) or a MeterProvider)');
  const made = rows.map((row) => {
    const options = { description: row.help, ...(row.type === 'summary' ? { unit: 's' } : {}) };
    const name = instrumentName(row);
    const instrument: ObservableLike = row.type === 'counter' ? meter.createObservableCounter(name, options) : meter.createObservableGauge(name, options);
    return { row, name, instrument };
  });
  const callback = (result: BatchObservableResultLike) => {
    for (const id of source.kernelIds()) {
      const t = source.getTelemetry(id);
      if (t === null) continue;
      const attributes = { kernel: t.kernelId };
      for (const { row, instrument } of made) {
        if (row.type === 'summary') {
          for (const q of row.quantiles) result.observe(instrument, t[q.field] * row.scale, { ...attributes, quantile: q.quantile });
        } else {
          result.observe(instrument, t[row.field], attributes);
        }
      }
    }
  };
  const instruments = made.map((m) => m.instrument);
  meter.addBatchObservableCallback(callback, instruments);
  let open = true;
  return {
    instruments: made.map((m) => m.name),
    close() {
      if (!open) return;
      open = false;
      meter.removeBatchObservableCallback(callback, instruments);
    },
  };
}
