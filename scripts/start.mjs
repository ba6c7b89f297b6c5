#!/usr/bin/env node
// `npm start`: the most complete Airlock there is, on this machine. The server (SQLite and
// files in .airlock-data, http://127.0.0.1:4100), and two agents standing for the guide's
// servers: prod-server01 (project=Production) and dev-server01 (project=Development), each
// registered once through a hybrid activation and then kept running. Ctrl-C stops them all.
// `npm run start:server` runs the server alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dataDir = join(root, '.airlock-data');
const endpoint = 'http://127.0.0.1:4100';
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

async function healthy() {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${endpoint}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not answer at ${endpoint}/healthz`);
}

async function call(operation, input) {
  const token = readFileSync(join(dataDir, 'root-token'), 'utf8').trim();
  const response = await fetch(`${endpoint}/api/ssm/${operation}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(input) });
  const body = await response.json();
  if (!response.ok) throw new Error(`ssm:${operation}: ${body.__type}: ${body.message}`);
  return body;
}

start('server', ['packages/server/dist/main.js', '--data-dir', dataDir]);
await healthy();
for (const agent of AGENTS) {
  const stateDir = join(dataDir, 'agents', agent.name);
  const agentArgs = ['packages/agent/bin/airlock-agent.js'];
  if (!existsSync(join(stateDir, 'registration.json'))) {
    const activation = await call('CreateActivation', {
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
}
console.log(`Airlock is up at ${endpoint}: root token in ${join(dataDir, 'root-token')}; agents ${AGENTS.map((agent) => agent.name).join(', ')}.`);
console.log(`Console: ${endpoint}/ (sign in at ${endpoint}/portal/sign-in)`);
console.log('Try: AIRLOCK_TOKEN_FILE=.airlock-data/root-token npx airlock ssm describe-instance-information');
