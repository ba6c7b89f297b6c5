/**
 * Browsers keep the portal session in cookies, never in script-readable storage:
 * - a sign-in call with `x-airlock-auth: cookie` gets the token as an HttpOnly, SameSite=Strict
 *   cookie (Secure under TLS), and the body's AccessToken is blanked;
 * - with it comes a CSRF cookie that scripts can read; every cookie-authenticated call must echo
 *   it in the `x-airlock-csrf` header (double submit), so another site cannot make calls.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError } from '@airlock/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'airlock_session';
export const CSRF_COOKIE = 'airlock_csrf';
export const CSRF_HEADER = 'x-airlock-csrf';

export function wantsCookie(request: FastifyRequest): boolean {
  return request.headers['x-airlock-auth'] === 'cookie';
}

function cookies(request: FastifyRequest): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return jar;
}

/** The session token from the cookie, once the CSRF header matches; undefined without a cookie. */
export function cookieToken(request: FastifyRequest): string | undefined {
  const jar = cookies(request);
  const token = jar.get(SESSION_COOKIE);
  if (token === undefined) return undefined;
  const expected = Buffer.from(jar.get(CSRF_COOKIE) ?? '');
  const given = Buffer.from(String(request.headers[CSRF_HEADER] ?? ''));
  if (expected.length === 0 || expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new ApiError('AccessDeniedException', `Cookie-authenticated calls must send the ${CSRF_COOKIE} cookie's value in the ${CSRF_HEADER} header.`);
  }
  return token;
}

interface WithToken {
  AuthenticationResult?: { AccessToken: string; ExpiresIn: number };
}

/** Moves a sign-in result's token into cookies; returns the body to send. */
export function setSessionCookies(reply: FastifyReply, output: unknown, secure: boolean): unknown {
  const result = (output as WithToken | undefined)?.AuthenticationResult;
  if (result === undefined) return output;
  const flags = `Path=/; SameSite=Strict; Max-Age=${result.ExpiresIn}${secure ? '; Secure' : ''}`;
  void reply.header('set-cookie', [
    `${SESSION_COOKIE}=${encodeURIComponent(result.AccessToken)}; HttpOnly; ${flags}`,
    `${CSRF_COOKIE}=${randomBytes(32).toString('base64url')}; ${flags}`,
  ]);
  return { ...(output as object), AuthenticationResult: { ...result, AccessToken: '' } };
}

export function clearSessionCookies(reply: FastifyReply, secure: boolean): void {
  const flags = `Path=/; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  void reply.header('set-cookie', [`${SESSION_COOKIE}=; HttpOnly; ${flags}`, `${CSRF_COOKIE}=; ${flags}`]);
}
