/** Where port forwarding may not go: link-local and metadata addresses, in every spelling. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwarding } from '@airlock/protocol';

test('link-local and metadata addresses are forbidden, in IPv4, IPv6, mapped and bracketed forms', () => {
  for (const address of ['169.254.169.254', '169.254.0.1', 'fe80::1', 'FE80::abcd', 'febf::1', 'fd00:ec2::254', '::ffff:169.254.169.254', '[fe80::1]']) {
    assert.equal(forwarding.isForbiddenAddress(address), true, address);
  }
  for (const address of ['127.0.0.1', '10.0.0.5', '169.255.0.1', '::1', 'fd00::1', '::ffff:10.0.0.1', 'fec0::1']) {
    assert.equal(forwarding.isForbiddenAddress(address), false, address);
  }
});

test('metadata service names are forbidden hosts; ordinary names are not', () => {
  for (const host of ['metadata.google.internal', 'METADATA.google.internal.', 'instance-data', '169.254.169.254']) assert.equal(forwarding.isForbiddenForwardHost(host), true, host);
  for (const host of ['localhost', 'db.internal', 'metadata.example.com']) assert.equal(forwarding.isForbiddenForwardHost(host), false, host);
});
