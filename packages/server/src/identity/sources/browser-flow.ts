/**
 * A browser's round trip through an external provider (OIDC, SAML), bound to that browser:
 * - start: what the return needs (state, nonce, PKCE verifier, where to go back) is stored
 *   sealed, under the hash of a random value given to the browser as an HttpOnly cookie
 *   (SameSite=Lax, so the provider's redirect back carries it; 10 minutes; used once);
 * - return: the cookie finds the flow, which is deleted at once, so a stolen or replayed
 *   redirect (from another browser, or a second time) finds nothing;
 * - finish: the same HttpOnly portal-session cookie as a password sign-in, or the sign-in page
 *   to answer Airlock's MFA challenge.
 */
import type { OutputOf, portal } from '@airlock/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { setSessionCookies } from '../../http/browser-session.js';
import type { Services } from '../../services.js';
import { hashToken, newToken } from '../tokens.js';
import type { ExternalSourceType } from './setting.js';

export const FLOW_COOKIE = 'airlock_federation';
export const FEDERATION_PATH = '/federation/';
const FLOW_TTL_MS = 10 * 60 * 1000;
/** The web console's sign-in page: it answers a challenge named in its URL fragment. */
export const SIGN_IN_PAGE = '/portal/sign-in';
const DEFAULT_RETURN = '/portal';

type AuthOutput = OutputOf<typeof portal.InitiateAuth>;

/** A path on this server to go back to after signing in; anything else (another site) is ignored. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !/^\/(?![/\\])[\x21-\x7e]{0,1023}$/.test(value)) return DEFAULT_RETURN;
  return value;
}

function flowCookie(value: string, maxAge: number, secure: boolean): string {
  return `${FLOW_COOKIE}=${value}; HttpOnly; Path=${FEDERATION_PATH}; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

/**
 * Starting is unauthenticated, so the table of flows in progress is bounded: beyond this many
 * live ones (far above any real sign-in rush in 10 minutes), new starts are refused.
 */
const MAX_LIVE_FLOWS = 10_000;

/** Stores the flow's state and gives the browser its binding cookie; false when too many flows are in progress. */
export async function startBrowserFlow(services: Services, reply: FastifyReply, type: ExternalSourceType, state: object): Promise<boolean> {
  const binding = newToken('');
  const now = services.clock.now();
  await services.db.deleteFrom('federation_flows').where('expires_at', '<=', now).execute();
  const live = await services.db.selectFrom('federation_flows').select((eb) => eb.fn.countAll<string | number>().as('count')).executeTakeFirstOrThrow();
  if (Number(live.count) >= MAX_LIVE_FLOWS) return false;
  await services.db
    .insertInto('federation_flows')
    .values({ binding_hash: hashToken(binding), source_type: type, sealed_state: services.secrets.seal(Buffer.from(JSON.stringify(state), 'utf8')), expires_at: now + FLOW_TTL_MS })
    .execute();
  void reply.header('set-cookie', flowCookie(binding, FLOW_TTL_MS / 1000, services.config.tls));
  return true;
}

/** The flow this browser started, taken (deleted) so that it serves once; undefined when there is none. */
export async function takeBrowserFlow<T>(services: Services, request: FastifyRequest, reply: FastifyReply, type: ExternalSourceType): Promise<T | undefined> {
  void reply.header('set-cookie', flowCookie('', 0, services.config.tls));
  const binding = readCookie(request, FLOW_COOKIE);
  if (binding === undefined) return undefined;
  const row = await services.db.deleteFrom('federation_flows').where('binding_hash', '=', hashToken(binding)).returningAll().executeTakeFirst();
  if (row === undefined || row.expires_at <= services.clock.now() || row.source_type !== type) return undefined;
  return JSON.parse(Buffer.from(services.secrets.open(row.sealed_state)).toString('utf8')) as T;
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Ends a browser sign-in: signed in (cookies, then back to `returnTo`), or Airlock's MFA is due
 * (to the sign-in page, with the challenge in the fragment, which never reaches a server's logs).
 */
export function finishBrowserSignIn(services: Services, request: FastifyRequest, reply: FastifyReply, output: AuthOutput, returnTo: string): FastifyReply {
  void reply.header('cache-control', 'no-store');
  if (output.AuthenticationResult !== undefined) {
    setSessionCookies(request, reply, output, services.config.tls, services.clock.now());
    return reply.redirect(returnTo, 303);
  }
  const { USER_ID_FOR_SRP: userName = '', ...parameters } = output.ChallengeParameters ?? {};
  const fragment = new URLSearchParams({
    challenge: output.ChallengeName ?? '',
    session: output.Session ?? '',
    username: userName,
    return_to: returnTo,
    // The page needs the rest to answer: WEB_AUTHN's CREDENTIAL_REQUEST_OPTIONS, where a code was mailed.
    parameters: JSON.stringify(parameters),
  });
  return reply.redirect(`${SIGN_IN_PAGE}#${fragment.toString()}`, 303);
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A plain page for a sign-in that could not finish: what happened and a way back. */
export function failurePage(reply: FastifyReply, status: number, message: string): FastifyReply {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title></head><body><h1>Sign-in failed</h1><p>${escapeHtml(message)}</p><p><a href="${SIGN_IN_PAGE}">Back to sign-in</a></p></body></html>`;
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);
}
