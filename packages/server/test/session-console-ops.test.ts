/**
 * What the console's session pages ask of the server, on both backends: SimulateStartSession
 * tells testuser01 (the guide's production policy) that prod-server01 may be started and what
 * stands in the way on dev-server01, without starting anything; GetSessionRecording gives the
 * owner their session's asciicast and transcript (no policy needed for one's own), and refuses
 * another user's session unless a policy allows it on the session's ARN.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AirlockApiError, type AirlockClient } from '@airlock/client';
import { data, sessions } from '@airlock/protocol';
import { BACKENDS, joinSession, setUpGuide, startTestServer, type SimulatedAgent, type TestServer } from '@airlock/testkit';

for (const backend of BACKENDS) {
  describe(`the console's session operations on ${backend}`, () => {
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

    test('SimulateStartSession: allowed on the Production target with the statement that allows it; implicit deny on the other, naming the tag the statement wants', async () => {
      const { EvaluationResults } = await user1.call(sessions.SimulateStartSession, { Targets: [production.instanceId, development.instanceId] });
      const [prod, dev] = EvaluationResults;
      assert.equal(prod?.EvalResourceName, production.instanceId);
      assert.equal(prod.EvalDecision, 'allowed');
      assert.equal(prod.MatchedStatements.length, 1);
      assert.match(prod.MatchedStatements[0]?.SourcePolicyId ?? '', /ProductionPermissionSet/);
      assert.equal(dev?.EvalDecision, 'implicitDeny');
      assert.match(dev.Reason ?? '', /ssm:resourceTag\/project/);
      assert.match(dev.Reason ?? '', /Production/);
      // Nothing was started.
      const { Sessions } = await user1.call(sessions.DescribeSessions, { State: 'Active' });
      assert.equal(Sessions.length, 0);
      // The other user's policy decides the other way round.
      const other = await user2.call(sessions.SimulateStartSession, { Targets: [production.instanceId, development.instanceId] });
      assert.deepEqual(
        other.EvaluationResults.map((result) => result.EvalDecision),
        ['implicitDeny', 'allowed'],
      );
      await assert.rejects(user1.call(sessions.SimulateStartSession, { Targets: [] }), (error: unknown) => error instanceof AirlockApiError && error.code === 'ValidationException');
    });

    test("GetSessionRecording: the owner's asciicast and transcript from the record; another user's needs a policy", async () => {
      const started = await user1.call(sessions.StartSession, { Target: production.instanceId });
      const { client, host } = await joinSession(server, production, started);
      client.sendText('echo hello\r');
      await host.waitFor(() => host.text() === 'echo hello\r', 'input at the agent');
      host.sendText('hello\r\n$ ');
      await client.waitFor(() => client.text() === 'hello\r\n$ ', 'output at the client');
      await user1.call(sessions.TerminateSession, { SessionId: started.SessionId });
      await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.End), 'End');

      const cast = await user1.call(sessions.GetSessionRecording, { SessionId: started.SessionId });
      assert.equal(cast.Format, 'asciicast');
      const [header, ...events] = cast.Content.trimEnd().split('\n');
      assert.equal((JSON.parse(header ?? '{}') as { version?: number }).version, 2);
      const parsed = events.map((line) => JSON.parse(line) as [number, string, string]);
      assert.ok(parsed.some(([, kind, text]) => kind === 'o' && text === 'hello\r\n$ '), cast.Content);
      assert.ok(parsed.every(([time], index) => index === 0 || time >= (parsed[index - 1]?.[0] ?? 0)), 'times never go back');
      const log = await user1.call(sessions.GetSessionRecording, { SessionId: started.SessionId, Format: 'transcript' });
      assert.match(log.Content, /hello/);

      await assert.rejects(user2.call(sessions.GetSessionRecording, { SessionId: started.SessionId }), (error: unknown) => {
        assert.ok(error instanceof AirlockApiError);
        assert.equal(error.code, 'AccessDeniedException');
        assert.match(error.message, /ssm:GetSessionRecording on resource: arn:aws:ssm:[^:]+:\d{12}:session\/testuser01-/);
        return true;
      });
      const root = await server.root.call(sessions.GetSessionRecording, { SessionId: started.SessionId });
      assert.equal(root.Content, cast.Content);
      client.close();
      host.close();
    });
  });
}
