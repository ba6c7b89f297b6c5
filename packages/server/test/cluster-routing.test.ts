/**
 * Three nodes on one PostgreSQL database (DESIGN §9), real processes on loopback ports, a real
 * agent on a real PTY behind a small failover balancer. A client on node A reaches the agent
 * held by node C: the agent dials A directly, so the session's bytes never pass through C.
 * Node C is killed with SIGKILL: the agent comes back through the balancer to B, the shell on A
 * goes on, ResumeSession served by B sends the client to A; an instance left on C goes
 * ConnectionLost once C's lease runs out. C starts again under its name and rejoins: a session
 * started through C reaches the agent now held by B. C is killed again while carrying it: once
 * C's heartbeat has lapsed, ResumeSession through A moves the session to A, which takes it up
 * from its two ends (nothing lost or doubled); A restarts and takes it up again; back again, C
 * leaves it to A and hands its segment of the record over: read whole, every line once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { AirlockClient } from '@airlock/client';
import { events, sessions } from '@airlock/protocol';
import { auditVerify, DataPeer, eventually, stillMoving, SimulatedAgent, startFailoverProxy, startNamedCluster } from '@airlock/testkit';
import { startRealAgent } from '@airlock/testkit/real-agent';

const SSM_USER = `airlock-n${randomBytes(3).toString('hex')}`;

test('three nodes: a client on A reaches an agent held by C; C killed, its lease runs out, C rejoins', { timeout: 240_000 }, async (t) => {
  const cluster = await startNamedCluster();
  t.after(async () => {
    await cluster.stop();
    spawnSync('userdel', ['-r', SSM_USER], { stdio: 'ignore' });
  });
  const { a, b, c, database, rootOn, pingStatus } = cluster;
  const dirAgent = await cluster.directory();
  const holder = async (instanceId: string): Promise<{ node: string | null; lease: number | null }> => {
    const { rows } = await database.query<{ connected_node: string | null; lease_expires_at: string | null }>('select connected_node, lease_expires_at from instances where instance_id = $1', [instanceId]);
    const row = rows[0];
    return { node: row?.connected_node ?? null, lease: row?.lease_expires_at == null ? null : Number(row.lease_expires_at) };
  };

  // The console served by A may open data channels to every node (the one carrying a session).
  const consolePolicy = async (): Promise<string> => (await fetch(`${a.url}/`)).headers.get('content-security-policy') ?? '';
  await eventually(
    async () => {
      const policy = await consolePolicy();
      return [a, b, c].every((each) => policy.includes(` ${each.url.replace(/^http/, 'ws')}`));
    },
    "every node in the connect-src of A's console",
    10_000,
  );

  // The agent reaches the nodes through a balancer that prefers C, then B, then A.
  const proxy = await startFailoverProxy([c.url, b.url, a.url]);
  cluster.onStop(() => proxy.close());
  const agent = await startRealAgent({ url: proxy.url, root: rootOn(a) }, { stateDir: dirAgent, ssmUser: SSM_USER, sudoersFile: join(dirAgent, 'sudoers') });
  cluster.onStop(() => agent.stop());
  await eventually(async () => (await holder(agent.instanceId)).node === 'c', 'the agent held by C', 10_000);

  // An instance whose agent talks to C alone: after C dies, only its lease says where it was.
  const onlyC = await SimulatedAgent.register({ root: rootOn(a), client: () => new AirlockClient({ endpointUrl: a.url }) });
  await onlyC.connect(c);
  cluster.onStop(() => {
    onlyC.disconnect();
  });
  assert.equal((await holder(onlyC.instanceId)).node, 'c');
  assert.equal(await pingStatus(a, onlyC.instanceId), 'Online', 'A counts the instance C holds (its lease runs)');
  // Rules hear when an instance loses its connection, also when the node holding it dies.
  const lost: { detail: { 'instance-id': string; reason: string } }[] = [];
  const hooks = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      lost.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof lost)[number]);
      response.end();
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  cluster.onStop(() => new Promise((resolve) => hooks.close(resolve)));
  const { port } = hooks.address() as AddressInfo;
  await rootOn(a).call(events.PutRule, { Name: 'connection-lost', EventPattern: JSON.stringify({ 'detail-type': ['Managed Instance Connection Lost'], detail: { 'instance-id': [onlyC.instanceId] } }) });
  await rootOn(a).call(events.PutTargets, { Rule: 'connection-lost', Targets: [{ Id: 'hook', Arn: `http://127.0.0.1:${port}/lost` }] });

  // A client on A: the session lives on A, the agent held by C is told (through C) to dial A.
  const started = await rootOn(a).call(sessions.StartSession, { Target: agent.instanceId });
  assert.ok(started.StreamUrl.startsWith(a.url.replace(/^http/, 'ws')), `the stream is on A: ${started.StreamUrl}`);
  const client = new DataPeer();
  cluster.onStop(() => {
    client.close();
  });
  await client.connect(started.StreamUrl, { role: 'client', token: started.TokenValue });
  client.sendText('echo one-$((6*7))\n');
  await client.waitFor(() => client.text().includes('one-42'), 'the echo through the shell', 20_000);
  const { rows: carried } = await database.query<{ node_id: string }>('select node_id from sessions where session_id = $1', [started.SessionId]);
  assert.equal(carried[0]?.node_id, 'a');
  // The data channel came to A directly: C only passed the session-open on.
  assert.equal(proxy.routed.filter((backend) => backend === a.url).length, 0, 'nothing of the agent went through the balancer to A');

  // C dies. The agent comes back through the balancer to B within the 30 s backoff cap.
  await c.kill();
  const killedAt = Date.now();
  await eventually(async () => (await holder(agent.instanceId)).node === 'b', 'the agent back on B', 40_000);
  t.diagnostic(`the agent was back on B ${Date.now() - killedAt} ms after C's kill`);
  assert.equal(await pingStatus(a, agent.instanceId), 'Online');
  // The shell on A goes on.
  client.sendText('echo two-$((6*7))\n');
  await client.waitFor(() => client.text().includes('two-42'), 'the shell after C died', 10_000);

  // The client drops; ResumeSession served by B sends it back to A, and the shell goes on.
  client.drop();
  const resumed = await rootOn(b).call(sessions.ResumeSession, { SessionId: started.SessionId });
  assert.ok(resumed.StreamUrl.startsWith(a.url.replace(/^http/, 'ws')), `resumed on A: ${resumed.StreamUrl}`);
  await client.connect(resumed.StreamUrl, { role: 'client', token: resumed.TokenValue });
  client.sendText('echo three-$((6*7))\n');
  await client.waitFor(() => client.text().includes('three-42'), 'the shell after resuming through B', 10_000);

  // C's lease on the instance it held runs out: ConnectionLost, though the row still names C.
  const lease = await holder(onlyC.instanceId);
  assert.equal(lease.node, 'c');
  await eventually(async () => (await pingStatus(a, onlyC.instanceId)) === 'ConnectionLost', "the lease of dead C", 45_000);
  t.diagnostic(`C's instance read ConnectionLost ${Date.now() - killedAt} ms after C's kill (lease 30 s)`);
  assert.ok(Date.now() >= (lease.lease ?? 0), 'ConnectionLost only once the lease expired');
  // One node cleared the dead node's lease and raised the event, once.
  await eventually(() => Promise.resolve(lost.length > 0), 'Managed Instance Connection Lost for the instance C held', 30_000);
  assert.equal(lost.length, 1);
  assert.match(lost[0]?.detail.reason ?? '', /node holding its control channel \(c\) stopped/);
  assert.equal((await holder(onlyC.instanceId)).node, null, "the dead node's lease cleared");

  // C starts again under its name and rejoins: its row is fresh, it takes its instance back, and
  // a session started through C reaches the agent now held by B.
  await c.start();
  const { rows: rejoined } = await database.query<{ heartbeat_at: string; stopped_at: string | null }>("select heartbeat_at, stopped_at from nodes where node_name = 'c'");
  const [row] = rejoined;
  assert.ok(row !== undefined && row.stopped_at === null, 'C running again');
  assert.ok(Date.now() - Number(row.heartbeat_at) < 10_000, 'with a fresh heartbeat');
  await onlyC.connect(c);
  await eventually(async () => (await pingStatus(a, onlyC.instanceId)) === 'Online', 'the instance back on C', 10_000);
  const throughC = await rootOn(c).call(sessions.StartSession, { Target: agent.instanceId });
  assert.ok(throughC.StreamUrl.startsWith(c.url.replace(/^http/, 'ws')));
  const second = new DataPeer();
  cluster.onStop(() => {
    second.close();
  });
  await second.connect(throughC.StreamUrl, { role: 'client', token: throughC.TokenValue });
  second.sendText('echo four-$((6*7))\n');
  await second.waitFor(() => second.text().includes('four-42'), 'a session through the rejoined C', 20_000);

  // A third session on C, terminated through B while C is down.
  const third = await rootOn(c).call(sessions.StartSession, { Target: agent.instanceId });
  const thirdClient = new DataPeer();
  cluster.onStop(() => {
    thirdClient.close();
  });
  await thirdClient.connect(third.StreamUrl, { role: 'client', token: third.TokenValue });
  thirdClient.sendText('echo six-$((6*7))\n');
  await thirdClient.waitFor(() => thirdClient.text().includes('six-42'), 'the third session', 20_000);

  // C dies again, now carrying that session, just after it printed. Once C's heartbeat is 15 s
  // old, ResumeSession through A moves the session to A, which takes it up from its two ends:
  // the shell goes on, no byte lost or doubled.
  second.sendText('echo five-$((6*7)); sleep 0.3; echo after-$((2+3))\n');
  await second.waitFor(() => second.text().includes('five-42'), 'the shell before C dies again', 10_000);
  await c.kill();
  const diedAt = Date.now();
  // Until then A still takes C for alive and answers C's URL.
  let moved = { StreamUrl: '', TokenValue: '' };
  await eventually(
    async () => {
      moved = (await rootOn(a).call(sessions.ResumeSession, { SessionId: throughC.SessionId }).catch(stillMoving)) ?? moved;
      return moved.StreamUrl.startsWith(a.url.replace(/^http/, 'ws'));
    },
    'ResumeSession through A moving the session to A',
    30_000,
  );
  t.diagnostic(`the session moved to A ${Date.now() - diedAt} ms after C's kill (heartbeat TTL 15 s)`);
  const { rows: movedRow } = await database.query<{ node_id: string; status: string }>('select node_id, status from sessions where session_id = $1', [throughC.SessionId]);
  assert.equal(movedRow[0]?.node_id, 'a');
  second.drop();
  await second.connect(moved.StreamUrl, { role: 'client', token: moved.TokenValue });
  second.sendText('echo moved-$((6*7))\n');
  await second.waitFor(() => second.text().includes('moved-42'), 'the shell on A after the takeover', 30_000);
  for (const line of ['five-42', 'after-5', 'moved-42']) assert.equal(second.text().split(line).length - 1, 1, `${line} arrived once: ${JSON.stringify(second.text().slice(-300))}`);
  assert.match(second.text(), /four-42[\s\S]*five-42[\s\S]*after-5[\s\S]*moved-42/);
  // A's record of the session holds what was typed and printed after the takeover.
  const recording = await rootOn(a).call(sessions.GetSessionRecording, { SessionId: throughC.SessionId, Format: 'transcript' });
  assert.match(recording.Content, /moved-42/);

  // A is killed and restarts while carrying the moved session: it takes it up again from its two ends.
  await a.kill();
  await a.start();
  await eventually(
    async () => {
      const again = await rootOn(b).call(sessions.ResumeSession, { SessionId: throughC.SessionId }).catch(stillMoving);
      if (again === undefined) return false;
      return second.connect(again.StreamUrl, { role: 'client', token: again.TokenValue }).then(
        () => true,
        () => false,
      );
    },
    'the client back on the restarted A',
    40_000,
  );
  second.sendText('echo restarted-$((6*7))\n');
  await second.waitFor(() => second.text().includes('restarted-42'), 'the shell on A after its restart', 30_000);
  for (const line of ['moved-42', 'restarted-42']) assert.equal(second.text().split(line).length - 1, 1, `${line} arrived once`);

  // A third session on C, terminated through B while C is down: C ends and seals it once back.
  const sessionState = async (sessionId: string, state: 'Active' | 'History'): Promise<{ Status?: string; Details?: string } | undefined> =>
    (await rootOn(b).call(sessions.DescribeSessions, { State: state, Filters: [{ key: 'SessionId', value: sessionId }] })).Sessions[0];
  await rootOn(b).call(sessions.TerminateSession, { SessionId: third.SessionId });
  assert.equal((await sessionState(third.SessionId, 'Active'))?.Status, 'Terminating', 'Terminating while C is down');
  await c.start();
  await eventually(async () => (await sessionState(third.SessionId, 'History'))?.Details === 'terminated by root', 'the third session Terminated once C is back', 30_000);
  const sealed = async (): Promise<boolean> =>
    (await database.query("select 1 from audit_events where event_name = 'SealSessionRecord' and record like $1", [`%${third.SessionId}%`])).rowCount === 1;
  await eventually(sealed, "the third session's record sealed on C", 30_000);
  // Back, C does not take up the session it lost: it stays on A and goes on.
  const { rows: stillA } = await database.query<{ node_id: string }>('select node_id from sessions where session_id = $1', [throughC.SessionId]);
  assert.equal(stillA[0]?.node_id, 'a');
  second.sendText('echo seven-$((6*7))\n');
  await second.waitFor(() => second.text().includes('seven-42'), 'the shell on A after C is back', 10_000);

  await rootOn(b).call(sessions.TerminateSession, { SessionId: throughC.SessionId });
  await second.waitFor(() => second.closed !== undefined, 'the session ended by A when B was asked', 10_000);
  // Its record is in two segments, C's (handed over when C came back) and A's (sealed at the end),
  // read merged through any node: every line once, in order.
  let whole = '';
  await eventually(
    async () => {
      whole = (await rootOn(b).call(sessions.GetSessionRecording, { SessionId: throughC.SessionId, Format: 'transcript' })).Content;
      return whole.includes('seven-42');
    },
    "the moved session's record with A's segment",
    10_000,
  );
  for (const line of ['four-42', 'five-42', 'after-5', 'moved-42', 'restarted-42', 'seven-42']) assert.equal(whole.split(line).length - 1, 1, `${line} once in the record`);
  assert.match(whole, /four-42[\s\S]*five-42[\s\S]*after-5[\s\S]*moved-42[\s\S]*restarted-42[\s\S]*seven-42/);
  const segmentSeals = await database.query<{ record: string }>("select record from audit_events where event_name = 'SealSessionRecord' and record like $1", [`%${throughC.SessionId}%`]);
  assert.deepEqual(segmentSeals.rows.map((row) => (JSON.parse(row.record) as { responseElements: { node?: string } }).responseElements.node).sort(), ['a', 'c'], 'a seal for each segment');
  // Read from the database: any node's, or an auditor's, data directory will do.
  const auditorDir = await cluster.directory();
  const verified = await auditVerify(throughC.SessionId, { dataDir: auditorDir, databaseUrl: cluster.databaseUrl });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  // An edited entry in C's segment shows, named by its node.
  const { rows: parts } = await database.query<{ body: string }>("select body from record_segments where session_id = $1 and node_id = 'c' and part = 0", [throughC.SessionId]);
  const bytes = Buffer.from(parts[0]?.body ?? '', 'base64');
  const at = bytes.indexOf('four-42');
  assert.ok(at > 0, "C's segment holds four-42");
  bytes.write('FOUR', at);
  await database.query("update record_segments set body = $1 where session_id = $2 and node_id = 'c' and part = 0", [bytes.toString('base64'), throughC.SessionId]);
  const tampered = await auditVerify(throughC.SessionId, { dataDir: auditorDir, databaseUrl: cluster.databaseUrl });
  assert.equal(tampered.code, 1);
  assert.match(tampered.stdout, /node c's segment: entry \d+ does not chain/);
});
