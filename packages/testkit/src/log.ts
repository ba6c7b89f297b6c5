/** A logger that keeps what the server says, for tests to read instead of printing it. */
export interface CapturedLog {
  readonly lines: string[];
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export function quietLogger(): CapturedLog {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => lines.push(message),
    warn: (message) => lines.push(`warning: ${message}`),
    error: (message, error) => lines.push(`error: ${message} ${error instanceof Error ? error.message : ''}`),
  };
}
