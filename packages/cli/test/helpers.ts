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

export const repoFile = (path: string): string => new URL(`../../../${path}`, import.meta.url).pathname;

export const GUIDE_POLICY = `file://${repoFile('examples/guide/policies/production-onprem.json')}`;
export const PROD_INSTANCE = 'arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718';
