/**
 * Several real server processes on one PostgreSQL database (a fresh schema unless one is
 * given), each with its own data directory, all started at once: what a deployment of several
 * nodes does, on loopback ports. They share one secret key, as docs/deployment.md says nodes must.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withSchema } from './backends.js';
import { temporaryDirectory } from './files.js';
import { killChild, launch } from './server-process.js';

export interface ClusterNode {
  readonly url: string;
  /** The process id, for CPU and memory figures from /proc. */
  readonly pid: number;
  readonly dataDir: string;
  /** What it printed (the last 16 KB). */
  output(): string;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
}

export interface Cluster {
  readonly nodes: readonly ClusterNode[];
  readonly databaseUrl: string;
  /** The root token, from the data directory of the node whose token won the first start. */
  rootToken(): Promise<string>;
  /** Kills every node, removes their data directories and drops the schema it made; once, however often called. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  readonly nodes: number;
  /** Use this database (a URL whose search_path names its schema) instead of a fresh schema. */
  readonly databaseUrl?: string;
  /** Extra flags for node `index` (0-based), e.g. a fixed --listen. */
  readonly flags?: (index: number) => readonly string[];
  readonly startMs?: number;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const schema = options.databaseUrl === undefined ? await withSchema() : undefined;
  const databaseUrl = options.databaseUrl ?? schema?.url ?? '';
  const env = { AIRLOCK_SECRET_KEY: randomBytes(32).toString('base64') };
  const directories = await Promise.all(Array.from({ length: options.nodes }, () => temporaryDirectory('airlock-node-')));
  const children: ChildProcess[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.all(children.map(killChild));
      await Promise.all(directories.map((directory) => directory.remove()));
      await schema?.drop();
    })());
  const started = await Promise.allSettled(
    directories.map(async (directory, index) => {
      let tail = '';
      const flags = ['--data-dir', directory.path, '--listen', '127.0.0.1:0', '--database-url', databaseUrl, ...(options.flags?.(index) ?? [])];
      const { child, url } = await launch(flags, options.startMs ?? 30_000, (text) => (tail = (tail + text).slice(-16_384)), env);
      children.push(child);
      return { url, pid: child.pid ?? 0, dataDir: directory.path, output: () => tail, kill: () => killChild(child) };
    }),
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  const nodes = started.map((result) => (result as PromiseFulfilledResult<ClusterNode>).value);
  return {
    nodes,
    databaseUrl,
    rootToken: async () => {
      const found = await Promise.all(nodes.map((node) => readFile(join(node.dataDir, 'root-token'), 'utf8').then((text) => text.trim(), () => undefined)));
      const tokens = found.filter((token): token is string => token !== undefined);
      if (tokens.length !== 1) throw new Error(`expected one node's data directory to hold the root token, found ${String(tokens.length)}`);
      return tokens[0] ?? '';
    },
    stop,
  };
}
