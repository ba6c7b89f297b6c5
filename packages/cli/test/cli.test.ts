import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { airlock, repoFile } from './helpers.js';

test('airlock --help lists the commands and exits 0', async () => {
  const { code, stdout } = await airlock(['--help']);
  assert.equal(code, 0);
  for (const command of ['policy validate', 'policy simulate', 'demo']) assert.match(stdout, new RegExp(command));
});

test('airlock with no command prints the overview and exits 2', async () => {
  const { code, stdout } = await airlock([]);
  assert.equal(code, 2);
  assert.match(stdout, /Usage: airlock <command>/);
});

test('a command prints its own help', async () => {
  const { code, stdout } = await airlock(['policy', 'simulate', '--help']);
  assert.equal(code, 0);
  assert.match(stdout, /--policy-input-list/);
  assert.match(stdout, /--cases/);
});

test('an unknown command and an unknown option are usage errors (exit 2) that say what is wrong', async () => {
  const unknown = await airlock(['polcy', 'validate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "polcy validate"/);
  const option = await airlock(['policy', 'validate', '--policy-doc', '{}']);
  assert.equal(option.code, 2);
  assert.match(option.stderr, /no option --policy-doc\. Options: --policy-document/);
});

test('sso-admin, as the AWS CLI names it, reaches the sso commands', async () => {
  const { code, stdout } = await airlock(['sso-admin', 'create-permission-set', '--help']);
  assert.equal(code, 0);
  assert.match(stdout, /^airlock sso create-permission-set/);
  const listed = await airlock(['sso-admin']);
  assert.match(listed.stdout, /sso list-permission-sets/);
});

test('npx airlock --help works from the repository root', () => {
  const result = spawnSync('npx', ['--no-install', 'airlock', '--help'], { cwd: repoFile(''), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /policy simulate/);
});

test('airlock demo decides the guide walkthrough as the guide expects', async () => {
  const { code, stdout } = await airlock(['demo']);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /Every decision is the one the guide expects \(11 checks\)/);
  assert.match(stdout, /testuser01 \(ProductionPermissionSet\)\s+ssm:StartSession\s+dev-server01\s+implicitDeny/);
});
