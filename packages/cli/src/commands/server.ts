/**
 * `airlock server …` runs the server package's own program, `airlock-server`, in this process's
 * place: the CLI never imports the server (DESIGN §2), it only starts it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.js';
import { childEnvironment } from '../environment.js';

/** node_modules/.bin of the installation the CLI runs from, where npm links airlock-server. */
const BIN_DIR = fileURLToPath(new URL('../../../../node_modules/.bin', import.meta.url));

export function runProgram(program: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: 'inherit', env: childEnvironment(BIN_DIR) });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

export const devMail: Command = {
  path: 'dev mail',
  summary: 'List the mails a server without SMTP wrote to its outbox, with their links and codes (--data-dir, default .airlock-data).',
  options: [],
  passThrough: true,
  run: (_flags, _io, argv) => runProgram('airlock-server', ['mail', ...argv]),
};

export const server: Command = {
  path: 'server',
  summary: 'Run an Airlock server (airlock server --help lists its options).',
  options: [],
  passThrough: true,
  run: (_flags, _io, argv) => runProgram('airlock-server', argv),
};
