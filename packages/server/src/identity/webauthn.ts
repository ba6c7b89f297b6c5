/**
 * Security keys and passkeys (WebAuthn, type SECURITY_KEY): registering one (a challenge kept
 * server-side, 5 minutes, used once; the attestation verified), and the WEB_AUTHN sign-in
 * challenge (an assertion signed with a registered key, its counter raised). The relying party
 * is the server's public URL: its host name is the RP ID, its origin the only origin accepted.
 */
import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { portal as api } from '@airlock/protocol';
import { ApiError, type InputOf, type OutputOf } from '@airlock/protocol';
import type { CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { WebAuthnCredentialsTable } from '../storage/schema.js';
import { mfaSettings, type MfaSettings } from './mfa-settings.js';
import { deviceOwner } from './mfa-devices.js';
import { FLOW_TTL_MS } from './sign-in.js';

/** IAM Identity Center allows 8 MFA devices a user; Airlock counts security keys apart from its 2 apps. */
export const MAX_SECURITY_KEYS = 8;
const RP_NAME = 'Airlock';

export interface RelyingParty {
  readonly id: string;
  readonly origin: string;
}

/** The RP ID and origin of this server, from its public URL (--public-url, else --listen). */
export function relyingParty(services: Services): RelyingParty {
  const url = new URL(services.publicUrl());
  return { id: url.hostname, origin: url.origin };
}

const userVerification = (settings: MfaSettings): 'required' | 'preferred' => (settings.UserVerification === 'REQUIRED' ? 'required' : 'preferred');

export const securityKeysAllowed = (settings: MfaSettings): boolean => settings.AllowedMfaTypes.includes('SECURITY_KEY');

export function credentialsOf(services: Services, userId: string): Promise<WebAuthnCredentialsTable[]> {
  return services.db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

const transportsOf = (row: WebAuthnCredentialsTable): AuthenticatorTransport[] => JSON.parse(row.transports) as AuthenticatorTransport[];

async function allowedSettings(services: Services): Promise<MfaSettings> {
  const settings = await mfaSettings(services.db);
  if (!securityKeysAllowed(settings)) throw new ApiError('InvalidRequestException', 'Security keys are not allowed here: the MFA settings (AllowedMfaTypes) do not include SECURITY_KEY.');
  return settings;
}

export async function startWebAuthnRegistration(
  input: InputOf<typeof api.StartWebAuthnRegistration>,
  context: CallContext,
): Promise<OutputOf<typeof api.StartWebAuthnRegistration>> {
  const { services, now } = context;
  const { user } = await deviceOwner(services, context, input.Session);
  const settings = await allowedSettings(services);
  const existing = await credentialsOf(services, user.user_id);
  if (existing.length >= MAX_SECURITY_KEYS) {
    throw new ApiError('ServiceQuotaExceededException', `A user may register at most ${MAX_SECURITY_KEYS} security keys; remove one first (DeleteMfaDevice).`);
  }
  const rp = relyingParty(services);
  const options = await generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: rp.id,
    userName: user.user_name,
    // The user handle must not be personal data: the user's id is an opaque UUID.
    userID: new TextEncoder().encode(user.user_id),
    attestationType: 'none',
    // The same key twice would be one factor counted as two.
    excludeCredentials: existing.map((row) => ({ id: row.credential_id, transports: transportsOf(row) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: userVerification(settings) },
    timeout: FLOW_TTL_MS,
  });
  await services.db.transaction().execute(async (trx) => {
    // Only the newest registration begun counts, as for authenticator apps.
    await trx.deleteFrom('webauthn_registrations').where('user_id', '=', user.user_id).execute();
    await trx.insertInto('webauthn_registrations').values({ challenge: options.challenge, user_id: user.user_id, expires_at: now + FLOW_TTL_MS }).execute();
  });
  return { CredentialCreationOptions: options, ...(input.Session === undefined ? {} : { Session: input.Session }) };
}

/** The challenge the client says it answered, read from clientDataJSON (checked again by the verification). */
function challengeIn(response: { response?: { clientDataJSON?: unknown } }): string | undefined {
  const clientData = response.response?.clientDataJSON;
  if (typeof clientData !== 'string') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(clientData, 'base64url').toString('utf8')) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' ? parsed.challenge : undefined;
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export async function completeWebAuthnRegistration(
  input: InputOf<typeof api.CompleteWebAuthnRegistration>,
  context: CallContext,
): Promise<OutputOf<typeof api.CompleteWebAuthnRegistration>> {
  const { services, now } = context;
  const { user } = await deviceOwner(services, context, input.Session, true);
  const settings = await allowedSettings(services);
  if (!isObject(input.Credential)) throw new ApiError('ValidationException', 'Credential must be the RegistrationResponseJSON object the browser gave.');
  const response = input.Credential as unknown as RegistrationResponseJSON;
  const challenge = challengeIn(response);
  // Taken before verifying: a challenge is answered once, right or wrong.
  const pending =
    challenge === undefined
      ? undefined
      : await services.db
          .deleteFrom('webauthn_registrations')
          .where('challenge', '=', challenge)
          .where('user_id', '=', user.user_id)
          .where('expires_at', '>', now)
          .returning('challenge')
          .executeTakeFirst();
  if (pending === undefined) throw new ApiError('InvalidRequestException', 'No registration is waiting for this answer (expired, already used, or never begun): call StartWebAuthnRegistration again.');
  const rp = relyingParty(services);
  const verification = await verifyRegistrationResponse({
    response,
    expectedChallenge: pending.challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    requireUserVerification: settings.UserVerification === 'REQUIRED',
  }).catch((error: unknown) => {
    throw new ApiError('InvalidRequestException', `The security key's answer was refused: ${error instanceof Error ? error.message : String(error)}`);
  });
  if (!verification.verified) throw new ApiError('InvalidRequestException', "The security key's answer was refused.");
  const { credential } = verification.registrationInfo;
  const taken = await services.db.selectFrom('webauthn_credentials').select('device_id').where('credential_id', '=', credential.id).executeTakeFirst();
  if (taken !== undefined) throw new ApiError('ConflictException', 'This security key is already registered.');
  const deviceId = randomUUID();
  await services.db
    .insertInto('webauthn_credentials')
    .values({
      device_id: deviceId,
      user_id: user.user_id,
      credential_id: credential.id,
      public_key: Buffer.from(credential.publicKey).toString('base64url'),
      sign_count: credential.counter,
      transports: JSON.stringify(credential.transports ?? []),
      name: input.FriendlyDeviceName ?? `Security key ${new Date(now).toISOString().slice(0, 10)}`,
      created_at: now,
      last_used_at: null,
    })
    .execute();
  return { DeviceId: deviceId, ...(input.Session === undefined ? {} : { Session: input.Session }) };
}

/** A WEB_AUTHN challenge for a sign-in: the options for navigator.credentials.get, naming the user's keys. */
export async function signInOptions(services: Services, userId: string, settings: MfaSettings): Promise<{ challenge: string; optionsJson: string }> {
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(services).id,
    allowCredentials: (await credentialsOf(services, userId)).map((row) => ({ id: row.credential_id, transports: transportsOf(row) })),
    userVerification: userVerification(settings),
    timeout: FLOW_TTL_MS,
  });
  return { challenge: options.challenge, optionsJson: JSON.stringify(options) };
}

/**
 * Checks a WEB_AUTHN answer (AuthenticationResponseJSON as text) against the sign-in's challenge
 * and the user's stored key; raises the stored counter. False for any failure: a bad signature,
 * another user's key, or a counter not above the stored one (a cloned authenticator).
 */
export async function verifySignIn(services: Services, userId: string, expectedChallenge: string, answer: string, now: number): Promise<boolean> {
  let response: AuthenticationResponseJSON;
  try {
    response = JSON.parse(answer) as AuthenticationResponseJSON;
  } catch {
    return false;
  }
  if (!isObject(response) || typeof response.id !== 'string') return false;
  const row = await services.db.selectFrom('webauthn_credentials').selectAll().where('credential_id', '=', response.id).where('user_id', '=', userId).executeTakeFirst();
  if (row === undefined) return false;
  const rp = relyingParty(services);
  const settings = await mfaSettings(services.db);
  const result = await verifyAuthenticationResponse({
    response,
    expectedChallenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.id,
    credential: { id: row.credential_id, publicKey: Buffer.from(row.public_key, 'base64url'), counter: row.sign_count, transports: transportsOf(row) },
    requireUserVerification: settings.UserVerification === 'REQUIRED',
  }).catch(() => undefined);
  if (result?.verified !== true) return false;
  const { newCounter } = result.authenticationInfo;
  // Conditional on the counter read: of two answers racing with one count, one wins.
  const updated = await services.db
    .updateTable('webauthn_credentials')
    .set({ sign_count: newCounter, last_used_at: now })
    .where('device_id', '=', row.device_id)
    .where('sign_count', '=', row.sign_count)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}
