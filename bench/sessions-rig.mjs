// What the session benchmarks share (bench/sessions.mjs, bench/recording.mjs): timing and
// statistics, CPU and memory from /proc, the child processes a bench starts and how it stops
// them, a real Airlock server and agent as child processes, sessions through the in-process
// client (BenchPeer), the keystroke echo loop and the terminal output measurement.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { BenchPeer } from './sessions-peer.mjs';

export const root = new URL('..', import.meta.url).pathname;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

// ---- time and statistics ----------------------------------------------------------------------------
const t0 = performance.now();
export const say = (line) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}`);
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
export function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1], n: sorted.length };
}
/** Each number's median over rounds' results (`max`: the largest of them), as one result. */
export function medians(rounds) {
  const result = {};
  for (const key of Object.keys(rounds[0])) {
    const values = rounds.map((round) => round[key]);
    if (values.some((value) => typeof value !== 'number')) continue;
    result[key] = key === 'max' ? Math.max(...values) : quantile([...values].sort((a, b) => a - b), 0.5);
  }
  return result;
}
export const us = (ms) => `${Math.round(ms * 1000)} µs`;
export const msf = (ms) => `${ms.toFixed(1)} ms`;

// ---- /proc ---------------------------------------------------------------------------------------
function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const fields = text.slice(close + 2).split(' ');
    return { comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}
export const cpuSeconds = (pid) => (procStat(pid)?.ticks ?? NaN) / CLK_TCK;
export function rssBytes(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match[1]) * 1024;
}
/** Every live process under `ancestor` (itself included) whose comm passes `keep`. */
export function descendants(ancestor, keep) {
  const parent = new Map();
  const comm = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat === undefined) continue;
    parent.set(Number(entry), stat.ppid);
    comm.set(Number(entry), stat.comm);
  }
  const found = [];
  for (const pid of parent.keys()) {
    for (let at = pid, hops = 0; at > 1 && hops < 64; at = parent.get(at) ?? 0, hops++) {
      if (at === ancestor) {
        if (keep(comm.get(pid))) found.push(pid);
        break;
      }
    }
  }
  return found;
}
/**
 * CPU of short-lived processes (sshd's per-connection processes, the ssh client): their
 * utime+stime is sampled every 10 ms while they live, the last sample kept. Up to 10 ms of each
 * process's last moments can be missed, so OpenSSH's figure is if anything slightly low.
 */
export function cpuSampler(listPids) {
  const last = new Map();
  const baseline = new Map();
  for (const pid of listPids()) baseline.set(pid, procStat(pid)?.ticks ?? 0);
  const sample = () => {
    for (const pid of listPids()) {
      const stat = procStat(pid);
      if (stat !== undefined) last.set(pid, stat.ticks);
    }
  };
  sample();
  const timer = setInterval(sample, 10);
  return {
    stop() {
      sample();
      clearInterval(timer);
      let ticks = 0;
      for (const [pid, value] of last) ticks += value - (baseline.get(pid) ?? 0);
      return { seconds: ticks / CLK_TCK, processes: last.size };
    },
  };
}

// ---- what a bench starts, and how it stops it ----------------------------------------------------
const started = new Set(); // child processes
export const cleanups = [];
let stopping = false;
let benchName = 'bench';
export async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('cleanup:', error.message);
    }
  }
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  process.exit(code);
}
/** Names the bench in its messages, and stops it (exit 2) when it runs past `seconds`. */
export function boundBench(name, seconds) {
  benchName = name;
  const deadline = setTimeout(() => {
    console.error(`${name}: not done within --timeout-s ${seconds}; stopping.`);
    void shutdown(2);
  }, seconds * 1000);
  deadline.unref();
  process.once('SIGINT', () => void shutdown(130));
  // An error nobody awaited (sshd missing: its spawn's 'error' event) stops what was started too,
  // rather than leaving a server and an agent running with the bench gone.
  process.once('uncaughtException', (error) => {
    console.error(`${name}: ${error?.stack ?? error}`);
    void shutdown(2);
  });
}

/** Runs a bench's body; a failure stops what it started and exits 2. */
export async function runBench(body) {
  try {
    await body();
  } catch (error) {
    console.error(`${benchName}: ${error?.stack ?? error}`);
    await shutdown(2);
  }
}

export function track(child) {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}
export async function stopChild(child, ms = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await gone;
  clearTimeout(timer);
}
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
// BENCH_NODE_ARGS: extra options for the node of the server, the agent and the CLI, to see where
// their CPU goes (e.g. "--cpu-prof --cpu-prof-dir=DIR", or "--perf-basic-prof" for perf; NODE_OPTIONS may carry neither).
export const profileArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
/** The options a bin's first line gives node (`#!/usr/bin/env -S node …`): a user's run of it has them. */
export const shebangFlags = (bin) => readFileSync(join(root, bin), 'utf8').split('\n')[0].split(' ').filter((word) => word.startsWith('--'));
function startNode(label, nodeArgs) {
  const child = track(spawn(process.execPath, [...profileArgs, ...nodeArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${benchName}: the ${label} exited unexpectedly (${signal ?? code}); its last output:\n${tail}`);
      void shutdown(2);
    }
  });
  return child;
}

// ---- Airlock: a server and an agent --------------------------------------------------------------
/**
 * A real server (SQLite, a temporary data directory, 127.0.0.1 only) and a real agent registered
 * through an activation, as child processes. `serverMain` is the server's entry (the server
 * package's main by default; bench/unrecorded-server.mjs for recording off).
 */
export async function startAirlock({ label = 'Airlock', serverMain = 'packages/server/dist/main.js' } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-sessions-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const server = startNode(`${label} server`, [serverMain, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`]);
  cleanups.push(() => stopChild(server));
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${endpoint}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    if (attempt > 200) throw new Error('the server did not come up');
    await sleep(100);
  }
  const rootToken = readFileSync(join(dataDir, 'root-token'), 'utf8').trim();
  async function call(operation, input) {
    const response = await fetch(`${endpoint}/api/ssm/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${rootToken}` },
      body: JSON.stringify(input),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`ssm:${operation}: ${body.__type}: ${body.message}`);
    return body;
  }
  const activation = await call('CreateActivation', { IamRole: 'SSMServiceRole', DefaultInstanceName: 'bench-sessions', RegistrationLimit: 1 });
  const stateDir = join(dataDir, 'agent');
  const registered = spawnSync(process.execPath, ['packages/agent/bin/airlock-agent.js', 'register', '--endpoint-url', endpoint, '--id', activation.ActivationId, '--code', activation.ActivationCode, '--state-dir', stateDir], { cwd: root, encoding: 'utf8' });
  if (registered.status !== 0) throw new Error(`registering the agent failed: ${registered.stderr}`);
  const instanceId = JSON.parse(readFileSync(join(stateDir, 'registration.json'), 'utf8')).instanceId;
  const agent = startNode(`${label} agent`, ['packages/agent/bin/airlock-agent.js', 'run', '--state-dir', stateDir]);
  cleanups.push(() => stopChild(agent));
  for (let attempt = 0; ; attempt++) {
    const { InstanceInformationList } = await call('DescribeInstanceInformation', {});
    if (InstanceInformationList.some((instance) => instance.InstanceId === instanceId && instance.PingStatus === 'Online')) break;
    if (attempt > 100) throw new Error('the agent did not come online');
    await sleep(100);
  }
  say(`${label}: server pid ${server.pid} at ${endpoint}, agent pid ${agent.pid} as ${instanceId}`);

  /** StartSession, then the client's hop: resolves with the peer at Ready. */
  async function session(input, options) {
    const out = await call('StartSession', { Target: instanceId, ...input });
    const peer = new BenchPeer(options);
    await peer.connect(out.StreamUrl, out.TokenValue);
    peer.sessionId = out.SessionId;
    return peer;
  }
  async function terminate(peer) {
    try {
      await call('TerminateSession', { SessionId: peer.sessionId });
    } catch (error) {
      say(`TerminateSession ${peer.sessionId}: ${error.message}`);
    }
    peer.terminate();
  }
  return { label, dataDir, endpoint, server, agent, instanceId, call, session, terminate };
}

// ---- measurements -----------------------------------------------------------------------------------
/**
 * One keystroke at a time through a terminal that echoes: `probe(i)` writes byte i and resolves
 * with the milliseconds until its echo. `attach(onChunk)` subscribes to output.
 */
export function echoProbe(label, write, attach) {
  let expected;
  let resolveEcho;
  attach((chunk) => {
    if (expected !== undefined && Buffer.from(chunk).includes(expected)) {
      expected = undefined;
      resolveEcho();
    }
  });
  return async (i) => {
    const byte = 97 + (i % 26);
    // The first byte may wait for the program to start, on a busy machine for seconds.
    const waitMs = i === 0 ? 30_000 : 5_000;
    const echoed = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no echo of byte ${i} within ${waitMs / 1000} s`)), waitMs);
      resolveEcho = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    expected = byte;
    const start = now();
    write(Buffer.from([byte]));
    await echoed;
    return now() - start;
  };
}

/** `warmup` keystrokes through `probe` (echoProbe), then `n` measured. */
export async function probeRounds(probe, { n, warmup }) {
  const samples = [];
  for (let i = 0; i < warmup + n; i++) {
    const ms = await probe(i);
    if (i >= warmup) samples.push(ms);
  }
  return stats(samples);
}

/** Writes one byte at a time, waiting for its echo; `attach(onChunk)` subscribes to output. */
export function echoRoundTrips(label, write, attach, rounds) {
  return probeRounds(echoProbe(label, write, attach), rounds);
}

/** A session on cat through `airlock`, and its probe (echoProbe); `close()` ends the session. */
export async function airlockEchoProbe(airlock) {
  const peer = await airlock.session({ DocumentName: 'AWS-StartInteractiveCommand', Parameters: { command: ['cat'] } });
  // cat is on the PTY once the PTY echoes (the first byte may be written before cat starts; the tty echoes it anyway)
  const probe = echoProbe(airlock.label, (bytes) => peer.send(bytes), (on) => (peer.onData = on));
  return { probe, close: () => airlock.terminate(peer) };
}

/** Keystroke echo through an Airlock session: single bytes into cat on the agent's PTY. */
export async function airlockEcho(airlock, rounds) {
  const { probe, close } = await airlockEchoProbe(airlock);
  const result = await probeRounds(probe, rounds);
  await close();
  return result;
}

/** `head -c {mb}M /dev/zero` through an Airlock session, counted at the client: MB/s, and the server's and agent's CPU per GB. */
export async function airlockOutput(airlock, mb) {
  const outputBytes = mb * 1024 * 1024;
  const cpuBefore = cpuSeconds(airlock.server.pid) + cpuSeconds(airlock.agent.pid);
  const selfBefore = process.cpuUsage();
  let first;
  let last;
  const peer = await airlock.session({ DocumentName: 'AWS-StartNonInteractiveCommand', Parameters: { command: [`head -c ${mb}M /dev/zero`] } });
  peer.onData = () => {
    first ??= now();
    last = now();
  };
  await peer.waitFor(() => peer.exit !== undefined, 'the Exit frame', 300_000);
  const cpu = cpuSeconds(airlock.server.pid) + cpuSeconds(airlock.agent.pid) - cpuBefore;
  const self = process.cpuUsage(selfBefore);
  peer.terminate();
  if (peer.bytes !== outputBytes) throw new Error(`${airlock.label} output: ${peer.bytes} bytes, expected ${outputBytes}`);
  return { mbps: outputBytes / 1048576 / ((last - first) / 1000), cpuPerGb: cpu / (outputBytes / 2 ** 30), clientPerGb: (self.user + self.system) / 1e6 / (outputBytes / 2 ** 30) };
}
