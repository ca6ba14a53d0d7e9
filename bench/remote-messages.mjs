// The message of bench/remote.mjs, defined the same way in both processes.
import { message, t } from 'ringkernel';
export const BenchMsg = message('BenchRemote', { seq: t.i32, values: t.array(t.f64, 8) });
