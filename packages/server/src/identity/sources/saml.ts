/**
 * SAML 2.0 (@node-saml/node-saml), Airlock as the service provider:
 * - SP-initiated: `/federation/saml/start` sends the browser to the identity provider with an
 *   AuthnRequest (HTTP-Redirect); its ID is remembered (saml-state.ts) and the answer must name
 *   it (InResponseTo), once, within 10 minutes;
 * - IdP-initiated: an unsolicited response, accepted unless `AllowIdpInitiated` is false;
 * - both arrive at the ACS, `/federation/saml/acs` (HTTP-POST binding). node-saml checks the
 *   assertion's signature against the provider's certificates (an unsigned assertion is
 *   refused even in a signed response), its validity window and its audience (our entity id);
 *   here the issuer, the recipient, and that the assertion was not used before;
 * - `/federation/saml/metadata`: Airlock's SP metadata, for the identity provider.
 * Attributes map to the user as OIDC claims do (attribute-mapping.ts); the user name defaults
 * to the NameID.
 */
import { SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml';
import { ApiError } from '@airlock/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { mapIdentity, sourceMfaCounts, type MappingDefaults } from './attribute-mapping.js';
import { recordExternalSignIn } from './audit.js';
import { failurePage, FEDERATION_PATH, safeReturnTo } from './browser-flow.js';
import { completeBrowserSignIn } from './browser-sign-in.js';
import { describeIdp, type IdpDescription } from './saml-metadata.js';
import { claimAssertion, REQUEST_TTL_MS, requestIdCache } from './saml-state.js';
import { identitySource, type IdentitySourceConfig } from './setting.js';
import type { ExternalIdentity, IdentitySource } from './source.js';

export const SAML_START_PATH = `${FEDERATION_PATH}saml/start`;
export const SAML_ACS_PATH = `${FEDERATION_PATH}saml/acs`;
export const SAML_METADATA_PATH = `${FEDERATION_PATH}saml/metadata`;
/** The NameID, offered to the attribute mapping under this name. */
const NAME_ID = 'NameID';
const UNSPECIFIED_NAME_ID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
/** Clocks of the provider and of this server may differ this much. */
const CLOCK_SKEW_MS = 60_000;

export const SAML_DEFAULTS: MappingDefaults = {
  UserName: NAME_ID,
  Email: 'email',
  DisplayName: 'displayName',
  GivenName: 'givenName',
  FamilyName: 'surname',
  Groups: 'groups',
};

type SamlSettings = NonNullable<IdentitySourceConfig['settings']['Saml']>;

function settingsOf(config: IdentitySourceConfig): SamlSettings {
  const saml = config.settings.Saml;
  if (config.settings.Type !== 'SAML' || saml === undefined) throw new ApiError('ValidationException', 'The identity source is not SAML.');
  return saml;
}

const acsUrl = (services: Services): string => new URL(SAML_ACS_PATH, services.publicUrl()).href;
const spEntityId = (saml: SamlSettings | undefined, services: Services): string => saml?.SpEntityId ?? new URL(SAML_METADATA_PATH, services.publicUrl()).href;

function serviceProvider(services: Services, saml: SamlSettings, idp: IdpDescription): SAML {
  const entityId = spEntityId(saml, services);
  return new SAML({
    issuer: entityId,
    audience: entityId,
    callbackUrl: acsUrl(services),
    entryPoint: idp.ssoUrl,
    idpCert: [...idp.certificates],
    idpIssuer: idp.entityId,
    // The assertion must be signed; a signature on the whole response is optional (most IdPs sign one or the other).
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: CLOCK_SKEW_MS,
    identifierFormat: UNSPECIFIED_NAME_ID,
    // The provider chooses how people prove themselves; its AuthnContextClassRef says how (MFA).
    disableRequestedAuthnContext: true,
    validateInResponseTo: saml.AllowIdpInitiated === false ? ValidateInResponseTo.always : ValidateInResponseTo.ifPresent,
    requestIdExpirationPeriodMs: REQUEST_TTL_MS,
    cacheProvider: requestIdCache(services),
  });
}

/** The parsed assertion's parts Airlock reads (node-saml parses with xml2js: lists, `$` attributes, `_` text). */
interface AssertionParts {
  readonly Assertion?: {
    readonly $?: { readonly ID?: string };
    readonly Subject?: readonly { readonly SubjectConfirmation?: readonly { readonly SubjectConfirmationData?: readonly { readonly $?: { readonly Recipient?: string } }[] }[] }[];
    readonly Conditions?: readonly { readonly $?: { readonly NotOnOrAfter?: string } }[];
    readonly AuthnStatement?: readonly { readonly AuthnContext?: readonly { readonly AuthnContextClassRef?: readonly { readonly _?: string }[] }[] }[];
  };
}

/** Checks node-saml leaves to the service provider, then the identity the assertion describes. */
async function identityOf(services: Services, config: IdentitySourceConfig, idp: IdpDescription, profile: Profile): Promise<ExternalIdentity> {
  const assertion = (profile.getAssertion?.() as AssertionParts | undefined)?.Assertion;
  if (assertion === undefined) throw new ApiError('NotAuthorizedException', 'The SAML response carries no assertion.');
  if (profile.issuer !== idp.entityId) throw new ApiError('NotAuthorizedException', `The assertion was issued by ${profile.issuer}, not by the configured identity provider ${idp.entityId}.`);
  const recipients = (assertion.Subject ?? []).flatMap((subject) => subject.SubjectConfirmation ?? []).flatMap((confirmation) => confirmation.SubjectConfirmationData ?? []).map((data) => data.$?.Recipient);
  const wrong = recipients.find((recipient) => recipient !== undefined && recipient !== acsUrl(services));
  if (wrong !== undefined) throw new ApiError('NotAuthorizedException', `The assertion is for ${wrong}, not for this server's ACS ${acsUrl(services)}.`);
  const assertionId = assertion.$?.ID;
  if (assertionId === undefined || assertionId === '') throw new ApiError('NotAuthorizedException', 'The assertion has no ID.');
  const notOnOrAfter = assertion.Conditions?.[0]?.$?.NotOnOrAfter;
  if (!(await claimAssertion(services, idp.entityId, assertionId, notOnOrAfter === undefined ? undefined : Date.parse(notOnOrAfter), services.clock.now()))) {
    throw new ApiError('NotAuthorizedException', `The assertion ${assertionId} was already used to sign in: an assertion signs in once.`);
  }
  const contexts = (assertion.AuthnStatement ?? []).flatMap((statement) => statement.AuthnContext ?? []).flatMap((context) => context.AuthnContextClassRef ?? []).map((ref) => ref._ ?? '');
  const attributes = { ...((profile['attributes'] ?? {}) as Record<string, unknown>), [NAME_ID]: profile.nameID };
  return mapIdentity(config.settings, SAML_DEFAULTS, profile.nameID, attributes, undefined, sourceMfaCounts(config.settings, [], contexts));
}

async function start(services: Services, request: FastifyRequest<{ Querystring: { return_to?: string } }>, reply: FastifyReply): Promise<FastifyReply> {
  const config = await identitySource(services);
  if (config.settings.Type !== 'SAML') return failurePage(reply, 404, 'Signing in with SAML is not set up on this server.');
  const saml = settingsOf(config);
  const provider = serviceProvider(services, saml, describeIdp(saml));
  // RelayState carries where to go back; the ACS takes only a path on this server from it.
  const url = await provider.getAuthorizeUrlAsync(safeReturnTo(request.query.return_to), undefined, {});
  return reply.header('cache-control', 'no-store').redirect(url, 303);
}

/** A message for the person and the audit trail: node-saml's reason (expired, audience, signature) as it says it. */
function reasonOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return `The identity provider's SAML response was refused: ${error instanceof Error ? error.message : 'unknown error'}.`;
}

async function assertionConsumer(services: Services, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const config = await identitySource(services);
  if (config.settings.Type !== 'SAML') return failurePage(reply, 404, 'Signing in with SAML is not set up on this server.');
  const form = (request.body ?? {}) as Record<string, unknown>;
  const response = form['SAMLResponse'];
  if (typeof response !== 'string' || response === '') return failurePage(reply, 400, 'The request carries no SAMLResponse: the identity provider must POST it here (HTTP-POST binding).');
  let identity: ExternalIdentity;
  try {
    const saml = settingsOf(config);
    const idp = describeIdp(saml);
    const { profile } = await serviceProvider(services, saml, idp).validatePostResponseAsync({ SAMLResponse: response });
    if (profile === null) throw new ApiError('NotAuthorizedException', 'The identity provider did not sign the person in (no assertion).');
    identity = await identityOf(services, config, idp, profile);
  } catch (error) {
    const message = reasonOf(error);
    await recordExternalSignIn(services, request, 'SAML', undefined, message);
    return failurePage(reply, 401, message);
  }
  const sourceKey = samlSource.sourceKey(config);
  return completeBrowserSignIn(services, request, reply, { type: 'SAML', sourceKey, identity, returnTo: safeReturnTo(form['RelayState']) });
}

async function metadata(services: Services, reply: FastifyReply): Promise<FastifyReply> {
  const config = await identitySource(services);
  const saml = config.settings.Type === 'SAML' ? config.settings.Saml : undefined;
  const xml = new SAML({ issuer: spEntityId(saml, services), callbackUrl: acsUrl(services), idpCert: 'unused', wantAssertionsSigned: true, identifierFormat: UNSPECIFIED_NAME_ID })
    .generateServiceProviderMetadata(null);
  return reply.type('application/samlmetadata+xml; charset=utf-8').send(xml);
}

export const samlSource: IdentitySource = {
  type: 'SAML',
  sourceKey: (config) => `saml:${describeIdp(settingsOf(config)).entityId}`,
  check: (config) => {
    describeIdp(settingsOf(config));
    return Promise.resolve();
  },
  signInOption: (config, services) => ({
    DisplayName: settingsOf(config).DisplayName ?? 'SAML',
    Url: new URL(SAML_START_PATH, services.publicUrl()).href,
  }),
  callbackUrl: acsUrl,
  routes: (app: FastifyInstance, services) => {
    void app.register((scope, _options, done) => {
      // The HTTP-POST binding is a form; only these routes read forms.
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, parsed) => {
        parsed(null, Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))));
      });
      scope.get<{ Querystring: { return_to?: string } }>(SAML_START_PATH, (request, reply) => start(services, request, reply));
      scope.post(SAML_ACS_PATH, (request, reply) => assertionConsumer(services, request, reply));
      scope.get(SAML_METADATA_PATH, (_request, reply) => metadata(services, reply));
      done();
    });
  },
};
