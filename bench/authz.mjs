#!/usr/bin/env node
// npm run bench:authz — what authorization adds to a trivial call. The same call
// (identitystore:ListGroups on an empty directory) is timed with the root token, which skips
// policy, and with a role session whose permission set's policies must allow it. Loopback HTTP,
// SQLite, sequential calls. Target (issue 4): at most 5% added.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AirlockClient } from '@airlock/client';
import { identitystore, organizations, portal, roleSessions, ssoAdmin } from '@airlock/protocol';
import { loadConfig } from '@airlock/server/config/config';
import { startServer } from '@airlock/server/server';

const calls = Number(process.argv[2] ?? 3000);
const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
const lines = [];
const log = { info: (line) => lines.push(line), warn: () => {}, error: (m, e) => console.error(m, e) };
const server = await startServer(loadConfig(new Map([['data-dir', dataDir], ['listen', '127.0.0.1:0']]), {}), { log });
const root = new AirlockClient({ endpointUrl: server.url, token: readFileSync(join(dataDir, 'root-token'), 'utf8').trim() });
const anonymous = new AirlockClient({ endpointUrl: server.url });
const last = (pattern) => lines.map((line) => pattern.exec(line)?.[1]).filter(Boolean).pop();

await root.call(portal.PutMfaSettings, { MfaMode: 'DISABLED', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'ALLOW' });
const { UserId } = await root.call(identitystore.CreateUser, { UserName: 'bench', Emails: [{ Value: 'bench@example.com' }] });
await anonymous.call(portal.AcceptInvitation, { InvitationToken: last(/token=([A-Za-z0-9_-]+)/), Password: 'swift otter lantern 42' });
const signedIn = await anonymous.call(portal.InitiateAuth, { Username: 'bench', Password: 'swift otter lantern 42' });
const person = new AirlockClient({ endpointUrl: server.url, token: signedIn.AuthenticationResult.AccessToken });
const account = (await root.call(organizations.ListAccounts, {})).Accounts[0].Id;
const policy = readFileSync(new URL('../examples/guide/policies/production-onprem.json', import.meta.url), 'utf8');
const extended = JSON.parse(policy);
extended.Statement.push({ Effect: 'Allow', Action: 'identitystore:List*', Resource: '*' });
const set = (await root.call(ssoAdmin.CreatePermissionSet, { Name: 'Bench' })).PermissionSet.PermissionSetArn;
await root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: set, InlinePolicy: JSON.stringify(extended) });
await root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: set, PrincipalType: 'USER', PrincipalId: UserId });
const { RoleCredentials } = await person.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'Bench' });
const role = new AirlockClient({ endpointUrl: server.url, token: RoleCredentials.AccessToken });

async function time(client) {
  const samples = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await client.call(identitystore.ListGroups, {});
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return samples;
}
const at = (samples, p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
// Warm up both paths, then alternate rounds so that drift affects both alike.
await time(root);
await time(role);
const rounds = { root: [], role: [] };
for (let round = 0; round < 3; round++) {
  rounds.root.push(...(await time(root)));
  rounds.role.push(...(await time(role)));
}
const rows = Object.entries(rounds).map(([who, samples]) => {
  samples.sort((a, b) => a - b);
  return { caller: who === 'root' ? 'root token (no policy)' : 'role session (policy decides)', 'median ms': at(samples, 50).toFixed(3), 'p99 ms': at(samples, 99).toFixed(3) };
});
console.log(`identitystore:ListGroups, ${calls * 3} calls each, loopback HTTP, SQLite, Node ${process.version}`);
console.table(rows);
const added = (Number(rows[1]['median ms']) / Number(rows[0]['median ms']) - 1) * 100;
console.log(`authorization adds ${added.toFixed(1)}% to the median`);
await server.close();
rmSync(dataDir, { recursive: true, force: true });
