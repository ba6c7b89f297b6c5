/**
 * Session documents: what a session runs, and the account's preferences. StartSession names a
 * document (or none: the account's SSM-SessionManagerRunShell); its parameters are checked
 * against the document's and resolved here into the work the agent is told to do, so the agent
 * interprets nothing.
 */
import { ApiError, type control } from '@airlock/protocol';
import { isForbiddenForwardHost } from './forward-hosts.js';

export const SESSION_TYPES = ['Standard_Stream', 'InteractiveCommands', 'NonInteractiveCommands', 'Port'] as const;
export type SessionType = (typeof SESSION_TYPES)[number];

export interface DocumentParameter {
  readonly type: 'String';
  readonly description: string;
  readonly default?: string;
  readonly allowedPattern?: string;
  readonly allowedValues?: readonly string[];
}

export interface SessionDocument {
  readonly name: string;
  /** AWS's own documents have no account in their ARN. */
  readonly owner: 'Amazon' | 'Self';
  readonly sessionType: SessionType;
  readonly description: string;
  readonly parameters: Readonly<Record<string, DocumentParameter>>;
}

/** The account's preferences (SSM-SessionManagerRunShell's inputs) that sessions use. */
export interface Preferences {
  readonly idleSessionTimeoutMinutes: number;
  readonly maxSessionDurationMinutes: number | null;
  readonly runAsEnabled: boolean;
  readonly runAsDefaultUser: string;
  readonly shellProfileLinux: string;
}

export const DEFAULT_PREFERENCES: Preferences = {
  idleSessionTimeoutMinutes: 20,
  maxSessionDurationMinutes: null,
  runAsEnabled: false,
  runAsDefaultUser: '',
  shellProfileLinux: '',
};

const PORT_PATTERN = '^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';
const LOCAL_PORT_PATTERN = '^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';

const portNumber = (fallback: string): DocumentParameter => ({ type: 'String', description: 'The port on the instance (or the remote host) to connect to.', default: fallback, allowedPattern: PORT_PATTERN });
const localPortNumber: DocumentParameter = { type: 'String', description: 'The port to listen on, on the client; 0 picks a free one.', default: '0', allowedPattern: LOCAL_PORT_PATTERN };
const command: DocumentParameter = { type: 'String', description: 'The command to run.', allowedPattern: '^[\\s\\S]{1,65535}$' };

export const RUN_SHELL = 'SSM-SessionManagerRunShell';

/** The documents every account has. */
export const BUILT_IN_DOCUMENTS: readonly SessionDocument[] = [
  { name: RUN_SHELL, owner: 'Self', sessionType: 'Standard_Stream', description: "A shell, with the account's session preferences.", parameters: {} },
  {
    name: 'AWS-StartPortForwardingSession',
    owner: 'Amazon',
    sessionType: 'Port',
    description: 'Forward a local port to a port on the instance.',
    parameters: { portNumber: portNumber('80'), localPortNumber },
  },
  {
    name: 'AWS-StartPortForwardingSessionToRemoteHost',
    owner: 'Amazon',
    sessionType: 'Port',
    description: 'Forward a local port to a host the instance reaches.',
    parameters: { host: { type: 'String', description: 'The host (name or address) to connect to from the instance.', allowedPattern: '^[A-Za-z0-9.:_-]{1,253}$' }, portNumber: portNumber('80'), localPortNumber },
  },
  { name: 'AWS-StartSSHSession', owner: 'Amazon', sessionType: 'Port', description: "Carry an SSH connection to the instance's SSH server.", parameters: { portNumber: portNumber('22') } },
  { name: 'AWS-StartInteractiveCommand', owner: 'Amazon', sessionType: 'InteractiveCommands', description: 'Run a command in a terminal.', parameters: { command } },
  { name: 'AWS-StartNonInteractiveCommand', owner: 'Amazon', sessionType: 'NonInteractiveCommands', description: 'Run a command without a terminal; its exit status ends the session.', parameters: { command } },
];

const byName = new Map(BUILT_IN_DOCUMENTS.map((document) => [document.name, document]));

/** `AWS-StartSSHSession` or its ARN (`arn:aws:ssm:{region}::document/AWS-StartSSHSession`) to the name. */
function documentName(nameOrArn: string): string {
  const match = /^arn:aws:ssm:[a-z0-9-]*:\d{0,12}:document\/(.+)$/.exec(nameOrArn);
  return match?.[1] ?? nameOrArn;
}

export function findDocument(nameOrArn: string): SessionDocument {
  const document = byName.get(documentName(nameOrArn));
  if (document === undefined) throw new ApiError('InvalidDocument', `${nameOrArn} is not a Session document: use ${[...byName.keys()].join(', ')}.`);
  return document;
}

export function documentArn(document: SessionDocument, region: string, accountId: string): string {
  return `arn:aws:ssm:${region}:${document.owner === 'Amazon' ? '' : accountId}:document/${document.name}`;
}

/** The parameter values: each given one checked, defaults filled in, unknown ones refused. */
export function resolveParameters(document: SessionDocument, given: Readonly<Record<string, readonly string[]>> = {}): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(document.parameters, name)) {
      const known = Object.keys(document.parameters);
      throw new ApiError('InvalidParameters', `${document.name} has no parameter ${name}${known.length === 0 ? ': it takes none' : `; it takes ${known.join(', ')}`}.`);
    }
  }
  for (const [name, parameter] of Object.entries(document.parameters)) {
    const list = given[name];
    if (list !== undefined && list.length !== 1) throw new ApiError('InvalidParameters', `${document.name}'s ${name} takes one value, not ${list.length}.`);
    const value = list?.[0] ?? parameter.default;
    if (value === undefined) throw new ApiError('InvalidParameters', `${document.name} needs the parameter ${name}: ${parameter.description}`);
    if (parameter.allowedPattern !== undefined && !new RegExp(parameter.allowedPattern, 'u').test(value)) {
      throw new ApiError('InvalidParameters', `${name} ${JSON.stringify(value.slice(0, 100))} does not match ${parameter.allowedPattern}.`);
    }
    if (parameter.allowedValues !== undefined && !parameter.allowedValues.includes(value)) {
      throw new ApiError('InvalidParameters', `${name} must be one of ${parameter.allowedValues.join(', ')}.`);
    }
    values[name] = value;
  }
  return values;
}

/** What the agent runs for this document, these parameters and the user's Run As. */
export function sessionWork(document: SessionDocument, values: Readonly<Record<string, string>>, runAs: control.RunAs, preferences: Preferences): control.SessionWork {
  switch (document.sessionType) {
    case 'Standard_Stream':
      return { kind: 'shell', runAs, profile: preferences.shellProfileLinux };
    case 'InteractiveCommands':
      return { kind: 'interactive-command', runAs, command: values['command'] ?? '' };
    case 'NonInteractiveCommands':
      return { kind: 'command', runAs, command: values['command'] ?? '' };
    case 'Port': {
      const host = values['host'] ?? 'localhost';
      if (isForbiddenForwardHost(host)) {
        throw new ApiError('InvalidParameters', `Forwarding to ${host} is forbidden: link-local and instance metadata addresses are never reached through a session.`);
      }
      return { kind: 'port', host, port: Number(values['portNumber']) };
    }
  }
}
