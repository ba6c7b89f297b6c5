/** A real SMTP server for the mail tests: on a random loopback port, keeping each message it is given. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerOptions } from 'smtp-server';

export interface Received {
  readonly raw: Buffer;
  readonly mailFrom: string | undefined;
  readonly rcptTo: readonly string[];
  readonly user: unknown;
}

export interface TestSmtpServer {
  readonly port: number;
  readonly received: Received[];
  readonly auths: { method: string; username: string | undefined }[];
  /** Waits (10 s at most) until at least `count` messages have arrived; returns them all parsed, oldest first. */
  mails(count: number): Promise<{ to: string; subject: string; text: string }[]>;
  close(): Promise<void>;
}

/** A real SMTP server on a random loopback port, keeping each message it is given. */
export async function startSmtpServer(options: SMTPServerOptions): Promise<TestSmtpServer> {
  const received: Received[] = [];
  const auths: { method: string; username: string | undefined }[] = [];
  const onAuth = options.onAuth?.bind(options);
  const server = new SMTPServer({
    logger: false,
    // Plain TCP on loopback: without STARTTLS the client does not meet the built-in test certificate.
    disabledCommands: ['STARTTLS'],
    socketTimeout: 10_000,
    ...options,
    ...(onAuth === undefined
      ? {}
      : {
          onAuth(auth, session, callback): void {
            auths.push({ method: auth.method, username: auth.username });
            onAuth(auth, session, callback);
          },
        }),
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          raw: Buffer.concat(chunks),
          mailFrom: session.envelope.mailFrom === false ? undefined : session.envelope.mailFrom.address,
          rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          user: session.user,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    received,
    auths,
    mails: async (count) => {
      const deadline = Date.now() + 10_000;
      while (received.length < count) {
        if (Date.now() > deadline) assert.fail(`waited 10 s for ${count} mails, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return Promise.all(
        received.map(async ({ raw }) => {
          const parsed = await simpleParser(raw);
          const to = Array.isArray(parsed.to) ? parsed.to.map((address) => address.text).join(', ') : (parsed.to?.text ?? '');
          return { to, subject: parsed.subject ?? '', text: parsed.text ?? '' };
        }),
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}
