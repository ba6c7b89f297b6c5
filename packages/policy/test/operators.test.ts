/**
 * Condition operators, action matching, resource matching and how statements combine, each
 * against the IAM rules of ssm-spec.md §6.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compilePolicy,
  decide,
  type CompiledPolicy,
  type ContextEntries,
  type ContextValue,
  type Decision,
  type JsonObject,
  type JsonValue,
  type StatementRef,
} from '@airlock/policy';

const ACCOUNT = '111122223333';
const INSTANCE = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0123456789abcdef0`;
const DOCUMENT = `arn:aws:ssm:us-east-1:${ACCOUNT}:document/Airlock-Shell`;
const PROJECT = 'ssm:resourceTag/project';

/** A 2012-10-17 policy made of exactly these statements. */
function policy(name: string, ...statements: JsonObject[]): CompiledPolicy {
  return compilePolicy({ Version: '2012-10-17', Statement: statements }, { name });
}

const allow = (extra: JsonObject): JsonObject => ({ Effect: 'Allow', ...extra });
const deny = (extra: JsonObject): JsonObject => ({ Effect: 'Deny', ...extra });

function kind(policies: readonly CompiledPolicy[], action: string, resource: string | readonly string[], context: ContextEntries = {}): Decision['decision'] {
  return decide(policies, { action, resource, context }).decision;
}

// ---------------------------------------------------------------------------------------------
// Conditions

/** Asserts, for each request context, whether an Allow with this Condition applies. */
function expectCondition(condition: JsonObject, cases: readonly (readonly [ContextEntries, boolean])[]): void {
  const allowWhen = policy('conditions', allow({ Action: 'ssm:StartSession', Resource: '*', Condition: condition }));
  for (const [context, holds] of cases) {
    const decision = kind([allowWhen], 'ssm:StartSession', INSTANCE, context);
    assert.equal(decision === 'allowed', holds, `${JSON.stringify(condition)} with context ${JSON.stringify(context)}`);
  }
}

/** Each case: the key's request value (undefined: the request lacks the key) and whether the condition holds. */
type ValueCases = readonly (readonly [ContextValue | undefined, boolean])[];

/** One operator on one key. */
function expectOperator(operator: string, values: JsonValue, cases: ValueCases, key: string = PROJECT): void {
  expectCondition(
    { [operator]: { [key]: values } },
    cases.map(([value, holds]) => [value === undefined ? {} : { [key]: value }, holds] as const),
  );
}

/** expectOperator bound to one condition key. */
const onKey =
  (key: string) =>
  (operator: string, values: JsonValue, cases: ValueCases): void => {
    expectOperator(operator, values, cases, key);
  };

describe('String operators', () => {
  test('StringEquals is exact and case-sensitive; a missing key fails', () => {
    expectOperator('StringEquals', 'Production', [['Production', true], ['production', false], ['Prod', false], [undefined, false]]);
  });

  test('StringEquals reads * and ? as plain characters', () => {
    expectOperator('StringEquals', 'Prod*', [['Prod*', true], ['Production', false]]);
    expectOperator('StringEquals', 'Pr?d', [['Pr?d', true], ['Prod', false]]);
  });

  test('StringNotEquals holds for other values and for a missing key', () => {
    expectOperator('StringNotEquals', 'Production', [['Development', true], ['Production', false], ['production', true], [undefined, true]]);
  });

  test('StringEqualsIgnoreCase and StringNotEqualsIgnoreCase ignore case', () => {
    expectOperator('StringEqualsIgnoreCase', 'Production', [['PRODUCTION', true], ['production', true], ['Development', false], [undefined, false]]);
    expectOperator('StringNotEqualsIgnoreCase', 'Production', [['PRODUCTION', false], ['Development', true], [undefined, true]]);
  });

  test('StringLike: * matches any run, ? one character, both across ":"', () => {
    expectOperator('StringLike', 'Prod*', [['Production', true], ['Prod', true], ['Pro', false], ['production', false]]);
    expectOperator('StringLike', 'arn:aws:*:us-east-1:*', [
      [`arn:aws:ssm:us-east-1:${ACCOUNT}:session/alice-1`, true],
      [`arn:aws:ssm:eu-west-1:${ACCOUNT}:session/alice-1`, false],
    ]);
    expectOperator('StringLike', 'a?b', [['a:b', true], ['axb', true], ['ab', false], ['a::b', false]]);
  });

  test('StringNotLike holds when the value fits no pattern, and for a missing key', () => {
    expectOperator('StringNotLike', 'Prod*', [['Production', false], ['Development', true], [undefined, true]]);
    expectOperator('StringNotLike', 'x?y', [['x:y', false], ['x::y', true]]);
  });
});

/** The ordering operators of one family, against request values below, at and above the pivot. */
const ORDERING: readonly (readonly [suffix: string, below: boolean, equal: boolean, above: boolean])[] = [
  ['Equals', false, true, false],
  ['NotEquals', true, false, true],
  ['LessThan', true, false, false],
  ['LessThanEquals', true, true, false],
  ['GreaterThan', false, false, true],
  ['GreaterThanEquals', false, true, true],
];

function expectOrdering(family: string, key: string, pivot: JsonValue, requests: readonly [ContextValue, ContextValue, ContextValue]): void {
  for (const [suffix, below, equal, above] of ORDERING) {
    const negated = suffix === 'NotEquals';
    expectOperator(`${family}${suffix}`, pivot, [[requests[0], below], [requests[1], equal], [requests[2], above], [undefined, negated]], key);
  }
}

describe('Numeric operators', () => {
  test('all six compare as numbers (a JSON number or a numeric string)', () => {
    expectOrdering('Numeric', 'aws:MultiFactorAuthAge', 3600, ['599', '3600', '36000']);
    expectOrdering('Numeric', 'aws:MultiFactorAuthAge', '3600', [3599.5, '3600.0', 3600.25]);
  });

  test('a request value that is not a number satisfies no positive operator', () => {
    expectOperator('NumericEquals', 1, [['one', false]], 'aws:MultiFactorAuthAge');
    expectOperator('NumericLessThan', 10, [['1e0', true], ['', false]], 'aws:MultiFactorAuthAge');
  });
});

describe('Date operators', () => {
  const PIVOT_ISO = '2026-01-31T00:00:00Z';
  const PIVOT_EPOCH = 1769817600;

  test('all six compare ISO 8601 dates', () => {
    expectOrdering('Date', 'aws:CurrentTime', PIVOT_ISO, ['2026-01-30T23:59:59Z', PIVOT_ISO, '2026-02-01T00:00:00Z']);
  });

  test('all six accept epoch seconds, in the policy or in the request', () => {
    expectOrdering('Date', 'aws:EpochTime', PIVOT_EPOCH, ['1769817599', String(PIVOT_EPOCH), '1769817601']);
    expectOrdering('Date', 'aws:EpochTime', PIVOT_ISO, [PIVOT_EPOCH - 1, PIVOT_EPOCH, PIVOT_EPOCH + 1]);
    expectOrdering('Date', 'aws:CurrentTime', String(PIVOT_EPOCH), ['2026-01-30T23:59:59Z', PIVOT_ISO, '2026-01-31T00:00:01Z']);
  });

  test('time zone offsets name the same instant', () => {
    expectOperator('DateEquals', PIVOT_ISO, [['2026-01-31T02:00:00+02:00', true], ['2026-01-31T00:00:00+02:00', false]], 'aws:CurrentTime');
  });
});

describe('Bool, BinaryEquals and Null', () => {
  test('Bool compares true/false; the policy may give a JSON boolean', () => {
    expectOperator('Bool', true, [['true', true], [true, true], ['false', false], [false, false], [undefined, false]], 'aws:SecureTransport');
    expectOperator('Bool', 'false', [['false', true], ['true', false]], 'aws:SecureTransport');
  });

  test('BinaryEquals compares base64 bytes', () => {
    expectOperator('BinaryEquals', 'QmluYXJ5', [['QmluYXJ5', true], ['QmluYXJ6', false], [undefined, false]], 'test:blob');
  });

  test('Null true means the key is absent, false that it is present', () => {
    expectOperator('Null', 'true', [[undefined, true], ['alice', false], [[], true]], 'aws:username');
    expectOperator('Null', false, [[undefined, false], ['alice', true]], 'aws:username');
  });
});

describe('IpAddress and NotIpAddress', () => {
  const ip = onKey('aws:SourceIp');

  test('IPv4 CIDR blocks and bare addresses (one host)', () => {
    ip('IpAddress', '203.0.113.0/24', [['203.0.113.7', true], ['203.0.114.7', false], [undefined, false], ['not-an-ip', false]]);
    ip('IpAddress', '198.51.100.10', [['198.51.100.10', true], ['198.51.100.11', false]]);
    ip('IpAddress', '10.0.0.0/9', [['10.127.255.255', true], ['10.128.0.0', false]]);
  });

  test('IPv6 CIDR blocks and bare addresses, in any notation', () => {
    ip('IpAddress', '2001:db8::/32', [['2001:db8:1234::1', true], ['2001:db9::1', false], ['203.0.113.7', false]]);
    ip('IpAddress', '2001:db8::1', [['2001:0db8:0000:0000:0000:0000:0000:0001', true], ['2001:db8::2', false]]);
  });

  test('an IPv4-mapped IPv6 address is the IPv4 address it carries', () => {
    ip('IpAddress', '203.0.113.0/24', [['::ffff:203.0.113.7', true], ['::ffff:203.0.114.7', false]]);
    ip('IpAddress', '::ffff:203.0.113.0/120', [['203.0.113.9', true], ['203.0.114.9', false]]);
  });

  test('NotIpAddress holds outside every block, and for a missing key', () => {
    ip('NotIpAddress', ['10.0.0.0/8', '2001:db8::/32'], [['10.1.2.3', false], ['2001:db8::5', false], ['192.0.2.1', true], [undefined, true]]);
  });
});

describe('Arn operators', () => {
  const arn = onKey('aws:SourceArn');
  const OTHER_ACCOUNT = 'arn:aws:ec2:us-east-1:444455556666:instance/i-1';
  /** Reads as region us-east-1, account "extra": a flat glob would let * span both. */
  const SMUGGLED = `arn:aws:ec2:us-east-1:extra:${ACCOUNT}:instance/i-1`;

  for (const operator of ['ArnEquals', 'ArnLike']) {
    test(`${operator} matches segment by segment: * stays inside region and account`, () => {
      arn(operator, `arn:aws:ec2:*:${ACCOUNT}:instance/*`, [[INSTANCE, true], [OTHER_ACCOUNT, false], [SMUGGLED, false], ['i-1', false], [undefined, false]]);
      arn(operator, `arn:aws:ec2:us-east-?:${ACCOUNT}:instance/*`, [[INSTANCE, true], [`arn:aws:ec2:us-east-10:${ACCOUNT}:instance/i-1`, false]]);
    });

    test(`${operator}: * in the resource part spans "/" and ":"`, () => {
      arn(operator, 'arn:aws:ssm:*:*:session/*', [[`arn:aws:ssm:us-east-1:${ACCOUNT}:session/a/b:c`, true]]);
    });
  }

  test('StringLike with the same pattern lets * span segments; ArnLike does not', () => {
    expectOperator('StringLike', `arn:aws:ec2:*:${ACCOUNT}:instance/*`, [[SMUGGLED, true]], 'aws:SourceArn');
  });

  for (const operator of ['ArnNotEquals', 'ArnNotLike']) {
    test(`${operator} holds for non-matching ARNs, non-ARNs and a missing key`, () => {
      arn(operator, `arn:aws:ec2:*:${ACCOUNT}:instance/*`, [[INSTANCE, false], [OTHER_ACCOUNT, true], [SMUGGLED, true], ['i-1', true], [undefined, true]]);
    });
  }
});

describe('IfExists', () => {
  test('a missing key makes the condition hold; a present key is compared normally', () => {
    expectOperator('StringEqualsIfExists', 'Production', [[undefined, true], ['Production', true], ['Development', false]]);
    expectOperator('NumericLessThanIfExists', 3600, [[undefined, true], ['60', true], ['7200', false]], 'aws:MultiFactorAuthAge');
    expectOperator('BoolIfExists', true, [[undefined, true], ['true', true], ['false', false]], 'aws:MultiFactorAuthPresent');
    expectOperator('IpAddressIfExists', '10.0.0.0/8', [[undefined, true], ['10.0.0.1', true], ['192.0.2.1', false]], 'aws:SourceIp');
  });

  test('negated operators with IfExists: missing holds, present is compared normally', () => {
    expectOperator('StringNotEqualsIfExists', 'Production', [[undefined, true], ['Production', false], ['Development', true]]);
    expectOperator('ArnNotLikeIfExists', 'arn:aws:ec2:*:*:instance/*', [[undefined, true], [INSTANCE, false], [DOCUMENT, true]], 'aws:SourceArn');
  });
});

describe('ForAnyValue and ForAllValues', () => {
  const tags = onKey('aws:TagKeys');
  const WANTED = ['project', 'owner'];

  test('ForAnyValue needs one request value to match; absent or empty is false', () => {
    tags('ForAnyValue:StringEquals', WANTED, [[undefined, false], [[], false], [['project'], true], [['cost', 'owner'], true], [['cost'], false]]);
  });

  test('ForAllValues needs every request value to match; absent or empty is true', () => {
    tags('ForAllValues:StringEquals', WANTED, [[undefined, true], [[], true], [['project', 'owner'], true], [['owner'], true], [['project', 'cost'], false]]);
  });

  test('ForAnyValue with a negated operator: some request value matches none of the policy values', () => {
    tags('ForAnyValue:StringNotEquals', WANTED, [[['project'], false], [['project', 'owner'], false], [['project', 'cost'], true], [undefined, false], [[], false]]);
  });

  test('ForAllValues with a negated operator: no request value matches any policy value', () => {
    tags('ForAllValues:StringNotEquals', WANTED, [[['cost', 'env'], true], [['cost', 'owner'], false], [undefined, true], [[], true]]);
  });

  test('set operators combine with wildcards', () => {
    tags('ForAllValues:StringLike', 'team-*', [[['team-a', 'team-b'], true], [['team-a', 'owner'], false]]);
    tags('ForAnyValue:StringNotLike', 'team-*', [[['team-a', 'owner'], true], [['team-a', 'team-b'], false]]);
  });

  test('a plain operator over a multi-valued key holds if any request value matches', () => {
    tags('StringEquals', 'project', [[['cost', 'project'], true], [['cost'], false]]);
  });
});

describe('Combining keys, values and operators', () => {
  const PRINCIPAL_AND_TARGET: JsonObject = {
    StringEquals: { 'aws:username': 'alice', [PROJECT]: 'Production' },
    Bool: { 'aws:SecureTransport': 'true' },
  };
  const ALL: ContextEntries = { 'aws:username': 'alice', [PROJECT]: 'Production', 'aws:SecureTransport': 'true' };

  test('every key and every operator must hold (AND)', () => {
    const without = (key: string): ContextEntries => Object.fromEntries(Object.entries(ALL).filter(([name]) => name !== key));
    expectCondition(PRINCIPAL_AND_TARGET, [
      [ALL, true],
      [without('aws:username'), false],
      [without(PROJECT), false],
      [without('aws:SecureTransport'), false],
      [{ ...ALL, 'aws:username': 'bob' }, false],
    ]);
  });

  test('several values of one key: any may match (OR)', () => {
    expectOperator('StringEquals', ['Production', 'Staging'], [['Production', true], ['Staging', true], ['Development', false]]);
  });

  test('negated operators with several values must match none of them', () => {
    expectOperator('StringNotEquals', ['Production', 'Staging'], [['Production', false], ['Staging', false], ['Development', true]]);
    expectOperator('StringNotLike', ['Prod*', 'Stag*'], [['Production', false], ['Staging', false], ['Development', true]]);
  });

  test('condition key names ignore case, the tag-key suffix included; values do not', () => {
    expectCondition({ StringEquals: { 'SSM:ResourceTag/PROJECT': 'Production' } }, [
      [{ 'ssm:resourcetag/project': 'Production' }, true],
      [{ 'Ssm:resourceTag/Project': 'production' }, false],
    ]);
    expectCondition({ StringEquals: { 'aws:PrincipalTag/Team': 'ops' } }, [[{ 'AWS:principaltag/team': 'ops' }, true]]);
  });

  test('condition values given as JSON numbers and booleans are read as their text', () => {
    expectOperator('StringEquals', 42, [['42', true], [42, true], ['42.0', false]], 'ssm:resourceTag/size');
    expectOperator('StringEquals', [true, 7], [['true', true], ['7', true], ['false', false]], 'ssm:resourceTag/flag');
    expectOperator('NumericEquals', 42, [['42.0', true]], 'ssm:resourceTag/size');
  });

  test('Deny with a negated operator also denies callers that lack the key', () => {
    const policies = [
      policy('base', allow({ Action: '*', Resource: '*' })),
      policy('guard', deny({ Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalTag/team': 'ops' } } })),
    ];
    assert.equal(kind(policies, 'ssm:StartSession', INSTANCE, { 'aws:PrincipalTag/team': 'ops' }), 'allowed');
    assert.equal(kind(policies, 'ssm:StartSession', INSTANCE, { 'aws:PrincipalTag/team': 'dev' }), 'explicitDeny');
    assert.equal(kind(policies, 'ssm:StartSession', INSTANCE), 'explicitDeny');
  });
});

// ---------------------------------------------------------------------------------------------
// Actions and resources

/** Asserts, for each action, whether a statement with this Action (or NotAction) element allows it. */
function expectActions(element: JsonObject, cases: readonly (readonly [string, boolean])[]): void {
  const allowing = policy('actions', allow({ ...element, Resource: '*' }));
  for (const [action, allowed] of cases) {
    assert.equal(kind([allowing], action, '*'), allowed ? 'allowed' : 'implicitDeny', `${JSON.stringify(element)} and ${action}`);
  }
}

describe('Action matching', () => {
  test('actions compare without case', () => {
    expectActions({ Action: 'ssm:StartSession' }, [['ssm:StartSession', true], ['SSM:STARTSESSION', true], ['ssm:startsession', true], ['ssm:StartSessions', false]]);
  });

  test('* matches any run and ? one character', () => {
    expectActions({ Action: 'ssm:Start*' }, [['ssm:StartSession', true], ['ssm:StartAutomationExecution', true], ['ssm:ResumeSession', false], ['ec2:StartInstances', false]]);
    expectActions({ Action: 'ssm:?erminateSession' }, [['ssm:TerminateSession', true], ['ssm:erminateSession', false], ['ssm:TTerminateSession', false]]);
    expectActions({ Action: '*' }, [['ec2:TerminateInstances', true], ['sso:CreatePermissionSet', true]]);
  });

  test('Allow with NotAction grants every other action, of every service', () => {
    expectActions({ NotAction: ['ssm:Terminate*', 'iam:*'] }, [
      ['ssm:StartSession', true],
      ['ec2:DescribeInstances', true],
      ['ssm:TerminateSession', false],
      ['SSM:terminatesession', false],
      ['iam:CreateUser', false],
    ]);
  });

  test('Deny with NotAction denies everything but the listed actions', () => {
    const policies = [
      policy('base', allow({ Action: '*', Resource: '*' })),
      policy('readOnly', deny({ NotAction: 'ssm:Describe*', Resource: '*' })),
    ];
    assert.equal(kind(policies, 'ssm:DescribeSessions', '*'), 'allowed');
    assert.equal(kind(policies, 'ssm:StartSession', INSTANCE), 'explicitDeny');
  });
});

/** Asserts, for each request resource, whether a statement with this Resource (or NotResource) element applies. */
function expectResources(element: JsonObject, cases: readonly (readonly [string, boolean])[]): void {
  const allowing = policy('resources', allow({ Action: 'ssm:StartSession', ...element }));
  for (const [resource, allowed] of cases) {
    assert.equal(kind([allowing], 'ssm:StartSession', resource), allowed ? 'allowed' : 'implicitDeny', `${JSON.stringify(element)} and ${resource}`);
  }
}

describe('Resource matching', () => {
  test('resources compare with case', () => {
    expectResources({ Resource: `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-ABC` }, [
      [`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-ABC`, true],
      [`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-abc`, false],
      [`arn:aws:EC2:us-east-1:${ACCOUNT}:instance/i-ABC`, false],
    ]);
  });

  test('* and ? stay inside the region and account segments', () => {
    expectResources({ Resource: `arn:aws:ec2:*:${ACCOUNT}:instance/*` }, [
      [INSTANCE, true],
      [`arn:aws:ec2:us-east-1:extra:${ACCOUNT}:instance/i-1`, false],
      [`arn:aws:ec2:us-east-1:444455556666:instance/i-1`, false],
    ]);
    expectResources({ Resource: 'arn:aws:ec2:us-east-1:*:instance/*' }, [
      [INSTANCE, true],
      [`arn:aws:ec2:us-east-1:${ACCOUNT}:extra:instance/i-1`, false],
    ]);
    expectResources({ Resource: `arn:aws:ec2:us-????-1:${ACCOUNT}:instance/*` }, [
      [INSTANCE, true],
      [`arn:aws:ec2:us-west-1:${ACCOUNT}:instance/i-1`, true],
      [`arn:aws:ec2:us-gov-west-1:${ACCOUNT}:instance/i-1`, false],
    ]);
  });

  test('* in the resource part spans "/" and ":"', () => {
    expectResources({ Resource: 'arn:aws:ssm:*:*:document/*' }, [
      [`arn:aws:ssm:us-east-1:${ACCOUNT}:document/team/a:b`, true],
      [`arn:aws:ssm:us-east-1:${ACCOUNT}:session/a`, false],
    ]);
    expectResources({ Resource: 'arn:aws:ssm:*:*:*' }, [[`arn:aws:ssm:us-east-1:${ACCOUNT}:session/a/b:c`, true]]);
  });

  test('"*" alone also matches a request resource that is not an ARN; an ARN pattern does not', () => {
    expectResources({ Resource: '*' }, [['*', true], ['i-0123456789abcdef0', true], [INSTANCE, true]]);
    expectResources({ Resource: 'arn:aws:ec2:*:*:instance/*' }, [['*', false], ['i-0123456789abcdef0', false]]);
  });

  test('NotResource applies to every resource it does not list', () => {
    expectResources({ NotResource: 'arn:aws:ec2:*:*:instance/i-secret*' }, [
      [INSTANCE, true],
      [`arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-secret1`, false],
      ['*', true],
    ]);
  });
});

describe('Requests on several resources, and several policies', () => {
  const at = (name: string, statement: number): StatementRef => ({ policy: name, statement });
  const START = { action: 'ssm:StartSession', resource: [INSTANCE, DOCUMENT] } as const;

  test('must be allowed on every resource; the miss names the one left out', () => {
    const decision = decide([policy('p', allow({ Action: 'ssm:StartSession', Resource: 'arn:aws:ec2:*:*:instance/*' }))], START);
    assert.ok(decision.decision === 'implicitDeny', decision.decision);
    assert.deepEqual(
      decision.misses.map((miss) => [miss.resource, miss.failed]),
      [[DOCUMENT, 'resource']],
    );
    assert.ok(decision.reason.includes(DOCUMENT), decision.reason);
  });

  test('allowed when each resource has an Allow, with every statement that allowed', () => {
    const split = policy(
      'p',
      allow({ Action: 'ssm:StartSession', Resource: 'arn:aws:ec2:*:*:instance/*' }),
      allow({ Action: 'ssm:StartSession', Resource: 'arn:aws:ssm:*:*:document/*' }),
    );
    assert.deepEqual(decide([split], START), { decision: 'allowed', matched: [at('p', 0), at('p', 1)] });
  });

  test('a Deny on any one resource denies the request', () => {
    const policies = [policy('base', allow({ Action: '*', Resource: '*' })), policy('noDocs', deny({ Action: 'ssm:*', Resource: 'arn:aws:ssm:*:*:document/*' }))];
    assert.deepEqual(decide(policies, START), { decision: 'explicitDeny', matched: [at('noDocs', 0)] });
    assert.equal(kind(policies, 'ssm:StartSession', INSTANCE), 'allowed');
  });

  test('an explicit Deny beats any Allow, whatever the order of policies and statements', () => {
    const base = policy('base', allow({ Action: 'ssm:StartSession', Resource: '*' }));
    const guard = policy('guard', allow({ Action: 'ssm:*', Resource: '*' }), deny({ Action: 'ssm:Start*', Resource: '*' }));
    const guard2 = policy('guard2', deny({ Action: 'ssm:StartSession', Resource: INSTANCE }));
    for (const policies of [[base, guard], [guard, base]]) {
      assert.deepEqual(decide(policies, { action: 'ssm:StartSession', resource: INSTANCE }), { decision: 'explicitDeny', matched: [at('guard', 1)] });
    }
    assert.deepEqual(decide([guard2, base, guard], { action: 'ssm:StartSession', resource: INSTANCE }), {
      decision: 'explicitDeny',
      matched: [at('guard2', 0), at('guard', 1)],
    });
  });
});
