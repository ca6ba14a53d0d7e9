// timeouts.ts — timeouts are milliseconds. A fractional one under 10 ms (`{ timeout: 0.5 }`)
// is almost always seconds by habit, ported from PyDotCompute's `timeout=0.5`: it warns,
// once per operation and call site, naming the call. (`1.0` is the number 1 in JavaScript
// and cannot be told from a deliberate 1 ms.)

const warned = new Set<string>();

/**
 * Warns when `timeout` looks like seconds. `call` and `kernelId` name the operation ("runtime.receive
 * from kernel", 'compute'); the text is only made when there is something to say (this runs on every call).
 */
export function noteTimeout(timeout: unknown, operation: string, kernelId: string): void {
  if (typeof timeout !== 'number' || !(timeout > 0 && timeout < 10) || Number.isInteger(timeout)) return;
  const call = `${operation} '${kernelId}'`;
  const site = callSite();
  const key = `${call}\n${site}`;
  if (warned.has(key)) return;
  warned.add(key);
  const text = `${call}: timeout ${timeout} is milliseconds, so this waits ${timeout} ms. ` +
    `If you meant ${timeout} s (PyDotCompute's timeout=${timeout}), write ${timeout * 1000}.${site ? ` (at ${site})` : ''}`;
  const p = (globalThis as { process?: { emitWarning?(w: string, o: object): void } }).process;
  if (typeof p?.emitWarning === 'function') p.emitWarning(text, { type: 'RingKernelWarning', code: 'RINGKERNEL_FRACTIONAL_TIMEOUT' });
  else console.warn(`RingKernelWarning: ${text}`);
}

/** The first stack frame outside ringkernel's own file(s): the user's call. */
function callSite(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1).map((l) => l.trim());
  const file = (l: string) => /\(?((?:file:\/\/)?[^()\s]+?):\d+:\d+\)?$/.exec(l)?.[1] ?? '';
  const own = file(lines[0] ?? '');
  const ownDir = own.replace(/[^/\\]*$/, '');
  for (const l of lines) {
    const f = file(l);
    if (f === '' || f === own || (ownDir !== '' && f.startsWith(ownDir)) || f.startsWith('node:')) continue;
    return l.replace(/^at /, '');
  }
  return '';
}
