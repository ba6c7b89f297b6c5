/**
 * `airlock audit verify` and `airlock audit export` run the server package's program
 * (`airlock-server audit …`) against a data directory or database: the CLI never imports the
 * server (DESIGN §2). LookupEvents, over the API, is `airlock cloudtrail lookup-events`.
 */
import type { Command } from '../command.js';
import { runProgram } from './server.js';

export const auditVerify: Command = {
  path: 'audit verify',
  summary:
    'Check the audit trail\'s hash chain (--data-dir D, or --database-url U): prints "verified N records", or names each edited, deleted or reordered record and exits 1.',
  options: [],
  passThrough: true,
  run: (_flags, _io, argv) => runProgram('airlock-server', ['audit', 'verify', ...argv]),
};

export const auditExport: Command = {
  path: 'audit export',
  summary: 'Write the audit trail as JSON Lines, with each record\'s seq and hash (--data-dir D or --database-url U, --since/--until ISO 8601).',
  options: [],
  passThrough: true,
  run: (_flags, _io, argv) => runProgram('airlock-server', ['audit', 'export', ...argv]),
};
