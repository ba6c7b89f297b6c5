#!/usr/bin/env node
// npm run bench:sessions [-- --echo N --output-mb M --forward-mb M --starts N --idle N --timeout-s S]
// Sessions, side by side with OpenSSH on loopback in the same run. One real Airlock server
// (SQLite, a temporary data directory, 127.0.0.1 only) and one real agent (registered through an
// activation) run as child processes; a private sshd (the testkit's startSshd('root'): its own
// port, host key and client key, nothing of the machine's configuration) runs beside them.
//  1. keystroke echo round trip: one byte at a time into `cat` on a PTY, waiting for its echo
//     (Airlock: in-process data-channel client → server → agent → PTY; OpenSSH: ssh -tt … cat;
//     bare: node-pty running cat in this process)
//  2. terminal output throughput: head -c 256M /dev/zero, counted at the client; CPU seconds per
//     GB of server + agent against sshd (every sshd process) + ssh, from /proc/PID/stat
//  3. port-forward throughput: a local TCP server sends 512 MB; the real CLI's port forward
//     against ssh -N -L
//  4. StartSession → first byte of a login shell's output (in-process client)
//  5. server memory per idle open session (100 shells), and a client that never acknowledges
//     while `yes` prints: the server's RSS growth over 5 s
// Exits 1 when a target is missed, 2 on a failure or the time bound. Only the processes it started
// are signalled; the data directory and sshd's directory are removed at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';
import { parseArgs } from 'node:util';
import { startSshd } from '@airlock/testkit';
import { BenchPeer } from './sessions-peer.mjs';

const root = new URL('..', import.meta.url).pathname;
const { values: args } = parseArgs({
  options: {
    echo: { type: 'string', default: '1000' },
    'output-mb': { type: 'string', default: '256' },
    'forward-mb': { type: 'string', default: '512' },
    starts: { type: 'string', default: '20' },
    idle: { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '900' },
  },
});
const positive = (name) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} must be a positive integer, not ${args[name]}`);
    process.exit(2);
  }
  return value;
};
const ECHO_N = positive('echo');
const OUTPUT_MB = positive('output-mb');
const FORWARD_MB = positive('forward-mb');
const STARTS = positive('starts');
const IDLE = positive('idle');
const TIMEOUT_S = positive('timeout-s');
if (ECHO_N + 50 >= 4000) {
  console.error('--echo must stay under 3950: the PTY line buffer (4096) takes the bytes, no newline is sent');
  process.exit(2);
}
const ECHO_WARMUP = 50;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

const t0 = performance.now();
const say = (line) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1], n: sorted.length };
}
const us = (ms) => `${Math.round(ms * 1000)} µs`;
const msf = (ms) => `${ms.toFixed(1)} ms`;

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
const cpuSeconds = (pid) => (procStat(pid)?.ticks ?? NaN) / CLK_TCK;
function rssBytes(pid) {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match[1]) * 1024;
}
/** Every live process under `ancestor` (itself included) whose comm passes `keep`. */
function descendants(ancestor, keep) {
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
function cpuSampler(listPids) {
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

// ---- what this bench starts, and how it stops it -------------------------------------------------
const started = new Set(); // child processes
const cleanups = [];
let stopping = false;
async function shutdown(code) {
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
const deadline = setTimeout(() => {
  console.error(`bench:sessions: not done within --timeout-s ${TIMEOUT_S}; stopping.`);
  void shutdown(2);
}, TIMEOUT_S * 1000);
deadline.unref();
process.once('SIGINT', () => void shutdown(130));

function track(child) {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}
async function stopChild(child, ms = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await gone;
  clearTimeout(timer);
}
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---- Airlock: a server and an agent --------------------------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-sessions-'));
cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
const port = await freePort();
const endpoint = `http://127.0.0.1:${port}`;
function startNode(label, nodeArgs) {
  const child = track(spawn(process.execPath, nodeArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }));
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`bench:sessions: the ${label} exited unexpectedly (${signal ?? code}); its last output:\n${tail}`);
      void shutdown(2);
    }
  });
  return child;
}
const server = startNode('server', ['packages/server/dist/main.js', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`]);
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
const agent = startNode('agent', ['packages/agent/bin/airlock-agent.js', 'run', '--state-dir', stateDir]);
cleanups.push(() => stopChild(agent));
for (let attempt = 0; ; attempt++) {
  const { InstanceInformationList } = await call('DescribeInstanceInformation', {});
  if (InstanceInformationList.some((instance) => instance.InstanceId === instanceId && instance.PingStatus === 'Online')) break;
  if (attempt > 100) throw new Error('the agent did not come online');
  await sleep(100);
}
say(`Airlock: server pid ${server.pid} at ${endpoint}, agent pid ${agent.pid} as ${instanceId}`);

// ---- OpenSSH --------------------------------------------------------------------------------------
const sshd = await startSshd('root');
cleanups.push(() => sshd.stop());
const sshdPid = Number(readFileSync(join(sshd.directory, 'sshd.pid'), 'utf8').trim());
const sshArgs = ['-p', String(sshd.port), '-i', sshd.identityFile, '-o', `UserKnownHostsFile=${sshd.knownHostsFile}`, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-F', '/dev/null'];
say(`OpenSSH: sshd pid ${sshdPid} on 127.0.0.1:${sshd.port} (${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()})`);

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

// ---- 1. keystroke echo ------------------------------------------------------------------------------
/** Writes one byte at a time, waiting for its echo; `attach(onChunk)` subscribes to output. */
async function echoRoundTrips(label, write, attach) {
  let expected;
  let resolveEcho;
  attach((chunk) => {
    if (expected !== undefined && Buffer.from(chunk).includes(expected)) {
      expected = undefined;
      resolveEcho();
    }
  });
  const samples = [];
  for (let i = 0; i < ECHO_WARMUP + ECHO_N; i++) {
    const byte = 97 + (i % 26);
    const echoed = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: no echo of byte ${i} within 5 s`)), 5000);
      resolveEcho = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    expected = byte;
    const start = now();
    write(Buffer.from([byte]));
    await echoed;
    if (i >= ECHO_WARMUP) samples.push(now() - start);
  }
  return stats(samples);
}

const results = {};
say(`1. keystroke echo: ${ECHO_N} single bytes into cat on a PTY (after ${ECHO_WARMUP} to warm up)`);
{
  // Bare local PTY (node-pty, the agent's own dependency)
  const pty = createRequire(join(root, 'packages/agent/package.json'))('node-pty');
  const term = pty.spawn('cat', [], { name: 'xterm', cols: 80, rows: 24 });
  results.echoBare = await echoRoundTrips('bare PTY', (bytes) => term.write(bytes.toString('latin1')), (on) => term.onData((text) => on(Buffer.from(text, 'latin1'))));
  term.kill();
  say(`   bare PTY: p50 ${us(results.echoBare.p50)}, p99 ${us(results.echoBare.p99)}`);

  // Airlock
  const peer = await session({ DocumentName: 'AWS-StartInteractiveCommand', Parameters: { command: ['cat'] } });
  // cat is on the PTY once the PTY echoes (the first byte may be written before cat starts; the tty echoes it anyway)
  results.echoAirlock = await echoRoundTrips('Airlock', (bytes) => peer.send(bytes), (on) => (peer.onData = on));
  await terminate(peer);
  say(`   Airlock: p50 ${us(results.echoAirlock.p50)}, p99 ${us(results.echoAirlock.p99)}`);

  // OpenSSH
  const ssh = track(spawn('ssh', ['-tt', ...sshArgs, 'root@localhost', 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] }));
  results.echoSsh = await echoRoundTrips('OpenSSH', (bytes) => ssh.stdin.write(bytes), (on) => ssh.stdout.on('data', on));
  ssh.stdin.end();
  await stopChild(ssh, 3000);
  say(`   OpenSSH: p50 ${us(results.echoSsh.p50)}, p99 ${us(results.echoSsh.p99)}`);
}

// ---- 2. terminal output throughput -----------------------------------------------------------------
const outputBytes = OUTPUT_MB * 1024 * 1024;
say(`2. terminal output: head -c ${OUTPUT_MB}M /dev/zero, counted at the client`);
{
  const cpuBefore = cpuSeconds(server.pid) + cpuSeconds(agent.pid);
  const selfBefore = process.cpuUsage();
  let first;
  let last;
  const peer = await session({ DocumentName: 'AWS-StartNonInteractiveCommand', Parameters: { command: [`head -c ${OUTPUT_MB}M /dev/zero`] } });
  peer.onData = () => {
    first ??= now();
    last = now();
  };
  await peer.waitFor(() => peer.exit !== undefined, 'the Exit frame', 300_000);
  const cpu = cpuSeconds(server.pid) + cpuSeconds(agent.pid) - cpuBefore;
  const self = process.cpuUsage(selfBefore);
  peer.terminate();
  if (peer.bytes !== outputBytes) throw new Error(`Airlock output: ${peer.bytes} bytes, expected ${outputBytes}`);
  results.outAirlock = { mbps: outputBytes / 1048576 / ((last - first) / 1000), cpuPerGb: cpu / (outputBytes / 2 ** 30), clientPerGb: (self.user + self.system) / 1e6 / (outputBytes / 2 ** 30) };
  say(`   Airlock: ${results.outAirlock.mbps.toFixed(0)} MB/s, server+agent ${results.outAirlock.cpuPerGb.toFixed(1)} CPU s/GB (this bench's client: ${results.outAirlock.clientPerGb.toFixed(1)} s/GB)`);

  let ssh;
  const sampler = cpuSampler(() => [...descendants(sshdPid, (comm) => comm === 'sshd'), ...(ssh?.pid !== undefined ? [ssh.pid] : [])]);
  ssh = track(spawn('ssh', [...sshArgs, 'root@localhost', `head -c ${OUTPUT_MB}M /dev/zero`], { stdio: ['ignore', 'pipe', 'inherit'] }));
  let bytes = 0;
  let sfirst;
  let slast;
  ssh.stdout.on('data', (chunk) => {
    sfirst ??= now();
    slast = now();
    bytes += chunk.length;
  });
  await new Promise((resolve) => ssh.stdout.once('end', resolve));
  // the ssh client and sshd's per-connection processes are still sampled as they exit
  await new Promise((resolve) => (ssh.exitCode !== null ? resolve() : ssh.once('exit', resolve)));
  const sshCpu = sampler.stop();
  if (bytes !== outputBytes) throw new Error(`OpenSSH output: ${bytes} bytes, expected ${outputBytes}`);
  results.outSsh = { mbps: outputBytes / 1048576 / ((slast - sfirst) / 1000), cpuPerGb: sshCpu.seconds / (outputBytes / 2 ** 30), processes: sshCpu.processes };
  say(`   OpenSSH: ${results.outSsh.mbps.toFixed(0)} MB/s, sshd+ssh ${results.outSsh.cpuPerGb.toFixed(1)} CPU s/GB (${sshCpu.processes} processes sampled)`);
}

// ---- 3. port-forward throughput -----------------------------------------------------------------------
const forwardBytes = FORWARD_MB * 1024 * 1024;
say(`3. port forwarding: ${FORWARD_MB} MB from a local TCP server`);
{
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  const source = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    // It sends once the client speaks: a probe connection costs nothing.
    socket.once('data', () => {
      let sent = 0;
      const pump = () => {
        while (sent < forwardBytes) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
  });
  await new Promise((resolve) => source.listen(0, '127.0.0.1', resolve));
  const sourcePort = source.address().port;
  cleanups.push(() => new Promise((resolve) => source.close(resolve)));

  /** Connects, asks, reads all: MB/s from the first byte to the end. */
  function pull(localPort) {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ port: localPort, host: '127.0.0.1', noDelay: true }, () => socket.write('g'));
      let bytes = 0;
      let first;
      socket.on('data', (data) => {
        first ??= now();
        bytes += data.length;
      });
      socket.once('error', reject);
      socket.once('end', () => {
        const seconds = (now() - first) / 1000;
        socket.destroy();
        if (bytes !== forwardBytes) reject(new Error(`${bytes} bytes forwarded, expected ${forwardBytes}`));
        else resolve(forwardBytes / 1048576 / seconds);
      });
    });
  }

  // Airlock: the real CLI
  const cli = track(
    spawn(process.execPath, ['packages/cli/bin/airlock.js', 'ssm', 'start-session', '--target', instanceId, '--document-name', 'AWS-StartPortForwardingSession', '--parameters', `portNumber=${sourcePort},localPortNumber=0`], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AIRLOCK_ENDPOINT_URL: endpoint, AIRLOCK_TOKEN_FILE: join(dataDir, 'root-token') },
    }),
  );
  const localPort = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`the CLI did not open a port: ${text}`)), 20_000);
    const look = (data) => {
      text += data.toString('utf8');
      const match = /Port (\d+) opened/.exec(text);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    cli.stdout.on('data', look);
    cli.stderr.on('data', look);
    cli.once('exit', (code) => reject(new Error(`the CLI exited (${code}): ${text}`)));
  });
  const cpuBefore = cpuSeconds(server.pid) + cpuSeconds(agent.pid);
  const cliBefore = cpuSeconds(cli.pid);
  results.fwdAirlock = { mbps: await pull(localPort) };
  results.fwdAirlock.cpuPerGb = (cpuSeconds(server.pid) + cpuSeconds(agent.pid) - cpuBefore) / (forwardBytes / 2 ** 30);
  results.fwdAirlock.cliPerGb = (cpuSeconds(cli.pid) - cliBefore) / (forwardBytes / 2 ** 30);
  cli.kill('SIGINT');
  await stopChild(cli, 5000);
  say(`   Airlock (CLI): ${results.fwdAirlock.mbps.toFixed(0)} MB/s; server+agent ${results.fwdAirlock.cpuPerGb.toFixed(1)} CPU s/GB, CLI ${results.fwdAirlock.cliPerGb.toFixed(1)} s/GB`);

  // OpenSSH
  const sshPort = await freePort();
  const ssh = track(spawn('ssh', ['-N', '-o', 'ExitOnForwardFailure=yes', '-L', `${sshPort}:127.0.0.1:${sourcePort}`, ...sshArgs, 'root@localhost'], { stdio: ['ignore', 'ignore', 'inherit'] }));
  for (let attempt = 0; ; attempt++) {
    const open = await new Promise((resolve) => {
      const probe = createConnection({ port: sshPort, host: '127.0.0.1' }, () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (open) break;
    if (attempt > 100 || ssh.exitCode !== null) throw new Error('ssh -L did not listen');
    await sleep(50);
  }
  const sampler = cpuSampler(() => [...descendants(sshdPid, (comm) => comm === 'sshd'), ssh.pid]);
  results.fwdSsh = { mbps: await pull(sshPort) };
  results.fwdSsh.cpuPerGb = sampler.stop().seconds / (forwardBytes / 2 ** 30);
  await stopChild(ssh, 3000);
  say(`   OpenSSH (ssh -L): ${results.fwdSsh.mbps.toFixed(0)} MB/s; sshd+ssh ${results.fwdSsh.cpuPerGb.toFixed(1)} CPU s/GB`);
}

// ---- 4. StartSession → first byte ------------------------------------------------------------------
say(`4. StartSession to the first byte of a login shell's output, ${STARTS} times`);
{
  const samples = [];
  for (let i = 0; i < STARTS; i++) {
    const start = now();
    let firstByte;
    const out = await call('StartSession', { Target: instanceId });
    const peer = new BenchPeer();
    peer.onData = () => (firstByte ??= now());
    await peer.connect(out.StreamUrl, out.TokenValue);
    peer.sessionId = out.SessionId;
    await peer.waitFor(() => firstByte !== undefined, 'the first byte', 15_000);
    samples.push(firstByte - start);
    await terminate(peer);
  }
  results.firstByte = stats(samples);
  say(`   p50 ${msf(results.firstByte.p50)}, p99 ${msf(results.firstByte.p99)}`);
}

// ---- 5. memory ---------------------------------------------------------------------------------------
say(`5. server memory: ${IDLE} idle shells; then a client that never acknowledges while yes prints`);
{
  await sleep(2000);
  const before = rssBytes(server.pid);
  const agentBefore = rssBytes(agent.pid);
  const peers = [];
  for (let i = 0; i < IDLE; i++) {
    const peer = await session({});
    await peer.waitFor(() => peer.bytes > 0, 'the prompt', 15_000);
    peers.push(peer);
  }
  await sleep(3000);
  const after = rssBytes(server.pid);
  results.idle = { perSession: (after - before) / IDLE, before, after, agentPerSession: (rssBytes(agent.pid) - agentBefore) / IDLE };
  say(`   server RSS ${(before / 1048576).toFixed(1)} → ${(after / 1048576).toFixed(1)} MiB: ${(results.idle.perSession / 1024).toFixed(1)} KB per idle session (agent: ${(results.idle.agentPerSession / 1024).toFixed(0)} KB each, node-pty and the shells excluded)`);
  for (const peer of peers) await terminate(peer);
  await sleep(2000);

  // The baseline is taken before StartSession: the windows fill within milliseconds of the first output.
  const slowBefore = rssBytes(server.pid);
  const slow = await session({ DocumentName: 'AWS-StartNonInteractiveCommand', Parameters: { command: ['yes'] } }, { autoAck: false });
  await slow.waitFor(() => slow.bytes > 0, 'the first output', 15_000);
  const slowAtFirstOutput = rssBytes(server.pid);
  const samples = [];
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    samples.push(rssBytes(server.pid) - slowBefore);
  }
  results.slow = { growth: samples[samples.length - 1], peak: Math.max(...samples), fromFirstOutput: rssBytes(server.pid) - slowAtFirstOutput, received: slow.bytes };
  await terminate(slow);
  say(`   never-acknowledging client: server RSS +${(results.slow.growth / 1048576).toFixed(2)} MiB from before StartSession to 5 s after the first output (peak +${(results.slow.peak / 1048576).toFixed(2)}; from the first output: +${(results.slow.fromFirstOutput / 1048576).toFixed(2)}), ${(slow.bytes / 1048576).toFixed(2)} MiB reached the client`);
}

// ---- the table ----------------------------------------------------------------------------------------
const pass = (ok) => (ok ? 'met' : '**missed**');
const checks = [
  ['keystroke echo p50', `${us(results.echoAirlock.p50)}`, `${us(results.echoSsh.p50)}`, `${us(results.echoBare.p50)}`, '≤ ssh', results.echoAirlock.p50 <= results.echoSsh.p50],
  ['keystroke echo p99', `${us(results.echoAirlock.p99)}`, `${us(results.echoSsh.p99)}`, `${us(results.echoBare.p99)}`, '≤ 1.5 × ssh', results.echoAirlock.p99 <= 1.5 * results.echoSsh.p99],
  ['terminal output', `${results.outAirlock.mbps.toFixed(0)} MB/s`, `${results.outSsh.mbps.toFixed(0)} MB/s`, '', '≥ ssh', results.outAirlock.mbps >= results.outSsh.mbps],
  ['CPU per GB of output', `${results.outAirlock.cpuPerGb.toFixed(1)} s (server+agent)`, `${results.outSsh.cpuPerGb.toFixed(1)} s (sshd+ssh)`, '', '< ssh', results.outAirlock.cpuPerGb < results.outSsh.cpuPerGb],
  ['port forward', `${results.fwdAirlock.mbps.toFixed(0)} MB/s`, `${results.fwdSsh.mbps.toFixed(0)} MB/s`, '', '≥ ssh -L', results.fwdAirlock.mbps >= results.fwdSsh.mbps],
  ['StartSession → first byte p50', msf(results.firstByte.p50), '', '', '≤ 100 ms', results.firstByte.p50 <= 100],
  ['StartSession → first byte p99', msf(results.firstByte.p99), '', '', '', true],
  ['server memory per idle session', `${(results.idle.perSession / 1024).toFixed(1)} KB`, '', '', '≤ 200 KB', results.idle.perSession <= 200 * 1024],
  ['server RSS growth, client not reading, 5 s', `${(results.slow.growth / 1048576).toFixed(2)} MiB (${(results.slow.fromFirstOutput / 1048576).toFixed(2)} from the first output)`, '', '', '< 4 MB', results.slow.growth < 4 * 1024 * 1024],
];
console.log('\n| measure | Airlock | OpenSSH | bare PTY | target | |');
console.log('|---|---|---|---|---|---|');
for (const [name, airlock, ssh, bare, target, ok] of checks) console.log(`| ${name} | ${airlock} | ${ssh} | ${bare} | ${target} | ${target === '' ? '' : pass(ok)} |`);
console.log(
  `\nAlso: port forward CPU per GB: server+agent ${results.fwdAirlock.cpuPerGb.toFixed(1)} s, CLI ${results.fwdAirlock.cliPerGb.toFixed(1)} s; sshd+ssh ${results.fwdSsh.cpuPerGb.toFixed(1)} s. ` +
    `Terminal output, this bench's in-process client: ${results.outAirlock.clientPerGb.toFixed(1)} CPU s/GB. Echo max: Airlock ${us(results.echoAirlock.max)}, ssh ${us(results.echoSsh.max)}.`,
);
await shutdown(checks.every(([, , , , target, ok]) => target === '' || ok) ? 0 : 1);
