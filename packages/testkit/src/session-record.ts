/**
 * A session's record as tests read it: the terminal's text in each direction, and
 * `airlock-server audit verify --session` run beside the server on its data directory.
 */
import { PassThrough } from 'node:stream';
import { data } from '@airlock/protocol';
import { runAuditCommand } from '@airlock/server/audit/command';
import type { Direction, RecordEntry } from '@airlock/server/sessions/record';

/** The terminal's Data (stream 0) in `direction`, joined in the record's order. */
export function recordedText(entries: readonly RecordEntry[], direction: Direction): string {
  return entries
    .filter((entry) => entry.direction === direction && entry.type === data.FrameType.Data && entry.stream === 0)
    .map((entry) => data.fromUtf8(entry.payload))
    .join('');
}

export interface AuditVerifyOptions {
  readonly dataDir: string;
  /** The server's database, where it is not SQLite in the data directory. */
  readonly databaseUrl?: string | undefined;
  /**
   * Try again (every 300 ms) until it verifies or this long has passed: the record's last
   * batch, its seal and its delivery are the server's to finish after the session ends.
   */
  readonly untilMs?: number;
}

/** `audit verify --session`: its exit code and what it printed (the last try's; stderr says why it could not run). */
export async function auditVerify(sessionId: string, options: AuditVerifyOptions): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = ['verify', '--session', sessionId, '--data-dir', options.dataDir, ...(options.databaseUrl === undefined ? [] : ['--database-url', options.databaseUrl])];
  const until = Date.now() + (options.untilMs ?? 0);
  for (;;) {
    const [stdout, stderr] = [captured(), captured()];
    const code = await runAuditCommand(argv, {}, { stdout: stdout.stream, stderr: stderr.stream });
    if (code === 0 || Date.now() >= until) return { code, stdout: stdout.text(), stderr: stderr.text() };
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function captured(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}
