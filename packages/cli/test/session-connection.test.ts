/**
 * SessionConnection when the node carrying its session dies: ResumeSession answers the dead
 * node's StreamUrl for a while, then another node's, and the connection resumes on that one with
 * nothing lost or doubled. Two loopback stream servers share one session's server end (as nodes
 * share it through the record) and speak the client's handshake: Auth with a token granted to
 * that node (once), Ready with the last frame taken, the resend, acknowledgements.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { SessionConnection, type ConnectionNotice, type StreamGrant } from '@airlock/client/session';
import { wsDialer } from '@airlock/cli/session/ws-socket';
import { data } from '@airlock/protocol';
import { eventually, within } from '@airlock/testkit';
import { WebSocketServer, WebSocket, type RawData } from 'ws';

const SESSION_ID = 'alice-0a1b2c3d4e5f60718';
/** Quick retries: the test dials dead URLs on purpose. */
const RETRY = { initialMs: 10, maxMs: 50, attempts: 8 };

/** The server's end of the session, whichever node carries it: its Link and the input taken. */
class SessionEnd {
  readonly link = new data.Link();
  input = '';
  socket: WebSocket | undefined;

  output(text: string): void {
    const frame = this.link.send({ type: data.FrameType.Data, payload: data.utf8(text) });
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(data.encodeFrame(frame));
  }

  take(frames: readonly data.Frame[]): void {
    for (const frame of frames) {
      if (this.link.take(frame) === 'new' && frame.type === data.FrameType.Data && frame.stream === 0) this.input += data.fromUtf8(frame.payload);
    }
    this.link.consume(this.link.received);
    const ack = this.link.ackIfDue();
    if (ack !== undefined) this.socket?.send(data.encodeFrame(ack));
  }
}

/** One node's data channel for clients: takes the tokens it granted, each once. */
class StreamNode {
  /** Clients that got Ready here. */
  connections = 0;
  streamUrl = '';
  private readonly tokens = new Set<string>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly server: Server;

  private constructor(private readonly session: SessionEnd) {
    this.server = createServer((_request, response) => response.writeHead(404).end());
    this.server.on('upgrade', (request, socket, head) => {
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        this.accept(ws);
      });
    });
  }

  static async start(session: SessionEnd): Promise<StreamNode> {
    const node = new StreamNode(session);
    await new Promise<void>((resolve) => node.server.listen(0, '127.0.0.1', resolve));
    node.streamUrl = `ws://127.0.0.1:${(node.server.address() as AddressInfo).port}${data.DATA_PATH_CLIENT}?session=${SESSION_ID}`;
    return node;
  }

  /** What StartSession or ResumeSession answers while this node carries the session. */
  grant(token: string): StreamGrant {
    this.tokens.add(token);
    return { token, streamUrl: this.streamUrl };
  }

  /** As a killed process: every connection cut, the port refusing from now on. */
  async kill(): Promise<void> {
    if (!this.server.listening) return;
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket): void {
    let authenticated = false;
    socket.on('message', (message: RawData) => {
      const frames = data.decodeFrames(message as Buffer);
      if (authenticated) {
        this.session.take(frames);
        return;
      }
      const first = frames[0];
      const auth = first?.type === data.FrameType.Auth ? data.readAuth(first.payload) : undefined;
      if (auth?.role !== 'client' || !this.tokens.delete(auth.token)) {
        socket.close(4401, 'the token is not valid for this session');
        return;
      }
      authenticated = true;
      this.connections++;
      this.session.socket = socket;
      const ready: data.ReadyMessage = { sessionId: SESSION_ID, lastReceived: this.session.link.received };
      socket.send(data.encodeFrame({ type: data.FrameType.Ready, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload(ready) }));
      for (const frame of this.session.link.resendAfter(auth.lastReceived)) socket.send(data.encodeFrame(frame));
    });
  }
}

/** A client connection that records its stream 0 output and its notices. */
function connect(first: StreamGrant, resume: () => Promise<StreamGrant>): { connection: SessionConnection; output: () => string; notices: ConnectionNotice[] } {
  const connection = new SessionConnection({ dial: wsDialer(60_000), streamUrl: first.streamUrl, token: first.token, resume, retry: RETRY, readyTimeoutMs: 2_000 });
  let output = '';
  const notices: ConnectionNotice[] = [];
  connection.onNotice = (notice) => notices.push(notice);
  connection.onFrame = (frame, done) => {
    if (frame.type === data.FrameType.Data && frame.stream === 0) output += data.fromUtf8(frame.payload);
    done();
  };
  return { connection, output: () => output, notices };
}

const type = (connection: SessionConnection, text: string): boolean => connection.send({ type: data.FrameType.Data, payload: data.utf8(text) });

test('its node dies: ResumeSession answers the dead URL a while, then another node’s, and the session resumes there, nothing lost or doubled', async (t) => {
  const session = new SessionEnd();
  const carrier = await StreamNode.start(session);
  const successor = await StreamNode.start(session);
  t.after(() => Promise.all([carrier.kill(), successor.kill()]));
  const grants: StreamGrant[] = [];
  // The dead node's URL for the first two asks (its heartbeat is not old enough yet), then the successor's.
  const resume = (): Promise<StreamGrant> => {
    const grant = grants.length < 2 ? carrier.grant(`dead-${grants.length}`) : successor.grant(`moved-${grants.length}`);
    grants.push(grant);
    return Promise.resolve(grant);
  };
  const client = connect(carrier.grant('started'), resume);
  t.after(() => client.connection.close());

  await client.connection.open();
  session.output('before|');
  type(client.connection, 'k1|');
  await eventually(() => Promise.resolve(client.output() === 'before|' && session.input === 'k1|'), 'both directions on the first node', 5_000);

  await carrier.kill();
  session.output('meanwhile|');
  type(client.connection, 'k2|');
  await eventually(() => Promise.resolve(client.notices.some((notice) => notice.kind === 'resumed')), 'the resume on the successor', 10_000);
  await eventually(() => Promise.resolve(client.output() === 'before|meanwhile|' && session.input === 'k1|k2|'), 'what each side sent meanwhile', 5_000);
  session.output('after|');
  type(client.connection, 'k3|');
  await eventually(() => Promise.resolve(client.output() === 'before|meanwhile|after|' && session.input === 'k1|k2|k3|'), 'both directions on the successor', 5_000);

  assert.deepEqual(
    grants.map((grant) => grant.streamUrl),
    [carrier.streamUrl, carrier.streamUrl, successor.streamUrl],
    'every failed dial asked ResumeSession again, and the last answer was dialled',
  );
  assert.equal(carrier.connections, 1);
  assert.equal(successor.connections, 1);
  assert.equal(client.notices[0]?.kind, 'reconnecting');
});

test('a resume that never reaches a live node: the reason names the URL ResumeSession answered, not the first one', async (t) => {
  const session = new SessionEnd();
  const carrier = await StreamNode.start(session);
  const gone = await StreamNode.start(session);
  await gone.kill();
  t.after(() => carrier.kill());
  const client = connect(carrier.grant('started'), () => Promise.resolve(gone.grant('never-used')));
  t.after(() => client.connection.close());
  await client.connection.open();

  await carrier.kill();
  const reason = await within(client.connection.lost, 'the connection given up', 10_000);
  assert.match(reason, new RegExp(`after ${RETRY.attempts} attempts: cannot connect to ${gone.streamUrl.replace(/[.?]/g, '\\$&')}`));
  assert.ok(!reason.includes(carrier.streamUrl), reason);
});
