// Starts a TypeScript worker under tsx: Node 20 does not apply --import loaders to a
// worker's own entry file, so this plain-JS entry registers tsx and then imports it.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.tsEntry);
