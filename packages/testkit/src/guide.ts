/**
 * The guide's Tests 1 and 2 set up on a test server: groups ProductionAccess and
 * DevelopmentAccess holding testuser01 and testuser02, the permission sets
 * ProductionPermissionSet and DevelopmentPermissionSet with the guide's on-premises policies
 * (examples/guide/policies), assigned on the account; each user signed in, in their role
 * session; prod-server01 (project=Production) and dev-server01 (project=Development) as
 * simulated agents, connected.
 */
import { readFileSync } from 'node:fs';
import type { AirlockClient } from '@airlock/client';
import { identitystore, organizations, ssoAdmin } from '@airlock/protocol';
import { createPerson, roleSession, signIn } from './people.js';
import type { TestServer } from './server.js';
import { SimulatedAgent } from './sim-agent.js';

/** One of the guide's policies, from the repository's examples (from packages/testkit/dist). */
export const guidePolicy = (name: string): string => readFileSync(new URL(`../../../examples/guide/policies/${name}.json`, import.meta.url), 'utf8');

export interface GuideSetup {
  readonly account: string;
  /** testuser01 in ProductionPermissionSet. */
  readonly user1: AirlockClient;
  /** testuser02 in DevelopmentPermissionSet. */
  readonly user2: AirlockClient;
  readonly production: SimulatedAgent;
  readonly development: SimulatedAgent;
}

export async function setUpGuide(server: TestServer): Promise<GuideSetup> {
  const account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
  for (const [group, set, file, user] of [
    ['ProductionAccess', 'ProductionPermissionSet', 'production-onprem', 'testuser01'],
    ['DevelopmentAccess', 'DevelopmentPermissionSet', 'development-onprem', 'testuser02'],
  ] as const) {
    const { GroupId } = await server.root.call(identitystore.CreateGroup, { DisplayName: group });
    const userId = await createPerson(server, user);
    await server.root.call(identitystore.CreateGroupMembership, { GroupId, MemberId: { UserId: userId } });
    const arn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: set })).PermissionSet.PermissionSetArn;
    await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: arn, InlinePolicy: guidePolicy(file) });
    await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: GroupId });
  }
  const user1 = await roleSession(server, await signIn(server, 'testuser01'), account, 'ProductionPermissionSet');
  const user2 = await roleSession(server, await signIn(server, 'testuser02'), account, 'DevelopmentPermissionSet');
  const production = await SimulatedAgent.register(server, [{ Key: 'project', Value: 'Production' }, { Key: 'Name', Value: 'prod-server01' }]);
  const development = await SimulatedAgent.register(server, [{ Key: 'project', Value: 'Development' }, { Key: 'Name', Value: 'dev-server01' }]);
  await production.connect(server);
  await development.connect(server);
  return { account, user1, user2, production, development };
}
