/**
 * The server `airlock server` runs, with the broker's test-only `recordDelayMs`: every batch of a
 * session's record waits 1.5 s before its write, so output reaches the client well before it is
 * on disk, and a kill -9 meanwhile leaves the client ahead of the record. Run as a child process
 * by sessions-ahead.test.ts (startServerProcess's `main`). Takes --data-dir D --listen H:P.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '@airlock/server/config/config';
import { startServer } from '@airlock/server/server';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, listen: { type: 'string' } } });
const flags = new Map(Object.entries(values));
const server = await startServer(loadConfig(flags, {}), { sessions: { recordDelayMs: 1_500, tickMs: 200, aheadWaitMs: 3_000 } });
console.log(`Airlock server listening on ${server.url}`);
