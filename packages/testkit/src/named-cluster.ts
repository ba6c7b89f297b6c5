/**
 * Three named nodes (a, b, c) on a fresh PostgreSQL schema, each a real process with its own
 * data directory that a test can kill -9 and start again: the setup the cluster tests share.
 * A first (it migrates and writes the root token), then B and C at once.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AirlockClient } from '@airlock/client';
import { fleet } from '@airlock/protocol';
import pg from 'pg';
import { withSchema } from './backends.js';
import { temporaryDirectory } from './files.js';
import { startNamedNode, type NamedNode } from './named-node.js';

export interface NamedCluster {
  readonly a: NamedNode;
  readonly b: NamedNode;
  readonly c: NamedNode;
  /** A connection to the cluster's schema, for a test to read rows (instances, nodes, sessions). */
  readonly database: pg.Client;
  /** The URL of the cluster's schema (what the nodes were started with). */
  readonly databaseUrl: string;
  /** The root user's client on `node`. */
  readonly rootOn: (node: NamedNode) => AirlockClient;
  /** The instance's PingStatus as `node` answers DescribeInstanceInformation. */
  readonly pingStatus: (node: NamedNode, instanceId: string) => Promise<string | undefined>;
  /** Runs at stop(), before the nodes are killed, latest first (agents, proxies, clients). */
  readonly onStop: (cleanup: () => unknown) => void;
  /** A temporary directory, removed at stop(). */
  readonly directory: () => Promise<string>;
  /** Runs the cleanups, kills the nodes, removes the directories, drops the schema. */
  readonly stop: () => Promise<void>;
}

export async function startNamedCluster(): Promise<NamedCluster> {
  const schema = await withSchema();
  const database = new pg.Client({ connectionString: schema.url });
  await database.connect();
  const directories: { path: string; remove(): Promise<void> }[] = [];
  const directory = async (): Promise<string> => {
    const made = await temporaryDirectory('airlock-cluster-');
    directories.push(made);
    return made.path;
  };
  const nodes: NamedNode[] = [];
  const cleanups: (() => unknown)[] = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    await Promise.all(nodes.map((node) => node.kill()));
    await database.end();
    await Promise.all(directories.map((made) => made.remove()));
    await schema.drop();
  };
  const secretKey = randomBytes(32).toString('base64');
  const node = async (name: string): Promise<NamedNode> => {
    const started = await startNamedNode({ name, databaseUrl: schema.url, dataDir: await directory(), secretKey });
    nodes.push(started);
    return started;
  };
  try {
    const a = await node('a');
    const [b, c] = await Promise.all([node('b'), node('c')]);
    const rootToken = (await readFile(join(directories[0]?.path ?? '', 'root-token'), 'utf8')).trim();
    const rootOn = (on: NamedNode): AirlockClient => new AirlockClient({ endpointUrl: on.url, token: rootToken });
    return {
      a,
      b,
      c,
      databaseUrl: schema.url,
      database,
      rootOn,
      pingStatus: async (on, instanceId) => {
        const { InstanceInformationList } = await rootOn(on).call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] });
        return InstanceInformationList[0]?.PingStatus;
      },
      onStop: (cleanup) => cleanups.push(cleanup),
      directory,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
