// Development only: a pool worker when ringkernel runs from its TypeScript sources under
// tsx (tests). Node does not carry tsx into a worker's entry file, so register it first.
import { register } from 'tsx/esm/api';

register();
globalThis[Symbol.for('ringkernel.tsxRegistered')] = true;
await import('./entry.ts');
