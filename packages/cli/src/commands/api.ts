/**
 * One command per API operation, generated from @airlock/protocol's registry:
 * `airlock identitystore create-user --user-name testuser01 …` calls
 * identitystore:CreateUser and prints the response as JSON, as the AWS CLI does.
 */
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { kebab, OPERATIONS, type AnyOperation } from '@airlock/protocol';
import { UsageError, type FlagReader } from '../args.js';
import type { Command, Io, OptionSpec } from '../command.js';
import { endpointUrl, explicitToken, loginToken, profileName } from '../environment.js';
import { outputFormat, render } from '../formats.js';
import { readProfile, roleToken } from '../profiles.js';
import { readParameter } from '../params.js';
import { parseOptionValue, shorthandSynopsis } from '../shorthand.js';
import { VERSION } from '../version.js';

/** The AWS CLI's exit code when the service answered with an error. */
export const SERVICE_ERROR_EXIT = 254;

export const ENDPOINT_OPTION: OptionSpec = {
  name: 'endpoint-url',
  value: '<url>',
  help: 'The Airlock server (or AIRLOCK_ENDPOINT_URL; default http://127.0.0.1:4100).',
};

export const CONNECTION_OPTIONS: readonly OptionSpec[] = [
  ENDPOINT_OPTION,
  { name: 'token-file', value: '<path>', help: 'A file holding the token (or AIRLOCK_TOKEN / AIRLOCK_TOKEN_FILE; else the one airlock login cached).' },
];

export const PROFILE_OPTION: OptionSpec = { name: 'profile', value: '<name>', help: 'The account and permission set to work as (airlock configure sso; or AIRLOCK_PROFILE).' };

const GENERIC_OPTIONS: readonly OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  PROFILE_OPTION,
  { name: 'output', value: '<json | text | table>', help: 'How to print the answer (default json).' },
  { name: 'cli-input-json', value: '<json | file://path>', help: 'The whole request as JSON; options given as well override its fields.' },
];

function operationCommand(spec: AnyOperation): Command {
  const members = Object.entries(spec.input.members);
  const options: OptionSpec[] = members.map(([name, member]) => {
    const synopsis = shorthandSynopsis(member.shape);
    const doc = member.shape.doc ?? (member.shape.kind === 'list' ? member.shape.member.doc : undefined);
    const parts = [member.required ? '(required)' : '', doc ?? (synopsis === undefined ? name : ''), synopsis === undefined ? '' : `Shorthand: ${synopsis} (or JSON).`];
    return {
      name: kebab(name),
      value: member.shape.kind === 'boolean' ? '' : `<${member.shape.kind === 'structure' || member.shape.kind === 'map' ? 'shorthand | json' : member.shape.kind}>`,
      help: parts.filter((part) => part !== '').join(' '),
    };
  });
  return {
    path: `${spec.service} ${kebab(spec.name)}`,
    summary: spec.summary,
    service: spec.service,
    options: [...options, ...GENERIC_OPTIONS],
    async run(flags, io) {
      const input = await buildInput(spec, flags);
      const format = outputFormat(flags.one('output'));
      const client = new AirlockClient(await connection(flags, spec.caller === 'authorized'));
      try {
        io.stdout.write(render(await client.callByName(spec.service, spec.name, input), format));
        return 0;
      } catch (error) {
        return reportError(error, spec.name, io);
      }
    },
  };
}

/**
 * Where to connect and with which token: an explicit token (--token-file, AIRLOCK_TOKEN…) as it
 * is; otherwise the portal token of `airlock login`, turned into a role session (the profile's,
 * or the user's only permission set) when the operation is decided by policy.
 */
export async function connection(flags: FlagReader, needsRole = false): Promise<{ endpointUrl: string; token?: string; userAgent: string }> {
  const userAgent = `airlock-cli/${VERSION}`;
  const name = profileName(flags.has('profile') ? flags.one('profile') : undefined);
  const profile = name === undefined ? undefined : await readProfile(name);
  const endpoint = endpointUrl(flags.one('endpoint-url') ?? profile?.endpointUrl);
  const bearer = (await explicitToken(flags.one('token-file'))) ?? (await loginToken(endpoint));
  if (bearer === undefined) return { endpointUrl: endpoint, userAgent };
  const useRole = needsRole && bearer.startsWith('alp_');
  return { endpointUrl: endpoint, userAgent, token: useRole ? await roleToken(endpoint, bearer, profile, userAgent) : bearer };
}

export function reportError(error: unknown, operation: string, io: Io): number {
  if (!(error instanceof AirlockApiError)) throw error;
  const where = error.code === 'NetworkError' ? '' : ` when calling the ${operation} operation`;
  io.stderr.write(`\nAn error occurred (${error.code})${where}: ${error.message}\n`);
  return SERVICE_ERROR_EXIT;
}

async function buildInput(spec: AnyOperation, flags: FlagReader): Promise<Record<string, unknown>> {
  const base = flags.one('cli-input-json');
  let input: Record<string, unknown> = {};
  if (base !== undefined) {
    const parsed = parseOptionValue('cli-input-json', { kind: 'document' }, [await readParameter(base)]);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--cli-input-json must be a JSON object.');
    input = parsed as Record<string, unknown>;
  }
  for (const [name, member] of Object.entries(spec.input.members)) {
    const words = flags.has(kebab(name)) ? (flags.raw(kebab(name)) ?? []) : undefined;
    // As the AWS CLI: any value may be file://path, the file's text in its place.
    if (words !== undefined) input[name] = parseOptionValue(kebab(name), member.shape, await Promise.all(words.map(readParameter)));
  }
  const missing = Object.entries(spec.input.members).filter(([name, member]) => member.required && input[name] === undefined);
  if (missing.length > 0) throw new UsageError(`the following arguments are required: ${missing.map(([name]) => `--${kebab(name)}`).join(', ')}`);
  return input;
}

export const API_COMMANDS: readonly Command[] = OPERATIONS.map(operationCommand);
