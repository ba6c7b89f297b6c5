/**
 * Stream 0: a shell or a command. Interactive sessions put a TTY in raw mode (Ctrl-C, Ctrl-Z and
 * Ctrl-D travel as bytes), send the window size at the start and on every change, and restore
 * the terminal on every way out. Non-interactive ones (NonInteractiveCommands) read stdin as it
 * is and send a Fin at its end. Either way stdin goes out as Data frames (split at MAX_PAYLOAD,
 * reading paused while the window is full), the agent's Data is acknowledged only once stdout
 * has taken it, and the program's Exit becomes this process's exit code.
 */
import { spawnSync } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { data, streams } from '@airlock/protocol';
import { exitCode, onSignals, SESSION_FAILED_EXIT, SIGNAL_NUMBERS, type Outcome, type SessionContext } from './context.js';

interface TtyIn extends Readable {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

interface TtyOut extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * Raw mode on `stdin` if it is a TTY; the function that restores it (at most once; also on
 * process exit). Node's raw mode keeps output processing (a lone \n printed as \r\n), which
 * full-screen programs do not expect: `stty -opost` turns it off as ssh does. Leaving raw mode
 * puts back the terminal's settings from before, output processing included.
 */
export function rawMode(stdin: TtyIn & { fd?: number }): () => void {
  if (stdin.isTTY !== true || typeof stdin.setRawMode !== 'function') return () => undefined;
  const setRawMode = stdin.setRawMode.bind(stdin);
  setRawMode(true);
  spawnSync('stty', ['-opost'], { stdio: [stdin.fd ?? 0, 'ignore', 'ignore'], timeout: 2_000 });
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    setRawMode(false);
  };
  process.on('exit', restore);
  return restore;
}

/** VEOF, Ctrl-D: at the start of a line, the end of a terminal's input. */
const EOF_CHARACTER = '\u0004';
/** How long the output is quiet before Ctrl-D is typed (again) after piped input ended. */
const EOF_QUIET_MS = 300;
const LF = 0x0a;
const CR = 0x0d;

export async function runTerminal(context: SessionContext, interactive: boolean): Promise<Outcome> {
  const { connection, io } = context;
  const stdin = io.stdin as TtyIn;
  const stdout = io.stdout as TtyOut;
  const restore = interactive ? rawMode(stdin) : () => undefined;
  const cleanups: (() => void)[] = [restore];
  try {
    return await new Promise<Outcome>((resolve) => {
      let finished = false;
      /** The outcome a signal chose while TerminateSession is on its way (the End it causes does not change it). */
      let chosen: Outcome | undefined;
      let writing = 0;
      let afterWrites: (() => void) | undefined;
      /** Ends once stdout has taken everything before. */
      const finish = (outcome: Outcome): void => {
        if (finished || (chosen !== undefined && outcome !== chosen)) return;
        finished = true;
        stdin.pause();
        const done = (): void => resolve(outcome);
        if (writing === 0) done();
        else afterWrites = done;
      };

      connection.onFrame = (frame, done) => {
        switch (frame.type) {
          case data.FrameType.Data:
            if (frame.stream !== 0) break;
            lastOutputAt = Date.now();
            writing++;
            stdout.write(frame.payload, () => {
              writing--;
              done();
              if (writing === 0) afterWrites?.();
            });
            return;
          case data.FrameType.Exit: {
            const { status } = data.readExit(frame.payload);
            finish({ code: exitCode(status), normal: true });
            break;
          }
          case data.FrameType.End:
            finish({ code: SESSION_FAILED_EXIT, message: `The session ended: ${data.fromUtf8(frame.payload)}`, normal: true });
            break;
          default:
            break;
        }
        done();
      };
      void connection.lost.then((reason) => {
        finish({ code: SESSION_FAILED_EXIT, message: `The session's connection was lost: ${reason}`, normal: false });
      });

      let lastByte: number | undefined;
      let lastOutputAt = Date.now();
      const onData = (chunk: Buffer): void => {
        lastByte = chunk.at(-1) ?? lastByte;
        for (const frame of streams.dataFrames(0, chunk)) connection.send(frame);
        if (!connection.writable) stdin.pause();
      };
      const sendText = (text: string): void => {
        for (const frame of streams.dataFrames(0, data.utf8(text))) connection.send(frame);
      };
      const onEnd = (): void => {
        // A command reads its stdin to the end.
        if (!interactive) {
          connection.send(streams.finFrame(0));
          return;
        }
        // A terminal's input from a pipe or a file (a TTY in raw mode never ends) ends as a
        // person ends it: Enter for a last line left open, then Ctrl-D at the prompt, so
        // `echo uptime | airlock ssm start-session` ends once the shell has run it, as with ssh.
        // A Ctrl-D that comes while a command runs is that command's (the terminal gives it the
        // end of file), so it is typed again whenever the output has been quiet a while.
        if (lastByte !== undefined && lastByte !== LF && lastByte !== CR) sendText('\r');
        const eof = setInterval(() => {
          if (!finished && Date.now() - lastOutputAt >= EOF_QUIET_MS) sendText(EOF_CHARACTER);
        }, EOF_QUIET_MS);
        cleanups.push(() => {
          clearInterval(eof);
        });
      };
      connection.onWritable = () => {
        if (!finished) stdin.resume();
      };
      // stdout closed under us (`… | head`): the output has nowhere to go, so the session ends.
      const onOutputError = (error: Error): void => {
        const outcome: Outcome = { code: SESSION_FAILED_EXIT, message: `Cannot write the output: ${error.message}`, normal: false };
        chosen ??= outcome;
        void context.terminate().then(() => {
          finish(outcome);
        });
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdout.on('error', onOutputError);
      cleanups.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdout.off('error', onOutputError);
        stdin.pause();
      });

      if (interactive && stdout.isTTY === true) {
        const resize = (): void => {
          const { columns, rows } = stdout;
          if (columns !== undefined && rows !== undefined && columns > 0 && rows > 0) {
            connection.send({ type: data.FrameType.Resize, payload: data.resizePayload(Math.min(columns, 0xffff), Math.min(rows, 0xffff)) });
          }
        };
        resize();
        stdout.on('resize', resize);
        cleanups.push(() => stdout.off('resize', resize));
      }

      cleanups.push(
        onSignals(context.signals, (signal) => {
          if (signal === 'SIGINT' && interactive) {
            // Only when the terminal is not raw (raw mode sends Ctrl-C as a byte itself).
            connection.send({ type: data.FrameType.Data, payload: new Uint8Array([0x03]) });
            return;
          }
          restore();
          const outcome: Outcome = { code: 128 + SIGNAL_NUMBERS[signal], normal: false, message: `${signal}: the session was terminated.` };
          chosen ??= outcome;
          void context.terminate().then(() => {
            finish(outcome);
          });
        }),
      );
      stdin.resume();
    });
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
}
