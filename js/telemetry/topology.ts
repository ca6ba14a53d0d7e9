// topology.ts — runtime.topology(): the kernels of a runtime (where each runs and its state)
// and the edges `connect` / `connectGraph` made between them, read from the live routes, so
// disconnect and a terminated target show at once. An edge's `to` is a kernel id of this
// runtime; remote kernels (ringkernel/nats) will add edges whose `to` is 'remote:<name>'.
import type { KernelState } from '../kernel/state.js';

/** Where a kernel runs: on the caller's thread, a pool worker, or the GPU. */
export type KernelPlacement = 'inline' | 'worker' | 'gpu';

/** How a connect spreads messages over its targets (ConnectOptions.mode). */
export type ConnectMode = 'round-robin' | 'broadcast' | 'key';

export interface TopologyKernel {
  id: string;
  /** Where it runs now: a worker kernel with inlineFallback launched inline reads 'inline'. */
  placement: KernelPlacement;
  state: KernelState;
  /** Capacity of its input queue (KernelOptions.queueSize). */
  queueCapacity: number;
}

export interface TopologyEdge {
  from: string;
  /** A kernel id of this runtime, or 'remote:<name>' for a kernel another runtime exposes. */
  to: string;
  mode: ConnectMode;
}

export interface Topology {
  kernels: TopologyKernel[];
  edges: TopologyEdge[];
}

/** What topology() reads from one launched kernel (js/kernel/instance.ts's KernelInstance). */
export interface TopologySource {
  readonly id: string;
  readonly placement: KernelPlacement;
  readonly def: { readonly queueSize: number };
  readonly state: KernelState;
  readonly route: { readonly targets: ReadonlyArray<{ readonly id: string }>; readonly connectMode: ConnectMode } | null;
}

export function topologyOf(kernels: Iterable<TopologySource>): Topology {
  const out: Topology = { kernels: [], edges: [] };
  for (const k of kernels) {
    out.kernels.push({ id: k.id, placement: k.placement, state: k.state, queueCapacity: k.def.queueSize });
    if (k.route) for (const t of k.route.targets) out.edges.push({ from: k.id, to: t.id, mode: k.route.connectMode });
  }
  return out;
}
