/** What each mode of a session works with, and how it ends. */
import type { Io } from '../command.js';
import type { SessionConnection } from '@airlock/client/session';

/** Where signals come from: the process, or a test's emitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface SessionContext {
  readonly sessionId: string;
  readonly connection: SessionConnection;
  readonly io: Io;
  readonly signals: SignalSource;
  /** Ends the session at the server (ssm:TerminateSession); never throws, never waits long. */
  terminate(): Promise<void>;
  /** A line for the person, on stderr. */
  say(text: string): void;
}

/** How a mode ended: the exit code, and what to tell the person (on stderr) if anything. */
export interface Outcome {
  readonly code: number;
  readonly message?: string;
  /** The session ended as sessions do (the program's exit, the user's Ctrl-C): AWS's closing line follows. */
  readonly normal: boolean;
}

/** The exit code when the session ended without the program's status: ended by the server, or the connection lost. */
export const SESSION_FAILED_EXIT = 255;

export const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
export type HandledSignal = keyof typeof SIGNAL_NUMBERS;

/** Listens for SIGINT, SIGTERM and SIGHUP; gives back the removal. */
export function onSignals(source: SignalSource, listener: (signal: HandledSignal) => void): () => void {
  const listeners = (Object.keys(SIGNAL_NUMBERS) as HandledSignal[]).map((signal) => [signal, () => listener(signal)] as const);
  for (const [signal, handler] of listeners) source.on(signal, handler);
  return () => {
    for (const [signal, handler] of listeners) source.off(signal, handler);
  };
}

/** A program's status as this process's exit code. */
export function exitCode(status: number): number {
  return Number.isInteger(status) && status >= 0 && status <= 255 ? status : SESSION_FAILED_EXIT;
}
