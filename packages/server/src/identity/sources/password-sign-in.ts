/**
 * InitiateAuth under every identity source, so the CLI and the web form keep one API:
 * - BUILT_IN, and the break-glass user of any source: Airlock's own password;
 * - a password source (LDAP): the source checks the password (under the same lockouts), then
 *   the user is made or synced and Airlock's MFA follows;
 * - a browser source (OIDC, SAML): passwords are for the break-glass user only. Anyone else gets
 *   the answer and the work of a wrong password, so the form does not reveal who that user is.
 */
import { ApiError, type InputOf, type OutputOf, type portal } from '@airlock/protocol';
import type { CallContext } from '../../registry/handler.js';
import { verifyAgainstDummy } from '../passwords.js';
import { assertCanCheckPassword, guarded, initiateAuth } from '../sign-in.js';
import { signInExternal } from './external-users.js';
import { sourceOf } from './registry.js';
import { identitySource, isBreakGlass } from './setting.js';
import type { ExternalIdentity } from './source.js';

const WRONG_CREDENTIALS = 'Incorrect username or password.';

export async function signInWithPassword(input: InputOf<typeof portal.InitiateAuth>, context: CallContext): Promise<OutputOf<typeof portal.InitiateAuth>> {
  const { services, sourceIp, now } = context;
  const config = await identitySource(services);
  const type = config.settings.Type;
  if (type === 'BUILT_IN' || isBreakGlass(config, input.Username)) return initiateAuth(input, context);
  const source = sourceOf(type);
  const verify = source?.verifyPassword;
  if (source === undefined || verify === undefined) {
    assertCanCheckPassword();
    await guarded(services, input.Username, sourceIp, now, () => verifyAgainstDummy(input.Password));
    throw new ApiError('NotAuthorizedException', WRONG_CREDENTIALS);
  }
  let identity: ExternalIdentity | undefined;
  await guarded(services, input.Username, sourceIp, now, async () => {
    identity = await verify(config, input.Username, input.Password, services);
    return identity !== undefined;
  });
  if (identity === undefined) throw new ApiError('NotAuthorizedException', WRONG_CREDENTIALS);
  return signInExternal(services, source.sourceKey(config), identity, now);
}
