import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { simpleParser } from 'mailparser';
import type { AddressObject, ParsedMail } from 'mailparser';
import type { SMTPServerOptions } from 'smtp-server';
import { createMailer } from '@airlock/server/mail/mailer';
import type { MailMessage } from '@airlock/server/mail/mailer';
import { findCode, findFirstLink, listOutbox, OutboxMailer } from '@airlock/server/mail/outbox';
import { MailDeliveryError, parseSmtpUrl, redactSmtpUrl, SmtpMailer } from '@airlock/server/mail/smtp';
import { describeExpiry, escapeHtml, formatUtc, invitationMail, passwordResetMail, signInCodeMail } from '@airlock/server/mail/templates';
import { startSmtpServer, type TestSmtpServer } from './smtp-server.js';

const TIMEOUT = { timeout: 15_000 };
const FROM = 'Airlock <airlock@example.test>';
// A 43-character base64url token (32 random bytes), with - and _ in it, in a link long enough that a
// careless encoder would wrap it.
const TOKEN = 'Zx9_k3-Qv7LmN0pA8sT2uW4yB6cD1eF5gH-jK_rS0tU';
const LINK = `https://airlock.example.test/account/invitations/accept?tenant=production-on-premises&token=${TOKEN}&next=%2Fconsole%2Fsessions`;
const DAY = 24 * 60 * 60 * 1000;


const firstAddress = (value: AddressObject | AddressObject[] | undefined): string | undefined =>
  (Array.isArray(value) ? value[0] : value)?.value[0]?.address;

function assertInvitation(parsed: ParsedMail, to: string): void {
  const from = parsed.from?.value[0];
  assert.ok(from !== undefined);
  assert.equal(from.address, 'airlock@example.test');
  assert.equal(from.name, 'Airlock');
  assert.equal(firstAddress(parsed.to), to);
  assert.equal(parsed.subject, 'You have been invited to Airlock');
  assert.ok(parsed.text !== undefined && parsed.text.includes(LINK), 'the text part holds the link, unbroken');
  assert.ok(typeof parsed.html === 'string', 'there is an HTML part');
  assert.ok(parsed.html.includes(`href="${escapeHtml(LINK)}"`), 'the HTML part links to the link, unbroken');
  const linkInHtml = /href="([^"]+)"/.exec(parsed.html)?.[1]?.replaceAll('&amp;', '&');
  assert.equal(linkInHtml, LINK);
  assert.equal(new URL(linkInHtml).searchParams.get('token'), TOKEN);
}

function assertWellFormed(raw: Buffer): void {
  const text = raw.toString('latin1');
  assert.match(text, /^Content-Type: multipart\/alternative;/m);
  for (const line of text.split('\r\n')) assert.ok(line.length <= 998, 'no line is longer than RFC 5322 allows');
}

const invitation = (to: string): MailMessage => ({
  to,
  ...invitationMail({ userName: 'alice', displayName: 'Alice Liddell', link: LINK, expiresAt: new Date(Date.now() + 7 * DAY) }),
});

describe('SMTP delivery', () => {
  let open: TestSmtpServer;
  let plain: TestSmtpServer;
  let login: TestSmtpServer;
  const USER = 'relay-user@example.test';
  // Characters that need percent-encoding in a URL, and one that is not ASCII.
  const PASSWORD = 'S3cr3t p@ss:w/rd%é';
  const checkCredentials =
    (method: string): NonNullable<SMTPServerOptions['onAuth']> =>
    (auth, _session, callback) => {
      if (auth.method === method && auth.username === USER && auth.password === PASSWORD) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    };
  const url = (server: TestSmtpServer, password = PASSWORD): string =>
    `smtp://${encodeURIComponent(USER)}:${encodeURIComponent(password)}@127.0.0.1:${server.port}`;

  before(async () => {
    open = await startSmtpServer({ authOptional: true });
    const authed = { authOptional: false, allowInsecureAuth: true } as const;
    plain = await startSmtpServer({ ...authed, authMethods: ['PLAIN'], onAuth: checkCredentials('PLAIN') });
    login = await startSmtpServer({ ...authed, authMethods: ['LOGIN'], onAuth: checkCredentials('LOGIN') });
  });

  after(async () => {
    await Promise.all([open.close(), plain.close(), login.close()]);
  });

  test('sends a multipart invitation through a relay without authentication', TIMEOUT, async () => {
    const lines: string[] = [];
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${open.port}`, from: FROM, outboxDir: '/nonexistent', log: (line) => lines.push(line) });
    assert.ok(mailer instanceof SmtpMailer);
    try {
      await mailer.send(invitation('alice@example.test'));
    } finally {
      await mailer.close();
    }
    assert.equal(open.received.length, 1);
    const message = open.received[0];
    assert.ok(message !== undefined);
    assert.equal(message.mailFrom, 'airlock@example.test');
    assert.deepEqual(message.rcptTo, ['alice@example.test']);
    assertWellFormed(message.raw);
    const parsed = await simpleParser(message.raw);
    assertInvitation(parsed, 'alice@example.test');
    assert.ok(parsed.text?.includes('Alice Liddell'));
    assert.deepEqual(lines, [
      `mail: sending through smtp://127.0.0.1:${open.port}`,
      `mail: "You have been invited to Airlock" sent to alice@example.test through smtp://127.0.0.1:${open.port}`,
    ]);
  });

  for (const method of ['PLAIN', 'LOGIN'] as const) {
    test(`authenticates with AUTH ${method}, and never logs the password`, TIMEOUT, async () => {
      const server = method === 'PLAIN' ? plain : login;
      const lines: string[] = [];
      const mailer = createMailer({ smtpUrl: url(server), from: FROM, outboxDir: '/nonexistent', log: (line) => lines.push(line) });
      try {
        await mailer.send(invitation('Bob Example <bob@example.test>'));
      } finally {
        await mailer.close();
      }
      assert.deepEqual(server.auths, [{ method, username: USER }]);
      assert.equal(server.received.length, 1);
      const message = server.received[0];
      assert.ok(message !== undefined);
      assert.equal(message.user, USER);
      const parsed = await simpleParser(message.raw);
      assertInvitation(parsed, 'bob@example.test');
      assert.equal((Array.isArray(parsed.to) ? parsed.to[0] : parsed.to)?.value[0]?.name, 'Bob Example');
      assert.equal(lines.length, 2);
      for (const line of lines) {
        assert.ok(!line.includes(PASSWORD) && !line.includes(encodeURIComponent(PASSWORD)), `no password in: ${line}`);
        assert.ok(line.includes(`smtp://${encodeURIComponent(USER)}@127.0.0.1:${server.port}`), line);
      }
    });
  }

  test('a wrong password rejects with an error that does not contain the password', TIMEOUT, async () => {
    const wrong = 'Wr0ng-pa55word!';
    const forms = [wrong, encodeURIComponent(wrong), Buffer.from(`\0${USER}\0${wrong}`).toString('base64'), Buffer.from(wrong).toString('base64')];
    const lines: string[] = [];
    const mailer = new SmtpMailer({ url: url(plain, wrong), from: FROM, log: (line) => lines.push(line) });
    const before = plain.received.length;
    try {
      await assert.rejects(mailer.send(invitation('carol@example.test')), (error: unknown) => {
        assert.ok(error instanceof MailDeliveryError);
        assert.equal(error.code, 'EAUTH');
        assert.equal(error.responseCode, 535);
        assert.match(error.message, /carol@example\.test/);
        const everything = `${String(error)}\n${error.stack ?? ''}\n${inspect(error, { depth: 10, showHidden: true })}`;
        for (const form of forms) assert.ok(!everything.includes(form), `the error must not contain ${form}`);
        return true;
      });
      await assert.rejects(mailer.verify(), MailDeliveryError);
    } finally {
      await mailer.close();
    }
    assert.equal(plain.received.length, before, 'nothing was delivered');
    assert.deepEqual(lines, [], 'nothing was logged as sent');
  });

  test('a relay that is not there fails fast', TIMEOUT, async () => {
    const gone = await startSmtpServer({ authOptional: true });
    await gone.close();
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${gone.port}`, from: FROM, timeouts: { connectionMs: 2_000, greetingMs: 2_000, socketMs: 2_000 } });
    try {
      await assert.rejects(mailer.send(invitation('dave@example.test')), (error: unknown) => error instanceof MailDeliveryError && error.code === 'ESOCKET');
    } finally {
      await mailer.close();
    }
  });
});

describe('SMTP URLs', () => {
  test('reads host, port, TLS mode and credentials', () => {
    assert.deepEqual(parseSmtpUrl('smtp://mail.example.test'), { host: 'mail.example.test', port: 587, secure: false, requireTLS: false, ignoreTLS: false, rejectUnauthorized: true });
    assert.deepEqual(parseSmtpUrl('smtps://u%40x:p%3Aw@[::1]:2465?name=airlock.example.test&rejectUnauthorized=false'), {
      host: '::1',
      port: 2465,
      secure: true,
      requireTLS: false,
      ignoreTLS: false,
      rejectUnauthorized: false,
      user: 'u@x',
      pass: 'p:w',
      name: 'airlock.example.test',
    });
    assert.equal(parseSmtpUrl('smtps://relay.example.test').port, 465);
  });

  test('rejects what it cannot use, without repeating the URL', () => {
    for (const bad of ['http://u:hunter22@host', 'smtp://u:hunter22@host/path', 'smtp://u:hunter22@host?tls=1', 'smtp://u:hunter22@host:99999', 'smtp://u:hunter22@host:0', 'smtp://:hunter22@host']) {
      assert.throws(
        () => parseSmtpUrl(bad),
        (error: unknown) => error instanceof TypeError && !inspect(error).includes('hunter22'),
        bad,
      );
    }
  });

  test('redacts the password', () => {
    assert.equal(redactSmtpUrl('smtp://user:hunter22@host:25'), 'smtp://user:***@host:25');
    assert.equal(redactSmtpUrl('smtps://host'), 'smtps://host');
    assert.equal(redactSmtpUrl('not a url hunter22'), '(invalid SMTP URL)');
  });
});

describe('outbox', () => {
  let root: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'airlock-mail-'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('writes one private .eml file per mail, and logs where it is with its link', TIMEOUT, async () => {
    const dir = join(root, 'single', 'outbox');
    const lines: string[] = [];
    const mailer = createMailer({ from: FROM, outboxDir: dir, log: (line) => lines.push(line) });
    assert.ok(mailer instanceof OutboxMailer);
    await mailer.send(invitation('alice@example.test'));
    await mailer.close();

    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const names = await readdir(dir);
    assert.equal(names.length, 1, 'one file, no temporary left behind');
    const name = names[0] ?? '';
    assert.match(name, /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z-[0-9a-f]+\.eml$/);
    const file = join(dir, name);
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    const raw = await readFile(file);
    assertWellFormed(raw);
    assertInvitation(await simpleParser(raw), 'alice@example.test');

    assert.deepEqual(lines, [`mail: no SMTP relay configured; mails are written to ${dir}`, `mail: to alice@example.test written to ${file}; link: ${LINK}`]);
  });

  test('logs the code of a sign-in code mail, and lists the outbox oldest first', TIMEOUT, async () => {
    const dir = join(root, 'many');
    const lines: string[] = [];
    const mailer = new OutboxMailer({ dir, from: FROM, log: (line) => lines.push(line) });
    const expiresAt = new Date(Date.now() + 10 * 60 * 1000);
    const resetLink = `https://airlock.example.test/account/reset?token=${TOKEN}`;
    const mails: MailMessage[] = [
      invitation('alice@example.test'),
      { to: 'bob@example.test', ...signInCodeMail({ userName: 'bob', code: '042917', expiresAt }) },
      { to: 'Zoë Müller <zoe@example.test>', ...passwordResetMail({ userName: 'zoë', link: resetLink, expiresAt, product: 'Airlock Ünïcode' }) },
    ];
    // Sent one after the other, within the same millisecond or not, they list in this order.
    for (const mail of mails) await mailer.send(mail);

    assert.equal(lines.length, 3);
    assert.match(lines[1] ?? '', /^mail: to bob@example\.test written to \/.+\.eml; code: 042917$/);
    assert.ok(lines[2]?.endsWith(`; link: ${resetLink}`));

    const entries = await listOutbox(dir);
    assert.deepEqual(
      entries.map(({ to, subject, firstLink, code }) => ({ to, subject, firstLink, code })),
      [
        { to: 'alice@example.test', subject: 'You have been invited to Airlock', firstLink: LINK, code: undefined },
        { to: 'bob@example.test', subject: 'Your Airlock sign-in code', firstLink: undefined, code: '042917' },
        { to: 'Zoë Müller <zoe@example.test>', subject: 'Reset your Airlock Ünïcode password', firstLink: resetLink, code: undefined },
      ],
    );
    assert.ok(!('firstLink' in (entries[1] ?? {})), 'absent, not undefined');
    for (const [i, entry] of entries.entries()) {
      assert.ok(lines[i]?.includes(` written to ${entry.file};`), 'the log names the file listed');
      assert.ok(Math.abs(entry.date.getTime() - Date.now()) < 60_000);
    }
    const times = entries.map((entry) => entry.date.getTime());
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.ok(new Set(times).size === times.length, 'file names are strictly ordered in one process');

    const parsed = await simpleParser(await readFile(entries[2]?.file ?? ''));
    assert.equal(parsed.subject, 'Reset your Airlock Ünïcode password');
    assert.equal(firstAddress(parsed.to), 'zoe@example.test');
  });

  test('a missing outbox lists as empty; temporary files are not listed', TIMEOUT, async () => {
    assert.deepEqual(await listOutbox(join(root, 'does-not-exist')), []);
    const dir = join(root, 'temporaries');
    await mkdir(dir, { mode: 0o700 });
    await writeFile(join(dir, '.2024-05-01T14-03-27.000Z-abc.eml.1234.tmp'), 'To: x@example.test\r\n\r\nhalf a mail');
    await writeFile(join(dir, '.hidden.eml'), 'To: x@example.test\r\n\r\nnot ours');
    await writeFile(join(dir, 'notes.txt'), 'not a mail');
    assert.deepEqual(await listOutbox(dir), []);
  });

  test('an existing directory keeps its mode', TIMEOUT, async () => {
    const lines: string[] = [];
    const mailer = new OutboxMailer({ dir: root, from: FROM, log: (line) => lines.push(line) });
    const before = (await stat(root)).mode & 0o777;
    await mailer.send({ to: 'x@example.test', subject: 'x', text: 'no link, no code', html: '<p>x</p>' });
    assert.equal((await stat(root)).mode & 0o777, before);
    assert.match(lines.at(-1) ?? '', /^mail: to x@example\.test written to .+\.eml$/);
  });
});

describe('finding links and codes', () => {
  test('the first http(s) link, without trailing punctuation', () => {
    assert.equal(findFirstLink('Open https://a.test/x?y=1. Then http://b.test'), 'https://a.test/x?y=1');
    assert.equal(findFirstLink('(see https://a.test/p)'), 'https://a.test/p');
    assert.equal(findFirstLink('ftp://a.test and https:// nothing'), undefined);
  });

  test('a stand-alone six-digit code, not digits inside a link', () => {
    assert.equal(findCode('https://a.test/123456 then 654321.'), '654321');
    assert.equal(findCode('1234567 and 12345'), undefined);
  });
});

describe('templates', () => {
  const now = new Date('2024-05-01T14:03:27Z');

  test('escape every interpolated value in HTML and keep it as is in text', () => {
    const hostile = '<script>alert("x")</script> & Co';
    const mail = invitationMail({ userName: 'o\'brien<b>', displayName: hostile, link: `${LINK}&x="'<>`, expiresAt: new Date(now.getTime() + 7 * DAY), product: 'Air<lock>', now });
    assert.ok(!mail.html.includes('<script>'));
    assert.ok(!mail.html.includes('<b>'));
    assert.ok(mail.html.includes(escapeHtml(hostile)));
    assert.ok(mail.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co'));
    assert.ok(mail.html.includes('o&#39;brien&lt;b&gt;'));
    assert.ok(mail.html.includes('Air&lt;lock&gt;'));
    assert.ok(mail.html.includes(`href="${escapeHtml(`${LINK}&x="'<>`)}"`));
    assert.ok(mail.text.includes(`Hello ${hostile},`));
    assert.ok(mail.text.includes("o'brien<b>"));
    assert.equal(mail.subject, 'You have been invited to Air<lock>');
  });

  test('the invitation says what the link does, when it expires, and that MFA follows', () => {
    const mail = invitationMail({ userName: 'alice', link: LINK, expiresAt: new Date(now.getTime() + 7 * DAY), now });
    for (const part of [mail.text, mail.html]) {
      assert.match(part, /Hello alice,/);
      assert.match(part, /choose a password/);
      assert.match(part, /multi-factor authentication \(MFA\)/);
      assert.match(part, /expires in 7 days \(on Wed, 8 May 2024 at 14:03 UTC\)/);
      assert.match(part, /did not expect this invitation/);
    }
    assert.ok(mail.text.includes(`\n${LINK}\n`), 'the link is on a line of its own');
  });

  test('the sign-in code mail shows the code and its ten minutes', () => {
    const mail = signInCodeMail({ userName: 'bob', code: '000123', expiresAt: new Date(now.getTime() + 10 * 60 * 1000), now });
    assert.equal(findCode(mail.text), '000123');
    assert.ok(mail.html.includes('>000123</p>'));
    for (const part of [mail.text, mail.html]) {
      assert.match(part, /expires in 10 minutes \(on Wed, 1 May 2024 at 14:13 UTC\)/);
      assert.match(part, /did not just try to sign in/);
    }
    assert.ok(!mail.subject.includes('000123'), 'the code stays out of notification previews');
    assert.throws(() => signInCodeMail({ userName: 'bob', code: '12345', expiresAt: now }), TypeError);
  });

  test('the password reset mail carries the link and its expiry', () => {
    const link = `https://airlock.example.test/reset?token=${TOKEN}`;
    const mail = passwordResetMail({ userName: 'carol', link, expiresAt: new Date(now.getTime() + 60 * 60 * 1000), now });
    assert.equal(mail.subject, 'Reset your Airlock password');
    assert.equal(findFirstLink(mail.text), link);
    assert.match(mail.text, /expires in 60 minutes/);
    assert.match(mail.html, /did not ask for this/);
  });

  test('only http(s) links are accepted', () => {
    for (const link of ['javascript:alert(1)', 'relative/path', 'https://a.test/x y']) {
      assert.throws(() => invitationMail({ userName: 'a', link, expiresAt: now }), TypeError, link);
    }
  });

  test('expiry wording', () => {
    assert.equal(formatUtc(new Date('2024-12-31T23:59:59Z')), 'Tue, 31 Dec 2024 at 23:59 UTC');
    assert.equal(describeExpiry(new Date(now.getTime() + 3 * 60 * 60 * 1000), now), 'in 3 hours (on Wed, 1 May 2024 at 17:03 UTC)');
    assert.equal(describeExpiry(new Date(now.getTime() + 30_000), now), 'in less than a minute (on Wed, 1 May 2024 at 14:03 UTC)');
    assert.equal(describeExpiry(new Date(now.getTime() - 1), now), 'on Wed, 1 May 2024 at 14:03 UTC');
  });
});
