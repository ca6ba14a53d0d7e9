// Run by tests/package.test.ts under tsx: ringkernel/nats by its name, from TypeScript, with
// its types (a wrong option type would not compile under tsc; tsx runs it).
import { RingKernelRuntime, RemoteError, message, t, type RemoteTransport } from 'ringkernel';
import { natsRemote, mailboxNames, type NatsRemoteOptions } from 'ringkernel/nats';

const options: NatsRemoteOptions = { servers: 'nats://127.0.0.1:1', namespace: 'pkg', maxReconnectAttempts: 0, requestTimeoutMs: 500 };
const remote: RemoteTransport = natsRemote(options);
const rt = new RingKernelRuntime({ remote });
const M = message('PkgTsRemote', { n: t.i32 });
const e = await rt.send('remote:x', new M({ n: 1 })).catch((x: unknown) => x);
console.log(`${(e as Error).name} ${e instanceof RemoteError} ${mailboxNames('pkg', 'x').stream}`);
await rt.shutdown();
