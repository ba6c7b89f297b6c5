/**
 * What the client does for a session, from its document, as AWS's session-manager-plugin
 * decides it from the session type:
 *
 *   terminal  Standard_Stream, InteractiveCommands (and no document: the account's shell)
 *   command   NonInteractiveCommands: plain stdin and stdout, the program's exit status
 *   port      Port documents that forward a local port (they take localPortNumber)
 *   pipe      Port documents without a local port (AWS-StartSSHSession): stdin and stdout are
 *             the one forwarded connection, for ssh's ProxyCommand
 *
 * AWS's documents are known by name; any other is read with ssm:GetDocument when the server
 * has that operation, and is a terminal when it does not.
 */
import { ownValue } from '@airlock/protocol';
import { parse as parseYaml } from 'yaml';

export type SessionMode = 'terminal' | 'command' | 'port' | 'pipe';

const KNOWN: Readonly<Record<string, SessionMode>> = {
  'SSM-SessionManagerRunShell': 'terminal',
  'AWS-StartInteractiveCommand': 'terminal',
  'AWS-StartNonInteractiveCommand': 'command',
  'AWS-StartPortForwardingSession': 'port',
  'AWS-StartPortForwardingSessionToRemoteHost': 'port',
  'AWS-StartSSHSession': 'pipe',
};

/** `arn:aws:ssm:{region}:{account}:document/NAME` or NAME → NAME. */
export function documentName(nameOrArn: string): string {
  return /^arn:[^:]*:ssm:[^:]*:[^:]*:document\/(.+)$/.exec(nameOrArn)?.[1] ?? nameOrArn;
}

/** The mode of one of the built-in documents, or undefined for any other. */
export function knownMode(nameOrArn: string | undefined): SessionMode | undefined {
  if (nameOrArn === undefined) return 'terminal';
  return ownValue(KNOWN, documentName(nameOrArn));
}

/** The mode a Session document's content (JSON or YAML, as GetDocument returns it) asks for. */
export function modeOfContent(content: string): SessionMode | undefined {
  let parsed: unknown;
  try {
    parsed = parseYaml(content);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const document = parsed as { sessionType?: unknown; parameters?: unknown; properties?: unknown };
  switch (document.sessionType) {
    case 'Standard_Stream':
    case 'InteractiveCommands':
      return 'terminal';
    case 'NonInteractiveCommands':
      return 'command';
    case 'Port': {
      const properties = typeof document.properties === 'object' && document.properties !== null ? (document.properties as Record<string, unknown>) : {};
      const parameters = typeof document.parameters === 'object' && document.parameters !== null ? (document.parameters as Record<string, unknown>) : {};
      return properties['type'] === 'LocalPortForwarding' || 'localPortNumber' in parameters ? 'port' : 'pipe';
    }
    default:
      return undefined;
  }
}

/**
 * The mode for `nameOrArn`: by name for the built-in documents, else from the content `read`
 * finds (undefined when the server cannot say), else a terminal.
 */
export async function sessionMode(nameOrArn: string | undefined, read: (name: string) => Promise<string | undefined>): Promise<SessionMode> {
  const known = knownMode(nameOrArn);
  if (known !== undefined || nameOrArn === undefined) return known ?? 'terminal';
  const content = await read(nameOrArn);
  return (content === undefined ? undefined : modeOfContent(content)) ?? 'terminal';
}
