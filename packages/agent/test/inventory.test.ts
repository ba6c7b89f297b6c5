import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_VERSION, collectInventory, parseOsRelease, type SystemInfo } from '@airlock/agent';
import { control } from '@airlock/protocol';
import { temporaryDirectory } from './helpers.js';

const FIELDS = ['platformName', 'platformVersion', 'kernel', 'hostname', 'ipAddresses', 'cpus', 'memoryBytes', 'agentVersion'];

test('the inventory of this host has every field, and the protocol accepts it in a hello', async () => {
  const inventory = await collectInventory({ agentVersion: AGENT_VERSION });
  assert.deepEqual(Object.keys(inventory).sort(), [...FIELDS].sort());
  assert.ok(inventory.platformName.length > 0);
  assert.ok(inventory.platformVersion.length > 0);
  assert.ok(inventory.kernel.length > 0);
  assert.ok(inventory.hostname.length > 0);
  assert.ok(inventory.cpus >= 1);
  assert.ok(inventory.memoryBytes > 0);
  assert.equal(inventory.agentVersion, AGENT_VERSION);
  for (const address of inventory.ipAddresses) assert.ok(!address.startsWith('127.') && address !== '::1', `${address} is internal`);
  const hello = { type: 'hello', instanceId: 'mi-0123456789abcdef0', signature: 'c2ln', protocolVersion: 1, agentVersion: AGENT_VERSION, capabilities: ['shell', 'port'], inventory };
  assert.deepEqual(control.parseAgentMessage(JSON.stringify(hello))?.type, 'hello');
});

const fakeHost = (overrides: Partial<SystemInfo> = {}): SystemInfo => ({
  hostname: () => 'web-1.example.internal',
  release: () => '6.1.0-18-amd64',
  type: () => 'Linux',
  version: () => '#1 SMP Debian 6.1.76-1',
  cpus: () => [{}, {}, {}, {}],
  totalmem: () => 8 * 1024 ** 3,
  networkInterfaces: () => ({
    lo: [
      { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
      { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 },
    ],
    eth0: [
      { address: '10.0.1.17', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '10.0.1.17/24' },
      { address: 'fd00::17', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fd00::17/64', scopeid: 0 },
    ],
    eth1: [{ address: '10.0.1.17', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:02', internal: false, cidr: '10.0.1.17/24' }],
  }),
  ...overrides,
});

test('platform from os-release, kernel from os.release, non-internal IPv4 and IPv6 once each', async () => {
  const dir = await temporaryDirectory();
  try {
    const path = join(dir.path, 'os-release');
    await writeFile(path, '# Amazon Linux\nNAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nVERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023.4.20240401"\n');
    const inventory = await collectInventory({ agentVersion: '9.9.9', osReleasePaths: [join(dir.path, 'missing'), path], system: fakeHost() });
    assert.deepEqual(inventory, {
      platformName: 'Amazon Linux',
      platformVersion: '2023',
      kernel: '6.1.0-18-amd64',
      hostname: 'web-1.example.internal',
      ipAddresses: ['10.0.1.17', 'fd00::17'],
      cpus: 4,
      memoryBytes: 8 * 1024 ** 3,
      agentVersion: '9.9.9',
    });
  } finally {
    await dir.remove();
  }
});

test('without os-release, node:os names the platform; no field is ever empty', async () => {
  const inventory = await collectInventory({
    agentVersion: '1.0.0',
    osReleasePaths: ['/nonexistent/os-release'],
    system: fakeHost({ hostname: () => '', networkInterfaces: () => { throw new Error('no interfaces'); } }),
  });
  assert.equal(inventory.platformName, 'Linux');
  assert.equal(inventory.platformVersion, '#1 SMP Debian 6.1.76-1');
  assert.equal(inventory.hostname, 'unknown');
  assert.deepEqual(inventory.ipAddresses, []);
});

test('os-release values: quotes, escapes, comments, VERSION when VERSION_ID is absent', () => {
  const values = parseOsRelease('NAME="Debian GNU/Linux"\nVERSION="12 (bookworm)"\n# comment\nID=debian\nX="a \\"quoted\\" \\$word"\nY=\'single\'\nbroken line\n');
  assert.equal(values.get('NAME'), 'Debian GNU/Linux');
  assert.equal(values.get('VERSION'), '12 (bookworm)');
  assert.equal(values.get('ID'), 'debian');
  assert.equal(values.get('X'), 'a "quoted" $word');
  assert.equal(values.get('Y'), 'single');
  assert.equal(values.size, 5);
});
