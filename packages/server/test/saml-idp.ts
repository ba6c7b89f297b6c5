/**
 * A SAML 2.0 identity provider for tests: an RSA key and a self-signed certificate made by
 * openssl at test time, its metadata, and Responses whose Assertion it signs for real with
 * xml-crypto (enveloped signature, exclusive c14n, RSA-SHA256), the way IdPs do. Each field a
 * rejection test needs to get wrong (signer, audience, validity, recipient, InResponseTo) is a
 * parameter; the default is a correct response.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';

export interface SigningKey {
  readonly privateKey: string;
  readonly certificate: string;
}

/** A fresh RSA key and self-signed certificate from openssl (a test that cannot run it fails). */
export function makeSigningKey(commonName: string): SigningKey {
  const directory = mkdtempSync(join(tmpdir(), 'saml-idp-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem'), '-days', '2', '-subj', `/CN=${commonName}`], {
      stdio: 'ignore',
      timeout: 30_000,
    });
    return { privateKey: readFileSync(join(directory, 'key.pem'), 'utf8'), certificate: readFileSync(join(directory, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const base64Of = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
const instant = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const PASSWORD_CONTEXT = 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport';
export const MFA_CONTEXT = 'http://schemas.microsoft.com/claims/multipleauthn';

export interface AssertionOptions {
  readonly nameId: string;
  readonly attributes: Readonly<Record<string, string | readonly string[]>>;
  readonly audience: string;
  readonly recipient: string;
  readonly inResponseTo?: string;
  readonly notOnOrAfter?: number;
  readonly authnContext?: string;
  /** Who signs the assertion: the IdP's key by default, another key, or nobody. */
  readonly signer?: SigningKey | 'unsigned';
  readonly issuer?: string;
}

export class SamlTestIdp {
  readonly key = makeSigningKey('airlock-test-idp');
  constructor(
    readonly entityId: string,
    readonly ssoUrl: string,
  ) {}

  metadata(): string {
    return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escape(this.entityId)}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Of(this.key.certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escape(this.ssoUrl)}/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escape(this.ssoUrl)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** The AuthnRequest an SP-initiated sign-in carries to the IdP (HTTP-Redirect binding: deflated, base64). */
  static readAuthnRequest(redirectUrl: string): { readonly id: string; readonly acsUrl: string; readonly issuer: string; readonly relayState: string | null } {
    const url = new URL(redirectUrl);
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
    return {
      id: /\bID="([^"]+)"/.exec(xml)?.[1] ?? '',
      acsUrl: /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)?.[1] ?? '',
      issuer: /<saml:Issuer[^>]*>([^<]+)</.exec(xml)?.[1] ?? '',
      relayState: url.searchParams.get('RelayState'),
    };
  }

  /** A SAMLResponse (base64) for the HTTP-POST binding. */
  response(options: AssertionOptions): string {
    return Buffer.from(this.responseXml(options), 'utf8').toString('base64');
  }

  responseXml(options: AssertionOptions): string {
    const now = Date.now();
    const expires = options.notOnOrAfter ?? now + 5 * 60_000;
    const issuer = escape(options.issuer ?? this.entityId);
    const answering = options.inResponseTo === undefined ? '' : ` InResponseTo="${escape(options.inResponseTo)}"`;
    const attributes = Object.entries(options.attributes)
      .map(([name, value]) => `<saml:Attribute Name="${escape(name)}">${(typeof value === 'string' ? [value] : value).map((item) => `<saml:AttributeValue>${escape(item)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
      .join('');
    const assertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${instant(now)}">
<saml:Issuer>${issuer}</saml:Issuer>
<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${escape(options.nameId)}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${instant(expires)}" Recipient="${escape(options.recipient)}"${answering}/></saml:SubjectConfirmation></saml:Subject>
<saml:Conditions NotBefore="${instant(now - 60_000)}" NotOnOrAfter="${instant(expires)}"><saml:AudienceRestriction><saml:Audience>${escape(options.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="_s${randomBytes(8).toString('hex')}"><saml:AuthnContext><saml:AuthnContextClassRef>${escape(options.authnContext ?? PASSWORD_CONTEXT)}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
<saml:AttributeStatement>${attributes}</saml:AttributeStatement>
</saml:Assertion>`;
    const signer = options.signer ?? this.key;
    const signed = signer === 'unsigned' ? assertion : sign(assertion, signer);
    return `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r${randomBytes(16).toString('hex')}" Version="2.0" IssueInstant="${instant(now)}" Destination="${escape(options.recipient)}"${answering}>
<saml:Issuer>${issuer}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
${signed}
</samlp:Response>`;
  }
}

function sign(assertion: string, key: SigningKey): string {
  const signature = new SignedXml({
    privateKey: key.privateKey,
    publicCert: key.certificate,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  });
  signature.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
  });
  signature.computeSignature(assertion, { location: { reference: "/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' } });
  return signature.getSignedXml();
}
