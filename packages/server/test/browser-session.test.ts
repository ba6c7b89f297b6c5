/** Browsers get the session as an HttpOnly cookie and must echo the CSRF cookie on every call. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { identitystore, portal, roleSessions, ssoAdmin } from '@airlock/protocol';
import { startTestServer, type TestServer } from '@airlock/testkit';

let server: TestServer;
let cookies: Map<string, string>;
let setCookie: string[];
let accountId: string;

async function post(operation: string, body: unknown, headers: Record<string, string>, service = 'portal'): Promise<{ status: number; json: Record<string, unknown>; setCookie: string[] }> {
  const response = await fetch(`${server.url}/api/${service}/${operation}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, setCookie: response.headers.getSetCookie() };
}

const cookieHeader = (): string => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');

before(async () => {
  server = await startTestServer();
  await server.root.call(portal.PutMfaSettings, { MfaMode: 'DISABLED', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'ALLOW' });
  const { OneTimePassword, UserId } = await server.root.call(identitystore.CreateUser, { UserName: 'browser01', PasswordSetup: 'ONE_TIME_PASSWORD' });
  const { PermissionSet } = await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ReadOnly' });
  const account = (await server.root.call(roleSessions.GetCallerIdentity, {})).Account;
  await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: PermissionSet.PermissionSetArn, PrincipalType: 'USER', PrincipalId: UserId });
  accountId = account;
  const first = await server.client().call(portal.InitiateAuth, { Username: 'browser01', Password: OneTimePassword ?? '' });
  const response = await post(
    'RespondToAuthChallenge',
    { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: first.Session, ChallengeResponses: { NEW_PASSWORD: 'a long browser passphrase' } },
    { 'x-airlock-auth': 'cookie' },
  );
  assert.equal(response.status, 200);
  assert.equal((response.json['AuthenticationResult'] as { AccessToken: string }).AccessToken, '', 'the token is not readable by scripts');
  setCookie = response.setCookie;
  cookies = new Map(setCookie.map((line) => line.split(';')[0]?.split('=') as [string, string]));
});
after(async () => {
  await server.stop();
});

test('sign-in sets an HttpOnly, SameSite=Strict session cookie and a readable CSRF cookie', () => {
  const session = setCookie.find((line) => line.startsWith('airlock_session='));
  const csrf = setCookie.find((line) => line.startsWith('airlock_csrf='));
  assert.match(session ?? '', /HttpOnly/);
  assert.match(session ?? '', /SameSite=Strict/);
  assert.match(session ?? '', /Max-Age=28800/);
  assert.doesNotMatch(csrf ?? '', /HttpOnly/);
  assert.match(cookies.get('airlock_session') ?? '', /^alp_/);
});

test('a cookie-authenticated call with the CSRF header works; without it or with a wrong one it is refused', async () => {
  const ok = await post('GetSession', {}, { cookie: cookieHeader(), 'x-airlock-csrf': cookies.get('airlock_csrf') ?? '' });
  assert.equal(ok.status, 200);
  assert.equal(ok.json['UserName'], 'browser01');
  for (const headers of [{ cookie: cookieHeader() }, { cookie: cookieHeader(), 'x-airlock-csrf': 'forged' }]) {
    const refused = await post('GetSession', {}, headers);
    assert.equal(refused.status, 403);
    assert.equal(refused.json['__type'], 'AccessDeniedException');
    assert.match(String(refused.json['message']), /x-airlock-csrf/);
  }
});

test('a role session in cookie mode is an HttpOnly cookie for the API only; portal calls stay the portal session, others are the role session', async () => {
  const csrf = { 'x-airlock-csrf': cookies.get('airlock_csrf') ?? '' };
  const started = await post('GetRoleCredentials', { AccountId: accountId, RoleName: 'ReadOnly' }, { cookie: cookieHeader(), ...csrf, 'x-airlock-auth': 'cookie' });
  assert.equal(started.status, 200);
  const credentials = started.json['RoleCredentials'] as { AccessToken: string; AssumedRoleArn: string };
  assert.equal(credentials.AccessToken, '', 'the role token is not readable by scripts');
  const role = started.setCookie.find((line) => line.startsWith('airlock_role='));
  assert.match(role ?? '', /HttpOnly/);
  assert.match(role ?? '', /SameSite=Strict/);
  assert.match(role ?? '', /Path=\/api\//);
  assert.match(role ?? '', /Max-Age=3[56]\d\d/, 'lasts the permission set\'s SessionDuration (PT1H)');
  const csrfAgain = started.setCookie.find((line) => line.startsWith('airlock_csrf='));
  assert.equal(csrfAgain?.split(';')[0], `airlock_csrf=${cookies.get('airlock_csrf') ?? ''}`, 'the CSRF value stays, so open pages keep working');
  const jar = `${cookieHeader()}; airlock_role=${role?.split(';')[0]?.slice('airlock_role='.length) ?? ''}`;

  const who = await post('GetCallerIdentity', {}, { cookie: jar, ...csrf }, 'sts');
  assert.equal(who.status, 200);
  assert.equal(who.json['Arn'], credentials.AssumedRoleArn);
  assert.match(credentials.AssumedRoleArn, /:assumed-role\/AWSReservedSSO_ReadOnly_[0-9a-f]{16}\/browser01$/);
  const me = await post('GetSession', {}, { cookie: jar, ...csrf });
  assert.equal(me.json['UserName'], 'browser01', 'portal calls are made as the portal session');
  const forged = await post('GetCallerIdentity', {}, { cookie: jar }, 'sts');
  assert.equal(forged.status, 403, 'the role cookie needs the CSRF header too');
});

test('SignOut clears the cookies and ends the session', async () => {
  const headers = { cookie: cookieHeader(), 'x-airlock-csrf': cookies.get('airlock_csrf') ?? '' };
  const out = await post('SignOut', {}, headers);
  assert.equal(out.status, 200);
  assert.ok(out.setCookie.some((line) => line.startsWith('airlock_session=;') && line.includes('Max-Age=0')));
  assert.ok(out.setCookie.some((line) => line.startsWith('airlock_role=;') && line.includes('Path=/api/') && line.includes('Max-Age=0')));
  const after = await post('GetSession', {}, headers);
  assert.equal(after.status, 401);
});
