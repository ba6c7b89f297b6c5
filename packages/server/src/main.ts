/** `airlock-server` (also `airlock server`): starts a server from flags, environment and config file. */
import { resolve } from 'node:path';
import { runAuditCommand } from './audit/command.js';
import { ConfigError, CONFIG_KEYS, flagOf, loadConfig } from './config/config.js';
import { listOutbox } from './mail/outbox.js';
import { startServer } from './server.js';

function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new ConfigError(`Unexpected argument "${arg}"; options start with --.`);
    const eq = arg.indexOf('=');
    if (eq >= 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (arg === '--help') flags.set('help', '');
    else {
      const value = argv[++i];
      if (value === undefined) throw new ConfigError(`${arg} needs a value.`);
      flags.set(arg.slice(2), value);
    }
  }
  return flags;
}

function help(): string {
  const lines = ['Usage: airlock server [--option value …]', '', 'Options (also AIRLOCK_* environment variables, or keys of a --config JSON file):'];
  for (const spec of CONFIG_KEYS) lines.push(`  --${flagOf(spec.key).padEnd(24)} ${spec.help}`);
  lines.push(`  --${'config'.padEnd(24)} A JSON file of settings (keys as above, in camelCase).`);
  lines.push('', 'Also: airlock server audit verify|export (the audit trail; audit --help), airlock server mail (the outbox).');
  return lines.join('\n');
}

/** `airlock-server mail [--data-dir D]`: the mails written to the outbox, newest last. */
async function printOutbox(flags: Map<string, string>): Promise<void> {
  const dir = resolve(flags.get('data-dir') ?? '.airlock-data', 'outbox');
  const entries = await listOutbox(dir);
  if (entries.length === 0) console.log(`No mail in ${dir}.`);
  for (const entry of entries) {
    console.log(`${entry.date.toISOString()}  to ${entry.to}  "${entry.subject}"`);
    if (entry.firstLink !== undefined) console.log(`    link: ${entry.firstLink}`);
    if (entry.code !== undefined) console.log(`    code: ${entry.code}`);
    console.log(`    file: ${entry.file}`);
  }
}

try {
  const args = process.argv.slice(2);
  const mailOnly = args[0] === 'mail';
  const audit = args[0] === 'audit';
  const flags = audit ? new Map<string, string>() : parseFlags(mailOnly ? args.slice(1) : args);
  if (audit) {
    // eslint-disable-next-line no-restricted-syntax -- as below: the audit commands read the server's settings
    process.exitCode = await runAuditCommand(args.slice(1), process.env, { stdout: process.stdout, stderr: process.stderr });
  } else if (mailOnly) {
    await printOutbox(flags);
  } else if (flags.has('help')) {
    console.log(help());
  } else {
    // The one place the server reads its environment.
    // eslint-disable-next-line no-restricted-syntax
    const config = loadConfig(flags, process.env);
    const server = await startServer(config);
    console.log(`Airlock server listening on ${server.url} (links use ${server.services.publicUrl()})`);
    console.log(`  data: ${config.dataDir} (${config.databaseUrl === undefined ? 'SQLite' : 'PostgreSQL'})`);
    if (server.rootTokenFile !== undefined) console.log(`  root token written to ${server.rootTokenFile} (0600)`);
    console.log(`  try: npx airlock identitystore list-users --endpoint-url ${server.url} --token-file ${config.dataDir}/root-token`);
    if (server.caFingerprint !== undefined) console.log(`  TLS CA fingerprint (SHA-256): ${server.caFingerprint}`);
    const stop = (): void => {
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`airlock server: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
