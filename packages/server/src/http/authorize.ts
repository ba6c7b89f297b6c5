/**
 * Decides whether a principal may call an operation. Default deny: anything not explicitly let
 * through here is refused.
 */
import { actionOf, ApiError, type AnyOperation } from '@airlock/protocol';
import type { Principal } from '../identity/principal.js';

export function authorize(spec: AnyOperation, principal: Principal): void {
  const action = actionOf(spec);
  switch (spec.caller) {
    case 'public':
      return;
    case 'portal':
      if (principal.kind === 'portal') return;
      throw new ApiError('UnauthorizedException', `${action} needs a signed-in portal session.`);
    case 'authorized':
      if (principal.kind === 'root') return;
      if (principal.kind === 'anonymous') throw new ApiError('UnauthorizedException', `${action} needs credentials: pass a token (Authorization: Bearer …).`);
      throw new ApiError(
        'AccessDeniedException',
        `User: ${principal.userName} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
      );
  }
}
