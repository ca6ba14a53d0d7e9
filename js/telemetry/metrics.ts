// metrics.ts — telemetry as metrics: one table says which KernelTelemetry field becomes which
// metric (name, type, help), and the Prometheus text exposition format
// (runtime.metrics(), the dashboard's /metrics) and the OpenTelemetry instruments
// (observability.ts) are both made from it. A new telemetry field is one more row.
//
// Names follow the contract (DESIGN.md "Metric names"): counters end in `_total`, every
// sample has one `kernel` label (the summary's samples add `quantile`). Values are
// getTelemetry's, unchanged but for milliseconds -> seconds.
import type { KernelTelemetry } from './telemetry.js';

/** Telemetry fields that hold a number (the ones a metric can be made of). */
type NumericField = { [K in keyof KernelTelemetry]: KernelTelemetry[K] extends number ? K : never }[keyof KernelTelemetry];

export interface ScalarMetric {
  /** The Prometheus name (counters end in `_total`). */
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  field: NumericField;
}

export interface SummaryMetric {
  name: string;
  type: 'summary';
  help: string;
  /** quantile -> the telemetry field that holds it, and the factor to the metric's unit */
  quantiles: ReadonlyArray<{ quantile: number; field: NumericField }>;
  scale: number;
}

export type MetricRow = ScalarMetric | SummaryMetric;

/** Every metric, in exposition order. */
export const METRICS: readonly MetricRow[] = [
  { name: 'ringkernel_messages_processed_total', type: 'counter', field: 'messagesProcessed',
    help: 'Messages the kernel has handled.' },
  { name: 'ringkernel_messages_dropped_total', type: 'counter', field: 'messagesDropped',
    help: 'Messages discarded from the input queue to make room (DROP_OLDEST).' },
  { name: 'ringkernel_messages_discarded_total', type: 'counter', field: 'messagesDiscarded',
    help: 'Accepted messages never handled: still queued when the kernel failed, its thread died or it was terminated.' },
  { name: 'ringkernel_messages_interrupted_total', type: 'counter', field: 'messagesInterrupted',
    help: 'Messages the kernel function held, unfinished, when it was cut off: its worker thread died or was ended, or terminate abandoned it.' },
  { name: 'ringkernel_output_discarded_total', type: 'counter', field: 'outputDiscarded',
    help: 'Messages the kernel sent that nobody received before terminate freed its output queue.' },
  { name: 'ringkernel_messages_rejected_total', type: 'counter', field: 'messagesRejected',
    help: 'Sends refused (REJECT on a full queue, or BLOCK after its timeout).' },
  { name: 'ringkernel_errors_total', type: 'counter', field: 'errorCount',
    help: 'Errors thrown by the kernel function.' },
  { name: 'ringkernel_restarts_total', type: 'counter', field: 'restarts',
    help: 'Times the kernel function threw and was started again (its restart policy).' },
  { name: 'ringkernel_dead_letters_total', type: 'counter', field: 'deadLetters',
    help: 'Messages that became dead letters: held when the function threw, or records that did not decode.' },
  { name: 'ringkernel_dead_letters_dropped_total', type: 'counter', field: 'deadLettersDropped',
    help: 'Dead letters pushed out of the bounded list by newer ones (deadLetterLimit).' },
  { name: 'ringkernel_queue_depth', type: 'gauge', field: 'queueDepth',
    help: 'Messages waiting in the input queue.' },
  { name: 'ringkernel_queue_high_water', type: 'gauge', field: 'queueHighWater',
    help: 'Largest input queue depth seen.' },
  { name: 'ringkernel_queue_capacity', type: 'gauge', field: 'queueCapacity',
    help: 'Capacity of the input queue (queueSize).' },
  { name: 'ringkernel_latency_seconds', type: 'summary', scale: 1 / 1000,
    help: 'Time from send to handled, in seconds (from the kernel\'s latency histogram).',
    quantiles: [{ quantile: 0.5, field: 'latencyP50Ms' }, { quantile: 0.95, field: 'latencyP95Ms' }, { quantile: 0.99, field: 'latencyP99Ms' }] },
];

/** A number as the text format writes it (Go's ParseFloat reads +Inf, -Inf and NaN). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** A label value: backslash, double quote and line feed escaped. */
const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
/** HELP text: backslash and line feed escaped. */
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/**
 * The Prometheus text exposition format (version 0.0.4) of these kernels' telemetry: for
 * each metric its `# HELP` and `# TYPE` lines, then one sample per kernel.
 */
export function prometheusText(kernels: readonly KernelTelemetry[], rows: readonly MetricRow[] = METRICS): string {
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(`# HELP ${row.name} ${escapeHelp(row.help)}`, `# TYPE ${row.name} ${row.type}`);
    for (const t of kernels) {
      const kernel = `kernel="${escapeLabel(t.kernelId)}"`;
      if (row.type === 'summary') {
        for (const q of row.quantiles) lines.push(`${row.name}{${kernel},quantile="${q.quantile}"} ${formatValue(t[q.field] * row.scale)}`);
      } else {
        lines.push(`${row.name}{${kernel}} ${formatValue(t[row.field])}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** The content type a scrape of prometheusText() is served with. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
