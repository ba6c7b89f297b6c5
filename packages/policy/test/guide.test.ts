/**
 * The permission sets of the guide that Airlock users follow ("Securing Remote Access with
 * Multi-Factor Authentication"), copied verbatim into examples/guide/policies, and the scenarios the guide
 * promises: each group reaches its own project's servers and sessions, and nothing more.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  analyzePolicy,
  compilePolicy,
  decide,
  type ContextEntries,
  type Decision,
  type Miss,
  type StatementRef,
} from '@airlock/policy';

const ACCOUNT = '111122223333';
const EC2_INSTANCE = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`;
const MANAGED_INSTANCE = `arn:aws:ssm:us-east-1:${ACCOUNT}:managed-instance/mi-0123456789abcdef0`;
const SESSION_DOCUMENT = 'arn:aws:ssm:us-east-1::document/SSM-SessionManagerRunShell';
const TAG = 'ssm:resourceTag/project';

const sessionOf = (user: string): string => `arn:aws:ssm:us-east-1:${ACCOUNT}:session/${user}-0123456789abcdef0`;

/** Fixtures are not copied by tsc: read them from the source tree, next to dist-test. */
const readGuidePolicy = (file: string): string => readFileSync(new URL(`../../../examples/guide/policies/${file}`, import.meta.url), 'utf8');

const ref = (policy: string, statement: number, sid?: string): StatementRef =>
  sid === undefined ? { policy, statement } : { policy, statement, sid };

interface Persona {
  readonly user: string;
  readonly otherUser: string;
  readonly group: string;
  readonly permissionSet: string;
  readonly project: string;
  readonly otherProject: string;
  readonly fixture: string;
}

const PERSONAS: readonly Persona[] = [
  {
    user: 'testuser01',
    otherUser: 'testuser02',
    group: 'ProductionAccess',
    permissionSet: 'ProductionPermissionSet',
    project: 'Production',
    otherProject: 'Development',
    fixture: 'production',
  },
  {
    user: 'testuser02',
    otherUser: 'testuser01',
    group: 'DevelopmentAccess',
    permissionSet: 'DevelopmentPermissionSet',
    project: 'Development',
    otherProject: 'Production',
    fixture: 'development',
  },
];

/** Statement positions in the two versions of each permission set. */
const LAYOUTS = {
  ec2: { file: 'ec2', describe: 0, start: 1, terminate: 2 },
  onPremises: { file: 'onprem', describe: 2, start: 3, terminate: 4 },
} as const;

type LayoutName = keyof typeof LAYOUTS;

function expectDecision(decision: Decision, expected: Decision['decision'], matched: readonly StatementRef[]): void {
  assert.equal(decision.decision, expected, decision.decision === 'implicitDeny' ? decision.reason : undefined);
  assert.deepEqual(decision.matched, matched);
}

/** Asserts an implicit deny and returns its single miss (or none when no statement named the action). */
function expectImplicitDeny(decision: Decision): { readonly reason: string; readonly misses: readonly Miss[] } {
  if (decision.decision !== 'implicitDeny') assert.fail(`expected implicitDeny, got ${decision.decision}`);
  assert.deepEqual(decision.matched, []);
  return decision;
}

function expectMiss(decision: Decision, statement: StatementRef, failed: Miss['failed'], ...mentions: string[]): void {
  const { reason, misses } = expectImplicitDeny(decision);
  assert.equal(misses.length, 1, reason);
  const [miss] = misses;
  assert.ok(miss);
  assert.deepEqual(miss.statement, statement);
  assert.equal(miss.failed, failed);
  for (const text of mentions) {
    assert.ok(miss.detail.includes(text), `miss detail ${JSON.stringify(miss.detail)} should mention ${text}`);
    assert.ok(reason.includes(text), `reason ${JSON.stringify(reason)} should mention ${text}`);
  }
}

for (const persona of PERSONAS) {
  const { user, permissionSet, project, otherProject } = persona;
  /** Airlock sets aws:username for its users, which the guide's TerminateSession statement relies on. */
  const principal: ContextEntries = { 'aws:username': user };
  const tagged = (value: string): ContextEntries => ({ ...principal, [TAG]: value });

  for (const layoutName of Object.keys(LAYOUTS) as LayoutName[]) {
    const layout = LAYOUTS[layoutName];
    const file = `${persona.fixture}-${layout.file}.json`;
    const policy = compilePolicy(readGuidePolicy(file), { name: permissionSet });
    const at = (statement: number, sid?: string): StatementRef => ref(permissionSet, statement, sid);
    const ask = (action: string, resource: string | readonly string[], context: ContextEntries = principal): Decision =>
      decide([policy], { action, resource, context });

    describe(`${user} (group ${persona.group}, ${permissionSet}, ${layoutName} version)`, () => {
      test(`${file} is accepted; its only finding is StringLike without a wildcard`, () => {
        const { findings } = analyzePolicy(readGuidePolicy(file));
        assert.deepEqual(
          findings.map((finding) => [finding.issueCode, finding.path]),
          [['LIKE_WITHOUT_WILDCARD', `Statement[${layout.start}].Condition.StringLike["${TAG}"][0]`]],
        );
      });

      test(`may start a session on an EC2 instance tagged project=${project}`, () => {
        expectDecision(ask('ssm:StartSession', EC2_INSTANCE, tagged(project)), 'allowed', [at(layout.start)]);
      });

      test(`may not start a session on an EC2 instance tagged project=${otherProject}`, () => {
        const decision = ask('ssm:StartSession', EC2_INSTANCE, tagged(otherProject));
        expectMiss(decision, at(layout.start), 'condition', TAG, `"${otherProject}"`);
      });

      test('may not start a session on an instance without a project tag', () => {
        expectMiss(ask('ssm:StartSession', EC2_INSTANCE), at(layout.start), 'condition', `the request has no ${TAG}`);
      });

      test('the tag value is compared with case: a lower-case project tag does not qualify', () => {
        expectMiss(ask('ssm:StartSession', EC2_INSTANCE, tagged(project.toLowerCase())), at(layout.start), 'condition', TAG);
      });

      test('grants no session document, so a StartSession naming one is denied on the document', () => {
        const decision = ask('ssm:StartSession', [EC2_INSTANCE, SESSION_DOCUMENT], tagged(project));
        expectMiss(decision, at(layout.start), 'resource', SESSION_DOCUMENT);
      });

      test(`may terminate its own sessions (${user}-…)`, () => {
        expectDecision(ask('ssm:TerminateSession', sessionOf(user)), 'allowed', [at(layout.terminate)]);
      });

      test(`may not terminate ${persona.otherUser}'s sessions`, () => {
        const other = sessionOf(persona.otherUser);
        expectMiss(ask('ssm:TerminateSession', other), at(layout.terminate), 'resource', other);
      });

      test('without aws:username in the context, may not terminate even its own sessions', () => {
        const own = sessionOf(user);
        const decision = decide([policy], { action: 'ssm:TerminateSession', resource: own, context: { 'aws:userid': `AROAEXAMPLE:${user}` } });
        expectMiss(decision, at(layout.terminate), 'resource', own, '${aws:username}');
      });

      for (const action of ['ec2:DescribeInstances', 'ssm:DescribeSessions', 'ssm:GetConnectionStatus', 'ssm:DescribeInstanceProperties']) {
        test(`may call ${action} on "*"`, () => {
          expectDecision(ask(action, '*'), 'allowed', [at(layout.describe, 'VisualEditor0')]);
        });
      }

      const unnamed = ['ssm:CreateActivation', 'ssm:ResumeSession', 'ssm:SendCommand', 'ec2:TerminateInstances'];
      // Only the on-premises version speaks of service settings.
      if (layoutName === 'ec2') unnamed.push('ssm:GetServiceSetting', 'ssm:UpdateServiceSetting', 'ssm:ResetServiceSetting');
      for (const action of unnamed) {
        test(`may not call ${action}: no statement names it`, () => {
          const { reason, misses } = expectImplicitDeny(ask(action, '*'));
          assert.deepEqual(misses, []);
          assert.ok(reason.includes(action), reason);
        });
      }

      if (layoutName === 'ec2') {
        test('does not reach an on-premises managed instance, even one with the right tag', () => {
          expectMiss(ask('ssm:StartSession', MANAGED_INSTANCE, tagged(project)), at(layout.start), 'resource', MANAGED_INSTANCE);
        });
      } else {
        test(`may start a session on a managed instance tagged project=${project}`, () => {
          expectDecision(ask('ssm:StartSession', MANAGED_INSTANCE, tagged(project)), 'allowed', [at(layout.start)]);
        });

        test(`may not start a session on a managed instance tagged project=${otherProject} or untagged`, () => {
          expectMiss(ask('ssm:StartSession', MANAGED_INSTANCE, tagged(otherProject)), at(layout.start), 'condition', `"${otherProject}"`);
          expectMiss(ask('ssm:StartSession', MANAGED_INSTANCE), at(layout.start), 'condition', `the request has no ${TAG}`);
        });

        test('may read service settings (ssm:GetServiceSetting)', () => {
          expectDecision(ask('ssm:GetServiceSetting', '*'), 'allowed', [at(0)]);
        });

        for (const action of ['ssm:UpdateServiceSetting', 'ssm:ResetServiceSetting']) {
          test(`is explicitly denied ${action}`, () => {
            expectDecision(ask(action, '*'), 'explicitDeny', [at(1)]);
          });
        }
      }
    });
  }
}
