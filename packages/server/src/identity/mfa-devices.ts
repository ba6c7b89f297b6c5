/**
 * MFA devices. Authenticator apps (TOTP, RFC 6238): registering one (a sealed secret, shown once, confirmed
 * with a first code), checking codes (each accepted once, never older than the last), listing
 * and removing them; at most two a user, as IAM Identity Center allows. Listing and removing
 * also covers security keys (registered in webauthn.ts).
 */
import { randomUUID } from 'node:crypto';
import type { identitystore as directory, portal as api } from '@airlock/protocol';
import { ApiError, type InputOf, type OutputOf } from '@airlock/protocol';
import type { CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import { assertNotLocked, failFlow, findFlow, guarded, type Flow } from './sign-in.js';
import { base32Encode, generateTotpSecret, otpauthUri, qrCodeSvg, verifyTotp } from './totp.js';
import { mfaSettings } from './mfa-settings.js';
import { findUser, type UserRow } from './users.js';
import { credentialsOf } from './webauthn.js';

export const MAX_AUTHENTICATORS = 2;
const ISSUER = 'Airlock';

/**
 * Whose device is meant: the signed-in user's, or the user of an MFA_SETUP sign-in's Session.
 * `attempt`: the call answers a code, which counts against the Session (see findFlow).
 */
export async function deviceOwner(services: Services, context: CallContext, session: string | undefined, attempt = false): Promise<{ user: UserRow; flow?: Flow }> {
  if (context.principal.kind === 'portal') return { user: await findUser(services.db, context.principal.userId) };
  if (session === undefined) throw new ApiError('UnauthorizedException', 'Sign in first, or pass the Session of an MFA_SETUP challenge.');
  const flow = await findFlow(services, session, context.now, attempt);
  if (flow.challenge !== 'MFA_SETUP') throw new ApiError('NotAuthorizedException', `This sign-in is waiting for ${flow.challenge}, not for registering a device.`);
  return { user: flow.user, flow };
}

export async function associateSoftwareToken(input: InputOf<typeof api.AssociateSoftwareToken>, context: CallContext): Promise<OutputOf<typeof api.AssociateSoftwareToken>> {
  const { services, now } = context;
  const { user } = await deviceOwner(services, context, input.Session);
  if (!(await mfaSettings(services.db)).AllowedMfaTypes.includes('AUTHENTICATOR_APP')) {
    throw new ApiError('InvalidRequestException', 'Authenticator apps are not allowed here: the MFA settings (AllowedMfaTypes) do not include AUTHENTICATOR_APP.');
  }
  const verified = await services.db.selectFrom('mfa_devices').select('device_id').where('user_id', '=', user.user_id).where('verified', '=', 1).execute();
  if (verified.length >= MAX_AUTHENTICATORS) {
    throw new ApiError('ServiceQuotaExceededException', `A user may register at most ${MAX_AUTHENTICATORS} authenticator apps; remove one first (DeleteMfaDevice).`);
  }
  const secret = generateTotpSecret();
  await services.db.transaction().execute(async (trx) => {
    // Only the newest unfinished registration counts.
    await trx.deleteFrom('mfa_devices').where('user_id', '=', user.user_id).where('verified', '=', 0).execute();
    await trx
      .insertInto('mfa_devices')
      .values({ device_id: randomUUID(), user_id: user.user_id, name: '', secret: services.secrets.seal(secret), verified: 0, last_used_step: -1, last_used_at: null, created_at: now })
      .execute();
  });
  const uri = otpauthUri({ issuer: ISSUER, accountName: user.user_name, secret });
  return { SecretCode: base32Encode(secret), OtpauthUri: uri, QrCodeSvg: await qrCodeSvg(uri), ...(input.Session === undefined ? {} : { Session: input.Session }) };
}

export async function verifySoftwareToken(input: InputOf<typeof api.VerifySoftwareToken>, context: CallContext): Promise<OutputOf<typeof api.VerifySoftwareToken>> {
  const { services, now, sourceIp } = context;
  const { user, flow } = await deviceOwner(services, context, input.Session, true);
  const pending = await services.db.selectFrom('mfa_devices').selectAll().where('user_id', '=', user.user_id).where('verified', '=', 0).executeTakeFirst();
  if (pending === undefined) throw new ApiError('InvalidRequestException', 'There is no registration to finish: call AssociateSoftwareToken first.');
  const result = verifyTotp(services.secrets.open(pending.secret), input.UserCode, now);
  const message = "The code does not match: enter the 6-digit code the app shows now (check the phone's clock).";
  if (flow !== undefined) {
    // The Session already counted this answer (findFlow with attempt).
    await assertNotLocked(services, user.user_name, sourceIp, now);
    if (!result.ok) return failFlow(services, flow, sourceIp, now, message);
  } else if (!(await guarded(services, user.user_name, sourceIp, now, () => Promise.resolve(result.ok)))) {
    throw new ApiError('CodeMismatchException', message);
  }
  if (!result.ok) throw new ApiError('CodeMismatchException', message);
  const name = input.FriendlyDeviceName ?? `Authenticator ${new Date(now).toISOString().slice(0, 10)}`;
  // Registered now, when its code proved it, not when the secret was shown.
  await services.db.updateTable('mfa_devices').set({ verified: 1, name, last_used_step: result.step, last_used_at: now, created_at: now }).where('device_id', '=', pending.device_id).execute();
  return { Status: 'SUCCESS', ...(input.Session === undefined ? {} : { Session: input.Session }) };
}

/** A user's confirmed devices (apps and security keys), oldest first: for the user (ListMfaDevices) or an administrator. */
async function devicesOf(context: CallContext, userId: string): Promise<OutputOf<typeof directory.ListMfaDevicesForUser>> {
  const apps = await context.services.db.selectFrom('mfa_devices').selectAll().where('user_id', '=', userId).where('verified', '=', 1).execute();
  const keys = await credentialsOf(context.services, userId);
  const lastUsed = (at: number | null): { LastUsedDate?: number } => (at === null ? {} : { LastUsedDate: at / 1000 });
  const devices = [
    ...apps.map((row) => ({ DeviceId: row.device_id, Type: 'AUTHENTICATOR_APP' as const, FriendlyDeviceName: row.name, CreatedDate: row.created_at / 1000, ...lastUsed(row.last_used_at) })),
    ...keys.map((row) => ({
      DeviceId: row.device_id,
      Type: 'SECURITY_KEY' as const,
      FriendlyDeviceName: row.name,
      CreatedDate: row.created_at / 1000,
      Transports: JSON.parse(row.transports) as string[],
      ...lastUsed(row.last_used_at),
    })),
  ];
  return { Devices: devices.sort((a, b) => a.CreatedDate - b.CreatedDate) };
}

async function deleteDevice(context: CallContext, userId: string, deviceId: string, notFound: string): Promise<Record<string, never>> {
  const { db } = context.services;
  const app = await db.deleteFrom('mfa_devices').where('device_id', '=', deviceId).where('user_id', '=', userId).executeTakeFirst();
  if (app.numDeletedRows > 0n) return {};
  const key = await db.deleteFrom('webauthn_credentials').where('device_id', '=', deviceId).where('user_id', '=', userId).executeTakeFirst();
  if (key.numDeletedRows === 0n) throw new ApiError('ResourceNotFoundException', notFound);
  return {};
}

export async function listMfaDevices(context: CallContext): Promise<OutputOf<typeof api.ListMfaDevices>> {
  const { Devices } = await devicesOf(context, portalUser(context));
  // So the devices page offers only what registering would accept.
  return { Devices, AllowedMfaTypes: [...(await mfaSettings(context.services.db)).AllowedMfaTypes] };
}

export function deleteMfaDevice(input: InputOf<typeof api.DeleteMfaDevice>, context: CallContext): Promise<OutputOf<typeof api.DeleteMfaDevice>> {
  return deleteDevice(context, portalUser(context), input.DeviceId, `You have no MFA device ${input.DeviceId}.`);
}

/** identitystore:ListMfaDevicesForUser: an administrator looks at a user's devices. */
export async function listMfaDevicesForUser(input: InputOf<typeof directory.ListMfaDevicesForUser>, context: CallContext): Promise<OutputOf<typeof directory.ListMfaDevicesForUser>> {
  const user = await findUser(context.services.db, input.UserId);
  return devicesOf(context, user.user_id);
}

/** identitystore:DeleteMfaDeviceForUser: an administrator removes a lost device. */
export async function deleteMfaDeviceForUser(input: InputOf<typeof directory.DeleteMfaDeviceForUser>, context: CallContext): Promise<OutputOf<typeof directory.DeleteMfaDeviceForUser>> {
  const user = await findUser(context.services.db, input.UserId);
  return deleteDevice(context, user.user_id, input.DeviceId, `${user.user_name} has no MFA device ${input.DeviceId}.`);
}

export function portalUser(context: CallContext): string {
  if (context.principal.kind !== 'portal') throw new ApiError('UnauthorizedException', 'Sign in to the portal first.');
  return context.principal.userId;
}
