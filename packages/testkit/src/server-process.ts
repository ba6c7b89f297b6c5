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

/**
 * `main`: another program to run instead of the server's main, taking the same --data-dir and
 * --listen and printing the same line (a test's server started with options no flag sets).
 */
export async function startServerProcess(options: { readonly startMs?: number; readonly main?: string } = {}): Promise<ServerProcess> {
  const directory = await temporaryDirectory('airlock-process-');
  const startMs = options.startMs ?? 20_000;
  const flags = (listen: string): string[] => ['--data-dir', directory.path, '--listen', listen];
  let running: ChildProcess | undefined;
  let tail = '';
  const printed = (text: string): void => {
    tail = (tail + text).slice(-16_384);
  };
  const first = await launch(flags('127.0.0.1:0'), startMs, printed, undefined, options.main);
  running = first.child;
  const { url } = first;
  const port = new URL(url).port;
  const rootToken = (await readFile(`${directory.path}/root-token`, 'utf8')).trim();
  const client = (token?: string): AirlockClient => new AirlockClient({ endpointUrl: url, ...(token === undefined ? {} : { token }) });
  const kill = async (): Promise<void> => {
    const child = running;
    running = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url,
    dataDir: directory.path,
    rootToken,
    root: client(rootToken),
    client,
    output: () => tail,
    kill,
    start: async () => {
      if (running !== undefined) throw new Error('the server is running: kill it first');
      running = (await launch(flags(`127.0.0.1:${port}`), startMs, printed, undefined, options.main)).child;
    },
    stop: async () => {
      await kill();
      await directory.remove();
    },
  };
}
