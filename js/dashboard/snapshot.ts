// snapshot.ts — what the dashboard shows, as one JSON-able object a second: the runtime's
// topology, each kernel's telemetry, and its throughput over the last minute. The sampler
// keeps that minute (processed counts a sample apart); the served page gets its snapshots
// over server-sent events, a mounted view takes them in its own page: same object, same view.
import type { KernelTelemetry } from '../telemetry/telemetry.js';
import type { Topology, TopologyEdge, TopologyKernel } from '../telemetry/topology.js';

/** What the dashboard reads from a runtime (RingKernelRuntime has all of it). */
export interface DashboardSource {
  topology(): Topology;
  getTelemetry(id: string): KernelTelemetry | null;
  metrics(): string;
}

export interface KernelSnapshot extends TopologyKernel {
  /** null when the runtime's telemetry is off */
  telemetry: KernelTelemetry | null;
  /** Messages handled per second, one value per sample interval, oldest first (up to a minute). */
  rate: number[];
}

export interface DashboardSnapshot {
  /** When it was taken, ms since the epoch. */
  at: number;
  /** Milliseconds between samples. */
  intervalMs: number;
  kernels: KernelSnapshot[];
  edges: TopologyEdge[];
}

export const WINDOW_MS = 60_000;

export function isDashboardSource(x: unknown): x is DashboardSource {
  const r = x as Partial<Record<keyof DashboardSource, unknown>> | null;
  return !!r && typeof r.topology === 'function' && typeof r.getTelemetry === 'function' && typeof r.metrics === 'function';
}

/** An update interval option, checked (serveDashboard, mountDashboard). */
export function checkInterval(ms: unknown, operation: string): number {
  if (ms === undefined) return 1000;
  if (typeof ms !== 'number' || !(ms >= 100 && ms <= 60_000))
    throw new RangeError(`${operation}: intervalMs must be a number of milliseconds from 100 to 60000, got ${typeof ms === 'string' ? JSON.stringify(ms) : String(ms)}`);
  return ms;
}

/** Takes snapshots of a runtime and remembers each kernel's processed counts for a minute. */
export class Sampler {
  readonly #source: DashboardSource;
  readonly intervalMs: number;
  /** per kernel: [ms, processed] samples, oldest first */
  readonly #history = new Map<string, Array<[number, number]>>();

  constructor(source: DashboardSource, intervalMs = 1000) {
    this.#source = source;
    this.intervalMs = intervalMs;
  }

  sample(now = Date.now()): DashboardSnapshot {
    const topology = this.#source.topology();
    const kernels: KernelSnapshot[] = [];
    const seen = new Set<string>();
    for (const k of topology.kernels) {
      seen.add(k.id);
      const telemetry = this.#source.getTelemetry(k.id);
      kernels.push({ ...k, telemetry, rate: telemetry ? this.#rates(k.id, now, telemetry.messagesProcessed) : [] });
    }
    for (const id of this.#history.keys()) if (!seen.has(id)) this.#history.delete(id);
    return { at: now, intervalMs: this.intervalMs, kernels, edges: topology.edges };
  }

  #rates(id: string, now: number, processed: number): number[] {
    let h = this.#history.get(id);
    // a kernel relaunched under the same id starts counting again: its old minute is not its own
    if (!h || (h.length > 0 && processed < h[h.length - 1]![1])) this.#history.set(id, (h = []));
    h.push([now, processed]);
    while (h.length > 1 && now - h[0]![0] > WINDOW_MS) h.shift();
    const rates: number[] = [];
    for (let i = 1; i < h.length; i++) {
      const dt = (h[i]![0] - h[i - 1]![0]) / 1000;
      rates.push(dt > 0 ? (h[i]![1] - h[i - 1]![1]) / dt : 0);
    }
    return rates;
  }
}
