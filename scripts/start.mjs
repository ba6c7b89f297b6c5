#!/usr/bin/env node
// `npm start`: the guide's demo, on this machine. The server (SQLite and files in .airlock-data,
// http://127.0.0.1:4100) and two agents standing for the guide's servers, prod-server01
// (project=Production) and dev-server01 (project=Development), each registered once through a
// hybrid activation; then the guide's setup (scripts/demo-setup.mjs): its groups, users, MFA
// settings and on-premises permission sets through `airlock apply`, an administrator, and
// Session Manager logging on. It prints how to sign in. Ctrl-C stops it all; a second start
// finds everything in place and changes nothing.
//   npm start -- --port 4200 --data-dir /tmp/demo     another port and data directory
// `npm run start:server` runs the server alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyGuide, enableLogging, invitationLinks, rootClient, waitForAgentsOnline } from './demo-setup.mjs';

const root = new URL('..', import.meta.url).pathname;
const { values: flags } = parseArgs({ options: { port: { type: 'string', default: '4100' }, 'data-dir': { type: 'string', default: join(root, '.airlock-data') } } });
const dataDir = resolve(flags['data-dir']);
const endpoint = `http://127.0.0.1:${flags.port}`;
const AGENTS = [
  { name: 'prod-server01', project: 'Production' },
  { name: 'dev-server01', project: 'Development' },
];
const children = [];

function start(label, args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.on('data', (chunk) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) console.log(`[${label}] ${line}`);
    });
  }
  child.on('exit', (code, signal) => {
    console.log(`[${label}] exited (${signal ?? code})`);
    if (label === 'server') stop(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** A first start (migrations, keys) on a busy machine can take several seconds: wait up to a minute. */
async function healthy() {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      if ((await fetch(`${endpoint}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not answer at ${endpoint}/healthz`);
}

/** Registers each agent once (its state directory keeps the registration), then runs it. */
async function startAgents(client) {
  const ids = [];
  for (const agent of AGENTS) {
    const stateDir = join(dataDir, 'agents', agent.name);
    const agentArgs = ['packages/agent/bin/airlock-agent.js'];
    if (!existsSync(join(stateDir, 'registration.json'))) {
      const activation = await client.callByName('ssm', 'CreateActivation', {
        IamRole: 'SSMServiceRole',
        DefaultInstanceName: agent.name,
        Description: `npm start: ${agent.name}`,
        Tags: [
          { Key: 'Name', Value: agent.name },
          { Key: 'project', Value: agent.project },
        ],
      });
      const registered = spawnSync(process.execPath, [...agentArgs, 'register', '--endpoint-url', endpoint, '--id', activation.ActivationId, '--code', activation.ActivationCode, '--state-dir', stateDir], { cwd: root, encoding: 'utf8' });
      if (registered.status !== 0) throw new Error(`registering ${agent.name} failed: ${registered.stderr}`);
      console.log(`[${agent.name}] ${registered.stdout.trim()}`);
    }
    start(agent.name, [...agentArgs, 'run', '--state-dir', stateDir]);
    ids.push(agent.name);
  }
  return ids;
}

function printSignIn(links) {
  const lines = [
    '',
    `Airlock's guide demo is up. Console: ${endpoint}/  (Ctrl-C stops it; data stays in ${dataDir})`,
    '',
    'Sign in (each invitation link works once: open it, choose a password, then sign in with it; a link',
    'used at an earlier start is shown again: sign in with the password chosen then;',
    'the guide asks for a second factor every time: a code by email until you register an',
    "authenticator app under MFA devices. Mailed codes show here as \"[server] mail: … code: NNNNNN\"",
    `and with: node packages/server/dist/main.js mail --data-dir ${dataDir}):`,
  ];
  for (const [user, what] of [
    ['admin01', 'the administrator (AdministratorAccess: every console page, everyone\'s session logs)'],
    ['testuser01', 'ProductionAccess: may open prod-server01, not dev-server01'],
    ['testuser02', 'DevelopmentAccess: may open dev-server01, not prod-server01'],
  ]) {
    lines.push(`  ${user.padEnd(11)} ${what}`);
    lines.push(`              ${links.get(user) ?? '(no invitation in the outbox: reset with airlock identitystore reset-user-password)'}`);
  }
  lines.push(
    '',
    `Then: ${endpoint}/portal/sign-in → the account → Management console → Session Manager.`,
    `Sessions are recorded to the log group SessionManagerLogGroup and the bucket session-manager-log-bucket123 (${join(dataDir, 'objects')}).`,
    `The root token (bootstrap, CLI): AIRLOCK_TOKEN_FILE=${join(dataDir, 'root-token')} npx airlock ssm describe-instance-information --endpoint-url ${endpoint}`,
    '',
  );
  console.log(lines.join('\n'));
}

try {
  start('server', ['packages/server/dist/main.js', '--data-dir', dataDir, '--listen', `127.0.0.1:${flags.port}`]);
  await healthy();
  const client = rootClient(endpoint, dataDir);
  applyGuide({ root, endpoint, dataDir });
  await enableLogging(client);
  const names = await startAgents(client);
  await waitForAgentsOnline(client, names);
  printSignIn(await invitationLinks(dataDir, ['admin01', 'testuser01', 'testuser02']));
} catch (error) {
  console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
  stop(1);
}
