/**
 * The terminal's line mode, watched so the server can keep passwords out of the record: when a
 * program turns echo off (sudo, `read -s`, ssh), what is typed next is a secret, and the server,
 * told by a Mode frame, records that input without its bytes (see docs/protocol.md).
 *
 * Node cannot read a terminal's settings, so a small addon of ours (native/terminal-mode.c,
 * built by node-gyp at install) calls tcgetattr on the PTY's master, which on Linux answers with
 * the settings the program put on its side. There is no notification of a change, so the mode
 * is read when it matters and polled between:
 *   - before each piece of output is passed on, so a Mode precedes the output that follows a
 *     change (sudo turns echo off, then prints its prompt: the person sees the prompt only
 *     after the server knows). Bulk output (BULK_BYTES and more at once: a build log, a `cat`)
 *     is looked at once a millisecond at most, as a read costs a system call (~2.5 µs) and
 *     a prompt does not hide in the middle of it;
 *   - when input arrives, before it is written;
 *   - at the next turn of the event loop after small output (`read -s -p` prints its prompt,
 *     then turns echo off, microseconds later), then every ACTIVE_POLL_MS for ACTIVE_FOR_MS
 *     after input or output, and every IDLE_POLL_MS otherwise. Not at the turn after input: a
 *     program answers input only once the kernel has woken it, after that turn, so such a look
 *     would find the mode as it was (it was two of the four reads of every keystroke's echo).
 * What is typed between a silent change and the next look, and reaches the server before the
 * Mode, is recorded (a person does not type within a millisecond of the prompt's arrival).
 * The addon answers with the mode's ModeBit bits, compared as they are: an object is made only
 * for a change.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { data } from '@airlock/protocol';

/** Polling: this often for ACTIVE_FOR_MS after input or output, IDLE_POLL_MS otherwise. */
export const ACTIVE_POLL_MS = 10;
export const ACTIVE_FOR_MS = 2_000;
export const IDLE_POLL_MS = 100;
/** Output this large at once is bulk: read before it at most once every BULK_READ_GAP_MS. */
export const BULK_BYTES = 1024;
const BULK_READ_GAP_MS = 1;

/** The terminal's mode as ModeBit bits (a Mode frame's byte). */
type ReadMode = (fd: number) => number;

/** The addon, or why it did not load. */
export type ModeReader = { readonly read: ReadMode } | { readonly problem: string };

/** Where node-gyp puts the addon, from dist/session/. */
const ADDON = fileURLToPath(new URL('../../build/Release/terminal_mode.node', import.meta.url));

export function loadModeReader(path = ADDON): ModeReader {
  try {
    const addon = createRequire(import.meta.url)(path) as { readMode?: unknown };
    if (typeof addon.readMode !== 'function') return { problem: `${path} has no readMode` };
    return { read: addon.readMode as ReadMode };
  } catch (error) {
    return { problem: error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error) };
  }
}

let reader: ModeReader | undefined;

/** The addon of this installation, loaded once. */
export function modeReader(): ModeReader {
  reader ??= loadModeReader();
  return reader;
}

/** What a session's terminal starts as (echo on, whole lines), and the server assumes until told otherwise. */
const INITIAL_BITS = data.ModeBit.Echo | data.ModeBit.Canonical;

/**
 * Watches one terminal: `read` gives its mode now as ModeBit bits (undefined once it is gone),
 * `send` is called with each change, in order with the session's other frames, and by `resend`.
 */
export class ModeWatch {
  #sent = INITIAL_BITS;
  #activeUntil = 0;
  #lastRead = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(
    private readonly read: () => number | undefined,
    private readonly send: (mode: data.TerminalMode) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#schedule(IDLE_POLL_MS);
  }

  /** Reads the mode and sends it if it changed. */
  check(): void {
    if (this.#stopped) return;
    this.#lastRead = this.now();
    let bits: number | undefined;
    try {
      bits = this.read();
    } catch {
      // The terminal is closing: nothing is typed into it any more.
      bits = undefined;
    }
    if (bits === undefined || bits === this.#sent) return;
    const mode = data.modeOf(bits);
    this.#sent = bits;
    this.send(mode);
  }

  /**
   * The data channel was resumed, perhaps at a server node that has never seen this session: it
   * withholds the client's keystrokes from its record until told the mode, so the last mode sent
   * is said again, whatever it is.
   */
  resend(): void {
    if (this.#stopped) return;
    this.send(data.modeOf(this.#sent));
  }

  /** `bytes` of output are about to be passed on: a change of mode goes before them. */
  output(bytes: number): void {
    const bulk = bytes >= BULK_BYTES;
    if (!bulk || this.now() - this.#lastRead >= BULK_READ_GAP_MS) this.check();
    this.#active(!bulk);
  }

  /** Input is about to be written to the terminal. */
  input(): void {
    this.check();
    this.#active(false);
  }

  /** The program may change its mode soon: look at the next turn (`soon`), and often for a while. */
  #active(soon: boolean): void {
    if (this.#stopped) return;
    if (soon) {
      this.#soon ??= setImmediate(() => {
        this.#soon = undefined;
        this.check();
      });
    }
    const now = this.now();
    const wasActive = now < this.#activeUntil;
    this.#activeUntil = now + ACTIVE_FOR_MS;
    if (!wasActive) this.#schedule(ACTIVE_POLL_MS);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearImmediate(this.#soon);
  }

  #schedule(delay: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.check();
      if (!this.#stopped) this.#schedule(this.now() < this.#activeUntil ? ACTIVE_POLL_MS : IDLE_POLL_MS);
    }, delay);
    this.#timer.unref();
  }
}
