/** Dispatch: finds the command named by the leading words, checks its flags, runs it. */
import { FlagReader, parseArgs, UsageError } from './args.js';
import { commandHelp, type Command, type Io } from './command.js';
import { COMMANDS } from './commands/index.js';
import { VERSION } from './version.js';

export async function run(argv: readonly string[], io: Io, commands: readonly Command[] = COMMANDS): Promise<number> {
  try {
    const passThrough = commands.find((candidate) => candidate.passThrough === true && argv.slice(0, candidate.path.split(' ').length).join(' ') === candidate.path);
    if (passThrough !== undefined) {
      return await passThrough.run(new FlagReader(new Map(), [], passThrough.path), io, argv.slice(passThrough.path.split(' ').length));
    }
    const parsed = parseArgs(argv);
    const { flags } = parsed;
    const words = withoutAlias(parsed.words);
    if (flags.has('version')) {
      io.stdout.write(`airlock ${VERSION}\n`);
      return 0;
    }
    const command = commands.find((candidate) => candidate.path === words.slice(0, candidate.path.split(' ').length).join(' '));
    if (command === undefined) {
      const service = commands.filter((candidate) => candidate.service !== undefined && candidate.service === words[0]);
      if (words.length === 1 && service.length > 0) {
        io.stdout.write(listing(`airlock ${words[0] ?? ''} <operation> [--option value …]`, service));
        return flags.has('help') ? 0 : 2;
      }
      if (words.length > 0) throw new UsageError(`Unknown command "${words.join(' ')}".\n\n${overview(commands)}`);
      io.stdout.write(overview(commands));
      return flags.has('help') ? 0 : 2;
    }
    const extra = words.slice(command.path.split(' ').length);
    if (extra.length > 0) throw new UsageError(`airlock ${command.path} takes no argument "${extra.join(' ')}"; options start with --.`);
    if (flags.has('help')) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run(new FlagReader(flags, command.options.map((option) => option.name), `airlock ${command.path}`), io, argv);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`airlock: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * The AWS CLI splits IAM Identity Center into `sso` (the portal) and `sso-admin` (permission sets,
 * assignments); Airlock has both under `sso`, the prefix of their IAM actions, and takes either.
 */
const SERVICE_ALIASES: ReadonlyMap<string, string> = new Map([['sso-admin', 'sso']]);

function withoutAlias(words: readonly string[]): readonly string[] {
  const [first, ...rest] = words;
  const service = first === undefined ? undefined : SERVICE_ALIASES.get(first);
  return service === undefined ? words : [service, ...rest];
}

function listing(usage: string, commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.path.length)) + 2;
  return [`Usage: ${usage}`, '', 'Commands:', ...commands.map((command) => `  ${command.path.padEnd(width)}${command.summary}`), ''].join('\n');
}

function overview(commands: readonly Command[]): string {
  const services = new Map<string, number>();
  for (const command of commands) if (command.service !== undefined) services.set(command.service, (services.get(command.service) ?? 0) + 1);
  const local = commands.filter((command) => command.service === undefined);
  const lines = [
    'airlock: remote access without a bastion.',
    '',
    listing('airlock <command> [--option value …]    airlock <command> --help', local),
    'API services (airlock <service> lists its operations, as the AWS CLI names them):',
    ...[...services].map(([service, count]) => {
      const aliases = [...SERVICE_ALIASES].filter(([, name]) => name === service).map(([alias]) => `, also as ${alias}`);
      return `  ${service.padEnd(16)}${count} operation${count === 1 ? '' : 's'}${aliases.join('')}`;
    }),
    '',
    'Options for every command: --help, --version',
  ];
  return lines.join('\n') + '\n';
}
