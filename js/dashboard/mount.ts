// mount.ts — mountDashboard(runtime, element): the dashboard's view over a runtime in the same
// page (a browser app's own runtime), sampled there about once a second; no server.
import { createDashboardView } from './view.js';
import { Sampler, checkInterval, isDashboardSource, type DashboardSource } from './snapshot.js';

export interface MountOptions {
  /** Milliseconds between updates (default 1000; at least 100). */
  intervalMs?: number;
}

export interface MountedDashboard {
  /** Takes and renders a snapshot now (besides the timer's). */
  refresh(): void;
  /** Stops updating and removes the view from the element. */
  close(): void;
}

export function mountDashboard(runtime: DashboardSource, element: Element, options: MountOptions = {}): MountedDashboard {
  if (!isDashboardSource(runtime)) throw new TypeError('mountDashboard: the first argument must be a RingKernelRuntime (topology, getTelemetry and metrics)');
  if (!element || typeof (element as Partial<Element>).appendChild !== 'function' || !(element as Element).ownerDocument)
    throw new TypeError('mountDashboard: the second argument must be a DOM element to render into');
  const intervalMs = checkInterval(options.intervalMs, 'mountDashboard');
  const sampler = new Sampler(runtime, intervalMs);
  const view = createDashboardView(element);
  const refresh = () => {
    const s = sampler.sample();
    view.update(s);
    view.setStatus(`in this page · ${new Date(s.at).toLocaleTimeString()}`, true);
  };
  refresh();
  const timer = setInterval(refresh, intervalMs);
  let open = true;
  return {
    refresh() { if (open) refresh(); },
    close() {
      if (!open) return;
      open = false;
      clearInterval(timer);
      view.destroy();
    },
  };
}
