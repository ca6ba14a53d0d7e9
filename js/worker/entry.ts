// The entry file of a pool worker: the host comes from the same module as the kernels the
// worker imports (so they register where the host looks them up).
import { __startWorkerHost } from '../index.js';

void __startWorkerHost();
