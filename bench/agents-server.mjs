#!/usr/bin/env node
// The server half of `npm run bench:agents`: one real Airlock server (SQLite, loopback, port 0)
// in a process of its own, so that its memory is measured alone. Started by bench/agents.mjs with
// an IPC channel and --expose-gc; not meant to be run by hand.
//   argv: <data dir> <heartbeat interval ms>
//   → {type: 'ready', url}
//   ← {type: 'memory'}  → {type: 'memory', rssBytes, heapUsedBytes, externalBytes, connected, pending} (after a full GC)
//   ← {type: 'loop'}    → {type: 'loop', p50Ms, p99Ms, maxMs, flushMaxMs, sweepMaxMs, ticks} (event-loop
//                         delay, and the longest last-ping write and sweep of the hub's ticks, since the last ask)
//   ← {type: 'stop'} or SIGTERM: the server closes, then the process exits
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadConfig } from '@airlock/server/config/config';
import { startServer } from '@airlock/server/server';

const [dataDir, heartbeat] = process.argv.slice(2);
if (dataDir === undefined || process.send === undefined) {
  console.error('bench/agents-server.mjs is started by bench/agents.mjs');
  process.exit(2);
}
const log = { info: () => {}, warn: (message) => console.error(`server warning: ${message}`), error: (message, error) => console.error(`server error: ${message}`, error) };
const server = await startServer(loadConfig(new Map([['data-dir', dataDir], ['listen', '127.0.0.1:0']]), {}), {
  log,
  fleet: { heartbeatIntervalMs: Number(heartbeat ?? 30_000) },
});
// The hub's periodic work (last-ping writes, the look for other nodes' changes), timed from outside.
const hub = server.services.agents;
const ticks = { flush: [], sweep: [] };
for (const name of ['flush', 'sweep']) {
  const original = hub[name].bind(hub);
  hub[name] = async () => {
    const started = performance.now();
    try {
      return await original();
    } finally {
      ticks[name].push(performance.now() - started);
    }
  };
}
const longest = (values) => Math.max(0, ...values.splice(0)).toFixed(1);

const RESOLUTION_MS = 5;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();
/** The histogram holds the timer's whole period: the delay is what exceeds the resolution. */
const ms = (nanoseconds) => Math.max(0, nanoseconds / 1e6 - RESOLUTION_MS).toFixed(1);

let stopping;
const stop = () => {
  stopping ??= server.close().then(
    () => process.exit(0),
    (error) => {
      console.error('server close failed', error);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.on('disconnect', stop);
process.on('message', (message) => {
  if (message?.type === 'memory') {
    globalThis.gc?.();
    globalThis.gc?.();
    const usage = process.memoryUsage();
    const { agents } = server.services;
    process.send({ type: 'memory', rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external, connected: agents.size, pending: agents.pending });
  } else if (message?.type === 'loop') {
    const count = ticks.flush.length;
    process.send({ type: 'loop', p50Ms: ms(loop.percentile(50)), p99Ms: ms(loop.percentile(99)), maxMs: ms(loop.max), ticks: count, flushMaxMs: longest(ticks.flush), sweepMaxMs: longest(ticks.sweep) });
    loop.reset();
  } else if (message?.type === 'stop') {
    stop();
  }
});
process.send({ type: 'ready', url: server.url });
