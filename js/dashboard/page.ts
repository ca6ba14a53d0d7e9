// page.ts — the script of the page serveDashboard serves (bundled into the server by
// build.mjs, so the page needs nothing else): snapshots arrive as server-sent events on
// ./events and go through the same view as mountDashboard's.
import { createDashboardView } from './view.js';
import type { DashboardSnapshot } from './snapshot.js';

const view = createDashboardView(document.getElementById('app')!);
const events = new EventSource('events');
let last = 0;
events.onmessage = (e: MessageEvent<string>) => {
  const s = JSON.parse(e.data) as DashboardSnapshot;
  view.update(s);
  last = s.at;
  view.setStatus(`live · ${new Date(s.at).toLocaleTimeString()}`, true);
};
// EventSource reconnects by itself; until it has, say so
events.onerror = () => view.setStatus(last ? `reconnecting (last update ${new Date(last).toLocaleTimeString()})` : 'connecting', false);
