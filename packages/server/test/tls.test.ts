import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, get, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certificateFingerprint, ensureServerCertificate, loadCertificateFiles } from '@airlock/server/http/tls';

const HOSTNAMES = ['localhost', '127.0.0.1', '::1'];
const DAY_MS = 86_400_000;
const TIMEOUT = { timeout: 30_000 };

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-tls-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** openssl is the independent implementation; its absence must fail these tests, not skip them. */
function openssl(...args: string[]): string {
  try {
    return execFileSync('openssl', args, { encoding: 'utf8', timeout: 10_000 });
  } catch (error) {
    assert.fail(`openssl ${args.join(' ')} failed (is openssl installed?): ${String(error)}`);
  }
}

/** GET over HTTPS with a bounded time; resolves with the status code. */
function httpsGet(options: RequestOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get({ ...options, path: '/', agent: false, timeout: 5_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('HTTPS request timed out')));
    request.on('error', reject);
  });
}

test('the first call generates the CA and server certificate, the second reuses them', TIMEOUT, async () => {
  await withTempDir(async (dataDir) => {
    const first = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });
    assert.equal(first.generated, true);
    assert.match(first.caFingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const tlsDir = join(dataDir, 'tls');
    assert.equal((await stat(tlsDir)).mode & 0o777, 0o700);
    for (const key of ['ca-key.pem', 'server-key.pem']) {
      assert.equal((await stat(join(tlsDir, key))).mode & 0o777, 0o600, key);
    }
    // Only the four files: no temporary file left behind by the atomic writes.
    assert.deepEqual((await readdir(tlsDir)).sort(), ['ca-key.pem', 'ca.pem', 'server-key.pem', 'server.pem']);
    assert.equal(await readFile(join(tlsDir, 'server.pem'), 'utf8'), first.cert);
    assert.equal(await readFile(join(tlsDir, 'server-key.pem'), 'utf8'), first.key);
    assert.equal(await readFile(join(tlsDir, 'ca.pem'), 'utf8'), first.ca);
    assert.match(first.key, /^-----BEGIN PRIVATE KEY-----\n/);

    const second = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });
    assert.equal(second.generated, false);
    assert.equal(second.caFingerprint, first.caFingerprint);
    assert.equal(second.cert, first.cert);
    assert.equal(second.key, first.key);
    assert.equal(second.ca, first.ca);
  });
});

test('the server certificate chains to the CA, names its hosts, and serves a real TLS handshake', TIMEOUT, async () => {
  await withTempDir(async (dataDir) => {
    const { cert, key, ca } = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });
    const server = new X509Certificate(cert);
    const authority = new X509Certificate(ca);
    assert.ok(server.checkIssued(authority));
    assert.ok(server.verify(authority.publicKey));
    assert.ok(authority.verify(authority.publicKey), 'the CA is self-signed');
    assert.equal(authority.ca, true);
    assert.equal(server.ca, false);
    assert.match(authority.subject, /^CN=Airlock CA [0-9a-f]{8}$/);
    assert.equal(server.subject, 'CN=localhost');
    assert.equal(server.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(server.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(authority.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const validDays = (Date.parse(server.validTo) - Date.parse(server.validFrom)) / DAY_MS;
    assert.ok(validDays > 397 && validDays < 398, `valid for ${validDays} days`);
    // A positive 16-byte serial: 32 hex digits, top bit clear.
    assert.match(server.serialNumber, /^[0-7][0-9A-F]{31}$/);

    const https = createServer({ cert, key }, (_request, response) => {
      response.end('ok');
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = https.address() as AddressInfo;
      assert.equal(await httpsGet({ host: '127.0.0.1', port, ca, servername: 'localhost' }), 200);
      // Without a servername the client checks the IP address against the IP SANs.
      assert.equal(await httpsGet({ host: '127.0.0.1', port, ca }), 200);
      await assert.rejects(httpsGet({ host: '127.0.0.1', port, servername: 'localhost' }), (error: NodeJS.ErrnoException) => {
        assert.match(`${error.code ?? ''} ${error.message}`, /self[- ]signed|unable to verify|UNABLE_TO_VERIFY/i);
        return true;
      });
    } finally {
      https.closeAllConnections();
      await new Promise<void>((resolve) => {
        https.close(() => {
          resolve();
        });
      });
    }
  });
});

test('a new hostname reissues the server certificate from the same CA', TIMEOUT, async () => {
  await withTempDir(async (dataDir) => {
    const first = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });
    const second = await ensureServerCertificate({ dataDir, hostnames: [...HOSTNAMES, 'airlock.example.com', '10.1.2.3'] });
    assert.equal(second.generated, true);
    assert.notEqual(second.cert, first.cert);
    assert.equal(second.caFingerprint, first.caFingerprint);
    assert.equal(second.ca, first.ca);
    const server = new X509Certificate(second.cert);
    assert.ok(server.checkIssued(new X509Certificate(first.ca)));
    assert.equal(server.checkHost('airlock.example.com', { subject: 'never' }), 'airlock.example.com');
    assert.equal(server.checkIP('10.1.2.3'), '10.1.2.3');

    // The names already covered, in another order and case, are no reason to reissue.
    const third = await ensureServerCertificate({ dataDir, hostnames: ['AIRLOCK.example.com', '::1', 'localhost'] });
    assert.equal(third.generated, false);
    assert.equal(third.cert, second.cert);
  });
});

test('a server certificate within 30 days of expiry is reissued, an older CA is kept', TIMEOUT, async () => {
  await withTempDir(async (dataDir) => {
    const now = Date.now();
    const first = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES, now: new Date(now) });

    const later = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES, now: new Date(now + 300 * DAY_MS) });
    assert.equal(later.generated, false, '97 days left: kept');

    const nearExpiry = new Date(now + 380 * DAY_MS);
    const renewed = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES, now: nearExpiry });
    assert.equal(renewed.generated, true, '17 days left: reissued');
    assert.notEqual(renewed.cert, first.cert);
    assert.equal(renewed.caFingerprint, first.caFingerprint);
    const validTo = Date.parse(new X509Certificate(renewed.cert).validTo);
    assert.ok(Math.abs(validTo - (nearExpiry.getTime() + 397 * DAY_MS)) < 2_000, 'valid 397 days from the given now');
  });
});

test('a damaged or missing server certificate is reissued; a CA whose key is gone is an error', TIMEOUT, async () => {
  await withTempDir(async (dataDir) => {
    const tlsDir = join(dataDir, 'tls');
    const first = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });

    await writeFile(join(tlsDir, 'server.pem'), 'not a certificate\n');
    const repaired = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });
    assert.equal(repaired.generated, true);
    assert.equal(repaired.caFingerprint, first.caFingerprint);

    await unlink(join(tlsDir, 'server-key.pem'));
    const rekeyed = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });
    assert.equal(rekeyed.generated, true);
    assert.notEqual(rekeyed.key, repaired.key);

    // Agents have pinned this CA: silently replacing it would cut every one of them off.
    await unlink(join(tlsDir, 'ca-key.pem'));
    await assert.rejects(ensureServerCertificate({ dataDir, hostnames: HOSTNAMES }), /ca-key\.pem/);
    await assert.rejects(ensureServerCertificate({ dataDir, hostnames: [] }), /at least one hostname/);
    await assert.rejects(ensureServerCertificate({ dataDir, hostnames: ['not a host'] }), /Not a DNS name/);
  });
});

test('openssl reads the certificates as written and agrees on the CA fingerprint', TIMEOUT, async () => {
  await withTempDir(async (dataDir) => {
    const { ca } = await ensureServerCertificate({ dataDir, hostnames: HOSTNAMES });
    const caPath = join(dataDir, 'tls', 'ca.pem');
    const serverPath = join(dataDir, 'tls', 'server.pem');

    const serverText = openssl('x509', '-in', serverPath, '-noout', '-text');
    assert.match(serverText, /DNS:localhost/);
    assert.match(serverText, /IP Address:127\.0\.0\.1/);
    assert.match(serverText, /IP Address:0:0:0:0:0:0:0:1\b/);
    assert.match(serverText, /TLS Web Server Authentication/);
    assert.match(serverText, /Subject: CN ?= ?localhost/);

    const caText = openssl('x509', '-in', caPath, '-noout', '-text');
    assert.match(caText, /CA:TRUE, pathlen:0/);
    assert.match(caText, /Certificate Sign, CRL Sign/);
    assert.match(caText, /prime256v1/);

    // OpenSSL 1.1 prints "SHA256 Fingerprint=", 3.x "sha256 Fingerprint=": only the digest must match exactly.
    const [label, digest] = openssl('x509', '-fingerprint', '-sha256', '-noout', '-in', caPath).trim().split('=');
    assert.equal(label?.toUpperCase(), 'SHA256 FINGERPRINT');
    assert.equal(digest, certificateFingerprint(ca));

    // Also a chain check by the independent implementation, with its strict RFC 5280 rules.
    assert.equal(openssl('verify', '-x509_strict', '-CAfile', caPath, serverPath).trim(), `${serverPath}: OK`);
  });
});

test('loadCertificateFiles returns a matching pair and names the file it cannot use', TIMEOUT, async () => {
  await withTempDir(async (dir) => {
    const one = await ensureServerCertificate({ dataDir: join(dir, 'one'), hostnames: HOSTNAMES });
    const other = await ensureServerCertificate({ dataDir: join(dir, 'other'), hostnames: HOSTNAMES });
    const certPath = join(dir, 'one', 'tls', 'server.pem');
    const keyPath = join(dir, 'one', 'tls', 'server-key.pem');
    const otherKeyPath = join(dir, 'other', 'tls', 'server-key.pem');

    assert.deepEqual(await loadCertificateFiles(certPath, keyPath), { cert: one.cert, key: one.key });
    assert.notEqual(other.key, one.key);

    await assert.rejects(loadCertificateFiles(certPath, otherKeyPath), (error: Error) => {
      assert.ok(error.message.includes(certPath), error.message);
      assert.ok(error.message.includes(otherKeyPath), error.message);
      assert.match(error.message, /does not match/);
      return true;
    });

    const missing = join(dir, 'missing.pem');
    await assert.rejects(loadCertificateFiles(missing, keyPath), (error: Error) => error.message.includes(missing));

    const garbage = join(dir, 'garbage.pem');
    await writeFile(garbage, 'hello\n');
    await assert.rejects(loadCertificateFiles(garbage, keyPath), (error: Error) => error.message.includes(garbage));
    await assert.rejects(loadCertificateFiles(certPath, garbage), (error: Error) => error.message.includes(garbage));
  });
});
