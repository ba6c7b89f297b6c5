/**
 * Behind a load balancer: X-Forwarded-For names the caller only when the peer is one of the
 * operator's --trusted-proxies, so the audit trail and the per-address limits see people, not
 * the balancer, and nobody else can choose the address they are counted under.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { cloudtrail } from '@airlock/protocol';
import { ConfigError, loadConfig } from '@airlock/server/config/config';
import { clientAddress, proxyTrust } from '@airlock/server/http/client-address';
import { startTestServer, type TestServer } from '@airlock/testkit';

function requestFrom(peer: string, forwardedFor?: string): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } } as unknown as IncomingMessage;
}

describe('the caller behind trusted proxies', () => {
  test('walks X-Forwarded-For from the right while hops are trusted; an untrusted peer is the caller', () => {
    const trust = proxyTrust(['10.0.0.0/8', '::1', '192.0.2.7']);
    assert.equal(clientAddress(requestFrom('10.1.2.3', '198.51.100.7'), trust), '198.51.100.7');
    assert.equal(clientAddress(requestFrom('::ffff:10.1.2.3', '203.0.113.1, 198.51.100.7, 10.9.9.9'), trust), '198.51.100.7', 'a client cannot choose its address by writing the left end');
    assert.equal(clientAddress(requestFrom('::1', '2001:db8::5'), trust), '2001:db8::5');
    assert.equal(clientAddress(requestFrom('203.0.113.9', '198.51.100.7'), trust), '203.0.113.9', 'a peer that is no proxy speaks for itself');
    assert.equal(clientAddress(requestFrom('10.1.2.3', 'not-an-address, 10.2.2.2'), trust), '10.2.2.2', 'garbage ends the chain at the last real hop');
    assert.equal(clientAddress(requestFrom('10.1.2.3'), trust), '10.1.2.3');
    assert.equal(clientAddress(requestFrom('127.0.0.1', '198.51.100.7'), proxyTrust([])), '127.0.0.1', 'no trusted proxy: the header is ignored');
  });

  test('a malformed entry is a configuration error that names the setting', () => {
    for (const bad of ['10.0.0.0/33', 'proxy.example.com', '10.0.0.0/8/1', '::1/129']) {
      assert.throws(() => loadConfig(new Map([['trusted-proxies', `127.0.0.1, ${bad}`]]), {}), (error: unknown) => error instanceof ConfigError && error.message.includes('--trusted-proxies') && error.message.includes(bad), bad);
    }
    assert.deepEqual(loadConfig(new Map(), { AIRLOCK_TRUSTED_PROXIES: '10.0.0.0/8, ::1' }).trustedProxies, ['10.0.0.0/8', '::1']);
  });

  describe('in the API', () => {
    let trusting: TestServer;
    let plain: TestServer;
    before(async () => {
      trusting = await startTestServer({ flags: { 'trusted-proxies': '127.0.0.1,::1' } });
      plain = await startTestServer();
    });
    after(async () => {
      await trusting.stop();
      await plain.stop();
    });

    /** The newest sign-in's recorded address (each server here sees one). */
    async function signInFrom(server: TestServer, forwardedFor: string, userName: string): Promise<string> {
      await fetch(`${server.url}/api/portal/InitiateAuth`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ Username: userName, Password: 'not-the-password-1' }),
      });
      const { Events } = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'InitiateAuth' }] });
      const newest = Events[0];
      assert.ok(newest !== undefined, `the sign-in of ${userName} is in the trail`);
      return (JSON.parse(newest.CloudTrailEvent) as { sourceIPAddress: string }).sourceIPAddress;
    }

    test("the audit trail records the balancer's caller when the balancer is trusted, the peer otherwise", async () => {
      assert.equal(await signInFrom(trusting, '203.0.113.1, 198.51.100.7', 'behind-balancer'), '198.51.100.7');
      assert.equal(await signInFrom(plain, '198.51.100.7', 'spoofing'), '127.0.0.1');
    });
  });
});
