/**
 * A session's program: on a PTY (node-pty: a shell, an interactive command) or on pipes (a
 * command without a terminal, stdout and stderr together). Each runs in a session of its own
 * (setsid), so ending it reaches its whole process tree: SIGHUP to every process of that session
 * (background jobs have process groups of their own), then SIGKILL to what is left after a grace.
 *
 * Switching user: a root agent starts the program through setpriv(1) (util-linux) with the
 * account's uid, gid and supplementary groups (initgroups). node-pty's own uid/gid options would
 * leave the agent's supplementary groups (root's) to the program, and Node's drop all of them.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { readdir, stat } from 'node:fs/promises';
import { accessSync, chownSync, closeSync, constants as fsConstants, openSync, readSync, writeSync } from 'node:fs';
import * as pty from 'node-pty';
import type { Identity } from './users.js';
import { RunAsError } from './users.js';

export interface Program {
  readonly pid: number;
  /** Input for the program. */
  write(bytes: Uint8Array): void;
  /** No more input (a Fin on stream 0): the end of a command's stdin; nothing on a terminal, whose input ends with the program. */
  endInput(): void;
  /** Input bytes written and not yet taken by the program (kernel buffer full). */
  readonly backlog: number;
  resize(cols: number, rows: number): void;
  /** The PTY master's descriptor while the terminal is open (its mode is read through it); undefined without a PTY. */
  terminalFd(): number | undefined;
  /** Stop and restart reading the program's output (flow control). */
  pause(): void;
  resume(): void;
  /** Ends the program's whole session of processes: SIGHUP, then SIGKILL after `graceMs`. */
  terminate(graceMs: number): Promise<void>;
}

export interface ProgramEvents {
  /** Output, in order. */
  readonly onData: (bytes: Uint8Array) => void;
  /** The program exited and its output has all been delivered: its status (128+n for signal n), and the signal's name. */
  readonly onExit: (status: number, signal: string | undefined) => void;
}

export interface LaunchOptions {
  readonly identity: Identity;
  /** The program and its arguments. */
  readonly argv: readonly [string, ...string[]];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'];

function findSetpriv(): string {
  for (const path of SETPRIV_PATHS) {
    try {
      accessSync(path, fsConstants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  throw new RunAsError('setpriv (util-linux) is not installed on this instance: the agent needs it to run sessions as another user');
}

/** The command line that runs argv as the identity's account. */
export function commandLine(identity: Identity, argv: readonly [string, ...string[]]): [string, ...string[]] {
  if (!identity.switchUser) return [...argv];
  const { uid, gid } = identity.account;
  return [findSetpriv(), `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--', ...argv];
}

/** The account's home as working directory, or / when it has none. */
export async function workingDirectory(home: string): Promise<string> {
  try {
    return (await stat(home)).isDirectory() ? home : '/';
  } catch {
    return '/';
  }
}

function statusOf(code: number | null, signal: number | NodeJS.Signals | null | undefined): { status: number; signal: string | undefined } {
  if (signal !== null && signal !== undefined && signal !== 0) {
    const number = typeof signal === 'number' ? signal : constants.signals[signal];
    const name = typeof signal === 'string' ? signal : Object.entries(constants.signals).find(([, value]) => value === signal)?.[0];
    return { status: 128 + number, signal: name ?? `signal ${number}` };
  }
  return { status: code ?? 0, signal: undefined };
}

/** Starts argv on a new PTY. */
export function spawnPty(options: LaunchOptions & { readonly cols: number; readonly rows: number }, events: ProgramEvents): Program {
  const [file, ...args] = commandLine(options.identity, options.argv);
  const terminal = pty.spawn(file, args, {
    name: options.env['TERM'] ?? 'xterm-256color',
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd,
    env: { ...options.env },
    // Bytes, not text: a character cut between two reads stays whole in the byte stream.
    encoding: null,
  });
  const pid = terminal.pid;
  terminal.onData((chunk) => {
    events.onData(chunk as unknown as Buffer);
  });
  terminal.onExit(({ exitCode, signal }) => {
    released = true;
    if (slave !== undefined) closeSync(slave);
    slave = undefined;
    const { status, signal: name } = statusOf(exitCode, signal);
    events.onExit(status, name);
  });
  // node-pty queues input itself when the kernel's buffer is full; this reads how much waits.
  const internals = terminal as unknown as {
    readonly fd?: number;
    readonly ptsName?: string;
    _writeStream?: { _writeQueue?: { buffer: Uint8Array; offset: number }[] };
    _socket?: { destroy(error?: Error): unknown };
  };
  const queue = (): readonly { buffer: Uint8Array; offset: number }[] => internals._writeStream?._writeQueue ?? [];

  // The end of the output. When the last process holding the terminal exits, Linux may answer
  // the master's reads with EIO before they have drained what it still buffers: the tail of the
  // output is lost. So the agent holds the terminal's other end open itself (as sshd does): the
  // master never sees that hangup; node-pty destroys its reading socket 200 ms after the program
  // exits, and at that moment the agent reads what is left, to EAGAIN, before letting it go.
  // Output held back by flow control (paused) waits: the destroy comes 200 ms after reading resumes.
  const master = internals.fd;
  let slave: number | undefined;
  if (internals.ptsName !== undefined) {
    try {
      slave = openSync(internals.ptsName, fsConstants.O_RDWR | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK);
      // As login(1) does: the terminal belongs to its user.
      if (options.identity.switchUser) chownSync(internals.ptsName, options.identity.account.uid, -1);
    } catch {
      // Without it, only the last bytes of a fast program's output are at risk.
    }
  }
  let paused = false;
  let destroyWanted = false;
  let released = false;
  const socket = internals._socket;
  const destroy = socket?.destroy.bind(socket);
  const drain = (): void => {
    if (master === undefined) return;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      let read: number;
      try {
        read = readSync(master, buffer, 0, buffer.length, null);
      } catch {
        return;
      }
      if (read <= 0) return;
      events.onData(Buffer.from(buffer.subarray(0, read)));
    }
  };
  const release = (withOutput: boolean): void => {
    if (released) return;
    released = true;
    if (withOutput) drain();
    destroy?.();
    if (slave !== undefined) closeSync(slave);
    slave = undefined;
  };
  if (socket !== undefined && destroy !== undefined) {
    socket.destroy = () => {
      if (paused) destroyWanted = true;
      else release(true);
      return socket;
    };
  }
  return {
    pid,
    write: (bytes) => {
      let rest = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // A keystroke straight into the terminal (its master is non-blocking): node-pty's own write
      // goes through the thread pool, a few hundred microseconds of a keystroke's echo. What the
      // kernel does not take now (EAGAIN, a short write) goes to node-pty's queue, behind nothing.
      if (master !== undefined && !released && queue().length === 0) {
        try {
          rest = rest.subarray(writeSync(master, rest));
        } catch {
          // EAGAIN (full) or an error node-pty's write will meet and report.
        }
      }
      if (rest.length > 0) terminal.write(rest);
    },
    endInput: () => undefined,
    get backlog() {
      return queue().reduce((sum, task) => sum + task.buffer.length - task.offset, 0);
    },
    resize: (cols, rows) => {
      terminal.resize(cols, rows);
    },
    // Once released, the number may be another file's.
    terminalFd: () => (released ? undefined : master),
    pause: () => {
      paused = true;
      terminal.pause();
    },
    resume: () => {
      paused = false;
      terminal.resume();
      if (!destroyWanted) return;
      // What node-pty still buffers flows first; then the rest, from the terminal.
      setTimeout(() => {
        if (!paused && destroyWanted) {
          destroyWanted = false;
          release(true);
        }
      }, 200).unref();
    },
    terminate: async (graceMs) => {
      await terminateSession(pid, graceMs);
      // Ended on purpose: what it still had to say is not waited for.
      if (paused || destroyWanted) release(false);
    },
  };
}

/** Starts argv without a terminal: input on stdin, stdout and stderr as one output. */
export function spawnPipes(options: LaunchOptions, events: ProgramEvents): Program {
  const [file, ...args] = commandLine(options.identity, options.argv);
  const child: ChildProcess = spawnChild(file, args, {
    cwd: options.cwd,
    env: { ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const { stdin, stdout, stderr } = child;
  if (stdin === null || stdout === null || stderr === null) throw new Error('the command has no pipes');
  let exited: { status: number; signal: string | undefined } | undefined;
  let open = 2;
  let reported = false;
  const report = (): void => {
    if (reported || exited === undefined || open > 0) return;
    reported = true;
    events.onExit(exited.status, exited.signal);
  };
  for (const stream of [stdout, stderr]) {
    stream.on('data', (chunk: Buffer) => {
      events.onData(chunk);
    });
    stream.on('close', () => {
      open--;
      report();
    });
  }
  stdin.on('error', () => undefined);
  child.on('error', (error) => {
    // The program could not start (setpriv or sh missing): as a shell would say it.
    events.onData(Buffer.from(`${error.message}\n`));
    exited ??= { status: 127, signal: undefined };
    report();
  });
  child.on('exit', (code, signal) => {
    exited = statusOf(code, signal);
    // Whatever it left in the background keeps the pipes open: end it, and the output ends.
    void terminateSession(child.pid ?? 0, 1_000);
    report();
  });
  return {
    pid: child.pid ?? 0,
    write: (bytes) => {
      if (stdin.writable) stdin.write(bytes);
    },
    endInput: () => {
      if (stdin.writable) stdin.end();
    },
    get backlog() {
      return stdin.writableLength;
    },
    resize: () => undefined,
    terminalFd: () => undefined,
    pause: () => {
      stdout.pause();
      stderr.pause();
    },
    resume: () => {
      stdout.resume();
      stderr.resume();
    },
    terminate: (graceMs) => terminateSession(child.pid ?? 0, graceMs),
  };
}

/**
 * /proc/PID/stat files read per turn of the event loop: a scan reads every process's, and read
 * at once (a busy host has thousands) it would hold up other sessions' keystrokes.
 */
const SCAN_BATCH = 64;
/** Enough of a stat line for its first six fields (the command's name is 64 bytes at most). */
const statHead = Buffer.alloc(512);

/**
 * The live processes of session `sid` (Linux: /proc/PID/stat's sixth field; zombies left out);
 * undefined without /proc. Read synchronously in batches: through the thread pool, four calls a
 * process, a scan of 90 processes cost 7 ms of CPU (1 ms now), twice at every session's end,
 * while someone else typed and the next session's own file calls queued behind it.
 */
export async function sessionMembers(sid: number): Promise<number[] | undefined> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return undefined;
  }
  const pids = entries.filter((entry) => /^\d+$/.test(entry)).map(Number);
  const members: number[] = [];
  for (let start = 0; start < pids.length; start += SCAN_BATCH) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    for (const pid of pids.slice(start, start + SCAN_BATCH)) if (inSession(pid, sid)) members.push(pid);
  }
  return members;
}

/** Whether `pid` is alive in session `sid`, from /proc/PID/stat; false once it has gone. */
function inSession(pid: number, sid: number): boolean {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/stat`, 'r');
  } catch {
    return false;
  }
  try {
    const text = statHead.toString('latin1', 0, readSync(fd, statHead, 0, statHead.length, null));
    // pid (comm) state ppid pgrp session …; comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[3]) === sid && fields[0] !== 'Z' && fields[0] !== 'X';
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

function signal(pids: readonly number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // Gone already, or not ours.
    }
  }
}

/**
 * Ends session `sid` (the program's pid, a session leader): SIGHUP (and SIGCONT, for stopped
 * jobs) to every process in it and its process group, then SIGKILL to what is left after
 * `graceMs`. Resolves when none is left, or after the SIGKILL.
 */
export async function terminateSession(sid: number, graceMs: number): Promise<void> {
  if (!(sid > 1)) return;
  const group = [-sid];
  const members = await sessionMembers(sid);
  signal([...group, ...(members ?? [])], 'SIGHUP');
  signal([...group, ...(members ?? [])], 'SIGCONT');
  const deadline = Date.now() + graceMs;
  for (;;) {
    const left = await sessionMembers(sid);
    // Without /proc, only the process group can be seen: it gets the SIGKILL after the grace.
    if (left?.length === 0) return;
    if (Date.now() >= deadline) {
      signal([...group, ...(left ?? [])], 'SIGKILL');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(1, deadline - Date.now()))));
  }
}
