/**
 * Browser sign-ins through an external source do not go through the API, so they are recorded
 * here: `portal:ExternalSignIn`, with the source's type, the user name the source vouched for
 * (when it got that far) and, on failure, why.
 */
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS } from '../principal.js';
import type { Services } from '../../services.js';
import type { ExternalSourceType } from './setting.js';

export async function recordExternalSignIn(
  services: Services,
  request: FastifyRequest,
  type: ExternalSourceType,
  userName: string | undefined,
  failure: string | undefined,
): Promise<void> {
  await services.audit.record({
    service: 'portal',
    operation: 'ExternalSignIn',
    readOnly: false,
    principal: ANONYMOUS,
    sourceIp: request.ip,
    userAgent: request.headers['user-agent'] ?? '',
    requestId: request.id,
    time: services.clock.now(),
    requestParameters: { IdentitySourceType: type },
    responseElements: failure === undefined ? { UserName: userName } : null,
    ...(failure === undefined ? {} : { error: { code: 'NotAuthorizedException', message: userName === undefined ? failure : `${userName}: ${failure}` } }),
  });
}
