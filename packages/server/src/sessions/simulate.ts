/**
 * ssm:SimulateStartSession: the console's target picker asks, before anyone clicks, which
 * instances the caller's own policies let them start a session on, and for the others what
 * stands in the way. The same resources (target ARN and tags, document) and the same evaluation
 * as StartSession's access check; it reveals nothing a StartSession attempt would not.
 */
import { ApiError, sessions as api, type InputOf } from '@airlock/protocol';
import { decideRole } from '../access/authorizer.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import { startResources } from './session-access.js';

async function simulateStartSession(input: InputOf<typeof api.SimulateStartSession>, context: CallContext) {
  const { principal, services, sourceIp, now } = context;
  if (principal.kind === 'root') {
    return { EvaluationResults: input.Targets.map((target) => ({ EvalResourceName: target, EvalDecision: 'allowed' as const, MatchedStatements: [] })) };
  }
  if (principal.kind !== 'role') throw new ApiError('AccessDeniedException', 'ssm:SimulateStartSession needs a role session: choose an account and permission set first.');
  const facts = { sourceIp, now, secure: services.config.tls };
  const results = [];
  for (const target of input.Targets) {
    const resources = await startResources({ Target: target, ...(input.DocumentName === undefined ? {} : { DocumentName: input.DocumentName }) }, context);
    const { decision } = await decideRole(api.StartSession, principal, facts, services, resources);
    results.push({
      EvalResourceName: target,
      EvalDecision: decision.decision,
      MatchedStatements: decision.matched.map((ref) => ({ SourcePolicyId: ref.policy, ...(ref.sid === undefined ? {} : { Sid: ref.sid }) })),
      ...(decision.decision === 'implicitDeny' ? { Reason: decision.reason } : {}),
    });
  }
  return { EvaluationResults: results };
}

export const SIMULATE_OPERATIONS: readonly BoundOperation[] = [bind(api.SimulateStartSession, simulateStartSession)];
