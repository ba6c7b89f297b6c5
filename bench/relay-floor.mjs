// The floor of Airlock's shape on this machine: the same two WebSocket hops through Node
// (client → relay → agent → PTY or pipe, and back), with nothing but relaying: no frames, no
// sequence numbers or acknowledgements, no record, no policy. bench/sessions.mjs runs it beside
// Airlock and OpenSSH, so a run shows how much of Airlock's figures is its own work and how much
// the two hops through Node cost before any of it.
//
// As a child process (forked by startFloorRelay): `relay` or `agent PORT` is its role.
import { fork, spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { clearInterval, setInterval, setTimeout } from 'node:timers';
import WebSocket, { WebSocketServer } from 'ws';
import { cpuSeconds, echoRoundTrips, now } from './sessions-rig.mjs';

const here = new URL(import.meta.url).pathname;
const zeroMask = (mask) => mask.fill(0); // as Airlock's hops on loopback: nothing to hide from
const HIGH_WATER = 4 * 1024 * 1024;

/** Pauses `from` while `to` has more than HIGH_WATER waiting (memory stays bounded, as with Airlock's windows). */
function relayInto(from, to, bytes) {
  to.send(bytes);
  if (to.bufferedAmount > HIGH_WATER && !from.isPaused) {
    from.pause();
    const wait = setInterval(() => {
      if (to.bufferedAmount > HIGH_WATER / 2 && to.readyState === WebSocket.OPEN) return;
      clearInterval(wait);
      from.resume();
    }, 1);
  }
}

function runRelay() {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  const ends = {};
  server.on('connection', (socket, request) => {
    const side = request.url === '/agent' ? 'agent' : 'client';
    ends[side] = socket;
    socket.on('message', (bytes) => {
      const other = ends[side === 'agent' ? 'client' : 'agent'];
      if (other !== undefined) relayInto(socket, other, bytes);
    });
  });
  server.on('listening', () => process.send(server.address().port));
}

function runAgent(port, root) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/agent`, { perMessageDeflate: false, generateMask: zeroMask });
  let term;
  socket.on('message', (bytes) => {
    const command = bytes.length > 1 && bytes[0] === 0 ? bytes.subarray(1).toString('utf8') : undefined;
    // Straight into the PTY's master, as Airlock's agent writes a keystroke (node-pty's own write
    // goes through the thread pool).
    if (command === undefined) return void (term === undefined ? undefined : writeSync(term.fd, bytes));
    // A control message: `pty` starts cat on a PTY; `output N` sends N bytes of /dev/zero through a pipe.
    const [verb, count] = command.split(' ');
    if (verb === 'pty') {
      const pty = createRequire(join(root, 'packages/agent/package.json'))('node-pty');
      term?.kill();
      term = pty.spawn('cat', [], { name: 'xterm', cols: 80, rows: 24, encoding: null });
      term.onData((chunk) => socket.send(chunk));
      setTimeout(() => socket.send(Buffer.from([0])), 200); // ready: cat is up
    } else if (verb === 'output') {
      const head = spawn('head', ['-c', count, '/dev/zero'], { stdio: ['ignore', 'pipe', 'ignore'] });
      head.stdout.on('data', (chunk) => {
        socket.send(chunk);
        if (socket.bufferedAmount > HIGH_WATER) {
          head.stdout.pause();
          const wait = setInterval(() => {
            if (socket.bufferedAmount > HIGH_WATER / 2) return;
            clearInterval(wait);
            head.stdout.resume();
          }, 1);
        }
      });
    }
  });
  socket.on('open', () => process.send('open'));
}

/**
 * Starts the relay and the agent as child processes and connects this process as the client.
 * `send(bytes)` and `onData` are the client's ends; `command(text)` talks to the agent.
 */
export async function startFloorRelay(root, nodeArgs = []) {
  const relay = fork(here, ['relay'], { execArgv: nodeArgs });
  const port = await new Promise((resolve) => relay.once('message', resolve));
  const agent = fork(here, ['agent', String(port), root], { execArgv: nodeArgs });
  await new Promise((resolve) => agent.once('message', resolve));
  const socket = new WebSocket(`ws://127.0.0.1:${port}/client`, { perMessageDeflate: false, generateMask: zeroMask });
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const floor = {
    relay,
    agent,
    onData: undefined,
    send: (bytes) => socket.send(bytes),
    command: (text) => socket.send(Buffer.concat([Buffer.from([0]), Buffer.from(text, 'utf8')])),
    stop() {
      socket.terminate();
      relay.kill('SIGKILL');
      agent.kill('SIGKILL');
    },
  };
  socket.on('message', (bytes) => floor.onData?.(bytes));
  return floor;
}

/** Keystroke echo through the floor: single bytes into cat on the agent's PTY. */
export async function floorEcho(floor, rounds) {
  await new Promise((resolve) => {
    floor.onData = (bytes) => bytes.length === 1 && bytes[0] === 0 && resolve();
    floor.command('pty');
  });
  return echoRoundTrips('floor', (bytes) => floor.send(bytes), (on) => (floor.onData = on), rounds);
}

/** `head -c {mb}M /dev/zero` through the floor: MB/s at the client, the relay's and the agent's CPU per GB. */
export async function floorOutput(floor, mb) {
  const outputBytes = mb * 1024 * 1024;
  const cpu = () => cpuSeconds(floor.relay.pid) + cpuSeconds(floor.agent.pid);
  const before = cpu();
  let bytes = 0;
  let first;
  let last;
  await new Promise((resolve) => {
    floor.onData = (chunk) => {
      first ??= now();
      last = now();
      bytes += chunk.length;
      if (bytes >= outputBytes) resolve();
    };
    floor.command(`output ${outputBytes}`);
  });
  return { mbps: outputBytes / 1048576 / ((last - first) / 1000), cpuPerGb: (cpu() - before) / (outputBytes / 2 ** 30) };
}

if (process.argv[2] === 'relay') runRelay();
else if (process.argv[2] === 'agent') runAgent(Number(process.argv[3]), process.argv[4]);
