// names.ts — where an exposed kernel's mailbox lives in JetStream: one stream per kernel and
// namespace, one subject per priority band (the ring's bands: 0 is SYSTEM, received first).
//
//   stream   RK_<namespace>_<kernel>            subjects  rk.<namespace>.<kernel>.p0 … p3
//   consumers rk_p0 … rk_p3 (durable, one per band subject, explicit acks)
//   late lane RKL_<namespace>_<kernel>        subjects  rkl.<namespace>.<kernel>.p0 … p3, consumer rk_late
//   (records a sender stores after later ones of its own, and its skip notices: js/nats/order.ts)
//
// A kernel id made of [A-Za-z0-9_-] is used as it is; any other id is written '~' + the hex of
// its UTF-8 bytes (stream names and subject tokens refuse '.', '*', '>', spaces and slashes).
// Namespaces are [A-Za-z0-9-]+, so the first '_' after 'RK_' ends the namespace.

export const BANDS = 4;

/** The ring's band of a priority (assembly/ring.ts bandOf). */
export const bandOf = (priority: number): number => (priority >= 224 ? 0 : priority >= 160 ? 1 : priority >= 64 ? 2 : 3);

export function checkNamespace(ns: unknown): string {
  if (typeof ns === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(ns)) return ns;
  throw new TypeError(`natsRemote: namespace must be 1-64 characters of A-Z a-z 0-9 and '-', got ${JSON.stringify(ns)}`);
}

export function kernelToken(id: string): string {
  if (/^[A-Za-z0-9_-]{1,128}$/.test(id)) return id;
  let s = '~';
  for (const b of new TextEncoder().encode(id)) s += b.toString(16).padStart(2, '0');
  return s;
}

export interface MailboxNames { stream: string; subjects: string[]; consumers: string[]; lane: string; laneSubjects: string[]; laneConsumer: string }

export function mailboxNames(namespace: string, kernelId: string): MailboxNames {
  const k = kernelToken(kernelId);
  const subjects: string[] = [];
  const consumers: string[] = [];
  const laneSubjects: string[] = [];
  for (let b = 0; b < BANDS; b++) { subjects.push(`rk.${namespace}.${k}.p${b}`); consumers.push(`rk_p${b}`); laneSubjects.push(`rkl.${namespace}.${k}.p${b}`); }
  return { stream: `RK_${namespace}_${k}`, subjects, consumers, lane: `RKL_${namespace}_${k}`, laneSubjects, laneConsumer: 'rk_late' };
}
