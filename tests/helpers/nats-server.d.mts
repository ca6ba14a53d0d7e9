// Types of nats-server.mjs (plain JS, so the runner and the benchmarks load it without tsx).
export interface NatsServer {
  readonly port: number;
  readonly storeDir: string;
  readonly url: string;
  readonly pid: number;
  readonly log: string;
  start(): Promise<void>;
  stop(options?: { hard?: boolean }): Promise<void>;
  restart(): Promise<void>;
  dispose(): Promise<void>;
}
export function natsServerBinary(): string | null;
export function natsServerMissing(): string | null;
export function freePort(): Promise<number>;
export function startNatsServer(options?: { args?: string[]; port?: number; storeDir?: string }): Promise<NatsServer>;
