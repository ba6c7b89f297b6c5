// Delivery through an SMTP relay, with nodemailer.
// The relay is given as a URL: smtp://user:pass@host:587 (STARTTLS when the relay offers it) or
// smtps://user:pass@host:465 (TLS from the first byte). The password is never logged, and errors
// that leave this module have it scrubbed from their message.

import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Mailer, MailMessage } from './mailer.js';

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** TLS from the start (smtps:). Otherwise STARTTLS is used when the relay offers it. */
  readonly secure: boolean;
  readonly user?: string;
  readonly pass?: string;
  /** ?requireTLS=true: refuse to send unless STARTTLS succeeds. */
  readonly requireTLS: boolean;
  /** ?ignoreTLS=true: never use STARTTLS. */
  readonly ignoreTLS: boolean;
  /** ?rejectUnauthorized=false: accept a relay certificate that does not verify (self-signed). */
  readonly rejectUnauthorized: boolean;
  /** ?name=host.example.com: the host name sent in EHLO. */
  readonly name?: string;
}

export interface SmtpTimeouts {
  /** Time to establish the TCP connection. */
  readonly connectionMs?: number;
  /** Time to wait for the server's greeting once connected. */
  readonly greetingMs?: number;
  /** Time the connection may stay idle. */
  readonly socketMs?: number;
}

export interface SmtpMailerOptions {
  readonly url: string;
  readonly from: string;
  readonly log?: (line: string) => void;
  readonly timeouts?: SmtpTimeouts;
}

/** A failed delivery. Its message never contains the relay password. */
export class MailDeliveryError extends Error {
  override readonly name = 'MailDeliveryError';
  /** nodemailer's error code, such as EAUTH, ECONNECTION or ETIMEDOUT. */
  readonly code: string | undefined;
  /** The SMTP reply code, when the relay answered with an error. */
  readonly responseCode: number | undefined;

  constructor(message: string, code: string | undefined, responseCode: number | undefined) {
    super(message);
    this.code = code;
    this.responseCode = responseCode;
  }
}

const DEFAULT_TIMEOUTS = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 } as const;
const BOOLEAN_PARAMS = new Set(['requireTLS', 'ignoreTLS', 'rejectUnauthorized']);

/** Reads an smtp:// or smtps:// URL. Errors name what is wrong, never the URL itself. */
export function parseSmtpUrl(value: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not the URL in the message (nor in an `input` property, as Node's own error has).
    throw new TypeError('The SMTP URL is not a valid URL (expected smtp://user:pass@host:port or smtps://…).');
  }
  const secure = url.protocol === 'smtps:';
  if (!secure && url.protocol !== 'smtp:') throw new TypeError(`The SMTP URL must start with smtp:// or smtps://, not ${url.protocol}//.`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new TypeError('The SMTP URL has no host.');
  const port = url.port === '' ? (secure ? 465 : 587) : Number(url.port);
  if (port < 1) throw new TypeError('The SMTP URL has port 0.');
  if (url.pathname !== '' && url.pathname !== '/') throw new TypeError('The SMTP URL must not have a path.');

  const flags = { requireTLS: false, ignoreTLS: false, rejectUnauthorized: true };
  let name: string | undefined;
  for (const [key, raw] of url.searchParams) {
    if (key === 'name') {
      name = raw;
    } else if (BOOLEAN_PARAMS.has(key)) {
      if (raw !== 'true' && raw !== 'false') throw new TypeError(`The SMTP URL parameter ${key} must be true or false.`);
      flags[key as keyof typeof flags] = raw === 'true';
    } else {
      throw new TypeError(`The SMTP URL has an unknown parameter ${JSON.stringify(key)} (known: name, requireTLS, ignoreTLS, rejectUnauthorized).`);
    }
  }
  if (flags.requireTLS && flags.ignoreTLS) throw new TypeError('The SMTP URL cannot both require and ignore TLS.');

  const user = decodeUserInfo(url.username, 'user name');
  const pass = decodeUserInfo(url.password, 'password');
  if (user === '' && pass !== '') throw new TypeError('The SMTP URL has a password but no user name.');
  return {
    host,
    port,
    secure,
    ...flags,
    ...(user === '' ? {} : { user, pass }),
    ...(name === undefined || name === '' ? {} : { name }),
  };
}

/** The URL with its password replaced by ***, for logs and diagnostics. */
export function redactSmtpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '(invalid SMTP URL)';
  }
  if (url.password !== '') url.password = '***';
  return url.href;
}

export class SmtpMailer implements Mailer {
  readonly settings: SmtpSettings;
  readonly #from: string;
  readonly #log: (line: string) => void;
  readonly #transport: Transporter<SMTPTransport.SentMessageInfo, SMTPTransport.Options>;
  readonly #secrets: readonly string[];

  constructor(options: SmtpMailerOptions) {
    const settings = parseSmtpUrl(options.url);
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.settings = settings;
    this.#from = options.from;
    this.#log = options.log ?? ((): void => undefined);
    this.#secrets = secretForms(settings.user, settings.pass);
    const transportOptions: SMTPTransport.Options = {
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.requireTLS,
      ignoreTLS: settings.ignoreTLS,
      tls: { rejectUnauthorized: settings.rejectUnauthorized },
      connectionTimeout: timeouts.connectionMs,
      greetingTimeout: timeouts.greetingMs,
      socketTimeout: timeouts.socketMs,
      // nodemailer's own logger would print the SMTP dialogue, AUTH included: keep it off.
      logger: false,
      debug: false,
      // Messages are built from strings only: never let a message make nodemailer read files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
      ...(settings.name === undefined ? {} : { name: settings.name }),
      ...(settings.user === undefined ? {} : { auth: { user: settings.user, pass: settings.pass ?? '' } }),
    };
    this.#transport = nodemailer.createTransport(transportOptions);
  }

  /** Where mail goes, without the password: `smtp://user@host:587`. */
  get description(): string {
    const { secure, user, host, port } = this.settings;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return `${secure ? 'smtps' : 'smtp'}://${user === undefined ? '' : `${encodeURIComponent(user)}@`}${hostPart}:${port}`;
  }

  async send(message: MailMessage): Promise<void> {
    try {
      await this.#transport.sendMail({
        from: this.#from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } catch (error) {
      throw this.#deliveryError(`Could not send mail to ${message.to} through ${this.description}`, error);
    }
    this.#log(`mail: "${oneLine(message.subject)}" sent to ${oneLine(message.to)} through ${this.description}`);
  }

  /** Connects and authenticates without sending anything: a start-up check of the configuration. */
  async verify(): Promise<void> {
    try {
      await this.#transport.verify();
    } catch (error) {
      throw this.#deliveryError(`Could not connect to the SMTP relay ${this.description}`, error);
    }
  }

  close(): Promise<void> {
    this.#transport.close();
    return Promise.resolve();
  }

  #deliveryError(context: string, error: unknown): MailDeliveryError {
    const detail = error instanceof Error ? error.message : String(error);
    const code = isRecord(error) && typeof error['code'] === 'string' ? error['code'] : undefined;
    const responseCode = isRecord(error) && typeof error['responseCode'] === 'number' ? error['responseCode'] : undefined;
    // The original error is not kept as `cause`: nodemailer errors can carry the SMTP dialogue.
    return new MailDeliveryError(this.#scrub(`${context}: ${detail}`), code, responseCode);
  }

  #scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }
}

function decodeUserInfo(value: string, what: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new TypeError(`The SMTP URL's ${what} is not correctly percent-encoded.`);
  }
}

/** The password as it may appear on the wire or in a URL: raw, percent-encoded and in AUTH PLAIN/LOGIN base64. */
function secretForms(user: string | undefined, pass: string | undefined): readonly string[] {
  if (pass === undefined || pass === '') return [];
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  const forms = [pass, encodeURIComponent(pass), b64(pass), b64(`\0${user ?? ''}\0${pass}`), b64(`${user ?? ''}\0${user ?? ''}\0${pass}`)];
  // Longest first, so a shorter form never breaks up a longer one before it is replaced.
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/** Control characters (line breaks included) become spaces, so one log call stays one line. */
const oneLine = (value: string): string => Array.from(value, (ch) => (ch < ' ' || ch === '\x7f' ? ' ' : ch)).join('');

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
