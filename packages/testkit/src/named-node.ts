/**
 * One named node of several (--node-name) in a child process, on PostgreSQL, that a test can
 * kill -9 and start again under the same name, port and data directory: a node that crashes
 * and rejoins.
 */
import type { ChildProcess } from 'node:child_process';
import { launch } from './server-process.js';

export interface NamedNode {
  readonly name: string;
  /** http://127.0.0.1:port, the same across restarts (and its --advertise-url). */
  readonly url: string;
  /** The last 16 KB it printed. */
  output(): string;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
}

export interface NamedNodeOptions {
  readonly name: string;
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** The same for every node (AIRLOCK_SECRET_KEY). */
  readonly secretKey: string;
  readonly startMs?: number;
}

export async function startNamedNode(options: NamedNodeOptions): Promise<NamedNode> {
  let tail = '';
  const printed = (text: string): void => {
    tail = (tail + text).slice(-16_384);
  };
  const env = { AIRLOCK_SECRET_KEY: options.secretKey };
  const flags = (listen: string, url?: string): string[] => [
    '--data-dir',
    options.dataDir,
    '--listen',
    listen,
    '--database-url',
    options.databaseUrl,
    '--node-name',
    options.name,
    ...(url === undefined ? [] : ['--advertise-url', url]),
  ];
  const first = await launch(flags('127.0.0.1:0'), options.startMs ?? 30_000, printed, env);
  let running: ChildProcess | undefined = first.child;
  const { url } = first;
  const kill = async (): Promise<void> => {
    const child = running;
    running = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    name: options.name,
    url,
    output: () => tail,
    kill,
    start: async () => {
      if (running !== undefined) throw new Error(`node ${options.name} is running: kill it first`);
      running = (await launch(flags(`127.0.0.1:${new URL(url).port}`, url), options.startMs ?? 30_000, printed, env)).child;
    },
  };
}
