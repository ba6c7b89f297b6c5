#!/usr/bin/env node
// The "recording off" server of bench/recording.mjs: the server `airlock server` runs, started
// with the broker's `unrecorded` option (sessions keep no record; frames are acknowledged without
// waiting for a disk). That option is no flag, setting or environment variable: only a program
// that starts the server itself, like this one, can set it. Takes --data-dir D --listen H:P.
import { parseArgs } from 'node:util';
import { loadConfig } from '@airlock/server/config/config';
import { startServer } from '@airlock/server/server';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, listen: { type: 'string' } } });
const flags = new Map(Object.entries(values));
const server = await startServer(loadConfig(flags, {}), { sessions: { unrecorded: true } });
console.log(`Airlock server (recording off, benchmarks only) listening on ${server.url}`);
const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
