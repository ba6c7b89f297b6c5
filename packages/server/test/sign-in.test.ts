/**
 * Signing in end to end, over HTTP against a real server: the guide's path with real mail (an SMTP
 * server in the test) on SQLite and PostgreSQL, accepting invitations, one-time passwords, and
 * what a guesser learns (the same answer, the same time, the same lockout for any name).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AirlockApiError } from '@airlock/client';
import { identitystore, portal } from '@airlock/protocol';
import { authenticatorCode, BACKENDS, goodPassword, invitedUser, mailedTo, refused, startTestServer, type TestServer } from '@airlock/testkit';
import { hashPassword, hashQueue, MAX_CONCURRENT_HASHES, MAX_WAITING_HASHES } from '@airlock/server/identity/passwords';
import { startSmtpServer, type TestSmtpServer } from './smtp-server.js';

const TIMEOUT = { timeout: 30_000 };
const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;
const WRONG_CREDENTIALS = 'Incorrect username or password.';

// ------------------------------------------------------------------------------------------------
// The guide's path, with real mail, on each backend.

for (const backend of BACKENDS) {
  describe(`the guide's sign-in with real mail, on ${backend}`, () => {
    let smtp: TestSmtpServer;
    let server: TestServer;
    before(async () => {
      smtp = await startSmtpServer({ authOptional: true });
      server = await startTestServer({ backend, flags: { 'smtp-url': `smtp://127.0.0.1:${smtp.port}` } });
    });
    after(async () => {
      await server.stop();
      await smtp.close();
    });

    test('invitation mail → password → emailed code → authenticator app → sign-in with the app', TIMEOUT, async () => {
      const anonymous = server.client();
      const { UserId } = await server.root.call(identitystore.CreateUser, {
        UserName: 'testuser01',
        DisplayName: 'Test User01',
        Emails: [{ Value: 'testuser01@example.com', Primary: true }],
      });

      // The invitation arrives by SMTP, with a single-use link to this server.
      const [invitation] = await smtp.mails(1);
      assert.ok(invitation !== undefined);
      assert.match(invitation.to, /testuser01@example\.com/);
      assert.match(invitation.subject, /invited/i);
      const link = new URL(/https?:\/\/\S+/.exec(invitation.text)?.[0] ?? 'about:blank');
      assert.equal(`${link.origin}${link.pathname}`, `${server.url}/portal/accept-invitation`);
      const token = link.searchParams.get('token') ?? '';
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);

      // The page asks first whose link it is; used, the link is no one's.
      const described = await anonymous.call(portal.DescribeInvitation, { InvitationToken: token });
      assert.equal(described.UserName, 'testuser01');
      assert.equal(described.ExpiresAt, (server.clock.now() + 7 * 24 * 3600_000) / 1000);
      const password = goodPassword();
      assert.deepEqual(await anonymous.call(portal.AcceptInvitation, { InvitationToken: token, Password: password }), { UserName: 'testuser01' });
      await refused(anonymous.call(portal.AcceptInvitation, { InvitationToken: token, Password: goodPassword() }), 'NotAuthorizedException');
      await refused(anonymous.call(portal.DescribeInvitation, { InvitationToken: token }), 'NotAuthorizedException', /used already/);

      // No app yet: the default settings mail a code.
      const first = await anonymous.call(portal.InitiateAuth, { Username: 'testuser01', Password: password });
      assert.equal(first.ChallengeName, 'EMAIL_OTP');
      assert.equal(first.AuthenticationResult, undefined);
      assert.equal(first.ChallengeParameters?.['CODE_DELIVERY_DELIVERY_MEDIUM'], 'EMAIL');
      assert.equal(first.ChallengeParameters['CODE_DELIVERY_DESTINATION'], 't***@example.com');
      const codeMail = (await smtp.mails(2))[1];
      assert.ok(codeMail !== undefined);
      assert.match(codeMail.to, /testuser01@example\.com/);
      assert.match(codeMail.subject, /sign-in code/i);
      const emailCode = /^\s*(\d{6})\s*$/m.exec(codeMail.text)?.[1] ?? '';
      assert.match(emailCode, /^\d{6}$/);
      const byMail = await anonymous.call(portal.RespondToAuthChallenge, {
        ChallengeName: 'EMAIL_OTP',
        Session: first.Session ?? '',
        ChallengeResponses: { USERNAME: 'testuser01', EMAIL_OTP_CODE: emailCode },
      });
      const mailToken = byMail.AuthenticationResult?.AccessToken ?? '';
      assert.match(mailToken, /^alp_/);
      assert.equal(byMail.AuthenticationResult?.TokenType, 'Bearer');
      assert.equal(byMail.AuthenticationResult.ExpiresIn, 8 * 3600);
      assert.equal(byMail.AuthenticationResult.NewDeviceMetadata, undefined, 'ALWAYS_ON trusts no device');

      // Register the authenticator app with the session the emailed code gave.
      const signedIn = server.client(mailToken);
      const association = await signedIn.call(portal.AssociateSoftwareToken, {});
      assert.match(association.SecretCode, /^[A-Z2-7]{32}$/);
      assert.ok(association.OtpauthUri.startsWith('otpauth://totp/Airlock:testuser01?'), association.OtpauthUri);
      assert.match(association.OtpauthUri, new RegExp(`secret=${association.SecretCode}`));
      assert.match(association.QrCodeSvg, /<svg/);
      const verified = await signedIn.call(portal.VerifySoftwareToken, { UserCode: authenticatorCode(association.SecretCode, server.clock.now()), FriendlyDeviceName: 'phone' });
      assert.equal(verified.Status, 'SUCCESS');

      // The next sign-in asks for the app's code (the next 30-second step), and mails nothing.
      server.clock.advance(30 * SECOND);
      const second = await anonymous.call(portal.InitiateAuth, { Username: 'testuser01', Password: password });
      assert.equal(second.ChallengeName, 'SOFTWARE_TOKEN_MFA');
      assert.equal(second.ChallengeParameters?.['USER_ID_FOR_SRP'], 'testuser01');
      const byApp = await anonymous.call(portal.RespondToAuthChallenge, {
        ChallengeName: 'SOFTWARE_TOKEN_MFA',
        Session: second.Session ?? '',
        ChallengeResponses: { USERNAME: 'testuser01', SOFTWARE_TOKEN_MFA_CODE: authenticatorCode(association.SecretCode, server.clock.now()) },
      });
      const appToken = byApp.AuthenticationResult?.AccessToken ?? '';
      assert.match(appToken, /^alp_/);
      assert.notEqual(appToken, mailToken);

      const session = await server.client(appToken).call(portal.GetSession, {});
      assert.equal(session.UserName, 'testuser01');
      assert.equal(session.UserId, UserId);
      assert.equal(session.MfaAuthenticated, true);
      assert.equal(session.SignedInAt, server.clock.now() / 1000);
      assert.equal(session.ExpiresAt - session.SignedInAt, 8 * 3600);
      assert.equal((await smtp.mails(2)).length, 2, 'a user with an app gets no sign-in code by mail');
    });
  });
}

// ------------------------------------------------------------------------------------------------

describe('accepting an invitation', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  const inviteToken = async (userName: string): Promise<string> => {
    await server.root.call(identitystore.CreateUser, { UserName: userName, Emails: [{ Value: `${userName}@example.com` }] });
    return new URL(mailedTo(server, `${userName}@example.com`, 'link')).searchParams.get('token') ?? '';
  };

  test('an unknown token and a used one are refused; a weak password is refused and the link stays usable', TIMEOUT, async () => {
    const anonymous = server.client();
    await refused(anonymous.call(portal.AcceptInvitation, { InvitationToken: randomBytes(32).toString('base64url'), Password: goodPassword() }), 'NotAuthorizedException', /not valid/);

    const token = await inviteToken('weakling');
    const weak = ['password123', 'short1', 'weakling-rocks-2026', 'my WEAKLING passphrase'];
    for (const password of weak) {
      await refused(anonymous.call(portal.AcceptInvitation, { InvitationToken: token, Password: password }), 'InvalidPasswordException');
    }
    const password = goodPassword();
    assert.deepEqual(await anonymous.call(portal.AcceptInvitation, { InvitationToken: token, Password: password }), { UserName: 'weakling' });
    await refused(anonymous.call(portal.AcceptInvitation, { InvitationToken: token, Password: goodPassword() }), 'NotAuthorizedException', /not valid/);
    // The password set is the one that signs in.
    const signIn = await anonymous.call(portal.InitiateAuth, { Username: 'weakling', Password: password });
    assert.equal(signIn.ChallengeName, 'EMAIL_OTP');
  });

  test('a link works for 7 days and not after', TIMEOUT, async () => {
    const early = await inviteToken('expiry-early');
    const late = await inviteToken('expiry-late');
    server.clock.advance(7 * DAY - 60 * SECOND);
    assert.deepEqual(await server.client().call(portal.AcceptInvitation, { InvitationToken: early, Password: goodPassword() }), { UserName: 'expiry-early' });
    server.clock.advance(2 * 60 * SECOND);
    await refused(server.client().call(portal.AcceptInvitation, { InvitationToken: late, Password: goodPassword() }), 'NotAuthorizedException', /not valid/);
  });
});

// ------------------------------------------------------------------------------------------------

describe('what someone guessing learns', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('a wrong password and an unknown user get the same answer, after comparable work', TIMEOUT, async () => {
    await invitedUser(server, 'timing01');
    await server.root.call(identitystore.CreateUser, { UserName: 'pending01', Emails: [{ Value: 'pending01@example.com' }] });
    const anonymous = server.client();
    const attempt = async (userName: string): Promise<{ error: AirlockApiError; ms: number }> => {
      const start = performance.now();
      const error = await refused(anonymous.call(portal.InitiateAuth, { Username: userName, Password: goodPassword() }), 'NotAuthorizedException');
      return { error, ms: performance.now() - start };
    };
    // A user who has not chosen a password yet answers like everyone else.
    const pending = await attempt('pending01');
    assert.equal(pending.error.message, WRONG_CREDENTIALS);
    await attempt('warm-up-ghost');

    const known: number[] = [];
    const unknown: number[] = [];
    // Five tries: the fifth wrong password still does the work (the lock comes after it).
    for (let i = 0; i < 5; i++) {
      const wrong = await attempt('timing01');
      const ghost = await attempt(`ghost-${i}`);
      assert.equal(wrong.error.message, WRONG_CREDENTIALS);
      assert.equal(ghost.error.message, WRONG_CREDENTIALS);
      assert.equal(wrong.error.status, ghost.error.status);
      known.push(wrong.ms);
      unknown.push(ghost.ms);
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    const ratio = median(known) / median(unknown);
    assert.ok(ratio > 1 / 3 && ratio < 3, `median wrong password ${median(known).toFixed(1)} ms, unknown user ${median(unknown).toFixed(1)} ms`);
  });

  test('five wrong passwords lock a name for the time the message says, the same for a name that does not exist', TIMEOUT, async () => {
    const { password } = await invitedUser(server, 'lockme');
    const anonymous = server.client();
    for (let i = 0; i < 5; i++) {
      await refused(anonymous.call(portal.InitiateAuth, { Username: 'lockme', Password: goodPassword() }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
      await refused(anonymous.call(portal.InitiateAuth, { Username: 'nobody-here', Password: goodPassword() }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
    }
    const locked = await refused(anonymous.call(portal.InitiateAuth, { Username: 'lockme', Password: password }), 'NotAuthorizedException', /try again in \d+ seconds/);
    const lockedGhost = await refused(anonymous.call(portal.InitiateAuth, { Username: 'nobody-here', Password: password }), 'NotAuthorizedException');
    assert.equal(lockedGhost.message, locked.message, 'a real name and a made-up one lock alike');
    assert.equal(lockedGhost.status, locked.status);
    // Names are compared without case, so the lock holds for any spelling.
    await refused(anonymous.call(portal.InitiateAuth, { Username: 'LockMe', Password: password }), 'NotAuthorizedException', /try again in/);

    const seconds = Number(/try again in (\d+) seconds/.exec(locked.message)?.[1]);
    assert.equal(seconds, 30, `the documented first lock is 30 s: ${locked.message}`);
    server.clock.advance((seconds - 1) * SECOND);
    await refused(anonymous.call(portal.InitiateAuth, { Username: 'lockme', Password: password }), 'NotAuthorizedException', /try again in 1 seconds?/);
    server.clock.advance(1 * SECOND + 1);
    const signIn = await anonymous.call(portal.InitiateAuth, { Username: 'lockme', Password: password });
    assert.equal(signIn.ChallengeName, 'EMAIL_OTP', 'once the lock ends the right password is let in');
  });
});

// ------------------------------------------------------------------------------------------------

for (const backend of BACKENDS) {
  describe(`at once, on ${backend}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
    });
    after(async () => {
      await server.stop();
    });

    test('a burst of wrong passwords sent at once gets no more tries than one sent after another', TIMEOUT, async () => {
      const { password } = await invitedUser(server, 'burst01');
      const anonymous = server.client();
      const burst = await Promise.allSettled(Array.from({ length: 10 }, () => anonymous.call(portal.InitiateAuth, { Username: 'burst01', Password: goodPassword() })));
      const messages = burst.map((outcome) => (outcome.status === 'rejected' && outcome.reason instanceof AirlockApiError ? outcome.reason.message : JSON.stringify(outcome)));
      const tried = messages.filter((message) => message === WRONG_CREDENTIALS).length;
      const lockedOut = messages.filter((message) => /try again in \d+ seconds/.test(message)).length;
      assert.equal(tried + lockedOut, 10, messages.join('\n'));
      assert.ok(tried <= 5, `${tried} of 10 simultaneous guesses were checked against the password; one after another, the sixth is refused unchecked`);
      await refused(anonymous.call(portal.InitiateAuth, { Username: 'burst01', Password: password }), 'NotAuthorizedException', /try again in/);
    });

    test('failures sent at once all count: four at once and one after lock the name', TIMEOUT, async () => {
      for (let round = 0; round < 3; round++) {
        const userName = `count-${round}`;
        const { password } = await invitedUser(server, userName);
        const anonymous = server.client();
        const four = await Promise.allSettled(Array.from({ length: 4 }, () => anonymous.call(portal.InitiateAuth, { Username: userName, Password: goodPassword() })));
        assert.ok(four.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof AirlockApiError && outcome.reason.message === WRONG_CREDENTIALS), JSON.stringify(four));
        await refused(anonymous.call(portal.InitiateAuth, { Username: userName, Password: goodPassword() }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
        await refused(anonymous.call(portal.InitiateAuth, { Username: userName, Password: password }), 'NotAuthorizedException', /try again in 30 seconds/);
      }
    });

    test('twenty sign-in answers at once are all answered and all audited', TIMEOUT, async () => {
      const db = server.server.services.db;
      const before = (await db.selectFrom('audit_events').select('seq').execute()).length;
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, () =>
          server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: randomBytes(32).toString('base64url'), ChallengeResponses: { EMAIL_OTP_CODE: '123456' } }),
        ),
      );
      const codes = outcomes.map((outcome) => (outcome.status === 'rejected' && outcome.reason instanceof AirlockApiError ? outcome.reason.code : outcome.status));
      assert.deepEqual(codes, Array.from({ length: 20 }, () => 'NotAuthorizedException'));
      const seqs = (await db.selectFrom('audit_events').select('seq').orderBy('seq').execute()).map((row) => row.seq);
      assert.equal(seqs.length, before + 20, 'one audit record per call');
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_value, index) => index + 1), 'numbered without gaps');
    });

    test('one invitation link sent twice at once sets one password: the one the caller was told was accepted', TIMEOUT, async () => {
      for (let round = 0; round < 3; round++) {
        const userName = `race-accept-${round}`;
        const email = `${userName}@example.com`;
        await server.root.call(identitystore.CreateUser, { UserName: userName, Emails: [{ Value: email }] });
        const token = new URL(mailedTo(server, email, 'link')).searchParams.get('token') ?? '';
        const passwords = [goodPassword(), goodPassword()];
        const outcomes = await Promise.allSettled(passwords.map((password) => server.client().call(portal.AcceptInvitation, { InvitationToken: token, Password: password })));
        const accepted = passwords.filter((_password, index) => outcomes[index]?.status === 'fulfilled');
        const refusedOnes = passwords.filter((_password, index) => outcomes[index]?.status === 'rejected');
        assert.equal(accepted.length, 1, `round ${round}: the link worked ${accepted.length} times`);
        for (const password of refusedOnes) {
          await refused(server.client().call(portal.InitiateAuth, { Username: userName, Password: password }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
        }
        const signIn = await server.client().call(portal.InitiateAuth, { Username: userName, Password: accepted[0] ?? '' });
        assert.equal(signIn.ChallengeName, 'EMAIL_OTP', `round ${round}: the password the link accepted signs in`);
      }
    });

    test('an emailed code answered several times at once signs in once', TIMEOUT, async () => {
      for (let round = 0; round < 3; round++) {
        const { password, email } = await invitedUser(server, `race-code-${round}`);
        const challenge = await server.client().call(portal.InitiateAuth, { Username: `race-code-${round}`, Password: password });
        const code = mailedTo(server, email, 'code');
        const answer = { ChallengeName: 'EMAIL_OTP', Session: challenge.Session ?? '', ChallengeResponses: { EMAIL_OTP_CODE: code } } as const;
        const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => server.client().call(portal.RespondToAuthChallenge, answer)));
        const sessions = outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value.AuthenticationResult !== undefined);
        assert.equal(sessions.length, 1, `round ${round}: one emailed code opened ${sessions.length} sessions`);
      }
    });
  });
}

// ------------------------------------------------------------------------------------------------

describe('a node checking too many passwords', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('answers ThrottlingException at once, counting nothing towards the lockout, and signs in once the queue is down', TIMEOUT, async () => {
    const { password } = await invitedUser(server, 'busy01');
    const anonymous = server.client();
    // The server runs in this process: these fill its queue of password hashes twice over, so it
    // stays full for seconds (a hash takes about 40 ms) while the six calls below are refused;
    // filled just to the limit, one hash done left room for the next call on a slow machine.
    const flood = Array.from({ length: MAX_CONCURRENT_HASHES + 2 * MAX_WAITING_HASHES }, () => hashPassword(goodPassword()));
    assert.equal(hashQueue().waiting, 2 * MAX_WAITING_HASHES);
    // More refusals than the lockout allows failures: none of them counts.
    for (let i = 0; i < 6; i++) {
      await refused(anonymous.call(portal.InitiateAuth, { Username: 'busy01', Password: i % 2 === 0 ? password : goodPassword() }), 'ThrottlingException', /too many passwords at once; try again in a few seconds/);
    }
    assert.ok(hashQueue().waiting >= MAX_WAITING_HASHES, 'the queue was full throughout');
    await Promise.all(flood);
    const signIn = await anonymous.call(portal.InitiateAuth, { Username: 'busy01', Password: password });
    assert.ok(signIn.ChallengeName !== undefined || signIn.AuthenticationResult !== undefined, JSON.stringify(signIn));
  });
});

describe('an emailed code', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('works once, only for the sign-in it was mailed for, for 10 minutes', TIMEOUT, async () => {
    const { password, email } = await invitedUser(server, 'mailcode01');
    const anonymous = server.client();
    const answer = (session: string | undefined, code: string): Promise<unknown> =>
      anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: session ?? '', ChallengeResponses: { EMAIL_OTP_CODE: code } });

    const first = await anonymous.call(portal.InitiateAuth, { Username: 'mailcode01', Password: password });
    const firstCode = mailedTo(server, email, 'code');
    const second = await anonymous.call(portal.InitiateAuth, { Username: 'mailcode01', Password: password });
    const secondCode = mailedTo(server, email, 'code');
    if (firstCode !== secondCode) await refused(answer(second.Session, firstCode), 'CodeMismatchException', /latest email/);
    await answer(second.Session, secondCode);
    await refused(answer(second.Session, secondCode), 'NotAuthorizedException');

    server.clock.advance(10 * 60 * SECOND - SECOND);
    await answer(first.Session, firstCode);

    const late = await anonymous.call(portal.InitiateAuth, { Username: 'mailcode01', Password: password });
    const lateCode = mailedTo(server, email, 'code');
    server.clock.advance(10 * 60 * SECOND + SECOND);
    await refused(answer(late.Session, lateCode), 'NotAuthorizedException', /expired/);
  });
});

// ------------------------------------------------------------------------------------------------

describe('a one-time password', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('must be replaced first (NEW_PASSWORD_REQUIRED), then MFA follows, and it stops working', TIMEOUT, async () => {
    const email = 'otp01@example.com';
    const { OneTimePassword } = await server.root.call(identitystore.CreateUser, { UserName: 'otp01', Emails: [{ Value: email }], PasswordSetup: 'ONE_TIME_PASSWORD' });
    const oneTime = OneTimePassword ?? '';
    const anonymous = server.client();
    const first = await anonymous.call(portal.InitiateAuth, { Username: 'otp01', Password: oneTime });
    assert.equal(first.ChallengeName, 'NEW_PASSWORD_REQUIRED');
    assert.equal(first.AuthenticationResult, undefined);
    const session = first.Session ?? '';

    // The Session is for a new password only, and a weak one is refused without ending it.
    await refused(anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: session, ChallengeResponses: { EMAIL_OTP_CODE: '123456' } }), 'InvalidRequestException');
    await refused(anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session, ChallengeResponses: { NEW_PASSWORD: 'password123' } }), 'InvalidPasswordException');
    await refused(anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session, ChallengeResponses: { NEW_PASSWORD: 'otp01 is me!' } }), 'InvalidPasswordException');

    const password = goodPassword();
    const next = await anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session, ChallengeResponses: { NEW_PASSWORD: password } });
    assert.equal(next.ChallengeName, 'EMAIL_OTP', 'a new password is not a sign-in: MFA is still due');
    assert.equal(next.AuthenticationResult, undefined);
    assert.notEqual(next.Session, session);
    await refused(anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: session, ChallengeResponses: { NEW_PASSWORD: goodPassword() } }), 'NotAuthorizedException');

    const done = await anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: next.Session ?? '', ChallengeResponses: { EMAIL_OTP_CODE: mailedTo(server, email, 'code') } });
    const token = done.AuthenticationResult?.AccessToken ?? '';
    const who = await server.client(token).call(portal.GetSession, {});
    assert.equal(who.UserName, 'otp01');
    assert.equal(who.MfaAuthenticated, true);

    await refused(anonymous.call(portal.InitiateAuth, { Username: 'otp01', Password: oneTime }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
    const again = await anonymous.call(portal.InitiateAuth, { Username: 'otp01', Password: password });
    assert.equal(again.ChallengeName, 'EMAIL_OTP', 'the new password goes straight to MFA');
  });
});
