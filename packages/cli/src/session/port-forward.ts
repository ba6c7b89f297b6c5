/**
 * Port forwarding: listens on 127.0.0.1:localPortNumber (0: a free port), and every connection
 * accepted there becomes a stream of the session (see forward.ts), as many at once as come. A
 * connection the agent cannot make, or that fails, ends alone; Ctrl-C ends the session.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { data } from '@airlock/protocol';
import { onSignals, SESSION_FAILED_EXIT, type Outcome, type SessionContext } from './context.js';
import { Forwarder, socketEndpoint } from './forward.js';

export const LISTEN_HOST = '127.0.0.1';

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LISTEN_HOST, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function runPortForward(context: SessionContext, localPort: number): Promise<Outcome> {
  const { connection, sessionId } = context;
  const forwarder = new Forwarder(connection);
  const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: false }, (socket) => {
    socket.setNoDelay(true);
    forwarder.carry(socketEndpoint(socket));
    context.say(`Connection accepted for session [${sessionId}]`);
  });
  let removeSignals = (): void => undefined;
  try {
    return await new Promise<Outcome>((resolve) => {
      let finished = false;
      /** Ctrl-C's outcome while TerminateSession is on its way (the End it causes does not change it). */
      let chosen: Outcome | undefined;
      const finish = (outcome: Outcome): void => {
        if (finished || (chosen !== undefined && outcome !== chosen)) return;
        finished = true;
        resolve(outcome);
      };
      forwarder.onStreamEnd = (id, reason) => {
        if (reason !== undefined) context.say(`Connection ${id} ended: ${reason}`);
      };
      connection.onWritable = () => forwarder.resumeAll();
      connection.onFrame = (frame, done) => {
        if (frame.stream !== 0) {
          forwarder.receive(frame, done);
          return;
        }
        done();
        if (frame.type === data.FrameType.End) finish({ code: SESSION_FAILED_EXIT, message: `The session ended: ${data.fromUtf8(frame.payload)}`, normal: true });
        if (frame.type === data.FrameType.Exit) finish({ code: SESSION_FAILED_EXIT, message: `The session ended: ${data.readExit(frame.payload).reason}`, normal: true });
      };
      void connection.lost.then((reason) => {
        finish({ code: SESSION_FAILED_EXIT, message: `The session's connection was lost: ${reason}`, normal: false });
      });
      removeSignals = onSignals(context.signals, () => {
        server.close();
        const outcome: Outcome = { code: 0, normal: true };
        chosen ??= outcome;
        void context.terminate().then(() => {
          finish(outcome);
        });
      });
      listen(server, localPort).then(
        (port) => {
          context.say(`Port ${port} opened for sessionId ${sessionId}.`);
          context.say('Waiting for connections...');
        },
        (error: unknown) => {
          const outcome: Outcome = { code: SESSION_FAILED_EXIT, message: `Cannot listen on ${LISTEN_HOST}:${localPort}: ${error instanceof Error ? error.message : String(error)}`, normal: false };
          chosen ??= outcome;
          void context.terminate().then(() => {
            finish(outcome);
          });
        },
      );
    });
  } finally {
    removeSignals();
    server.close();
    forwarder.onStreamEnd = () => undefined;
    forwarder.destroyAll('the session ended');
  }
}
