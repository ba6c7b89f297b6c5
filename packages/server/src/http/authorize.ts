/**
 * Decides whether a principal may call an operation. Default deny: anything not explicitly let
 * through here is refused. Role sessions are decided by their permission set's policies.
 */
import { actionOf, ApiError, type AnyOperation } from '@airlock/protocol';
import { authorizeRole, type RequestFacts } from '../access/authorizer.js';
import type { Principal } from '../identity/principal.js';
import type { ResourceRef } from '../registry/handler.js';
import type { Services } from '../services.js';

export async function authorize(spec: AnyOperation, principal: Principal, facts: RequestFacts, services: Services, resources?: readonly ResourceRef[]): Promise<void> {
  const action = actionOf(spec);
  switch (spec.caller) {
    case 'public':
      return;
    case 'any':
      if (principal.kind === 'anonymous') throw new ApiError('UnauthorizedException', `${action} needs credentials.`);
      return;
    case 'portal':
      if (principal.kind === 'portal') return;
      throw new ApiError('UnauthorizedException', `${action} needs a signed-in portal session.`);
    case 'authorized':
      switch (principal.kind) {
        case 'root':
          return;
        case 'role':
          return authorizeRole(spec, principal, facts, services, resources);
        case 'anonymous':
          throw new ApiError('UnauthorizedException', `${action} needs credentials: pass a token (Authorization: Bearer …).`);
        case 'portal':
          throw new ApiError(
            'AccessDeniedException',
            `${action} needs a role session: choose an account and permission set (portal:ListAccounts, portal:ListAccountRoles, portal:GetRoleCredentials).`,
          );
      }
  }
}
