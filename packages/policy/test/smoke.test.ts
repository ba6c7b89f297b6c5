import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePolicy } from '@airlock/policy';

test('a minimal policy compiles', () => {
  const { findings, policy } = analyzePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}');
  assert.deepEqual(findings, []);
  assert.ok(policy);
});
