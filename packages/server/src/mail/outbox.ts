// The outbox: when no SMTP relay is configured, each mail is written as an RFC 5322 message
// (`.eml`, multipart/alternative with a text and an HTML part) into a private directory.
// Any mail client opens these files. So that a local user can go on without opening them, the
// log line for each mail carries its first link, or its six-digit code.
//
// Files are named `{ISO time, colons replaced by dashes}-{random}.eml`, so their names sort by time,
// and are written atomically (temporary name, fsync, rename): a reader never sees half a mail.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { writeFileAtomically } from '../storage/files.js';
import type { Mailer, MailMessage } from './mailer.js';

export interface OutboxEntry {
  /** The absolute path of the .eml file. */
  readonly file: string;
  /** When the mail was written: from the file name, else the Date header, else the file's mtime. */
  readonly date: Date;
  readonly to: string;
  readonly subject: string;
  /** The first http(s) link of the text part. */
  readonly firstLink?: string;
  /** The first stand-alone six-digit number of the text part (outside links). */
  readonly code?: string;
}

export interface OutboxMailerOptions {
  readonly dir: string;
  readonly from: string;
  readonly log?: (line: string) => void;
}

export class OutboxMailer implements Mailer {
  readonly dir: string;
  readonly #from: string;
  readonly #log: (line: string) => void;
  #warnedAboutMode = false;

  constructor(options: OutboxMailerOptions) {
    this.dir = resolve(options.dir);
    this.#from = options.from;
    this.#log = options.log ?? ((): void => undefined);
  }

  /** Writes the mail into the outbox and returns the path of its file. */
  async write(message: MailMessage): Promise<string> {
    await this.#ensureDir();
    const date = nextTimestamp();
    const composer = new MailComposer({
      from: this.#from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      date,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
    const raw = await composer.compile().build();
    const name = `${date.toISOString().replace(/:/g, '-')}-${randomBytes(6).toString('hex')}.eml`;
    const path = join(this.dir, name);
    await writeFileAtomically(path, raw, 0o600);
    return path;
  }

  async send(message: MailMessage): Promise<void> {
    const path = await this.write(message);
    const link = findFirstLink(message.text);
    const code = link === undefined ? findCode(message.text) : undefined;
    const hint = link !== undefined ? `; link: ${link}` : code !== undefined ? `; code: ${code}` : '';
    this.#log(`mail: to ${oneLine(message.to)} written to ${path}${oneLine(hint)}`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  async #ensureDir(): Promise<void> {
    const created = await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) {
      // mkdir's mode passes through the umask, which can only take bits away; set it exactly anyway.
      await chmod(this.dir, 0o700);
      return;
    }
    // An existing directory is the operator's: never change its mode (it might be /tmp), but say so.
    const info = await stat(this.dir);
    if (!info.isDirectory()) throw new Error(`The mail outbox ${this.dir} is not a directory.`);
    if ((info.mode & 0o077) !== 0 && !this.#warnedAboutMode) {
      this.#warnedAboutMode = true;
      this.#log(`mail: warning: the outbox ${this.dir} can be read by other users (mode ${(info.mode & 0o777).toString(8)}); mails hold sign-in links, so make it 0700`);
    }
  }
}

/** Lists the mails of an outbox directory, oldest first. A missing directory is an empty outbox. */
export async function listOutbox(dir: string): Promise<OutboxEntry[]> {
  const root = resolve(dir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
  const files = names.filter((name) => name.endsWith('.eml') && !name.startsWith('.')).map((name) => join(root, name));
  const entries: OutboxEntry[] = [];
  for (const file of files) {
    try {
      entries.push(await readOutboxEntry(file));
    } catch (error) {
      // Removed between readdir and now: not part of the outbox any more.
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }
  return entries.sort((a, b) => a.date.getTime() - b.date.getTime() || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Reads the summary of one .eml file. */
export async function readOutboxEntry(file: string): Promise<OutboxEntry> {
  // latin1 maps each byte to one character, so the MIME decoding below works on exact bytes.
  const raw = await readFile(file, 'latin1');
  const { headers, body } = splitEntity(raw);
  const text = findTextPart(headers, body) ?? '';
  const firstLink = findFirstLink(text);
  const code = findCode(text);
  return {
    file,
    date: await dateOf(file, headers),
    to: decodeHeader(headers.get('to') ?? ''),
    subject: decodeHeader(headers.get('subject') ?? ''),
    ...(firstLink === undefined ? {} : { firstLink }),
    ...(code === undefined ? {} : { code }),
  };
}

// Link and code finding --------------------------------------------------------------------------

const LINK = /https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g;

/** The first http(s) link in a text, without trailing sentence punctuation. */
export function findFirstLink(text: string): string | undefined {
  for (const match of text.matchAll(LINK)) {
    const link = match[0].replace(/[.,;:!?'")\]]+$/, '');
    if (/^https?:\/\/[^/?#]/.test(link)) return link;
  }
  return undefined;
}

/** The first stand-alone six-digit number in a text, ignoring digits inside links. */
export function findCode(text: string): string | undefined {
  return /\b\d{6}\b/.exec(text.replace(LINK, ' '))?.[0];
}

// Atomic writes ------------------------------------------------------------------------------------

let lastStamp = 0;

/** Now, but strictly later than the previous call in this process: file names sort in write order. */
function nextTimestamp(): Date {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return new Date(lastStamp);
}


// A light MIME reader: enough for the messages nodemailer writes ------------------------------------

type Headers = ReadonlyMap<string, string>;

/** Splits an entity into its headers (unfolded, names lower-cased, first occurrence kept) and body. */
function splitEntity(raw: string): { headers: Headers; body: string } {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match === null ? raw : raw.slice(0, match.index);
  const body = match === null ? '' : raw.slice(match.index + match[0].length);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

interface ContentType {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

function parseContentType(value: string | undefined): ContentType {
  if (value === undefined) return { type: 'text/plain', params: new Map() };
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const params = new Map<string, string>();
  const rest = semicolon < 0 ? '' : value.slice(semicolon);
  for (const m of rest.matchAll(/;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g)) {
    const key = (m[1] ?? '').toLowerCase();
    const val = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    if (!params.has(key)) params.set(key, val);
  }
  return { type: type === '' ? 'text/plain' : type, params };
}

/** The decoded text of the first text/plain part, searching multiparts depth first. */
function findTextPart(headers: Headers, body: string, depth = 0): string | undefined {
  const contentType = parseContentType(headers.get('content-type'));
  if (contentType.type.startsWith('multipart/')) {
    const boundary = contentType.params.get('boundary');
    if (boundary === undefined || boundary === '' || depth > 8) return undefined;
    for (const part of splitMultipart(body, boundary)) {
      const entity = splitEntity(part);
      const text = findTextPart(entity.headers, entity.body, depth + 1);
      if (text !== undefined) return text;
    }
    return undefined;
  }
  const disposition = (headers.get('content-disposition') ?? '').toLowerCase();
  if (contentType.type !== 'text/plain' || disposition.startsWith('attachment')) return undefined;
  const bytes = decodeTransfer(body, headers.get('content-transfer-encoding'));
  return decodeCharset(bytes, contentType.params.get('charset'));
}

function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of body.split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      if (current !== undefined) parts.push(current.join('\r\n'));
      if (trimmed !== delimiter) return parts;
      current = [];
    } else {
      current?.push(line);
    }
  }
  if (current !== undefined) parts.push(current.join('\r\n'));
  return parts;
}

function decodeTransfer(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? '7bit').trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, ''), false);
    default:
      return Buffer.from(body, 'latin1');
  }
}

/** Quoted-printable (RFC 2045) or, with `underscores`, the Q encoding of headers (RFC 2047). */
function decodeQuotedPrintable(text: string, underscores: boolean): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x3d && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (underscores && ch === 0x5f) {
      bytes.push(0x20);
    } else {
      bytes.push(ch & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Decodes RFC 2047 encoded words; adjacent words of one charset are joined before decoding. */
function decodeHeader(value: string): string {
  // Raw 8-bit header bytes are UTF-8 (RFC 6532).
  const text = Buffer.from(value, 'latin1').toString('utf8');
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  let out = '';
  let last = 0;
  let pending: { charset: string; chunks: Buffer[] } | undefined;
  const flush = (): void => {
    if (pending !== undefined) out += decodeCharset(Buffer.concat(pending.chunks), pending.charset);
    pending = undefined;
  };
  for (const m of text.matchAll(word)) {
    const between = text.slice(last, m.index);
    const charset = (m[1] ?? 'utf-8').replace(/\*.*$/, '').toLowerCase();
    const data = m[3] ?? '';
    const bytes = (m[2] ?? 'B').toUpperCase() === 'B' ? Buffer.from(data, 'base64') : decodeQuotedPrintable(data, true);
    if (pending !== undefined && /^\s*$/.test(between) && pending.charset === charset) {
      pending.chunks.push(bytes);
    } else {
      flush();
      out += between;
      pending = { charset, chunks: [bytes] };
    }
    last = m.index + m[0].length;
  }
  flush();
  return out + text.slice(last);
}

async function dateOf(file: string, headers: Headers): Promise<Date> {
  const stamp = /^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2}(?:\.\d+)?Z)-/.exec(basename(file));
  if (stamp !== null) {
    const date = new Date(`${stamp[1] ?? ''}:${stamp[2] ?? ''}:${stamp[3] ?? ''}`);
    if (!Number.isNaN(date.getTime())) return date;
  }
  const header = headers.get('date');
  if (header !== undefined) {
    const date = new Date(header);
    if (!Number.isNaN(date.getTime())) return date;
  }
  return (await stat(file)).mtime;
}

// Small helpers -------------------------------------------------------------------------------------

/** Control characters (line breaks included) become spaces, so one log call stays one line. */
const oneLine = (value: string): string => Array.from(value, (ch) => (ch < ' ' || ch === '\x7f' ? ' ' : ch)).join('');

const isErrno = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && error.code === code;
