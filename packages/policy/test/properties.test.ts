/**
 * Properties of evaluation and validation over generated policies and requests: a Deny only
 * ever takes permission away, an Allow only ever adds it, order never matters, and nothing
 * throws, whatever the input.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  analyzePolicy,
  decide,
  ERROR_CODES,
  hasErrors,
  WARNING_CODES,
  type CompiledPolicy,
  type ContextValue,
  type DecisionKind,
  type Finding,
  type JsonObject,
  type JsonValue,
  type RequestInput,
} from '@airlock/policy';

const RUNS = 1000;

// ---------------------------------------------------------------------------------------------
// Valid policy documents over a small alphabet, so that statements often meet the requests.

const ACTIONS = ['ssm:StartSession', 'ssm:Start*', 'ssm:*', 'ssm:TerminateSession', 'ssm:?esumeSession', 'ec2:DescribeInstances', 'ec2:Describe*', '*'];

const RESOURCES = [
  '*',
  'arn:aws:ec2:*:*:instance/*',
  'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc',
  'arn:aws:ec2:us-?ast-1:*:instance/i-*',
  'arn:aws:ssm:*:*:session/${aws:username}-*',
  'arn:aws:ssm:*:*:document/*',
  'arn:aws:ssm:us-east-1::document/AWS-StartSSHSession',
  "arn:aws:ssm:*:*:managed-instance/${aws:PrincipalTag/team, 'mi'}-*",
];

interface Family {
  readonly operators: readonly string[];
  readonly keys: readonly string[];
  readonly values: readonly JsonValue[];
  /** Null takes neither ForAnyValue:/ForAllValues: nor IfExists. */
  readonly plain?: true;
  /** Values are free text: the place for arbitrary strings. */
  readonly text?: true;
}

const FAMILIES: readonly Family[] = [
  {
    operators: ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'],
    keys: ['aws:username', 'aws:PrincipalTag/team', 'ssm:resourceTag/env', 'aws:TagKeys'],
    values: ['alice', 'Alice', 'bob', 'dev', 'prod', 'dev-*', '*', 'a?ice', 'env', '${aws:username}', "${aws:PrincipalTag/team, 'dev'}"],
    text: true,
  },
  {
    operators: ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericGreaterThanEquals'],
    keys: ['aws:MultiFactorAuthAge'],
    values: ['0', '60', '3600', 3600, '1.5'],
  },
  {
    operators: ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateGreaterThan'],
    keys: ['aws:CurrentTime'],
    values: ['2020-01-01T00:00:00Z', '2030-01-01', '1767225600'],
  },
  { operators: ['Bool'], keys: ['aws:MultiFactorAuthPresent', 'aws:SecureTransport'], values: ['true', 'false', true, false] },
  { operators: ['IpAddress', 'NotIpAddress'], keys: ['aws:SourceIp'], values: ['10.0.0.0/8', '203.0.113.7', '2001:db8::/32', '0.0.0.0/0'] },
  {
    operators: ['ArnLike', 'ArnNotLike', 'ArnEquals', 'ArnNotEquals'],
    keys: ['aws:PrincipalArn'],
    values: ['arn:aws:iam::111122223333:role/*', 'arn:aws:sts::*:assumed-role/Dev/*', 'arn:aws:sts::111122223333:assumed-role/Dev/${aws:username}'],
  },
  { operators: ['BinaryEquals'], keys: ['aws:username'], values: ['YWxpY2U=', 'Ym9i'] },
  { operators: ['Null'], keys: ['aws:username', 'aws:PrincipalTag/team', 'aws:MultiFactorAuthPresent', 'aws:TagKeys'], values: ['true', 'false'], plain: true },
];

/** One value, or a list of one to three. */
const valuesFrom = (values: readonly JsonValue[]): fc.Arbitrary<JsonValue> =>
  fc.oneof(fc.constantFrom(...values), fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 }));

/** [operator, key, value] of one condition, operator qualified or not. */
const conditionEntry = (stringValues: fc.Arbitrary<JsonValue>): fc.Arbitrary<[string, string, JsonValue]> =>
  fc.constantFrom(...FAMILIES).chain((family) => {
    const qualifier = family.plain ? fc.constant('') : fc.constantFrom('', '', 'ForAnyValue:', 'ForAllValues:');
    const suffix = family.plain ? fc.constant('') : fc.constantFrom('', '', 'IfExists');
    const values = family.text ? fc.oneof(valuesFrom(family.values), stringValues) : valuesFrom(family.values);
    return fc.tuple(
      fc.tuple(qualifier, fc.constantFrom(...family.operators), suffix).map((parts) => parts.join('')),
      fc.constantFrom(...family.keys),
      values,
    );
  });

function conditionOf(entries: readonly [string, string, JsonValue][]): JsonObject {
  const condition: JsonObject = {};
  for (const [operator, key, value] of entries) {
    const block = condition[operator];
    condition[operator] = { ...(block !== undefined && typeof block === 'object' && !Array.isArray(block) ? block : {}), [key]: value };
  }
  return condition;
}

interface Alphabet {
  readonly actions: fc.Arbitrary<string>;
  readonly resources: fc.Arbitrary<string>;
  readonly stringValues: fc.Arbitrary<JsonValue>;
}

const TAME: Alphabet = { actions: fc.constantFrom(...ACTIONS), resources: fc.constantFrom(...RESOURCES), stringValues: fc.constantFrom('alice') };

const entries = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | T[]> => fc.oneof(arb, fc.uniqueArray(arb, { minLength: 1, maxLength: 3 }));

const statementArb = (effect: fc.Arbitrary<'Allow' | 'Deny'>, alphabet: Alphabet = TAME): fc.Arbitrary<JsonObject> =>
  fc
    .record({
      effect,
      negateAction: fc.constantFrom(false, false, false, true),
      actions: entries(alphabet.actions),
      negateResource: fc.constantFrom(false, false, false, true),
      resources: entries(alphabet.resources),
      conditions: fc.array(conditionEntry(alphabet.stringValues), { maxLength: 3 }),
    })
    .map(({ effect: Effect, negateAction, actions, negateResource, resources, conditions }) => ({
      Effect,
      [negateAction ? 'NotAction' : 'Action']: actions,
      [negateResource ? 'NotResource' : 'Resource']: resources,
      ...(conditions.length === 0 ? {} : { Condition: conditionOf(conditions) }),
    }));

const anyEffect = fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Allow', 'Deny');

const documentArb = (alphabet: Alphabet = TAME): fc.Arbitrary<JsonObject> =>
  fc
    .tuple(fc.constantFrom<string | undefined>('2012-10-17', '2012-10-17', '2012-10-17', '2008-10-17', undefined), fc.array(statementArb(anyEffect, alphabet), { minLength: 1, maxLength: 4 }))
    .map(([version, statements]) => (version === undefined ? { Statement: statements } : { Version: version, Statement: statements }));

const documentsArb = fc.array(documentArb(), { minLength: 1, maxLength: 3 });

// ---------------------------------------------------------------------------------------------
// Requests: an action, one or two resources, and a context with a few keys.

const REQUEST_ACTIONS = ['ssm:StartSession', 'SSM:startsession', 'ssm:TerminateSession', 'ssm:ResumeSession', 'ec2:DescribeInstances', 'ssm:UpdateServiceSetting', 's3:GetObject'];

const REQUEST_RESOURCES = [
  'arn:aws:ec2:us-east-1:111122223333:instance/i-0abc',
  'arn:aws:ec2:eu-west-1:111122223333:instance/i-0def',
  'arn:aws:ssm:us-east-1::document/AWS-StartSSHSession',
  'arn:aws:ssm:us-east-1:111122223333:session/alice-0123',
  'arn:aws:ssm:us-east-1:111122223333:managed-instance/dev-mi',
  'arn:aws:ssm:us-east-1:111122223333:managed-instance/mi-0123',
  '*',
];

const CONTEXT_VALUES: Readonly<Record<string, readonly ContextValue[]>> = {
  'aws:username': ['alice', 'bob', 'Alice', '*', ['alice', 'bob']],
  'aws:PrincipalTag/team': ['dev', 'prod', 'dev-1'],
  'ssm:resourceTag/env': ['dev', 'prod', ['dev', 'prod']],
  'aws:TagKeys': [['env'], ['env', 'team'], []],
  'aws:MultiFactorAuthAge': ['30', 7200, 'soon'],
  'aws:CurrentTime': ['2025-06-01T00:00:00Z', '2031-01-01T00:00:00Z', 1767225600],
  'aws:MultiFactorAuthPresent': [true, false, 'true'],
  'aws:SecureTransport': [true],
  'aws:SourceIp': ['10.1.2.3', '203.0.113.7', '2001:db8::1', '::ffff:10.0.0.1', 'garbage'],
  'aws:PrincipalArn': ['arn:aws:sts::111122223333:assumed-role/Dev/alice', 'arn:aws:iam::111122223333:role/Admin'],
};

/** Context entries with names unique without case (RequestContext refuses two spellings of a key). */
const contextArb = (entry: fc.Arbitrary<[string, ContextValue]>): fc.Arbitrary<Record<string, ContextValue>> =>
  fc.uniqueArray(entry, { maxLength: 6, selector: ([key]) => key.toLowerCase() }).map((pairs) => Object.fromEntries(pairs));

const knownEntry: fc.Arbitrary<[string, ContextValue]> = fc
  .constantFrom(...Object.keys(CONTEXT_VALUES))
  .chain((key) => fc.tuple(fc.constantFrom(key, key.toLowerCase(), key.toUpperCase()), fc.constantFrom(...(CONTEXT_VALUES[key] ?? []))));

const requestArb: fc.Arbitrary<RequestInput> = fc.record({
  action: fc.constantFrom(...REQUEST_ACTIONS),
  resource: fc.oneof(fc.constantFrom(...REQUEST_RESOURCES), fc.uniqueArray(fc.constantFrom(...REQUEST_RESOURCES), { minLength: 1, maxLength: 2 })),
  context: contextArb(knownEntry),
});

// Weird inputs: arbitrary text in some of the places where the tame alphabet has names. The rest
// stays tame, so that statements still match and their conditions get to read the weird values.
const weird = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('0', '1', '9', '.', ':', '/', 'f', '*', '$', '{', '}') }),
  fc.constantFrom('', '*', '?', '${aws:username}', '${', '}', ':::::', 'arn:', 'arn:aws:ec2:::', '1e999', 'NaN', '::ffff:1.2.3.4', '\u0000', '\ud800'),
);
const weirdArn = fc.tuple(weird, weird, weird, weird, weird).map((parts) => `arn:${parts.join(':')}`);
const weirdScalar = fc.oneof(weird, fc.double(), fc.integer(), fc.boolean());
const weirdValue: fc.Arbitrary<ContextValue> = fc.oneof({ arbitrary: weirdScalar, weight: 3 }, fc.array(weirdScalar, { maxLength: 3 }));

/** For the keys that Numeric, Date, Bool, IpAddress and Arn operators read: text close to valid. */
const NEARLY_VALID: Readonly<Record<string, fc.Arbitrary<ContextValue>>> = {
  'aws:SourceIp': fc.oneof(fc.ipV4Extended(), fc.ipV6(), fc.ipV4().map((ip) => `${ip}/8`)),
  'aws:CurrentTime': fc.oneof(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()), fc.constantFrom('2026-02-30', '2026-01-01T25:00:00Z', '-1')),
  'aws:MultiFactorAuthAge': fc.oneof(fc.double().map(String), fc.constantFrom(' 5 ', '0x10', '1e400', '.5', '-0')),
  'aws:MultiFactorAuthPresent': fc.constantFrom('TRUE', 'yes', 1, 0),
  'aws:PrincipalArn': fc.tuple(weird, weird).map(([account, resource]) => `arn:aws:sts::${account}:${resource}`),
};
const KNOWN_KEYS = new Set(Object.keys(CONTEXT_VALUES).map((key) => key.toLowerCase()));

/** Most known keys, each with a tame or a weird value; and a few weird keys besides. */
const weirdContextArb: fc.Arbitrary<Record<string, ContextValue>> = fc
  .tuple(
    fc.tuple(
      ...Object.entries(CONTEXT_VALUES).map(([key, tame]) =>
        fc.option(fc.tuple(fc.constant(key), fc.oneof(fc.constantFrom(...tame), weirdValue, { arbitrary: NEARLY_VALID[key] ?? weirdValue, weight: 2 })), { nil: undefined, freq: 4 }),
      ),
    ),
    contextArb(fc.tuple(weird.filter((key) => !KNOWN_KEYS.has(key.toLowerCase())), weirdValue)),
  )
  .map(([known, extra]) => ({ ...Object.fromEntries(known.filter((entry) => entry !== undefined)), ...extra }));

const weirdRequestArb: fc.Arbitrary<RequestInput> = fc.record({
  action: fc.oneof({ arbitrary: fc.constantFrom(...REQUEST_ACTIONS), weight: 4 }, weird),
  resource: fc
    .tuple(fc.uniqueArray(fc.constantFrom(...REQUEST_RESOURCES), { maxLength: 2 }), fc.array(fc.oneof(weird, weirdArn), { maxLength: 1 }))
    .map(([tame, odd]) => [...tame, ...odd])
    .filter((resources) => resources.length > 0),
  context: weirdContextArb,
});

/** Valid documents, some with arbitrary text in resources and string condition values. */
const weirdDocumentArb = fc.oneof(
  documentArb(),
  documentArb({
    // Mostly "*", so that the conditions are reached.
    actions: fc.oneof({ arbitrary: fc.constant('*'), weight: 3 }, TAME.actions),
    resources: fc.oneof({ arbitrary: fc.constant('*'), weight: 3 }, TAME.resources, weirdArn),
    stringValues: weird,
  }).filter((document) => analyzePolicy(document).policy !== undefined),
);

// ---------------------------------------------------------------------------------------------
// Helpers

const show = (findings: readonly Finding[]): string => JSON.stringify(findings);

function compile(document: JsonValue, index: number): CompiledPolicy {
  const { findings, policy } = analyzePolicy(document, { name: `p${index}` });
  assert.ok(policy, `a generated document must be valid: ${show(findings)}`);
  return policy;
}

const decisionOf = (documents: readonly JsonValue[], request: RequestInput): DecisionKind => decide(documents.map(compile), request).decision;

/** How denied a decision is: adding a Deny may only raise it, adding an Allow only lower it. */
const DENIEDNESS: Readonly<Record<DecisionKind, number>> = { allowed: 0, implicitDeny: 1, explicitDeny: 2 };

const statementsOf = (document: JsonObject): JsonValue[] => {
  const statements = document['Statement'];
  return Array.isArray(statements) ? statements : [];
};

/**
 * The decision before and after `statement` joins the documents (appended to document `where`,
 * or as a policy of its own), and the decision of the statement alone under the same Version.
 */
function decisionsAdding(documents: readonly JsonObject[], statement: JsonObject, where: number, request: RequestInput) {
  const host = documents[where] ?? { Version: '2012-10-17', Statement: [] };
  const grown = { ...host, Statement: [...statementsOf(host), statement] };
  const after = where < documents.length ? documents.map((document, index) => (index === where ? grown : document)) : [...documents, grown];
  return {
    before: decisionOf(documents, request),
    after: decisionOf(after, request),
    alone: decisionOf([{ ...host, Statement: [statement] }], request),
  };
}

/** The same documents with their statements and the documents themselves shuffled. */
const shuffledArb = (documents: readonly JsonObject[]): fc.Arbitrary<JsonObject[]> =>
  fc
    .tuple(...documents.map((document) => fc.shuffledSubarray(statementsOf(document), { minLength: statementsOf(document).length })))
    .chain((shuffled) => {
      const reordered = documents.map((document, index) => ({ ...document, Statement: shuffled[index] ?? [] }));
      return fc.shuffledSubarray(reordered, { minLength: reordered.length });
    });

const flipped = (document: JsonObject): JsonObject => ({
  ...document,
  Statement: statementsOf(document).map((statement) => (typeof statement === 'object' && statement !== null && !Array.isArray(statement) ? { ...statement, Effect: 'Deny' } : statement)),
});

const check = <T>(arb: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns = RUNS): void => {
  fc.assert(fc.property(arb, predicate), { numRuns });
};

// ---------------------------------------------------------------------------------------------

describe('evaluation properties', () => {
  test('the generators reach every decision kind often enough to make the properties bite', () => {
    const kinds = fc.sample(fc.tuple(documentsArb, requestArb), { numRuns: 500 }).map(([documents, request]) => decisionOf(documents, request));
    for (const kind of ['allowed', 'implicitDeny', 'explicitDeny'] as const) {
      assert.ok(kinds.filter((k) => k === kind).length >= 50, `${kind}: ${kinds.filter((k) => k === kind).length} of 500`);
    }
  });

  test('adding a Deny statement never turns a decision into allowed; it denies exactly when it matches', () => {
    check(fc.tuple(documentsArb, requestArb, statementArb(fc.constant('Deny')), fc.nat(3)), ([documents, request, deny, where]) => {
      const { before, after, alone } = decisionsAdding(documents, deny, where, request);
      if (after === 'allowed') assert.equal(before, 'allowed');
      assert.ok(DENIEDNESS[after] >= DENIEDNESS[before], `${before} became ${after}`);
      assert.equal(after, alone === 'explicitDeny' ? 'explicitDeny' : before);
    });
  });

  test('adding an Allow statement never turns allowed into denied, nor lifts an explicit Deny', () => {
    check(fc.tuple(documentsArb, requestArb, statementArb(fc.constant('Allow')), fc.nat(3)), ([documents, request, allow, where]) => {
      const { before, after, alone } = decisionsAdding(documents, allow, where, request);
      if (before === 'allowed' || before === 'explicitDeny') assert.equal(after, before);
      assert.ok(DENIEDNESS[after] <= DENIEDNESS[before], `${before} became ${after}`);
      if (alone === 'allowed' && before !== 'explicitDeny') assert.equal(after, 'allowed');
    });
  });

  test('reordering statements within policies, or the policies, never changes the decision', () => {
    const arb = documentsArb.chain((documents) => fc.tuple(fc.constant(documents), shuffledArb(documents), requestArb));
    check(arb, ([documents, shuffled, request]) => {
      assert.equal(decisionOf(shuffled, request), decisionOf(documents, request));
    });
  });

  test('what the statements allow, the same statements as Deny explicitly deny', () => {
    check(fc.tuple(documentsArb, requestArb), ([documents, request]) => {
      if (decisionOf(documents, request) !== 'allowed') return;
      assert.equal(decisionOf(documents.map(flipped), request), 'explicitDeny');
    });
  });

  test('evaluation never throws on a valid document, whatever the request', () => {
    check(fc.tuple(fc.array(weirdDocumentArb, { minLength: 1, maxLength: 2 }), weirdRequestArb), ([documents, request]) => {
      const decision = decide(documents.map(compile), request);
      assert.ok(decision.decision in DENIEDNESS);
      if (decision.decision === 'implicitDeny') assert.ok(decision.reason.length > 0);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Validation never throws: whatever it is given, it answers with findings.

const CODES = new Set<string>([...ERROR_CODES, ...WARNING_CODES]);

/** Findings are well-formed, and a policy comes back exactly when no finding is an ERROR. */
function assertAnalysis(document: string | JsonValue): readonly Finding[] {
  const { findings, policy } = analyzePolicy(document);
  for (const finding of findings) {
    assert.ok(CODES.has(finding.issueCode), finding.issueCode);
    assert.equal(finding.findingType, (ERROR_CODES as readonly string[]).includes(finding.issueCode) ? 'ERROR' : 'WARNING');
    assert.ok(finding.findingDetails.length > 0);
  }
  assert.equal(policy === undefined, hasErrors(findings), show(findings));
  return findings;
}

const OPERATOR_NAMES = ['StringEquals', 'stringequals', 'ForAnyValue:StringLike', 'NullIfExists', 'Null', 'IpAddress', 'DateLessThan', 'BinaryEquals', 'ArnLike'];
/** fast-check's JSON objects are typed with optional keys; the values it makes are plain JSON. */
const jsonArb = (maxDepth: number): fc.Arbitrary<JsonValue> => fc.jsonValue({ maxDepth }).map((value) => value as JsonValue);
const anyJson = jsonArb(3);
const slot = (...likely: JsonValue[]): fc.Arbitrary<JsonValue> => fc.oneof(fc.constantFrom(...likely), anyJson);

/** Policy-shaped values with anything in each element, so the walk goes deep. */
const policyShapedArb: fc.Arbitrary<JsonValue> = fc.record(
  {
    Version: slot('2012-10-17', '2008-10-17'),
    Id: slot('Ops'),
    Statement: fc.oneof(
      anyJson,
      fc.array(
        fc.record(
          {
            Sid: slot('A', 'A'),
            Effect: slot('Allow', 'Deny'),
            Action: fc.oneof(slot(...ACTIONS), fc.array(slot(...ACTIONS))),
            NotAction: slot('ssm:*'),
            Resource: fc.oneof(slot(...RESOURCES), fc.array(fc.oneof(slot(...RESOURCES), weird))),
            NotResource: slot('*'),
            Principal: slot('*'),
            Condition: fc.oneof(anyJson, fc.dictionary(fc.oneof(fc.constantFrom(...OPERATOR_NAMES), weird), fc.oneof(anyJson, fc.dictionary(fc.oneof(weird, fc.constantFrom('aws:username', 'aws:SourceIp')), anyJson)))),
          },
          { requiredKeys: [] },
        ),
      ),
    ),
  },
  { requiredKeys: [] },
);

/** A valid policy's text with a slice cut out or replaced by arbitrary text. */
const damagedTextArb = fc
  .tuple(documentArb(), fc.nat(), fc.nat(20), fc.oneof(fc.constant(''), fc.string({ maxLength: 3 }), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\\u12')))
  .map(([document, at, cut, insert]) => {
    const text = JSON.stringify(document, null, 1);
    const start = at % (text.length + 1);
    return text.slice(0, start) + insert + text.slice(start + cut);
  });

describe('validation properties', () => {
  test('analyzePolicy never throws on arbitrary JSON values', () => {
    check(jsonArb(6), (value) => void assertAnalysis(value), 2000);
  });

  test('analyzePolicy never throws on policy-shaped values with arbitrary elements', () => {
    check(policyShapedArb, (value) => void assertAnalysis(value));
  });

  test('analyzePolicy never throws on arbitrary or damaged text', () => {
    check(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), damagedTextArb), (text) => void assertAnalysis(text), 2000);
  });

  test('a parsed value and its JSON text get the same findings', () => {
    // A string is read as the text of a document, so only non-strings have a parsed form.
    check(fc.oneof(anyJson, policyShapedArb).filter((value) => typeof value !== 'string'), (value) => {
      assert.deepEqual(assertAnalysis(JSON.stringify(value)), assertAnalysis(value));
    });
  });

  test('every generated policy document is valid', () => {
    check(documentArb(), (document) => {
      assert.deepEqual(analyzePolicy(document).findings.filter((finding) => finding.findingType === 'ERROR'), []);
    });
  });
});
