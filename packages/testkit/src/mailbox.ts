/** Mail a test server sent: without SMTP the outbox logs each mail's link or code, one line a mail. */
import type { TestServer } from './server.js';

/** The link or the code in the last mail to `email`; throws when none was sent. */
export function mailedTo(server: TestServer, email: string, what: 'link' | 'code'): string {
  const last = server.log.lines.filter((line) => line.startsWith(`mail: to ${email} `) && line.includes(`; ${what}: `)).at(-1);
  if (last === undefined) throw new Error(`no ${what} was mailed to ${email}`);
  return last.slice(last.lastIndexOf(`; ${what}: `) + what.length + 4);
}
