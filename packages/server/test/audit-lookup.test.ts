/**
 * cloudtrail:LookupEvents over the audit trail, as AWS answers it: newest first, one attribute
 * (EventName, Username, ResourceName, ReadOnly …), an inclusive time range, pages by NextToken.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AirlockApiError, type AirlockClient } from '@airlock/client';
import { cloudtrail, identitystore, portal, type InputOf, type OutputOf } from '@airlock/protocol';
import { BACKENDS, createPerson, signIn, startTestServer, type TestServer } from '@airlock/testkit';

type Event = OutputOf<typeof cloudtrail.LookupEvents>['Events'][number];
type LookupInput = InputOf<typeof cloudtrail.LookupEvents>;

interface Record {
  eventID: string;
  eventName: string;
  userIdentity: { type: string; userName?: string; accessKeyId?: string };
  responseElements: unknown;
}

const recordOf = (event: Event): Record => JSON.parse(event.CloudTrailEvent) as Record;

for (const backend of BACKENDS) {
  describe(`cloudtrail:LookupEvents on ${backend}`, () => {
    let server: TestServer;
    let person: AirlockClient;
    let userIds: string[];
    /** Epoch seconds: before the first CreateUser of the batch, and before the next batch. */
    let batchStart: number;
    let batchEnd: number;

    /** Every page of a lookup, following NextToken. */
    async function allPages(input: Omit<LookupInput, 'NextToken'>): Promise<{ events: Event[]; pages: number }> {
      const events: Event[] = [];
      let pages = 0;
      let token: string | undefined;
      do {
        const page = await server.root.call(cloudtrail.LookupEvents, { ...input, ...(token === undefined ? {} : { NextToken: token }) });
        events.push(...page.Events);
        token = page.NextToken;
        pages++;
      } while (token !== undefined);
      return { events, pages };
    }

    before(async () => {
      server = await startTestServer({ backend });
      await createPerson(server, 'lookup-person');
      person = await signIn(server, 'lookup-person');
      server.clock.advance(3_600_000);
      batchStart = server.clock.now() / 1000;
      userIds = [];
      for (let i = 0; i < 5; i++) {
        userIds.push((await server.root.call(identitystore.CreateUser, { UserName: `lookup-${i}` })).UserId);
        server.clock.advance(1_000);
      }
      server.clock.advance(3_600_000);
      batchEnd = server.clock.now() / 1000;
      await person.call(portal.GetSession, {});
      await person.call(portal.GetSession, {});
      await server.root.call(identitystore.DescribeUser, { UserId: userIds[2] ?? '' });
    });
    after(async () => {
      await server.stop();
    });

    test('filters by EventName, newest first, with the record as CloudTrailEvent', async () => {
      const { Events, NextToken } = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }] });
      assert.equal(NextToken, undefined);
      // createPerson made one more CreateUser before the batch.
      assert.deepEqual(
        Events.map((event) => event.EventName),
        Array<string>(6).fill('CreateUser'),
      );
      const times = Events.map((event) => event.EventTime);
      assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
      const newest = Events[0];
      assert.ok(newest !== undefined);
      assert.equal(newest.EventSource, 'identitystore.amazonaws.com');
      assert.equal(newest.ReadOnly, 'false');
      assert.equal(newest.Username, 'root');
      assert.equal(recordOf(newest).eventID, newest.EventId);
      assert.equal(recordOf(newest).eventName, 'CreateUser');
      // The user it made: its name from the request, its id from the response.
      assert.deepEqual(
        new Set(newest.Resources?.map((resource) => `${resource.ResourceType ?? ''} ${resource.ResourceName ?? ''}`)),
        new Set([`AWS::IdentityStore::User ${userIds[4] ?? ''}`, 'AWS::IdentityStore::User lookup-4']),
      );
    });

    test('filters by Username: a portal user, with the session as AccessKeyId; root', async () => {
      const { Events } = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'lookup-person' }] });
      assert.deepEqual(
        Events.map((event) => event.EventName),
        ['GetSession', 'GetSession'],
      );
      const key = Events[0]?.AccessKeyId;
      assert.ok(key !== undefined);
      assert.equal(recordOf(Events[0] as Event).userIdentity.accessKeyId, key);
      const byKey = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: key }] });
      assert.deepEqual(
        byKey.Events.map((event) => event.EventId),
        Events.map((event) => event.EventId),
      );
      const root = await allPages({ LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: 'root' }] });
      assert.ok(root.events.length >= 7);
      assert.ok(root.events.every((event) => event.Username === 'root' && recordOf(event).userIdentity.type === 'Root'));
    });

    test('filters by ResourceName, ReadOnly, EventSource and EventId', async () => {
      const user = userIds[2] ?? '';
      const byResource = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: user }] });
      assert.deepEqual(
        byResource.Events.map((event) => event.EventName),
        ['DescribeUser', 'CreateUser'],
      );
      const byType = await allPages({ LookupAttributes: [{ AttributeKey: 'ResourceType', AttributeValue: 'AWS::IdentityStore::User' }] });
      assert.ok(byType.events.length >= 7);
      const readOnly = await allPages({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'true' }] });
      assert.ok(readOnly.events.length > 0 && readOnly.events.every((event) => event.ReadOnly === 'true'));
      assert.ok(readOnly.events.some((event) => event.EventName === 'GetSession'));
      const portalEvents = await allPages({ LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 'portal.amazonaws.com' }] });
      assert.ok(portalEvents.events.every((event) => event.EventSource === 'portal.amazonaws.com'));
      assert.ok(portalEvents.events.some((event) => event.EventName === 'InitiateAuth'));
      const one = byResource.Events[1];
      assert.ok(one !== undefined);
      const byId = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: one.EventId }] });
      assert.deepEqual(byId.Events, [one]);
    });

    test('pages with NextToken: the same events as one page, none twice', async () => {
      const whole = await server.root.call(cloudtrail.LookupEvents, { StartTime: 0 });
      const paged = await allPages({ StartTime: 0, MaxResults: 3 });
      assert.ok(paged.pages >= 3);
      // LookupEvents records itself: compare what both saw, the events before the first look.
      const seen = new Set(whole.Events.map((event) => event.EventId));
      const pagedIds = paged.events.map((event) => event.EventId).filter((id) => seen.has(id));
      assert.deepEqual(pagedIds, whole.Events.map((event) => event.EventId));
      assert.equal(new Set(paged.events.map((event) => event.EventId)).size, paged.events.length);
      const times = paged.events.map((event) => event.EventTime);
      assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first across pages');
      const two = await server.root.call(cloudtrail.LookupEvents, { MaxResults: 2 });
      assert.equal(two.Events.length, 2);
      assert.ok(two.NextToken !== undefined);
    });

    test('StartTime and EndTime bound the events by time, both inclusive', async () => {
      const batch = await server.root.call(cloudtrail.LookupEvents, { StartTime: batchStart, EndTime: batchEnd - 1 });
      assert.deepEqual(
        batch.Events.map((event) => recordOf(event).eventName),
        Array<string>(5).fill('CreateUser'),
      );
      const exact = await server.root.call(cloudtrail.LookupEvents, { StartTime: batchStart + 1, EndTime: batchStart + 3 });
      assert.deepEqual(
        exact.Events.map((event) => event.EventTime),
        [batchStart + 3, batchStart + 2, batchStart + 1],
      );
      const later = await server.root.call(cloudtrail.LookupEvents, { StartTime: batchEnd, LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }] });
      assert.deepEqual(later.Events, []);
      const before = await server.root.call(cloudtrail.LookupEvents, { EndTime: batchStart - 1, LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }] });
      assert.equal(before.Events.length, 1);
    });

    test('LookupEvents is audited itself, without the events it answered', async () => {
      const { Events } = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'LookupEvents' }], MaxResults: 1 });
      const record = recordOf(Events[0] as Event);
      assert.equal(record.eventName, 'LookupEvents');
      assert.equal(record.responseElements, null);
      assert.equal(Events[0]?.ReadOnly, 'true');
    });

    test('refuses what AWS refuses: two attributes, MaxResults over 50, a bad token, reversed times, no credentials', async () => {
      const refused = async (input: unknown, code: string, message: RegExp, client = server.root): Promise<void> => {
        await assert.rejects(client.callByName('cloudtrail', 'LookupEvents', input), (error: unknown) => {
          assert.ok(error instanceof AirlockApiError, String(error));
          assert.equal(error.code, code);
          assert.match(error.message, message);
          return true;
        });
      };
      await refused(
        {
          LookupAttributes: [
            { AttributeKey: 'EventName', AttributeValue: 'CreateUser' },
            { AttributeKey: 'Username', AttributeValue: 'root' },
          ],
        },
        'ValidationException',
        /LookupAttributes must have at most 1 item\./,
      );
      await refused({ LookupAttributes: [{ AttributeKey: 'UserName', AttributeValue: 'root' }] }, 'ValidationException', /AttributeKey must be one of/);
      await refused({ MaxResults: 51 }, 'ValidationException', /MaxResults must be at most 50/);
      await refused({ NextToken: 'not-a-token' }, 'InvalidNextTokenException', /NextToken/);
      await refused({ StartTime: batchEnd, EndTime: batchStart }, 'InvalidTimeRangeException', /StartTime must be at or before EndTime/);
      await refused({ LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'maybe' }] }, 'InvalidLookupAttributesException', /true or false/);
      await refused({}, 'UnauthorizedException', /needs credentials/, server.client());
      await refused({}, 'AccessDeniedException', /role session/, person);
    });
  });
}
