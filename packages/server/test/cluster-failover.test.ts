/**
 * Issue 9's failover at scale: three nodes on one PostgreSQL schema, ten real agents (real PTYs)
 * carrying fifty live sessions that print numbered lines. Eight agents reach the nodes through
 * balancers that prefer C, so C holds their control channels; the sessions are carried by A, B
 * and C in turn. C is killed with SIGKILL: every agent it held is back on A or B within 30 s, at
 * times spread by the agents' full jitter; each client drops and resumes through another node
 * (C's sessions move to it once C's heartbeat has lapsed), and every session's numbered lines
 * arrive once each, in order, to the end (and so in the records of a few, read with
 * GetSessionRecording). C's lease runs out; C restarts, rejoins, leaves its moved sessions be and
 * hands over its segments of their records: a few, ended, read whole, every line once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { AirlockClient } from '@airlock/client';
import { sessions } from '@airlock/protocol';
import { DataPeer, eventually, stillMoving, SimulatedAgent, startFailoverProxy, startNamedCluster } from '@airlock/testkit';
import { startRealAgent, type RealAgent } from '@airlock/testkit/real-agent';

const AGENTS = 10;
/** Agents 0..7 reach the nodes through balancers preferring C. */
const HELD_BY_C = 8;
const SESSIONS = 50;
/** Lines each session prints, one every 0.2 s: still printing well after C's kill and the resumes. */
const LINES = 100;
const USER_PREFIX = `airlock-f${randomBytes(2).toString('hex')}`;

/** The numbers of the lines `tag-N` in `text`, in order of arrival (the typed command's `$j` never matches). */
function numbered(text: string, tag: string): number[] {
  return [...text.matchAll(new RegExp(`^${tag}-(\\d+)\\r?$`, 'gm'))].map((match) => Number(match[1]));
}

const oneToLines = Array.from({ length: LINES }, (_, index) => index + 1);

test('three nodes, fifty live sessions: C killed, its agents back on A and B with jitter, no line lost or doubled, C rejoins', { timeout: 150_000 }, async (t) => {
  const cluster = await startNamedCluster();
  t.after(async () => {
    await cluster.stop();
    for (let index = 0; index < AGENTS; index++) spawnSync('userdel', ['-r', `${USER_PREFIX}${index}`], { stdio: 'ignore' });
  });
  const { a, b, c, database, rootOn, pingStatus } = cluster;
  const holders = async (instanceIds: readonly string[]): Promise<Map<string, string | null>> => {
    const { rows } = await database.query<{ instance_id: string; connected_node: string | null }>('select instance_id, connected_node from instances where instance_id = any($1)', [instanceIds]);
    return new Map(rows.map((row) => [row.instance_id, row.connected_node]));
  };

  // Two balancers prefer C and fall back to A or to B, so C's agents come back to both; a third
  // prefers B, for agents C never held.
  const proxies = await Promise.all([
    [c.url, a.url, b.url],
    [c.url, b.url, a.url],
    [b.url, a.url, c.url],
  ].map((order) => startFailoverProxy(order)));
  for (const proxy of proxies) cluster.onStop(() => proxy.close());
  const welcomes = new Map<number, number[]>();
  const agents: RealAgent[] = [];
  for (let index = 0; index < AGENTS; index++) {
    const proxy = proxies[index < HELD_BY_C ? index % 2 : 2];
    const stateDir = await cluster.directory();
    assert.ok(proxy !== undefined);
    const times: number[] = [];
    welcomes.set(index, times);
    const agent = await startRealAgent(
      { url: proxy.url, root: rootOn(a) },
      {
        stateDir,
        ssmUser: `${USER_PREFIX}${index}`,
        sudoersFile: join(stateDir, 'sudoers'),
        onEvent: (event) => {
          if (event.type === 'welcome') times.push(Date.now());
        },
      },
    );
    agents.push(agent);
    cluster.onStop(() => agent.stop());
  }
  const instanceIds = agents.map((agent) => agent.instanceId);
  const cHeld = instanceIds.slice(0, HELD_BY_C);
  await eventually(async () => {
    const held = await holders(instanceIds);
    return instanceIds.every((id, index) => held.get(id) === (index < HELD_BY_C ? 'c' : 'b'));
  }, 'eight agents held by C, two by B', 15_000);

  // An instance whose agent talks to C alone: after C dies, only its lease says where it was.
  const onlyC = await SimulatedAgent.register({ root: rootOn(a), client: () => new AirlockClient({ endpointUrl: a.url }) });
  await onlyC.connect(c);
  cluster.onStop(() => {
    onlyC.disconnect();
  });

  // Fifty sessions, five per agent, carried in turn by A, B and C, each printing its lines.
  const live = await Promise.all(
    Array.from({ length: SESSIONS }, async (_, index) => {
      const carrier = [a, b, c][index % 3] ?? a;
      const target = instanceIds[index % AGENTS] ?? '';
      const started = await rootOn(carrier).call(sessions.StartSession, { Target: target });
      assert.ok(started.StreamUrl.startsWith(carrier.url.replace(/^http/, 'ws')), `session ${index} on ${carrier.name}: ${started.StreamUrl}`);
      const client = new DataPeer();
      cluster.onStop(() => {
        client.close();
      });
      await client.connect(started.StreamUrl, { role: 'client', token: started.TokenValue });
      const tag = `s${index}`;
      // The shell's own timer (read times out on the silent terminal), not `sleep`: fifty sessions
      // forking five times a second saturated both cores on a VM whose forks take 5–10 ms.
      client.sendText(`for j in $(seq 1 ${LINES}); do echo ${tag}-$j; read -t 0.2; done\n`);
      // Where its client resumes: the other live node (one of A and B for C's).
      const other = carrier === a ? b : carrier === b ? a : index % 2 === 0 ? a : b;
      return { index, carrier, other, sessionId: started.SessionId, client, tag };
    }),
  );
  await Promise.all(live.map(({ client, tag }) => client.waitFor(() => numbered(client.text(), tag).length >= 3, `output of ${tag}`, 30_000)));

  // C dies.
  const killedAt = Date.now();
  await c.kill();
  const leaseRunsOut = eventually(async () => (await pingStatus(a, onlyC.instanceId)) === 'ConnectionLost', "the lease of dead C's instance", 45_000).then(() => Date.now() - killedAt);

  // Every agent C held is back on A or B within 30 s, at times its jitter drew.
  await eventually(async () => {
    const held = await holders(cHeld);
    return cHeld.every((id) => held.get(id) === 'a' || held.get(id) === 'b');
  }, "C's agents back on A or B", 30_000);
  const back = cHeld.map((_, index) => (welcomes.get(index) ?? []).find((time) => time > killedAt));
  const delays = back.map((time) => (time === undefined ? Number.NaN : time - killedAt)).sort((x, y) => x - y);
  t.diagnostic(`C's agents reconnected ${delays.join(', ')} ms after its kill`);
  assert.ok(delays.every((delay) => delay >= 0 && delay < 30_000), `each within 30 s: ${delays.join(', ')}`);
  const spread = (delays.at(-1) ?? 0) - (delays[0] ?? 0);
  // The first redial waits a uniform draw in [0, 1 s]: eight draws all within 100 ms of each
  // other happen about once in a million runs; a herd without jitter lands within a few ms.
  assert.ok(spread >= 100, `reconnects spread over ${spread} ms`);
  const landed = await holders(cHeld);
  assert.ok(['a', 'b'].every((name) => [...landed.values()].includes(name)), 'some on A and some on B');

  // Every client drops and resumes through the other node; the output goes on to the end. A
  // session C carried moves to the node its client resumes through once C's heartbeat lapsed.
  const wsOf = (node: typeof a): string => node.url.replace(/^http/, 'ws');
  await Promise.all(
    live.map(async ({ client, sessionId, carrier, other }) => {
      client.drop();
      const home = carrier === c ? other : carrier;
      let resumed = { StreamUrl: '', TokenValue: '' };
      await eventually(
        async () => {
          resumed = (await rootOn(other).call(sessions.ResumeSession, { SessionId: sessionId }).catch(stillMoving)) ?? resumed;
          return resumed.StreamUrl.startsWith(wsOf(home));
        },
        `${sessionId} resumed on ${home.name}`,
        carrier === c ? 40_000 : 1_000,
      );
      await client.connect(resumed.StreamUrl, { role: 'client', token: resumed.TokenValue });
    }),
  );
  t.diagnostic(`every session resumed ${Date.now() - killedAt} ms after C's kill (C's moved once its heartbeat was 15 s old)`);
  await Promise.all(live.map(({ client, tag }) => client.waitFor(() => numbered(client.text(), tag).length >= LINES, `all of ${tag}'s lines`, 60_000)));
  for (const { client, tag } of live) assert.deepEqual(numbered(client.text(), tag), oneToLines, `${tag}: each line once, in order`);

  // The records hold every line once too (a few sessions, ended first so their records are sealed).
  // (C's moved sessions: once C is back and has handed its segments over, below.)
  for (const { sessionId, carrier, other, client, tag } of live.filter((session) => session.carrier !== c).slice(0, 4)) {
    await rootOn(other).call(sessions.TerminateSession, { SessionId: sessionId });
    await client.waitFor(() => client.closed !== undefined, `${tag} ended`, 10_000);
    const { Content } = await rootOn(carrier).call(sessions.GetSessionRecording, { SessionId: sessionId, Format: 'transcript' });
    assert.deepEqual(numbered(Content, tag), oneToLines, `${tag}'s record: each line once, in order`);
  }

  // C's lease ran out: its instance reads ConnectionLost.
  t.diagnostic(`C's instance read ConnectionLost ${await leaseRunsOut} ms after C's kill (lease 30 s)`);

  // C restarts under its name and rejoins: a fresh heartbeat, its instance back, a session through it.
  await c.start();
  const { rows } = await database.query<{ heartbeat_at: string; stopped_at: string | null }>("select heartbeat_at, stopped_at from nodes where node_name = 'c'");
  assert.ok(rows[0] !== undefined && rows[0].stopped_at === null && Date.now() - Number(rows[0].heartbeat_at) < 10_000, 'C running again with a fresh heartbeat');
  await onlyC.connect(c);
  await eventually(async () => (await pingStatus(a, onlyC.instanceId)) === 'Online', 'the instance back on C', 10_000);
  // Back, C does not take up the sessions that moved away from it.
  const movedAway = live.filter((session) => session.carrier === c).map((session) => session.sessionId);
  const { rows: nowOn } = await database.query<{ node_id: string }>('select node_id from sessions where session_id = any($1)', [movedAway]);
  assert.ok(nowOn.length === movedAway.length && nowOn.every((row) => row.node_id !== 'c'), `C's moved sessions stay away: ${nowOn.map((row) => row.node_id).join(',')}`);
  // Their records are whole: C's segments, handed over at its start, merged with the new carriers'.
  for (const { sessionId, other, client, tag } of live.filter((session) => session.carrier === c).slice(0, 3)) {
    await rootOn(a).call(sessions.TerminateSession, { SessionId: sessionId });
    await client.waitFor(() => client.closed !== undefined, `${tag} ended`, 10_000);
    const { Content } = await rootOn(other).call(sessions.GetSessionRecording, { SessionId: sessionId, Format: 'transcript' });
    assert.deepEqual(numbered(Content, tag), oneToLines, `${tag}'s record from two segments: each line once, in order`);
  }
  const throughC = await rootOn(c).call(sessions.StartSession, { Target: cHeld[0] ?? '' });
  const viaC = new DataPeer();
  cluster.onStop(() => {
    viaC.close();
  });
  await viaC.connect(throughC.StreamUrl, { role: 'client', token: throughC.TokenValue });
  viaC.sendText('echo rejoined-$((6*7))\n');
  await viaC.waitFor(() => viaC.text().includes('rejoined-42'), 'a session through the rejoined C', 20_000);
});
