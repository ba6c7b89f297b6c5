/** The HTTP contract every operation shares: routes, error shape, limits, credentials, audit. */
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { identitystore as api } from '@airlock/protocol';
import { startTestServer, type TestServer } from '@airlock/testkit';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { __type?: string; message?: string }; requestId: string | null }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.rootToken}`, ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as { __type?: string; message?: string }, requestId: response.headers.get('x-amzn-requestid') };
}

interface AuditRow {
  eventName: string;
  errorCode?: string;
  userIdentity: { type: string };
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  requestID: string;
  readOnly: boolean;
}

async function auditRecords(): Promise<AuditRow[]> {
  const rows = await server.server.services.db.selectFrom('audit_events').select('record').orderBy('seq').execute();
  return rows.map((row) => JSON.parse(row.record) as AuditRow);
}

test('GET /healthz answers ok', async () => {
  const response = await fetch(`${server.url}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ok' });
});

test('the root token is written 0600 in the data directory', async () => {
  const info = await stat(`${server.dataDir}/root-token`);
  assert.equal(info.mode & 0o777, 0o600);
  assert.match(server.rootToken, /^alr_root_[A-Za-z0-9_-]{43}$/);
});

test('errors come in AWS shape with the right status, and every answer carries a request id', async () => {
  const cases: [string, string, number, string, RegExp][] = [
    ['/api/identitystore/NoSuchThing', '{}', 404, 'UnknownOperationException', /identitystore:NoSuchThing/],
    ['/api/identitystore/CreateUser', '{"UserName": "x", "Colour": "red"}', 400, 'ValidationException', /Colour is not a field/],
    ['/api/identitystore/CreateUser', '{"Username": "x"}', 400, 'ValidationException', /Username is not a field of the request\. Did you mean UserName\?/],
    ['/api/identitystore/CreateUser', '{}', 400, 'ValidationException', /1 validation error detected: UserName is required/],
    ['/api/identitystore/CreateUser', '{"UserName": 7}', 400, 'ValidationException', /UserName must be a string, not the number 7/],
    ['/api/identitystore/CreateUser', `{"UserName": "${'x'.repeat(129)}"}`, 400, 'ValidationException', /at most 128 characters/],
    ['/api/identitystore/CreateUser', '{"UserName": "has space"}', 400, 'ValidationException', /UserName must match \S+ \(.*no spaces\)\./],
    ['/api/identitystore/CreateUser', '{"UserName": ', 400, 'SerializationException', /not valid JSON/],
    ['/api/identitystore/CreateUser', '{"UserName": "x", "PasswordSetup": "EMAIL_INVITATION"}', 400, 'ValidationException', /needs an email/],
    ['/api/identitystore/ListUsers', '{"MaxResults": 0}', 400, 'ValidationException', /MaxResults must be at least 1/],
    ['/api/identitystore/ListUsers', '{"MaxResults": 1e400}', 400, 'ValidationException', /MaxResults must be an integer, not the number Infinity/],
    ['/api/identitystore/CreateGroup', '{"DisplayName": "nul\\u0000byte"}', 400, 'ValidationException', /DisplayName must match .*no other control character/],
    ['/api/identitystore/CreateGroup', '{"DisplayName": "lone \\ud800 surrogate"}', 400, 'ValidationException', /DisplayName must match/],
    // Names that plain objects inherit are unknown fields like any other, not a crash.
    ['/api/identitystore/CreateGroup', '{"DisplayName": "g", "toString": 1}', 400, 'ValidationException', /toString is not a field of the request/],
    ['/api/ssm/DescribeSessions', '{"State": "History", "constructor": 1}', 400, 'ValidationException', /constructor is not a field of the request/],
    ['/api/ssm/DescribeSessions', `{"State": "History", "Filters": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 400, 'SerializationException', /more than 32 levels deep/],
  ];
  for (const [path, body, status, code, message] of cases) {
    const response = await post(path, body);
    assert.equal(response.status, status, `${path} ${body}`);
    assert.equal(response.body.__type, code, `${path} ${body}`);
    assert.match(response.body.message ?? '', message);
    assert.match(response.requestId ?? '', /^[0-9a-f-]{36}$/);
  }
});

test('a request body over the limit is refused with 413 and nothing is created', async () => {
  const response = await post('/api/identitystore/CreateUser', JSON.stringify({ UserName: 'big', DisplayName: 'x'.repeat(600 * 1024) }));
  assert.equal(response.status, 413);
  assert.equal(response.body.__type, 'RequestEntityTooLargeException');
  const users = await server.root.call(api.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'big' }] });
  assert.deepEqual(users.Users, []);
});

test('no credentials, a malformed header and an unknown token are refused as UnauthorizedException', async () => {
  const none = await fetch(`${server.url}/api/identitystore/ListUsers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(none.status, 401);
  assert.match(((await none.json()) as { message: string }).message, /needs credentials/);
  for (const authorization of ['Basic abc', `Bearer alr_root_${'A'.repeat(43)}`, 'Bearer']) {
    const response = await post('/api/identitystore/ListUsers', '{}', { authorization });
    assert.equal(response.status, 401, authorization);
    assert.equal(response.body.__type, 'UnauthorizedException');
  }
});

test('every call leaves one audit record, failures and refusals included, with secrets redacted', async () => {
  const before = (await auditRecords()).length;
  const created = await server.root.call(api.CreateUser, { UserName: 'audited', PasswordSetup: 'ONE_TIME_PASSWORD', Emails: [{ Value: 'secret@example.com' }] });
  assert.ok(created.OneTimePassword !== undefined && created.OneTimePassword.length === 20);
  await post('/api/identitystore/DescribeUser', '{"UserId": "nope"}');
  await fetch(`${server.url}/api/identitystore/ListUsers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const records = (await auditRecords()).slice(before);
  assert.deepEqual(
    records.map((record) => [record.eventName, record.errorCode ?? 'ok', record.userIdentity.type]),
    [
      ['CreateUser', 'ok', 'Root'],
      ['DescribeUser', 'ValidationException', 'Root'],
      ['ListUsers', 'UnauthorizedException', 'Unknown'],
    ],
  );
  const [create] = records;
  assert.equal(create?.readOnly, false);
  assert.equal(records[2]?.readOnly, true);
  const serialized = JSON.stringify(create);
  assert.doesNotMatch(serialized, /secret@example\.com/);
  assert.doesNotMatch(serialized, new RegExp(created.OneTimePassword));
  assert.equal(create.responseElements?.['OneTimePassword'], 'HIDDEN_DUE_TO_SECURITY_REASONS');
  assert.equal(create.requestParameters?.['UserName'], 'audited');
});
