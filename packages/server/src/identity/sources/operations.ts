/**
 * sso:PutIdentitySource, sso:GetIdentitySource (Airlock's own: IAM Identity Center changes the
 * source in its console) and the public portal:GetSignInOptions the sign-in page starts with.
 */
import { ApiError, identitySources as api, type InputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../../registry/handler.js';
import type { Services } from '../../services.js';
import { findUserByName } from '../users.js';
import { sourceOf } from './registry.js';
import { identitySource, prepareIdentitySource } from './setting.js';
import type { IdentitySource } from './source.js';

type PutInput = InputOf<typeof api.PutIdentitySource>;

const BLOCK_OF = { OIDC: 'Oidc', SAML: 'Saml', LDAP: 'Ldap' } as const;

function checkInstance(services: Services, instanceArn: string | undefined): void {
  const arn = `arn:aws:sso:::instance/${services.ssoInstanceId}`;
  if (instanceArn !== undefined && instanceArn !== arn) throw new ApiError('ResourceNotFoundException', `Instance ${instanceArn} does not exist; this server's is ${arn}.`);
}

/** The plugin for an external type; a type this build cannot run is refused, not stored. */
export function requireSource(type: keyof typeof BLOCK_OF): IdentitySource {
  const source = sourceOf(type);
  if (source === undefined) throw new ApiError('ValidationException', `Identity source type ${type} is not available on this server yet.`);
  return source;
}

async function putIdentitySource(input: PutInput, { services, now }: CallContext) {
  checkInstance(services, input.InstanceArn);
  const current = await identitySource(services);
  if (input.Type !== current.settings.Type && input.ConfirmTypeChange !== input.Type) {
    throw new ApiError(
      'ValidationException',
      `Changing the identity source from ${current.settings.Type} to ${input.Type} changes who can sign in: send ConfirmTypeChange ${input.Type} to confirm.`,
    );
  }
  for (const [type, block] of Object.entries(BLOCK_OF)) {
    if (input[block] !== undefined && input.Type !== type) throw new ApiError('ValidationException', `${block} is for Type ${type}; Type is ${input.Type}. Leave ${block} out.`);
  }
  const prepared = await prepareIdentitySource(services, input, now);
  if (input.Type !== 'BUILT_IN') {
    const block = BLOCK_OF[input.Type];
    if (input[block] === undefined) throw new ApiError('ValidationException', `Type ${input.Type} needs its settings in ${block}.`);
    await checkBreakGlass(services, input.BreakGlassUserName);
    await requireSource(input.Type).check(prepared.config, services);
  }
  await prepared.save();
  if (input.Type !== current.settings.Type) await endDisplacedSessions(services, input.Type, input.BreakGlassUserName, now);
  return {};
}

/**
 * After a change of type, the portal and role sessions of people who could not sign in under
 * the new source end at once, rather than lasting up to 8 hours: under BUILT_IN, users of
 * external sources; under an external source, built-in users but the break-glass one.
 */
async function endDisplacedSessions(services: Services, type: PutInput['Type'], breakGlass: string | undefined, now: number): Promise<void> {
  const linked = services.db.selectFrom('external_users').select('user_id');
  const displaced =
    type === 'BUILT_IN'
      ? linked
      : services.db
          .selectFrom('users')
          .select('user_id')
          .where('user_id', 'not in', linked)
          .where('user_name_key', '!=', (breakGlass ?? '').toLowerCase());
  await services.db.updateTable('portal_sessions').set({ revoked_at: now }).where('user_id', 'in', displaced).where('revoked_at', 'is', null).execute();
  await services.db.updateTable('role_sessions').set({ revoked_at: now }).where('user_id', 'in', displaced).where('revoked_at', 'is', null).execute();
}

/** The break-glass user must be a built-in user with a password, so that someone can always sign in. */
async function checkBreakGlass(services: Services, userName: string | undefined): Promise<void> {
  if (userName === undefined) {
    throw new ApiError('ValidationException', 'An external identity source needs BreakGlassUserName: a built-in user with a password who can still sign in (with MFA) if the source fails.');
  }
  const user = await findUserByName(services.db, userName);
  const linked = user === undefined ? undefined : await services.db.selectFrom('external_users').select('user_id').where('user_id', '=', user.user_id).executeTakeFirst();
  if (user?.password_hash === null || user === undefined || linked !== undefined) {
    throw new ApiError('ValidationException', `BreakGlassUserName ${userName} must be a built-in user who has set a password (not a user of an external source).`);
  }
}

async function getIdentitySource(input: InputOf<typeof api.GetIdentitySource>, { services }: CallContext) {
  checkInstance(services, input.InstanceArn);
  const config = await identitySource(services);
  const { settings } = config;
  const source = settings.Type === 'BUILT_IN' ? undefined : sourceOf(settings.Type);
  const callbackUrl = source?.callbackUrl?.(services);
  return {
    ...settings,
    ...(settings.Oidc === undefined ? {} : { HasClientSecret: config.hasSecret('ClientSecret') }),
    ...(settings.Ldap === undefined ? {} : { HasBindPassword: config.hasSecret('BindPassword') }),
    ...(callbackUrl === undefined ? {} : { CallbackUrl: callbackUrl }),
    ...(config.updatedAt === undefined ? {} : { UpdatedDate: config.updatedAt / 1000 }),
  };
}

async function getSignInOptions(_input: unknown, { services }: CallContext) {
  const config = await identitySource(services);
  const type = config.settings.Type;
  if (type === 'BUILT_IN' || type === 'LDAP') return { IdentitySourceType: type, PasswordSignIn: 'EVERYONE' as const };
  const option = sourceOf(type)?.signInOption?.(config, services);
  return { IdentitySourceType: type, PasswordSignIn: 'BREAK_GLASS_ONLY' as const, ...(option === undefined ? {} : { ExternalSignIn: option }) };
}

export const IDENTITY_SOURCE_OPERATIONS: readonly BoundOperation[] = [
  bind(api.PutIdentitySource, putIdentitySource),
  bind(api.GetIdentitySource, getIdentitySource),
  bind(api.GetSignInOptions, getSignInOptions),
];
