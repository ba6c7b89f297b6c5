/**
 * The instances a session may be started on, each with the caller's own policies' verdict
 * (ssm:SimulateStartSession): the target picker enables the allowed ones and says, for the
 * others, what stands in the way.
 */
import { inventory, sessions, type OutputOf } from '@airlock/protocol';
import { call } from '../../app/api';

export type InstanceProperty = OutputOf<typeof inventory.DescribeInstanceProperties>['InstanceProperties'][number];
type Evaluation = OutputOf<typeof sessions.SimulateStartSession>['EvaluationResults'][number];

export interface Target {
  readonly instance: InstanceProperty;
  readonly allowed: boolean;
  /** Why not, in the words of the policy evaluation; also when the instance is offline. */
  readonly reason?: string;
}

const SIMULATE_BATCH = 50;

export async function allInstances(): Promise<InstanceProperty[]> {
  const found: InstanceProperty[] = [];
  let next: string | undefined;
  do {
    const page = await call(inventory.DescribeInstanceProperties, { MaxResults: 50, ...(next === undefined ? {} : { NextToken: next }) });
    found.push(...page.InstanceProperties);
    next = page.NextToken;
  } while (next !== undefined);
  return found;
}

function explain(evaluation: Evaluation | undefined): string {
  if (evaluation === undefined) return 'Airlock could not decide.';
  if (evaluation.EvalDecision === 'explicitDeny') {
    const statements = evaluation.MatchedStatements.map((statement) => `${statement.SourcePolicyId}${statement.Sid === undefined ? '' : ` (${statement.Sid})`}`).join(', ');
    return `A Deny statement forbids it: ${statements}.`;
  }
  return evaluation.Reason ?? 'No policy of your permission set allows ssm:StartSession on it.';
}

export async function sessionTargets(): Promise<Target[]> {
  const instances = await allInstances();
  const verdicts = new Map<string, Evaluation>();
  for (let at = 0; at < instances.length; at += SIMULATE_BATCH) {
    const ids = instances.slice(at, at + SIMULATE_BATCH).map((instance) => instance.InstanceId);
    const { EvaluationResults } = await call(sessions.SimulateStartSession, { Targets: ids });
    for (const result of EvaluationResults) verdicts.set(result.EvalResourceName, result);
  }
  return instances.map((instance) => {
    const verdict = verdicts.get(instance.InstanceId);
    if (verdict?.EvalDecision !== 'allowed') return { instance, allowed: false, reason: explain(verdict) };
    if (instance.PingStatus !== 'Online') return { instance, allowed: false, reason: `Its agent is ${instance.PingStatus}: a session needs it Online.` };
    return { instance, allowed: true };
  });
}
