/**
 * People for tests: a user who can sign in, signed in with MFA the way the guide sets it up
 * (password, then the code mailed to them), and role sessions from their assignments.
 */
import { randomBytes } from 'node:crypto';
import type { AirlockClient } from '@airlock/client';
import { identitystore, portal, roleSessions } from '@airlock/protocol';
import { mailedTo } from './mailbox.js';
import type { TestServer } from './server.js';

export const TEST_PASSWORD = 'a long test passphrase';

/** The last 6-digit code or token the outbox logged (server.log carries each mail's link or code). */
function lastLogged(server: TestServer, pattern: RegExp): string {
  const found = server.log.lines.map((line) => pattern.exec(line)?.[1]).filter((value): value is string => value !== undefined);
  const last = found[found.length - 1];
  if (last === undefined) throw new Error(`nothing in the server log matches ${String(pattern)}`);
  return last;
}

/** Creates a user with an email, accepts the invitation and returns the user id. */
export async function createPerson(server: TestServer, userName: string, attributes?: Record<string, string>): Promise<string> {
  const { UserId } = await server.root.call(identitystore.CreateUser, {
    UserName: userName,
    Emails: [{ Value: `${userName}@example.com`, Primary: true }],
    ...(attributes === undefined ? {} : { Attributes: attributes }),
  });
  await server.client().call(portal.AcceptInvitation, { InvitationToken: lastLogged(server, /token=([A-Za-z0-9_-]+)/), Password: TEST_PASSWORD });
  return UserId;
}

/** Signs in with password and the emailed code (the guide's MFA for users without an app). */
export async function signIn(server: TestServer, userName: string): Promise<AirlockClient> {
  return server.client(await signInToken(server, userName));
}

/** The portal token of a sign-in with password and the emailed code. */
export async function signInToken(server: TestServer, userName: string): Promise<string> {
  const first = await server.client().call(portal.InitiateAuth, { Username: userName, Password: TEST_PASSWORD });
  const result =
    first.AuthenticationResult ??
    (
      await server.client().call(portal.RespondToAuthChallenge, {
        ChallengeName: 'EMAIL_OTP',
        Session: first.Session ?? '',
        ChallengeResponses: { EMAIL_OTP_CODE: lastLogged(server, /code: (\d{6})/) },
      })
    ).AuthenticationResult;
  if (result === undefined) throw new Error(`${userName} did not finish signing in`);
  return result.AccessToken;
}

/** A role session: the signed-in person picks an account and permission set. */
export async function roleSession(server: TestServer, person: AirlockClient, accountId: string, permissionSet: string): Promise<AirlockClient> {
  const { RoleCredentials } = await person.call(roleSessions.GetRoleCredentials, { AccountId: accountId, RoleName: permissionSet });
  return server.client(RoleCredentials.AccessToken);
}

/** A password the policy accepts, different each time. */
export const goodPassword = (): string => `orbit ${randomBytes(6).toString('hex')} lantern`;

export interface Invited {
  readonly userName: string;
  readonly userId: string;
  readonly email: string;
  /** The password the invitation was accepted with (goodPassword's). */
  readonly password: string;
  readonly invitationToken: string;
}

/** Creates a user with an email and accepts the mailed invitation with a fresh password: the user can sign in with it. */
export async function invitedUser(server: TestServer, userName: string): Promise<Invited> {
  const email = `${userName}@example.com`;
  const { UserId } = await server.root.call(identitystore.CreateUser, { UserName: userName, Emails: [{ Value: email, Primary: true }] });
  const invitationToken = new URL(mailedTo(server, email, 'link')).searchParams.get('token') ?? '';
  const password = goodPassword();
  await server.client().call(portal.AcceptInvitation, { InvitationToken: invitationToken, Password: password });
  return { userName, userId: UserId, email, password, invitationToken };
}
