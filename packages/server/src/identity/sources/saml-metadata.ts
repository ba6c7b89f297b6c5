/**
 * A SAML identity provider's metadata (SAML 2.0 Metadata, §2.4.3 IDPSSODescriptor) read into
 * what sign-in needs: the entity id, the single sign-on URL for the HTTP-Redirect binding, and
 * the certificates of its signing keys. Settings given one by one win over the metadata.
 */
import { ApiError } from '@airlock/protocol';
import { Parser, processors } from 'xml2js';
import type { SourceSettings } from './setting.js';

const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface IdpDescription {
  readonly entityId: string;
  readonly ssoUrl: string;
  /** PEM certificates. */
  readonly certificates: readonly string[];
}

type SamlSettings = NonNullable<SourceSettings['Saml']>;

/** An element as xml2js gives it (prefixes stripped): attributes under `$`, children as lists, text under `_`. */
interface Node {
  readonly $?: Readonly<Record<string, string>>;
  readonly _?: string;
  readonly [child: string]: unknown;
}

const refuse = (message: string): ApiError => new ApiError('ValidationException', message);

function children(node: Node | undefined, name: string): Node[] {
  const value = node?.[name];
  return Array.isArray(value) ? (value as unknown[]).map((child) => (typeof child === 'string' ? { _: child } : (child as Node))) : [];
}

/** A certificate as PEM, from PEM or bare base64 (as metadata and consoles give it). */
export function toPem(certificate: string): string {
  const base64 = certificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length < 64) throw refuse('A signing certificate is neither PEM nor base64 DER.');
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** xml2js calls back before parseString returns (its `async` option is off): parsing is synchronous. */
function parseXml(xml: string): Record<string, Node | undefined> {
  const outcome: { result?: Record<string, Node | undefined> | null; failure?: Error | null } = {};
  new Parser({ tagNameProcessors: [processors.stripPrefix], async: false }).parseString(xml, (error: Error | null, parsed: unknown) => {
    outcome.failure = error;
    outcome.result = parsed as Record<string, Node | undefined> | null;
  });
  if (outcome.failure !== null && outcome.failure !== undefined) throw refuse(`Saml.IdpMetadataXml is not well-formed XML: ${outcome.failure.message.split('\n')[0] ?? ''}.`);
  if (outcome.result === undefined || outcome.result === null) throw refuse('Saml.IdpMetadataXml is empty.');
  return outcome.result;
}

function parseMetadata(xml: string): Partial<IdpDescription> {
  const document = parseXml(xml);
  const entity = document['EntityDescriptor'] ?? children(document['EntitiesDescriptor'], 'EntityDescriptor').find((candidate) => children(candidate, 'IDPSSODescriptor').length > 0);
  const idp = children(entity, 'IDPSSODescriptor')[0];
  if (entity === undefined || idp === undefined) throw refuse('Saml.IdpMetadataXml has no EntityDescriptor with an IDPSSODescriptor: export the metadata of the identity provider (not of an application).');
  const sso = children(idp, 'SingleSignOnService').find((service) => service.$?.['Binding'] === REDIRECT_BINDING);
  const certificates = children(idp, 'KeyDescriptor')
    .filter((key) => (key.$?.['use'] ?? 'signing') === 'signing')
    .flatMap((key) => children(key, 'KeyInfo').flatMap((info) => children(info, 'X509Data')).flatMap((data) => children(data, 'X509Certificate')))
    .map((certificate) => toPem(certificate._ ?? ''));
  const entityId = entity.$?.['entityID'];
  const ssoUrl = sso?.$?.['Location'];
  return { ...(entityId === undefined ? {} : { entityId }), ...(ssoUrl === undefined ? {} : { ssoUrl }), certificates };
}

/** The identity provider the settings describe; refuses settings that leave something out. */
export function describeIdp(saml: SamlSettings): IdpDescription {
  const fromMetadata = saml.IdpMetadataXml === undefined ? {} : parseMetadata(saml.IdpMetadataXml);
  const entityId = saml.IdpEntityId ?? fromMetadata.entityId;
  const ssoUrl = saml.IdpSsoUrl ?? fromMetadata.ssoUrl;
  const certificates = saml.IdpSigningCertificates?.map(toPem) ?? fromMetadata.certificates ?? [];
  if (entityId === undefined) throw refuse('The SAML identity provider needs an entity id: give Saml.IdpMetadataXml or Saml.IdpEntityId.');
  if (ssoUrl === undefined) throw refuse('The SAML identity provider needs a single sign-on URL with the HTTP-Redirect binding: give Saml.IdpMetadataXml or Saml.IdpSsoUrl.');
  if (certificates.length === 0) throw refuse('The SAML identity provider needs a signing certificate: give Saml.IdpMetadataXml (with a signing KeyDescriptor) or Saml.IdpSigningCertificates.');
  return { entityId, ssoUrl, certificates };
}
