/**
 * A real Airlock server in a child process (the server package's main, as `airlock server` runs
 * it), for tests that kill it with SIGKILL at any moment and start it again on the same port and
 * data: what a crash does, which an in-process server cannot show. SQLite in a temporary data
 * directory; loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AirlockClient } from '@airlock/client';
import { temporaryDirectory } from './files.js';

export interface ServerProcess {
  /** http://127.0.0.1:port, the same across restarts. */
  readonly url: string;
  readonly dataDir: string;
  readonly rootToken: string;
  readonly root: AirlockClient;
  client(token?: string): AirlockClient;
  /** The last 16 KB the server printed (this start and the ones before), for a failing test to show. */
  output(): string;
  /** SIGKILL: no goodbye, nothing flushed; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it listens. */
  start(): Promise<void>;
  /** Stops it (SIGKILL if it is running) and removes its data. */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(import.meta.resolve('@airlock/server/main'));
const LISTENING = /Airlock server listening on (https?:\/\/\S+)/;

/** Runs the server and waits (up to `ms`) for the line saying where it listens. */
export function launch(flags: readonly string[], ms: number, printed: (text: string) => void, env?: NodeJS.ProcessEnv, main = MAIN): Promise<{ child: ChildProcess; url: string }> {
  // eslint-disable-next-line no-restricted-syntax -- the child inherits the test's environment plus `env`
  const child = spawn(process.execPath, [main, ...flags], { stdio: ['ignore', 'pipe', 'pipe'], ...(env === undefined ? {} : { env: { ...process.env, ...env } }) });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start within ${ms} ms: ${output}`));
    }, ms);
    const take = (chunk: Buffer): void => {
      // Read to the end (a full pipe would stall the server).
      printed(chunk.toString('utf8'));
      if (output.length < 65_536) output += chunk.toString('utf8');
      const url = LISTENING.exec(output)?.[1];
      if (url !== undefined) {
        clearTimeout(timer);
        resolve({ child, url });
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal ?? '?'}) before listening: ${output}`));
    });
  });
}

/** SIGKILL: no goodbye, nothing flushed; resolves once `child` is gone (at once if it is). */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** A server in a child process that a test kills -9 and starts again on the port it first took. */
export interface Restartable {
  /** http://127.0.0.1:port, the same across restarts. */
  readonly url: string;
  /** The last 16 KB it printed (this start and the ones before). */
  output(): string;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it listens. */
  start(): Promise<void>;
}

/**
 * Launches a server with `flags(listen, url)`: at first on port 0 with `url` undefined, then
 * (start after kill) on the port it took, with the URL it printed. `what` names it in errors.
 */
export async function launchRestartable(
  flags: (listen: string, url: string | undefined) => readonly string[],
  options: { readonly what: string; readonly ms: number; readonly env?: NodeJS.ProcessEnv; readonly main?: string },
): Promise<Restartable> {
  let tail = '';
  const printed = (text: string): void => {
    tail = (tail + text).slice(-16_384);
  };
  const first = await launch(flags('127.0.0.1:0', undefined), options.ms, printed, options.env, options.main);
  let running: ChildProcess | undefined = first.child;
  const { url } = first;
  return {
    url,
    output: () => tail,
    kill: async () => {
      const child = running;
      running = undefined;
      if (child !== undefined) await killChild(child);
    },
    start: async () => {
      if (running !== undefined) throw new Error(`${options.what} is running: kill it first`);
      running = (await launch(flags(`127.0.0.1:${new URL(url).port}`, url), options.ms, printed, options.env, options.main)).child;
    },
  };
}

/**
 * `main`: another program to run instead of the server's main, taking the same --data-dir and
 * --listen and printing the same line (a test's server started with options no flag sets).
 */
export async function startServerProcess(options: { readonly startMs?: number; readonly main?: string } = {}): Promise<ServerProcess> {
  const directory = await temporaryDirectory('airlock-process-');
  const server = await launchRestartable((listen) => ['--data-dir', directory.path, '--listen', listen], {
    what: 'the server',
    ms: options.startMs ?? 20_000,
    ...(options.main === undefined ? {} : { main: options.main }),
  });
  const { url } = server;
  const rootToken = (await readFile(`${directory.path}/root-token`, 'utf8')).trim();
  const client = (token?: string): AirlockClient => new AirlockClient({ endpointUrl: url, ...(token === undefined ? {} : { token }) });
  return {
    ...server,
    dataDir: directory.path,
    rootToken,
    root: client(rootToken),
    client,
    stop: async () => {
      await server.kill();
      await directory.remove();
    },
  };
}
