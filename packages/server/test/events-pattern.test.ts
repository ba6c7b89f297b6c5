/**
 * Event patterns as EventBridge reads them: fields AND, a field's values OR, nested detail, lists
 * in events, and each filter (prefix, suffix, equals-ignore-case, wildcard, anything-but,
 * numeric, exists, cidr, $or); patterns that are not valid are refused naming the field.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePattern, PatternError } from '@airlock/server/events/pattern';

const event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.sso',
  account: '111122223333',
  time: '2026-11-28T12:00:00Z',
  region: 'local',
  resources: ['arn:aws:sso:::permissionSet/ssoins-1/ps-1', 'arn:aws:sso:::instance/ssoins-1'],
  detail: {
    eventName: 'PutInlinePolicyToPermissionSet',
    errorCode: 'AccessDeniedException',
    sourceIPAddress: '10.1.2.3',
    readOnly: false,
    attempts: 3,
    ratio: 0.25,
    nothing: null,
    userIdentity: { type: 'AssumedRole', userName: 'testuser01', sessionContext: { mfaAuthenticated: true } },
    tags: ['prod', 'pci'],
    targets: [
      { id: 't1', port: 22 },
      { id: 't2', port: 443 },
    ],
  },
};

const matches = (pattern: unknown): boolean => compilePattern(JSON.stringify(pattern)).matches(event);

describe('event patterns: exact values', () => {
  test('source and detail-type: a listed value matches, another does not', () => {
    assert.equal(matches({ source: ['aws.sso'] }), true);
    assert.equal(matches({ source: ['aws.ssm'] }), false);
    assert.equal(matches({ 'detail-type': ['AWS API Call via CloudTrail'] }), true);
  });

  test('the values of a field are alternatives (OR); the fields must all match (AND)', () => {
    assert.equal(matches({ source: ['aws.ssm', 'aws.sso'] }), true);
    assert.equal(matches({ source: ['aws.sso'], 'detail-type': ['Access Denied'] }), false);
    assert.equal(matches({ source: ['aws.sso'], detail: { eventName: ['PutInlinePolicyToPermissionSet'] } }), true);
  });

  test('nested detail fields, several levels down', () => {
    assert.equal(matches({ detail: { userIdentity: { userName: ['testuser01'], sessionContext: { mfaAuthenticated: [true] } } } }), true);
    assert.equal(matches({ detail: { userIdentity: { sessionContext: { mfaAuthenticated: [false] } } } }), false);
  });

  test('numbers, booleans and null match only their own kind', () => {
    assert.equal(matches({ detail: { attempts: [3] } }), true);
    assert.equal(matches({ detail: { attempts: ['3'] } }), false);
    assert.equal(matches({ detail: { readOnly: [false] } }), true);
    assert.equal(matches({ detail: { readOnly: ['false'] } }), false);
    assert.equal(matches({ detail: { nothing: [null] } }), true);
    assert.equal(matches({ detail: { errorCode: [null] } }), false);
  });

  test('a list in the event matches when any of its items does', () => {
    assert.equal(matches({ detail: { tags: ['pci'] } }), true);
    assert.equal(matches({ detail: { tags: ['dev'] } }), false);
    assert.equal(matches({ resources: [{ prefix: 'arn:aws:sso:::permissionSet/' }] }), true);
  });

  test('a list of objects matches when one of them matches the nested pattern', () => {
    assert.equal(matches({ detail: { targets: { id: ['t2'], port: [443] } } }), true);
    assert.equal(matches({ detail: { targets: { port: [{ numeric: ['<', 100] }] } } }), true);
    assert.equal(matches({ detail: { targets: { id: ['t1'], port: [443] } } }), false);
  });

  test('a field the event does not have does not match a value', () => {
    assert.equal(matches({ detail: { missing: ['x'] } }), false);
    assert.equal(matches({ nope: { deeper: ['x'] } }), false);
  });
});

describe('event patterns: filters', () => {
  test('prefix, also ignoring case', () => {
    assert.equal(matches({ detail: { eventName: [{ prefix: 'Put' }] } }), true);
    assert.equal(matches({ detail: { eventName: [{ prefix: 'put' }] } }), false);
    assert.equal(matches({ detail: { eventName: [{ prefix: { 'equals-ignore-case': 'put' } }] } }), true);
    assert.equal(matches({ detail: { attempts: [{ prefix: '3' }] } }), false, 'prefix matches strings only');
  });

  test('suffix, equals-ignore-case and wildcard', () => {
    assert.equal(matches({ detail: { eventName: [{ suffix: 'PermissionSet' }] } }), true);
    assert.equal(matches({ detail: { eventName: [{ 'equals-ignore-case': 'putinlinepolicytopermissionset' }] } }), true);
    assert.equal(matches({ detail: { eventName: [{ wildcard: 'Put*To*Set' }] } }), true);
    assert.equal(matches({ detail: { eventName: [{ wildcard: 'Delete*' }] } }), false);
  });

  test('anything-but: a value, a list, a prefix; a missing field is not "anything"', () => {
    assert.equal(matches({ source: [{ 'anything-but': 'aws.ssm' }] }), true);
    assert.equal(matches({ source: [{ 'anything-but': 'aws.sso' }] }), false);
    assert.equal(matches({ source: [{ 'anything-but': ['aws.ssm', 'aws.sso'] }] }), false);
    assert.equal(matches({ detail: { attempts: [{ 'anything-but': [1, 2] }] } }), true);
    assert.equal(matches({ detail: { eventName: [{ 'anything-but': { prefix: 'Get' } }] } }), true);
    assert.equal(matches({ detail: { eventName: [{ 'anything-but': { prefix: 'Put' } }] } }), false);
    assert.equal(matches({ detail: { missing: [{ 'anything-but': 'x' }] } }), false);
  });

  test('numeric: comparisons and ranges, on numbers only', () => {
    assert.equal(matches({ detail: { attempts: [{ numeric: ['>', 0, '<=', 3] }] } }), true);
    assert.equal(matches({ detail: { attempts: [{ numeric: ['>', 3] }] } }), false);
    assert.equal(matches({ detail: { attempts: [{ numeric: ['=', 3] }] } }), true);
    assert.equal(matches({ detail: { ratio: [{ numeric: ['>=', 0.25, '<', 0.5] }] } }), true);
    assert.equal(matches({ detail: { eventName: [{ numeric: ['>', 0] }] } }), false);
  });

  test('exists: true for a present value (null too), false for a missing one; objects are not values', () => {
    assert.equal(matches({ detail: { errorCode: [{ exists: true }] } }), true);
    assert.equal(matches({ detail: { nothing: [{ exists: true }] } }), true);
    assert.equal(matches({ detail: { errorMessage: [{ exists: false }] } }), true);
    assert.equal(matches({ detail: { errorCode: [{ exists: false }] } }), false);
    assert.equal(matches({ detail: { errorMessage: [{ exists: true }] } }), false);
    assert.equal(matches({ detail: { userIdentity: [{ exists: true }] } }), false);
  });

  test('cidr: IPv4 and IPv6 blocks', () => {
    assert.equal(matches({ detail: { sourceIPAddress: [{ cidr: '10.0.0.0/8' }] } }), true);
    assert.equal(matches({ detail: { sourceIPAddress: [{ cidr: '10.1.3.0/24' }] } }), false);
    assert.equal(compilePattern('{"ip":[{"cidr":"2001:db8::/32"}]}').matches({ ip: '2001:db8::1' }), true);
  });

  test('$or: alternatives at one level', () => {
    assert.equal(matches({ source: ['aws.sso'], $or: [{ detail: { errorCode: ['ThrottlingException'] } }, { detail: { attempts: [{ numeric: ['>=', 3] }] } }] }), true);
    assert.equal(matches({ $or: [{ source: ['aws.ssm'] }, { 'detail-type': ['Access Denied'] }] }), false);
  });

  test('exact values and filters mix in one list', () => {
    assert.equal(matches({ detail: { eventName: ['CreatePermissionSet', { prefix: 'PutInline' }] } }), true);
  });
});

describe('event patterns that are not valid', () => {
  const refused = (text: string, message: RegExp): void => {
    assert.throws(
      () => compilePattern(text),
      (error: unknown) => error instanceof PatternError && message.test(error.message),
    );
  };

  test('not JSON, not an object, empty objects and lists', () => {
    refused('{"source": ', /not valid JSON/);
    refused('["aws.sso"]', /must be a JSON object/);
    refused('{}', /empty objects/);
    refused('{"detail": {}}', /at detail: empty objects/);
    refused('{"source": []}', /at source: empty lists/);
  });

  test('a bare value instead of a list names the field and shows the fix', () => {
    refused('{"detail": {"eventName": "CreateUser"}}', /at detail\.eventName: .*\{"eventName":\["CreateUser"\]\}/);
  });

  test('unknown filters and malformed operands', () => {
    refused('{"source": [{"startsWith": "aws."}]}', /startsWith is not a filter/);
    refused('{"source": [{"prefix": "aws.", "suffix": "sso"}]}', /exactly one key/);
    refused('{"source": [{"prefix": 1}]}', /prefix takes a string/);
    refused('{"n": [{"numeric": [">", "1"]}]}', /numeric takes/);
    refused('{"n": [{"numeric": ["<", 1, ">", 0]}]}', /numeric takes/);
    refused('{"n": [{"numeric": [">", 5, "<", 1]}]}', /low bound is above/);
    refused('{"n": [{"exists": "yes"}]}', /exists takes true or false/);
    refused('{"ip": [{"cidr": "10.0.0.0/33"}]}', /cidr takes/);
    refused('{"x": [{"anything-but": []}]}', /non-empty list/);
    refused('{"x": [{"wildcard": "a**b"}]}', /consecutive stars/);
    refused('{"$or": [{"source": ["a"]}]}', /at least two/);
  });
});
