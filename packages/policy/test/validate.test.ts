/**
 * Validation: every malformed document is refused with the issue code AWS's validator would
 * give it, the JSON path of the offending element, and a message that names the value or the
 * fix. Likely mistakes that AWS accepts are warnings, and the document still compiles.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  analyzePolicy,
  compilePolicy,
  DEFAULT_MAX_POLICY_LENGTH,
  ERROR_CODES,
  InvalidPolicyError,
  WARNING_CODES,
  type AnalyzeOptions,
  type ErrorCode,
  type Finding,
  type JsonObject,
  type JsonValue,
  type WarningCode,
} from '@airlock/policy';

const VERSION = '2012-10-17';

/** A valid statement, with some elements replaced. */
const grant = (overrides: JsonObject = {}): JsonObject => ({ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*', ...overrides });

const policyOf = (...statements: JsonValue[]): JsonObject => ({ Version: VERSION, Statement: statements });

/** A policy of one statement, with some elements replaced. */
const one = (overrides: JsonObject): JsonObject => policyOf(grant(overrides));

const omit = (object: JsonObject, element: string): JsonObject => Object.fromEntries(Object.entries(object).filter(([key]) => key !== element));

/** A policy of one statement that lacks `element`. */
const lacking = (element: string): JsonObject => policyOf(omit(grant(), element));

/** A policy of one statement with the condition `{operator: {key: value}}`. */
const condition = (operator: string, key: string, value: JsonValue): JsonObject => one({ Condition: { [operator]: { [key]: value } } });

/** The path of a condition key, as childPath spells it: keys with colons are quoted. */
const conditionPath = (operator: string, key: string): string => {
  const op = /^[A-Za-z_][A-Za-z0-9_]*$/.test(operator) ? `.${operator}` : `[${JSON.stringify(operator)}]`;
  return `Statement[0].Condition${op}[${JSON.stringify(key)}]`;
};

const VALID_TEXT = JSON.stringify(policyOf(grant()));

const errorsOf = (findings: readonly Finding[]): Finding[] => findings.filter((finding) => finding.findingType === 'ERROR');
const warningsOf = (findings: readonly Finding[]): Finding[] => findings.filter((finding) => finding.findingType === 'WARNING');
const show = (findings: readonly Finding[]): string => JSON.stringify(findings, null, 2);

/** Asserts a finding with this code at this path exists and that its message mentions `text`. */
function assertFinding(findings: readonly Finding[], code: string, path: string, text: string): void {
  const finding = findings.find((candidate) => candidate.issueCode === code && candidate.path === path);
  assert.ok(finding, `expected ${code} at "${path}"; got ${show(findings)}`);
  assert.ok(finding.findingDetails.includes(text), `the message should mention ${JSON.stringify(text)}: ${finding.findingDetails}`);
}

interface Case<Code> {
  readonly name: string;
  readonly document: string | JsonValue;
  readonly code: Code;
  readonly path: string;
  /** What the message must say: the offending value, or the fix. */
  readonly mentions: string;
  /** Further codes of the same grade that the same document rightly produces. */
  readonly also?: readonly Code[];
  readonly options?: AnalyzeOptions;
}

const INVALID_JSON_TEXT = '{\n  "Version": "2012-10-17",\n  "Statement": {\n    "Effect": "Allow",\n  }\n}';
const TWO_EFFECTS = `{"Version":"${VERSION}","Statement":[{"Effect":"Deny","Action":"ssm:StartSession","Resource":"*","Effect":"Allow"}]}`;
const MANY_INSTANCES = Array.from({ length: 800 }, (_, i) => `arn:aws:ec2:us-east-1:111122223333:instance/i-${String(i).padStart(17, '0')}`);

const ERROR_CASES: readonly Case<ErrorCode>[] = [
  // Reading the text
  { name: 'a trailing comma, with line and column', document: INVALID_JSON_TEXT, code: 'INVALID_JSON', path: '', mentions: 'line 5, column 3' },
  { name: 'an unclosed string', document: '{"Version": "2012-10-17', code: 'INVALID_JSON', path: '', mentions: 'line 1, column 24: a string is not closed' },
  { name: 'single-quoted keys', document: "{'Version': '2012-10-17'}", code: 'INVALID_JSON', path: '', mentions: 'line 1, column 2: expected a quoted key' },
  { name: 'a single-quoted value', document: "{\n\"Version\": '2012-10-17'}", code: 'INVALID_JSON', path: '', mentions: `line 2, column 12: unexpected character "'"` },
  { name: 'an empty text', document: '', code: 'INVALID_JSON', path: '', mentions: 'ends where a value was expected' },
  { name: 'text after the document', document: `${VALID_TEXT} {}`, code: 'INVALID_JSON', path: '', mentions: 'unexpected text after the end' },
  { name: 'a bad escape', document: '{"Version": "2012\\x10-17"}', code: 'INVALID_JSON', path: '', mentions: 'unknown escape \\x' },
  {
    name: 'two Effect keys (JSON.parse would silently keep the last, Allow)',
    document: TWO_EFFECTS,
    code: 'DUPLICATE_KEY',
    path: 'Statement[0].Effect',
    mentions: '"Effect" appears twice',
  },
  {
    name: 'two Version keys',
    document: `{"Version":"${VERSION}","Version":"${VERSION}","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
    code: 'DUPLICATE_KEY',
    path: 'Version',
    mentions: 'remove one',
  },
  {
    name: 'a condition key given twice',
    document: `{"Version":"${VERSION}","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"a","aws:username":"b"}}}}`,
    code: 'DUPLICATE_KEY',
    path: 'Statement.Condition.StringEquals["aws:username"]',
    mentions: '"aws:username" appears twice',
  },
  {
    name: 'a document over the size limit',
    document: ' '.repeat(DEFAULT_MAX_POLICY_LENGTH) + VALID_TEXT,
    code: 'POLICY_SIZE_EXCEEDED',
    path: '',
    mentions: `the limit is ${DEFAULT_MAX_POLICY_LENGTH}`,
  },
  { name: 'a document over options.maxLength', document: VALID_TEXT, options: { maxLength: 50 }, code: 'POLICY_SIZE_EXCEEDED', path: '', mentions: 'the limit is 50' },
  {
    name: 'an already-parsed document over the size limit',
    document: one({ Resource: MANY_INSTANCES }),
    code: 'POLICY_SIZE_EXCEEDED',
    path: '',
    mentions: 'Split it into several policies',
  },
  // The document
  { name: 'a JSON string as the document', document: '"Allow everything"', code: 'INVALID_DOCUMENT', path: '', mentions: 'string "Allow everything"' },
  { name: 'a list as the document', document: `[${VALID_TEXT}]`, code: 'INVALID_DOCUMENT', path: '', mentions: 'this is a list' },
  { name: 'null as the document', document: null, code: 'INVALID_DOCUMENT', path: '', mentions: 'this is null' },
  {
    name: 'an unknown top-level element',
    document: { ...policyOf(grant()), Description: 'x' },
    code: 'UNKNOWN_ELEMENT',
    path: 'Description',
    mentions: 'Allowed: Version, Id, Statement',
  },
  {
    name: 'a wrong-case "statement"',
    document: { Version: VERSION, statement: [grant()] },
    code: 'UNKNOWN_ELEMENT',
    path: 'statement',
    mentions: 'Did you mean Statement?',
    also: ['MISSING_STATEMENT'],
  },
  { name: 'Version as a number', document: { ...policyOf(grant()), Version: 2012 }, code: 'INVALID_VERSION', path: 'Version', mentions: 'number 2012' },
  { name: 'Version "2012-10-18"', document: { ...policyOf(grant()), Version: '2012-10-18' }, code: 'INVALID_VERSION', path: 'Version', mentions: '"2012-10-18"' },
  { name: 'Version null', document: { ...policyOf(grant()), Version: null }, code: 'INVALID_VERSION', path: 'Version', mentions: `must be "${VERSION}"` },
  { name: 'Id as a number', document: { ...policyOf(grant()), Id: 7 }, code: 'INVALID_ID', path: 'Id', mentions: 'number 7' },
  { name: 'Id as a list', document: { ...policyOf(grant()), Id: ['a'] }, code: 'INVALID_ID', path: 'Id', mentions: 'a list' },
  { name: 'no Statement', document: { Version: VERSION }, code: 'MISSING_STATEMENT', path: 'Statement', mentions: 'add at least one' },
  { name: 'an empty Statement list', document: policyOf(), code: 'MISSING_STATEMENT', path: 'Statement', mentions: 'an empty list' },
  { name: 'Statement as a string', document: { Version: VERSION, Statement: 'Allow' }, code: 'MISSING_STATEMENT', path: 'Statement', mentions: 'string "Allow"' },
  { name: 'a statement that is a string', document: policyOf(grant(), 'Allow'), code: 'INVALID_STATEMENT', path: 'Statement[1]', mentions: 'string "Allow"' },
  { name: 'a statement that is null', document: policyOf(null), code: 'INVALID_STATEMENT', path: 'Statement[0]', mentions: 'null' },
  { name: 'a statement that is a list', document: policyOf([grant()]), code: 'INVALID_STATEMENT', path: 'Statement[0]', mentions: 'a list' },
  // Statement elements
  { name: 'an unknown statement element', document: one({ Description: 'x' }), code: 'UNKNOWN_ELEMENT', path: 'Statement[0].Description', mentions: 'Allowed: Sid, Effect' },
  {
    name: 'a wrong-case "effect"',
    document: policyOf({ effect: 'Allow', Action: '*', Resource: '*' }),
    code: 'UNKNOWN_ELEMENT',
    path: 'Statement[0].effect',
    mentions: 'Did you mean Effect? Element names are case-sensitive.',
    also: ['MISSING_EFFECT'],
  },
  { name: 'a Sid with punctuation', document: one({ Sid: 'Allow-Start' }), code: 'INVALID_SID', path: 'Statement[0].Sid', mentions: '"Allow-Start"' },
  { name: 'a Sid with a space', document: one({ Sid: 'Allow Start' }), code: 'INVALID_SID', path: 'Statement[0].Sid', mentions: 'letters A-Z, a-z and digits 0-9' },
  { name: 'a Sid that is a number', document: one({ Sid: 1 }), code: 'INVALID_SID', path: 'Statement[0].Sid', mentions: 'number 1' },
  {
    name: 'a Sid used twice',
    document: policyOf(grant({ Sid: 'Start' }), grant({ Sid: 'Start', Effect: 'Deny' })),
    code: 'DUPLICATE_SID',
    path: 'Statement[1].Sid',
    mentions: 'Sid "Start"',
  },
  { name: 'no Effect', document: lacking('Effect'), code: 'MISSING_EFFECT', path: 'Statement[0].Effect', mentions: '"Effect": "Allow"' },
  { name: 'Effect "Permit"', document: one({ Effect: 'Permit' }), code: 'INVALID_EFFECT', path: 'Statement[0].Effect', mentions: '"Permit"' },
  { name: 'Effect "allow" in lower case', document: one({ Effect: 'allow' }), code: 'INVALID_EFFECT', path: 'Statement[0].Effect', mentions: 'It is case-sensitive.' },
  { name: 'Effect true', document: one({ Effect: true }), code: 'INVALID_EFFECT', path: 'Statement[0].Effect', mentions: 'boolean true' },
  { name: 'Principal', document: one({ Principal: '*' }), code: 'PRINCIPAL_IN_IDENTITY_POLICY', path: 'Statement[0].Principal', mentions: 'remove Principal' },
  {
    name: 'NotPrincipal',
    document: one({ NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } }),
    code: 'PRINCIPAL_IN_IDENTITY_POLICY',
    path: 'Statement[0].NotPrincipal',
    mentions: 'resource-based policies',
  },
  // Action
  { name: 'no Action', document: lacking('Action'), code: 'MISSING_ACTION', path: 'Statement[0].Action', mentions: 'no Action (or NotAction)' },
  { name: 'both Action and NotAction', document: one({ NotAction: 'ssm:TerminateSession' }), code: 'ACTION_AND_NOT_ACTION', path: 'Statement[0].NotAction', mentions: 'not both' },
  { name: 'an empty Action list', document: one({ Action: [] }), code: 'INVALID_ACTION', path: 'Statement[0].Action', mentions: 'an empty list' },
  { name: 'Action null', document: one({ Action: null }), code: 'INVALID_ACTION', path: 'Statement[0].Action', mentions: 'a non-empty list of strings' },
  { name: 'an Action entry that is a number', document: one({ Action: ['ssm:StartSession', 7] }), code: 'INVALID_ACTION', path: 'Statement[0].Action[1]', mentions: 'number 7' },
  { name: 'an action without a colon', document: one({ Action: 'StartSession' }), code: 'INVALID_ACTION', path: 'Statement[0].Action', mentions: '"StartSession" is not an action' },
  { name: 'an action with a space', document: one({ Action: 'ssm: StartSession' }), code: 'INVALID_ACTION', path: 'Statement[0].Action', mentions: 'write service:Operation' },
  { name: 'an action with a variable', document: one({ Action: 'ssm:${aws:username}' }), code: 'INVALID_ACTION', path: 'Statement[0].Action', mentions: '"ssm:${aws:username}"' },
  { name: 'an empty action', document: one({ Action: '' }), code: 'INVALID_ACTION', path: 'Statement[0].Action', mentions: '"" is not an action' },
  { name: 'a bad action in a list of one', document: one({ Action: ['ssm'] }), code: 'INVALID_ACTION', path: 'Statement[0].Action[0]', mentions: '"ssm"' },
  {
    name: 'a bad NotAction entry',
    document: policyOf({ Effect: 'Deny', NotAction: ['ssm:StartSession', 'ssm:Start Session'], Resource: '*' }),
    code: 'INVALID_ACTION',
    path: 'Statement[0].NotAction[1]',
    mentions: '"ssm:Start Session"',
  },
  // Resource
  { name: 'no Resource', document: lacking('Resource'), code: 'MISSING_RESOURCE', path: 'Statement[0].Resource', mentions: 'no Resource (or NotResource)' },
  { name: 'both Resource and NotResource', document: one({ NotResource: '*' }), code: 'RESOURCE_AND_NOT_RESOURCE', path: 'Statement[0].NotResource', mentions: 'not both' },
  { name: 'an empty Resource list', document: one({ Resource: [] }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: 'an empty list' },
  { name: 'a Resource entry that is an object', document: one({ Resource: [{}] }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource[0]', mentions: 'an object' },
  { name: 'an instance id for a Resource', document: one({ Resource: 'i-0123456789abcdef0' }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: '"i-0123456789abcdef0" is not an ARN' },
  { name: 'an ARN with too few segments', document: one({ Resource: 'arn:aws:ec2:us-east-1:111122223333' }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: 'arn:partition:service:region:account:resource' },
  { name: 'an upper-case ARN prefix', document: one({ Resource: 'ARN:aws:ec2:*:*:instance/*' }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: 'is not an ARN' },
  { name: 'a wildcard service segment', document: one({ Resource: 'arn:aws:*:*:*:instance/*' }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: 'must name its service in full' },
  { name: 'a ? in the service segment', document: one({ Resource: ['*', 'arn:aws:ec?:*:*:instance/*'] }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource[1]', mentions: 'cannot be empty or hold wildcards' },
  { name: 'an empty service segment', document: one({ Resource: 'arn:aws::us-east-1:111122223333:instance/i-1' }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: 'cannot be empty' },
  {
    name: 'a variable in the region',
    document: one({ Resource: 'arn:aws:ec2:${aws:RequestedRegion}:*:instance/*' }),
    code: 'INVALID_RESOURCE',
    path: 'Statement[0].Resource',
    mentions: 'policy variable in its region segment; variables may only stand in the resource part',
  },
  {
    name: 'a variable in the account',
    document: one({ Resource: 'arn:aws:ec2:*:${aws:PrincipalAccount}:instance/*' }),
    code: 'INVALID_RESOURCE',
    path: 'Statement[0].Resource',
    mentions: 'in its account segment',
  },
  {
    name: 'an unterminated ${',
    document: one({ Resource: 'arn:aws:ssm:*:*:session/${aws:username-*' }),
    code: 'INVALID_RESOURCE',
    path: 'Statement[0].Resource',
    mentions: 'never closes it with }',
  },
  {
    name: 'an unquoted variable default',
    document: one({ Resource: "arn:aws:ssm:*:*:session/${aws:username, nobody}-*" }),
    code: 'INVALID_RESOURCE',
    path: 'Statement[0].Resource',
    mentions: "${aws:username, 'none'}",
  },
  { name: 'an empty variable', document: one({ Resource: 'arn:aws:ssm:*:*:session/${}' }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: 'needs a key name' },
  { name: 'a variable without a prefix', document: one({ Resource: 'arn:aws:ssm:*:*:session/${username}' }), code: 'INVALID_RESOURCE', path: 'Statement[0].Resource', mentions: '"username" is not a condition key' },
  {
    name: 'a bad NotResource entry',
    document: policyOf({ Effect: 'Deny', Action: '*', NotResource: ['*', 'instance/*'] }),
    code: 'INVALID_RESOURCE',
    path: 'Statement[0].NotResource[1]',
    mentions: '"instance/*"',
  },
  // Condition blocks and operators
  { name: 'Condition as a string', document: one({ Condition: 'aws:username = alice' }), code: 'INVALID_CONDITION', path: 'Statement[0].Condition', mentions: '{"StringEquals": {"aws:username": "alice"}}' },
  { name: 'Condition as a list', document: one({ Condition: [] }), code: 'INVALID_CONDITION', path: 'Statement[0].Condition', mentions: 'a list' },
  { name: 'an empty operator block', document: one({ Condition: { StringEquals: {} } }), code: 'INVALID_CONDITION', path: 'Statement[0].Condition.StringEquals', mentions: 'an empty object' },
  { name: 'an operator block that is a string', document: one({ Condition: { Bool: 'true' } }), code: 'INVALID_CONDITION', path: 'Statement[0].Condition.Bool', mentions: 'must map condition keys to values' },
  { name: 'an unknown operator', document: condition('StringMatches', 'aws:username', 'a'), code: 'INVALID_OPERATOR', path: 'Statement[0].Condition.StringMatches', mentions: 'StringMatches is not a condition operator' },
  { name: 'a wrong-case operator', document: condition('stringequals', 'aws:username', 'a'), code: 'INVALID_OPERATOR', path: 'Statement[0].Condition.stringequals', mentions: 'Did you mean StringEquals? Operator names are case-sensitive.' },
  { name: 'NullIfExists', document: condition('NullIfExists', 'aws:username', 'true'), code: 'INVALID_OPERATOR', path: 'Statement[0].Condition.NullIfExists', mentions: 'Null already tests whether the key exists' },
  { name: 'ForAllValues:Null', document: condition('ForAllValues:Null', 'aws:TagKeys', 'true'), code: 'INVALID_OPERATOR', path: 'Statement[0].Condition["ForAllValues:Null"]', mentions: 'ForAllValues:Null is not an operator' },
  {
    name: 'two set qualifiers',
    document: condition('ForAnyValue:ForAllValues:StringEquals', 'aws:TagKeys', 'a'),
    code: 'INVALID_OPERATOR',
    path: 'Statement[0].Condition["ForAnyValue:ForAllValues:StringEquals"]',
    mentions: 'ForAnyValue:ForAllValues:StringEquals is not a condition operator',
  },
  { name: 'a bare IfExists', document: condition('IfExists', 'aws:username', 'a'), code: 'INVALID_OPERATOR', path: 'Statement[0].Condition.IfExists', mentions: 'IfExists is not a condition operator' },
  // Condition keys and values
  { name: 'a condition key without a prefix', document: condition('StringEquals', 'username', 'a'), code: 'INVALID_CONDITION_KEY', path: 'Statement[0].Condition.StringEquals.username', mentions: 'keys look like aws:username' },
  { name: 'a condition key with a space', document: condition('StringEquals', 'aws:user name', 'a'), code: 'INVALID_CONDITION_KEY', path: conditionPath('StringEquals', 'aws:user name'), mentions: '"aws:user name"' },
  {
    name: 'a condition key with a variable',
    document: condition('StringEquals', 'aws:PrincipalTag/${aws:username}', 'a'),
    code: 'INVALID_CONDITION_KEY',
    path: conditionPath('StringEquals', 'aws:PrincipalTag/${aws:username}'),
    mentions: 'is not a condition key',
  },
  { name: 'an empty value list', document: condition('StringEquals', 'aws:username', []), code: 'INVALID_CONDITION_VALUE', path: conditionPath('StringEquals', 'aws:username'), mentions: 'empty list of values' },
  { name: 'a null value', document: condition('StringEquals', 'aws:username', null), code: 'INVALID_CONDITION_VALUE', path: conditionPath('StringEquals', 'aws:username'), mentions: 'this is null' },
  { name: 'an object value', document: condition('StringEquals', 'aws:username', { name: 'alice' }), code: 'INVALID_CONDITION_VALUE', path: conditionPath('StringEquals', 'aws:username'), mentions: 'an object' },
  { name: 'a list inside the value list', document: condition('StringEquals', 'aws:username', ['alice', ['bob']]), code: 'INVALID_CONDITION_VALUE', path: `${conditionPath('StringEquals', 'aws:username')}[1]`, mentions: 'a list' },
  { name: 'an unterminated variable in a value', document: condition('StringEquals', 'aws:username', '${aws:userid'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('StringEquals', 'aws:username'), mentions: 'never closes it' },
  { name: 'Numeric with a word', document: condition('NumericLessThan', 'aws:MultiFactorAuthAge', 'five'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('NumericLessThan', 'aws:MultiFactorAuthAge'), mentions: 'needs a number, not "five"' },
  {
    name: 'Numeric with a variable',
    document: condition('NumericEquals', 'aws:MultiFactorAuthAge', '${aws:EpochTime}'),
    code: 'INVALID_CONDITION_VALUE',
    path: conditionPath('NumericEquals', 'aws:MultiFactorAuthAge'),
    mentions: '"${aws:EpochTime}"',
  },
  { name: 'Date with a word', document: condition('DateLessThan', 'aws:CurrentTime', 'tomorrow'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('DateLessThan', 'aws:CurrentTime'), mentions: 'ISO 8601 date' },
  { name: 'Date with month 13', document: condition('DateGreaterThan', 'aws:CurrentTime', '2026-13-01'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('DateGreaterThan', 'aws:CurrentTime'), mentions: '"2026-13-01"' },
  { name: 'Bool with "yes"', document: condition('Bool', 'aws:MultiFactorAuthPresent', 'yes'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('Bool', 'aws:MultiFactorAuthPresent'), mentions: 'Bool needs true or false, not "yes"' },
  { name: 'Bool with the number 1', document: condition('BoolIfExists', 'aws:MultiFactorAuthPresent', [true, 1]), code: 'INVALID_CONDITION_VALUE', path: `${conditionPath('BoolIfExists', 'aws:MultiFactorAuthPresent')}[1]`, mentions: 'not "1"' },
  { name: 'BinaryEquals with non-base64', document: condition('BinaryEquals', 'aws:username', 'not base64!'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('BinaryEquals', 'aws:username'), mentions: 'base64' },
  { name: 'IpAddress 300.1.1.1', document: condition('IpAddress', 'aws:SourceIp', '300.1.1.1'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('IpAddress', 'aws:SourceIp'), mentions: '"300.1.1.1"' },
  { name: 'IpAddress with /33', document: condition('IpAddress', 'aws:SourceIp', '10.0.0.0/33'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('IpAddress', 'aws:SourceIp'), mentions: 'CIDR block (203.0.113.0/24)' },
  { name: 'IpAddress with an empty prefix', document: condition('IpAddress', 'aws:SourceIp', '10.0.0.0/'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('IpAddress', 'aws:SourceIp'), mentions: '"10.0.0.0/"' },
  { name: 'IpAddress with a bad IPv6', document: condition('IpAddress', 'aws:SourceIp', '2001:db8:::1'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('IpAddress', 'aws:SourceIp'), mentions: '"2001:db8:::1"' },
  { name: 'NotIpAddress with /129', document: condition('NotIpAddress', 'aws:SourceIp', ['10.0.0.0/8', '2001:db8::/129']), code: 'INVALID_CONDITION_VALUE', path: `${conditionPath('NotIpAddress', 'aws:SourceIp')}[1]`, mentions: 'NotIpAddress needs' },
  { name: 'ArnLike with a non-ARN', document: condition('ArnLike', 'aws:PrincipalArn', 'role/Admin'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('ArnLike', 'aws:PrincipalArn'), mentions: 'ArnLike: "role/Admin" is not an ARN' },
  { name: 'ArnEquals with a wildcard service', document: condition('ArnEquals', 'aws:PrincipalArn', 'arn:aws:*::111122223333:role/Admin'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('ArnEquals', 'aws:PrincipalArn'), mentions: 'must name its service' },
  { name: 'Null with "maybe"', document: condition('Null', 'aws:username', 'maybe'), code: 'INVALID_CONDITION_VALUE', path: conditionPath('Null', 'aws:username'), mentions: 'Null needs true (the key is absent) or false' },
];

describe('a malformed document is refused', () => {
  for (const { name, document, code, path, mentions, also = [], options } of ERROR_CASES) {
    test(`${name}: ${code} at "${path}"`, () => {
      const { findings, policy } = analyzePolicy(document, options);
      assert.equal(policy, undefined);
      const codes = errorsOf(findings).map((finding) => finding.issueCode);
      assert.deepEqual(codes.sort(), [code, ...also].sort(), show(findings));
      assertFinding(findings, code, path, mentions);
    });
  }
});

describe('refusal as a whole', () => {
  test('every ERROR code is produced by at least one malformed document', () => {
    const produced = new Set(ERROR_CASES.flatMap(({ document, options }) => analyzePolicy(document, options).findings.map((finding) => finding.issueCode)));
    assert.deepEqual(ERROR_CODES.filter((code) => !produced.has(code)), []);
  });

  test('JSON.parse reads two Effect keys as the last one: the trap the duplicate check closes', () => {
    assert.equal((JSON.parse(TWO_EFFECTS) as { Statement: [{ Effect: string }] }).Statement[0].Effect, 'Allow');
    assert.equal(analyzePolicy(TWO_EFFECTS).policy, undefined);
  });

  const SEVERAL_PROBLEMS: JsonObject = {
    Version: '2012-10-18',
    Id: 7,
    Statement: [
      { Sid: 'first one', Effect: 'Permit', Action: 'ssm StartSession', Resource: 'i-0123456789abcdef0' },
      'Allow everything',
      { Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*', Principal: '*', Condition: { StringEquals: { username: 'alice' } } },
    ],
  };

  test('every problem of a document is reported, not only the first', () => {
    const { findings, policy } = analyzePolicy(SEVERAL_PROBLEMS);
    assert.equal(policy, undefined);
    assert.deepEqual(
      errorsOf(findings).map((finding) => `${finding.issueCode} ${finding.path}`),
      [
        'INVALID_VERSION Version',
        'INVALID_ID Id',
        'INVALID_SID Statement[0].Sid',
        'INVALID_EFFECT Statement[0].Effect',
        'INVALID_ACTION Statement[0].Action',
        'INVALID_RESOURCE Statement[0].Resource',
        'INVALID_STATEMENT Statement[1]',
        'PRINCIPAL_IN_IDENTITY_POLICY Statement[2].Principal',
        'INVALID_CONDITION_KEY Statement[2].Condition.StringEquals.username',
      ],
    );
  });

  test('duplicate keys do not stop the walk: later problems are reported too', () => {
    const text = `{"Version":"${VERSION}","Version":"${VERSION}","Statement":{"Effect":"Allow","Action":"ssm:StartSession"}}`;
    const { findings } = analyzePolicy(text);
    assert.deepEqual(
      errorsOf(findings).map((finding) => `${finding.issueCode} ${finding.path}`),
      ['DUPLICATE_KEY Version', 'MISSING_RESOURCE Statement.Resource'],
    );
  });

  test('one bad statement refuses the whole policy, even when the others are valid', () => {
    assert.equal(analyzePolicy(policyOf(grant(), grant({ Effect: 'Maybe' }), grant())).policy, undefined);
  });

  test('compilePolicy throws InvalidPolicyError carrying every finding', () => {
    assert.throws(
      () => compilePolicy(SEVERAL_PROBLEMS),
      (thrown: unknown) => {
        assert.ok(thrown instanceof InvalidPolicyError);
        assert.deepEqual(thrown.findings, analyzePolicy(SEVERAL_PROBLEMS).findings);
        assert.match(thrown.message, /Statement\[0\]\.Effect: Effect must be "Allow" or "Deny", not string "Permit"\./);
        assert.match(thrown.message, /Statement\[1\]: Each statement must be an object/);
        return true;
      },
    );
  });

  test('a text exactly at the size limit is read; one character more is refused', () => {
    const options = { maxLength: VALID_TEXT.length };
    assert.ok(analyzePolicy(VALID_TEXT, options).policy);
    assert.equal(analyzePolicy(`${VALID_TEXT} `, options).policy, undefined);
  });
});

const SESSION_OF_USER = 'arn:aws:ssm:*:*:session/${aws:username}-*';
const UNVERSIONED = omit(policyOf(grant()), 'Version');

const WARNING_CASES: readonly Case<WarningCode>[] = [
  { name: 'no Version', document: UNVERSIONED, code: 'MISSING_VERSION', path: 'Version', mentions: `Add "Version": "${VERSION}"` },
  {
    name: 'a variable under Version 2008-10-17',
    document: { ...one({ Resource: SESSION_OF_USER }), Version: '2008-10-17' },
    code: 'LITERAL_VARIABLE',
    path: 'Statement[0].Resource',
    mentions: `variables need "Version": "${VERSION}"`,
  },
  {
    name: 'a variable in a condition value without a Version',
    document: { Statement: [grant({ Condition: { StringLike: { 'aws:userid': ['*:${aws:username}'] } } })] },
    code: 'LITERAL_VARIABLE',
    path: `${conditionPath('StringLike', 'aws:userid')}[0]`,
    mentions: '"*:${aws:username}"',
    also: ['MISSING_VERSION'],
  },
  { name: 'a misspelt ssm action', document: one({ Action: 'ssm:StartSesion' }), code: 'UNKNOWN_ACTION', path: 'Statement[0].Action', mentions: 'Did you mean ssm:StartSession?' },
  {
    name: 'a misspelt action in a list',
    document: one({ Action: ['ssm:StartSession', 'ssm:terminatesesion'] }),
    code: 'UNKNOWN_ACTION',
    path: 'Statement[0].Action[1]',
    mentions: 'ssm:terminatesesion matches no ssm action. Did you mean ssm:TerminateSession?',
  },
  { name: 'a wildcard that matches no ssm action', document: one({ Action: 'ssm:Launch*' }), code: 'UNKNOWN_ACTION', path: 'Statement[0].Action', mentions: 'ssm:Launch* matches no ssm action' },
  {
    name: 'an ssm tag key on an EC2 action',
    document: one({ Action: 'ec2:DescribeInstances', Condition: { StringEquals: { 'ssm:resourceTag/x': 'y' } } }),
    code: 'UNSUPPORTED_CONDITION_KEY',
    path: conditionPath('StringEquals', 'ssm:resourceTag/x'),
    mentions: 'ssm:resourceTag/x is not set by ec2:DescribeInstances',
  },
  {
    name: "the guide's StringLike \"Production\"",
    document: condition('StringLike', 'ssm:resourceTag/Environment', ['Production']),
    code: 'LIKE_WITHOUT_WILDCARD',
    path: `${conditionPath('StringLike', 'ssm:resourceTag/Environment')}[0]`,
    mentions: 'StringEquals says the same',
  },
  { name: 'StringNotLike without a wildcard', document: condition('StringNotLike', 'aws:username', 'bob'), code: 'LIKE_WITHOUT_WILDCARD', path: conditionPath('StringNotLike', 'aws:username'), mentions: 'StringNotEquals' },
  {
    name: 'ForAnyValue on aws:username',
    document: condition('ForAnyValue:StringEquals', 'aws:username', 'alice'),
    code: 'SET_OPERATOR_ON_SINGLE_VALUED_KEY',
    path: conditionPath('ForAnyValue:StringEquals', 'aws:username'),
    mentions: 'use StringEquals without ForAnyValue:',
  },
  {
    name: 'ForAllValues on a tag key',
    document: condition('ForAllValues:StringLike', 'aws:PrincipalTag/team', 'dev-*'),
    code: 'SET_OPERATOR_ON_SINGLE_VALUED_KEY',
    path: conditionPath('ForAllValues:StringLike', 'aws:PrincipalTag/team'),
    mentions: 'ForAllValues also holds when the key is absent',
  },
  {
    name: 'Allow with NotAction on every resource',
    document: policyOf({ Effect: 'Allow', NotAction: 'ssm:UpdateServiceSetting', Resource: '*' }),
    code: 'ALLOW_NOT_ACTION_ALL_RESOURCES',
    path: 'Statement[0].NotAction',
    mentions: 'List the actions to allow instead',
  },
];

describe('a likely mistake is a warning, and the document still compiles', () => {
  for (const { name, document, code, path, mentions, also = [] } of WARNING_CASES) {
    test(`${name}: ${code} at "${path}"`, () => {
      const { findings, policy } = analyzePolicy(document);
      assert.deepEqual(errorsOf(findings), []);
      assert.ok(policy, 'the policy compiles');
      assert.deepEqual(warningsOf(findings).map((finding) => finding.issueCode).sort(), [code, ...also].sort(), show(findings));
      assertFinding(findings, code, path, mentions);
      assert.equal(compilePolicy(document).statements.length, policy.statements.length);
    });
  }

  test('every WARNING code is produced by at least one document', () => {
    const produced = new Set(WARNING_CASES.flatMap(({ document }) => analyzePolicy(document).findings.map((finding) => finding.issueCode)));
    assert.deepEqual(WARNING_CODES.filter((code) => !produced.has(code)), []);
  });
});

const CLEAN_CASES: readonly { readonly name: string; readonly document: JsonValue }[] = [
  { name: 'an action of a service Airlock does not know (s3x:Foo)', document: one({ Action: 's3x:Foo' }) },
  { name: 'every ssm action (ssm:*)', document: one({ Action: ['ssm:*', 'ssm:Start*'] }) },
  { name: 'a global aws: key on an EC2 action', document: one({ Action: 'ec2:DescribeInstances', Condition: { StringEquals: { 'aws:username': 'alice' } } }) },
  { name: 'an ssm tag key on ssm:StartSession', document: condition('StringEquals', 'ssm:resourceTag/Environment', 'Production') },
  { name: 'ForAnyValue on the multi-valued aws:TagKeys', document: condition('ForAnyValue:StringEquals', 'aws:TagKeys', ['project', 'owner']) },
  { name: 'Deny with NotAction on every resource', document: policyOf({ Effect: 'Deny', NotAction: 'ssm:StartSession', Resource: '*' }) },
  { name: 'Allow with NotAction on named resources', document: policyOf({ Effect: 'Allow', NotAction: 'ssm:UpdateServiceSetting', Resource: 'arn:aws:ssm:*:*:document/*' }) },
  { name: 'Version 2008-10-17 without variables', document: { ...policyOf(grant()), Version: '2008-10-17' } },
  { name: 'the specials ${*}, ${?} and ${$}', document: one({ Resource: 'arn:aws:ssm:*:*:document/${*}${?}${$}' }) },
  { name: "a variable with a quoted default", document: one({ Resource: "arn:aws:ssm:*:*:session/${aws:PrincipalTag/team, 'shared'}-*" }) },
  {
    name: "AWS's quickstart policy for Session Manager",
    document: {
      Version: VERSION,
      Statement: [
        {
          Sid: 'StartOnTaggedInstances',
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: ['arn:aws:ec2:*:*:instance/*', 'arn:aws:ssm:*::document/AWS-StartSSHSession'],
          Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' }, StringLike: { 'ssm:resourceTag/Project': 'Web*' } },
        },
        { Sid: 'Describe', Effect: 'Allow', Action: ['ssm:DescribeSessions', 'ssm:GetConnectionStatus', 'ec2:DescribeInstances'], Resource: '*' },
        { Sid: 'OwnSessions', Effect: 'Allow', Action: ['ssm:TerminateSession', 'ssm:ResumeSession'], Resource: SESSION_OF_USER },
        { Sid: 'RequireMfa', Effect: 'Deny', Action: '*', Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': false }, NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '2001:db8::/32'] } } },
        { Effect: 'Deny', Action: 'ssm:StartSession', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' }, NumericGreaterThan: { 'aws:MultiFactorAuthAge': 3600 } } },
      ],
    },
  },
];

describe('a clean policy has no findings at all', () => {
  for (const { name, document } of CLEAN_CASES) {
    test(name, () => {
      const { findings, policy } = analyzePolicy(document);
      assert.deepEqual(findings, []);
      assert.ok(policy);
    });
  }

  test('the policy is named by options.name, else by its Id, else "policy"', () => {
    assert.equal(compilePolicy({ ...policyOf(grant()), Id: 'Ops' }, { name: 'Given' }).name, 'Given');
    assert.equal(compilePolicy({ ...policyOf(grant()), Id: 'Ops' }).name, 'Ops');
    assert.equal(compilePolicy(policyOf(grant())).name, 'policy');
  });
});
