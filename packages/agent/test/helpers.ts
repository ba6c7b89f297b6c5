/** Small helpers for the agent's tests: temporary directories, waiting, a captured log. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@airlock/agent';

export async function temporaryDirectory(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'airlock-agent-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Polls until the condition holds; fails with `what` after the timeout. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface CapturedLogger extends Logger {
  readonly lines: string[];
  text(): string;
}

export function capturedLogger(): CapturedLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(`INFO ${message}`),
    warn: (message) => lines.push(`WARN ${message}`),
    error: (message) => lines.push(`ERROR ${message}`),
    text: () => lines.join('\n'),
  };
}

/** The repository's root, from packages/agent/dist-test/. */
export const repoRoot = new URL('../../../', import.meta.url).pathname;
export const agentBin = `${repoRoot}packages/agent/bin/airlock-agent.js`;

export interface AgentProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name); fails after the timeout. */
  exited(timeoutMs?: number): Promise<number | string>;
}

/** Runs bin/airlock-agent.js as a child process, with an environment of our choosing. */
export function spawnAgent(args: readonly string[], env: Readonly<Record<string, string>> = {}): AgentProcess {
  const child = spawn(process.execPath, [agentBin, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exit = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: async (timeoutMs = 10_000) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`airlock-agent ${args.join(' ')} did not exit within ${timeoutMs} ms.\nstdout:\n${out}\nstderr:\n${err}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exit, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs the agent to completion. */
export async function runAgent(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const agent = spawnAgent(args, env);
  const code = await agent.exited();
  return { code, stdout: agent.stdout(), stderr: agent.stderr() };
}
