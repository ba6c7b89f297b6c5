/**
 * AWS CLI-style arguments: `--flag value`, `--flag=value`, and list flags that take every word
 * up to the next flag (`--action-names ssm:StartSession ssm:TerminateSession`).
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedArgs {
  /** Words before the first flag: the command path. */
  readonly words: readonly string[];
  /** Flag name without dashes → the values that followed it. */
  readonly flags: ReadonlyMap<string, readonly string[]>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const flags = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const arg of argv) {
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (flags.has(name)) throw new UsageError(`--${name} is given twice.`);
      current = eq < 0 ? [] : [arg.slice(eq + 1)];
      flags.set(name, current);
    } else if (arg === '-h') {
      flags.set('help', (current = []));
    } else if (current === undefined) {
      words.push(arg);
    } else {
      current.push(arg);
    }
  }
  return { words, flags };
}

/** Reads flags for one command, refusing unknown ones so typos do not pass silently. */
export class FlagReader {
  constructor(
    private readonly flags: ReadonlyMap<string, readonly string[]>,
    known: readonly string[],
    command: string,
  ) {
    for (const name of flags.keys()) {
      if (!known.includes(name)) {
        throw new UsageError(`${command} has no option --${name}. Options: ${known.map((k) => `--${k}`).join(', ')}.`);
      }
    }
  }

  has(name: string): boolean {
    return this.flags.has(name);
  }

  /** The words given after a flag, possibly none (a switch). */
  raw(name: string): readonly string[] | undefined {
    return this.flags.get(name);
  }

  list(name: string): readonly string[] | undefined {
    const values = this.flags.get(name);
    if (values?.length === 0) throw new UsageError(`--${name} needs a value.`);
    return values;
  }

  one(name: string): string | undefined {
    const values = this.list(name);
    if (values === undefined) return undefined;
    if (values.length > 1) throw new UsageError(`--${name} takes one value; got ${values.length}.`);
    return values[0];
  }

  required(name: string): string {
    const value = this.one(name);
    if (value === undefined) throw new UsageError(`--${name} is required.`);
    return value;
  }
}
