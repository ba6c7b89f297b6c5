// The mails Airlock sends: invitations, one-time sign-in codes and password resets.
// Each template returns a subject, a plain-text part and an HTML part with the same content.
// Every interpolated value is HTML-escaped in the HTML part; the text part carries it as is.

export interface MailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface InvitationMailInput {
  /** The user name the person will sign in with. */
  readonly userName: string;
  /** How to greet the person; the user name when absent. */
  readonly displayName?: string;
  /** The single-use link that lets the person choose a password. */
  readonly link: string;
  readonly expiresAt: Date;
  readonly product?: string;
  /** The time the mail is written, to say how long the link stays valid. Defaults to now. */
  readonly now?: Date;
}

export interface SignInCodeMailInput {
  readonly userName: string;
  /** The one-time code, six digits. */
  readonly code: string;
  readonly expiresAt: Date;
  readonly product?: string;
  readonly now?: Date;
}

export interface PasswordResetMailInput {
  readonly userName: string;
  readonly link: string;
  readonly expiresAt: Date;
  readonly product?: string;
  readonly now?: Date;
}

const DEFAULT_PRODUCT = 'Airlock';

/** Escapes text for use in HTML content and in double- or single-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => {
    switch (ch) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

export function invitationMail(input: InvitationMailInput): MailContent {
  const product = productName(input.product);
  const link = checkLink(input.link);
  const name = greetingName(input.userName, input.displayName);
  const expiry = describeExpiry(input.expiresAt, input.now);
  const subject = `You have been invited to ${product}`;

  const text = [
    `Hello ${name},`,
    '',
    `You have been invited to ${product}. Your user name is: ${input.userName}`,
    '',
    'To accept, open this link and choose a password:',
    '',
    link,
    '',
    `The link can be used only once and expires ${expiry}.`,
    '',
    `After you have set your password, ${product} will also ask you to set up multi-factor authentication (MFA) when you sign in, so keep your phone or security key at hand.`,
    '',
    'If you did not expect this invitation, you can ignore this mail: nothing happens unless the link is opened. If you think it was sent by mistake, tell your administrator.',
    '',
  ].join('\n');

  const html = page(subject, [
    `<p>Hello ${escapeHtml(name)},</p>`,
    `<p>You have been invited to ${escapeHtml(product)}. Your user name is: <strong>${escapeHtml(input.userName)}</strong></p>`,
    '<p>To accept, open this link and choose a password:</p>',
    button(link, 'Set your password'),
    linkFallback(link),
    `<p>The link can be used only once and expires ${escapeHtml(expiry)}.</p>`,
    `<p>After you have set your password, ${escapeHtml(product)} will also ask you to set up multi-factor authentication (MFA) when you sign in, so keep your phone or security key at hand.</p>`,
    footnote('If you did not expect this invitation, you can ignore this mail: nothing happens unless the link is opened. If you think it was sent by mistake, tell your administrator.'),
  ]);

  return { subject: oneLine(subject), text, html };
}

export function signInCodeMail(input: SignInCodeMailInput): MailContent {
  const product = productName(input.product);
  if (!/^\d{6}$/.test(input.code)) throw new TypeError('A sign-in code is six digits.');
  const expiry = describeExpiry(input.expiresAt, input.now);
  const subject = `Your ${product} sign-in code`;

  const text = [
    `Hello ${input.userName},`,
    '',
    `Here is your one-time code to sign in to ${product}:`,
    '',
    `    ${input.code}`,
    '',
    `Enter it on the sign-in page. It works once and expires ${expiry}.`,
    '',
    `If you did not just try to sign in, do not share this code with anyone. Someone may know your password: change it, and tell your administrator.`,
    '',
  ].join('\n');

  const html = page(subject, [
    `<p>Hello ${escapeHtml(input.userName)},</p>`,
    `<p>Here is your one-time code to sign in to ${escapeHtml(product)}:</p>`,
    `<p style="font-family:ui-monospace,Menlo,Consolas,monospace;font-size:28px;font-weight:bold;letter-spacing:6px;margin:24px 0">${escapeHtml(input.code)}</p>`,
    `<p>Enter it on the sign-in page. It works once and expires ${escapeHtml(expiry)}.</p>`,
    footnote('If you did not just try to sign in, do not share this code with anyone. Someone may know your password: change it, and tell your administrator.'),
  ]);

  return { subject: oneLine(subject), text, html };
}

export function passwordResetMail(input: PasswordResetMailInput): MailContent {
  const product = productName(input.product);
  const link = checkLink(input.link);
  const expiry = describeExpiry(input.expiresAt, input.now);
  const subject = `Reset your ${product} password`;

  const text = [
    `Hello ${input.userName},`,
    '',
    `Someone asked to reset the password of your ${product} account (${input.userName}). To choose a new password, open this link:`,
    '',
    link,
    '',
    `The link can be used only once and expires ${expiry}. Your current password keeps working until you set a new one.`,
    '',
    'If you did not ask for this, you can ignore this mail: your password stays as it is. If it happens again, tell your administrator.',
    '',
  ].join('\n');

  const html = page(subject, [
    `<p>Hello ${escapeHtml(input.userName)},</p>`,
    `<p>Someone asked to reset the password of your ${escapeHtml(product)} account (<strong>${escapeHtml(input.userName)}</strong>). To choose a new password, open this link:</p>`,
    button(link, 'Choose a new password'),
    linkFallback(link),
    `<p>The link can be used only once and expires ${escapeHtml(expiry)}. Your current password keeps working until you set a new one.</p>`,
    footnote('If you did not ask for this, you can ignore this mail: your password stays as it is. If it happens again, tell your administrator.'),
  ]);

  return { subject: oneLine(subject), text, html };
}

/**
 * Says when something expires, relative to `now` and as an absolute UTC time:
 * "in 7 days (on Wed, 8 May 2024 at 14:03 UTC)".
 */
export function describeExpiry(expiresAt: Date, now: Date = new Date()): string {
  const at = formatUtc(expiresAt);
  const ms = expiresAt.getTime() - now.getTime();
  if (ms <= 0) return `on ${at}`;
  return `in ${describeDuration(ms)} (on ${at})`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** A fixed, locale-independent rendering: "Wed, 8 May 2024 at 14:03 UTC". */
export function formatUtc(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new TypeError('Invalid expiry date.');
  const weekday = WEEKDAYS[date.getUTCDay()] ?? '';
  const month = MONTHS[date.getUTCMonth()] ?? '';
  const hh = String(date.getUTCHours()).padStart(2, '0');
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  return `${weekday}, ${date.getUTCDate()} ${month} ${date.getUTCFullYear()} at ${hh}:${mm} UTC`;
}

function describeDuration(ms: number): string {
  const minute = 60_000;
  const hour = 60 * minute;
  const day = 24 * hour;
  if (ms >= 2 * day) return plural(Math.round(ms / day), 'day');
  if (ms >= 2 * hour) return plural(Math.round(ms / hour), 'hour');
  if (ms >= 2 * minute) return plural(Math.round(ms / minute), 'minute');
  if (ms >= minute) return '1 minute';
  return 'less than a minute';
}

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;

function productName(product: string | undefined): string {
  const name = product === undefined ? DEFAULT_PRODUCT : oneLine(product).trim();
  return name === '' ? DEFAULT_PRODUCT : name;
}

function greetingName(userName: string, displayName: string | undefined): string {
  const name = displayName === undefined ? '' : oneLine(displayName).trim();
  return name === '' ? userName : name;
}

/** Only absolute http(s) links go into a mail: a `javascript:` href would be a trap. */
function checkLink(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new TypeError('A mail link must be an absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('A mail link must be an http or https URL.');
  if (/\s/.test(link)) throw new TypeError('A mail link must not contain white space.');
  return link;
}

const oneLine = (value: string): string => value.replace(/[\r\n\t]+/g, ' ');

function page(title: string, body: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    '<body style="margin:0;padding:0;background:#f4f5f7">',
    '<div style="max-width:560px;margin:0 auto;padding:24px;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2328;background:#ffffff">',
    ...body,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function button(link: string, label: string): string {
  return `<p style="margin:24px 0"><a href="${escapeHtml(link)}" style="display:inline-block;padding:10px 18px;border-radius:6px;background:#1f6feb;color:#ffffff;text-decoration:none;font-weight:bold">${escapeHtml(label)}</a></p>`;
}

function linkFallback(link: string): string {
  return `<p style="font-size:13px;color:#57606a">If the button does not work, copy this link into your browser:<br><a href="${escapeHtml(link)}" style="color:#1f6feb;word-break:break-all">${escapeHtml(link)}</a></p>`;
}

function footnote(sentence: string): string {
  return `<p style="font-size:13px;color:#57606a;border-top:1px solid #d0d7de;padding-top:12px;margin-top:24px">${escapeHtml(sentence)}</p>`;
}
