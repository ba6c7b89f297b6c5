/**
 * Several real server processes on one PostgreSQL database (docs/deployment.md): started at once
 * on a fresh database they all come up, run each migration once, agree on the first start's ids
 * and leave one working root token; sign-in lockouts hold across nodes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AirlockClient } from '@airlock/client';
import { identitystore, portal } from '@airlock/protocol';
import { USER_LOCKOUT } from '@airlock/server/identity/throttle';
import { listOutbox } from '@airlock/server/mail/outbox';
import { migrationProvider } from '@airlock/server/storage/migrations';
import { refused, startCluster, type Cluster } from '@airlock/testkit';
import pg from 'pg';

const TIMEOUT = { timeout: 240_000 };
const PASSWORD = 'a long cluster test passphrase';

async function query<T extends pg.QueryResultRow>(databaseUrl: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

async function refusedWith(promise: Promise<unknown>): Promise<string> {
  return (await refused(promise, 'NotAuthorizedException')).message;
}

describe('several server processes on one PostgreSQL database', () => {
  const clusters: Cluster[] = [];
  after(async () => {
    for (const cluster of clusters) await cluster.stop();
  });

  test('three nodes started at once on a fresh database: all start, each migration runs once, one root token works on each (three rounds)', TIMEOUT, async () => {
    const expected = Object.keys(await migrationProvider.getMigrations()).sort();
    for (let round = 0; round < 3; round++) {
      const cluster = await startCluster({ nodes: 3 });
      clusters.push(cluster);
      const migrations = await query<{ name: string }>(cluster.databaseUrl, 'select name from kysely_migration order by name');
      assert.deepEqual(
        migrations.map((row) => row.name),
        expected,
        `round ${String(round)}: every migration recorded (a second run of one would have failed its node's start)`,
      );
      const token = await cluster.rootToken();
      for (const node of cluster.nodes) {
        const root = new AirlockClient({ endpointUrl: node.url, token });
        const { Users } = await root.call(identitystore.ListUsers, {});
        assert.ok(Array.isArray(Users), node.output());
      }
      await cluster.stop();
    }
  });

  test('wrong passwords split between two nodes lock the user after the same count as on one node', TIMEOUT, async () => {
    const cluster = await startCluster({ nodes: 2 });
    clusters.push(cluster);
    const [a, b] = cluster.nodes;
    assert.ok(a !== undefined && b !== undefined);
    const root = new AirlockClient({ endpointUrl: a.url, token: await cluster.rootToken() });
    await root.call(identitystore.CreateUser, { UserName: 'split01', Emails: [{ Value: 'split01@example.com', Primary: true }] });
    // The invitation went out from node A's outbox; it is accepted on node B.
    const link = (await listOutbox(join(a.dataDir, 'outbox'))).find((entry) => entry.to.includes('split01@example.com'))?.firstLink;
    const invitation = new URL(link ?? 'http://missing/').searchParams.get('token') ?? '';
    await new AirlockClient({ endpointUrl: b.url }).call(portal.AcceptInvitation, { InvitationToken: invitation, Password: PASSWORD });

    const nodes = [new AirlockClient({ endpointUrl: a.url }), new AirlockClient({ endpointUrl: b.url })];
    for (let i = 0; i < USER_LOCKOUT.maxFailures; i++) {
      const message = await refusedWith((nodes[i % 2] as AirlockClient).call(portal.InitiateAuth, { Username: 'split01', Password: `wrong ${String(i)}` }));
      assert.equal(message, 'Incorrect username or password.', `attempt ${String(i + 1)}`);
    }
    for (const [index, node] of nodes.entries()) {
      const message = await refusedWith(node.call(portal.InitiateAuth, { Username: 'split01', Password: PASSWORD }));
      assert.match(message, /try again in \d+ seconds/, `node ${String(index)} refuses the right password while locked`);
    }
  });
});
