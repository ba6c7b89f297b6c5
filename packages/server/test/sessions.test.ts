/**
 * Session Manager at the server, on both backends, with real WebSockets: the guide's Test 1 and
 * Test 2 (who may start sessions where, who may end which), the single-use token, the broker
 * joining client and agent with nothing lost or doubled across a dropped client, flow control
 * holding a writer at the window when the reader stops, the program's exit, the agent's refusal,
 * the idle timeout on a moved clock, and DescribeSessions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AirlockClient } from '@airlock/client';
import { data, organizations, sessions, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, createPerson, DataPeer, joinSession, refused, roleSession, setUpGuide, signIn, startTestServer, type SimulatedAgent, type TestServer } from '@airlock/testkit';

async function status(caller: AirlockClient, sessionId: string, state: 'Active' | 'History') {
  const { Sessions } = await caller.call(sessions.DescribeSessions, { State: state, Filters: [{ key: 'SessionId', value: sessionId }] });
  const [found] = Sessions;
  assert.ok(found !== undefined, `${sessionId} is not among the ${state} sessions`);
  return found;
}

/** The broker records Connected and Disconnected without waiting (a write after the event): the status they settle to, read for at most 5 s. */
async function settledStatus(caller: AirlockClient, sessionId: string, expected: string): Promise<string> {
  let found = (await status(caller, sessionId, 'Active')).Status;
  for (let attempt = 0; attempt < 50 && found !== expected; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    found = (await status(caller, sessionId, 'Active')).Status;
  }
  return found;
}

for (const backend of BACKENDS) {
  describe(`sessions on ${backend}`, () => {
    let server: TestServer;
    let production: SimulatedAgent;
    let development: SimulatedAgent;
    let user1: AirlockClient;
    let user2: AirlockClient;

    before(async () => {
      server = await startTestServer({ backend });
      ({ user1, user2, production, development } = await setUpGuide(server));
    });
    after(async () => {
      production.disconnect();
      development.disconnect();
      await server.stop();
    });

    test("Test 1 and 2: each user starts sessions only where the group's tag allows; the other target is AccessDenied on its ARN", async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      assert.match(started.SessionId, /^testuser01-[0-9a-f]{17}$/);
      assert.equal(started.StreamUrl, `${server.url.replace(/^http/, 'ws')}/session/stream/${started.SessionId}`);
      await refused(user1.call(sessions.StartSession, { Target: development.instanceId }), 'AccessDeniedException', new RegExp(`managed-instance/${development.instanceId} `));
      await refused(user2.call(sessions.StartSession, { Target: production.instanceId }), 'AccessDeniedException', new RegExp(`managed-instance/${production.instanceId} `));
      const other = await user2.call(sessions.StartSession, { Target: development.instanceId });
      assert.match(other.SessionId, /^testuser02-/);
      // Each ends their own and cannot end the other's.
      await refused(user1.call(sessions.TerminateSession, { SessionId: other.SessionId }), 'AccessDeniedException', /session\/testuser02-/);
      await refused(user2.call(sessions.TerminateSession, { SessionId: started.SessionId }), 'AccessDeniedException');
      assert.deepEqual(await user1.call(sessions.TerminateSession, { SessionId: started.SessionId }), { SessionId: started.SessionId });
      await user2.call(sessions.TerminateSession, { SessionId: other.SessionId });
      const ended = await status(user1, started.SessionId, 'History');
      assert.equal(ended.Status, 'Terminated');
      assert.equal(ended.Details, 'terminated by testuser01');
      assert.match(ended.Owner, /:assumed-role\/AWSReservedSSO_ProductionPermissionSet_[0-9a-f]{16}\/testuser01$/);
      await production.waitFor(() => production.closed.some((message) => message.sessionId === started.SessionId), 'session-close');
    });

    test('bytes go both ways; the token opens one connection only; Terminate ends both sides with End', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId, Reason: 'checking logs' });
      const { client, host, opened } = await joinSession(server, production, started);
      assert.deepEqual(opened.work, { kind: 'shell', runAs: { user: 'ssm-user' }, profile: '' });
      assert.equal(await settledStatus(user1, started.SessionId, 'Connected'), 'Connected');
      client.sendText('echo hi\r');
      await host.waitFor(() => host.text() === 'echo hi\r', 'input at the agent');
      host.sendText('hi\r\n$ ');
      await client.waitFor(() => client.text() === 'hi\r\n$ ', 'output at the client');

      const again = new DataPeer();
      await assert.rejects(again.connect(started.StreamUrl, { role: 'client', token: started.TokenValue }));
      await again.waitFor(() => again.closed !== undefined, 'the refusal');
      assert.equal(again.closed?.code, 4401);

      await user1.call(sessions.TerminateSession, { SessionId: started.SessionId });
      for (const peer of [client, host]) {
        await peer.waitFor(() => peer.frames.some((frame) => frame.type === data.FrameType.End), 'End');
        assert.equal(data.fromUtf8(peer.frames.find((frame) => frame.type === data.FrameType.End)?.payload ?? new Uint8Array()), 'terminated by testuser01');
      }
    });

    test('a dropped client resumes with ResumeSession: what the agent sent meanwhile arrives once, in order', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started);
      host.sendText('one ');
      await client.waitFor(() => client.text() === 'one ', 'the first output');
      client.drop();
      await client.waitFor(() => client.closed !== undefined, 'the drop');
      for (const word of ['two ', 'three ', 'four ']) host.sendText(word);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(await settledStatus(user1, started.SessionId, 'Disconnected'), 'Disconnected');
      const resumed = await user1.call(sessions.ResumeSession, { SessionId: started.SessionId });
      assert.equal(resumed.StreamUrl, started.StreamUrl);
      await client.connect(resumed.StreamUrl, { role: 'client', token: resumed.TokenValue });
      client.sendText('input after resume');
      await client.waitFor(() => client.text() === 'one two three four ', 'the output sent while away');
      await host.waitFor(() => host.text() === 'input after resume', 'the input after resume');
      await user1.call(sessions.TerminateSession, { SessionId: started.SessionId });
    });

    test('a client that stops reading stops the agent at the window, and the server holds no more than that', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started, { client: { autoAck: false } });
      const chunk = new Uint8Array(data.MAX_PAYLOAD).fill(0x61);
      const total = 3 * data.DEFAULT_WINDOW;
      let sent = 0;
      /** Writes as the agent does: only while its window has room. */
      const pump = (): void => {
        for (; sent < total && !host.link.full; sent += chunk.length) host.send({ type: data.FrameType.Data, payload: chunk });
      };
      const received = (): number => client.frames.filter((frame) => frame.type === data.FrameType.Data).length * data.MAX_PAYLOAD;
      pump();
      await client.waitFor(() => received() >= data.DEFAULT_WINDOW, 'a window of output');
      await new Promise((resolve) => setTimeout(resolve, 200));
      pump();
      // The server stopped acknowledging: the agent's window is full and it has stopped.
      assert.ok(host.link.full, `the agent has ${host.link.inFlight} bytes in flight`);
      assert.ok(sent < total);
      const live = server.server.services.sessions.get(started.SessionId);
      assert.ok(live !== undefined);
      assert.ok(live.hops.client.link.inFlight <= data.DEFAULT_WINDOW + data.MAX_PAYLOAD, `the server holds ${live.hops.client.link.inFlight} bytes for the client`);
      // Reading again lets everything through.
      for (let round = 0; round < 200 && received() < total; round++) {
        client.consume();
        await new Promise((resolve) => setTimeout(resolve, 10));
        pump();
      }
      assert.equal(received(), total);
      await user1.call(sessions.TerminateSession, { SessionId: started.SessionId });
    });

    test('a client that had a full window and comes back saying so, sending nothing, frees the agent at once', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started, { client: { autoAck: false } });
      const chunk = new Uint8Array(data.MAX_PAYLOAD).fill(0x62);
      while (!host.link.full) host.send({ type: data.FrameType.Data, payload: chunk });
      const sent = host.link.sent;
      await client.waitFor(() => client.link.received === sent, 'the whole window at the client');
      // It drops before acknowledging any of it, and resumes having it all; then it sends nothing.
      client.drop();
      await client.waitFor(() => client.closed !== undefined, 'the drop');
      client.link.consume(client.link.received);
      const resumed = await user1.call(sessions.ResumeSession, { SessionId: started.SessionId });
      await client.connect(resumed.StreamUrl, { role: 'client', token: resumed.TokenValue });
      // End to end: what the client said it has is acknowledged to the agent without a frame from the client.
      await host.waitFor(() => host.link.delivered === sent, 'the agent acknowledged for what the client had', 5_000);
      assert.ok(!host.link.full);
      await user1.call(sessions.TerminateSession, { SessionId: started.SessionId });
    });

    test('a peer that sends past its window is cut off', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started, { client: { autoAck: false } });
      const chunk = new Uint8Array(data.MAX_PAYLOAD);
      // The server takes a window for the client, then at most a window more from the agent.
      for (let sent = 0; sent < 4 * data.DEFAULT_WINDOW; sent += chunk.length) host.send({ type: data.FrameType.Data, payload: chunk });
      await host.waitFor(() => host.closed !== undefined, 'the cut');
      const cut = host.closed;
      assert.ok(cut !== undefined);
      assert.equal(cut.code, 4400);
      assert.match(cut.reason, /window/);
      client.close();
      await user1.call(sessions.TerminateSession, { SessionId: started.SessionId });
    });

    test("the program's exit ends the session: the client gets Exit, the record says Terminated with the status", async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started);
      host.send({ type: data.FrameType.Exit, payload: data.exitPayload(3, '') });
      await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Exit), 'Exit');
      const exit = client.frames.find((frame) => frame.type === data.FrameType.Exit);
      assert.equal(data.readExit(exit?.payload ?? new Uint8Array(4)).status, 3);
      await client.waitFor(() => client.closed !== undefined, 'the close');
      const ended = await status(user1, started.SessionId, 'History');
      assert.equal(ended.Status, 'Terminated');
      assert.equal(ended.Details, 'the program exited with status 3');
    });

    test('an agent that cannot start the program fails the session with its reason', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      await production.sessionOpen(started.SessionId);
      production.fail(started.SessionId, 'Run As user "alice" does not exist on this instance');
      await production.waitFor(() => production.closed.some((message) => message.sessionId === started.SessionId), 'session-close');
      const ended = await status(user1, started.SessionId, 'History');
      assert.equal(ended.Status, 'Failed');
      assert.equal(ended.Details, 'Run As user "alice" does not exist on this instance');
      await refused(user1.call(sessions.ResumeSession, { SessionId: started.SessionId }), 'DoesNotExistException', /has ended/);
    });

    test('ssm:SessionDocumentAccessCheck: a statement that demands a named document refuses the default shell, and allows only its documents', async () => {
      const account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      const userId = await createPerson(server, 'sshonly');
      const arn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'SshOnly' })).PermissionSet.PermissionSetArn;
      const sshOnly = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'ssm:StartSession',
            Resource: ['arn:aws:ssm:*:*:managed-instance/*', 'arn:aws:ssm:*::document/AWS-StartSSHSession'],
            Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
          },
        ],
      };
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: arn, InlinePolicy: JSON.stringify(sshOnly) });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: userId });
      const caller = await roleSession(server, await signIn(server, 'sshonly'), account, 'SshOnly');
      await refused(caller.call(sessions.StartSession, { Target: production.instanceId }), 'AccessDeniedException', new RegExp(`managed-instance/${production.instanceId} `));
      await refused(caller.call(sessions.StartSession, { Target: production.instanceId, DocumentName: 'AWS-StartPortForwardingSession' }), 'AccessDeniedException', /document\/AWS-StartPortForwardingSession/);
      const started = await caller.call(sessions.StartSession, { Target: production.instanceId, DocumentName: 'AWS-StartSSHSession' });
      const opened = await production.sessionOpen(started.SessionId);
      assert.deepEqual(opened.work, { kind: 'port', host: 'localhost', port: 22 });
      await server.root.call(sessions.TerminateSession, { SessionId: started.SessionId });
    });

    test('an agent killed mid-session: its session Failed, with the reason, once the agent has not come back in time', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started);
      const live = server.server.services.sessions.get(started.SessionId);
      host.drop();
      for (let wait = 0; wait < 100 && live?.hops.agent.socket !== undefined; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(live?.hops.agent.socket, undefined, 'the server saw the agent go');
      server.clock.advance(59_000);
      server.server.services.sessions.tick();
      assert.ok(server.server.services.sessions.get(started.SessionId) !== undefined, 'the agent still has time to come back');
      server.clock.advance(1_001);
      server.server.services.sessions.tick();
      await client.waitFor(() => client.closed !== undefined, 'the close');
      const ended = await status(user1, started.SessionId, 'History');
      assert.equal(ended.Status, 'Failed');
      assert.match(ended.Details ?? '', new RegExp(`the agent on ${production.instanceId} went away and did not come back within 60 seconds`));
    });

    test('a session without input for the idle timeout (20 minutes) is terminated', async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started);
      server.clock.advance(19 * 60_000);
      server.server.services.sessions.tick();
      assert.ok(server.server.services.sessions.get(started.SessionId) !== undefined);
      client.sendText('x');
      await host.waitFor(() => host.text() === 'x', 'the input at the agent');
      server.clock.advance(19 * 60_000);
      server.server.services.sessions.tick();
      assert.ok(server.server.services.sessions.get(started.SessionId) !== undefined, 'input restarted the idle timer');
      server.clock.advance(60_000 + 1);
      server.server.services.sessions.tick();
      await client.waitFor(() => client.closed !== undefined, 'the close');
      const ended = await status(user1, started.SessionId, 'History');
      assert.equal(ended.Details, 'the session was idle for 20 minutes');
    });

    test('an offline target is TargetNotConnected; unknown documents and parameters are refused with what is allowed', async () => {
      development.disconnect();
      await refused(user2.call(sessions.StartSession, { Target: development.instanceId }), 'TargetNotConnected', new RegExp(`${development.instanceId} is not connected`));
      await refused(server.root.call(sessions.StartSession, { Target: production.instanceId, DocumentName: 'AWS-RunShellScript' }), 'InvalidDocument', /AWS-StartSSHSession/);
      await refused(server.root.call(sessions.StartSession, { Target: production.instanceId, DocumentName: 'AWS-StartSSHSession', Parameters: { portNumber: ['99999'] } }), 'InvalidParameters', /portNumber/);
      await refused(
        server.root.call(sessions.StartSession, { Target: production.instanceId, DocumentName: 'AWS-StartPortForwardingSessionToRemoteHost', Parameters: { host: ['169.254.169.254'], portNumber: ['80'] } }),
        'InvalidParameters',
        /forbidden/,
      );
      // Naming a document needs a grant on it: the guide's policy allows only the instance.
      await refused(user1.call(sessions.StartSession, { Target: production.instanceId, DocumentName: 'AWS-StartSSHSession' }), 'AccessDeniedException', /document\/AWS-StartSSHSession/);
    });

    test('DescribeSessions pages through history, newest first, and checks its filters', async () => {
      const first = await user1.call(sessions.DescribeSessions, { State: 'History', MaxResults: 2 });
      assert.equal(first.Sessions.length, 2);
      assert.ok(first.NextToken !== undefined);
      const second = await user1.call(sessions.DescribeSessions, { State: 'History', MaxResults: 2, NextToken: first.NextToken });
      // A History token is no place in the Active list.
      await refused(user1.call(sessions.DescribeSessions, { State: 'Active', MaxResults: 2, NextToken: first.NextToken }), 'InvalidNextToken', /for State Active/);
      const ids = [...first.Sessions, ...second.Sessions].map((session) => session.SessionId);
      assert.equal(new Set(ids).size, ids.length);
      const starts = [...first.Sessions, ...second.Sessions].map((session) => session.StartDate);
      assert.deepEqual(starts, [...starts].sort((a, b) => b - a));
      await refused(user1.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'InvokedAfter', value: 'yesterday' }] }), 'ValidationException', /ISO 8601/);
      const mine = await user1.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'Target', value: development.instanceId }] });
      assert.ok(mine.Sessions.every((session) => session.Target === development.instanceId));
    });
  });
}
