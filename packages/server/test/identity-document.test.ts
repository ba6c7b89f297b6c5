/**
 * The identity document verifier against documents signed by the openssl CLI (not by Airlock's
 * code): AWS's forms (BER PKCS7 with signed attributes, SHA-256 or SHA-1, RSA or DSA; the bare
 * RSA-SHA256 signature) verify; a wrong certificate, a certificate carried inside the
 * signature, altered content, signature or signed attributes, truncated and garbage input are
 * refused with an ApiError that says why, and never crash the reader.
 */
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '@airlock/protocol';
import { parseIdentityDocument, verifyIdentityDocument, verifyRsaSignature, verifySignedData } from '@airlock/server/fleet/identity-document';
import { identityDocument, IdentitySigner, openssl } from '@airlock/testkit';

const IDENTITY = { accountId: '123456789012', instanceId: 'i-0123456789abcdef0', region: 'eu-west-1', privateIp: '10.1.2.3', pendingTime: new Date('2026-01-02T03:04:05Z') };

function refused(run: () => unknown, code: string, message?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ApiError, `not an ApiError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

describe('instance identity documents', () => {
  let aws: IdentitySigner;
  let forger: IdentitySigner;
  let awsCertificate: X509Certificate;
  let forgerCertificate: X509Certificate;
  const document = identityDocument(IDENTITY);

  before(async () => {
    [aws, forger] = await Promise.all([IdentitySigner.create(), IdentitySigner.create()]);
    awsCertificate = new X509Certificate(aws.certificatePem);
    forgerCertificate = new X509Certificate(forger.certificatePem);
  });
  after(async () => {
    await Promise.all([aws.remove(), forger.remove()]);
  });

  test("AWS's /rsa2048 form (BER, indefinite lengths, signed attributes) verifies and yields the instance", async () => {
    const pkcs7 = await aws.pkcs7(document);
    assert.deepEqual([...pkcs7.subarray(0, 2)], [0x30, 0x80], 'openssl -stream writes BER with indefinite lengths, as AWS does');
    const verified = verifySignedData(pkcs7, [forgerCertificate, awsCertificate]);
    assert.equal(verified.content.toString('utf8'), document);
    assert.equal(verified.certificate, awsCertificate);
    assert.ok(verified.signingTime !== undefined && Math.abs(verified.signingTime - Date.now()) < 10 * 60_000, 'the signingTime attribute is read');

    const identity = verifyIdentityDocument(document, pkcs7.toString('base64'), 'PKCS7', [awsCertificate]);
    assert.equal(identity.instanceId, IDENTITY.instanceId);
    assert.equal(identity.accountId, IDENTITY.accountId);
    assert.equal(identity.region, IDENTITY.region);
    assert.equal(identity.availabilityZone, 'eu-west-1a');
    assert.equal(identity.privateIp, IDENTITY.privateIp);
    assert.equal(identity.pendingTime, IDENTITY.pendingTime.getTime());
    assert.match(identity.verifiedBy, /Airlock Test Identity/);
    // Base64 as the metadata service serves it, in lines, verifies the same.
    const lines = (pkcs7.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
    assert.equal(verifyIdentityDocument(document, lines, 'PKCS7', [awsCertificate]).instanceId, IDENTITY.instanceId);
  });

  test('DER, SHA-1 (the /pkcs7 form), a DSA key, and the bare RSA-SHA256 /signature verify too', async () => {
    assert.equal(verifySignedData(await aws.pkcs7(document, { der: true }), [awsCertificate]).content.toString(), document);
    assert.equal(verifySignedData(await aws.pkcs7(document, { digest: 'sha1' }), [awsCertificate]).content.toString(), document);
    const dsa = await IdentitySigner.create({ keyType: 'dsa' });
    try {
      const dsaCertificate = new X509Certificate(dsa.certificatePem);
      assert.equal(verifySignedData(await dsa.pkcs7(document, { digest: 'sha1' }), [awsCertificate, dsaCertificate]).certificate, dsaCertificate);
    } finally {
      await dsa.remove();
    }
    const signature = await aws.rsaSignature(document);
    assert.equal(verifyIdentityDocument(document, signature.toString('base64'), 'RSA-SHA256', [forgerCertificate, awsCertificate]).instanceId, IDENTITY.instanceId);
    refused(() => verifyIdentityDocument(document.replace('10.1.2.3', '10.1.2.4'), signature.toString('base64'), 'RSA-SHA256', [awsCertificate]), 'InvalidIdentityDocumentSignature', /does not verify/);
    refused(() => verifyRsaSignature(Buffer.from(document), signature, [forgerCertificate]), 'InvalidIdentityDocumentSignature');
  });

  test('a document signed by another key is refused, also when the signature carries that certificate', async () => {
    const forged = await forger.pkcs7(document);
    refused(() => verifySignedData(forged, [awsCertificate]), 'InvalidIdentityDocumentSignature', /does not verify with any configured certificate \(it names the certificate with serial number [0-9A-F]+\)/);
    const carrying = await forger.pkcs7(document, { embedCertificate: true });
    refused(() => verifySignedData(carrying, [awsCertificate]), 'InvalidIdentityDocumentSignature', /does not verify with any configured certificate/);
    // No certificate configured for the key type at all: refused the same way.
    const genuine = await aws.pkcs7(document);
    refused(() => verifySignedData(genuine, []), 'InvalidIdentityDocumentSignature');
  });

  test('altered content, signature or signed attributes are refused; the document must be the signed one', async () => {
    const pkcs7 = await aws.pkcs7(document, { der: true });
    const at = pkcs7.indexOf(Buffer.from('"accountId" : "123456789012"'));
    assert.ok(at > 0);
    const content = Buffer.from(pkcs7);
    content.write('9', at + '"accountId" : "'.length);
    refused(() => verifySignedData(content, [awsCertificate]), 'InvalidIdentityDocumentSignature', /altered: its digest differs from the messageDigest/);

    const signature = Buffer.from(pkcs7);
    signature[signature.length - 10] = (signature[signature.length - 10] ?? 0) ^ 0x01;
    refused(() => verifySignedData(signature, [awsCertificate]), 'InvalidIdentityDocumentSignature', /does not verify/);

    // The signingTime attribute is covered by the signature: moving it by a second breaks it.
    // UTCTime (tag 0x17), 13 characters: YYMMDDhhmmssZ.
    const time = pkcs7.indexOf(Buffer.from([0x17, 0x0d]));
    assert.ok(time > 0 && pkcs7[time + 2 + 12] === 0x5a);
    const attributes = Buffer.from(pkcs7);
    const digit = time + 2 + 11;
    attributes[digit] = (attributes[digit] ?? 0x30) === 0x30 ? 0x31 : 0x30;
    refused(() => verifySignedData(attributes, [awsCertificate]), 'InvalidIdentityDocumentSignature', /does not verify/);

    refused(() => verifyIdentityDocument(document.replace('eu-west-1a', 'eu-west-1b'), pkcs7.toString('base64'), 'PKCS7', [awsCertificate]), 'InvalidIdentityDocument', /differs from the one its PKCS7 signature holds/);
  });

  test('every single-byte change is refused or leaves the verified document as it was', async () => {
    const pkcs7 = await aws.pkcs7(document);
    for (let index = 0; index < pkcs7.length; index++) {
      const changed = Buffer.from(pkcs7);
      changed[index] = (changed[index] ?? 0) ^ 0x5a;
      let content: Buffer | undefined;
      try {
        content = verifySignedData(changed, [awsCertificate]).content;
      } catch (error) {
        assert.ok(error instanceof ApiError && error.code === 'InvalidIdentityDocumentSignature', `byte ${index}: ${String(error)}`);
      }
      if (content !== undefined) assert.equal(content.toString('utf8'), document, `byte ${index} changed what was verified`);
    }
  });

  test('truncated input, garbage and deep nesting are refused as malformed, never thrown as anything else', async () => {
    const pkcs7 = await aws.pkcs7(document);
    for (let length = 0; length < pkcs7.length; length++) {
      refused(() => verifySignedData(pkcs7.subarray(0, length), [awsCertificate]), 'InvalidIdentityDocumentSignature');
    }
    refused(() => verifySignedData(Buffer.concat([pkcs7, Buffer.from([0])]), [awsCertificate]), 'InvalidIdentityDocumentSignature', /after the end/);
    for (let round = 0; round < 200; round++) {
      const garbage = randomBytes(1 + (round % 64) * 16);
      if (round % 2 === 0) garbage[0] = 0x30;
      refused(() => verifySignedData(garbage, [awsCertificate]), 'InvalidIdentityDocumentSignature');
    }
    const deep = Buffer.concat([Buffer.alloc(20_000, Buffer.from([0x30, 0x80]))]);
    refused(() => verifySignedData(deep, [awsCertificate]), 'InvalidIdentityDocumentSignature', /nested too deeply/);
    refused(() => verifySignedData(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), [awsCertificate]), 'InvalidIdentityDocumentSignature', /truncated/);
    refused(() => verifyIdentityDocument(document, 'not base64 at all!', 'PKCS7', [awsCertificate]), 'InvalidIdentityDocumentSignature', /not base64/);
    // A detached signature (no content) is not AWS's form.
    const detached = await aws.pkcs7(document, { der: true });
    const detachedSignature = await openssl(['cms', '-sign', '-binary', '-nocerts', '-outform', 'DER', '-md', 'sha256', '-signer', aws.certificateFile, '-inkey', aws.keyFile], document);
    assert.ok(detachedSignature.length < detached.length);
    refused(() => verifySignedData(detachedSignature, [awsCertificate]), 'InvalidIdentityDocumentSignature', /detached/);
  });

  test('the document must say which instance, account and region, in their forms', () => {
    const parse = (text: string) => parseIdentityDocument(Buffer.from(text));
    assert.equal(parse(document).instanceId, IDENTITY.instanceId);
    assert.equal(parse(identityDocument({ ...IDENTITY, instanceId: 'i-0123abcd', region: 'us-gov-west-1' })).region, 'us-gov-west-1');
    refused(() => parse('not json'), 'InvalidIdentityDocument', /not JSON/);
    refused(() => parse('[1]'), 'InvalidIdentityDocument', /not a JSON object/);
    refused(() => parse(identityDocument({ ...IDENTITY, instanceId: 'mi-0123456789abcdef0' })), 'InvalidIdentityDocument', /instanceId/);
    refused(() => parse(identityDocument({ ...IDENTITY, accountId: '1234' })), 'InvalidIdentityDocument', /accountId/);
    refused(() => parse(identityDocument({ ...IDENTITY, region: 'Mars' })), 'InvalidIdentityDocument', /region/);
    refused(() => parse(identityDocument({ ...IDENTITY, availabilityZone: 'us-east-1a' })), 'InvalidIdentityDocument', /not in its region/);
    refused(() => parse(identityDocument({ ...IDENTITY, privateIp: 'localhost' })), 'InvalidIdentityDocument', /privateIp/);
    refused(() => parse(document.replace(/"pendingTime" : "[^"]+"/, '"pendingTime" : "yesterday"')), 'InvalidIdentityDocument', /pendingTime/);
    refused(() => parse(`${document}${' '.repeat(9000)}`), 'InvalidIdentityDocument', /larger than/);
  });
});
