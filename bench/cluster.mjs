#!/usr/bin/env node
// npm run bench:cluster [-- --agents N --sessions S --sign-ins-per-s R --measure-s M …] — three
// server nodes (child processes, --node-name each) on one PostgreSQL database (a fresh schema in
// AIRLOCK_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test), N simulated agents
// spread over them (real registration, real control protocol, heartbeats at the server's
// interval), S sessions printing output whose client is on another node than the agent's (the
// agent dials the client's node, DESIGN §9), and R password sign-ins a second, for M seconds.
// Reports API latency (reads and sign-ins), session start latency (StartSession → first output
// at the client), CPU and memory per node, and the PostgreSQL connections the nodes hold.
// Bounded: --timeout-s (default 600) stops everything. Exits 1 when something failed, 2 on the
// time bound or a setup failure.
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { control, data, fleet, identitystore, portal, sessions } from '@airlock/protocol';
import { listOutbox } from '@airlock/server/mail/outbox';
import { DataPeer, startCluster, withSchema } from '@airlock/testkit';
import pg from 'pg';
import { WebSocket } from 'ws';
import { positiveOptions } from './args.mjs';
import { cpuSeconds, rssBytes, say, sleep, stats } from './sessions-rig.mjs';

const DEFAULTS = { agents: 10_000, sessions: 300, 'sign-ins-per-s': 50, 'reads-per-s': 20, 'measure-s': 60, 'timeout-s': 600 };
const values = positiveOptions(DEFAULTS);
const N = values.agents;
const SESSIONS = values.sessions;
const SIGN_INS_PER_S = values['sign-ins-per-s'];
const READS_PER_S = values['reads-per-s'];
const MEASURE_S = values['measure-s'];
const TIMEOUT_S = values['timeout-s'];
const NODES = 3;
// 50 sign-ins a second come from many people, each signing in now and then: with 500, one
// person signs in every 10 s. (A person's attempts in flight count against their lockout until
// the password is found right: five at once would lock them.)
const USERS = 500;
const PASSWORD = 'a long benchmark passphrase';
const OUTPUT_EVERY_MS = 500;
// This run's own name: pg_stat_activity covers the whole server, where another run's nodes may be.
const APP = `airlock-bench-cluster-${process.pid}`;

// ---- the cluster ---------------------------------------------------------------------------------
const schema = await withSchema();
const databaseUrl = new URL(schema.url);
// Named, so that pg_stat_activity tells the nodes' connections from everyone else's.
databaseUrl.searchParams.set('application_name', APP);
let cluster;
const agents = [];
const peers = [];
const timers = new Set();
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const timer of timers) clearInterval(timer);
  for (const agent of agents) {
    clearTimeout(agent.heartbeat);
    agent.socket?.terminate();
  }
  for (const peer of peers) peer.drop();
  await cluster?.stop();
  await schema.drop();
  process.exit(code);
}
const deadline = setTimeout(() => {
  console.error(`bench:cluster: not done within --timeout-s ${TIMEOUT_S}; stopping.`);
  void shutdown(2);
}, TIMEOUT_S * 1000);
process.once('SIGINT', () => void shutdown(130));
for (const event of ['unhandledRejection', 'uncaughtException']) {
  process.on(event, (error) => {
    console.error('bench:cluster: failed:', error);
    void shutdown(2);
  });
}

try {
  // The nodes sit behind a balancer on 127.0.0.1 that names each caller's own address in
  // X-Forwarded-For, as in production: the per-address limits count each person (each agent)
  // apart, not everyone as one address.
  cluster = await startCluster({ nodes: NODES, databaseUrl: databaseUrl.toString(), flags: (index) => ['--node-name', `bench-${String.fromCharCode(97 + index)}`, '--trusted-proxies', '127.0.0.1'] });
} catch (error) {
  console.error('bench:cluster: the nodes did not start:', error);
  await shutdown(2);
}
const nodes = cluster.nodes;
const rootToken = await cluster.rootToken();
const roots = nodes.map((node) => new AirlockClient({ endpointUrl: node.url, token: rootToken }));
/** An address of 10.0.0.0/8 for caller `i` (an agent, a person), as the balancer would name it. */
const addressOf = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
/** A client of `node` for a caller behind the balancer at `address`. */
const behindBalancer = (node, address) =>
  new AirlockClient({ endpointUrl: node.url, fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, 'x-forwarded-for': address } }) });
say(`${NODES} nodes on one PostgreSQL schema: ${nodes.map((node) => node.url).join(', ')}`);

/** Runs `work(i)` for i in [0, count), `width` at a time. */
async function pool(count, width, work) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

// ---- agents: registered through the API, control channels spread over the nodes ------------------
const registerStarted = performance.now();
// More than 1,000 managed instances need the advanced tier.
await roots[0].call(fleet.UpdateServiceSetting, { SettingId: fleet.ACTIVATION_TIER_SETTING, SettingValue: 'advanced' });
const activations = [];
for (let i = 0; i < Math.ceil(N / 1000); i++) activations.push(await roots[i % NODES].call(fleet.CreateActivation, { IamRole: 'SSMServiceRole', DefaultInstanceName: 'bench', RegistrationLimit: 1000 }));
// Each agent from its own address (a registration counts against its address's guess limit
// until its code is found right).
await pool(N, 16, async (index) => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const activation = activations[Math.floor(index / 1000)];
  const { InstanceId } = await behindBalancer(nodes[index % NODES], addressOf(index)).call(fleet.RegisterManagedInstance, {
    ActivationId: activation.ActivationId,
    ActivationCode: activation.ActivationCode,
    PublicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    PublicKeyType: 'Ed25519',
    Fingerprint: `bench-${index}`,
  });
  agents[index] = { index, instanceId: InstanceId, privateKey, node: index % NODES, sessions: new Map() };
});
say(`${N} agents registered in ${((performance.now() - registerStarted) / 1000).toFixed(1)} s`);

const failures = [];
function heartbeat(agent, intervalMs) {
  agent.socket.send('{"type":"heartbeat"}');
  agent.heartbeat = setTimeout(() => heartbeat(agent, intervalMs), intervalMs);
}

/** Dials the session's data channel where the server says and prints a line every OUTPUT_EVERY_MS. */
async function host(agent, message) {
  if (agent.sessions.has(message.sessionId)) return;
  const peer = new DataPeer();
  peers.push(peer);
  agent.sessions.set(message.sessionId, peer);
  const base = message.endpointUrl ?? nodes[agent.node].url;
  try {
    await peer.connect(`${base.replace(/^http/, 'ws')}${data.DATA_PATH_AGENT}`, { role: 'agent', sessionId: message.sessionId, instanceId: agent.instanceId, nonce: message.nonce, privateKey: agent.privateKey });
  } catch (error) {
    failures.push(`${agent.instanceId}: data channel: ${String(error)}`);
    return;
  }
  let line = 0;
  const print = () => {
    if (peer.closed === undefined) peer.sendText(`${message.sessionId} line ${++line} ${'.'.repeat(48)}\r\n`);
  };
  // A prompt at once, as a shell prints one, then a line every OUTPUT_EVERY_MS.
  print();
  const timer = setInterval(print, OUTPUT_EVERY_MS);
  timers.add(timer);
  peer.stop = () => {
    clearInterval(timer);
    timers.delete(timer);
  };
}

function connect(agent) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${nodes[agent.node].url.replace(/^http/, 'ws')}${control.CONTROL_PATH}`, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    agent.socket = socket;
    let welcomed = false;
    socket.on('message', (raw) => {
      const message = control.parseServerMessage(raw.toString('utf8'));
      switch (message?.type) {
        case 'challenge':
          socket.send(
            JSON.stringify({
              type: 'hello',
              instanceId: agent.instanceId,
              signature: sign(null, Buffer.from(control.signedChallenge(message.nonce, agent.instanceId)), agent.privateKey).toString('base64'),
              protocolVersion: control.CONTROL_PROTOCOL_VERSION,
              agentVersion: '0.1.0',
              capabilities: ['shell', 'port'],
              inventory: { platformName: 'Ubuntu', platformVersion: '24.04', kernel: '6.8.0', hostname: `bench-${agent.index}`, ipAddresses: ['10.0.0.1'], cpus: 2, memoryBytes: 4e9, agentVersion: '0.1.0' },
            }),
          );
          return;
        case 'welcome':
          welcomed = true;
          agent.heartbeat = setTimeout(() => heartbeat(agent, message.heartbeatIntervalMs), Math.random() * message.heartbeatIntervalMs);
          resolve();
          return;
        case 'session-open':
          void host(agent, message);
          return;
        case 'session-close':
          agent.sessions.get(message.sessionId)?.stop?.();
          return;
        default:
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', (code) => {
      clearTimeout(agent.heartbeat);
      if (!welcomed) reject(new Error(`${agent.instanceId}: closed (${code}) before welcome`));
      else if (!stopping) failures.push(`${agent.instanceId}: control channel closed (${code})`);
    });
  });
}
const connectStarted = performance.now();
await pool(N, 48, (index) => connect(agents[index]));
say(`${N} control channels open (about ${Math.round(N / NODES)} a node) in ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`);

// ---- people who sign in, each from an address of their own ---------------------------------------
const personOn = (u, node) => behindBalancer(nodes[node], addressOf(N + u));
const peopleStarted = performance.now();
await pool(USERS, 8, (u) => roots[0].call(identitystore.CreateUser, { UserName: `bench${u}`, Emails: [{ Value: `bench${u}@example.com`, Primary: true }] }));
const mails = await listOutbox(join(nodes[0].dataDir, 'outbox'));
await pool(USERS, 6, async (u) => {
  const link = mails.find((mail) => mail.to.includes(`bench${u}@example.com`))?.firstLink ?? '';
  await personOn(u, u % NODES).call(portal.AcceptInvitation, { InvitationToken: new URL(link).searchParams.get('token') ?? '', Password: PASSWORD });
});
say(`${USERS} people invited and their passwords set in ${((performance.now() - peopleStarted) / 1000).toFixed(1)} s`);

// ---- measuring: sessions opened, then sign-ins and reads while they print ------------------------
const pgAdmin = new pg.Client({ connectionString: schema.url });
await pgAdmin.connect();
// The nodes' backends every 250 ms: connections (client backends) apart from the parallel query
// workers PostgreSQL starts for them (they carry the leader's application_name), and what the
// busy ones wait on, to tell a queue in PostgreSQL from one in the nodes.
const pgConnections = [];
const pgWorkers = [];
const pgBusy = [];
const pgWaits = new Map();
/** The same, with the statement each was running (or, idle in a transaction, had run last). */
const pgStatements = new Map();
const samplePostgres = async () => {
  const { rows } = await pgAdmin.query('select backend_type, state, wait_event_type, wait_event, left(query, 60) as query from pg_stat_activity where application_name = $1', [APP]);
  pgConnections.push(rows.filter((row) => row.backend_type === 'client backend').length);
  pgWorkers.push(rows.filter((row) => row.backend_type === 'parallel worker').length);
  const busy = rows.filter((row) => row.backend_type === 'client backend' && row.state !== 'idle');
  pgBusy.push(busy.length);
  for (const row of busy) {
    const what = row.state === 'active' ? (row.wait_event_type === null ? 'running' : `${row.wait_event_type}:${row.wait_event}`) : row.state;
    pgWaits.set(what, (pgWaits.get(what) ?? 0) + 1);
    const statement = `${what} after ${row.query.replace(/\s+/g, ' ')}`;
    pgStatements.set(statement, (pgStatements.get(statement) ?? 0) + 1);
  }
};
const rss = nodes.map(() => []);
const sample = async () => {
  nodes.forEach((node, i) => rss[i].push(rssBytes(node.pid)));
};
await sample();
await samplePostgres();
const sampler = setInterval(() => void sample(), 2000);
timers.add(sampler);
let sampling;
const pgSampler = setInterval(() => {
  sampling ??= samplePostgres().finally(() => (sampling = undefined));
}, 250);
timers.add(pgSampler);
const cpuAtStart = nodes.map((node) => cpuSeconds(node.pid));
/**
 * A node's main thread (the event loop: its thread id is the process id): seconds it ran and
 * seconds it was ready but waited for a CPU (/proc/…/schedstat), apart from the threads that
 * hash passwords (libuv's pool) and collect garbage.
 */
const mainThread = (pid) => {
  const [ran, waited] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { ran: ran / 1e9, waited: waited / 1e9 };
};
const mainAtStart = nodes.map((node) => mainThread(node.pid));
// The bench process plays 10,000 agents and 600 data channels: if it is the bottleneck, its
// own event-loop delay shows how much of each latency is its own.
const benchCpuAtStart = cpuSeconds(process.pid);
/** The whole machine's CPU ticks (/proc/stat): how busy it was, and how much the hypervisor took (steal). */
const machineTicks = () => {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { busy: user + nice + system + irq + softirq, idle, iowait, steal };
};
const machineAtStart = machineTicks();
/** The nodes' PostgreSQL backends (the pool's connections live on, so their CPU adds up). */
const backendPids = async () => (await pgAdmin.query("select pid from pg_stat_activity where application_name = $1 and backend_type = 'client backend'", [APP])).rows.map((row) => row.pid);
const backendsAtStart = new Map((await backendPids()).map((pid) => [pid, cpuSeconds(pid)]));
const benchLoop = monitorEventLoopDelay({ resolution: 10 });
benchLoop.enable();
const measureStarted = performance.now();
const loadAtStart = loadavg();

const sessionStarts = [];
const clients = [];
const sessionsStarted = performance.now();
await pool(SESSIONS, 10, async (k) => {
  const agent = agents[Math.floor((k * N) / SESSIONS)];
  // The client on another node than the one holding the agent.
  const clientNode = (agent.node + 1 + (k % (NODES - 1))) % NODES;
  const started = performance.now();
  try {
    const session = await roots[clientNode].call(sessions.StartSession, { Target: agent.instanceId });
    const peer = new DataPeer();
    peers.push(peer);
    await peer.connect(session.StreamUrl, { role: 'client', token: session.TokenValue });
    await peer.waitFor(() => peer.frames.length > 0, 'first output', 30_000);
    sessionStarts.push(performance.now() - started);
    clients.push(peer);
  } catch (error) {
    failures.push(`session ${k}: ${String(error)}`);
  }
});
say(`${clients.length} of ${SESSIONS} sessions printing (opened in ${((performance.now() - sessionsStarted) / 1000).toFixed(1)} s)`);

const signIns = [];
const reads = [];
/** GET /healthz (one PostgreSQL read, no audit record): how long a node takes to answer at all. */
const probes = [];
const PROBES_PER_S = 5;
/** Sign-ins refused by the lockout: attempts in flight count until found right (identity/throttle.ts). */
let lockedOut = 0;
const lockouts = new Set();
/** Sign-ins answered ThrottlingException at once: the node had a few seconds of hashing queued (identity/passwords.ts). */
let busy = 0;
const timed = async (into, call) => {
  const started = performance.now();
  try {
    await call();
    into.push(performance.now() - started);
  } catch (error) {
    if (error instanceof AirlockApiError && error.code === 'ThrottlingException' && /too many passwords at once/.test(error.message)) busy++;
    else if (error instanceof AirlockApiError && /^Too many failed/.test(error.message)) {
      lockedOut++;
      lockouts.add(error.message.replace(/\d+ seconds/, 'N seconds'));
    } else failures.push(String(error));
  }
};
const bytesAtStart = clients.reduce((sum, peer) => sum + peer.frames.length, 0);
const windowStarted = performance.now();
const inFlight = new Set();
// Every 100 ms, as many calls as are due by then (a late timer does not lower the rate); the
// n-th sign-in is person n mod USERS's, so each person signs in every USERS / R seconds.
let signInsSent = 0;
let readsSent = 0;
let probesSent = 0;
const load = setInterval(() => {
  const elapsedS = (performance.now() - windowStarted) / 1000;
  for (; signInsSent < Math.floor(elapsedS * SIGN_INS_PER_S); signInsSent++) {
    const n = signInsSent;
    const promise = timed(signIns, async () => {
      const result = await personOn(n % USERS, n % NODES).call(portal.InitiateAuth, { Username: `bench${n % USERS}`, Password: PASSWORD });
      if (result.ChallengeName !== 'EMAIL_OTP') throw new Error(`sign-in: ${JSON.stringify(result)}`);
    });
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
  }
  for (; readsSent < Math.floor(elapsedS * READS_PER_S); readsSent++) {
    const n = readsSent;
    const agent = agents[n % N];
    const promise = timed(reads, () => (n % 2 === 0 ? roots[n % NODES].call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [agent.instanceId] }] }) : roots[n % NODES].call(identitystore.ListUsers, {})));
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
  }
  for (; probesSent < Math.floor(elapsedS * PROBES_PER_S); probesSent++) {
    const node = nodes[probesSent % NODES];
    const promise = timed(probes, async () => {
      const response = await fetch(`${node.url}/healthz`);
      if (!response.ok) throw new Error(`${node.url}/healthz: HTTP ${response.status}`);
      await response.arrayBuffer();
    });
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
  }
}, 100);
timers.add(load);
await sleep(MEASURE_S * 1000);
clearInterval(load);
await Promise.all([...inFlight]);
const windowS = (performance.now() - windowStarted) / 1000;
const framesInWindow = clients.reduce((sum, peer) => sum + peer.frames.length, 0) - bytesAtStart;
const silent = clients.filter((peer) => peer.closed !== undefined).length;
await sample();
clearInterval(pgSampler);
await sampling;
const cpu = nodes.map((node, i) => (cpuSeconds(node.pid) - cpuAtStart[i]) / ((performance.now() - measureStarted) / 1000));
const main = nodes.map((node, i) => {
  const end = mainThread(node.pid);
  const seconds = (performance.now() - measureStarted) / 1000;
  return { ran: (end.ran - mainAtStart[i].ran) / seconds, waited: (end.waited - mainAtStart[i].waited) / seconds };
});
const stillConnected = agents.filter((agent) => agent.socket.readyState === WebSocket.OPEN).length;
const loadAtEnd = loadavg();
const machineAtEnd = machineTicks();
const machineShare = Object.fromEntries(Object.keys(machineAtEnd).map((key) => [key, machineAtEnd[key] - machineAtStart[key]]));
const machineTotal = Object.values(machineShare).reduce((sum, n) => sum + n, 0);
let postgresCpuS = 0;
for (const pid of await backendPids()) postgresCpuS += (cpuSeconds(pid) || 0) - (backendsAtStart.get(pid) || 0);
const benchCpu = (cpuSeconds(process.pid) - benchCpuAtStart) / ((performance.now() - measureStarted) / 1000);
benchLoop.disable();

const ms = (value) => `${value.toFixed(1)} ms`;
const s = (samples) => {
  const { p50, p99, max, n } = stats(samples);
  return n === 0 ? 'none' : `p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(max)} (${n})`;
};
console.log('');
console.log(`bench:cluster — ${NODES} nodes, ${N} agents, ${SESSIONS} sessions, ${SIGN_INS_PER_S} sign-ins/s, ${READS_PER_S} reads/s, ${MEASURE_S} s measured`);
console.log(`  API reads (DescribeInstanceInformation, ListUsers):   ${s(reads)}`);
console.log(`  GET /healthz (${PROBES_PER_S}/s; one PostgreSQL read, no audit record):   ${s(probes)}`);
console.log(`  sign-ins (InitiateAuth, argon2id, EMAIL_OTP mailed): ${s(signIns)}; ${signInsSent} sent in ${MEASURE_S} s, ${signIns.length} answered in ${windowS.toFixed(1)} s (until the last answer): ${(signIns.length / windowS).toFixed(1)}/s achieved; ${lockedOut} refused by the lockout (attempts of one person or address in flight at once); ${busy} answered ThrottlingException at once (the node's hashing queue full)`);
console.log(`  session start (StartSession → first output, client on another node than the agent): ${s(sessionStarts)}`);
console.log(`  session output: ${clients.length} printing, ${silent} closed; ${(framesInWindow / windowS).toFixed(0)} frames/s reached the clients (expected ${((clients.length * 1000) / OUTPUT_EVERY_MS).toFixed(0)})`);
nodes.forEach((node, i) =>
  console.log(
    `  node ${String.fromCharCode(97 + i)}: CPU ${(cpu[i] * 100).toFixed(0)}% of a core (its event loop ran ${(main[i].ran * 100).toFixed(0)}% of the time and waited for a CPU ${(main[i].waited * 100).toFixed(0)}% of it), RSS max ${(Math.max(...rss[i]) / 2 ** 20).toFixed(0)} MB`,
  ),
);
console.log(`  PostgreSQL connections held by the nodes (pg_stat_activity, client backends): max ${Math.max(...pgConnections)}, at end ${pgConnections[pgConnections.length - 1]}; parallel query workers for them besides: max ${Math.max(...pgWorkers)}`);
const busyMean = pgBusy.reduce((sum, n) => sum + n, 0) / pgBusy.length;
const waits = [...pgWaits].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${what} ${((100 * n) / Math.max(1, pgBusy.reduce((sum, k) => sum + k, 0))).toFixed(0)}%`);
console.log(`  the nodes' busy PostgreSQL connections (every 250 ms): mean ${busyMean.toFixed(1)}, max ${Math.max(...pgBusy)}; they were: ${waits.join(', ') || 'none'}`);
for (const [statement, n] of [...pgStatements].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`    ${n} × ${statement}`);
console.log(`  agents still connected: ${stillConnected} of ${N}; failures: ${failures.length}`);
console.log(`  the bench process (agents, clients, callers): CPU ${(benchCpu * 100).toFixed(0)}% of a core, event-loop delay p50 ${ms(Math.max(0, benchLoop.percentile(50) / 1e6 - 10))}, p99 ${ms(Math.max(0, benchLoop.percentile(99) / 1e6 - 10))}`);
console.log(`  PostgreSQL backends of the nodes: CPU ${((100 * postgresCpuS) / ((performance.now() - measureStarted) / 1000)).toFixed(0)}% of a core`);
console.log(
  `  the machine (/proc/stat, both cores): busy ${((100 * machineShare.busy) / machineTotal).toFixed(0)}%, idle ${((100 * machineShare.idle) / machineTotal).toFixed(0)}%, I/O wait ${((100 * machineShare.iowait) / machineTotal).toFixed(0)}%, stolen by the hypervisor ${((100 * machineShare.steal) / machineTotal).toFixed(0)}%`,
);
console.log(`  load average (1 min) at start ${loadAtStart[0].toFixed(2)}, at end ${loadAtEnd[0].toFixed(2)} (2 cores, shared)`);
for (const message of lockouts) console.log(`  lockout: ${message}`);
for (const failure of failures.slice(0, 10)) console.log(`  failure: ${failure}`);
clearTimeout(deadline);
await pgAdmin.end();
await shutdown(failures.length === 0 && lockedOut === 0 && stillConnected === N && clients.length === SESSIONS ? 0 : 1);
