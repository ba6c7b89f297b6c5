/** Turns a request's credentials into a Principal. Unknown or malformed credentials are refused. */
import { ApiError } from '@airlock/protocol';
import { findRoleSession, ROLE_TOKEN_PREFIX } from '../access/role-sessions.js';
import { findPortalSession, PORTAL_TOKEN_PREFIX } from '../identity/portal-sessions.js';
import { GenerationCache } from '../access/cache.js';
import { ANONYMOUS, type Principal, type RolePrincipal } from '../identity/principal.js';
import { hashToken, sameHash } from '../identity/tokens.js';
import type { Services } from '../services.js';

const BEARER = /^Bearer ([A-Za-z0-9_\-.~+/]+=*)$/;

export function authenticate(authorization: string | undefined, services: Services): Promise<Principal> {
  if (authorization === undefined) return Promise.resolve(ANONYMOUS);
  const token = BEARER.exec(authorization)?.[1];
  if (token === undefined) throw new ApiError('UnauthorizedException', 'The Authorization header must be "Bearer <token>".');
  if (sameHash(hashToken(token), services.rootTokenHash)) return Promise.resolve({ kind: 'root', accountId: services.accountId });
  if (token.startsWith(PORTAL_TOKEN_PREFIX)) return portalPrincipal(token, services);
  if (token.startsWith(ROLE_TOKEN_PREFIX)) return rolePrincipal(token, services);
  throw invalid();
}

const roleSessionCaches = new WeakMap<Services, GenerationCache<RolePrincipal | undefined>>();

/** One cache per server: tests run several servers in one process. */
function roleSessionCache(services: Services): GenerationCache<RolePrincipal | undefined> {
  let cache = roleSessionCaches.get(services);
  if (cache === undefined) roleSessionCaches.set(services, (cache = new GenerationCache(services.changes)));
  return cache;
}

const invalid = (): ApiError => new ApiError('UnauthorizedException', 'The token is not valid, or has expired. Sign in again.');

async function rolePrincipal(token: string, services: Services): Promise<Principal> {
  const now = services.clock.now();
  const principal = await roleSessionCache(services).get(hashToken(token), now, () => findRoleSession(services, token, now));
  if (principal === undefined || principal.expiresAt <= now) throw invalid();
  return principal;
}

async function portalPrincipal(token: string, services: Services): Promise<Principal> {
  const session = await findPortalSession(services.db, token, services.clock.now());
  if (session === undefined) throw invalid();
  return { kind: 'portal', accountId: services.accountId, userId: session.userId, userName: session.userName, sessionId: session.sessionId, mfa: session.mfa };
}
