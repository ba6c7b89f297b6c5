import { spawn } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { run } from '@airlock/cli';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with the given arguments and standard input. */
export async function airlock(args: readonly string[], stdin = ''): Promise<Result> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (chunk: Buffer) => chunks.out.push(chunk));
  stderr.on('data', (chunk: Buffer) => chunks.err.push(chunk));
  const code = await run(args, { stdin: Readable.from([stdin]), stdout, stderr });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

/**
 * `command` (a shell line that starts a session with the CLI) in a terminal, as `script` gives
 * one: once the session has started (within 15 s), `keys` are typed; resolves at the exit with its
 * code and everything the terminal showed.
 */
export async function inTerminal(command: string, env: NodeJS.ProcessEnv, keys: string): Promise<{ code: number | null; screen: string }> {
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env });
  let screen = '';
  child.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 15_000;
  while (!screen.includes('Starting session with SessionId')) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`no session: ${screen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.stdin.write(keys);
  const code = await exited;
  return { code, screen };
}

export const repoFile = (path: string): string => new URL(`../../../${path}`, import.meta.url).pathname;

/** The environment the `airlock` command runs in for the end-to-end tests: the repository's bin first, `home` as HOME (its cli/ the CLI's configuration), the server as root. */
export const cliEnvironment = (server: { readonly url: string; readonly rootToken: string }, home: string): NodeJS.ProcessEnv => ({
  PATH: `${repoFile('node_modules/.bin')}:${process.env['PATH'] ?? ''}`,
  HOME: home,
  AIRLOCK_CONFIG_DIR: `${home}/cli`,
  AIRLOCK_ENDPOINT_URL: server.url,
  AIRLOCK_TOKEN: server.rootToken,
});

export const GUIDE_POLICY = `file://${repoFile('examples/guide/policies/production-onprem.json')}`;
export const PROD_INSTANCE = 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718';
