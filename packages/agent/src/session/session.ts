/**
 * Sessions on this host: a `session-open` from the control channel becomes a program (a login
 * shell or a command, on a PTY or pipes, as the right user) or a port forwarder, joined to the
 * session's data channel; a `session-close`, an End frame, or a channel that cannot be reopened
 * ends it and its whole process tree. A session that cannot start (no such Run As user) is
 * reported with `session-failed` and its reason.
 *
 * On the data channel (stream 0 is the program's terminal or pipes):
 *   server → agent  Data (input), Close Fin (the end of a command's input), Resize (PTY),
 *                   Open/Data/Window/Close on streams n ≥ 1 (port), End
 *   agent → server  Data (output), Exit (status, reason) when the program ends, Mode when the
 *                   terminal's line mode changes (terminal-mode.ts), and again on a resumed
 *                   channel unless it is the initial one; Open Ok/Close/Data/Window on streams n ≥ 1
 */
import type { KeyObject } from 'node:crypto';
import { data, type control } from '@airlock/protocol';
import { sessionEnvironment } from '../config.js';
import { normalizeEndpoint } from '../endpoint.js';
import { messageOf, type Logger } from '../log.js';
import { DataLink, type DataLinkOptions } from './data-link.js';
import { PortForwarder } from './forward.js';
import { spawnPipes, spawnPty, workingDirectory, type Program } from './programs.js';
import { modeReader, ModeWatch, type ModeReader } from './terminal-mode.js';
import { resolveRunAs, RunAsError, type Account, type Identity, type UserOptions } from './users.js';

type SessionOpen = Extract<control.ServerMessage, { type: 'session-open' }>;

/** Input waiting in the PTY beyond this is not acknowledged until the program reads it. */
const INPUT_BACKLOG = 256 * 1024;
const INITIAL_SIZE = { cols: 80, rows: 24 };
/** How long an interactive command waits for the client's window size before it starts at INITIAL_SIZE. */
const FIRST_SIZE_WAIT_MS = 1_000;

/** The exit status a session gets when the agent ends it (stopping, deregistered): ssh's for a connection that went away. */
const AGENT_ENDED_STATUS = 255;

export interface SessionManagerOptions {
  readonly endpointUrl: string;
  readonly instanceId: string;
  readonly privateKey: KeyObject;
  readonly caPem?: string | undefined;
  readonly agentVersion: string;
  readonly log: Logger;
  /** Sends a message on the control channel (session-failed). */
  readonly report: (message: Extract<control.AgentMessage, { type: 'session-failed' }>) => void;
  readonly users?: UserOptions;
  /** The environment programs start from: PATH and LANG (default: the agent's, LANG C.UTF-8 when unset). */
  readonly environment?: { readonly PATH: string; readonly LANG: string };
  /** Between SIGHUP and SIGKILL when a session ends; default 2 s. */
  readonly killGraceMs?: number;
  /** Data channel timings (tests). */
  readonly link?: Partial<Pick<DataLinkOptions, 'backoffBaseMs' | 'backoffCapMs' | 'random' | 'readyTimeoutMs' | 'resumeTimeoutMs' | 'pingIntervalMs' | 'window'>>;
  /** Reads terminals' line modes (default: the agent's addon). */
  readonly modeReader?: ModeReader;
  /** Each session's end, with why (tests, diagnostics). */
  readonly onEnded?: (sessionId: string, reason: string) => void;
  /** Awaited before a program starts, its data channel dialled already (tests: input that comes meanwhile). */
  readonly beforeLaunch?: (sessionId: string) => Promise<void>;
}

export class SessionManager {
  readonly #sessions = new Map<string, Session>();
  readonly #options: SessionManagerOptions;

  constructor(options: SessionManagerOptions) {
    this.#options = options;
    const reader = options.modeReader ?? modeReader();
    if ('problem' in reader) {
      options.log.warn(`PASSWORDS WILL BE RECORDED: the agent cannot read its terminals' echo mode (${reader.problem}), so the server cannot keep what is typed at password prompts out of session records. Build the agent's addon (a C compiler, then npm rebuild in the agent's package) and restart it.`);
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(sessionId: string): Session | undefined {
    return this.#sessions.get(sessionId);
  }

  /**
   * A session-open: starts it. One for a session that runs here already (the server came back
   * after a restart) reopens its data channel at once, signed with the nonce it carries.
   */
  open(message: SessionOpen): Session | undefined {
    const running = this.#sessions.get(message.sessionId);
    const endpointUrl = this.#carrier(message);
    if (endpointUrl === null) return undefined;
    if (running !== undefined) {
      running.reopen(message.nonce, endpointUrl);
      return undefined;
    }
    if (message.resume === true) {
      // The server revived a session whose program ran in an earlier life of this agent: it is gone.
      this.#options.report({ type: 'session-failed', sessionId: message.sessionId, reason: 'the agent restarted during the session; its program is gone' });
      return undefined;
    }
    const session = new Session({ ...message, ...(endpointUrl === undefined ? {} : { endpointUrl }) }, this.#options, () => {
      this.#sessions.delete(message.sessionId);
    });
    this.#sessions.set(message.sessionId, session);
    void session.start();
    return session;
  }

  /**
   * The node a session-open names (several nodes), checked as the registered endpoint is (no
   * plain http beyond loopback); undefined: the registered endpoint. null: refused and reported.
   */
  #carrier(message: SessionOpen): string | undefined | null {
    if (message.endpointUrl === undefined) return undefined;
    try {
      return normalizeEndpoint(message.endpointUrl);
    } catch (error) {
      this.#options.report({ type: 'session-failed', sessionId: message.sessionId, reason: `the server named a node this agent does not dial: ${messageOf(error)}` });
      return null;
    }
  }

  /** A session-close: ends the session's program and closes its channel. */
  close(sessionId: string, reason: string): void {
    void this.#sessions.get(sessionId)?.end(reason);
  }

  /** Ends every session (the agent is stopping); resolves once their programs are gone. */
  async stopAll(reason = 'the agent stopped'): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((session) => session.end(reason, { tellServer: true })));
  }
}

export class Session {
  readonly id: string;
  readonly work: control.SessionWork;
  #identity: Identity | undefined;
  #link: DataLink | undefined;
  #program: Program | undefined;
  /**
   * Frames that came while the program was starting (the channel is dialled first, and a person
   * or a script may type at once): held, unacknowledged, until the program can take them.
   */
  #early: data.Frame[] | undefined;
  /** An interactive command's first window size, from the client's first Resize (see start). */
  #firstSize: ((size: { cols: number; rows: number }) => void) | undefined;
  /** The terminal's line mode, told to the server (a PTY's only). */
  #modes: ModeWatch | undefined;
  #forwarder: PortForwarder | undefined;
  #ended: Promise<void> | undefined;
  #endReason: string | undefined;
  #exited = false;
  #consumeTimer: NodeJS.Timeout | undefined;
  #nonce: string;
  /** Where its data channel goes: the node carrying it, else the registered endpoint. */
  #endpointUrl: string;
  readonly #done: Promise<string>;
  #resolveDone: (reason: string) => void = () => undefined;

  constructor(
    message: SessionOpen,
    private readonly options: SessionManagerOptions,
    private readonly forget: () => void,
  ) {
    this.id = message.sessionId;
    this.work = message.work;
    this.#nonce = message.nonce;
    this.#endpointUrl = message.endpointUrl ?? options.endpointUrl;
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Resolves with the reason once the session has ended here and its programs are gone. */
  get done(): Promise<string> {
    return this.#done;
  }

  get account(): Account | undefined {
    return this.#identity?.account;
  }

  get program(): Program | undefined {
    return this.#program;
  }

  get link(): DataLink | undefined {
    return this.#link;
  }

  /** The server opened it again (see SessionManager.open), perhaps on another node. */
  reopen(nonce: string, endpointUrl: string | undefined): void {
    this.#nonce = nonce;
    if (endpointUrl !== undefined) this.#endpointUrl = endpointUrl;
    this.#link?.reopen(nonce, endpointUrl);
  }

  async start(): Promise<void> {
    const { log } = this.options;
    const work = this.work;
    try {
      if (work.kind !== 'port') {
        this.#identity = await resolveRunAs(work.runAs, { ...this.options.users, log });
        if (this.#endReason !== undefined) return;
      }
      // Dial first: the program's first output waits in the link until the channel is ready.
      if (work.kind !== 'port') this.#early = [];
      this.#link = this.#openLink();
      this.#link.start();
      if (work.kind === 'port') {
        this.#forwarder = new PortForwarder(work, this.#link, log, this.id);
        log.info(`Session ${this.id}: forwarding to ${work.host}:${work.port}.`);
      } else {
        await this.options.beforeLaunch?.(this.id);
        this.#program = await this.#launch(work, work.kind === 'interactive-command' ? await this.#clientSize() : INITIAL_SIZE);
        // end() may have come while it started.
        if (this.#endReason !== undefined) void this.#program.terminate(this.options.killGraceMs ?? 2_000);
        const early = this.#early ?? [];
        this.#early = undefined;
        if (early.length > 0) this.#onFrames(early);
      }
    } catch (error) {
      this.#early = undefined;
      const reason = error instanceof RunAsError ? error.message : `the agent could not start the session: ${messageOf(error)}`;
      log.warn(`Session ${this.id} failed: ${reason}.`);
      this.options.report({ type: 'session-failed', sessionId: this.id, reason: reason.slice(0, 1024) });
      void this.end(reason);
    }
  }

  /**
   * Ends the session here: its process tree, its connections, its channel. `tellServer`: the
   * agent ends it on its own (it is stopping, or the instance was deregistered), so an Exit with
   * the reason goes first, after whatever output was sent: the server ends the session at once
   * rather than waiting a minute for an agent that will not come back.
   */
  end(reason: string, { tellServer = false }: { readonly tellServer?: boolean } = {}): Promise<void> {
    if (this.#ended !== undefined) return this.#ended;
    this.#endReason = reason;
    this.#ended = (async () => {
      clearTimeout(this.#consumeTimer);
      this.#modes?.stop();
      this.#forwarder?.close();
      if (tellServer && !this.#exited) {
        this.#exited = true;
        this.#link?.send({ type: data.FrameType.Exit, payload: data.exitPayload(AGENT_ENDED_STATUS, reason) });
      }
      this.#link?.close(reason);
      try {
        await this.#program?.terminate(this.options.killGraceMs ?? 2_000);
      } catch (error) {
        this.options.log.warn(`Session ${this.id}: ending its processes failed: ${messageOf(error)}`);
      }
      this.forget();
      this.options.log.info(`Session ${this.id} ended: ${reason}.`);
      this.options.onEnded?.(this.id, reason);
      this.#resolveDone(reason);
    })();
    return this.#ended;
  }

  #openLink(): DataLink {
    const { instanceId, privateKey, caPem, agentVersion, log } = this.options;
    return new DataLink(
      { endpointUrl: this.#endpointUrl, instanceId, privateKey, caPem, agentVersion, log, sessionId: this.id, nonce: this.#nonce, ...this.options.link },
      {
        onFrames: (frames) => {
          this.#onFrames(frames);
        },
        onDrain: () => {
          this.#program?.resume();
          this.#forwarder?.resume();
        },
        onGone: (reason) => {
          void this.end(reason);
        },
        onReady: (resumed) => {
          // The node now carrying the session may not know the terminal hides its input.
          if (resumed) this.#modes?.resend();
        },
      },
    );
  }

  async #launch(work: Exclude<control.SessionWork, { kind: 'port' }>, size: { cols: number; rows: number }): Promise<Program> {
    const identity = this.#identity;
    if (identity === undefined) throw new Error('no account');
    const { account } = identity;
    const base = this.options.environment ?? sessionEnvironment();
    const shell = account.shell === '' || /nologin|false$/.test(account.shell) ? '/bin/sh' : account.shell;
    const env: Record<string, string> = { HOME: account.home, USER: account.name, LOGNAME: account.name, SHELL: shell, PATH: base.PATH, LANG: base.LANG };
    const cwd = await workingDirectory(account.home);
    const events = {
      onData: (bytes: Uint8Array) => {
        this.#output(bytes);
      },
      onExit: (status: number, signal: string | undefined) => {
        this.#onExit(status, signal);
      },
    };
    const who = `${account.name} (uid ${account.uid})`;
    if (work.kind === 'command') {
      this.options.log.info(`Session ${this.id}: running a command as ${who}.`);
      return spawnPipes({ identity, argv: ['/bin/sh', '-c', work.command], env, cwd }, events);
    }
    env['TERM'] = 'xterm-256color';
    const argv: [string, ...string[]] = work.kind === 'shell' ? [shell, '-l'] : ['/bin/sh', '-c', work.command];
    this.options.log.info(`Session ${this.id}: ${work.kind === 'shell' ? 'a login shell' : 'a command on a terminal'} as ${who}.`);
    const program = spawnPty({ identity, argv, env, cwd, ...size }, events);
    const reader = this.options.modeReader ?? modeReader();
    this.#modes = new ModeWatch(
      () => {
        const fd = program.terminalFd();
        return fd === undefined || !('read' in reader) ? undefined : reader.read(fd);
      },
      (mode) => {
        this.#link?.send({ type: data.FrameType.Mode, payload: data.modePayload(mode) });
      },
    );
    // The shell profile (shellProfile.linux) is typed in first, as AWS's agent does.
    if (work.kind === 'shell' && work.profile.trim() !== '') program.write(data.utf8(`${work.profile.replace(/\r?\n/g, '\r').replace(/\r?$/, '')}\r`));
    return program;
  }

  /** The program's output, to stream 0; its reading stops while the window is full. */
  #output(bytes: Uint8Array): void {
    const link = this.#link;
    if (link === undefined || this.#endReason !== undefined) return;
    // A change of mode goes before the output that follows it (a password prompt's text).
    this.#modes?.output(bytes.length);
    for (let offset = 0; offset < bytes.length; offset += data.MAX_PAYLOAD) {
      link.send({ type: data.FrameType.Data, payload: bytes.subarray(offset, offset + data.MAX_PAYLOAD) });
    }
    if (link.congested) this.#program?.pause();
  }

  #onExit(status: number, signal: string | undefined): void {
    if (this.#exited) return;
    this.#exited = true;
    this.#modes?.stop();
    const reason = signal === undefined ? '' : `the program was killed by ${signal}`;
    this.options.log.info(`Session ${this.id}: the program exited with status ${status}${signal === undefined ? '' : ` (${signal})`}.`);
    // What it left running in the background goes with it.
    void this.#program?.terminate(this.options.killGraceMs ?? 2_000);
    // After all its output (the link keeps order); the server ends the session on it (End, then close).
    this.#link?.send({ type: data.FrameType.Exit, payload: data.exitPayload(status, reason) });
  }

  /**
   * The client's window size, for a command that reads it once at its start (ps, systemctl,
   * journalctl would format for 80 columns otherwise): the client sends it as soon as it is
   * connected, so the command waits for it, FIRST_SIZE_WAIT_MS at most (a client without a
   * terminal sends none). A login shell starts at once: it follows the resize that comes after.
   */
  #clientSize(): Promise<{ cols: number; rows: number }> {
    const resize = this.#early?.find((frame) => frame.type === data.FrameType.Resize);
    if (resize !== undefined) return Promise.resolve(data.readResize(resize.payload));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#firstSize = undefined;
        resolve(INITIAL_SIZE);
      }, FIRST_SIZE_WAIT_MS);
      this.#firstSize = (size) => {
        clearTimeout(timer);
        this.#firstSize = undefined;
        resolve(size);
      };
    });
  }

  #onFrames(frames: readonly data.Frame[]): void {
    if (this.#early !== undefined) {
      this.#early.push(...frames);
      const resize = frames.find((frame) => frame.type === data.FrameType.Resize);
      if (resize !== undefined) this.#firstSize?.(data.readResize(resize.payload));
      return;
    }
    for (const frame of frames) {
      if (this.#endReason !== undefined) return;
      if (frame.type === data.FrameType.End) {
        const reason = data.fromUtf8(frame.payload);
        this.#link?.consume(frame.seq);
        void this.end(reason === '' ? 'the server ended the session' : reason);
        return;
      }
      if (frame.stream !== 0) {
        if (this.#forwarder !== undefined) this.#forwarder.receive(frame);
        continue;
      }
      try {
        switch (frame.type) {
          case data.FrameType.Data:
            this.#modes?.input();
            this.#program?.write(frame.payload);
            break;
          case data.FrameType.Close:
            // Fin: the client's input ended (a command's stdin).
            if ((frame.flags & data.FrameFlag.Fin) !== 0) this.#program?.endInput();
            break;
          case data.FrameType.Resize: {
            const { cols, rows } = data.readResize(frame.payload);
            this.#program?.resize(cols, rows);
            break;
          }
          default:
            // Nothing else means anything on stream 0 at the agent.
            break;
        }
      } catch (error) {
        this.options.log.warn(`Session ${this.id}: ignored a frame of type ${frame.type}: ${messageOf(error)}`);
      }
    }
    this.#consume();
  }

  /** Acknowledges what was handed on, once the program has taken its input (or nearly). */
  #consume(): void {
    clearTimeout(this.#consumeTimer);
    const link = this.#link;
    if (link === undefined || link.closed) return;
    const program = this.#program;
    if (program === undefined || this.#exited || program.backlog <= INPUT_BACKLOG) {
      link.consume();
      return;
    }
    this.#consumeTimer = setTimeout(() => {
      this.#consume();
    }, 10);
  }
}
