/** Off the loopback address the server speaks only TLS, with a CA it made and whose fingerprint it reports. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import { certificateFingerprint } from '@airlock/server/http/tls';
import { startTestServer, type TestServer } from '@airlock/testkit';

let server: TestServer;
before(async () => {
  // 127.0.0.2 is on this machine but is not the loopback address the config treats as local.
  server = await startTestServer({ flags: { listen: '127.0.0.2:0' } });
});
after(async () => {
  await server.stop();
});

function get(path: string, ca: string | undefined): Promise<{ status: number; body: string; hsts: string | undefined }> {
  const url = new URL(path, server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'GET', ...(ca === undefined ? {} : { ca }), timeout: 5000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, hsts: response.headers['strict-transport-security'] }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

test('the server listens with TLS, trusted through its own CA, and reports the CA fingerprint', async () => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.2:\d+$/);
  const ca = await readFile(`${server.dataDir}/tls/ca.pem`, 'utf8');
  assert.equal(server.server.caFingerprint, certificateFingerprint(ca));
  const health = await get('/healthz', ca);
  assert.equal(health.status, 200);
  assert.equal(health.hsts, 'max-age=31536000', 'browsers are told to keep to HTTPS');
  await assert.rejects(get('/healthz', undefined), /self[- ]signed|unable to verify|certificate/i);
});

test('plain HTTP to the TLS listener gets no API answer', async () => {
  const plain = server.url.replace('https:', 'http:');
  const outcome = await fetch(`${plain}/healthz`).then(
    (response) => response.status,
    () => 'refused',
  );
  assert.notEqual(outcome, 200);
});
