// How the server sends mail: through an SMTP relay when one is configured, otherwise into a local
// outbox directory of .eml files (so a single-machine install works without any mail setup).

import { OutboxMailer } from './outbox.js';
import { SmtpMailer } from './smtp.js';

export interface MailMessage {
  /** One address, optionally with a display name: `Alice <alice@example.com>`. */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export interface MailerConfig {
  /** smtp://user:pass@host:port or smtps://user:pass@host:port; the outbox is used when absent. */
  readonly smtpUrl?: string;
  /** The From header: `Airlock <airlock@example.com>`. */
  readonly from: string;
  /** Where mails are written when no SMTP relay is configured. */
  readonly outboxDir: string;
  readonly log: (line: string) => void;
}

export function createMailer(config: MailerConfig): Mailer {
  const smtpUrl = config.smtpUrl?.trim();
  if (smtpUrl !== undefined && smtpUrl !== '') {
    const mailer = new SmtpMailer({ url: smtpUrl, from: config.from, log: config.log });
    config.log(`mail: sending through ${mailer.description}`);
    return mailer;
  }
  const mailer = new OutboxMailer({ dir: config.outboxDir, from: config.from, log: config.log });
  config.log(`mail: no SMTP relay configured; mails are written to ${mailer.dir}`);
  return mailer;
}
