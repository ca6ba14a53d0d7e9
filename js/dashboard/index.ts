// ringkernel/dashboard — metrics, topology and a live page for a runtime.
//   serveDashboard(runtime, { port, host })  an HTTP server (Node, Deno, Bun): the page, /metrics
//   mountDashboard(runtime, element)         the same view inside a browser page of your own
export { serveDashboard } from './server.js';
export type { DashboardOptions, DashboardServer } from './server.js';
export { mountDashboard } from './mount.js';
export type { MountOptions, MountedDashboard } from './mount.js';
export { createDashboardView } from './view.js';
export type { DashboardView } from './view.js';
export { Sampler } from './snapshot.js';
export type { DashboardSnapshot, KernelSnapshot, DashboardSource } from './snapshot.js';
