/** CreateUser with an email mails a single-use invitation link; the token is stored only hashed. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { identitystore as api } from '@airlock/protocol';
import { listOutbox } from '@airlock/server/mail/outbox';
import { startTestServer, type TestServer } from '@airlock/testkit';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

test('a user with an email gets an invitation in the outbox, valid 7 days, and the log names the link', async () => {
  const { UserId } = await server.root.call(api.CreateUser, {
    UserName: 'testuser01',
    DisplayName: 'Test User01',
    Emails: [{ Value: 't1@example.com', Primary: true }],
  });
  const mails = await listOutbox(`${server.dataDir}/outbox`);
  assert.equal(mails.length, 1);
  const [mail] = mails;
  assert.equal(mail?.to, 't1@example.com');
  const link = new URL(mail.firstLink ?? '');
  assert.equal(`${link.origin}${link.pathname}`, `${server.url}/portal/accept-invitation`);
  const token = link.searchParams.get('token') ?? '';
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(server.log.lines.some((line) => line.includes(link.toString())), 'the log line carries the link');

  const rows = await server.server.services.db.selectFrom('one_time_tokens').selectAll().where('user_id', '=', UserId).execute();
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.ok(row !== undefined);
  assert.notEqual(row.token_hash, token, 'only the hash is stored');
  assert.equal(row.purpose, 'invitation');
  assert.equal(row.expires_at - server.clock.now(), 7 * 24 * 3600 * 1000);
});

test('ONE_TIME_PASSWORD sends no mail and marks the password for change', async () => {
  const before = (await listOutbox(`${server.dataDir}/outbox`)).length;
  const { UserId, OneTimePassword } = await server.root.call(api.CreateUser, { UserName: 'otp-user', Emails: [{ Value: 'otp@example.com' }], PasswordSetup: 'ONE_TIME_PASSWORD' });
  assert.match(OneTimePassword ?? '', /^[A-Za-z2-9]{20}$/);
  assert.equal((await listOutbox(`${server.dataDir}/outbox`)).length, before);
  const row = await server.server.services.db.selectFrom('users').selectAll().where('user_id', '=', UserId).executeTakeFirstOrThrow();
  assert.equal(row.password_must_change, 1);
  assert.match(row.password_hash ?? '', /^\$argon2id\$/);
});
