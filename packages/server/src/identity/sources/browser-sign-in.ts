/**
 * The end every browser source (OIDC, SAML) shares once it has an ExternalIdentity: the user
 * made or synced and Airlock's MFA or the portal session (signInExternal), the audit record
 * (portal:ExternalSignIn), then the portal-session cookie or the sign-in page's challenge; a
 * refusal (a built-in user's name, a deactivated user) is a failure page, recorded too.
 */
import { ApiError } from '@airlock/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { recordExternalSignIn } from './audit.js';
import { failurePage, finishBrowserSignIn } from './browser-flow.js';
import { signInExternal } from './external-users.js';
import type { ExternalSourceType } from './setting.js';
import type { ExternalIdentity } from './source.js';

export async function completeBrowserSignIn(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  sign: { readonly type: ExternalSourceType; readonly sourceKey: string; readonly identity: ExternalIdentity; readonly returnTo: string },
): Promise<FastifyReply> {
  let output: Awaited<ReturnType<typeof signInExternal>>;
  try {
    output = await signInExternal(services, sign.sourceKey, sign.identity, services.clock.now());
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    await recordExternalSignIn(services, request, sign.type, sign.identity.userName, error.message);
    return failurePage(reply, 403, error.message);
  }
  await recordExternalSignIn(services, request, sign.type, sign.identity.userName, undefined);
  return finishBrowserSignIn(services, request, reply, output, sign.returnTo);
}
