// ringkernel/nats — remote kernels over NATS JetStream (docs/remote.md). A subpath of its own,
// so the core bundle never imports a NATS client (browsers, workerd); the client packages
// are optional peer dependencies, loaded when the first connection is made.
//
//   const runtime = new RingKernelRuntime({ remote: natsRemote({ servers: 'nats://127.0.0.1:4222', namespace: 'app' }) });
import { NatsTransport, type NatsRemoteOptions } from './transport.js';
import type { RemoteTransport } from '../remote.js';

export type { NatsRemoteOptions } from './transport.js';
export { mailboxNames, kernelToken, bandOf } from './names.js';
export type { MailboxNames } from './names.js';

/**
 * A remote transport over NATS JetStream for RuntimeOptions.remote. NATS connection options
 * (token, user and pass, authenticator for nkeys, tls, reconnect settings) pass through.
 */
export function natsRemote(options: NatsRemoteOptions = {}): RemoteTransport & { readonly namespace: string } {
  return new NatsTransport(options);
}
