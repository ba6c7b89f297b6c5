/**
 * Email targets, on both backends, through a real SMTP server the test runs: a permission set
 * change mailed to each address of a mailto: target, and a mailbox the relay refuses for good
 * (550) failing its delivery at once while a relay that says "try later" (451) is retried.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { events, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, startTestServer, type TestServer } from '@airlock/testkit';

/** A relay on loopback that keeps each accepted message, and refuses recipients as `refusal` says. */
async function startRelay(refusal: (address: string) => { code: number; message: string } | undefined): Promise<{ url: string; mails: ParsedMail[]; close(): Promise<void> }> {
  const mails: ParsedMail[] = [];
  const relay = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onRcptTo(address, _session, callback) {
      const refused = refusal(address.address);
      if (refused === undefined) {
        callback();
        return;
      }
      callback(Object.assign(new Error(refused.message), { responseCode: refused.code }));
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port } = relay.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise((resolve) => relay.close(() => resolve())) };
}

for (const backend of BACKENDS) {
  describe(`event mail on ${backend}`, () => {
    let server: TestServer;
    let relay: Awaited<ReturnType<typeof startRelay>>;
    let busy = true;

    before(async () => {
      relay = await startRelay((address) => {
        if (address === 'nobody@example.com') return { code: 550, message: 'No such mailbox' };
        if (address === 'later@example.com' && busy) return { code: 451, message: 'Try again later' };
        return undefined;
      });
      server = await startTestServer({ backend, flags: { 'smtp-url': relay.url } });
    });
    after(async () => {
      await server.stop();
      await relay.close();
    });

    test('a permission set change is mailed to each address of the target, with the event in it', async () => {
      await server.root.call(events.PutRule, { Name: 'access-changes', EventPattern: JSON.stringify({ source: ['aws.sso'], 'detail-type': ['Permission Set or Policy Change'] }) });
      await server.root.call(events.PutTargets, { Rule: 'access-changes', Targets: [{ Id: 'security', Arn: 'mailto:security@example.com,auditors@example.com' }] });
      await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'Operators' });
      // The relay keeps a mail before it answers 250, and the attempts are over once this resolves.
      await server.server.services.events.deliverDue();
      const recipients = relay.mails.map((mail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.address).sort();
      assert.deepEqual(recipients, ['auditors@example.com', 'security@example.com']);
      for (const mail of relay.mails) {
        assert.equal(mail.subject, 'Airlock: Permission Set or Policy Change');
        assert.match(mail.text ?? '', /"eventName": "CreatePermissionSet"/);
        assert.match(mail.text ?? '', /Permission Set or Policy Change from aws\.sso in account \d{12}/);
      }
      const { Deliveries } = await server.root.call(events.ListRuleDeliveries, { Rule: 'access-changes' });
      assert.deepEqual(Deliveries.map((delivery) => [delivery.Endpoint, delivery.Status]).sort(), [
        ['auditors@example.com', 'SUCCEEDED'],
        ['security@example.com', 'SUCCEEDED'],
      ]);
    });

    test('a mailbox the relay refuses (550) fails at once; a relay that says try later (451) is retried', async () => {
      await server.root.call(events.PutRule, { Name: 'refused-mail', EventPattern: JSON.stringify({ source: ['airlock.test'] }) });
      await server.root.call(events.PutTargets, { Rule: 'refused-mail', Targets: [{ Id: 'mail', Arn: 'mailto:nobody@example.com,later@example.com' }] });
      const before = relay.mails.length;
      await server.server.services.events.emit({ source: 'airlock.test', detailType: 'Mail Check', account: server.server.services.accountId, detail: {} });
      await server.server.services.events.deliverDue();
      const status = async (endpoint: string) => (await server.root.call(events.ListRuleDeliveries, { Rule: 'refused-mail' })).Deliveries.find((delivery) => delivery.Endpoint === endpoint);
      const nobody = await status('nobody@example.com');
      assert.equal(nobody?.Status, 'FAILED');
      assert.match(nobody.LastError ?? '', /550/);
      const later = await status('later@example.com');
      assert.equal(later?.Status, 'PENDING');
      assert.match(later.LastError ?? '', /451/);
      busy = false;
      server.clock.advance(60_000);
      await server.server.services.events.deliverDue();
      assert.equal((await status('later@example.com'))?.Status, 'SUCCEEDED');
      assert.equal((await status('nobody@example.com'))?.Attempts, 1);
      assert.equal(relay.mails.length, before + 1);
    });
  });
}
