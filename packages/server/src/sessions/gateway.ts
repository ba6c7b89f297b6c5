/**
 * The data channel's doors: `GET /session/stream/{sessionId}` for clients and `GET /agent/data`
 * for agents (WebSockets). The first message must be an Auth frame: a client's single-use
 * token (from StartSession or ResumeSession), or an agent's signature with its registration
 * key over the session, the instance and the nonce the session-open carried. Then the socket
 * joins its session's hop in the broker. Anything else closes that socket only.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { data } from '@airlock/protocol';
import { WebSocket, type RawData, type WebSocketServer } from 'ws';
import { hashToken } from '../identity/tokens.js';
import type { Db } from '../storage/db.js';
import { DataCloseCode, type LiveSession, type SessionBroker, type Side } from './broker.js';

/** A message may batch frames; this bounds one. */
export const DATA_MAX_MESSAGE = 4 * (data.HEADER_BYTES + data.MAX_PAYLOAD);
const AUTH_TIMEOUT_MS = 10_000;

function bytesOf(message: RawData): Uint8Array {
  if (Array.isArray(message)) return Buffer.concat(message);
  return message instanceof ArrayBuffer ? new Uint8Array(message) : message;
}

/** The session id of a client's URL, `/session/stream/{id}`; undefined for any other path. */
export function streamSessionId(pathname: string): string | undefined {
  const prefix = `${data.DATA_PATH_CLIENT}/`;
  if (!pathname.startsWith(prefix)) return undefined;
  const id = decodeURIComponent(pathname.slice(prefix.length));
  return id.length > 0 && id.length <= 128 && !id.includes('/') ? id : undefined;
}

function agentSignatureValid(publicKeyDer: string, session: LiveSession, instanceId: string, signature: string): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length !== 64) return false;
    const key = createPublicKey({ key: Buffer.from(publicKeyDer, 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' && verify(null, Buffer.from(data.agentDataChallenge(session.id, instanceId, session.nonce), 'utf8'), key, bytes);
  } catch {
    return false;
  }
}

export class DataGateway {
  constructor(
    private readonly broker: SessionBroker,
    private readonly db: Db,
    private readonly now: () => number,
    private readonly log: { error(message: string, error?: unknown): void },
  ) {}

  /** A socket at the client's door for `sessionId`, or the agents' door (undefined). */
  accept(socket: WebSocket, sessionId: string | undefined): void {
    const expected: Side = sessionId === undefined ? 'agent' : 'client';
    let session: LiveSession | undefined;
    let phase: 'auth' | 'checking' | 'joined' | 'closed' = 'auth';
    const close = (code: number, reason: string): void => {
      phase = 'closed';
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(code, reason);
    };
    const timer = setTimeout(() => {
      close(DataCloseCode.Unauthorized, `no Auth frame within ${AUTH_TIMEOUT_MS / 1000} seconds`);
    }, AUTH_TIMEOUT_MS);
    timer.unref();

    const join = (found: LiveSession, position: data.AuthPosition): void => {
      if (phase !== 'checking') return;
      if (found.ended) {
        close(DataCloseCode.NotHere, 'the session has ended');
        return;
      }
      phase = 'joined';
      clearTimeout(timer);
      session = found;
      found.attach(expected, socket, position);
    };

    const authenticate = async (auth: data.AuthMessage): Promise<void> => {
      if (auth.version !== data.DATA_PROTOCOL_VERSION) {
        close(DataCloseCode.Malformed, `data channel version ${auth.version} is not spoken here (${data.DATA_PROTOCOL_VERSION} is)`);
        return;
      }
      if (auth.role !== expected) {
        close(DataCloseCode.Malformed, `this door is for ${expected}s`);
        return;
      }
      if (auth.role === 'client') {
        const found = sessionId === undefined ? undefined : this.broker.get(sessionId);
        // The token is claimed in one UPDATE: it opens one connection, once.
        const claimed = await this.db
          .updateTable('sessions')
          .set({ token_hash: null, token_expires_at: null })
          .where('session_id', '=', sessionId ?? '')
          .where('token_hash', '=', hashToken(auth.token))
          .where('token_expires_at', '>', this.now())
          .executeTakeFirst();
        if (claimed.numUpdatedRows === 0n) {
          close(DataCloseCode.Unauthorized, 'the token is not valid for this session (used, expired, or wrong): call ResumeSession for a new one');
          return;
        }
        if (found === undefined) {
          close(DataCloseCode.NotHere, 'the session is not open on this node');
          return;
        }
        join(found, auth);
        return;
      }
      const found = this.broker.get(auth.sessionId);
      if (found === undefined || found.plan.instanceId !== auth.instanceId) {
        close(DataCloseCode.NotHere, `session ${auth.sessionId} is not open on this node for ${auth.instanceId}`);
        return;
      }
      const row = await this.db.selectFrom('instances').select(['public_key']).where('instance_id', '=', auth.instanceId).where('deregistered_at', 'is', null).executeTakeFirst();
      if (row?.public_key == null || !agentSignatureValid(row.public_key, found, auth.instanceId, auth.signature)) {
        close(DataCloseCode.Unauthorized, `the signature is not ${auth.instanceId}'s over this session's challenge`);
        return;
      }
      join(found, auth);
    };

    socket.on('message', (message: RawData, isBinary: boolean) => {
      if (phase === 'closed' || phase === 'checking') {
        if (phase === 'checking') close(DataCloseCode.Malformed, 'wait for Ready before sending frames');
        return;
      }
      if (!isBinary) {
        close(DataCloseCode.Malformed, 'the data channel carries binary frames');
        return;
      }
      try {
        // The message is this server's alone: frames passed on are sent from it (data.inPlace).
        const frames = data.decodeFrames(bytesOf(message), { owned: true });
        if (phase === 'joined') {
          session?.receive(expected, frames);
          return;
        }
        const first = frames[0];
        const auth = first?.type === data.FrameType.Auth && frames.length === 1 ? data.readAuth(first.payload) : undefined;
        if (auth === undefined) {
          close(DataCloseCode.Malformed, 'the first message must be one Auth frame');
          return;
        }
        phase = 'checking';
        authenticate(auth).catch((error: unknown) => {
          this.log.error(`sessions: checking a data channel's Auth frame failed`, error);
          close(1011, 'the server failed to check the Auth frame');
        });
      } catch (error) {
        close(DataCloseCode.Malformed, error instanceof data.FrameError ? error.message.slice(0, 120) : 'malformed frames');
      }
    });
    socket.on('close', () => {
      phase = 'closed';
      clearTimeout(timer);
      session?.detach(expected, socket);
    });
    socket.on('error', () => {
      // 'close' follows.
    });
  }
}

/** Where the data channel's WebSocket server is told to take a request, by path. */
export function dataDoor(request: IncomingMessage): { sessionId: string | undefined } | undefined {
  const { pathname } = new URL(request.url ?? '/', 'http://localhost');
  if (pathname === data.DATA_PATH_AGENT) return { sessionId: undefined };
  const sessionId = streamSessionId(pathname);
  return sessionId === undefined ? undefined : { sessionId };
}

export function dataServerOptions(): ConstructorParameters<typeof WebSocketServer>[0] {
  return { noServer: true, maxPayload: DATA_MAX_MESSAGE, perMessageDeflate: false };
}
