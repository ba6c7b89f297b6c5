#!/usr/bin/env node
// npm run bench:recording [-- --echo N --output-mb M --rounds R --timeout-s S]
// What the session record costs (DESIGN §7: every frame hash-chained into DATA/records and
// fdatasync'd before it is acknowledged), in one run: two identical real servers, each with its
// own real agent (child processes, SQLite, loopback), one as `airlock server` runs, the other
// with recording off (bench/unrecorded-server.mjs: the broker's `unrecorded` option, which no
// flag, setting or variable reaches). The measurements alternate between them, round by round,
// so that whatever else the machine does falls on both alike; each figure is the median of the
// rounds (after one that warms both up and is not counted):
//  1. keystroke echo round trip: single bytes into cat on each agent's PTY, a session open on
//     both servers at once and the keystrokes alternating between them (on, off, off, on, ...),
//     so that what the machine does meanwhile falls on both alike (the p50 of each round)
//  2. terminal output throughput: head -c M /dev/zero, counted at the client; server+agent CPU/GB
// Targets: recording adds at most 10% to the echo p50 and takes at most 15% off throughput.
// Exits 1 when a target is missed, 2 on a failure or the time bound.
import { parseArgs } from 'node:util';
import { airlockEchoProbe, airlockOutput, boundBench, runBench, say, shutdown, startAirlock, stats, us } from './sessions-rig.mjs';

const { values: args } = parseArgs({
  options: {
    echo: { type: 'string', default: '500' },
    'output-mb': { type: 'string', default: '128' },
    rounds: { type: 'string', default: '3' },
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
// 500 to warm up, as bench:sessions: a fresh server's first keystrokes time V8 compiling its data path.
const ECHO = { n: positive('echo'), warmup: 500 };
const OUTPUT_MB = positive('output-mb');
const ROUNDS = positive('rounds');
if (ECHO.n + ECHO.warmup >= 4000) {
  console.error(`--echo must stay under ${4000 - ECHO.warmup}: the PTY line buffer (4096) takes the bytes, no newline is sent`);
  process.exit(2);
}
boundBench('bench:recording', positive('timeout-s'));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Echo sessions open on every side at once, each keystroke alternating between them, the first of each pair alternating too. */
async function interleavedEcho(sides) {
  const probes = [];
  for (const side of sides) probes.push(await airlockEchoProbe(side.airlock));
  const samples = sides.map(() => []);
  for (let i = 0; i < ECHO.warmup + ECHO.n; i++) {
    const turn = i % 2 === 0 ? probes.keys() : [...probes.keys()].reverse();
    for (const index of turn) {
      const ms = await probes[index].probe(i);
      if (i >= ECHO.warmup) samples[index].push(ms);
    }
  }
  for (const { close } of probes) await close();
  return samples.map(stats);
}

await runBench(async () => {
  const sides = [
    { name: 'on', airlock: await startAirlock({ label: 'recording on' }), echo: [], mbps: [], cpuPerGb: [] },
    { name: 'off', airlock: await startAirlock({ label: 'recording off', serverMain: 'bench/unrecorded-server.mjs' }), echo: [], mbps: [], cpuPerGb: [] },
  ];

  // Round 0 warms both servers up and is not counted: a server runs for months, its data path
  // long compiled by V8, while a fresh one's first rounds measured 30–40% slower than its third.
  for (let round = 0; round <= ROUNDS; round++) {
    const counted = round > 0;
    say(counted ? `round ${round} of ${ROUNDS}: echo ${ECHO.n} bytes, then ${OUTPUT_MB} MB of output, on each` : `warming up (not counted): the same on each`);
    // Who goes first alternates too.
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    const echoes = await interleavedEcho(order);
    for (const [index, side] of order.entries()) {
      const echo = echoes[index];
      if (counted) side.echo.push(echo.p50);
      say(`   recording ${side.name}: echo p50 ${us(echo.p50)}, p99 ${us(echo.p99)}`);
    }
    for (const side of order) {
      const output = await airlockOutput(side.airlock, OUTPUT_MB);
      if (counted) {
        side.mbps.push(output.mbps);
        side.cpuPerGb.push(output.cpuPerGb);
      }
      say(`   recording ${side.name}: ${output.mbps.toFixed(0)} MB/s, server+agent ${output.cpuPerGb.toFixed(1)} CPU s/GB`);
    }
  }

  const [on, off] = sides;
  const echoOn = median(on.echo);
  const echoOff = median(off.echo);
  const mbpsOn = median(on.mbps);
  const mbpsOff = median(off.mbps);
  const echoAdded = (echoOn - echoOff) / echoOff;
  const throughputTaken = (mbpsOff - mbpsOn) / mbpsOff;
  const pass = (ok) => (ok ? 'met' : '**missed**');
  const percent = (fraction) => `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%`;
  console.log(`\n## bench:recording (medians of ${ROUNDS} rounds)\n`);
  console.log('| | recording on | recording off | difference | target | |');
  console.log('|---|---|---|---|---|---|');
  console.log(`| keystroke echo p50 | ${us(echoOn)} | ${us(echoOff)} | ${percent(echoAdded)} | ≤ +10% | ${pass(echoAdded <= 0.1)} |`);
  console.log(`| terminal output | ${mbpsOn.toFixed(0)} MB/s | ${mbpsOff.toFixed(0)} MB/s | ${percent(-throughputTaken)} | ≥ −15% | ${pass(throughputTaken <= 0.15)} |`);
  console.log(`| server+agent CPU per GB of output | ${median(on.cpuPerGb).toFixed(1)} s | ${median(off.cpuPerGb).toFixed(1)} s | | | |`);
  console.log(`\nEach round: echo p50 on ${on.echo.map(us).join(', ')}; off ${off.echo.map(us).join(', ')}. Output MB/s on ${on.mbps.map((v) => v.toFixed(0)).join(', ')}; off ${off.mbps.map((v) => v.toFixed(0)).join(', ')}.`);
  await shutdown(echoAdded <= 0.1 && throughputTaken <= 0.15 ? 0 : 1);
});
