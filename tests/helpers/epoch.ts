// epoch.ts — bounds for a timestamp the library took (ms since the Unix epoch) between two
// moments of a test. The library reads performance.timeOrigin + performance.now() (record
// send times, dead letters of bad records) or Date.now() (checkpoints, remote dead letters),
// and the two clocks drift apart while a process runs (NTP, the VM's clock): a bound from one
// clock alone failed the moment they differed by more than its slack.
const perfEpoch = (): number => performance.timeOrigin + performance.now();

/** At or before now on either clock. */
export function epochLow(): number { return Math.min(Date.now(), perfEpoch()) - 1; }
/** At or after now on either clock. */
export function epochHigh(): number { return Math.max(Date.now(), perfEpoch()) + 1; }
