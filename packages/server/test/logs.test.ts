/**
 * The log store on both backends: log groups (tags, retention, prefixes, pages), streams (by name
 * and by last event time), PutLogEvents with AWS's limits and rejected events, GetLogEvents'
 * forward and backward tokens (the same token back at the end), FilterLogEvents' patterns across
 * streams, the retention purge on a moved clock, and the server's own way in (ensureLogGroup,
 * appendEvents).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { logs } from '@airlock/protocol';
import { appendEvents, ensureLogGroup } from '@airlock/server/logs/store';
import { BACKENDS, startTestServer, type TestServer } from '@airlock/testkit';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** What assert.rejects checks of an AirlockApiError. */
const refusal = (code: string, message?: RegExp) => ({ name: 'AirlockApiError', code, ...(message === undefined ? {} : { message }) });

for (const backend of BACKENDS) {
  describe(`the log store on ${backend}`, () => {
    let server: TestServer;
    let account: string;
    let region: string;

    before(async () => {
      server = await startTestServer({ backend });
      account = server.server.services.accountId;
      region = server.server.services.config.region;
    });
    after(async () => {
      await server.stop();
    });

    /** A group with one stream and these messages, one a second from `start`. */
    async function stream(group: string, name: string, messages: readonly string[], start = server.clock.now() - messages.length * 1000): Promise<number[]> {
      await server.root.call(logs.CreateLogGroup, { logGroupName: group }).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'ResourceAlreadyExistsException') throw error;
      });
      await server.root.call(logs.CreateLogStream, { logGroupName: group, logStreamName: name });
      const times = messages.map((_, index) => start + index * 1000);
      if (messages.length > 0) await server.root.call(logs.PutLogEvents, { logGroupName: group, logStreamName: name, logEvents: messages.map((message, index) => ({ timestamp: times[index] ?? 0, message })) });
      return times;
    }

    test('log groups: made once, named as AWS names them, tagged, listed by prefix in character order, a page at a time', async () => {
      const made = server.clock.now();
      for (const name of ['/app/web', '/app/api', '/app/Batch', 'Other.group#1', '/app/db']) await server.root.call(logs.CreateLogGroup, { logGroupName: name, tags: { team: 'ops' } });
      await assert.rejects(server.root.call(logs.CreateLogGroup, { logGroupName: '/app/web' }), refusal('ResourceAlreadyExistsException', /already exists/));
      await assert.rejects(server.root.call(logs.CreateLogGroup, { logGroupName: 'has space' }), refusal('ValidationException', /logGroupName/));
      await assert.rejects(server.root.call(logs.CreateLogGroup, { logGroupName: 'x'.repeat(513) }), refusal('ValidationException', /logGroupName/));
      await assert.rejects(server.root.call(logs.CreateLogGroup, { logGroupName: 'tagged', tags: { 'aws:owner': 'me' } }), refusal('InvalidParameterException', /reserved/));

      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await server.root.call(logs.DescribeLogGroups, { logGroupNamePrefix: '/app/', limit: 2, ...(nextToken === undefined ? {} : { nextToken }) });
        assert.ok(page.logGroups.length <= 2);
        seen.push(...page.logGroups.map((group) => group.logGroupName));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      // Character codes: upper case before lower case.
      assert.deepEqual(seen, ['/app/Batch', '/app/api', '/app/db', '/app/web']);

      const { logGroups } = await server.root.call(logs.DescribeLogGroups, { logGroupNamePrefix: '/app/web' });
      assert.deepEqual(logGroups, [
        {
          logGroupName: '/app/web',
          creationTime: made,
          metricFilterCount: 0,
          arn: `arn:aws:logs:${region}:${account}:log-group:/app/web:*`,
          storedBytes: 0,
          logGroupClass: 'STANDARD',
          logGroupArn: `arn:aws:logs:${region}:${account}:log-group:/app/web`,
        },
      ]);
      assert.equal((await server.root.call(logs.DescribeLogGroups, { logGroupNamePrefix: '/nothing' })).logGroups.length, 0);
      await assert.rejects(server.root.call(logs.DescribeLogGroups, { nextToken: 'garbage' }), refusal('InvalidParameterException', /nextToken/));
    });

    test('retention: AWS’s values only; shown, removed; unknown groups are ResourceNotFoundException; deleting a group deletes it', async () => {
      await server.root.call(logs.CreateLogGroup, { logGroupName: 'retained' });
      await server.root.call(logs.PutRetentionPolicy, { logGroupName: 'retained', retentionInDays: 30 });
      const described = async () => (await server.root.call(logs.DescribeLogGroups, { logGroupNamePrefix: 'retained' })).logGroups[0];
      assert.equal((await described())?.retentionInDays, 30);
      await assert.rejects(server.root.call(logs.PutRetentionPolicy, { logGroupName: 'retained', retentionInDays: 2 }), refusal('InvalidParameterException', /retentionInDays must be one of 1, 3, 5/));
      await server.root.call(logs.DeleteRetentionPolicy, { logGroupName: 'retained' });
      assert.equal((await described())?.retentionInDays, undefined);
      await assert.rejects(server.root.call(logs.PutRetentionPolicy, { logGroupName: 'missing', retentionInDays: 7 }), refusal('ResourceNotFoundException', /log group does not exist/));
      await assert.rejects(server.root.call(logs.DeleteRetentionPolicy, { logGroupName: 'missing' }), refusal('ResourceNotFoundException'));
      await stream('retained', 'one', ['a', 'b']);
      await server.root.call(logs.DeleteLogGroup, { logGroupName: 'retained' });
      assert.equal(await described(), undefined);
      await assert.rejects(server.root.call(logs.DeleteLogGroup, { logGroupName: 'retained' }), refusal('ResourceNotFoundException', /log group does not exist/));
      await assert.rejects(server.root.call(logs.GetLogEvents, { logGroupName: 'retained', logStreamName: 'one' }), refusal('ResourceNotFoundException'));
    });

    test('log streams: made once, in an existing group, listed by name or by last event time, both ways, a page at a time', async () => {
      await server.root.call(logs.CreateLogGroup, { logGroupName: 'streams' });
      await assert.rejects(server.root.call(logs.CreateLogStream, { logGroupName: 'no-such-group', logStreamName: 's' }), refusal('ResourceNotFoundException', /log group/));
      const now = server.clock.now();
      // Last events: c oldest, then a, then b; d has none.
      const lastEvents: Record<string, number> = { 'i-c': now - 30_000, 'i-a': now - 20_000, 'i-b': now - 10_000 };
      for (const name of ['i-a', 'i-b', 'i-c', 'i-d', 'other']) await server.root.call(logs.CreateLogStream, { logGroupName: 'streams', logStreamName: name });
      await assert.rejects(server.root.call(logs.CreateLogStream, { logGroupName: 'streams', logStreamName: 'i-a' }), refusal('ResourceAlreadyExistsException', /log stream already exists/));
      await assert.rejects(server.root.call(logs.CreateLogStream, { logGroupName: 'streams', logStreamName: 'a:b' }), refusal('ValidationException', /logStreamName/));
      for (const [name, time] of Object.entries(lastEvents)) {
        await server.root.call(logs.PutLogEvents, { logGroupName: 'streams', logStreamName: name, logEvents: [{ timestamp: time - 5000, message: 'first' }, { timestamp: time, message: 'last €' }] });
      }

      type Listing = { logStreamNamePrefix?: string; orderBy?: 'LogStreamName' | 'LastEventTime'; descending?: boolean };
      async function describeAll(input: Listing) {
        const all = [];
        let nextToken: string | undefined;
        do {
          const page = await server.root.call(logs.DescribeLogStreams, { logGroupName: 'streams', limit: 2, ...input, ...(nextToken === undefined ? {} : { nextToken }) });
          all.push(...page.logStreams);
          nextToken = page.nextToken;
        } while (nextToken !== undefined);
        return all;
      }
      const names = async (input: Listing) => (await describeAll(input)).map((item) => item.logStreamName);
      assert.deepEqual(await names({}), ['i-a', 'i-b', 'i-c', 'i-d', 'other']);
      assert.deepEqual(await names({ logStreamNamePrefix: 'i-' }), ['i-a', 'i-b', 'i-c', 'i-d']);
      assert.deepEqual(await names({ logStreamNamePrefix: 'i-', descending: true }), ['i-d', 'i-c', 'i-b', 'i-a']);
      assert.deepEqual(await names({ orderBy: 'LastEventTime', descending: true }), ['i-b', 'i-a', 'i-c', 'other', 'i-d']);
      assert.deepEqual(await names({ orderBy: 'LastEventTime' }), ['i-d', 'other', 'i-c', 'i-a', 'i-b']);
      await assert.rejects(
        server.root.call(logs.DescribeLogStreams, { logGroupName: 'streams', orderBy: 'LastEventTime', logStreamNamePrefix: 'i-' }),
        refusal('InvalidParameterException', /LastEventTime/),
      );
      await assert.rejects(server.root.call(logs.DescribeLogStreams, {}), refusal('InvalidParameterException', /logGroupName or logGroupIdentifier/));

      const [a, d] = await describeAll({ logStreamNamePrefix: 'i-' }).then((all) => [all[0], all[3]]);
      assert.deepEqual(a, {
        logStreamName: 'i-a',
        creationTime: now,
        firstEventTimestamp: now - 25_000,
        lastEventTimestamp: now - 20_000,
        lastIngestionTime: now,
        arn: `arn:aws:logs:${region}:${account}:log-group:streams:log-stream:i-a`,
        storedBytes: 'first'.length + Buffer.byteLength('last €'),
      });
      assert.deepEqual(d, { logStreamName: 'i-d', creationTime: now, arn: `arn:aws:logs:${region}:${account}:log-group:streams:log-stream:i-d`, storedBytes: 0 });
      const group = (await server.root.call(logs.DescribeLogGroups, { logGroupNamePrefix: 'streams' })).logGroups[0];
      assert.equal(group?.storedBytes, 3 * ('first'.length + Buffer.byteLength('last €')));

      // By ARN as well as by name.
      const byArn = await server.root.call(logs.DescribeLogStreams, { logGroupIdentifier: `arn:aws:logs:${region}:${account}:log-group:streams`, logStreamNamePrefix: 'other' });
      assert.deepEqual(byArn.logStreams.map((item) => item.logStreamName), ['other']);
      await assert.rejects(server.root.call(logs.DescribeLogStreams, { logGroupIdentifier: `arn:aws:logs:${region}:123456789012:log-group:streams` }), refusal('ResourceNotFoundException'));

      await server.root.call(logs.DeleteLogStream, { logGroupName: 'streams', logStreamName: 'other' });
      await assert.rejects(server.root.call(logs.DeleteLogStream, { logGroupName: 'streams', logStreamName: 'other' }), refusal('ResourceNotFoundException', /log stream does not exist/));
      assert.deepEqual(await names({}), ['i-a', 'i-b', 'i-c', 'i-d']);
    });

    test('PutLogEvents: AWS’s rules for a batch, rejected events by index, the sequence token ignored', async () => {
      await server.root.call(logs.CreateLogGroup, { logGroupName: 'put' });
      await server.root.call(logs.CreateLogStream, { logGroupName: 'put', logStreamName: 's' });
      const now = server.clock.now();
      const put = (logEvents: { timestamp: number; message: string }[], extra: { sequenceToken?: string } = {}) =>
        server.root.call(logs.PutLogEvents, { logGroupName: 'put', logStreamName: 's', logEvents, ...extra });

      await assert.rejects(server.root.call(logs.PutLogEvents, { logGroupName: 'put', logStreamName: 'none', logEvents: [{ timestamp: now, message: 'x' }] }), refusal('ResourceNotFoundException', /log stream/));
      await assert.rejects(server.root.call(logs.PutLogEvents, { logGroupName: 'nope', logStreamName: 's', logEvents: [{ timestamp: now, message: 'x' }] }), refusal('ResourceNotFoundException', /log group/));
      await assert.rejects(put([{ timestamp: now, message: 'b' }, { timestamp: now - 1, message: 'a' }]), refusal('InvalidParameterException', /chronological/));
      await assert.rejects(put([{ timestamp: now - 2 * DAY, message: 'a' }, { timestamp: now, message: 'b' }]), refusal('InvalidParameterException', /24 hours/));
      await assert.rejects(put([]), refusal('ValidationException', /logEvents/));
      await assert.rejects(put(Array.from({ length: 10_001 }, () => ({ timestamp: now, message: 'x' }))), refusal('ValidationException', /at most 10000/));
      await assert.rejects(put([{ timestamp: now, message: '' }]), refusal('ValidationException', /message/));

      const first = await put([{ timestamp: now, message: 'one' }], { sequenceToken: 'anything at all' });
      assert.equal(first.rejectedLogEventsInfo, undefined);
      assert.match(first.nextSequenceToken ?? '', /^\d{56}$/);
      await put([{ timestamp: now, message: 'two' }], { sequenceToken: 'anything at all' });

      await server.root.call(logs.PutRetentionPolicy, { logGroupName: 'put', retentionInDays: 1 });
      const mixed = await put([
        { timestamp: now - 15 * DAY, message: 'too old' },
        { timestamp: now - 2 * DAY, message: 'expired' },
        { timestamp: now + HOUR, message: 'kept' },
        { timestamp: now + 3 * HOUR, message: 'too new' },
      ]);
      assert.deepEqual(mixed.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 1, expiredLogEventEndIndex: 2, tooNewLogEventStartIndex: 3 });
      const { events } = await server.root.call(logs.GetLogEvents, { logGroupName: 'put', logStreamName: 's', startFromHead: true });
      assert.deepEqual(events.map((event) => event.message), ['one', 'two', 'kept']);
      assert.deepEqual(events.map((event) => event.ingestionTime), [now, now, now]);
      // What was recorded stays out of the audit trail.
      const audited = await server.server.services.db.selectFrom('audit_events').select('record').where('event_name', 'in', ['PutLogEvents', 'GetLogEvents']).execute();
      const withEvents = audited.filter(({ record }) => record.includes('"message":'));
      assert.ok(withEvents.length >= 3);
      for (const { record } of withEvents) assert.ok(!/"message":"(?!HIDDEN_DUE_TO_SECURITY_REASONS")/.test(record), record);
      const allRejected = await put([{ timestamp: now + 3 * HOUR, message: 'too new' }]);
      assert.deepEqual(allRejected.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 0 });
      await server.root.call(logs.DeleteLogGroup, { logGroupName: 'put' });
    });

    test('GetLogEvents: pages forward from the head and backward from the end, the same token back at the end, a time range, new events after the last token', async () => {
      const messages = Array.from({ length: 25 }, (_, index) => `event ${index}`);
      const times = await stream('get', 'session-1', messages);
      const read = (input: { nextToken?: string; startFromHead?: boolean; limit?: number; startTime?: number; endTime?: number }) =>
        server.root.call(logs.GetLogEvents, { logGroupName: 'get', logStreamName: 'session-1', ...input });
      const texts = (page: { events: { message: string }[] }) => page.events.map((event) => event.message);

      const head = await read({ startFromHead: true, limit: 10 });
      assert.deepEqual(texts(head), messages.slice(0, 10));
      assert.match(head.nextForwardToken, /^f\/\d{56}$/);
      assert.match(head.nextBackwardToken, /^b\/\d{56}$/);
      const second = await read({ nextToken: head.nextForwardToken, limit: 10 });
      assert.deepEqual(texts(second), messages.slice(10, 20));
      const third = await read({ nextToken: second.nextForwardToken, limit: 10 });
      assert.deepEqual(texts(third), messages.slice(20));
      const end = await read({ nextToken: third.nextForwardToken, limit: 10 });
      assert.deepEqual(end.events, []);
      assert.equal(end.nextForwardToken, third.nextForwardToken);
      // Back from the third page: the ten before it.
      assert.deepEqual(texts(await read({ nextToken: third.nextBackwardToken, limit: 10 })), messages.slice(10, 20));

      const latest = await read({ limit: 10 });
      assert.deepEqual(texts(latest), messages.slice(15));
      const earlier = await read({ nextToken: latest.nextBackwardToken, limit: 10 });
      assert.deepEqual(texts(earlier), messages.slice(5, 15));
      const earliest = await read({ nextToken: earlier.nextBackwardToken, limit: 10 });
      assert.deepEqual(texts(earliest), messages.slice(0, 5));
      const before = await read({ nextToken: earliest.nextBackwardToken, limit: 10 });
      assert.deepEqual(before.events, []);
      assert.equal(before.nextBackwardToken, earliest.nextBackwardToken);
      assert.deepEqual(texts(await read({ nextToken: latest.nextForwardToken })), []);

      // startTime inclusive, endTime exclusive.
      assert.deepEqual(texts(await read({ startFromHead: true, startTime: times[3] ?? 0, endTime: times[6] ?? 0 })), messages.slice(3, 6));
      assert.deepEqual((await read({ startFromHead: true })).events.map((event) => event.timestamp), times);

      // Following the stream: the last forward token picks up what comes next.
      const tail = latest.nextForwardToken;
      await server.root.call(logs.PutLogEvents, { logGroupName: 'get', logStreamName: 'session-1', logEvents: [{ timestamp: server.clock.now(), message: 'later' }] });
      const followed = await read({ nextToken: tail });
      assert.deepEqual(texts(followed), ['later']);
      assert.notEqual(followed.nextForwardToken, tail);

      // Tokens belong to their stream.
      await stream('get', 'session-2', ['x']);
      await assert.rejects(server.root.call(logs.GetLogEvents, { logGroupName: 'get', logStreamName: 'session-2', nextToken: tail }), refusal('InvalidParameterException', /nextToken/));
      await assert.rejects(read({ nextToken: 'f/123' }), refusal('InvalidParameterException', /nextToken/));
      await assert.rejects(server.root.call(logs.GetLogEvents, { logGroupName: 'get', logStreamName: 'session-9' }), refusal('ResourceNotFoundException', /log stream/));

      // An empty stream: both tokens at its start; the forward one later finds the events.
      await server.root.call(logs.CreateLogStream, { logGroupName: 'get', logStreamName: 'empty' });
      const nothing = await server.root.call(logs.GetLogEvents, { logGroupName: 'get', logStreamName: 'empty' });
      assert.deepEqual(nothing.events, []);
      await server.root.call(logs.PutLogEvents, { logGroupName: 'get', logStreamName: 'empty', logEvents: [{ timestamp: server.clock.now(), message: 'now' }] });
      assert.deepEqual(texts(await server.root.call(logs.GetLogEvents, { logGroupName: 'get', logStreamName: 'empty', nextToken: nothing.nextForwardToken })), ['now']);
    });

    test('FilterLogEvents: terms, "phrases", -exclusions and ?alternatives across streams in time order, by stream names or prefix, in pages', async () => {
      const start = server.clock.now() - 60_000;
      await server.root.call(logs.CreateLogGroup, { logGroupName: 'filter' });
      const web = ['GET /index 200', 'ERROR Failed to connect to db', 'WARN slow request', 'ERROR timeout talking to db'];
      const api = ['POST /login 200', 'ERROR NullPointerException in handler', 'FATAL out of memory', 'error lower case'];
      for (const [name, messages, offset] of [['web-1', web, 0], ['api-1', api, 500]] as const) {
        await server.root.call(logs.CreateLogStream, { logGroupName: 'filter', logStreamName: name });
        await server.root.call(logs.PutLogEvents, {
          logGroupName: 'filter',
          logStreamName: name,
          logEvents: messages.map((message, index) => ({ timestamp: start + index * 1000 + offset, message })),
        });
      }
      const filter = async (filterPattern: string, extra: { logStreamNames?: string[]; logStreamNamePrefix?: string; startTime?: number; endTime?: number } = {}) =>
        (await server.root.call(logs.FilterLogEvents, { logGroupName: 'filter', filterPattern, ...extra })).events.map((event) => event.message);

      // Every event, interleaved by time across the streams.
      assert.deepEqual(await filter(''), [web[0], api[0], web[1], api[1], web[2], api[2], web[3], api[3]]);
      assert.deepEqual(await filter('ERROR'), [web[1], api[1], web[3]]);
      assert.deepEqual(await filter('ERROR db'), [web[1], web[3]]);
      assert.deepEqual(await filter('"Failed to connect"'), [web[1]]);
      assert.deepEqual(await filter('ERROR -timeout'), [web[1], api[1]]);
      assert.deepEqual(await filter('?WARN ?FATAL'), [web[2], api[2]]);
      assert.deepEqual(await filter('error'), [api[3]]);
      assert.deepEqual(await filter('ERROR', { logStreamNames: ['api-1'] }), [api[1]]);
      assert.deepEqual(await filter('ERROR', { logStreamNamePrefix: 'web' }), [web[1], web[3]]);
      assert.deepEqual(await filter('', { startTime: start + 1000, endTime: start + 2000 }), [web[1], api[1], web[2]]);

      const { events, searchedLogStreams } = await server.root.call(logs.FilterLogEvents, { logGroupName: 'filter', filterPattern: 'FATAL' });
      assert.deepEqual(events, [{ logStreamName: 'api-1', timestamp: start + 2500, message: api[2], ingestionTime: server.clock.now(), eventId: events[0]?.eventId ?? '' }]);
      assert.match(events[0]?.eventId ?? '', /^\d{56}$/);
      assert.deepEqual(searchedLogStreams, [
        { logStreamName: 'api-1', searchedCompletely: true },
        { logStreamName: 'web-1', searchedCompletely: true },
      ]);

      // A page at a time: each event once, in order.
      const paged: string[] = [];
      const ids = new Set<string>();
      let nextToken: string | undefined;
      do {
        const page = await server.root.call(logs.FilterLogEvents, { logGroupName: 'filter', limit: 3, ...(nextToken === undefined ? {} : { nextToken }) });
        assert.ok(page.events.length <= 3);
        for (const event of page.events) ids.add(event.eventId);
        paged.push(...page.events.map((event) => event.message));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      assert.deepEqual(paged, await filter(''));
      assert.equal(ids.size, 8);

      await assert.rejects(
        server.root.call(logs.FilterLogEvents, { logGroupName: 'filter', logStreamNames: ['web-1'], logStreamNamePrefix: 'web' }),
        refusal('InvalidParameterException', /logStreamNames and logStreamNamePrefix/),
      );
      await assert.rejects(filter('{ $.level = "ERROR" }'), refusal('InvalidParameterException', /Invalid filter pattern/));
      await assert.rejects(filter('"unclosed'), refusal('InvalidParameterException', /not closed/));
      await assert.rejects(server.root.call(logs.FilterLogEvents, { logGroupName: 'filter', nextToken: 'nope' }), refusal('InvalidParameterException', /nextToken/));
      await assert.rejects(server.root.call(logs.FilterLogEvents, { logGroupName: 'nope' }), refusal('ResourceNotFoundException'));
    });

    test('retention: the purge on a moved clock removes what is older than the group’s days, keeps the streams and other groups’ events', async () => {
      await stream('short', 's', ['old 1', 'old 2']);
      await stream('forever', 's', ['kept']);
      await server.root.call(logs.PutRetentionPolicy, { logGroupName: 'short', retentionInDays: 1 });
      assert.equal(await server.server.logRetention.purge(), 0);
      server.clock.advance(DAY / 2);
      await server.root.call(logs.PutLogEvents, { logGroupName: 'short', logStreamName: 's', logEvents: [{ timestamp: server.clock.now(), message: 'new' }] });
      server.clock.advance(DAY / 2 + 60_000);
      assert.equal(await server.server.logRetention.purge(), 2);
      const read = async (group: string) => (await server.root.call(logs.GetLogEvents, { logGroupName: group, logStreamName: 's', startFromHead: true })).events.map((event) => event.message);
      assert.deepEqual(await read('short'), ['new']);
      assert.deepEqual(await read('forever'), ['kept']);
      const { logStreams } = await server.root.call(logs.DescribeLogStreams, { logGroupName: 'short' });
      assert.equal(logStreams[0]?.storedBytes, 'new'.length);
      const { logGroups } = await server.root.call(logs.DescribeLogGroups, { logGroupNamePrefix: 'short' });
      assert.equal(logGroups[0]?.storedBytes, 'new'.length);
      server.clock.advance(DAY);
      assert.equal(await server.server.logRetention.purge(), 1);
      assert.deepEqual(await read('short'), []);
      assert.equal((await server.root.call(logs.DescribeLogStreams, { logGroupName: 'short' })).logStreams.length, 1);
    });

    test('the server’s own way in: ensureLogGroup is idempotent, appendEvents makes the stream and keeps the API’s rules', async () => {
      const { db } = server.server.services;
      const now = server.clock.now();
      const made = await ensureLogGroup(db, { accountId: account, logGroupName: 'SessionManagerLogGroup', now });
      assert.equal(made.created, true);
      assert.equal((await ensureLogGroup(db, { accountId: account, logGroupName: 'SessionManagerLogGroup', now })).created, false);
      await assert.rejects(ensureLogGroup(db, { accountId: account, logGroupName: 'no spaces', now }), { code: 'InvalidParameterException' });

      const result = await appendEvents(db, { accountId: account, logGroupName: 'SessionManagerLogGroup', logStreamName: 'alice-0123456789abcdef0', events: [{ timestamp: now, message: 'whoami\r\n' }], now });
      assert.equal(result.stored, 1);
      await appendEvents(db, { accountId: account, logGroupName: 'SessionManagerLogGroup', logStreamName: 'alice-0123456789abcdef0', events: [{ timestamp: now + 1, message: 'alice\r\n' }], now });
      const { events } = await server.root.call(logs.GetLogEvents, { logGroupName: 'SessionManagerLogGroup', logStreamName: 'alice-0123456789abcdef0', startFromHead: true });
      assert.deepEqual(events.map((event) => event.message), ['whoami\r\n', 'alice\r\n']);

      await assert.rejects(appendEvents(db, { accountId: account, logGroupName: 'NoSuchGroup', logStreamName: 's', events: [{ timestamp: now, message: 'x' }], now }), { code: 'ResourceNotFoundException' });
      await assert.rejects(appendEvents(db, { accountId: '123456789012', logGroupName: 'SessionManagerLogGroup', logStreamName: 's', events: [{ timestamp: now, message: 'x' }], now }), {
        code: 'ResourceNotFoundException',
      });
      // A megabyte counts UTF-8 bytes plus 26 per event: 1,048,576 fits, one more byte does not.
      const exact = [{ timestamp: now, message: 'é'.repeat((1_048_576 - 2 * 26 - 2) / 2) }, { timestamp: now, message: 'ab' }];
      assert.equal((await appendEvents(db, { accountId: account, logGroupName: 'SessionManagerLogGroup', logStreamName: 'big', events: exact, now })).stored, 2);
      const over = [{ timestamp: now, message: 'é'.repeat((1_048_576 - 2 * 26 - 2) / 2) }, { timestamp: now, message: 'abc' }];
      await assert.rejects(appendEvents(db, { accountId: account, logGroupName: 'SessionManagerLogGroup', logStreamName: 'big', events: over, now }), { code: 'InvalidParameterException', message: /1048577 bytes/ });
      await assert.rejects(appendEvents(db, { accountId: account, logGroupName: 'SessionManagerLogGroup', logStreamName: 'big', events: [], now }), { code: 'InvalidParameterException' });
    });
  });
}
