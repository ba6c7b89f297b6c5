/**
 * The agent's log: one line per event on standard output, `ISO-time LEVEL message`, for journald
 * or a terminal. Callers never pass secrets (the private key, the activation code) to it.
 */

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface LineSink {
  write(line: string): unknown;
}

export function streamLogger(sink: LineSink = process.stdout, now: () => Date = () => new Date()): Logger {
  const line = (level: string, message: string): void => {
    sink.write(`${now().toISOString()} ${level} ${message}\n`);
  };
  return {
    info: (message) => line('INFO', message),
    warn: (message) => line('WARN', message),
    error: (message) => line('ERROR', message),
  };
}

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
