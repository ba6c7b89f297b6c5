/**
 * One named node of several (--node-name) in a child process, on PostgreSQL, that a test can
 * kill -9 and start again under the same name, port and data directory: a node that crashes
 * and rejoins.
 */
import { launchRestartable, type Restartable } from './server-process.js';

export interface NamedNode extends Restartable {
  readonly name: string;
}

export interface NamedNodeOptions {
  readonly name: string;
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** The same for every node (AIRLOCK_SECRET_KEY). */
  readonly secretKey: string;
  readonly startMs?: number;
}

/** Its URL is also its --advertise-url once known (the starts after the first). */
export async function startNamedNode(options: NamedNodeOptions): Promise<NamedNode> {
  const flags = (listen: string, url: string | undefined): string[] => [
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
  const node = await launchRestartable(flags, { what: `node ${options.name}`, ms: options.startMs ?? 30_000, env: { AIRLOCK_SECRET_KEY: options.secretKey } });
  return { ...node, name: options.name };
}
