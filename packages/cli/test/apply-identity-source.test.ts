/**
 * `airlock apply` with an `identitySource` section, against a real server and a real slapd: a
 * type change needs confirmTypeChange, secrets come from the environment (never the file), the
 * CA certificate from a file beside it, the source is set last, and a second apply changes
 * nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { identitySources } from '@airlock/protocol';
import { createPerson, startSlapd, startTestServer, temporaryDirectory, type TestServer, type TestSlapd } from '@airlock/testkit';
import { airlock, type Result } from './helpers.js';

const SUFFIX = 'dc=example,dc=com';
const READER_PASSWORD = 'reader password for searches';
const PASSWORD_VARIABLE = 'AIRLOCK_TEST_LDAP_BIND_PASSWORD';
const LDIF = [
  `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
  `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: cn=reader,${SUFFIX}\nobjectClass: person\ncn: reader\nsn: reader\nuserPassword: ${READER_PASSWORD}\n`,
].join('\n');

let server: TestServer;
let slapd: TestSlapd;
let scratch: { path: string; remove: () => Promise<void> };
let tokenFile: string;

const apply = (file: string, ...extra: string[]): Promise<Result> => airlock(['apply', '-f', file, '--endpoint-url', server.url, '--token-file', tokenFile, ...extra]);

async function setupFile(name: string, confirm: boolean): Promise<string> {
  const file = join(scratch.path, name);
  await writeFile(
    file,
    `groups:
  - name: ProductionAccess
identitySource:
  type: LDAP
${confirm ? '  confirmTypeChange: LDAP\n' : ''}  breakGlassUser: admin
  ldap:
    url: ${slapd.url}
    startTls: true
    caCertificateFile: ca.pem
    bindDn: cn=reader,${SUFFIX}
    bindPasswordEnv: ${PASSWORD_VARIABLE}
    userSearchBase: ou=people,${SUFFIX}
    nestedGroups: RECURSIVE
  attributeMapping:
    principalTags: { team: employeeType }
`,
  );
  return file;
}

before(async () => {
  scratch = await temporaryDirectory();
  slapd = await startSlapd({ suffix: SUFFIX, rootPassword: 'directory admin password', ldif: LDIF, tls: true });
  server = await startTestServer();
  tokenFile = join(scratch.path, 'token');
  await writeFile(tokenFile, server.rootToken, { mode: 0o600 });
  await writeFile(join(scratch.path, 'ca.pem'), slapd.certificate ?? '');
  await createPerson(server, 'admin');
});

after(async () => {
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the variable this test set
  delete process.env[PASSWORD_VARIABLE];
  await server.stop();
  await slapd.stop();
  await scratch.remove();
});

test('a secret named by an unset environment variable is a problem in the file; nothing is sent', { timeout: 60_000 }, async () => {
  const result = await apply(await setupFile('unset.yaml', true));
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /identitySource\.ldap\.bindPasswordEnv: the environment variable AIRLOCK_TEST_LDAP_BIND_PASSWORD is not set/);
  assert.equal((await server.root.call(identitySources.GetIdentitySource, {})).Type, 'BUILT_IN');
});

test('changing the source type needs confirmTypeChange; with it the source is set last, and a second apply changes nothing', { timeout: 60_000 }, async () => {
  process.env[PASSWORD_VARIABLE] = READER_PASSWORD;
  const unconfirmed = await apply(await setupFile('unconfirmed.yaml', false));
  assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
  assert.match(unconfirmed.stderr, /identitySource\.type: the server's identity source is BUILT_IN; changing it to LDAP changes who can sign in: add confirmTypeChange: LDAP/);

  const file = await setupFile('ldap.yaml', true);
  const dryRun = await apply(file, '--dry-run');
  assert.equal(dryRun.code, 0, dryRun.stderr);
  assert.match(dryRun.stdout, /\+ create group ProductionAccess\n~ change the identity source BUILT_IN → LDAP\n/);
  const applied = await apply(file);
  assert.equal(applied.code, 0, applied.stderr);
  const source = await server.root.call(identitySources.GetIdentitySource, {});
  assert.equal(source.Type, 'LDAP');
  assert.equal(source.HasBindPassword, true);
  assert.equal(source.Ldap?.CaCertificate, slapd.certificate);
  assert.deepEqual(source.AttributeMapping, { PrincipalTags: { team: 'employeeType' } });

  const again = await apply(file);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /= identity source LDAP unchanged/);
  assert.match(again.stdout, /No changes/);
});

test('a SAML source from files beside the setup: the metadata as the IdP exports it, or the entity id, URL and certificate files', { timeout: 60_000 }, async () => {
  const keyFile = join(scratch.path, 'idp-key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', join(scratch.path, 'idp.pem'), '-days', '2', '-subj', '/CN=apply-test-idp'], { stdio: 'ignore', timeout: 30_000 });
  const certificate = await readFile(join(scratch.path, 'idp.pem'), 'utf8');
  const metadata = `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.com/apply">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '')}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  await writeFile(join(scratch.path, 'idp-metadata.xml'), metadata);
  const samlFile = async (name: string, block: string): Promise<string> => {
    const file = join(scratch.path, name);
    await writeFile(file, `identitySource:\n  type: SAML\n  confirmTypeChange: SAML\n  breakGlassUser: admin\n  saml:\n${block}`);
    return file;
  };

  const missing = await apply(await samlFile('saml-missing.yaml', '    idpMetadataFile: no-such.xml\n'));
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /identitySource\.saml\.idpMetadataFile: cannot read the identity provider's metadata/);

  const fromMetadata = await samlFile('saml-metadata.yaml', '    idpMetadataFile: idp-metadata.xml\n    displayName: Example IdP\n');
  const applied = await apply(fromMetadata);
  assert.equal(applied.code, 0, applied.stderr);
  const source = await server.root.call(identitySources.GetIdentitySource, {});
  assert.equal(source.Type, 'SAML');
  assert.equal(source.Saml?.IdpMetadataXml, metadata);
  assert.equal(source.Saml.DisplayName, 'Example IdP');
  const again = await apply(fromMetadata);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /= identity source SAML unchanged/);

  const fromParts = await apply(await samlFile('saml-parts.yaml', '    idpEntityId: https://idp.example.com/apply\n    idpSsoUrl: https://idp.example.com/sso\n    idpSigningCertificateFiles: [idp.pem]\n'));
  assert.equal(fromParts.code, 0, fromParts.stderr);
  assert.match(fromParts.stdout, /~ update the SAML identity source's settings/);
  const parts = await server.root.call(identitySources.GetIdentitySource, {});
  assert.deepEqual(parts.Saml?.IdpSigningCertificates, [certificate]);
  assert.equal(parts.Saml.IdpSsoUrl, 'https://idp.example.com/sso');
});
