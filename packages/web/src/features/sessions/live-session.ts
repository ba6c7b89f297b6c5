/**
 * A shell session in the browser: StartSession, then the data channel (@airlock/client's
 * SessionConnection over the page's WebSocket) joined to an xterm.js terminal. Keys go out as
 * Data frames, the window size as Resize frames (at the start and on every change), and the
 * agent's output is acknowledged once the terminal has taken it. A dropped connection resumes
 * with ResumeSession (the connection does it; this reports it).
 */
import { AirlockApiError } from '@airlock/client';
import { browserDialer, ResumeRefused, SessionConnection, type StreamGrant } from '@airlock/client/session';
import { data, sessions, streams } from '@airlock/protocol';
import type { Terminal } from '@xterm/xterm';
import { call } from '../../app/api';

export type SessionState =
  | { readonly kind: 'starting' }
  | { readonly kind: 'connected'; readonly sessionId: string }
  | { readonly kind: 'reconnecting'; readonly sessionId: string; readonly reason: string }
  /** clean: the shell exited with status 0, nothing went wrong. */
  | { readonly kind: 'ended'; readonly sessionId: string | undefined; readonly message: string; readonly clean: boolean }
  | { readonly kind: 'failed'; readonly error: unknown };

export interface LiveSession {
  /** Ends the session at the server (ssm:TerminateSession). */
  readonly terminate: () => Promise<void>;
  /** Leaves the page's part; the session itself goes on until it times out or is terminated. */
  readonly close: () => void;
}

const encoder = new TextEncoder();

/** ssm:ResumeSession's token and StreamUrl (another node's once the session moved); ResumeRefused for the refusals that no retry mends: the session is over, or the caller may not resume it. */
function resumeGrant(sessionId: string): () => Promise<StreamGrant> {
  return async () => {
    try {
      const { TokenValue, StreamUrl } = await call(sessions.ResumeSession, { SessionId: sessionId });
      return { token: TokenValue, streamUrl: StreamUrl };
    } catch (error) {
      if (error instanceof AirlockApiError && error.code !== 'NetworkError' && error.status < 500) throw new ResumeRefused(error.message);
      throw error;
    }
  };
}

export function startLiveSession(terminal: Terminal, input: { readonly Target: string; readonly Reason?: string }, onState: (state: SessionState) => void): LiveSession {
  let connection: SessionConnection | undefined;
  let sessionId: string | undefined;
  // An object, so the start (async) sees the close that came while it waited.
  const page = { closed: false };
  let ended = false;
  const end = (message: string, clean = false): void => {
    if (ended) return;
    ended = true;
    onState({ kind: 'ended', sessionId, message, clean });
    connection?.close();
  };
  const sendSize = (): void => {
    connection?.send({ type: data.FrameType.Resize, payload: data.resizePayload(terminal.cols, terminal.rows) });
  };
  const typed = terminal.onData((text) => {
    if (connection === undefined || ended) return;
    for (const frame of streams.dataFrames(0, encoder.encode(text))) connection.send(frame);
  });
  const resized = terminal.onResize(sendSize);

  void (async () => {
    onState({ kind: 'starting' });
    let started;
    try {
      started = await call(sessions.StartSession, input);
    } catch (error) {
      onState({ kind: 'failed', error });
      return;
    }
    sessionId = started.SessionId;
    if (page.closed) return;
    const open = new SessionConnection({ dial: browserDialer, streamUrl: started.StreamUrl, token: started.TokenValue, resume: resumeGrant(started.SessionId) });
    connection = open;
    open.onNotice = (notice) => {
      if (ended || sessionId === undefined) return;
      onState(notice.kind === 'reconnecting' ? { kind: 'reconnecting', sessionId, reason: notice.reason } : { kind: 'connected', sessionId });
    };
    void open.lost.then((reason) => {
      end(`The connection was lost: ${reason}`);
    });
    try {
      await open.open();
    } catch (error) {
      onState({ kind: 'failed', error });
      return;
    }
    onState({ kind: 'connected', sessionId: started.SessionId });
    open.onFrame = (frame, done) => {
      switch (frame.type) {
        case data.FrameType.Data:
          if (frame.stream === 0) {
            terminal.write(frame.payload, done);
            return;
          }
          break;
        case data.FrameType.Exit: {
          const { status } = data.readExit(frame.payload);
          end(`The shell exited (status ${status}).`, status === 0);
          break;
        }
        case data.FrameType.End:
          end(`The session ended: ${data.fromUtf8(frame.payload)}.`);
          break;
        default:
          break;
      }
      done();
    };
    sendSize();
    terminal.focus();
  })();

  return {
    terminate: async () => {
      if (sessionId !== undefined) await call(sessions.TerminateSession, { SessionId: sessionId });
    },
    close: () => {
      page.closed = true;
      typed.dispose();
      resized.dispose();
      connection?.close();
    },
  };
}
