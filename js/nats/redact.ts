// redact.ts — credentials never reach an error message or a log: every message this
// transport produces from a NATS error passes through a Redactor that knows the secrets
// it was given (password, token, the user:password part of server URLs).

export class Redactor {
  readonly #secrets: string[];
  constructor(secrets: readonly (string | undefined | null)[]) {
    this.#secrets = secrets.filter((s): s is string => typeof s === 'string' && s.length > 0).sort((a, b) => b.length - a.length);
  }

  text(s: string): string {
    // credentials in URLs: nats://user:pass@host -> nats://***@host
    let out = s.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@');
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }

  /** An error's name and message, redacted (its stack and cause are left behind). */
  error(e: unknown): string {
    if (e instanceof Error) return this.text(`${e.name === 'Error' ? '' : `${e.name}: `}${e.message}`);
    return this.text(String(e));
  }
}

/** Secrets in a servers option: the user and password parts of each URL. */
export function urlSecrets(servers: string | string[] | undefined): string[] {
  const out: string[] = [];
  for (const s of servers === undefined ? [] : Array.isArray(servers) ? servers : [servers]) {
    const m = /^\w+:\/\/([^/@\s]+)@/.exec(s);
    if (!m) continue;
    const [user, pass] = m[1]!.split(':');
    if (pass) out.push(decodeURIComponent(pass), pass);
    else if (user) out.push(decodeURIComponent(user), user); // a token as the user part
  }
  return out;
}

/** Server URLs with credentials taken out, for descriptions. */
export function publicServers(servers: string | string[] | undefined): string {
  const list = servers === undefined ? ['nats://127.0.0.1:4222'] : Array.isArray(servers) ? servers : [servers];
  return list.map((s) => s.replace(/(\w+:\/\/)[^/@\s]+@/, '$1')).join(', ');
}
