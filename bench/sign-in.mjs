#!/usr/bin/env node
// npm run bench:sign-in — latency of a complete sign-in (InitiateAuth with the password, then
// RespondToAuthChallenge with an authenticator code) over HTTP on loopback, 100 times, on the
// embedded default (SQLite). The password hash (argon2id, OWASP parameters) dominates by design.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AirlockClient } from '@airlock/client';
import { identitystore, portal } from '@airlock/protocol';
import { loadConfig } from '@airlock/server/config/config';
import { totpCode, base32Decode } from '@airlock/server/identity/totp';
import { startServer } from '@airlock/server/server';

const runs = Number(process.argv[2] ?? 100);
const dataDir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
let time = Date.now();
const clock = { now: () => time };
const lines = [];
const log = { info: (line) => lines.push(line), warn: () => {}, error: (message, error) => console.error(message, error) };
const server = await startServer(loadConfig(new Map([['data-dir', dataDir], ['listen', '127.0.0.1:0']]), {}), { clock, log });
const rootToken = (await import('node:fs')).readFileSync(join(dataDir, 'root-token'), 'utf8').trim();
const root = new AirlockClient({ endpointUrl: server.url, token: rootToken });
const anonymous = new AirlockClient({ endpointUrl: server.url });
const lastMatch = (pattern) => lines.map((line) => pattern.exec(line)?.[1]).filter(Boolean).pop();

const password = 'bench mark passphrase 2026';
await root.call(identitystore.CreateUser, { UserName: 'bench01', Emails: [{ Value: 'bench01@example.com' }] });
await anonymous.call(portal.AcceptInvitation, { InvitationToken: lastMatch(/token=([A-Za-z0-9_-]+)/), Password: password });
const first = await anonymous.call(portal.InitiateAuth, { Username: 'bench01', Password: password });
const signedIn = await anonymous.call(portal.RespondToAuthChallenge, {
  ChallengeName: 'EMAIL_OTP',
  Session: first.Session,
  ChallengeResponses: { EMAIL_OTP_CODE: lastMatch(/code: (\d{6})/) },
});
const user = new AirlockClient({ endpointUrl: server.url, token: signedIn.AuthenticationResult.AccessToken });
const { SecretCode } = await user.call(portal.AssociateSoftwareToken, {});
const secret = base32Decode(SecretCode);
await user.call(portal.VerifySoftwareToken, { UserCode: totpCode(secret, time), FriendlyDeviceName: 'bench' });

const samples = [];
for (let i = 0; i < runs; i++) {
  time += 30_000; // a fresh TOTP step each time: a code is accepted once
  const t0 = process.hrtime.bigint();
  const challenge = await anonymous.call(portal.InitiateAuth, { Username: 'bench01', Password: password });
  const result = await anonymous.call(portal.RespondToAuthChallenge, {
    ChallengeName: 'SOFTWARE_TOKEN_MFA',
    Session: challenge.Session,
    ChallengeResponses: { USERNAME: 'bench01', SOFTWARE_TOKEN_MFA_CODE: totpCode(secret, time) },
  });
  samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (result.AuthenticationResult === undefined) throw new Error('sign-in did not complete');
}
samples.sort((a, b) => a - b);
const at = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))].toFixed(1);
console.log(`${runs} sign-ins (password + TOTP), SQLite, loopback HTTP, Node ${process.version}`);
console.table([{ 'median ms': at(50), 'p90 ms': at(90), 'p99 ms': at(99), 'max ms': samples[samples.length - 1].toFixed(1) }]);
await server.close();
rmSync(dataDir, { recursive: true, force: true });
