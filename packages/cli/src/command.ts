/** The shape every CLI command has, so that help and option checking come from one place. */
import type { Readable, Writable } from 'node:stream';
import type { FlagReader } from './args.js';

export interface Io {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface OptionSpec {
  readonly name: string;
  /** How the value is written in help, e.g. `<file://path>`; empty for a switch. */
  readonly value: string;
  readonly help: string;
}

export interface Command {
  /** The words that select it: `policy simulate`. */
  readonly path: string;
  readonly summary: string;
  /** API commands are listed by service in the overview: `airlock identitystore` lists its own. */
  readonly service?: string;
  readonly options: readonly OptionSpec[];
  readonly examples?: readonly string[];
  /** Hands the arguments after the command path, unread, to `run` (for commands that start other programs). */
  readonly passThrough?: boolean;
  /** Returns the process exit code. */
  run(flags: FlagReader, io: Io, argv: readonly string[]): Promise<number>;
}

export function commandHelp(command: Command): string {
  const width = Math.max(...command.options.map((option) => option.name.length + option.value.length), 0) + 4;
  const lines = [`airlock ${command.path}`, '', command.summary, '', 'Options:'];
  for (const option of command.options) {
    const left = `--${option.name}${option.value === '' ? '' : ` ${option.value}`}`;
    lines.push(`  ${left.padEnd(width + 2)}${option.help}`);
  }
  if (command.examples !== undefined) lines.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`));
  return lines.join('\n') + '\n';
}
