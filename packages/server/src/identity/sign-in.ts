/**
 * Signing in: password, then whatever challenge is due (a new password, the authenticator's
 * code, a security key's signature, an emailed code, or registering an authenticator), then a
 * portal session.
 *
 * What an attacker learns is kept equal on every path: an unknown user name costs the same
 * password hash as a known one and gets the same answer; failures lock the name (known or not)
 * and the source address; a challenge Session lives 5 minutes and survives 5 wrong answers.
 */
import { randomInt } from 'node:crypto';
import type { portal as api} from '@airlock/protocol';
import { ApiError, type InputOf, type OutputOf } from '@airlock/protocol';
import { signInCodeMail } from '../mail/templates.js';
import type { CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { Challenge } from '../storage/schema.js';
import { mfaSettings, type MfaSettings } from './mfa-settings.js';
import { identitySource, isBreakGlass } from './sources/setting.js';
import { checkPasswordPolicy, hashersBusy, hashPassword, verifyAgainstDummy, verifyPassword } from './passwords.js';
import { createPortalSession, PORTAL_SESSION_TTL_MS } from './portal-sessions.js';
import { ADDRESS_LIMIT, Throttle, USER_LOCKOUT } from './throttle.js';
import { hashToken, newToken, sameHash } from './tokens.js';
import { verifyUserCode } from './authenticator-codes.js';
import { findUser, findUserByName, primaryEmail, type Profile, type UserRow } from './users.js';
import { credentialsOf, securityKeysAllowed, signInOptions, verifySignIn } from './webauthn.js';

type ChallengeName = api.ChallengeName;

export const FLOW_TTL_MS = 5 * 60 * 1000;
export const EMAIL_CODE_TTL_MS = 10 * 60 * 1000;
const MAX_FLOW_FAILURES = 5;

type AuthOutput = OutputOf<typeof api.InitiateAuth>;

const WRONG_CREDENTIALS = 'Incorrect username or password.';

export function throttles(services: Services): { users: Throttle; addresses: Throttle } {
  return { users: new Throttle(services.db, USER_LOCKOUT), addresses: new Throttle(services.db, ADDRESS_LIMIT) };
}

const userKey = (userName: string): string => `user:${userName.toLowerCase()}`;
const addressKey = (address: string): string => `address:${address}`;

/** Refuses while the name or the address is locked; the message says for how long. */
export async function assertNotLocked(services: Services, userName: string | undefined, sourceIp: string, now: number): Promise<void> {
  const { users, addresses } = throttles(services);
  const address = await addresses.lockedFor(addressKey(sourceIp), now);
  if (address > 0) throw new ApiError('ThrottlingException', `Too many failed attempts from this address; try again in ${Math.ceil(address / 1000)} seconds.`);
  if (userName === undefined) return;
  const user = await users.lockedFor(userKey(userName), now);
  if (user > 0) throw new ApiError('NotAuthorizedException', `Too many failed sign-in attempts; try again in ${Math.ceil(user / 1000)} seconds.`);
}

/** Counts a failure against the address and, when given, the user name. */
export async function recordFailure(services: Services, userName: string | undefined, sourceIp: string, now: number): Promise<void> {
  const { users, addresses } = throttles(services);
  await addresses.fail(addressKey(sourceIp), now);
  if (userName !== undefined) await users.fail(userKey(userName), now);
}

/**
 * Refuses a password check when this node has more waiting than it can check in a few seconds;
 * before the check is counted, so a busy server never counts towards anyone's lockout.
 */
export function assertCanCheckPassword(): void {
  if (hashersBusy()) throw new ApiError('ThrottlingException', 'The server is checking too many passwords at once; try again in a few seconds.');
}

/**
 * Runs a guessable check (a password, a code) under the lockout: refused while locked; the
 * attempt is counted before the check and taken back when it passes, so attempts sent at once
 * get no more checks than attempts sent one after another.
 */
export async function guarded(services: Services, userName: string | undefined, sourceIp: string, now: number, check: () => Promise<boolean>): Promise<boolean> {
  await assertNotLocked(services, userName, sourceIp, now);
  const { users, addresses } = throttles(services);
  const byAddress = await addresses.count(addressKey(sourceIp), now);
  const byUser = userName === undefined ? 'check' : await users.count(userKey(userName), now);
  if (byAddress === 'locked' || byUser === 'locked') {
    await assertNotLocked(services, userName, sourceIp, now);
    throw new ApiError('NotAuthorizedException', 'Too many failed attempts; try again later.');
  }
  const ok = await check();
  if (ok) {
    await addresses.forgive(addressKey(sourceIp));
    if (userName !== undefined) await users.forgive(userKey(userName));
  }
  return ok;
}

export async function initiateAuth(input: InputOf<typeof api.InitiateAuth>, { services, sourceIp, now }: CallContext): Promise<AuthOutput> {
  assertCanCheckPassword();
  const user = await findUserByName(services.db, input.Username);
  const hash = user?.password_hash ?? null;
  const verdict: { needsRehash: boolean } = { needsRehash: false };
  const ok = await guarded(services, input.Username, sourceIp, now, async () => {
    if (hash === null) return verifyAgainstDummy(input.Password);
    const result = await verifyPassword(hash, input.Password);
    verdict.needsRehash = result.needsRehash;
    return result.ok;
  });
  if (user === undefined || !ok) throw new ApiError('NotAuthorizedException', WRONG_CREDENTIALS);
  if (verdict.needsRehash) {
    await services.db.updateTable('users').set({ password_hash: await hashPassword(input.Password) }).where('user_id', '=', user.user_id).execute();
  }
  const deviceKnown = input.DeviceKey !== undefined && (await isTrustedDevice(services, user.user_id, input.DeviceKey, now));
  return nextStep(services, user, deviceKnown, now);
}

/**
 * After an external source proved who someone is (docs/federation.md): a portal session at
 * once when the source's MFA counts (`sourceMfa`), else Airlock's MFA as after a password.
 */
export async function continueSignIn(services: Services, user: UserRow, sourceMfa: boolean, now: number): Promise<AuthOutput> {
  return nextStep(services, user, false, now, sourceMfa);
}

/** The MFA settings for this user: the break-glass user of an external source always gets MFA. */
async function mfaSettingsFor(services: Services, user: UserRow): Promise<MfaSettings> {
  const settings = await mfaSettings(services.db);
  if (!isBreakGlass(await identitySource(services), user.user_name)) return settings;
  return { ...settings, MfaMode: 'ALWAYS_ON', NoDeviceAction: settings.NoDeviceAction === 'ALLOW' ? 'REQUIRE_REGISTRATION' : settings.NoDeviceAction };
}

/** Decides what comes after a good password (or a completed challenge). */
async function nextStep(services: Services, user: UserRow, deviceKnown: boolean, now: number, sourceMfa = false): Promise<AuthOutput> {
  // A user deactivated by SCIM (`active: false`) proves who they are and still gets no session.
  if (user.disabled_at !== null) throw new ApiError('NotAuthorizedException', 'User is disabled.');
  if (user.password_must_change === 1) return challenge(services, user, 'NEW_PASSWORD_REQUIRED', deviceKnown, now);
  if (sourceMfa) return signedIn(services, user, true, now, false);
  const settings = await mfaSettingsFor(services, user);
  if (settings.MfaMode === 'DISABLED') return signedIn(services, user, false, now);
  if (settings.MfaMode === 'CONTEXT_AWARE' && deviceKnown) return signedIn(services, user, true, now, false);
  const { apps, keys } = await usableDevices(services, user.user_id, settings);
  // A security key is offered first (phishing cannot beat it); the app stays an alternative.
  if (keys) return challenge(services, user, 'WEB_AUTHN', deviceKnown, now, settings, apps);
  if (apps) return challenge(services, user, 'SOFTWARE_TOKEN_MFA', deviceKnown, now);
  switch (settings.NoDeviceAction) {
    case 'EMAIL_OTP':
      if (primaryEmail(JSON.parse(user.profile) as Profile) !== undefined) return challenge(services, user, 'EMAIL_OTP', deviceKnown, now);
      return challenge(services, user, 'MFA_SETUP', deviceKnown, now);
    case 'REQUIRE_REGISTRATION':
      return challenge(services, user, 'MFA_SETUP', deviceKnown, now);
    case 'BLOCK':
      throw new ApiError('NotAuthorizedException', 'Signing in needs an MFA device and this account has none. Ask an administrator.');
    case 'ALLOW':
      return signedIn(services, user, false, now);
  }
}

/** Which of the user's devices the MFA settings let them use: authenticator apps, security keys. */
async function usableDevices(services: Services, userId: string, settings: MfaSettings): Promise<{ apps: boolean; keys: boolean }> {
  const apps = await services.db.selectFrom('mfa_devices').select('device_id').where('user_id', '=', userId).where('verified', '=', 1).execute();
  const keys = securityKeysAllowed(settings) ? await credentialsOf(services, userId) : [];
  return { apps: apps.length > 0 && settings.AllowedMfaTypes.includes('AUTHENTICATOR_APP'), keys: keys.length > 0 };
}

/** `appAlternative`: a WEB_AUTHN challenge may be answered with SOFTWARE_TOKEN_MFA instead (the key left at home). */
async function challenge(
  services: Services,
  user: UserRow,
  name: Challenge,
  deviceKnown: boolean,
  now: number,
  settings?: MfaSettings,
  appAlternative = false,
): Promise<AuthOutput> {
  const session = newToken('');
  let emailCodeHash: string | null = null;
  let webauthnChallenge: string | null = null;
  const parameters: Record<string, string> = { USER_ID_FOR_SRP: user.user_name };
  if (name === 'WEB_AUTHN') {
    const options = await signInOptions(services, user.user_id, settings ?? (await mfaSettings(services.db)));
    webauthnChallenge = options.challenge;
    parameters['CREDENTIAL_REQUEST_OPTIONS'] = options.optionsJson;
    if (appAlternative) parameters['ALTERNATIVE_CHALLENGE'] = 'SOFTWARE_TOKEN_MFA';
  }
  if (name === 'MFA_SETUP') {
    // As Cognito's MFAS_CAN_SETUP: what the user may register here.
    const allowed = (settings ?? (await mfaSettings(services.db))).AllowedMfaTypes;
    parameters['MFAS_CAN_SETUP'] = JSON.stringify([...(allowed.includes('AUTHENTICATOR_APP') ? ['SOFTWARE_TOKEN_MFA'] : []), ...(allowed.includes('SECURITY_KEY') ? ['WEB_AUTHN'] : [])]);
  }
  if (name === 'EMAIL_OTP') {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    emailCodeHash = hashToken(`${session}:${code}`);
    const to = primaryEmail(JSON.parse(user.profile) as Profile) ?? '';
    await services.mailer.send({ to, ...signInCodeMail({ userName: user.user_name, code, expiresAt: new Date(now + EMAIL_CODE_TTL_MS), now: new Date(now) }) });
    parameters['CODE_DELIVERY_DELIVERY_MEDIUM'] = 'EMAIL';
    parameters['CODE_DELIVERY_DESTINATION'] = maskEmail(to);
  }
  await services.db
    .insertInto('auth_flows')
    .values({
      flow_hash: hashToken(session),
      user_id: user.user_id,
      challenge: name,
      email_code_hash: emailCodeHash,
      failures: 0,
      device_known: deviceKnown ? 1 : 0,
      webauthn_challenge: webauthnChallenge,
      expires_at: now + (name === 'EMAIL_OTP' ? EMAIL_CODE_TTL_MS : FLOW_TTL_MS),
    })
    .execute();
  return { ChallengeName: name, Session: session, ChallengeParameters: parameters };
}

/** `trustDevice`: under CONTEXT_AWARE, an MFA just passed makes this device trusted (a new DeviceKey). */
async function signedIn(services: Services, user: UserRow, mfa: boolean, now: number, trustDevice = mfa): Promise<AuthOutput> {
  await throttles(services).users.clear(userKey(user.user_name));
  const { token } = await createPortalSession(services.db, user.user_id, mfa, now);
  const settings = await mfaSettings(services.db);
  const result: NonNullable<AuthOutput['AuthenticationResult']> = { AccessToken: token, ExpiresIn: PORTAL_SESSION_TTL_MS / 1000, TokenType: 'Bearer' };
  if (settings.MfaMode === 'CONTEXT_AWARE' && trustDevice) {
    const deviceKey = newToken('ald_');
    await services.db
      .insertInto('trusted_devices')
      .values({ key_hash: hashToken(deviceKey), user_id: user.user_id, expires_at: now + settings.TrustedDeviceDays * 24 * 3600 * 1000 })
      .execute();
    return { AuthenticationResult: { ...result, NewDeviceMetadata: { DeviceKey: deviceKey } } };
  }
  return { AuthenticationResult: result };
}

async function isTrustedDevice(services: Services, userId: string, deviceKey: string, now: number): Promise<boolean> {
  const row = await services.db
    .selectFrom('trusted_devices')
    .select('key_hash')
    .where('key_hash', '=', hashToken(deviceKey))
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row !== undefined;
}

export interface Flow {
  readonly hash: string;
  readonly user: UserRow;
  readonly challenge: Challenge;
  readonly emailCodeHash: string | null;
  readonly failures: number;
  readonly deviceKnown: boolean;
  readonly webauthnChallenge: string | null;
}

const EXPIRED = 'Invalid session for the user, session is expired. Sign in again.';

/**
 * The sign-in a Session names, if it is still live. With `attempt`, one answer is counted
 * against it first, atomically: a Session takes at most MAX_FLOW_FAILURES answers, however
 * many arrive at once.
 */
export async function findFlow(services: Services, session: string, now: number, attempt = false): Promise<Flow> {
  const hash = hashToken(session);
  const row = attempt
    ? await services.db
        .updateTable('auth_flows')
        .set((eb) => ({ failures: eb('failures', '+', 1) }))
        .where('flow_hash', '=', hash)
        .where('expires_at', '>', now)
        .where('failures', '<', MAX_FLOW_FAILURES)
        .returningAll()
        .executeTakeFirst()
    : await services.db.selectFrom('auth_flows').selectAll().where('flow_hash', '=', hash).where('expires_at', '>', now).executeTakeFirst();
  if (row === undefined) throw new ApiError('NotAuthorizedException', EXPIRED);
  return {
    hash: row.flow_hash,
    user: await findUser(services.db, row.user_id),
    challenge: row.challenge,
    emailCodeHash: row.email_code_hash,
    failures: row.failures,
    deviceKnown: row.device_known === 1,
    webauthnChallenge: row.webauthn_challenge,
  };
}

/** A wrong answer (already counted by findFlow): the user's lockout counts it too; the 5th ends the flow. */
export async function failFlow(services: Services, flow: Flow, sourceIp: string, now: number, message: string): Promise<never> {
  if (flow.failures >= MAX_FLOW_FAILURES) await services.db.deleteFrom('auth_flows').where('flow_hash', '=', flow.hash).execute();
  await recordFailure(services, flow.user.user_name, sourceIp, now);
  throw new ApiError('CodeMismatchException', message);
}

/** Ends a flow that was answered; false when another request ended it first (the answer is then void). */
async function finishFlow(services: Services, flow: Flow): Promise<boolean> {
  const deleted = await services.db.deleteFrom('auth_flows').where('flow_hash', '=', flow.hash).executeTakeFirst();
  return deleted.numDeletedRows > 0n;
}

export async function respondToAuthChallenge(input: InputOf<typeof api.RespondToAuthChallenge>, { services, sourceIp, now }: CallContext): Promise<AuthOutput> {
  await assertNotLocked(services, undefined, sourceIp, now);
  const flow = await findFlow(services, input.Session, now, true);
  await assertNotLocked(services, flow.user.user_name, sourceIp, now);
  if (flow.challenge !== input.ChallengeName && !(await isAlternative(services, flow, input.ChallengeName))) {
    throw new ApiError('InvalidRequestException', `This sign-in is waiting for ${flow.challenge}, not ${input.ChallengeName}.`);
  }
  const responses = input.ChallengeResponses ?? {};
  const answer = (key: string): string => {
    const value = responses[key];
    if (value === undefined) throw new ApiError('InvalidRequestException', `ChallengeResponses needs ${key} for ${input.ChallengeName}.`);
    return value;
  };
  const newPasswordHash = await answerChallenge(services, flow, input.Session, input.ChallengeName, answer, sourceIp, now);
  if (!(await finishFlow(services, flow))) throw new ApiError('NotAuthorizedException', EXPIRED);
  if (newPasswordHash !== undefined) await storePassword(services, flow.user.user_id, newPasswordHash);
  const user = await findUser(services.db, flow.user.user_id);
  if (input.ChallengeName === 'NEW_PASSWORD_REQUIRED') return nextStep(services, user, flow.deviceKnown, now);
  // A sign-in that skipped MFA on a trusted device does not renew the trust: it lapses
  // TrustedDeviceDays after the last real MFA.
  return signedIn(services, user, true, now);
}

/** The authenticator app's code answers a WEB_AUTHN challenge when the user has an app the settings allow. */
async function isAlternative(services: Services, flow: Flow, name: ChallengeName): Promise<boolean> {
  if (flow.challenge !== 'WEB_AUTHN' || name !== 'SOFTWARE_TOKEN_MFA') return false;
  return (await usableDevices(services, flow.user.user_id, await mfaSettings(services.db))).apps;
}

async function answerChallenge(
  services: Services,
  flow: Flow,
  session: string,
  name: ChallengeName,
  answer: (key: string) => string,
  sourceIp: string,
  now: number,
): Promise<string | undefined> {
  switch (name) {
    case 'NEW_PASSWORD_REQUIRED':
      // Checked and hashed now, stored once the flow is claimed.
      return preparePassword(flow.user, answer('NEW_PASSWORD'));
    case 'SOFTWARE_TOKEN_MFA': {
      const check = await verifyUserCode(services, flow.user.user_id, answer('SOFTWARE_TOKEN_MFA_CODE'), now);
      // A used code still counts as a failed answer; saying so spares the person guessing at their clock.
      if (check === 'replayed') await failFlow(services, flow, sourceIp, now, 'This code was already used: wait for the next code your authenticator app shows (a new one every 30 seconds).');
      if (check === 'mismatch') await failFlow(services, flow, sourceIp, now, 'Invalid code received for user: use the code your authenticator app shows now.');
      return undefined;
    }
    case 'WEB_AUTHN': {
      const ok = flow.webauthnChallenge !== null && (await verifySignIn(services, flow.user.user_id, flow.webauthnChallenge, answer('CREDENTIAL'), now));
      if (!ok) await failFlow(services, flow, sourceIp, now, 'The security key did not sign this sign-in: use a key registered to this user, and try again.');
      return undefined;
    }
    case 'EMAIL_OTP': {
      // The code is bound to this sign-in: the stored hash covers the Session and the code.
      const given = hashToken(`${session}:${answer('EMAIL_OTP_CODE')}`);
      if (!sameHash(given, flow.emailCodeHash ?? '')) await failFlow(services, flow, sourceIp, now, 'Invalid code received for user: use the code from the latest email.');
      return undefined;
    }
    case 'MFA_SETUP': {
      const devices = await services.db.selectFrom('mfa_devices').select('device_id').where('user_id', '=', flow.user.user_id).where('verified', '=', 1).execute();
      const keys = await credentialsOf(services, flow.user.user_id);
      if (devices.length === 0 && keys.length === 0) {
        throw new ApiError('InvalidRequestException', 'Register an authenticator first (AssociateSoftwareToken, then VerifySoftwareToken) or a security key (StartWebAuthnRegistration, then CompleteWebAuthnRegistration), with this Session.');
      }
      return undefined;
    }
  }
}

/** Checks a new password against the policy and hashes it (InvalidPasswordException names the problems). */
export async function preparePassword(user: UserRow, password: string): Promise<string> {
  const profile = JSON.parse(user.profile) as Profile;
  const problems = checkPasswordPolicy(password, { userName: user.user_name, email: primaryEmail(profile) });
  if (problems.length > 0) throw new ApiError('InvalidPasswordException', problems.join(' '));
  return hashPassword(password);
}

/** Stores a prepared password and clears the must-change mark. */
export async function storePassword(services: Services, userId: string, passwordHash: string, db = services.db): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, password_must_change: 0, updated_at: services.clock.now() }).where('user_id', '=', userId).execute();
}

export async function setPassword(services: Services, user: UserRow, password: string): Promise<void> {
  await storePassword(services, user.user_id, await preparePassword(user, password));
}

function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email.charAt(0)}***${email.slice(at)}`;
}
