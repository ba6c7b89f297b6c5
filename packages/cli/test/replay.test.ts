/**
 * `airlock ssm replay SESSION_ID [--speed N]` against a real server: a recorded session's output
 * (from its record by GetSessionRecording, and from its stream in the log group) is written in order, with its pauses divided
 * by the speed and long ones cut to two seconds; input is not replayed (the echo shows it).
 * Unknown sessions and bad speeds are refused with what to do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { data, documents, sessions } from '@airlock/protocol';
import { DataPeer, sessionPreferences, SimulatedAgent, startTestServer, type TestServer } from '@airlock/testkit';
import { MAX_PAUSE_MS, pauseBefore } from '@airlock/cli/commands/replay';
import { airlock } from './helpers.js';

const GROUP = 'SessionManagerLogGroup';
const PREFERENCES = sessionPreferences({ s3BucketName: '', s3EncryptionEnabled: false, cloudWatchLogGroupName: GROUP, cloudWatchStreamingEnabled: false });

describe('airlock ssm replay', () => {
  let server: TestServer;
  let agent: SimulatedAgent;
  let sessionId = '';
  const connection = (): string[] => ['--endpoint-url', server.url, '--token-file', `${server.dataDir}/root-token`];

  before(async () => {
    server = await startTestServer();
    agent = await SimulatedAgent.register(server);
    await agent.connect(server);
    await server.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: PREFERENCES, DocumentType: 'Session' });
    // A shell: a prompt; 1.5 s later a command typed and its output; a minute later the next prompt.
    const started = await server.root.call(sessions.StartSession, { Target: agent.instanceId });
    sessionId = started.SessionId;
    const client = new DataPeer();
    await client.connect(started.StreamUrl, { role: 'client', token: started.TokenValue });
    const opened = await agent.sessionOpen(sessionId);
    const host = new DataPeer();
    await host.connect(`${server.url.replace(/^http/, 'ws')}${data.DATA_PATH_AGENT}`, { role: 'agent', sessionId, instanceId: agent.instanceId, nonce: opened.nonce, privateKey: agent.privateKey });
    const exchange = async (input: string | undefined, output: string): Promise<void> => {
      if (input !== undefined) {
        client.sendText(input);
        await host.waitFor(() => host.text().endsWith(input), 'the input');
      }
      host.sendText(output);
      await client.waitFor(() => client.text().endsWith(output), 'the output');
    };
    await exchange(undefined, '$ ');
    server.clock.advance(1_500);
    await exchange('uptime\r', 'uptime\r\n 18:00:00 up 3 days\r\n');
    server.clock.advance(60_000);
    await exchange(undefined, '$ ');
    await server.root.call(sessions.TerminateSession, { SessionId: sessionId });
    host.close();
    client.close();
  });
  after(async () => {
    agent.disconnect();
    await server.stop();
  });

  test('plays the output in order with its pauses divided by --speed, long pauses cut to two seconds, from the record or the log group', async () => {
    // The record reaches the log group just after the end.
    let played = await airlock(['ssm', 'replay', sessionId, '--speed', '1000', '--log-group-name', GROUP, ...connection()]);
    for (let attempt = 0; attempt < 50 && played.code !== 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      played = await airlock(['ssm', 'replay', sessionId, '--speed', '1000', '--log-group-name', GROUP, ...connection()]);
    }
    const began = Date.now();
    const again = await airlock(['ssm', 'replay', sessionId, '--speed', '10', ...connection()]);
    const took = Date.now() - began;
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, '$ uptime\r\n 18:00:00 up 3 days\r\n$ ');
    // 1.5 s and (cut to) 2 s, ten times faster.
    assert.ok(took >= 330 && took < 2_500, `played in ${took} ms`);
    // The same from the copy in the log group (the path for a record held by another node).
    const fromLogGroup = await airlock(['ssm', 'replay', sessionId, '--speed', '10', '--log-group-name', GROUP, ...connection()]);
    assert.equal(fromLogGroup.code, 0, fromLogGroup.stderr);
    assert.equal(fromLogGroup.stdout, again.stdout);
    assert.equal(pauseBefore(60_000, 1), MAX_PAUSE_MS);
    assert.equal(pauseBefore(1_500, 10), 150);
  });

  test('an unknown session, a bad speed or no session id is refused with what to do', async () => {
    const unknown = await airlock(['ssm', 'replay', 'root-00000000000000000', '--log-group-name', GROUP, ...connection()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /session root-00000000000000000 has no recording in log group SessionManagerLogGroup/);
    const slow = await airlock(['ssm', 'replay', sessionId, '--speed', '0', ...connection()]);
    assert.equal(slow.code, 2);
    assert.match(slow.stderr, /--speed must be a number above 0/);
    const none = await airlock(['ssm', 'replay', ...connection()]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Say which session: airlock ssm replay SESSION_ID/);
  });
});
