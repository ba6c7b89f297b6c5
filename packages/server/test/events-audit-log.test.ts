/**
 * The audit trail copied into a log group (--audit-log-group), on both backends: each record
 * from the start on is one event in the management account's group, stream
 * {account}_CloudTrail_{region}, once, across a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { logs, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, startTestServer, type TestServer } from '@airlock/testkit';

const GROUP = 'aws-cloudtrail-logs-airlock';

for (const backend of BACKENDS) {
  describe(`the audit trail in a log group on ${backend}`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer({ backend, flags: { 'audit-log-group': GROUP } });
    });
    after(async () => {
      await server.stop();
    });

    async function copied(): Promise<{ eventName: string; eventID: string }[]> {
      await server.server.auditLogGroup?.flush();
      const { services } = server.server;
      const { events } = await server.root.call(logs.GetLogEvents, { logGroupName: GROUP, logStreamName: `${services.accountId}_CloudTrail_${services.config.region}`, startFromHead: true });
      return events.map((event) => JSON.parse(event.message) as { eventName: string; eventID: string });
    }

    test('every new record is one event, in the order of the trail, and a restart copies on without repeating', async () => {
      await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'Auditors' });
      await server.root.call(ssoAdmin.ListPermissionSets, {});
      const first = await copied();
      assert.deepEqual(first.map((record) => record.eventName), ['CreatePermissionSet', 'ListPermissionSets']);

      server = await server.restart({ flags: { 'audit-log-group': GROUP } });
      await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'Operators' });
      const all = await copied();
      // The first GetLogEvents was itself recorded (and copied) before the restart.
      assert.deepEqual(all.map((record) => record.eventName), ['CreatePermissionSet', 'ListPermissionSets', 'GetLogEvents', 'CreatePermissionSet']);
      assert.equal(new Set(all.map((record) => record.eventID)).size, all.length, 'no record twice');
    });
  });
}
