/**
 * MFA end to end, over HTTP against a real server: authenticator codes (taken once, within one
 * step of drift), challenge Sessions (5 minutes, 5 wrong answers), the MFA settings, trusted
 * devices, managing one's apps and session, and secrets kept out of the database and audit trail.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { AirlockApiError } from '@airlock/client';
import { identitystore, portal, type InputOf, type OutputOf } from '@airlock/protocol';
import { base32Decode } from '@airlock/server/identity/totp';
import { authenticatorCode, BACKENDS, goodPassword, invitedUser, mailedTo, refused, startTestServer, type Invited, type TestServer } from '@airlock/testkit';

const TIMEOUT = { timeout: 30_000 };
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 3600 * SECOND;

type AuthOutput = OutputOf<typeof portal.InitiateAuth>;

/** Six digits that are none of the codes the secret gives from 2 steps before `millis` to 2 after. */
function wrongCode(secret: string, millis: number): string {
  const near = new Set([-2, -1, 0, 1, 2].map((step) => authenticatorCode(secret, millis + step * 30 * SECOND)));
  for (let n = 0; ; n++) {
    const candidate = String((123_456 + n * 7_919) % 1_000_000).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

interface Enrolled extends Invited {
  /** The base32 secret of the authenticator app. */
  readonly secret: string;
  /** The access token of the sign-in made with the emailed code. */
  readonly firstToken: string;
  readonly emailCode: string;
  readonly registrationCode: string;
}

/** A user who has signed in with an emailed code and registered an authenticator app. */
async function enrolledUser(server: TestServer, userName: string, deviceName = 'phone'): Promise<Enrolled> {
  const invited = await invitedUser(server, userName);
  const challenge = await server.client().call(portal.InitiateAuth, { Username: userName, Password: invited.password });
  assert.equal(challenge.ChallengeName, 'EMAIL_OTP');
  const emailCode = mailedTo(server, invited.email, 'code');
  const result = await server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: challenge.Session ?? '', ChallengeResponses: { EMAIL_OTP_CODE: emailCode } });
  const firstToken = result.AuthenticationResult?.AccessToken ?? '';
  const { SecretCode } = await server.client(firstToken).call(portal.AssociateSoftwareToken, {});
  const registrationCode = authenticatorCode(SecretCode, server.clock.now());
  await server.client(firstToken).call(portal.VerifySoftwareToken, { UserCode: registrationCode, FriendlyDeviceName: deviceName });
  return { ...invited, secret: SecretCode, firstToken, emailCode, registrationCode };
}

/** Password, then the app's code for the next 30-second step (each code is taken once). */
async function appSignIn(server: TestServer, user: { userName: string; password: string; secret: string }, deviceKey?: string): Promise<AuthOutput> {
  server.clock.advance(30 * SECOND);
  const challenge = await server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password, ...(deviceKey === undefined ? {} : { DeviceKey: deviceKey }) });
  assert.equal(challenge.ChallengeName, 'SOFTWARE_TOKEN_MFA');
  return answerApp(server, challenge.Session ?? '', authenticatorCode(user.secret, server.clock.now()));
}

const answerApp = (server: TestServer, session: string, code: string): Promise<AuthOutput> =>
  server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: session, ChallengeResponses: { SOFTWARE_TOKEN_MFA_CODE: code } });

const startApp = async (server: TestServer, user: { userName: string; password: string }): Promise<string> => {
  const challenge = await server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password });
  assert.equal(challenge.ChallengeName, 'SOFTWARE_TOKEN_MFA');
  return challenge.Session ?? '';
};

const tokenOf = (result: AuthOutput): string => {
  const token = result.AuthenticationResult?.AccessToken;
  assert.ok(token !== undefined, `no tokens: ${JSON.stringify(result)}`);
  return token;
};

// ------------------------------------------------------------------------------------------------

describe('authenticator codes and challenge Sessions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('a code is taken once, even within its 30 seconds; an older code is refused; the Session survives a few wrong answers', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'replay01');
    // The code that registered the app cannot sign in: same step, same clock.
    const afterRegistration = await startApp(server, user);
    await refused(answerApp(server, afterRegistration, user.registrationCode), 'CodeMismatchException', /already used: wait for the next code/);

    server.clock.advance(30 * SECOND);
    const code = authenticatorCode(user.secret, server.clock.now());
    assert.match(tokenOf(await answerApp(server, afterRegistration, code)), /^alp_/);

    const again = await startApp(server, user);
    await refused(answerApp(server, again, code), 'CodeMismatchException', /already used/);
    // The step before is within the drift allowed, but older than the code already taken.
    await refused(answerApp(server, again, authenticatorCode(user.secret, server.clock.now() - 30 * SECOND)), 'CodeMismatchException');
    server.clock.advance(30 * SECOND);
    assert.match(tokenOf(await answerApp(server, again, authenticatorCode(user.secret, server.clock.now()))), /^alp_/, 'two wrong answers do not end the Session');
  });

  test('one step of drift is allowed, two are not', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'drift01');
    server.clock.advance(10 * MINUTE);
    const session = await startApp(server, user);
    const now = server.clock.now();
    await refused(answerApp(server, session, authenticatorCode(user.secret, now - 60 * SECOND)), 'CodeMismatchException', /use the code your authenticator app shows now/);
    await refused(answerApp(server, session, authenticatorCode(user.secret, now + 60 * SECOND)), 'CodeMismatchException');
    assert.match(tokenOf(await answerApp(server, session, authenticatorCode(user.secret, now - 30 * SECOND))), /^alp_/);
    const next = await startApp(server, user);
    assert.match(tokenOf(await answerApp(server, next, authenticatorCode(user.secret, now + 30 * SECOND))), /^alp_/);
  });

  test('four wrong codes leave the Session usable; the fifth ends it', TIMEOUT, async () => {
    const four = await enrolledUser(server, 'wrong04');
    server.clock.advance(30 * SECOND);
    const survivor = await startApp(server, four);
    for (let i = 0; i < 4; i++) {
      await refused(answerApp(server, survivor, wrongCode(four.secret, server.clock.now())), 'CodeMismatchException', /Invalid code/);
    }
    assert.match(tokenOf(await answerApp(server, survivor, authenticatorCode(four.secret, server.clock.now()))), /^alp_/);

    const five = await enrolledUser(server, 'wrong05');
    server.clock.advance(30 * SECOND);
    const doomed = await startApp(server, five);
    for (let i = 0; i < 5; i++) {
      await refused(answerApp(server, doomed, wrongCode(five.secret, server.clock.now())), 'CodeMismatchException');
    }
    const right = authenticatorCode(five.secret, server.clock.now());
    await refused(answerApp(server, doomed, right), 'NotAuthorizedException');
    // Not merely the name's lockout: once that has passed, the Session is still gone.
    server.clock.advance(61 * SECOND);
    await refused(answerApp(server, doomed, authenticatorCode(five.secret, server.clock.now())), 'NotAuthorizedException', /expired|Sign in again/);
  });

  test('a challenge Session lives 5 minutes', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'slow01');
    server.clock.advance(30 * SECOND);
    const inTime = await startApp(server, user);
    server.clock.advance(5 * MINUTE - SECOND);
    assert.match(tokenOf(await answerApp(server, inTime, authenticatorCode(user.secret, server.clock.now()))), /^alp_/);

    server.clock.advance(30 * SECOND);
    const late = await startApp(server, user);
    server.clock.advance(5 * MINUTE + SECOND);
    await refused(answerApp(server, late, authenticatorCode(user.secret, server.clock.now())), 'NotAuthorizedException', /expired/);
  });
});

for (const backend of BACKENDS) {
  describe(`an app code at once, on ${backend}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
    });
    after(async () => {
      await server.stop();
    });

    test('one app code sent several times at once signs in once', TIMEOUT, async () => {
      const user = await enrolledUser(server, 'race-app01');
      for (let round = 0; round < 3; round++) {
        server.clock.advance(30 * SECOND);
        const session = await startApp(server, user);
        const code = authenticatorCode(user.secret, server.clock.now());
        const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => answerApp(server, session, code)));
        const signedIn = outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value.AuthenticationResult !== undefined);
        assert.equal(signedIn.length, 1, JSON.stringify(outcomes.map((outcome) => (outcome.status === 'rejected' ? String(outcome.reason) : 'signed in'))));
      }
    });

    test('wrong codes sent at once on one Session get no more than 5 tries', TIMEOUT, async () => {
      const user = await enrolledUser(server, 'race-guess01');
      server.clock.advance(30 * SECOND);
      const session = await startApp(server, user);
      const wrong = wrongCode(user.secret, server.clock.now());
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => answerApp(server, session, wrong)));
      const codes = outcomes.map((outcome) => (outcome.status === 'rejected' && outcome.reason instanceof AirlockApiError ? outcome.reason.code : outcome.status));
      const checked = codes.filter((code) => code === 'CodeMismatchException').length;
      assert.ok(checked <= 5, `${checked} of 10 simultaneous answers were checked: ${codes.join(' ')}`);
      assert.ok(codes.every((code) => code === 'CodeMismatchException' || code === 'NotAuthorizedException'), codes.join(' '));
    });
  });
}

// ------------------------------------------------------------------------------------------------

describe('MFA settings', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  const put = (settings: Omit<InputOf<typeof portal.PutMfaSettings>, 'AllowedMfaTypes'>): Promise<unknown> =>
    server.root.call(portal.PutMfaSettings, { AllowedMfaTypes: ['AUTHENTICATOR_APP'], ...settings });

  test('a new server has the guide’s settings, and only an administrator changes them', TIMEOUT, async () => {
    assert.deepEqual(await server.root.call(portal.GetMfaSettings, {}), {
      MfaMode: 'ALWAYS_ON',
      AllowedMfaTypes: ['AUTHENTICATOR_APP'],
      NoDeviceAction: 'EMAIL_OTP',
      TrustedDeviceDays: 30,
      UserVerification: 'PREFERRED',
    });
    const user = await invitedUser(server, 'settings-user');
    const challenge = await server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password });
    const result = await server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: challenge.Session ?? '', ChallengeResponses: { EMAIL_OTP_CODE: mailedTo(server, user.email, 'code') } });
    const portalClient = server.client(tokenOf(result));
    const relaxed: InputOf<typeof portal.PutMfaSettings> = { MfaMode: 'DISABLED', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'ALLOW' };
    await refused(portalClient.call(portal.PutMfaSettings, relaxed), 'AccessDeniedException');
    await refused(server.client().call(portal.PutMfaSettings, relaxed), 'UnauthorizedException');
    assert.equal((await server.root.call(portal.GetMfaSettings, {})).MfaMode, 'ALWAYS_ON');

    await put({ MfaMode: 'CONTEXT_AWARE', NoDeviceAction: 'BLOCK', TrustedDeviceDays: 7 });
    assert.deepEqual(await server.root.call(portal.GetMfaSettings, {}), { MfaMode: 'CONTEXT_AWARE', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'BLOCK', TrustedDeviceDays: 7, UserVerification: 'PREFERRED' });
    await put({ MfaMode: 'ALWAYS_ON', NoDeviceAction: 'EMAIL_OTP' });
    assert.equal((await server.root.call(portal.GetMfaSettings, {})).TrustedDeviceDays, 30);
  });

  test('REQUIRE_REGISTRATION: the MFA_SETUP Session registers an app, then signs in', TIMEOUT, async () => {
    await put({ MfaMode: 'ALWAYS_ON', NoDeviceAction: 'REQUIRE_REGISTRATION' });
    const user = await invitedUser(server, 'setup01');
    const anonymous = server.client();
    const challenge = await anonymous.call(portal.InitiateAuth, { Username: user.userName, Password: user.password });
    assert.equal(challenge.ChallengeName, 'MFA_SETUP');
    const session = challenge.Session ?? '';
    await refused(anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'MFA_SETUP', Session: session }), 'InvalidRequestException', /AssociateSoftwareToken/);
    await refused(anonymous.call(portal.AssociateSoftwareToken, {}), 'UnauthorizedException');

    const association = await anonymous.call(portal.AssociateSoftwareToken, { Session: session });
    assert.match(association.SecretCode, /^[A-Z2-7]{32}$/);
    assert.equal(association.Session, session);
    const verified = await anonymous.call(portal.VerifySoftwareToken, { Session: session, UserCode: authenticatorCode(association.SecretCode, server.clock.now()), FriendlyDeviceName: 'first phone' });
    assert.equal(verified.Status, 'SUCCESS');
    const result = await anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'MFA_SETUP', Session: session });
    const token = tokenOf(result);
    const who = await server.client(token).call(portal.GetSession, {});
    assert.equal(who.UserName, 'setup01');
    assert.equal(who.MfaAuthenticated, true);
    const { Devices } = await server.client(token).call(portal.ListMfaDevices, {});
    assert.deepEqual(Devices.map((device) => device.FriendlyDeviceName), ['first phone']);
    await refused(anonymous.call(portal.RespondToAuthChallenge, { ChallengeName: 'MFA_SETUP', Session: session }), 'NotAuthorizedException');

    // From now on this user answers with the app.
    const next = await appSignIn(server, { ...user, secret: association.SecretCode });
    assert.match(tokenOf(next), /^alp_/);
  });

  test('only an MFA_SETUP Session can register an app: a password alone cannot add one', TIMEOUT, async () => {
    await put({ MfaMode: 'ALWAYS_ON', NoDeviceAction: 'EMAIL_OTP' });
    const user = await invitedUser(server, 'hijack01');
    const challenge = await server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password });
    assert.equal(challenge.ChallengeName, 'EMAIL_OTP');
    await refused(server.client().call(portal.AssociateSoftwareToken, { Session: challenge.Session ?? '' }), 'NotAuthorizedException');
    await refused(server.client().call(portal.VerifySoftwareToken, { Session: challenge.Session ?? '', UserCode: '123456' }), 'NotAuthorizedException');
  });

  test('BLOCK refuses users without an app, ALLOW lets them in without MFA, DISABLED skips MFA for everyone', TIMEOUT, async () => {
    const withApp = await enrolledUser(server, 'has-app01');
    const without = await invitedUser(server, 'no-app01');
    const anonymous = server.client();

    await put({ MfaMode: 'ALWAYS_ON', NoDeviceAction: 'BLOCK' });
    await refused(anonymous.call(portal.InitiateAuth, { Username: without.userName, Password: without.password }), 'NotAuthorizedException', /MFA device/);
    assert.match(tokenOf(await appSignIn(server, withApp)), /^alp_/, 'BLOCK does not touch users with an app');

    await put({ MfaMode: 'ALWAYS_ON', NoDeviceAction: 'ALLOW' });
    const allowed = await anonymous.call(portal.InitiateAuth, { Username: without.userName, Password: without.password });
    assert.equal(allowed.ChallengeName, undefined);
    const allowedSession = await server.client(tokenOf(allowed)).call(portal.GetSession, {});
    assert.equal(allowedSession.MfaAuthenticated, false);
    assert.match(tokenOf(await appSignIn(server, withApp)), /^alp_/, 'ALLOW does not touch users with an app');

    await put({ MfaMode: 'DISABLED', NoDeviceAction: 'EMAIL_OTP' });
    const direct = await anonymous.call(portal.InitiateAuth, { Username: withApp.userName, Password: withApp.password });
    assert.equal(direct.ChallengeName, undefined);
    assert.equal(direct.Session, undefined);
    const directSession = await server.client(tokenOf(direct)).call(portal.GetSession, {});
    assert.equal(directSession.UserName, 'has-app01');
    assert.equal(directSession.MfaAuthenticated, false);
    await refused(anonymous.call(portal.InitiateAuth, { Username: withApp.userName, Password: goodPassword() }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
    await put({ MfaMode: 'ALWAYS_ON', NoDeviceAction: 'EMAIL_OTP' });
  });
});

// ------------------------------------------------------------------------------------------------

describe('CONTEXT_AWARE: trusted devices', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('an MFA sign-in returns a DeviceKey that skips MFA for that user, for TrustedDeviceDays', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'ctx01');
    const other = await enrolledUser(server, 'ctx02');
    await server.root.call(portal.PutMfaSettings, { MfaMode: 'CONTEXT_AWARE', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'EMAIL_OTP' });
    const anonymous = server.client();

    const first = await appSignIn(server, user);
    const deviceKey = first.AuthenticationResult?.NewDeviceMetadata?.DeviceKey ?? '';
    assert.ok(deviceKey.length >= 32, `a DeviceKey: ${JSON.stringify(first.AuthenticationResult?.NewDeviceMetadata)}`);

    const trusted = await anonymous.call(portal.InitiateAuth, { Username: user.userName, Password: user.password, DeviceKey: deviceKey });
    assert.equal(trusted.ChallengeName, undefined, 'the trusted device signs in without a challenge');
    assert.equal((await server.client(tokenOf(trusted)).call(portal.GetSession, {})).UserName, 'ctx01');
    await refused(anonymous.call(portal.InitiateAuth, { Username: user.userName, Password: goodPassword(), DeviceKey: deviceKey }), 'NotAuthorizedException', /^Incorrect username or password\.$/);

    const untrusted = async (input: { Username: string; Password: string; DeviceKey?: string }, why: string): Promise<void> => {
      const result = await anonymous.call(portal.InitiateAuth, input);
      assert.equal(result.ChallengeName, 'SOFTWARE_TOKEN_MFA', why);
      assert.equal(result.AuthenticationResult, undefined, why);
    };
    await untrusted({ Username: user.userName, Password: user.password }, 'without the key');
    await untrusted({ Username: user.userName, Password: user.password, DeviceKey: `ald_${randomBytes(32).toString('base64url')}` }, 'with a made-up key');
    await untrusted({ Username: other.userName, Password: other.password, DeviceKey: deviceKey }, "with another user's key");

    await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'EMAIL_OTP' });
    await untrusted({ Username: user.userName, Password: user.password, DeviceKey: deviceKey }, 'under ALWAYS_ON');
    await server.root.call(portal.PutMfaSettings, { MfaMode: 'CONTEXT_AWARE', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'EMAIL_OTP' });

    server.clock.advance(29 * DAY);
    const stillTrusted = await anonymous.call(portal.InitiateAuth, { Username: user.userName, Password: user.password, DeviceKey: deviceKey });
    assert.equal(stillTrusted.ChallengeName, undefined, 'trusted on day 29');
    server.clock.advance(1 * DAY + SECOND);
    await untrusted({ Username: user.userName, Password: user.password, DeviceKey: deviceKey }, 'after 30 days');
  });
});

// ------------------------------------------------------------------------------------------------

describe("one's own apps, session and password", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('at most 2 authenticator apps; ListMfaDevices names them; DeleteMfaDevice removes one and its codes', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'apps01', 'phone');
    const me = server.client(tokenOf(await appSignIn(server, user)));
    server.clock.advance(MINUTE);
    const tablet = await me.call(portal.AssociateSoftwareToken, {});
    assert.notEqual(tablet.SecretCode, user.secret);
    // Confirmed a little after the secret was shown: registered then.
    server.clock.advance(20 * SECOND);
    await me.call(portal.VerifySoftwareToken, { UserCode: authenticatorCode(tablet.SecretCode, server.clock.now()), FriendlyDeviceName: 'tablet' });

    const listed = await me.call(portal.ListMfaDevices, {});
    assert.deepEqual(listed.Devices.map((device) => [device.FriendlyDeviceName, device.Type]), [['phone', 'AUTHENTICATOR_APP'], ['tablet', 'AUTHENTICATOR_APP']]);
    assert.equal(listed.Devices.at(1)?.CreatedDate, server.clock.now() / 1000);
    assert.deepEqual(listed.AllowedMfaTypes, ['AUTHENTICATOR_APP']);
    await refused(me.call(portal.AssociateSoftwareToken, {}), 'ServiceQuotaExceededException', /at most 2/);

    // Another user sees none of them and cannot remove them.
    const stranger = await enrolledUser(server, 'apps02');
    const strangerClient = server.client(stranger.firstToken);
    assert.deepEqual((await strangerClient.call(portal.ListMfaDevices, {})).Devices.map((device) => device.FriendlyDeviceName), ['phone']);
    const phone = listed.Devices.find((device) => device.FriendlyDeviceName === 'phone');
    assert.ok(phone !== undefined);
    await refused(strangerClient.call(portal.DeleteMfaDevice, { DeviceId: phone.DeviceId }), 'ResourceNotFoundException');

    await me.call(portal.DeleteMfaDevice, { DeviceId: phone.DeviceId });
    assert.deepEqual((await me.call(portal.ListMfaDevices, {})).Devices.map((device) => device.FriendlyDeviceName), ['tablet']);
    await refused(me.call(portal.DeleteMfaDevice, { DeviceId: phone.DeviceId }), 'ResourceNotFoundException');
    // A third may now be started, and the removed phone's codes no longer sign in.
    assert.match((await me.call(portal.AssociateSoftwareToken, {})).SecretCode, /^[A-Z2-7]{32}$/);
    server.clock.advance(30 * SECOND);
    const session = await startApp(server, user);
    await refused(answerApp(server, session, authenticatorCode(user.secret, server.clock.now())), 'CodeMismatchException');
    assert.match(tokenOf(await answerApp(server, session, authenticatorCode(tablet.SecretCode, server.clock.now()))), /^alp_/);
  });

  test("an administrator lists a user's devices and removes a lost one (identitystore:ListMfaDevicesForUser, DeleteMfaDeviceForUser)", TIMEOUT, async () => {
    const user = await enrolledUser(server, 'lostphone01', 'old phone');
    const listed = await server.root.call(identitystore.ListMfaDevicesForUser, { UserId: user.userId });
    assert.deepEqual(listed.Devices.map((device) => [device.FriendlyDeviceName, device.Type]), [['old phone', 'AUTHENTICATOR_APP']]);
    const phone = listed.Devices[0];
    assert.ok(phone !== undefined);
    const other = await enrolledUser(server, 'lostphone02');
    // A device id names one user's device: under another user it is not found.
    await refused(server.root.call(identitystore.DeleteMfaDeviceForUser, { UserId: other.userId, DeviceId: phone.DeviceId }), 'ResourceNotFoundException', /lostphone02 has no MFA device/);
    await server.root.call(identitystore.DeleteMfaDeviceForUser, { UserId: user.userId, DeviceId: phone.DeviceId });
    assert.deepEqual((await server.root.call(identitystore.ListMfaDevicesForUser, { UserId: user.userId })).Devices, []);
    assert.equal((await server.root.call(identitystore.ListMfaDevicesForUser, { UserId: other.userId })).Devices.length, 1);
    // Without a device, the next sign-in goes as NoDeviceAction says (the default: a mailed code).
    server.clock.advance(30 * SECOND);
    const next = await server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password });
    assert.equal(next.ChallengeName, 'EMAIL_OTP');
  });

  test('SignOut ends the token at once, and only that one', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'signout01');
    const kept = server.client(user.firstToken);
    const token = tokenOf(await appSignIn(server, user));
    const me = server.client(token);
    assert.equal((await me.call(portal.GetSession, {})).UserName, 'signout01');
    await me.call(portal.SignOut, {});
    await refused(me.call(portal.GetSession, {}), 'UnauthorizedException');
    await refused(me.call(portal.ListMfaDevices, {}), 'UnauthorizedException');
    assert.equal((await kept.call(portal.GetSession, {})).UserName, 'signout01');
    // And any token ends by itself after 8 hours.
    server.clock.advance(8 * 3600 * SECOND);
    await refused(kept.call(portal.GetSession, {}), 'UnauthorizedException');
  });

  test('ChangePassword needs the current password; then only the new one signs in', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'change01');
    const me = server.client(tokenOf(await appSignIn(server, user)));
    const proposed = goodPassword();
    await refused(me.call(portal.ChangePassword, { PreviousPassword: goodPassword(), ProposedPassword: proposed }), 'NotAuthorizedException', /PreviousPassword/);
    await refused(me.call(portal.ChangePassword, { PreviousPassword: user.password, ProposedPassword: 'password123' }), 'InvalidPasswordException');
    assert.deepEqual(await me.call(portal.ChangePassword, { PreviousPassword: user.password, ProposedPassword: proposed }), {});
    await refused(server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
    assert.match(tokenOf(await appSignIn(server, { ...user, password: proposed })), /^alp_/);
  });
});

// ------------------------------------------------------------------------------------------------

describe('secrets at rest', () => {
  let server: TestServer;
  /** Every secret a person or program was handed, or typed, during the tests below. */
  const secrets: { what: string; value: string }[] = [];
  /** Six-digit codes: matched as whole numbers only, since six digits can occur anywhere by chance. */
  const codes: { what: string; value: string }[] = [];
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  const auditJson = async (): Promise<string[]> =>
    (await server.server.services.db.selectFrom('audit_events').select('record').orderBy('seq').execute()).map((row) => row.record);

  const leaks = (records: readonly string[]): string[] => {
    const found: string[] = [];
    for (const record of records) {
      for (const { what, value } of secrets) if (record.includes(value)) found.push(`${what} in ${record}`);
      for (const { what, value } of codes) if (new RegExp(`(?<![0-9A-Za-z])${value}(?![0-9A-Za-z])`).test(record)) found.push(`${what} in ${record}`);
    }
    return found;
  };

  test('the TOTP secret is sealed in mfa_devices; no password, code or token is in the audit trail', TIMEOUT, async () => {
    const user = await enrolledUser(server, 'vault01');
    secrets.push({ what: 'password', value: user.password }, { what: 'invitation token', value: user.invitationToken }, { what: 'SecretCode', value: user.secret });
    codes.push({ what: 'emailed code', value: user.emailCode }, { what: 'registration code', value: user.registrationCode });
    secrets.push({ what: 'first AccessToken', value: user.firstToken });

    const wrongPassword = goodPassword();
    secrets.push({ what: 'wrong password', value: wrongPassword });
    await refused(server.client().call(portal.InitiateAuth, { Username: user.userName, Password: wrongPassword }), 'NotAuthorizedException');

    await server.root.call(portal.PutMfaSettings, { MfaMode: 'CONTEXT_AWARE', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'EMAIL_OTP' });
    server.clock.advance(30 * SECOND);
    const challenge = await server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password });
    const session = challenge.Session ?? '';
    secrets.push({ what: 'challenge Session', value: session });
    const bad = wrongCode(user.secret, server.clock.now());
    codes.push({ what: 'wrong TOTP code', value: bad });
    await refused(answerApp(server, session, bad), 'CodeMismatchException');
    const good = authenticatorCode(user.secret, server.clock.now());
    codes.push({ what: 'TOTP code', value: good });
    const result = await answerApp(server, session, good);
    const token = tokenOf(result);
    const deviceKey = result.AuthenticationResult?.NewDeviceMetadata?.DeviceKey ?? '';
    assert.notEqual(deviceKey, '');
    secrets.push({ what: 'AccessToken', value: token }, { what: 'DeviceKey', value: deviceKey });
    await server.client().call(portal.InitiateAuth, { Username: user.userName, Password: user.password, DeviceKey: deviceKey });

    const me = server.client(token);
    const second = await me.call(portal.AssociateSoftwareToken, {});
    secrets.push({ what: 'second SecretCode', value: second.SecretCode });
    const secondCode = authenticatorCode(second.SecretCode, server.clock.now());
    codes.push({ what: 'second registration code', value: secondCode });
    await me.call(portal.VerifySoftwareToken, { UserCode: secondCode, FriendlyDeviceName: 'spare' });
    const proposed = goodPassword();
    secrets.push({ what: 'new password', value: proposed });
    await me.call(portal.ChangePassword, { PreviousPassword: user.password, ProposedPassword: proposed });
    await me.call(portal.SignOut, {});

    const { OneTimePassword } = await server.root.call(identitystore.CreateUser, { UserName: 'vault02', PasswordSetup: 'ONE_TIME_PASSWORD' });
    secrets.push({ what: 'OneTimePassword', value: OneTimePassword ?? '' }, { what: 'root token', value: server.rootToken });
    await server.client().call(portal.InitiateAuth, { Username: 'vault02', Password: OneTimePassword ?? '' });

    // The seeds: sealed (AES-GCM), never the base32 text nor the raw bytes in any common encoding.
    const rows = await server.server.services.db.selectFrom('mfa_devices').selectAll().where('user_id', '=', user.userId).orderBy('created_at').execute();
    assert.equal(rows.length, 2);
    for (const [index, secret] of [user.secret, second.SecretCode].entries()) {
      const row = rows[index];
      assert.ok(row !== undefined);
      const bytes = Buffer.from(base32Decode(secret) ?? new Uint8Array());
      assert.equal(bytes.length, 20);
      for (const form of [secret, secret.toLowerCase(), bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('latin1')]) {
        assert.ok(!row.secret.includes(form), `the stored seed holds the secret in clear: ${row.secret}`);
      }
      // …and it is that secret, sealed: the server's key opens it.
      assert.deepEqual(Buffer.from(server.server.services.secrets.open(row.secret)), bytes);
    }

    // The audit trail recorded each call, with the secrets hidden, not left out of sight.
    const records = await auditJson();
    const names = records.map((record) => (JSON.parse(record) as { eventName: string }).eventName);
    for (const name of ['AcceptInvitation', 'InitiateAuth', 'RespondToAuthChallenge', 'AssociateSoftwareToken', 'VerifySoftwareToken', 'ChangePassword', 'SignOut', 'CreateUser']) {
      assert.ok(names.includes(name), `no audit record of ${name}`);
    }
    assert.ok(records.some((record) => record.includes('HIDDEN_DUE_TO_SECURITY_REASONS')));
    assert.deepEqual(leaks(records), []);
  });

  test('the database holds no password, token, Session, DeviceKey or seed in clear', TIMEOUT, async () => {
    assert.ok(secrets.length > 5, 'the previous test ran');
    const db = server.server.services.db;
    const tables = ['settings', 'users', 'one_time_tokens', 'mfa_devices', 'auth_flows', 'portal_sessions', 'trusted_devices', 'throttles', 'audit_events'] as const;
    const dump: string[] = [];
    for (const table of tables) {
      for (const row of await db.selectFrom(table).selectAll().execute()) dump.push(`${table}: ${JSON.stringify(row)}`);
    }
    assert.ok(dump.some((line) => line.startsWith('portal_sessions: ')));
    assert.ok(dump.some((line) => line.startsWith('trusted_devices: ')));
    const found = dump.flatMap((line) => secrets.filter(({ value }) => line.includes(value)).map(({ what }) => `${what} in ${line}`));
    assert.deepEqual(found, []);
  });

  test('a request that fails validation keeps its password out of the audit trail too', TIMEOUT, async () => {
    const password = goodPassword();
    const before = (await auditJson()).length;
    const anonymous = server.client();
    // What a client written for Amazon Cognito sends, and a misspelt field: both are refused…
    await refused(anonymous.callByName('portal', 'InitiateAuth', { AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: 'vault01', PASSWORD: password } }), 'ValidationException');
    await refused(anonymous.callByName('portal', 'InitiateAuth', { Username: 'vault01', password }), 'ValidationException');
    await refused(anonymous.callByName('portal', 'AcceptInvitation', { InvitationToken: 'x'.repeat(43), NewPassword: password }), 'ValidationException');
    const records = (await auditJson()).slice(before);
    assert.equal(records.length, 3, 'each refused call is audited');
    // …and the audit records do not hold the password.
    const leaked = records.filter((record) => record.includes(password));
    assert.deepEqual(leaked, []);
  });
});
