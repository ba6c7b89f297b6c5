/**
 * One session at the client, from StartSession's answer to the exit code: opens the data
 * channel (@airlock/client/session), runs the mode the document asks for, and prints AWS's lines
 * (`Starting session with SessionId: …`, `Exiting session with sessionId: ….`) on stderr;
 * nothing but the session's bytes goes to stdout.
 */
import type { Io } from '../command.js';
import { SessionConnection, type ConnectionOptions, type StreamGrant } from '@airlock/client/session';
import { SESSION_FAILED_EXIT, type Outcome, type SessionContext, type SignalSource } from './context.js';
import type { SessionMode } from './mode.js';
import { runPortForward } from './port-forward.js';
import { runSshPipe } from './ssh-pipe.js';
import { runTerminal } from './terminal.js';
import { wsDialer } from './ws-socket.js';

export interface StartedSession {
  readonly SessionId: string;
  readonly TokenValue: string;
  readonly StreamUrl: string;
}

/** The session operations the client needs after StartSession. */
export interface SessionApi {
  /** ssm:ResumeSession's TokenValue and StreamUrl (another node's once the session moved); ResumeRefused when the session cannot be resumed. */
  resume(sessionId: string): Promise<StreamGrant>;
  terminate(sessionId: string): Promise<void>;
}

export interface RunOptions {
  readonly mode: SessionMode;
  /** Port forwarding: where to listen (0: a free port). */
  readonly localPort?: number;
  readonly signals?: SignalSource;
  readonly connection?: Pick<ConnectionOptions, 'retry' | 'readyTimeoutMs' | 'window'> & { readonly pingIntervalMs?: number };
}

const TERMINATE_WAIT_MS = 3_000;

export async function runSession(started: StartedSession, api: SessionApi, io: Io, options: RunOptions): Promise<number> {
  const sessionId = started.SessionId;
  // SSH reads stdout as its connection and shows stderr to the person: the pipe says only what went wrong.
  const quiet = options.mode === 'pipe';
  const eol = (io.stderr as { isTTY?: boolean }).isTTY === true ? '\r\n' : '\n';
  const say = (text: string): void => {
    io.stderr.write(`${text}${eol}`);
  };
  const { pingIntervalMs, ...connectionOptions } = options.connection ?? {};
  const connection = new SessionConnection({ ...connectionOptions, dial: wsDialer(pingIntervalMs), streamUrl: started.StreamUrl, token: started.TokenValue, resume: () => api.resume(sessionId) });
  let terminating: Promise<void> | undefined;
  const terminate = (): Promise<void> =>
    (terminating ??= Promise.race([api.terminate(sessionId).catch(() => undefined), new Promise<void>((resolve) => setTimeout(resolve, TERMINATE_WAIT_MS).unref())]));

  if (!quiet) say(`Starting session with SessionId: ${sessionId}`);
  connection.onNotice = (notice) => {
    if (quiet) return;
    say(notice.kind === 'reconnecting' ? `The connection dropped (${notice.reason}); resuming the session…` : 'The session resumed.');
  };
  try {
    await connection.open();
  } catch (error) {
    say(`Cannot open session ${sessionId}: ${error instanceof Error ? error.message : String(error)}`);
    await terminate();
    return SESSION_FAILED_EXIT;
  }
  const context: SessionContext = { sessionId, connection, io, signals: options.signals ?? process, terminate, say };
  let outcome: Outcome;
  try {
    outcome = await modeRunner(options)(context);
  } finally {
    connection.close();
  }
  if (outcome.message !== undefined && !(quiet && outcome.code === 0)) say(outcome.message);
  if (outcome.normal && !quiet) say(`${eol}Exiting session with sessionId: ${sessionId}.`);
  return outcome.code;
}

function modeRunner(options: RunOptions): (context: SessionContext) => Promise<Outcome> {
  switch (options.mode) {
    case 'terminal':
      return (context) => runTerminal(context, true);
    case 'command':
      return (context) => runTerminal(context, false);
    case 'port':
      return (context) => runPortForward(context, options.localPort ?? 0);
    case 'pipe':
      return runSshPipe;
  }
}
