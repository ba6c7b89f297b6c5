/**
 * AWS-StartSSHSession: stdin and stdout are one forwarded connection (stream 1) to the
 * instance's SSH server, raw, for `ssh -o ProxyCommand=…`. Nothing else is written to stdout.
 * The session ends with that connection: both sides finished, or either reset.
 */
import { data } from '@airlock/protocol';
import { onSignals, SESSION_FAILED_EXIT, type Outcome, type SessionContext } from './context.js';
import { Forwarder } from './forward.js';

export async function runSshPipe(context: SessionContext): Promise<Outcome> {
  const { connection, io } = context;
  const forwarder = new Forwarder(connection);
  const cleanups: (() => void)[] = [];
  try {
    return await new Promise<Outcome>((resolve) => {
      let finished = false;
      let writing = 0;
      let afterWrites: (() => void) | undefined;
      const finish = (outcome: Outcome): void => {
        if (finished) return;
        finished = true;
        io.stdin.pause();
        const done = (): void => resolve(outcome);
        if (writing === 0) done();
        else afterWrites = done;
      };
      connection.onWritable = () => forwarder.resumeAll();
      connection.onFrame = (frame, done) => {
        if (frame.stream !== 0) {
          forwarder.receive(frame, done);
          return;
        }
        done();
        if (frame.type === data.FrameType.End) finish({ code: SESSION_FAILED_EXIT, message: `The session ended: ${data.fromUtf8(frame.payload)}`, normal: false });
      };
      void connection.lost.then((reason) => {
        finish({ code: SESSION_FAILED_EXIT, message: `The session's connection was lost: ${reason}`, normal: false });
      });
      forwarder.onStreamEnd = (_id, reason) => {
        finish(reason === undefined ? { code: 0, normal: true } : { code: SESSION_FAILED_EXIT, message: `The connection ended: ${reason}`, normal: false });
      };
      cleanups.push(
        onSignals(context.signals, () => {
          finish({ code: 0, normal: true });
        }),
      );
      // ssh went away without closing our stdin first.
      const onOutputError = (): void => {
        finish({ code: 0, normal: true });
      };
      io.stdout.on('error', onOutputError);
      cleanups.push(() => io.stdout.off('error', onOutputError));
      forwarder.carry({
        input: io.stdin,
        write: (bytes, written) => {
          writing++;
          io.stdout.write(bytes, () => {
            writing--;
            written();
            if (writing === 0) afterWrites?.();
          });
        },
        // The SSH server closed its side: ssh sees the end when this process exits.
        end: () => {
          finish({ code: 0, normal: true });
        },
        destroy: () => {
          io.stdin.pause();
        },
      });
    });
  } finally {
    for (const cleanup of cleanups) cleanup();
    forwarder.onStreamEnd = () => undefined;
    forwarder.destroyAll('the session ended');
    // The connection was all the session was for.
    await context.terminate();
  }
}
