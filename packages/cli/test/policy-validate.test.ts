import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, GUIDE_POLICY } from './helpers.js';

interface Finding {
  findingType: string;
  issueCode: string;
  path: string;
}

const findingsOf = (stdout: string): Finding[] => (JSON.parse(stdout) as { findings: Finding[] }).findings;

test("the guide's policy validates with only the StringLike warning (exit 0)", async () => {
  const { code, stdout } = await airlock(['policy', 'validate', '--policy-document', GUIDE_POLICY]);
  assert.equal(code, 0);
  assert.deepEqual(
    findingsOf(stdout).map((finding) => [finding.findingType, finding.issueCode]),
    [['WARNING', 'LIKE_WITHOUT_WILDCARD']],
  );
});

test('an invalid policy prints its ERROR findings and exits 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "ssm:StartSession"}}');
  const { code, stdout } = await airlock(['policy', 'validate', '--policy-document', `file://${file}`]);
  assert.equal(code, 1);
  const codes = findingsOf(stdout).map((finding) => `${finding.issueCode}@${finding.path}`);
  assert.deepEqual(codes.sort(), ['INVALID_EFFECT@Statement.Effect', 'MISSING_RESOURCE@Statement.Resource']);
});

test('an inline JSON document is read as the policy itself', async () => {
  const { code, stdout } = await airlock(['policy', 'validate', '--policy-document', '{"Statement": []}']);
  assert.equal(code, 1);
  assert.ok(findingsOf(stdout).some((finding) => finding.issueCode === 'MISSING_STATEMENT'));
});

test('a file that does not exist is a usage error naming the path', async () => {
  const { code, stderr } = await airlock(['policy', 'validate', '--policy-document', 'file:///nonexistent/p.json']);
  assert.equal(code, 2);
  assert.match(stderr, /Cannot read \/nonexistent\/p\.json: no such file/);
});

test('--policy-document is required', async () => {
  const { code, stderr } = await airlock(['policy', 'validate']);
  assert.equal(code, 2);
  assert.match(stderr, /--policy-document is required/);
});
