import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { airlock, GUIDE_POLICY, PROD_INSTANCE, repoFile } from './helpers.js';

interface EvaluationResult {
  EvalActionName: string;
  EvalResourceName: string;
  EvalDecision: string;
  MatchedStatements: { SourcePolicyId: string; StatementIndex: number; Sid?: string }[];
  MissingContextValues: string[];
  DenyReason?: string;
}

async function simulate(...args: string[]): Promise<EvaluationResult[]> {
  const { code, stdout, stderr } = await airlock(['policy', 'simulate', '--policy-input-list', GUIDE_POLICY, ...args]);
  assert.equal(code, 0, stderr);
  return (JSON.parse(stdout) as { EvaluationResults: EvaluationResult[] }).EvaluationResults;
}

const projectTag = (value: string): string => `ContextKeyName=ssm:resourceTag/project,ContextKeyValues=${value},ContextKeyType=string`;

test('flags mode: StartSession on a Production-tagged instance is allowed by the guide policy', async () => {
  const [result] = await simulate('--action-names', 'ssm:StartSession', '--resource-arns', PROD_INSTANCE, '--context-entries', projectTag('Production'));
  assert.equal(result?.EvalDecision, 'allowed');
  assert.deepEqual(result.MatchedStatements, [{ SourcePolicyId: 'PolicyInputList.1', StatementIndex: 3 }]);
  assert.deepEqual(result.MissingContextValues, []);
});

test('flags mode: each action × resource is decided, and a denial says why', async () => {
  const results = await simulate(
    '--action-names', 'ssm:StartSession', 'ssm:UpdateServiceSetting',
    '--resource-arns', PROD_INSTANCE,
    '--context-entries', projectTag('Development'),
  );
  assert.deepEqual(results.map((result) => [result.EvalActionName, result.EvalDecision]), [
    ['ssm:StartSession', 'implicitDeny'],
    ['ssm:UpdateServiceSetting', 'explicitDeny'],
  ]);
  assert.match(results[0]?.DenyReason ?? '', /ssm:resourceTag\/project is "Development"/);
});

test('flags mode: a condition key the request lacks is listed in MissingContextValues', async () => {
  const [result] = await simulate('--action-names', 'ssm:StartSession', '--resource-arns', PROD_INSTANCE);
  assert.equal(result?.EvalDecision, 'implicitDeny');
  assert.deepEqual(result.MissingContextValues, ['ssm:resourceTag/project']);
});

test('flags mode: context entries may be JSON, and list types are multi-valued', async () => {
  const entries = JSON.stringify([{ ContextKeyName: 'ssm:resourceTag/project', ContextKeyValues: ['Development', 'Production'], ContextKeyType: 'stringList' }]);
  const [result] = await simulate('--action-names', 'ssm:StartSession', '--resource-arns', PROD_INSTANCE, '--context-entries', entries);
  assert.equal(result?.EvalDecision, 'allowed');
});

test('flags mode: bad context entries are usage errors', async () => {
  const cases: [string, RegExp][] = [
    ['ContextKeyName=a:b,ContextKeyValues=x,y,ContextKeyType=string', /has type string but 2 values; use stringList/],
    ['ContextKeyName=a:b,ContextKeyValues=x,ContextKeyType=text', /ContextKeyType text is not one of/],
    ['ContextKeyValues=x', /has no ContextKeyName/],
  ];
  for (const [entry, message] of cases) {
    const { code, stderr } = await airlock(['policy', 'simulate', '--policy-input-list', GUIDE_POLICY, '--action-names', 'ssm:StartSession', '--context-entries', entry]);
    assert.equal(code, 2, entry);
    assert.match(stderr, message);
  }
  const twice = await airlock([
    'policy', 'simulate', '--policy-input-list', GUIDE_POLICY, '--action-names', 'a:b',
    '--context-entries', 'ContextKeyName=aws:username,ContextKeyValues=a', 'ContextKeyName=AWS:UserName,ContextKeyValues=b',
  ]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /given twice; key names are case-insensitive/);
});

test('flags mode: an invalid policy is refused with its findings (exit 1)', async () => {
  const { code, stderr } = await airlock(['policy', 'simulate', '--policy-input-list', '{"Statement": {"Effect": "Allow"}}', '--action-names', 'ssm:StartSession']);
  assert.equal(code, 1);
  assert.match(stderr, /MalformedPolicyDocumentException/);
  assert.match(stderr, /MISSING_ACTION/);
});

const guideDocument = JSON.parse(readFileSync(repoFile('examples/guide/policies/production-onprem.json'), 'utf8')) as unknown;

function caseLine(id: string, resource: string, project: string | undefined, user = 'testuser01', action = 'ssm:StartSession'): string {
  const context: Record<string, string> = { 'aws:username': user };
  if (project !== undefined) context['ssm:resourceTag/project'] = project;
  return JSON.stringify({ id, policies: [guideDocument], action, resource, context });
}

interface CaseOutput {
  id: unknown;
  decision?: string;
  matched?: { policy: number; statement: number; sid?: string }[];
  reason?: string;
  error?: string;
}

test('--cases -: one output line per case, in order, with errors reported per case', async () => {
  const input = [
    caseLine('allow', PROD_INSTANCE, 'Production'),
    caseLine('deny', PROD_INSTANCE, 'Development'),
    '',
    caseLine('own', 'arn:aws:ssm:us-east-1:111122223333:session/testuser01-0123456789abcdef0', undefined, 'testuser01', 'ssm:TerminateSession'),
    JSON.stringify({ id: 'explicit', policies: [guideDocument], action: 'ssm:ResetServiceSetting', resource: '*' }),
    JSON.stringify({ id: 'bad-policy', policies: [{ Statement: { Effect: 'Permit', Action: '*', Resource: '*' } }], action: 'a:b', resource: '*' }),
    JSON.stringify({ id: 'bad-case', policies: [], resource: '*' }),
    '{"id": "broken", ',
    JSON.stringify({ id: 'multi', policies: [guideDocument], action: 'ssm:StartSession', resource: PROD_INSTANCE, context: { 'ssm:resourceTag/project': ['Development', 'Production'] } }),
  ].join('\n');
  const { code, stdout } = await airlock(['policy', 'simulate', '--cases', '-'], input);
  assert.equal(code, 0);
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as CaseOutput);
  assert.deepEqual(lines.map((line) => line.id), ['allow', 'deny', 'own', 'explicit', 'bad-policy', 'bad-case', null, 'multi']);
  assert.deepEqual(lines[0], { id: 'allow', decision: 'allowed', matched: [{ policy: 0, statement: 3 }] });
  assert.equal(lines[1]?.decision, 'implicitDeny');
  assert.match(lines[1].reason ?? '', /policies\[0\] statement 3: condition StringLike/);
  assert.deepEqual(lines[2], { id: 'own', decision: 'allowed', matched: [{ policy: 0, statement: 4 }] });
  assert.deepEqual(lines[3], { id: 'explicit', decision: 'explicitDeny', matched: [{ policy: 0, statement: 1 }] });
  assert.match(lines[4]?.error ?? '', /^policies\[0\]: Statement\.Effect: Effect must be "Allow" or "Deny"/);
  assert.match(lines[5]?.error ?? '', /action must be a string/);
  assert.match(lines[6]?.error ?? '', /^line 8: Invalid JSON/);
  assert.equal(lines[7]?.decision, 'allowed');
});

test('--cases with other request flags is a usage error', async () => {
  const { code, stderr } = await airlock(['policy', 'simulate', '--cases', '-', '--action-names', 'a:b']);
  assert.equal(code, 2);
  assert.match(stderr, /drop --action-names/);
});

test('--cases runs 100,000 cases in one process, streaming', async () => {
  const total = 100_000;
  const child = spawn(process.execPath, [repoFile('packages/cli/dist/main.js'), 'policy', 'simulate', '--cases', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const counts = new Map<string, number>();
  let buffered = '';
  let lines = 0;
  let lastId = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) {
      const out = JSON.parse(part) as CaseOutput;
      lines++;
      lastId = String(out.id);
      counts.set(out.decision ?? 'error', (counts.get(out.decision ?? 'error') ?? 0) + 1);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const projects = ['Production', 'Development', 'Staging', 'Production'];
  for (let i = 0; i < total; i++) {
    const ok = child.stdin.write(caseLine(`c${i}`, PROD_INSTANCE, projects[i % 4]) + '\n');
    if (!ok) await new Promise((resolve) => child.stdin.once('drain', resolve));
  }
  child.stdin.end();
  assert.equal(await exited, 0);
  assert.equal(lines, total);
  assert.equal(lastId, `c${total - 1}`);
  assert.deepEqual(Object.fromEntries(counts), { allowed: total / 2, implicitDeny: total / 2 });
});
