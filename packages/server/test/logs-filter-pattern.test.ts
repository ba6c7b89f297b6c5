/** CloudWatch Logs' filter patterns for unstructured events: terms, phrases, exclusions, alternatives. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '@airlock/protocol';
import { matchesFilter, parseFilterPattern } from '@airlock/server/logs/filter-pattern';

const matches = (pattern: string, message: string): boolean => matchesFilter(parseFilterPattern(pattern), message);

test('terms must all appear, anywhere, case-sensitively; an empty pattern takes everything', () => {
  assert.ok(matches('ERROR', '[ERROR] disk full'));
  assert.ok(matches('ERROR Exception', 'ERROR: NullPointerException at Main'));
  assert.ok(!matches('ERROR Exception', 'ERROR: disk full'));
  assert.ok(!matches('error', '[ERROR] disk full'));
  assert.ok(matches('', 'anything'));
  assert.ok(matches('   ', 'anything'));
  assert.ok(matches('user=alice', 'login user=alice ok'));
});

test('a quoted phrase matches as written, spaces included, with \\" and \\\\ inside', () => {
  assert.ok(matches('"Failed to connect"', 'ssh: Failed to connect to host'));
  assert.ok(!matches('"Failed to connect"', 'Failed: to connect'));
  assert.ok(matches('"say \\"hi\\""', 'they say "hi" back'));
  assert.ok(matches('"C:\\\\temp"', 'wrote C:\\temp'));
  assert.deepEqual(parseFilterPattern('ERROR "a b" -c ?d ?"e f"'), { required: ['ERROR', 'a b'], excluded: ['c'], optional: ['d', 'e f'] });
});

test('-terms exclude; ?terms are alternatives of which one must appear, beside the plain terms', () => {
  assert.ok(matches('ERROR -timeout', 'ERROR disk full'));
  assert.ok(!matches('ERROR -timeout', 'ERROR timeout talking to db'));
  assert.ok(!matches('-"rm -rf"', 'sudo rm -rf /tmp/x'));
  assert.ok(matches('?WARN ?FATAL', 'FATAL: out of memory'));
  assert.ok(matches('?WARN ?FATAL', 'WARN: slow'));
  assert.ok(!matches('?WARN ?FATAL', 'INFO: fine'));
  assert.ok(matches('db ?WARN ?FATAL', 'db WARN slow'));
  assert.ok(!matches('db ?WARN ?FATAL', 'api WARN slow'));
  assert.ok(!matches('db ?WARN ?FATAL -slow', 'db WARN slow'));
});

test('patterns Airlock does not take, and malformed ones, are InvalidParameterException', () => {
  for (const pattern of ['{ $.level = "ERROR" }', '[ip, user, status]', '%ERR[0-9]%', '"unclosed', '"a"b', 'ERROR -', '? x', 'say"hi"']) {
    assert.throws(
      () => parseFilterPattern(pattern),
      (error: unknown) => error instanceof ApiError && error.code === 'InvalidParameterException',
      pattern,
    );
  }
});
