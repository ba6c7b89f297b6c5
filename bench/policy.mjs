#!/usr/bin/env node
// npm run bench:policy — decisions per second and latency percentiles of the policy engine on
// one core (one Node thread), for the guide's policy and for a 100-statement policy with
// conditions. Target (issue 2): ≥ 1,000,000 decisions/s and p99 ≤ 10 µs for the guide's policy.
import { readFileSync } from 'node:fs';
import { compilePolicy, evaluate, prepareRequest } from '@airlock/policy';

const guideText = readFileSync(new URL('../examples/guide/policies/production-onprem.json', import.meta.url), 'utf8');
const guide = compilePolicy(guideText, { name: 'ProductionPermissionSet' });
const account = '111122223333';
const instance = (id) => `arn:aws:ec2:us-east-1:${account}:instance/i-${id}`;

const guideRequests = [
  { action: 'ssm:StartSession', resource: instance('0a1b2c3d4e5f60718'), context: { 'aws:username': 'testuser01', 'ssm:resourceTag/project': 'Production' } },
  { action: 'ssm:StartSession', resource: instance('0f1e2d3c4b5a69788'), context: { 'aws:username': 'testuser01', 'ssm:resourceTag/project': 'Development' } },
  { action: 'ssm:TerminateSession', resource: `arn:aws:ssm:us-east-1:${account}:session/testuser01-0123456789abcdef0`, context: { 'aws:username': 'testuser01' } },
  { action: 'ssm:DescribeSessions', resource: '*', context: { 'aws:username': 'testuser01' } },
  { action: 'ssm:UpdateServiceSetting', resource: '*', context: { 'aws:username': 'testuser01' } },
];

// 100 statements, each with conditions from several operator families; the request is allowed
// only by the last one, so every statement is examined.
const statements = Array.from({ length: 100 }, (_, i) => ({
  Sid: `S${i}`,
  Effect: 'Allow',
  Action: i % 3 === 0 ? ['ssm:StartSession', 'ssm:ResumeSession'] : ['ssm:Start*'],
  Resource: [`arn:aws:ec2:*:*:instance/*`, `arn:aws:ssm:*:*:managed-instance/*`],
  Condition: {
    StringEquals: { 'ssm:resourceTag/project': `project-${i}`, 'aws:PrincipalTag/team': ['ops', 'sre', `team-${i}`] },
    StringLike: { 'ssm:resourceTag/Name': [`web-${i}-*`, `db-${i}-??`] },
    IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] },
    DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' },
    BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' },
  },
}));
const large = compilePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), { name: 'Large', maxLength: 100_000 });
const largeRequests = [
  {
    action: 'ssm:StartSession',
    resource: instance('0a1b2c3d4e5f60718'),
    context: {
      'aws:username': 'alice',
      'aws:PrincipalTag/team': 'team-99',
      'ssm:resourceTag/project': 'project-99',
      'ssm:resourceTag/Name': 'web-99-frontend',
      'aws:SourceIp': '10.1.2.3',
      'aws:CurrentTime': '2026-11-28T04:00:00Z',
      'aws:MultiFactorAuthPresent': 'true',
    },
  },
];

function measure(name, policies, inputs) {
  const prepared = inputs.map(prepareRequest);
  // Warm up so that the JIT has settled before timing.
  for (let i = 0; i < 200_000; i++) evaluate(policies, prepared[i % prepared.length]);

  const rounds = 2_000_000;
  let start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) evaluate(policies, prepared[i % prepared.length]);
  const evalSeconds = Number(process.hrtime.bigint() - start) / 1e9;

  const endToEndRounds = 500_000;
  start = process.hrtime.bigint();
  for (let i = 0; i < endToEndRounds; i++) evaluate(policies, prepareRequest(inputs[i % inputs.length]));
  const endToEndSeconds = Number(process.hrtime.bigint() - start) / 1e9;

  const samples = 200_000;
  const latencies = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const request = prepared[i % prepared.length];
    const t0 = process.hrtime.bigint();
    evaluate(policies, request);
    latencies[i] = Number(process.hrtime.bigint() - t0);
  }
  latencies.sort();
  const pct = (p) => (latencies[Math.min(samples - 1, Math.floor((p / 100) * samples))] / 1000).toFixed(2);
  return {
    policy: name,
    'decisions/s': Math.round(rounds / evalSeconds).toLocaleString('en-US'),
    'with prepareRequest/s': Math.round(endToEndRounds / endToEndSeconds).toLocaleString('en-US'),
    'p50 µs': pct(50),
    'p99 µs': pct(99),
    'p99.9 µs': pct(99.9),
  };
}

console.log(`Node ${process.version}, one thread. Latency includes ~0.05 µs of timer overhead.`);
console.table([measure("guide's ProductionPermissionSet (5 request kinds)", [guide], guideRequests), measure('100 statements with conditions (worst case)', [large], largeRequests)]);
