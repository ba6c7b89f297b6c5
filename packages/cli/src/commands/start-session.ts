/**
 * `airlock ssm start-session`: what the AWS CLI does with session-manager-plugin, in one
 * command. ssm:StartSession, then the session itself (session/run.ts): a terminal, a command,
 * a port forward or an SSH pipe, as the document says. The generated `ssm start-session`
 * (which would only print the token) gives way to this one.
 */
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { sessions } from '@airlock/protocol';
import { UsageError, type FlagReader } from '../args.js';
import type { Command } from '../command.js';
import { ResumeRefused } from '@airlock/client/session';
import { readParameter } from '../params.js';
import { sessionMode } from '../session/mode.js';
import { parameter, parseSessionParameters } from '../session/parameters.js';
import { runSession, type SessionApi } from '../session/run.js';
import { CONNECTION_OPTIONS, connection, PROFILE_OPTION, reportError } from './api.js';

/** Errors worth another ResumeSession: the server or the network, not the answer. */
const PASSING = new Set(['NetworkError', 'InternalServerException', 'ThrottlingException']);
/** A role session that ran out while the session went on: make a new one and ask again. */
const EXPIRED = new Set(['ExpiredTokenException', 'UnauthorizedException']);

function localPort(value: string | undefined): number {
  if (value === undefined) return 0;
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535) throw new UsageError(`localPortNumber must be a port from 0 to 65535, not "${value}".`);
  return port;
}

/** ResumeSession and TerminateSession, with a fresh role session when the first one expired. */
function sessionApi(flags: FlagReader, first: AirlockClient): SessionApi {
  let client = first;
  const call = async <T>(attempt: (client: AirlockClient) => Promise<T>): Promise<T> => {
    try {
      return await attempt(client);
    } catch (error) {
      if (!(error instanceof AirlockApiError) || !EXPIRED.has(error.code)) throw error;
      client = new AirlockClient(await connection(flags, true));
      return attempt(client);
    }
  };
  return {
    async resume(sessionId) {
      try {
        const { TokenValue, StreamUrl } = await call((api) => api.call(sessions.ResumeSession, { SessionId: sessionId }));
        if (TokenValue === '') throw new ResumeRefused(`Session: ${sessionId} timed out.`);
        return { token: TokenValue, streamUrl: StreamUrl };
      } catch (error) {
        if (error instanceof AirlockApiError && !PASSING.has(error.code) && !(error.code === 'HttpError' && error.status >= 500)) {
          throw new ResumeRefused(`ResumeSession: ${error.message}`);
        }
        throw error;
      }
    },
    async terminate(sessionId) {
      await call((api) => api.call(sessions.TerminateSession, { SessionId: sessionId }));
    },
  };
}

/** A document's content, when the server can say (ssm:GetDocument); undefined otherwise. */
async function documentContent(client: AirlockClient, name: string): Promise<string | undefined> {
  try {
    const answer = (await client.callByName('ssm', 'GetDocument', { Name: name })) as { Content?: unknown };
    return typeof answer.Content === 'string' ? answer.Content : undefined;
  } catch {
    return undefined;
  }
}

export const startSession: Command = {
  path: 'ssm start-session',
  service: 'ssm',
  summary:
    'Open a session on an instance and use it from here: a shell (the default), a command, a port forward (listens on 127.0.0.1:localPortNumber), or an SSH connection for ProxyCommand, as the document says.',
  options: [
    { name: 'target', value: '<string>', help: '(required) The instance: i-… or mi-….' },
    { name: 'document-name', value: '<string>', help: 'A Session document, e.g. AWS-StartPortForwardingSession or AWS-StartSSHSession (default: a shell with the account\'s preferences).' },
    { name: 'parameters', value: '<shorthand | json>', help: "The document's parameters: portNumber=80,localPortNumber=8080 or {\"portNumber\":[\"80\"]}." },
    { name: 'reason', value: '<string>', help: 'Why: kept with the session and in the audit trail.' },
    ...CONNECTION_OPTIONS,
    PROFILE_OPTION,
  ],
  examples: [
    'airlock ssm start-session --target mi-0123456789abcdef0',
    'airlock ssm start-session --target mi-0123456789abcdef0 --document-name AWS-StartPortForwardingSession --parameters portNumber=80,localPortNumber=8080',
    'ssh -o ProxyCommand="airlock ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p" ec2-user@mi-0123456789abcdef0',
  ],
  async run(flags, io) {
    const target = flags.required('target');
    const documentName = flags.one('document-name');
    const reason = flags.one('reason');
    const parameters = parseSessionParameters(flags.has('parameters') ? await Promise.all((flags.raw('parameters') ?? []).map(readParameter)) : undefined);
    const port = localPort(parameter(parameters, 'localPortNumber'));
    const client = new AirlockClient(await connection(flags, true));
    const mode = await sessionMode(documentName, (name) => documentContent(client, name));
    let started;
    try {
      started = await client.call(sessions.StartSession, {
        Target: target,
        ...(documentName === undefined ? {} : { DocumentName: documentName }),
        ...(reason === undefined ? {} : { Reason: reason }),
        ...(parameters === undefined ? {} : { Parameters: parameters }),
      });
    } catch (error) {
      return reportError(error, 'StartSession', io);
    }
    return runSession(started, sessionApi(flags, client), io, { mode, localPort: port });
  },
};
