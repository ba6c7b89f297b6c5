/**
 * Policy variables: `${key}` replaced per request from the context (Version 2012-10-17 only),
 * defaults, the literal specials, and what happens when a variable has no value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyzePolicy, compilePolicy, decide, type CompiledPolicy, type ContextEntries, type JsonObject } from '@airlock/policy';

const ACCOUNT = '111122223333';
const ACTION = 'ssm:TerminateSession';
const session = (id: string): string => `arn:aws:ssm:us-east-1:${ACCOUNT}:session/${id}`;
const document = (name: string): string => `arn:aws:ssm:us-east-1:${ACCOUNT}:document/${name}`;
const OWN_SESSIONS = 'arn:aws:ssm:*:*:session/${aws:username}-*';

/** One Allow of ssm:TerminateSession; `version` null leaves the Version element out. */
function allowing(element: JsonObject, version: string | null = '2012-10-17'): CompiledPolicy {
  const statement: JsonObject = { Effect: 'Allow', Action: ACTION, ...element };
  return compilePolicy(version === null ? { Statement: statement } : { Version: version, Statement: statement });
}

/** For each resource, whether the policy allows ACTION on it for this principal. */
function allowedOn(policy: CompiledPolicy, context: ContextEntries, resources: readonly string[]): boolean[] {
  return resources.map((resource) => decide([policy], { action: ACTION, resource, context }).decision === 'allowed');
}

/** Whether an Allow on "*" with this one condition allows the request. */
function conditionAllows(operator: string, key: string, value: string, context: ContextEntries): boolean {
  const policy = allowing({ Resource: '*', Condition: { [operator]: { [key]: value } } });
  return allowedOn(policy, context, [session('any')])[0] === true;
}

describe('Variables in resources', () => {
  test('${aws:username} narrows the resource to the caller\'s own sessions', () => {
    const policy = allowing({ Resource: OWN_SESSIONS });
    const resources = [session('alice-0123'), session('bob-0123'), session('Alice-0123'), session('alice')];
    assert.deepEqual(allowedOn(policy, { 'aws:username': 'alice' }, resources), [true, false, false, false]);
    assert.deepEqual(allowedOn(policy, { 'aws:username': 'bob' }, resources), [false, true, false, false]);
  });

  test('${aws:userid} works the same way, colon and all', () => {
    const policy = allowing({ Resource: 'arn:aws:ssm:*:*:session/${aws:userid}-*' });
    const userid = 'AROAEXAMPLEROLEID:alice@example.com';
    assert.deepEqual(allowedOn(policy, { 'aws:userid': userid }, [session(`${userid}-0123`), session('AROAEXAMPLEROLEID:bob@example.com-0123')]), [true, false]);
  });

  test('${aws:PrincipalTag/team} reads the tag whatever the case of its key', () => {
    const resources = [document('ops-runbook'), document('dev-runbook'), document('Ops-runbook')];
    for (const variable of ['${aws:PrincipalTag/team}', '${AWS:principaltag/TEAM}']) {
      const policy = allowing({ Resource: `arn:aws:ssm:*:*:document/${variable}-*` });
      for (const key of ['aws:PrincipalTag/team', 'aws:principaltag/Team']) {
        assert.deepEqual(allowedOn(policy, { [key]: 'ops' }, resources), [true, false, false], `${variable} with context key ${key}`);
      }
    }
  });

  test('${aws:CurrentTime} is replaced by the request time, colons included', () => {
    const policy = allowing({ Resource: `arn:aws:ssm:us-east-1:${ACCOUNT}:document/backup-\${aws:CurrentTime}` });
    const context = { 'aws:CurrentTime': '2026-01-31T12:00:00Z' };
    assert.deepEqual(allowedOn(policy, context, [document('backup-2026-01-31T12:00:00Z'), document('backup-2026-01-31T12:00:01Z')]), [true, false]);
  });

  test("a default (${aws:PrincipalTag/team, 'company-wide'}) stands in for a missing key", () => {
    const policy = allowing({ Resource: "arn:aws:ssm:*:*:document/${aws:PrincipalTag/team, 'company-wide'}/*" });
    const resources = [document('company-wide/shell'), document('ops/shell')];
    assert.deepEqual(allowedOn(policy, {}, resources), [true, false]);
    assert.deepEqual(allowedOn(policy, { 'aws:PrincipalTag/team': 'ops' }, resources), [false, true]);
  });

  test('${*}, ${?} and ${$} are the literal characters *, ? and $', () => {
    const resources = (stem: string): string[] => [document(`${stem}*`), document(`${stem}?`), document(`${stem}$`), document(`${stem}x`)];
    assert.deepEqual(allowedOn(allowing({ Resource: 'arn:aws:ssm:*:*:document/star-${*}' }), {}, resources('star-')), [true, false, false, false]);
    assert.deepEqual(allowedOn(allowing({ Resource: 'arn:aws:ssm:*:*:document/one-${?}' }), {}, resources('one-')), [false, true, false, false]);
    assert.deepEqual(allowedOn(allowing({ Resource: 'arn:aws:ssm:*:*:document/cash-${$}' }), {}, resources('cash-')), [false, false, true, false]);
  });

  test('${$}{…} writes a literal ${…} that is not replaced', () => {
    const policy = allowing({ Resource: 'arn:aws:ssm:*:*:session/${$}{aws:username}-*' });
    assert.deepEqual(allowedOn(policy, { 'aws:username': 'alice' }, [session('${aws:username}-1'), session('alice-1')]), [true, false]);
  });

  test('a variable\'s value is literal: a user named "*" or "?" does not reach others\' sessions', () => {
    const policy = allowing({ Resource: OWN_SESSIONS });
    const resources = [session('*-0123'), session('?-0123'), session('alice-0123'), session('b-0123')];
    assert.deepEqual(allowedOn(policy, { 'aws:username': '*' }, resources), [true, false, false, false]);
    assert.deepEqual(allowedOn(policy, { 'aws:username': '?' }, resources), [false, true, false, false]);
  });

  test('an unresolvable variable makes that Resource entry match nothing, not its literal text', () => {
    const policy = allowing({ Resource: [OWN_SESSIONS, 'arn:aws:ssm:*:*:session/shared-*'] });
    const resources = [session('alice-0123'), session('${aws:username}-0123'), session('-0123'), session('shared-0123')];
    assert.deepEqual(allowedOn(policy, { 'aws:userid': 'AROAEXAMPLE:alice' }, resources), [false, false, false, true]);
  });

  test('an unresolvable variable in NotResource excludes nothing', () => {
    const policy = allowing({ NotResource: OWN_SESSIONS });
    assert.deepEqual(allowedOn(policy, { 'aws:username': 'alice' }, [session('alice-0123'), session('bob-0123')]), [false, true]);
    assert.deepEqual(allowedOn(policy, {}, [session('alice-0123'), session('bob-0123')]), [true, true]);
  });

  test('a multi-valued key cannot be a variable', () => {
    const policy = allowing({ Resource: 'arn:aws:ssm:*:*:document/${aws:TagKeys}' });
    assert.deepEqual(allowedOn(policy, { 'aws:TagKeys': 'ops' }, [document('ops')]), [true]);
    assert.deepEqual(allowedOn(policy, { 'aws:TagKeys': ['ops'] }, [document('ops')]), [false]);
  });
});

describe('Variables in conditions', () => {
  const OWNER = 'ssm:resourceTag/owner';

  test('AWS\'s alternative for roles: session-id tag StringLike ${aws:userid}', () => {
    const key = 'ssm:resourceTag/aws:ssmmessages:session-id';
    const userid = 'AROAEXAMPLEROLEID:alice@example.com';
    assert.equal(conditionAllows('StringLike', key, '${aws:userid}', { 'aws:userid': userid, [key]: userid }), true);
    assert.equal(conditionAllows('StringLike', key, '${aws:userid}', { 'aws:userid': userid, [key]: 'AROAEXAMPLEROLEID:bob@example.com' }), false);
  });

  test('StringEqualsIgnoreCase compares a variable\'s value without case', () => {
    assert.equal(conditionAllows('StringEqualsIgnoreCase', OWNER, '${aws:username}', { 'aws:username': 'Alice', [OWNER]: 'ALICE' }), true);
    assert.equal(conditionAllows('StringEquals', OWNER, '${aws:username}', { 'aws:username': 'Alice', [OWNER]: 'ALICE' }), false);
  });

  test('a variable\'s value holding * is no wildcard in StringLike', () => {
    assert.equal(conditionAllows('StringLike', OWNER, '${aws:username}', { 'aws:username': '*', [OWNER]: 'alice' }), false);
    assert.equal(conditionAllows('StringLike', OWNER, '${aws:username}', { 'aws:username': '*', [OWNER]: '*' }), true);
  });

  test('an unresolvable variable fails positive operators and satisfies negated ones', () => {
    const withoutUser = { [OWNER]: '${aws:username}' };
    const expectations: readonly (readonly [string, string, boolean])[] = [
      ['StringEquals', '${aws:username}', false],
      ['StringLike', '${aws:username}*', false],
      ['StringNotEquals', '${aws:username}', true],
      ['StringNotLike', '${aws:username}*', true],
      ['ArnLike', 'arn:aws:iam::*:user/${aws:username}', false],
      ['ArnNotLike', 'arn:aws:iam::*:user/${aws:username}', true],
    ];
    for (const [operator, value, holds] of expectations) {
      const key = operator.startsWith('Arn') ? 'aws:PrincipalArn' : OWNER;
      const context = { ...withoutUser, 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:user/\${aws:username}` };
      assert.equal(conditionAllows(operator, key, value, context), holds, `${operator} ${value}`);
    }
  });
});

describe('Versions without variables', () => {
  const username = { 'aws:username': 'alice' };
  const resources = [session('alice-0123'), session('${aws:username}-0123')];

  for (const version of ['2008-10-17', null]) {
    const label = version === null ? 'a missing Version' : `Version ${version}`;

    test(`${label} leaves \${…} in resources as literal text`, () => {
      assert.deepEqual(allowedOn(allowing({ Resource: OWN_SESSIONS }, version), username, resources), [false, true]);
    });

    test(`${label} leaves \${…} in condition values as literal text`, () => {
      const policy = allowing({ Resource: '*', Condition: { StringEquals: { 'ssm:resourceTag/owner': '${aws:username}' } } }, version);
      const asked = (owner: string): boolean[] => allowedOn(policy, { ...username, 'ssm:resourceTag/owner': owner }, [session('x')]);
      assert.deepEqual([asked('alice'), asked('${aws:username}')], [[false], [true]]);
    });

    test(`${label} is reported with a LITERAL_VARIABLE warning`, () => {
      const statement = { Effect: 'Allow', Action: ACTION, Resource: OWN_SESSIONS };
      const { findings, policy } = analyzePolicy(version === null ? { Statement: statement } : { Version: version, Statement: statement });
      assert.ok(policy);
      assert.ok(
        findings.some((finding) => finding.issueCode === 'LITERAL_VARIABLE' && finding.path === 'Statement.Resource'),
        JSON.stringify(findings),
      );
    });
  }
});
