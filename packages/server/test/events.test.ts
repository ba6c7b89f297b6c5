/**
 * Event rules and their deliveries, on both backends, with real HTTP: rules and targets as
 * EventBridge's API has them (DeleteRule refused while targets remain), a failed sign-in and an
 * access denial reaching a webhook with a valid HMAC-SHA256 signature, retries with backoff on
 * the moved clock, final failures, a session started and an instance's connection lost, two
 * nodes sharing the queue delivering each event once, and a pending delivery surviving a restart.
 */
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AirlockClient } from '@airlock/client';
import { events, organizations, portal, sessions, ssoAdmin } from '@airlock/protocol';
import { EventBus } from '@airlock/server/events/bus';
import { BACKENDS, createPerson, quietLogger, refused, roleSession, signIn, SimulatedAgent, startTestServer, within, type TestServer } from '@airlock/testkit';

interface Delivered {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook endpoint on loopback: keeps every request, answers each path's next queued status (200 when none). */
class Receiver {
  readonly requests: Delivered[] = [];
  private readonly answers = new Map<string, number[]>();
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer((request, response) => {
      receiver.take(request, response);
    });
    const receiver = new Receiver(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  private take(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const status = this.answers.get(path)?.shift() ?? 200;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `trouble ${status}`);
      this.requests.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      for (const wake of this.waiters) wake();
    });
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  answer(path: string, ...statuses: number[]): void {
    this.answers.set(path, statuses);
  }

  at(path: string): Delivered[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Waits until `path` has had `count` requests. */
  async received(path: string, count: number): Promise<Delivered[]> {
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.at(path).length >= count) {
            this.waiters.delete(check);
            resolve();
          }
        };
        this.waiters.add(check);
        check();
      }),
      `${count} request(s) at ${path}`,
    );
    return this.at(path);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function verifySignature(delivered: Delivered, secret: string): void {
  const header = delivered.headers['x-airlock-signature'];
  assert.equal(typeof header, 'string', 'the request is signed');
  const expected = `sha256=${createHmac('sha256', secret).update(delivered.body).digest('hex')}`;
  assert.ok(timingSafeEqual(Buffer.from(header as string), Buffer.from(expected)), 'the signature is the HMAC-SHA256 of the body under the secret');
}

/** A rule with one webhook target; answers with the target's signing secret. */
async function webhookRule(server: TestServer, receiver: Receiver, name: string, pattern: unknown, retry?: { MaximumRetryAttempts?: number }): Promise<string> {
  await server.root.call(events.PutRule, { Name: name, EventPattern: JSON.stringify(pattern) });
  const put = await server.root.call(events.PutTargets, { Rule: name, Targets: [{ Id: 'hook', Arn: receiver.url(`/${name}`), ...(retry === undefined ? {} : { RetryPolicy: retry }) }] });
  const secret = put.SigningSecrets?.[0]?.SigningSecret;
  assert.ok(secret !== undefined, 'the new webhook target has its signing secret, once');
  return secret;
}

const deliveries = async (server: TestServer, rule: string) => (await server.root.call(events.ListRuleDeliveries, { Rule: rule })).Deliveries;

for (const backend of BACKENDS) {
  describe(`event rules on ${backend}`, () => {
    let server: TestServer;
    let receiver: Receiver;
    let account: string;

    before(async () => {
      server = await startTestServer({ backend });
      receiver = await Receiver.start();
      account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
    });
    after(async () => {
      await server.stop();
      await receiver.close();
    });

    test('PutRule creates or replaces a rule; DescribeRule and ListRules (NamePrefix, pages) show it', async () => {
      const pattern = JSON.stringify({ source: ['aws.sso'] });
      const { RuleArn } = await server.root.call(events.PutRule, { Name: 'sso-changes', EventPattern: pattern, Description: 'Identity Center' });
      assert.equal(RuleArn, `arn:aws:events:${server.server.services.config.region}:${account}:rule/sso-changes`);
      await server.root.call(events.PutRule, { Name: 'sso-changes', EventPattern: pattern, State: 'DISABLED' });
      const described = await server.root.call(events.DescribeRule, { Name: 'sso-changes' });
      assert.deepEqual(described, { Name: 'sso-changes', Arn: RuleArn, EventPattern: pattern, State: 'DISABLED', EventBusName: 'default', CreatedBy: account });
      for (const name of ['sso-a', 'sso-b', 'other']) await server.root.call(events.PutRule, { Name: name, EventPattern: pattern });
      const first = await server.root.call(events.ListRules, { NamePrefix: 'sso-', Limit: 2 });
      assert.deepEqual(first.Rules.map((rule) => rule.Name), ['sso-a', 'sso-b']);
      assert.ok(first.NextToken !== undefined);
      const second = await server.root.call(events.ListRules, { NamePrefix: 'sso-', Limit: 2, NextToken: first.NextToken });
      assert.deepEqual(second.Rules.map((rule) => rule.Name), ['sso-changes']);
      assert.equal(second.NextToken, undefined);
      await refused(server.root.call(events.DescribeRule, { Name: 'nope' }), 'ResourceNotFoundException', /Rule nope does not exist/);
      await refused(server.root.call(events.ListRules, { EventBusName: 'custom' }), 'ResourceNotFoundException', /Event bus custom does not exist/);
    });

    test('a pattern that is not valid is refused with InvalidEventPatternException naming the field', async () => {
      await refused(
        server.root.call(events.PutRule, { Name: 'bad', EventPattern: '{"detail": {"eventName": "CreateUser"}}' }),
        'InvalidEventPatternException',
        /Event pattern is not valid\. Reason: .*detail\.eventName/,
      );
      const { Result } = await server.root.call(events.TestEventPattern, {
        EventPattern: '{"detail": {"n": [{"numeric": [">", 1]}]}}',
        Event: JSON.stringify({ id: '1', account, source: 'x', time: '2026-11-28T12:00:00Z', region: 'local', 'detail-type': 'y', resources: [], detail: { n: 2 } }),
      });
      assert.equal(Result, true);
    });

    test('PutTargets: a webhook secret is made and shown once, never listed; other Arns are refused; at most 5 targets', async () => {
      await server.root.call(events.PutRule, { Name: 'targets', EventPattern: '{"source": ["airlock.none"]}' });
      const put = await server.root.call(events.PutTargets, {
        Rule: 'targets',
        Targets: [
          { Id: 'made', Arn: 'https://hooks.example.com/airlock' },
          { Id: 'given', Arn: 'https://hooks.example.com/other', SigningSecret: 'a secret of my own choosing', HttpParameters: { HeaderParameters: { Authorization: 'Bearer x' } } },
          { Id: 'mail', Arn: 'mailto:ops@example.com,security@example.com', RetryPolicy: { MaximumRetryAttempts: 3 } },
        ],
      });
      assert.equal(put.FailedEntryCount, 0);
      assert.deepEqual(put.SigningSecrets?.map((entry) => entry.Id), ['made']);
      assert.match(put.SigningSecrets[0]?.SigningSecret ?? '', /^[A-Za-z0-9_-]{43}$/);
      const again = await server.root.call(events.PutTargets, { Rule: 'targets', Targets: [{ Id: 'made', Arn: 'https://hooks.example.com/airlock/v2' }] });
      assert.equal(again.SigningSecrets, undefined, 'a target that has a secret keeps it');
      const { Targets } = await server.root.call(events.ListTargetsByRule, { Rule: 'targets' });
      assert.deepEqual(Targets, [
        { Id: 'given', Arn: 'https://hooks.example.com/other', HttpParameters: { HeaderParameters: { Authorization: 'Bearer x' } }, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } },
        { Id: 'made', Arn: 'https://hooks.example.com/airlock/v2', RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } },
        { Id: 'mail', Arn: 'mailto:ops@example.com,security@example.com', RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 86400 } },
      ]);
      await refused(server.root.call(events.PutTargets, { Rule: 'targets', Targets: [{ Id: 'sns', Arn: 'arn:aws:sns:us-east-1:111122223333:alerts' }] }), 'ValidationException', /Targets\[0\]\.Arn: Airlock does not deliver to AWS resources/);
      await refused(server.root.call(events.PutTargets, { Rule: 'targets', Targets: [{ Id: 'x', Arn: 'mailto:not-an-address' }] }), 'ValidationException', /not an email address/);
      // The cloud metadata service (the server's credentials) is never a webhook.
      for (const arn of ['http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://metadata.google.internal/computeMetadata/v1/']) {
        await refused(server.root.call(events.PutTargets, { Rule: 'targets', Targets: [{ Id: 'x', Arn: arn }] }), 'ValidationException', /is forbidden: link-local and instance metadata addresses are never called/);
      }
      await refused(
        server.root.call(events.PutTargets, { Rule: 'targets', Targets: [{ Id: 'x', Arn: 'https://h.example.com/', HttpParameters: { HeaderParameters: { 'X-Airlock-Signature': 'forged' } } }] }),
        'ValidationException',
        /set by Airlock/,
      );
      await refused(
        server.root.call(events.PutTargets, { Rule: 'targets', Targets: ['a', 'b', 'c'].map((id) => ({ Id: id, Arn: `https://hooks.example.com/${id}` })) }),
        'LimitExceededException',
        /at most 5 targets/,
      );
      await refused(server.root.call(events.PutTargets, { Rule: 'missing', Targets: [{ Id: 'x', Arn: 'https://h.example.com/' }] }), 'ResourceNotFoundException');
    });

    test('DeleteRule is refused while the rule has targets, and deletes it once RemoveTargets took them', async () => {
      await server.root.call(events.PutRule, { Name: 'doomed', EventPattern: '{"source": ["airlock.none"]}' });
      await server.root.call(events.PutTargets, { Rule: 'doomed', Targets: [{ Id: 'one', Arn: 'https://hooks.example.com/1' }, { Id: 'two', Arn: 'mailto:ops@example.com' }] });
      await refused(server.root.call(events.DeleteRule, { Name: 'doomed' }), 'ValidationException', /Rule can't be deleted since it has targets/);
      await server.root.call(events.RemoveTargets, { Rule: 'doomed', Ids: ['one'] });
      await refused(server.root.call(events.DeleteRule, { Name: 'doomed' }), 'ValidationException', /has targets/);
      await server.root.call(events.RemoveTargets, { Rule: 'doomed', Ids: ['two'] });
      await server.root.call(events.DeleteRule, { Name: 'doomed' });
      await refused(server.root.call(events.DescribeRule, { Name: 'doomed' }), 'ResourceNotFoundException');
    });

    test('a failed sign-in reaches the webhook as a Sign-in Failure event, signed with the target secret', async () => {
      const secret = await webhookRule(server, receiver, 'sign-in-failures', { source: ['aws.sso'], 'detail-type': ['Sign-in Failure'] });
      await refused(server.client().call(portal.InitiateAuth, { Username: 'mallory', Password: 'not the password' }), 'NotAuthorizedException');
      const [delivered] = await receiver.received('/sign-in-failures', 1);
      assert.ok(delivered !== undefined);
      verifySignature(delivered, secret);
      assert.equal(delivered.headers['content-type'], 'application/json; charset=utf-8');
      const event = JSON.parse(delivered.body) as Record<string, unknown> & { detail: Record<string, unknown> };
      assert.equal(event['detail-type'], 'Sign-in Failure');
      assert.equal(event.source, 'aws.sso');
      assert.equal(event.account, account);
      assert.equal(event.version, '0');
      assert.equal(delivered.headers['x-airlock-event-id'], event.id);
      assert.equal(event.detail.eventName, 'InitiateAuth');
      assert.equal(event.detail.errorCode, 'NotAuthorizedException');
      assert.deepEqual(event.detail.requestParameters, { Username: 'HIDDEN_DUE_TO_SECURITY_REASONS', Password: 'HIDDEN_DUE_TO_SECURITY_REASONS' }, 'secrets stay redacted');
      await server.server.services.events.deliverDue();
      const [listed] = await deliveries(server, 'sign-in-failures');
      assert.equal(listed?.Status, 'SUCCEEDED');
      assert.equal(listed.Attempts, 1);
      assert.equal(listed.EventId, event.id);
      assert.equal(listed.DetailType, 'Sign-in Failure');
    });

    test('an access denial is retried after a 500 once the clock has moved past the backoff, then delivered', async () => {
      const secret = await webhookRule(server, receiver, 'denials', { 'detail-type': ['Access Denied'], detail: { eventSource: ['events.amazonaws.com'] } });
      receiver.answer('/denials', 500);
      const userId = await createPerson(server, 'reader');
      const readOnly = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ReadOnly' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: readOnly, ManagedPolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: readOnly, PrincipalType: 'USER', PrincipalId: userId });
      const reader: AirlockClient = await roleSession(server, await signIn(server, 'reader'), account, 'ReadOnly');
      await refused(reader.call(events.PutRule, { Name: 'sneaky', EventPattern: '{"source": ["x"]}' }), 'AccessDeniedException');

      await receiver.received('/denials', 1);
      await server.server.services.events.deliverDue();
      const [pending] = await deliveries(server, 'denials');
      assert.equal(pending?.Status, 'PENDING');
      assert.equal(pending.Attempts, 1);
      assert.match(pending.LastError ?? '', /answered HTTP 500 Internal Server Error: trouble 500/);
      assert.ok(pending.NextAttemptTime !== undefined && pending.NextAttemptTime * 1000 > server.clock.now(), 'the retry waits for its backoff');

      await server.server.services.events.deliverDue();
      assert.equal(receiver.at('/denials').length, 1, 'no retry before the backoff has passed on the services clock');
      server.clock.advance(60_000);
      await server.server.services.events.deliverDue();
      const [first, second] = await receiver.received('/denials', 2);
      assert.ok(first !== undefined && second !== undefined);
      assert.equal(second.body, first.body, 'the retry sends the same bytes');
      assert.equal(second.headers['x-airlock-attempt'], '2');
      verifySignature(second, secret);
      const event = JSON.parse(second.body) as { detail: { eventName: string; errorCode: string; userIdentity: { userName: string } } };
      assert.deepEqual([event.detail.eventName, event.detail.errorCode, event.detail.userIdentity.userName], ['PutRule', 'AccessDeniedException', 'reader']);
      const [done] = await deliveries(server, 'denials');
      assert.equal(done?.Status, 'SUCCEEDED');
      assert.equal(done.Attempts, 2);
      assert.equal(done.LastError, undefined);
    });

    test('an answer that retrying will not change fails at once; MaximumRetryAttempts 0 gives up after one attempt', async () => {
      await webhookRule(server, receiver, 'refusing', { source: ['airlock.test'], 'detail-type': ['Refused'] });
      await webhookRule(server, receiver, 'once', { source: ['airlock.test'], 'detail-type': ['Once'] }, { MaximumRetryAttempts: 0 });
      receiver.answer('/refusing', 400);
      receiver.answer('/once', 503);
      await server.server.services.events.emit({ source: 'airlock.test', detailType: 'Refused', account, detail: {} }, { source: 'airlock.test', detailType: 'Once', account, detail: {} });
      await server.server.services.events.deliverDue();
      const [refusedDelivery] = await deliveries(server, 'refusing');
      assert.equal(refusedDelivery?.Status, 'FAILED');
      assert.match(refusedDelivery.LastError ?? '', /HTTP 400/);
      const [onceDelivery] = await deliveries(server, 'once');
      assert.equal(onceDelivery?.Status, 'FAILED');
      assert.match(onceDelivery.LastError ?? '', /HTTP 503.*no retry left after 1 attempts/);
      server.clock.advance(60 * 60_000);
      await server.server.services.events.deliverDue();
      assert.equal(receiver.at('/refusing').length + receiver.at('/once').length, 2, 'failed deliveries are not tried again');
      const failed = await server.root.call(events.ListRuleDeliveries, { Rule: 'once', Status: 'SUCCEEDED' });
      assert.deepEqual(failed.Deliveries, []);
    });

    test('a session started and terminated, and an instance that lost its connection, reach the webhook', async () => {
      await webhookRule(server, receiver, 'fleet', {
        source: ['aws.ssm'],
        'detail-type': ['Session Manager Session State-change Notification', 'Managed Instance Connection Lost'],
      });
      const agent = await SimulatedAgent.register(server);
      await agent.connect(server);
      const { SessionId } = await server.root.call(sessions.StartSession, { Target: agent.instanceId });
      const [started] = await receiver.received('/fleet', 1);
      const startedEvent = JSON.parse(started?.body ?? '') as { resources: string[]; detail: Record<string, unknown> };
      assert.deepEqual(startedEvent.detail, { 'session-id': SessionId, target: agent.instanceId, owner: `arn:aws:iam::${account}:root`, 'document-name': 'SSM-SessionManagerRunShell', state: 'Started' });
      assert.deepEqual(startedEvent.resources, [`arn:aws:ssm:${server.server.services.config.region}:${account}:session/${SessionId}`]);
      await server.root.call(sessions.TerminateSession, { SessionId });
      const [, ended] = await receiver.received('/fleet', 2);
      const endedEvent = JSON.parse(ended?.body ?? '') as { detail: Record<string, unknown> };
      assert.equal(endedEvent.detail['session-id'], SessionId);
      assert.equal(endedEvent.detail.state, 'Terminated');
      assert.equal(typeof endedEvent.detail.reason, 'string');
      agent.disconnect();
      const [, , lost] = await receiver.received('/fleet', 3);
      const lostEvent = JSON.parse(lost?.body ?? '') as { 'detail-type': string; detail: Record<string, unknown> };
      assert.equal(lostEvent['detail-type'], 'Managed Instance Connection Lost');
      assert.equal(lostEvent.detail['instance-id'], agent.instanceId);
      assert.equal(lostEvent.detail['ping-status'], 'ConnectionLost');
    });

    test('two nodes sharing the queue deliver each event exactly once', async () => {
      await webhookRule(server, receiver, 'shared', { source: ['airlock.test'], 'detail-type': ['Shared'] });
      const { services } = server.server;
      const otherNode = new EventBus({ db: services.db, clock: server.clock, log: quietLogger(), mailer: services.mailer, secrets: services.secrets, region: services.config.region, accountId: account });
      const inputs = Array.from({ length: 12 }, (_, n) => ({ source: 'airlock.test', detailType: 'Shared', account, detail: { n } }));
      await services.events.emit(...inputs);
      await Promise.all([otherNode.deliverDue(), services.events.deliverDue(), otherNode.deliverDue()]);
      await otherNode.close();
      const received = receiver.at('/shared').map((request) => (JSON.parse(request.body) as { detail: { n: number } }).detail.n);
      assert.deepEqual(received.sort((a, b) => a - b), inputs.map((_, n) => n));
      const listed = await deliveries(server, 'shared');
      assert.equal(listed.length, 12);
      assert.ok(listed.every((delivery) => delivery.Status === 'SUCCEEDED' && delivery.Attempts === 1));
    });

    test('a pending delivery survives a restart and is delivered by the next server, still signed', async () => {
      const secret = await webhookRule(server, receiver, 'durable', { source: ['airlock.test'], 'detail-type': ['Durable'] });
      receiver.answer('/durable', 502);
      await server.server.services.events.emit({ source: 'airlock.test', detailType: 'Durable', account, detail: { kept: true } });
      await server.server.services.events.deliverDue();
      const [pending] = await deliveries(server, 'durable');
      assert.equal(pending?.Status, 'PENDING');
      server = await server.restart();
      // The new server's clock starts at the real time again: move it past the retry's due time.
      server.clock.advance(Math.max(0, (pending.NextAttemptTime ?? 0) * 1000 - server.clock.now()) + 1_000);
      await server.server.services.events.deliverDue();
      const [, retried] = await receiver.received('/durable', 2);
      assert.ok(retried !== undefined);
      verifySignature(retried, secret);
      const [done] = await deliveries(server, 'durable');
      assert.equal(done?.Status, 'SUCCEEDED');
      assert.equal(done.Attempts, 2);
    });
  });
}
