/**
 * `airlock-server audit verify|export` (also `airlock audit …`): checks or exports the audit
 * trail of a data directory (SQLite) or a PostgreSQL database, without starting a server.
 * Exit codes: 0 done (verified), 1 the trail failed verification, 2 a usage or setup error.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { ownValue } from '@airlock/protocol';
import { ConfigError, loadConfig } from '../config/config.js';
import { openStore } from '../objects/service.js';
import type { ObjectStore } from '../objects/store.js';
import { describeDeliveryProblem, verifyDeliveredCopies } from '../sessions/verify-delivery.js';
import { describeRecordProblem, verifySessionRecord } from '../sessions/verify-record.js';
import type { Db } from '../storage/db.js';
import { openDatabase } from '../storage/db.js';
import { exportTrail } from './export.js';
import { PROBLEM_DESCRIPTIONS, verifyTrail } from './verify.js';

const USAGE = `Usage:
  airlock-server audit verify [--data-dir D] [--database-url U] [--session ID]
      Checks the hash chain: prints "verified N records", or each edited, deleted or
      reordered record and exits 1. With --session, checks that session's record instead:
      its chain, and its head against the seal in the audit trail; then the copies delivered
      to its log group and bucket against the record (each edited, deleted or added event
      and each edited or deleted object, with where). The object store is the server's:
      --object-store s3 and the --s3-* flags (or their AIRLOCK_* variables) as for the server.
  airlock-server audit export [--data-dir D] [--database-url U] [--since TIME] [--until TIME]
      Writes the records as JSON Lines in seq order: the CloudTrail record with seq, prevHash
      and hash. --since is inclusive, --until exclusive; TIME is ISO 8601 (2026-11-28T12:00:00Z).

--data-dir defaults to ./.airlock-data; --config F and AIRLOCK_* variables work as for the server.`;

const DATABASE_FLAGS = new Set(['data-dir', 'database-url', 'config']);
/** Where the server keeps recordings: verify --session reads the session's objects there. */
const OBJECT_STORE_FLAGS = ['object-store', 's3-endpoint', 's3-region', 's3-force-path-style', 's3-access-key-id', 's3-secret-access-key'];
const CONFIG_FLAGS = new Set([...DATABASE_FLAGS, ...OBJECT_STORE_FLAGS]);
const OPTIONS: Readonly<Record<string, ReadonlySet<string>>> = {
  verify: new Set([...CONFIG_FLAGS, 'session']),
  export: new Set([...DATABASE_FLAGS, 'since', 'until']),
};

export interface AuditCommandIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

class UsageError extends Error {}

function parseFlags(argv: readonly string[], allowed: ReadonlySet<string>): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new UsageError(`Unexpected argument "${arg}".`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!allowed.has(name)) throw new UsageError(`--${name} is not an option here. Options: ${[...allowed].map((flag) => `--${flag}`).join(', ')}.`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${arg} needs a value.`);
    flags.set(name, value);
  }
  return flags;
}

function parseTime(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new UsageError(`--${flag} must be an ISO 8601 time like 2026-11-28T12:00:00Z, not "${text}".`);
  return time;
}

const line = (out: Writable, text: string): void => {
  out.write(`${text}\n`);
};

/** `verify --session`: the record against its chain and seal, then the delivered copies against the record. */
async function verifySession(db: Db, store: ObjectStore, dataDir: string, sessionId: string, out: Writable): Promise<number> {
  const record = await verifySessionRecord(db, dataDir, sessionId);
  const copies = await verifyDeliveredCopies({ db, store, now: Date.now() }, sessionId, record.recorded);
  const problems = [...record.problems.map(describeRecordProblem), ...copies.problems.map(describeDeliveryProblem)];
  for (const problem of problems) line(out, `session ${sessionId}: ${problem}`);
  if (problems.length > 0) {
    line(out, `session record NOT verified: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    return 1;
  }
  const expired = copies.expired === 0 ? '' : ` (${copies.expired} past the log group's retention not checked)`;
  const objects = copies.objects.length === 0 ? '' : `; objects ${copies.objects.join(', ')} match`;
  line(out, `verified session ${sessionId}: ${record.entries} entries, sealed chain head ${record.head}; ${copies.events} log events match${expired}${objects}`);
  return 0;
}

/** Runs `audit {verify|export} …`; returns the exit code. */
export async function runAuditCommand(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, io: AuditCommandIo): Promise<number> {
  const [subcommand = '', ...rest] = argv;
  if (subcommand === '--help' || subcommand === 'help' || rest.includes('--help')) {
    line(io.stdout, USAGE);
    return 0;
  }
  try {
    const allowed = ownValue(OPTIONS, subcommand);
    if (allowed === undefined) throw new UsageError(subcommand === '' ? 'Say what to do: verify or export.' : `There is no audit command "${subcommand}"; use verify or export.`);
    const flags = parseFlags(rest, allowed);
    const since = parseTime('since', flags.get('since'));
    const until = parseTime('until', flags.get('until'));
    const config = loadConfig(new Map([...flags].filter(([name]) => CONFIG_FLAGS.has(name))), env);
    if (config.databaseUrl === undefined && !existsSync(join(config.dataDir, 'airlock.db'))) {
      throw new UsageError(`There is no Airlock database in ${config.dataDir} (no airlock.db): give the server's --data-dir, or --database-url for PostgreSQL.`);
    }
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      if (subcommand === 'export') {
        await exportTrail(database.db, io.stdout, { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) });
        return 0;
      }
      const sessionId = flags.get('session');
      if (sessionId !== undefined) {
        const store = await openStore(config);
        try {
          return await verifySession(database.db, store, config.dataDir, sessionId, io.stdout);
        } finally {
          store.close();
        }
      }
      const result = await verifyTrail(database.db);
      if (result.ok) {
        const head = result.head === undefined ? '' : `; the last is seq ${result.head.seq}, hash ${result.head.hash}`;
        line(io.stdout, `verified ${result.records} records${head}`);
        return 0;
      }
      for (const problem of result.problems) {
        line(io.stdout, `seq ${problem.seq} (eventID ${problem.eventID}): ${problem.problem}: ${PROBLEM_DESCRIPTIONS[problem.problem]}`);
      }
      const count = result.problems.length;
      line(io.stdout, `audit trail NOT verified: ${count} problem${count === 1 ? '' : 's'} in ${result.records} records`);
      return 1;
    } finally {
      await database.close();
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      line(io.stderr, `airlock-server audit: ${error.message}${error instanceof UsageError ? `\n\n${USAGE}` : ''}`);
      return 2;
    }
    if ((error as { code?: unknown } | null)?.code === 'EPIPE') return 0;
    throw error;
  }
}
