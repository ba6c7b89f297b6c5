/**
 * OpenID Connect (openid-client): the authorization code flow with PKCE (S256), state and
 * nonce bound to the browser (browser-flow.ts), discovery of the provider's endpoints and keys,
 * and the ID token checked by openid-client: signature against the provider's JWKS, issuer,
 * audience, nonce, expiry. Claims from the ID token and the UserInfo endpoint become the user.
 */
import { ApiError } from '@airlock/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { Services } from '../../services.js';
import { mapIdentity, OIDC_DEFAULTS, sourceMfaCounts, valuesOf } from './attribute-mapping.js';
import { failurePage, FEDERATION_PATH, finishBrowserSignIn, safeReturnTo, startBrowserFlow, takeBrowserFlow } from './browser-flow.js';
import { recordExternalSignIn } from './audit.js';
import { signInExternal } from './external-users.js';
import { identitySource, isLoopbackHost, type IdentitySourceConfig } from './setting.js';
import type { ExternalIdentity, IdentitySource } from './source.js';

export const OIDC_START_PATH = `${FEDERATION_PATH}oidc/start`;
export const OIDC_CALLBACK_PATH = `${FEDERATION_PATH}oidc/callback`;
const DEFAULT_SCOPES = ['openid', 'profile', 'email'];
const TIMEOUT_SECONDS = 10;
/** Discovery is cached this long, so a provider's new endpoints or keys are picked up. */
const DISCOVERY_TTL_MS = 10 * 60 * 1000;

interface OidcFlow {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly returnTo: string;
}

function settingsOf(config: IdentitySourceConfig): NonNullable<IdentitySourceConfig['settings']['Oidc']> {
  const oidc = config.settings.Oidc;
  if (config.settings.Type !== 'OIDC' || oidc === undefined) throw new ApiError('ValidationException', 'The identity source is not OIDC.');
  return oidc;
}

const discovered = new Map<string, { readonly at: number; readonly configuration: Promise<client.Configuration> }>();

/** The provider's configuration (discovery), cached per settings version. */
async function providerOf(config: IdentitySourceConfig, now: number): Promise<client.Configuration> {
  const oidc = settingsOf(config);
  const key = `${oidc.IssuerUrl}\n${oidc.ClientId}\n${String(config.updatedAt)}`;
  const cached = discovered.get(key);
  if (cached !== undefined && now - cached.at < DISCOVERY_TTL_MS) return cached.configuration;
  const secret = config.secret('ClientSecret');
  const issuer = new URL(oidc.IssuerUrl);
  const configuration = client.discovery(issuer, oidc.ClientId, secret, secret === undefined ? client.None() : client.ClientSecretBasic(secret), {
    timeout: TIMEOUT_SECONDS,
    // Plain http only passes check() for a loopback issuer (a provider on this machine).
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- deprecated only to stand out; loopback-only here
    ...(issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
  });
  configuration.catch(() => discovered.delete(key));
  discovered.set(key, { at: now, configuration });
  return configuration;
}

function checkIssuerUrl(issuerUrl: string): void {
  const url = new URL(issuerUrl);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  throw new ApiError('ValidationException', `Oidc.IssuerUrl must be https:// (http:// only on a loopback address): ${issuerUrl}.`);
}

/** Claims of the ID token, completed by UserInfo when the provider has it (groups often come only there). */
async function claimsOf(provider: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<Record<string, unknown>> {
  const idToken = tokens.claims();
  if (idToken === undefined) throw new ApiError('NotAuthorizedException', 'The identity provider returned no ID token.');
  if (provider.serverMetadata().userinfo_endpoint === undefined) return { ...idToken };
  const userInfo = await client.fetchUserInfo(provider, tokens.access_token, idToken.sub);
  // The ID token's own claims (sub, amr, acr…) win over UserInfo's.
  return { ...userInfo, ...idToken };
}

function identityOf(config: IdentitySourceConfig, claims: Record<string, unknown>): ExternalIdentity {
  const mfa = sourceMfaCounts(config.settings, valuesOf(claims, 'amr'), valuesOf(claims, 'acr'));
  return mapIdentity(config.settings, OIDC_DEFAULTS, String(claims['sub']), claims, undefined, mfa);
}

async function start(services: Services, request: FastifyRequest<{ Querystring: { return_to?: string } }>, reply: FastifyReply): Promise<FastifyReply> {
  const config = await identitySource(services);
  if (config.settings.Type !== 'OIDC') return failurePage(reply, 404, 'Signing in with OpenID Connect is not set up on this server.');
  const provider = await providerOf(config, services.clock.now());
  const flow: OidcFlow = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier(), returnTo: safeReturnTo(request.query.return_to) };
  if (!(await startBrowserFlow(services, reply, 'OIDC', flow))) return failurePage(reply, 503, 'Too many sign-ins are in progress right now. Try again in a few minutes.');
  const scopes = new Set(['openid', ...(settingsOf(config).Scopes ?? DEFAULT_SCOPES)]);
  const url = client.buildAuthorizationUrl(provider, {
    redirect_uri: callbackUrl(services),
    scope: [...scopes].join(' '),
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256',
    state: flow.state,
    nonce: flow.nonce,
  });
  return reply.header('cache-control', 'no-store').redirect(url.href, 303);
}

async function callback(services: Services, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const flow = await takeBrowserFlow<OidcFlow>(services, request, reply, 'OIDC');
  if (flow === undefined) return failurePage(reply, 400, 'This sign-in was not started in this browser, took longer than 10 minutes, or was already used. Start again.');
  const config = await identitySource(services);
  if (config.settings.Type !== 'OIDC') return failurePage(reply, 404, 'Signing in with OpenID Connect is not set up on this server.');
  const now = services.clock.now();
  const provider = await providerOf(config, now);
  const query = new URL(request.url, 'http://callback').search;
  let identity: ExternalIdentity;
  try {
    const tokens = await client.authorizationCodeGrant(
      provider,
      new URL(`${callbackUrl(services)}${query}`),
      { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true },
      { redirect_uri: callbackUrl(services) },
    );
    identity = identityOf(config, await claimsOf(provider, tokens));
  } catch (error) {
    const message = error instanceof ApiError ? error.message : `The identity provider's answer was refused: ${describe(error)}`;
    await recordExternalSignIn(services, request, 'OIDC', undefined, message);
    return failurePage(reply, 401, message);
  }
  let output: Awaited<ReturnType<typeof signInExternal>>;
  try {
    output = await signInExternal(services, oidcSource.sourceKey(config), identity, now);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    await recordExternalSignIn(services, request, 'OIDC', identity.userName, error.message);
    return failurePage(reply, 403, error.message);
  }
  await recordExternalSignIn(services, request, 'OIDC', identity.userName, undefined);
  return finishBrowserSignIn(services, request, reply, output, flow.returnTo);
}

/** openid-client's errors say what failed (a state mismatch, an expired token…); the provider's own error is shown as it sent it. */
function describe(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) return `${error.error}${error.error_description === undefined ? '' : `: ${error.error_description}`}`;
  if (!(error instanceof Error)) return 'unknown error';
  // openid-client wraps the precise reason (a state mismatch, a bad signature…) as the cause.
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

function callbackUrl(services: Services): string {
  return new URL(OIDC_CALLBACK_PATH, services.publicUrl()).href;
}

export const oidcSource: IdentitySource = {
  type: 'OIDC',
  sourceKey: (config) => `oidc:${settingsOf(config).IssuerUrl}`,
  check: async (config, services) => {
    const oidc = settingsOf(config);
    checkIssuerUrl(oidc.IssuerUrl);
    try {
      await providerOf(config, services.clock.now());
    } catch (error) {
      throw new ApiError('ValidationException', `OpenID Connect discovery at ${oidc.IssuerUrl} failed (${describe(error)}): check Oidc.IssuerUrl and that this server can reach it.`);
    }
  },
  signInOption: (config, services) => ({
    DisplayName: settingsOf(config).DisplayName ?? new URL(settingsOf(config).IssuerUrl).host,
    Url: new URL(OIDC_START_PATH, services.publicUrl()).href,
  }),
  callbackUrl,
  routes: (app: FastifyInstance, services) => {
    app.get<{ Querystring: { return_to?: string } }>(OIDC_START_PATH, (request, reply) => start(services, request, reply));
    app.get(OIDC_CALLBACK_PATH, (request, reply) => callback(services, request, reply));
  },
};
