/**
 * The agent's settings. Precedence: command-line flags, then the environment, then the JSON
 * config file (`--config`, default /etc/airlock/agent.json), then built-in defaults.
 * This is the one module of the agent that reads the environment.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DEFAULT_METADATA_URL } from './metadata.js';

export const DEFAULT_CONFIG_FILE = '/etc/airlock/agent.json';
export const DEFAULT_STATE_DIR = '/var/lib/airlock-agent';

/** Environment variables the agent reads (all optional). */
export const ENV = {
  /** Where the config file is, when --config is not given. */
  config: 'AIRLOCK_AGENT_CONFIG',
  /** The state directory, when --state-dir is not given. */
  stateDir: 'AIRLOCK_AGENT_STATE_DIR',
  /** The activation code, when --code is not given: keeps it out of `ps` and shell history. */
  activationCode: 'AIRLOCK_ACTIVATION_CODE',
} as const;

export type Environment = Readonly<Record<string, string | undefined>>;

// eslint-disable-next-line no-restricted-syntax -- the agent's one config module: systemd's Environment= and a code kept off the command line arrive here
const processEnvironment: Environment = process.env;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Command = 'register' | 'run' | 'help' | 'version';

export interface CommandLine {
  readonly command: Command;
  /** The command `help` was asked about, if any. */
  readonly helpFor?: 'register' | 'run';
  readonly flags: ReadonlyMap<string, string | true>;
}

const SWITCHES = new Set(['force', 'help', 'version', 'cloud']);
const KNOWN: Record<'register' | 'run', readonly string[]> = {
  register: ['endpoint-url', 'code', 'id', 'cloud', 'metadata-url', 'state-dir', 'config', 'ca-file', 'force', 'help'],
  run: ['state-dir', 'config', 'help'],
};
const ALL_KNOWN = new Set([...KNOWN.register, ...KNOWN.run, 'version']);

/** `COMMAND [--flag value | --flag=value | --switch]…`; unknown flags are refused so typos do not pass. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const flags = new Map<string, string | true>();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h') {
      flags.set('help', true);
      continue;
    }
    if (!arg.startsWith('--') || arg.length === 2) {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!ALL_KNOWN.has(name)) throw new UsageError(`Unknown option --${name}.`);
    if (flags.has(name)) throw new UsageError(`--${name} is given twice.`);
    if (SWITCHES.has(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value.`);
      flags.set(name, true);
      continue;
    }
    let value: string | undefined = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value.`);
    value = value.trim();
    if (value === '') throw new UsageError(`--${name} needs a value.`);
    flags.set(name, value);
  }
  const [word, ...rest] = words;
  if (rest.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(rest[0])}.`);
  if (word === undefined) {
    if (flags.has('version')) return { command: 'version', flags };
    if (flags.has('help') || flags.size === 0) return { command: 'help', flags };
    throw new UsageError('Give a command: register or run.');
  }
  if (word === 'help') return { command: 'help', flags };
  if (word !== 'register' && word !== 'run') throw new UsageError(`Unknown command ${JSON.stringify(word)}: the commands are register and run.`);
  if (flags.has('help')) return { command: 'help', helpFor: word, flags };
  if (flags.has('version')) return { command: 'version', flags };
  for (const name of flags.keys()) {
    if (!KNOWN[word].includes(name)) {
      throw new UsageError(`${word} has no option --${name}. Options: ${KNOWN[word].map((known) => `--${known}`).join(', ')}.`);
    }
  }
  return { command: word, flags };
}

/** What the JSON config file may set. */
export interface FileConfig {
  readonly endpointUrl?: string;
  readonly stateDir?: string;
  readonly caFile?: string;
  /**
   * Sessions: whether the ssm-user the agent creates gets passwordless sudo
   * (/etc/sudoers.d/ssm-agent-users), as AWS's agent does. Default true.
   */
  readonly ssmUserSudo?: boolean;
}

const FILE_KEYS = new Set(['endpointUrl', 'stateDir', 'caFile', 'ssmUserSudo']);
const BOOLEAN_KEYS = new Set(['ssmUserSudo']);

/**
 * Reads the config file. A missing file is fine when it is the default one, an error when it was
 * named. Relative paths in it are relative to the file.
 */
export async function loadConfigFile(path: string, named: boolean): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !named) return {};
    throw new UsageError(`Cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`The config file ${path} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`The config file ${path} must hold a JSON object.`);
  const config: { endpointUrl?: string; stateDir?: string; caFile?: string; ssmUserSudo?: boolean } = {};
  for (const [key, field] of Object.entries(value)) {
    if (!FILE_KEYS.has(key)) throw new UsageError(`The config file ${path} has an unknown key ${JSON.stringify(key)}; it may set endpointUrl, stateDir, caFile and ssmUserSudo.`);
    if (BOOLEAN_KEYS.has(key)) {
      if (typeof field !== 'boolean') throw new UsageError(`In the config file ${path}, ${key} must be true or false.`);
      config.ssmUserSudo = field;
      continue;
    }
    if (typeof field !== 'string' || field.trim() === '') throw new UsageError(`In the config file ${path}, ${key} must be a non-empty string.`);
    const base = dirname(path);
    if (key === 'endpointUrl') config.endpointUrl = field.trim();
    else if (key === 'stateDir') config.stateDir = resolve(base, field);
    else config.caFile = resolve(base, field);
  }
  return config;
}

export interface RunSettings {
  readonly configFile: string;
  readonly stateDir: string;
  /** The config file's endpoint, only to warn when it differs from the registered one. */
  readonly endpointUrl: string | undefined;
  /** Whether a newly created ssm-user gets passwordless sudo (default true, as AWS). */
  readonly ssmUserSudo: boolean;
}

export interface RegisterSettings extends RunSettings {
  readonly endpointUrl: string;
  /** With an activation (undefined with --cloud). */
  readonly activationId: string | undefined;
  readonly activationCode: string | undefined;
  /** --cloud: the instance metadata service to read the identity document from; undefined: an activation. */
  readonly metadataUrl: string | undefined;
  readonly caFile: string | undefined;
  readonly force: boolean;
}

const flag = (flags: ReadonlyMap<string, string | true>, name: string): string | undefined => {
  const value = flags.get(name);
  return typeof value === 'string' ? value : undefined;
};

async function common(flags: ReadonlyMap<string, string | true>, env: Environment): Promise<{ configFile: string; file: FileConfig; stateDir: string }> {
  const named = flag(flags, 'config') ?? nonEmpty(env[ENV.config]);
  const configFile = resolve(named ?? DEFAULT_CONFIG_FILE);
  const file = await loadConfigFile(configFile, named !== undefined);
  const stateDir = resolve(flag(flags, 'state-dir') ?? nonEmpty(env[ENV.stateDir]) ?? file.stateDir ?? DEFAULT_STATE_DIR);
  return { configFile, file, stateDir };
}

export async function runSettings(flags: ReadonlyMap<string, string | true>, env: Environment = processEnvironment): Promise<RunSettings> {
  const { configFile, file, stateDir } = await common(flags, env);
  return { configFile, stateDir, endpointUrl: file.endpointUrl, ssmUserSudo: file.ssmUserSudo ?? true };
}

export async function registerSettings(flags: ReadonlyMap<string, string | true>, env: Environment = processEnvironment): Promise<RegisterSettings> {
  const { configFile, file, stateDir } = await common(flags, env);
  const endpointUrl = flag(flags, 'endpoint-url') ?? file.endpointUrl;
  if (endpointUrl === undefined) throw new UsageError('register needs --endpoint-url (or endpointUrl in the config file).');
  const caFlag = flag(flags, 'ca-file');
  const caFile = caFlag === undefined ? file.caFile : resolve(caFlag);
  const force = flags.get('force') === true;
  if (flags.get('cloud') === true) {
    if (flags.has('id') || flags.has('code')) throw new UsageError('register --cloud uses the instance identity document, not an activation: leave out --id and --code.');
    const metadataUrl = flag(flags, 'metadata-url') ?? DEFAULT_METADATA_URL;
    return { configFile, stateDir, endpointUrl, activationId: undefined, activationCode: undefined, metadataUrl, caFile, force, ssmUserSudo: file.ssmUserSudo ?? true };
  }
  if (flags.has('metadata-url')) throw new UsageError('--metadata-url goes with --cloud.');
  const activationId = flag(flags, 'id');
  if (activationId === undefined) throw new UsageError('register needs --id ACTIVATION_ID (or --cloud on an EC2 instance).');
  const activationCode = flag(flags, 'code') ?? nonEmpty(env[ENV.activationCode])?.trim();
  if (activationCode === undefined) throw new UsageError(`register needs --code ACTIVATION_CODE (or ${ENV.activationCode} in the environment).`);
  return { configFile, stateDir, endpointUrl, activationId, activationCode, metadataUrl: undefined, caFile, force, ssmUserSudo: file.ssmUserSudo ?? true };
}

/** The search path sessions get when the agent has none. */
export const DEFAULT_SESSION_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What a session's program inherits from the agent's environment: the search path, and the locale (C.UTF-8 when unset). */
export function sessionEnvironment(env: Environment = processEnvironment): { readonly PATH: string; readonly LANG: string } {
  return { PATH: nonEmpty(env['PATH']) ?? DEFAULT_SESSION_PATH, LANG: nonEmpty(env['LANG']) ?? 'C.UTF-8' };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
