/**
 * Session documents: what a session runs, and the preferences it runs with. StartSession names a
 * document (or none: the account's SSM-SessionManagerRunShell); its parameters are checked
 * against the document's and substituted into it here, into the work the agent is told to do,
 * so the agent interprets nothing. AWS's own documents are built in, written as AWS's content;
 * an account's are stored (document-store.ts).
 */
import { ApiError, forwarding as forwardRules, ownValue, type control } from '@airlock/protocol';
import { DEFAULT_INPUTS, parameterProblem, portNumberProblem, readContent, readPreferences, REFERENCE, type DocumentContent, type DocumentParameter, type Preferences } from './document-content.js';

export { SESSION_TYPES, type DocumentParameter, type Preferences, type SessionType } from './document-content.js';

export const RUN_SHELL = 'SSM-SessionManagerRunShell';
/** The longest command the agent takes (control.ts). */
const MAX_COMMAND = 65_535;

export interface SessionDocument extends DocumentContent {
  readonly name: string;
  /** AWS's own documents have no account in their ARN. */
  readonly owner: 'Amazon' | 'Self';
}

const PORT_PATTERN = '^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';
const LOCAL_PORT_PATTERN = '^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';

const portNumber = (fallback: string) => ({ type: 'String', description: 'The port on the instance (or the remote host) to connect to.', default: fallback, allowedPattern: PORT_PATTERN });
const localPortNumber = { type: 'String', description: 'The port to listen on, on the client; 0 picks a free one.', default: '0', allowedPattern: LOCAL_PORT_PATTERN };
const command = { type: 'String', description: 'The command to run.', allowedPattern: '^[\\s\\S]{1,65535}$' };
const forwarding = { portNumber: '{{ portNumber }}', type: 'LocalPortForwarding', localPortNumber: '{{ localPortNumber }}' };
const runs = (sessionType: string, description: string) => ({
  schemaVersion: '1.0',
  description,
  sessionType,
  parameters: { command },
  properties: { linux: { commands: '{{ command }}', runAsElevated: false } },
});

/** AWS's Session documents, as GetDocument shows them. */
const AWS_CONTENT: Readonly<Record<string, object>> = {
  'AWS-StartPortForwardingSession': {
    schemaVersion: '1.0',
    description: 'Forward a local port to a port on the instance.',
    sessionType: 'Port',
    parameters: { portNumber: portNumber('80'), localPortNumber },
    properties: forwarding,
  },
  'AWS-StartPortForwardingSessionToRemoteHost': {
    schemaVersion: '1.0',
    description: 'Forward a local port to a host the instance reaches.',
    sessionType: 'Port',
    parameters: {
      host: { type: 'String', description: 'The host (name or address) to connect to from the instance.', allowedPattern: '^[A-Za-z0-9.:_-]{1,253}$' },
      portNumber: portNumber('80'),
      localPortNumber,
    },
    properties: { host: '{{ host }}', ...forwarding },
  },
  'AWS-StartSSHSession': {
    schemaVersion: '1.0',
    description: "Carry an SSH connection to the instance's SSH server.",
    sessionType: 'Port',
    parameters: { portNumber: portNumber('22') },
    properties: { portNumber: '{{ portNumber }}' },
  },
  'AWS-StartInteractiveCommand': runs('InteractiveCommands', 'Run a command in a terminal.'),
  'AWS-StartNonInteractiveCommand': runs('NonInteractiveCommands', 'Run a command without a terminal; its exit status ends the session.'),
};

/** SSM-SessionManagerRunShell until the account sets its own preferences. */
export const DEFAULT_RUN_SHELL_CONTENT = JSON.stringify(
  { schemaVersion: '1.0', description: 'Document to hold regional settings for Session Manager', sessionType: 'Standard_Stream', inputs: DEFAULT_INPUTS },
  null,
  2,
);

/** AWS's documents by name: their content (JSON) and what it says. */
export const AWS_DOCUMENTS: ReadonlyMap<string, { readonly content: string; readonly document: SessionDocument }> = new Map(
  Object.entries(AWS_CONTENT).map(([name, value]) => {
    const content = JSON.stringify(value, null, 2);
    return [name, { content, document: { name, owner: 'Amazon' as const, ...readContent(content) } }];
  }),
);

export const DEFAULT_PREFERENCES: Preferences = readPreferences({});

/** Names AWS keeps for its own documents: an account's cannot begin so. */
export const RESERVED_PREFIX = /^(aws-|amazon|amzn)/i;

export function ownerOf(name: string): 'Amazon' | 'Self' {
  return RESERVED_PREFIX.test(name) ? 'Amazon' : 'Self';
}

/** `AWS-StartSSHSession` or an ARN (`arn:aws:ssm:{region}:{account}:document/{name}`) to the name and the ARN's account ('' for AWS's). */
export function parseDocumentName(nameOrArn: string): { readonly name: string; readonly account: string | undefined } {
  const match = /^arn:aws:ssm:[a-z0-9-]*:(\d{0,12}):document\/(.+)$/.exec(nameOrArn);
  return match === null ? { name: nameOrArn, account: undefined } : { name: match[2] ?? '', account: match[1] ?? '' };
}

/** `arn:aws:ssm:{region}::document/AWS-…` for AWS's documents, `arn:aws:ssm:{region}:{account}:document/…` for the account's. */
export function documentArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ssm:${region}:${ownerOf(name) === 'Amazon' ? '' : accountId}:document/${name}`;
}

/** The message for a document that is not there, naming what is. */
export function noSuchDocument(nameOrArn: string): ApiError {
  return new ApiError('InvalidDocument', `${nameOrArn} is not a Session document of this account or AWS's: use ${[RUN_SHELL, ...AWS_DOCUMENTS.keys()].join(', ')}, or one of the account's (ListDocuments).`);
}

/** The parameter values, as lists: each given one checked, defaults filled in, unknown ones refused. */
export function resolveParameters(document: SessionDocument, given: Readonly<Record<string, readonly string[]>> = {}): Record<string, readonly string[]> {
  const declared: Readonly<Record<string, DocumentParameter>> = document.parameters;
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) {
      const known = Object.keys(declared);
      throw new ApiError('InvalidParameters', `${document.name} has no parameter ${name}${known.length === 0 ? ': it takes none' : `; it takes ${known.join(', ')}`}.`);
    }
  }
  const values: Record<string, readonly string[]> = {};
  for (const [name, parameter] of Object.entries(declared)) {
    const list = given[name] ?? parameter.default;
    if (list === undefined) throw new ApiError('InvalidParameters', `${document.name} needs the parameter ${name}${parameter.description === '' ? '.' : `: ${parameter.description}`}`);
    if (parameter.type === 'String' && list.length !== 1) throw new ApiError('InvalidParameters', `${document.name}'s ${name} takes one value, not ${list.length}.`);
    if (list.length === 0) throw new ApiError('InvalidParameters', `${document.name}'s ${name} needs at least one value.`);
    for (const value of list) {
      const problem = parameterProblem(name, parameter, value);
      if (problem !== undefined) throw new ApiError('InvalidParameters', problem);
    }
    values[name] = list;
  }
  return values;
}

/** `{{ name }}` replaced by the value (a StringList's values joined by spaces). */
export function substitute(template: string, values: Readonly<Record<string, readonly string[]>>): string {
  return template.replace(REFERENCE, (reference, name: string) => ownValue(values, name)?.join(' ') ?? reference);
}

/** The document's commands with the values put in, no longer than the agent takes. */
function commandOf(document: SessionDocument, commands: string, values: Readonly<Record<string, readonly string[]>>): string {
  const command = substitute(commands, values);
  if (command.length > MAX_COMMAND) throw new ApiError('InvalidParameters', `${document.name}'s command with these parameters is ${command.length} characters long: at most ${MAX_COMMAND}.`);
  return command;
}

/** What the agent runs for this document and these parameters; `runAs` is asked only for programs (not port forwarding). */
export function sessionWork(document: SessionDocument, values: Readonly<Record<string, readonly string[]>>, runAs: () => control.RunAs): control.SessionWork {
  const { spec } = document;
  switch (spec.sessionType) {
    case 'Standard_Stream':
      return { kind: 'shell', runAs: runAs(), profile: spec.preferences.shellProfileLinux };
    case 'InteractiveCommands':
      return { kind: 'interactive-command', runAs: runAs(), command: commandOf(document, spec.commands, values) };
    case 'NonInteractiveCommands':
      return { kind: 'command', runAs: runAs(), command: commandOf(document, spec.commands, values) };
    case 'Port': {
      const host = spec.host === undefined ? 'localhost' : substitute(spec.host, values);
      if (host === '' || host.length > 253) throw new ApiError('InvalidParameters', `host must be a name or address of 1 to 253 characters, not ${host.length}.`);
      if (forwardRules.isForbiddenForwardHost(host)) {
        throw new ApiError('InvalidParameters', `Forwarding to ${host} is forbidden: link-local and instance metadata addresses are never reached through a session.`);
      }
      const port = substitute(spec.portNumber, values);
      const problem = portNumberProblem(port);
      if (problem !== undefined) throw new ApiError('InvalidParameters', `portNumber ${problem}`);
      return { kind: 'port', host, port: Number(port) };
    }
  }
}
