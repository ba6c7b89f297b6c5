#!/usr/bin/env node
// npm run bench:agents [-- --agents N --heartbeat-ms MS --measure-s S --reconnects-per-s R …] —
// how many agents one node holds, and at what cost. One real Airlock server (SQLite) runs in a
// child process (bench/agents-server.mjs) so that its memory is measured alone; this process
// registers N simulated agents through the real API (RegisterManagedInstance, one Ed25519 key
// each) and connects them all over loopback WebSockets, speaking the real control protocol:
// challenge → signed hello → welcome → heartbeats at the server's interval, each answered by a
// heartbeat-ack. Then, for measure-s seconds, R agents a second are disconnected and reconnect
// while the heartbeat round trips (heartbeat sent → ack received) are timed.
// Target (issue 5): 10,000 agents on one node, at most 50 KB of server memory per agent, p99
// heartbeat under 50 ms while 10 agents a second reconnect.
// Exits 1 when a connection fails or closes unexpectedly, 2 on the time bound or a setup failure.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval } from 'node:timers';
import { AirlockClient } from '@airlock/client';
import { control, fleet } from '@airlock/protocol';
import { WebSocket } from 'ws';
import { positiveOptions } from './args.mjs';

const args = positiveOptions({
  agents: 10_000,
  'heartbeat-ms': 5000,
  'measure-s': 60,
  'reconnects-per-s': 10,
  'connect-concurrency': 64,
  'register-concurrency': 16,
  'timeout-s': 1200,
});
const N = args.agents;
const HEARTBEAT_MS = args['heartbeat-ms'];
const MEASURE_S = args['measure-s'];
const RECONNECTS_PER_S = args['reconnects-per-s'];
const CONNECT_CONCURRENCY = args['connect-concurrency'];
const REGISTER_CONCURRENCY = args['register-concurrency'];
const TIMEOUT_S = args['timeout-s'];
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** The server writes last pings every 5 s: memory is measured after a heartbeat round and a write. */
const FLUSH_MS = 5_000;

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const say = (line) => console.log(`[${elapsed()}] ${line}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the server, in a child process ----------------------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-agents-'));
const child = spawn(process.execPath, ['--expose-gc', new URL('./agents-server.mjs', import.meta.url).pathname, dataDir, String(HEARTBEAT_MS)], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
let childExited = false;
const childExit = new Promise((resolve) => {
  child.once('exit', (code, signal) => {
    childExited = true;
    resolve({ code, signal });
  });
});
child.once('error', (error) => {
  console.error('bench:agents: cannot start the server process:', error);
});
const replies = [];
const unclaimed = [];
child.on('message', (message) => {
  const waiter = replies.findIndex((entry) => entry.type === message?.type);
  if (waiter >= 0) replies.splice(waiter, 1)[0].resolve(message);
  else unclaimed.push(message);
});
/** The child's next message of this type (after asking for it with `request`). */
function ask(type, request = true, ms = 60_000) {
  const early = unclaimed.findIndex((message) => message?.type === type);
  if (early >= 0) return Promise.resolve(unclaimed.splice(early, 1)[0]);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not answer '${type}' within ${ms} ms`)), ms);
    replies.push({
      type,
      resolve: (message) => {
        clearTimeout(timer);
        resolve(message);
      },
    });
    if (request) child.send({ type });
  });
}
function vmRssBytes() {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  if (match === null) throw new Error('no VmRSS in /proc/PID/status');
  return Number(match[1]) * 1024;
}
/** Server memory after a full GC: RSS from /proc (the whole process), heap from the process itself. */
async function serverMemory() {
  const reported = await ask('memory');
  return { ...reported, vmRssBytes: vmRssBytes() };
}

const agents = [];
let shuttingDown = false;
async function shutdown(exitCode) {
  shuttingDown = true;
  for (const agent of agents) {
    clearTimeout(agent.heartbeatTimer);
    agent.socket?.terminate();
  }
  if (!childExited) {
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await childExit;
    clearTimeout(killer);
  }
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(exitCode);
}
const deadline = setTimeout(() => {
  console.error(`bench:agents: not done within --timeout-s ${TIMEOUT_S}; stopping.`);
  void shutdown(2);
}, TIMEOUT_S * 1000);
process.once('SIGINT', () => void shutdown(130));
void childExit.then(({ code, signal }) => {
  if (!shuttingDown) {
    console.error(`bench:agents: the server exited unexpectedly (code ${code}, signal ${signal}).`);
    void shutdown(2);
  }
});

// ---- simulated agents -------------------------------------------------------------------------
const heartbeats = [];
const reconnectTimes = [];
const unexpected = [];
let recording = false;
let heartbeatsUnanswered = 0;

function inventory(index) {
  return {
    platformName: 'Ubuntu',
    platformVersion: '24.04',
    kernel: '6.8.0-45-generic',
    hostname: `bench-${String(index).padStart(5, '0')}`,
    ipAddresses: [`10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`],
    cpus: 2,
    memoryBytes: 4_000_000_000,
    agentVersion: '0.1.0',
  };
}

function heartbeat(agent) {
  if (agent.state !== 'ready') return;
  if (agent.heartbeatSentAt !== undefined) heartbeatsUnanswered++;
  agent.heartbeatSentAt = performance.now();
  agent.socket.send('{"type":"heartbeat"}');
  agent.heartbeatTimer = setTimeout(() => heartbeat(agent), HEARTBEAT_MS);
}

/** Opens the agent's control channel; resolves at welcome with the handshake time in ms. */
function connect(agent, url) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
    let welcomed = false;
    let lastError;
    const timer = setTimeout(() => {
      socket.terminate();
    }, HANDSHAKE_TIMEOUT_MS);
    agent.socket = socket;
    agent.state = 'connecting';
    agent.expectClose = false;
    agent.heartbeatSentAt = undefined;
    socket.on('message', (data) => {
      const message = control.parseServerMessage(data.toString('utf8'));
      switch (message?.type) {
        case 'challenge': {
          const signature = sign(null, Buffer.from(control.signedChallenge(message.nonce, agent.instanceId)), agent.privateKey).toString('base64');
          socket.send(
            JSON.stringify({
              type: 'hello',
              instanceId: agent.instanceId,
              signature,
              protocolVersion: control.CONTROL_PROTOCOL_VERSION,
              agentVersion: '0.1.0',
              capabilities: ['shell', 'port'],
              inventory: agent.inventory,
            }),
          );
          return;
        }
        case 'welcome':
          welcomed = true;
          clearTimeout(timer);
          agent.state = 'ready';
          // Agents that connected at random moments heartbeat at random phases.
          agent.heartbeatTimer = setTimeout(() => heartbeat(agent), Math.random() * message.heartbeatIntervalMs);
          resolve(performance.now() - started);
          return;
        case 'heartbeat-ack':
          if (recording && agent.heartbeatSentAt !== undefined) heartbeats.push(performance.now() - agent.heartbeatSentAt);
          agent.heartbeatSentAt = undefined;
          return;
        default:
          unexpected.push(`${agent.instanceId}: unexpected frame ${data.toString('utf8').slice(0, 100)}`);
      }
    });
    socket.on('error', (error) => {
      lastError = error; // 'close' follows
    });
    socket.on('close', (code, reason) => {
      clearTimeout(timer);
      clearTimeout(agent.heartbeatTimer);
      agent.state = 'closed';
      const why = `close ${code}${reason.length > 0 ? ` (${reason.toString('utf8')})` : ''}${lastError === undefined ? '' : `: ${lastError.message}`}`;
      if (!welcomed) reject(new Error(`${agent.instanceId}: ${why} before welcome`));
      else if (!agent.expectClose && !shuttingDown) unexpected.push(`${agent.instanceId}: ${why}`);
      agent.onClose?.();
    });
  });
}

/** Runs `task` over `items`, at most `concurrency` at a time. */
async function pool(items, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await task(items[index], index);
      }
    }),
  );
}

const LOOP_RESOLUTION_MS = 5;
/** An event-loop delay histogram's value in ms: the timer's period includes the resolution. */
const loopMs = (nanoseconds) => Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS).toFixed(1);
const percentile = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
const kb = (bytes) => bytes / 1024;
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);

try {
  const { url } = await ask('ready', false);
  const controlUrl = `${url.replace(/^http/, 'ws')}${control.CONTROL_PATH}`;
  say(`server ${url} (pid ${child.pid}), heartbeat every ${HEARTBEAT_MS} ms`);
  const root = new AirlockClient({ endpointUrl: url, token: readFileSync(join(dataDir, 'root-token'), 'utf8').trim() });
  const anonymous = new AirlockClient({ endpointUrl: url });
  // More than 1,000 managed instances need the advanced tier.
  await root.call(fleet.UpdateServiceSetting, { SettingId: fleet.ACTIVATION_TIER_SETTING, SettingValue: 'advanced' });
  const activations = [];
  for (let i = 0; i < Math.ceil(N / 1000); i++) {
    activations.push(await root.call(fleet.CreateActivation, { IamRole: 'SSMServiceRole', DefaultInstanceName: 'bench', RegistrationLimit: 1000 }));
  }

  const registerStart = performance.now();
  for (let index = 0; index < N; index++) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    agents.push({ index, privateKey, publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), inventory: inventory(index) });
  }
  const keysMs = performance.now() - registerStart;
  await pool(agents, REGISTER_CONCURRENCY, async (agent) => {
    const activation = activations[Math.floor(agent.index / 1000)];
    const { InstanceId } = await anonymous.call(fleet.RegisterManagedInstance, {
      ActivationId: activation.ActivationId,
      ActivationCode: activation.ActivationCode,
      PublicKey: agent.publicKey,
      PublicKeyType: 'Ed25519',
      Fingerprint: agent.inventory.hostname,
    });
    agent.instanceId = InstanceId;
    if ((agent.index + 1) % 2000 === 0) say(`registered ${agent.index + 1}`);
  });
  const registerMs = performance.now() - registerStart - keysMs;
  say(`registered ${N} agents in ${(registerMs / 1000).toFixed(1)} s (${((N / registerMs) * 1000).toFixed(0)}/s, concurrency ${REGISTER_CONCURRENCY}); keys made in ${(keysMs / 1000).toFixed(1)} s`);

  await sleep(2_000); // audit writes and the like settle
  const before = await serverMemory();
  say(`server before: VmRSS ${mib(before.vmRssBytes)} MiB, heap ${mib(before.heapUsedBytes)} MiB`);

  const connectStart = performance.now();
  const connectTimes = [];
  const failures = [];
  await pool(agents, CONNECT_CONCURRENCY, async (agent) => {
    try {
      connectTimes.push(await connect(agent, controlUrl));
    } catch (error) {
      failures.push(error.message);
    }
    if ((agent.index + 1) % 2000 === 0) say(`connected ${agent.index + 1 - failures.length}`);
  });
  const connectMs = performance.now() - connectStart;
  const connected = agents.filter((agent) => agent.state === 'ready').length;
  say(`connected ${connected} of ${N} in ${(connectMs / 1000).toFixed(1)} s (${((connected / connectMs) * 1000).toFixed(0)}/s, concurrency ${CONNECT_CONCURRENCY})`);

  // A full heartbeat round and a last-ping write, then the steady-state memory.
  await sleep(HEARTBEAT_MS + FLUSH_MS + 500);
  const after = await serverMemory();
  say(`server after: VmRSS ${mib(after.vmRssBytes)} MiB, heap ${mib(after.heapUsedBytes)} MiB, ${after.connected} connected`);

  // The measured window: heartbeats timed while R agents a second drop and reconnect.
  const clientLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  await ask('loop'); // resets the server's histogram
  clientLoop.enable();
  recording = true;
  let reconnects = 0;
  let reconnectsInFlight = 0;
  const churn = setInterval(() => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const agent = agents[Math.floor(Math.random() * agents.length)];
      if (agent.state !== 'ready' || agent.churning) continue;
      agent.churning = true;
      agent.expectClose = true;
      reconnectsInFlight++;
      agent.onClose = () => {
        agent.onClose = undefined;
        connect(agent, controlUrl).then(
          (ms) => {
            reconnectTimes.push(ms);
            reconnects++;
          },
          (error) => failures.push(`reconnect: ${error.message}`),
        ).finally(() => {
          agent.churning = false;
          reconnectsInFlight--;
        });
      };
      clearTimeout(agent.heartbeatTimer);
      agent.socket.close(1000, 'bench: reconnecting');
      return;
    }
  }, 1000 / RECONNECTS_PER_S);
  const windowStart = performance.now();
  await sleep(MEASURE_S * 1000);
  clearInterval(churn);
  const windowMs = performance.now() - windowStart;
  while (reconnectsInFlight > 0) await sleep(20);
  recording = false;
  clientLoop.disable();
  const serverLoop = await ask('loop');
  const final = await serverMemory();
  const stillConnected = agents.filter((agent) => agent.state === 'ready').length;

  heartbeats.sort((a, b) => a - b);
  reconnectTimes.sort((a, b) => a - b);
  connectTimes.sort((a, b) => a - b);
  const perAgentKb = kb(after.vmRssBytes - before.vmRssBytes) / Math.max(1, connected);
  const heapPerAgentKb = kb(after.heapUsedBytes - before.heapUsedBytes) / Math.max(1, connected);
  const p = (values, q) => percentile(values, q).toFixed(1);
  const rate = (reconnects / windowMs) * 1000;
  const check = (ok) => (ok ? 'met' : 'MISSED');
  console.log();
  console.log(
    `${N} simulated agents, one server process (SQLite, loopback WebSockets), heartbeat every ${HEARTBEAT_MS} ms, ` +
      `${MEASURE_S} s measured with ${RECONNECTS_PER_S} reconnects/s; Node ${process.version}`,
  );
  console.table([
    { measure: 'agents connected', value: `${connected} / ${N}`, target: '10000', result: connected !== N ? 'MISSED' : N >= 10_000 ? 'met' : `all (${N} asked)` },
    { measure: 'registration (RegisterManagedInstance)', value: `${(registerMs / 1000).toFixed(1)} s, ${((N / registerMs) * 1000).toFixed(0)}/s`, target: '', result: '' },
    { measure: 'initial connect (to welcome)', value: `${(connectMs / 1000).toFixed(1)} s, ${((connected / connectMs) * 1000).toFixed(0)}/s; handshake p50 ${p(connectTimes, 50)} ms, p99 ${p(connectTimes, 99)} ms`, target: '', result: '' },
    { measure: 'server VmRSS before → after', value: `${mib(before.vmRssBytes)} → ${mib(after.vmRssBytes)} MiB`, target: '', result: '' },
    { measure: 'server RSS per agent', value: `${perAgentKb.toFixed(1)} KB`, target: '≤ 50 KB', result: check(perAgentKb <= 50) },
    { measure: 'server JS heap before → after (per agent)', value: `${mib(before.heapUsedBytes)} → ${mib(after.heapUsedBytes)} MiB (${heapPerAgentKb.toFixed(1)} KB)`, target: '', result: '' },
    { measure: 'heartbeat → ack round trip', value: `p50 ${p(heartbeats, 50)} ms, p99 ${p(heartbeats, 99)} ms, max ${p(heartbeats, 100)} ms (${heartbeats.length} heartbeats)`, target: 'p99 < 50 ms', result: check(percentile(heartbeats, 99) < 50) },
    { measure: 'reconnects achieved', value: `${rate.toFixed(1)}/s (${reconnects}); to welcome p50 ${p(reconnectTimes, 50)} ms, p99 ${p(reconnectTimes, 99)} ms`, target: `${RECONNECTS_PER_S}/s`, result: check(rate >= RECONNECTS_PER_S * 0.95) },
    { measure: 'event-loop delay, server (window)', value: `p50 ${serverLoop.p50Ms} ms, p99 ${serverLoop.p99Ms} ms, max ${serverLoop.maxMs} ms`, target: '', result: '' },
    { measure: `server ticks (window): ${serverLoop.ticks}`, value: `longest last-ping write ${serverLoop.flushMaxMs} ms (yields between statements), longest sweep ${serverLoop.sweepMaxMs} ms`, target: '', result: '' },
    { measure: 'event-loop delay, this bench (window)', value: `p50 ${loopMs(clientLoop.percentile(50))} ms, p99 ${loopMs(clientLoop.percentile(99))} ms, max ${loopMs(clientLoop.max)} ms`, target: '', result: '' },
    { measure: 'still connected after the window', value: `${stillConnected} here, ${final.connected} on the server (VmRSS ${mib(final.vmRssBytes)} MiB)`, target: String(N), result: check(stillConnected === N && final.connected === N) },
    { measure: 'unanswered heartbeats, failures, unexpected closes', value: `${heartbeatsUnanswered}, ${failures.length}, ${unexpected.length}`, target: '0, 0, 0', result: check(heartbeatsUnanswered + failures.length + unexpected.length === 0) },
  ]);
  for (const line of [...failures, ...unexpected].slice(0, 10)) console.error(`  ${line}`);
  clearTimeout(deadline);
  await shutdown(failures.length > 0 || unexpected.length > 0 || connected !== N || stillConnected !== N ? 1 : 0);
} catch (error) {
  console.error('bench:agents failed:', error);
  clearTimeout(deadline);
  await shutdown(2);
}
