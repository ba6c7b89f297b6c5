/** A real Airlock server for a test: loopback, random port, temporary data directory. */
import { readFile } from 'node:fs/promises';
import { AirlockClient } from '@airlock/client';
import { loadConfig } from '@airlock/server/config/config';
import { startServer, type RunningServer } from '@airlock/server/server';
import { withSchema, type Backend } from './backends.js';
import { MovableClock } from './clock.js';
import { temporaryDirectory } from './files.js';
import { quietLogger, type CapturedLog } from './log.js';

export interface TestServerOptions {
  readonly backend?: Backend;
  /** Extra server flags, as on the command line (kebab-case, without dashes). */
  readonly flags?: Readonly<Record<string, string>>;
}

export interface TestServer {
  readonly url: string;
  readonly dataDir: string;
  readonly rootToken: string;
  /** A client authenticated with the root token. */
  readonly root: AirlockClient;
  readonly clock: MovableClock;
  readonly log: CapturedLog;
  readonly server: RunningServer;
  /** A client with no credentials, or with the given token. */
  client(token?: string): AirlockClient;
  /**
   * Stops this server and starts another on the same data (directory and database), with the
   * extra flags given here instead: the stopped one must not be used again. For settings that
   * need something the first start made (the management account's id…).
   */
  restart(options?: { readonly flags?: Readonly<Record<string, string>> }): Promise<TestServer>;
  stop(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const directory = await temporaryDirectory();
  const schema = options.backend === 'postgres' ? await withSchema() : undefined;
  return start(directory, schema, options.flags ?? {});
}

async function start(
  directory: { path: string; remove: () => Promise<void> },
  schema: { url: string; drop: () => Promise<void> } | undefined,
  extraFlags: Readonly<Record<string, string>>,
): Promise<TestServer> {
  const flags = new Map<string, string>([['data-dir', directory.path], ['listen', '127.0.0.1:0'], ...Object.entries(extraFlags)]);
  if (schema !== undefined) flags.set('database-url', schema.url);
  const clock = new MovableClock(Date.now());
  const log = quietLogger();
  const server = await startServer(loadConfig(flags, {}), { clock, log });
  const rootToken = (await readFile(`${directory.path}/root-token`, 'utf8')).trim();
  const client = (token?: string): AirlockClient => new AirlockClient({ endpointUrl: server.url, ...(token === undefined ? {} : { token }) });
  return {
    url: server.url,
    dataDir: directory.path,
    rootToken,
    root: client(rootToken),
    clock,
    log,
    server,
    client,
    restart: async (restartOptions = {}) => {
      await server.close();
      return start(directory, schema, restartOptions.flags ?? {});
    },
    stop: async () => {
      await server.close();
      await schema?.drop();
      await directory.remove();
    },
  };
}
