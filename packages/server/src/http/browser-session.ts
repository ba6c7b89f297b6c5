/**
 * Browsers keep their sessions in cookies, never in script-readable storage:
 * - a sign-in call with `x-airlock-auth: cookie` gets the portal token as an HttpOnly,
 *   SameSite=Strict cookie (Secure under TLS), and the body's AccessToken is blanked;
 * - with it comes a CSRF cookie that scripts can read; every cookie-authenticated call must echo
 *   it in the `x-airlock-csrf` header (double submit), so another site cannot make calls;
 * - `portal:GetRoleCredentials` in the same mode puts the role session's token in a third
 *   HttpOnly cookie, `airlock_role` (path /api/), and blanks it in the body. `portal:` calls are
 *   made as the portal session, every other call as the role session when there is one.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError } from '@airlock/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PORTAL_SESSION_TTL_MS } from '../identity/portal-sessions.js';

export const SESSION_COOKIE = 'airlock_session';
export const ROLE_COOKIE = 'airlock_role';
export const CSRF_COOKIE = 'airlock_csrf';
export const CSRF_HEADER = 'x-airlock-csrf';

export function wantsCookie(request: FastifyRequest): boolean {
  return request.headers['x-airlock-auth'] === 'cookie';
}

function cookies(request: FastifyRequest): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      jar.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A malformed cookie of some other site's making: not ours, ignore it.
    }
  }
  return jar;
}

/**
 * The token a cookie-authenticated call is made with, once the CSRF header matches: the role
 * session's for any service but `portal`, else the portal session's. Undefined without cookies.
 */
export function cookieToken(request: FastifyRequest, service: string): string | undefined {
  const jar = cookies(request);
  const role = service === 'portal' ? undefined : jar.get(ROLE_COOKIE);
  const token = role !== undefined && role !== '' ? role : jar.get(SESSION_COOKIE);
  if (token === undefined || token === '') return undefined;
  const expected = Buffer.from(jar.get(CSRF_COOKIE) ?? '');
  const given = Buffer.from(String(request.headers[CSRF_HEADER] ?? ''));
  if (expected.length === 0 || expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new ApiError('AccessDeniedException', `Cookie-authenticated calls must send the ${CSRF_COOKIE} cookie's value in the ${CSRF_HEADER} header.`);
  }
  return token;
}

interface WithTokens {
  AuthenticationResult?: { AccessToken: string; ExpiresIn: number };
  RoleCredentials?: { AccessToken: string; Expiration: number };
}

const flags = (maxAge: number, secure: boolean, path = '/'): string => `Path=${path}; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;

/** Moves a sign-in's or a role session's token into cookies; returns the body to send. */
export function setSessionCookies(request: FastifyRequest, reply: FastifyReply, output: unknown, secure: boolean, now: number): unknown {
  const { AuthenticationResult: result, RoleCredentials: role } = (output ?? {}) as WithTokens;
  if (result !== undefined) {
    const csrf = randomBytes(32).toString('base64url');
    void reply.header('set-cookie', [
      `${SESSION_COOKIE}=${encodeURIComponent(result.AccessToken)}; HttpOnly; ${flags(result.ExpiresIn, secure)}`,
      `${CSRF_COOKIE}=${csrf}; ${flags(result.ExpiresIn, secure)}`,
      // A role session of whoever signed in before on this browser is not this person's.
      `${ROLE_COOKIE}=; HttpOnly; ${flags(0, secure, '/api/')}`,
    ]);
    return { ...(output as object), AuthenticationResult: { ...result, AccessToken: '' } };
  }
  if (role !== undefined) {
    const seconds = Math.max(0, Math.floor((role.Expiration - now) / 1000));
    // The CSRF cookie must outlive both sessions: the role session may last longer than the portal one.
    const csrfAge = Math.max(seconds, PORTAL_SESSION_TTL_MS / 1000);
    void reply.header('set-cookie', [
      `${ROLE_COOKIE}=${encodeURIComponent(role.AccessToken)}; HttpOnly; ${flags(seconds, secure, '/api/')}`,
      `${CSRF_COOKIE}=${encodeURIComponent(cookies(request).get(CSRF_COOKIE) ?? '')}; ${flags(csrfAge, secure)}`,
    ]);
    return { ...(output as object), RoleCredentials: { ...role, AccessToken: '' } };
  }
  return output;
}

export function clearSessionCookies(reply: FastifyReply, secure: boolean): void {
  void reply.header('set-cookie', [
    `${SESSION_COOKIE}=; HttpOnly; ${flags(0, secure)}`,
    `${ROLE_COOKIE}=; HttpOnly; ${flags(0, secure, '/api/')}`,
    `${CSRF_COOKIE}=; ${flags(0, secure)}`,
  ]);
}
