/**
 * The decision: an explicit Deny in any policy wins; otherwise an Allow that covers every
 * resource of the request allows; otherwise the request is implicitly denied. The order of
 * statements and policies never matters.
 */
import { splitArn } from './arn.js';
import { explainFailure } from './conditions.js';
import { RequestContext, type ContextEntries } from './context.js';
import {
  actionApplies,
  failedCondition,
  resourceApplies,
  type CompiledPolicy,
  type CompiledStatement,
  type RequestResource,
  type StatementRef,
} from './statement.js';

export type DecisionKind = 'allowed' | 'explicitDeny' | 'implicitDeny';

/** Why an Allow statement that names the action did not allow the request. */
export interface Miss {
  readonly statement: StatementRef;
  readonly resource: string;
  readonly failed: 'resource' | 'condition';
  readonly detail: string;
}

export type Decision =
  | { readonly decision: 'allowed' | 'explicitDeny'; readonly matched: readonly StatementRef[] }
  | {
      readonly decision: 'implicitDeny';
      readonly matched: readonly StatementRef[];
      /** A sentence for the person who was denied. */
      readonly reason: string;
      readonly misses: readonly Miss[];
    };

export interface RequestInput {
  /** `service:Operation`; compared without case. */
  readonly action: string;
  /** One ARN, or several when the operation acts on several (StartSession: target and document). */
  readonly resource: string | readonly string[];
  readonly context?: ContextEntries | RequestContext;
}

/** A request read once, so that evaluating it against many policies repeats no work. */
export interface PreparedRequest {
  readonly action: string;
  readonly actionName: string;
  readonly resources: readonly RequestResource[];
  readonly context: RequestContext;
}

export function prepareRequest(input: RequestInput): PreparedRequest {
  const arns = typeof input.resource === 'string' ? [input.resource] : input.resource;
  if (arns.length === 0) throw new TypeError('A request names at least one resource ("*" when the action has none).');
  const context = input.context instanceof RequestContext ? input.context : new RequestContext(input.context);
  return {
    action: input.action.toLowerCase(),
    actionName: input.action,
    resources: arns.map((arn) => ({ arn, segments: splitArn(arn) })),
    context,
  };
}

/**
 * Per policy, the statements whose Action/NotAction covers an action. Actions hold no variables,
 * so this depends on the action alone, and a server sees a bounded set of actions.
 */
const statementsByAction = new WeakMap<CompiledPolicy, Map<string, readonly CompiledStatement[]>>();
const MAX_ACTIONS_PER_POLICY = 4096;

function statementsFor(policy: CompiledPolicy, action: string, context: RequestContext): readonly CompiledStatement[] {
  let byAction = statementsByAction.get(policy);
  if (byAction === undefined) statementsByAction.set(policy, (byAction = new Map<string, readonly CompiledStatement[]>()));
  let statements = byAction.get(action);
  if (statements === undefined) {
    statements = policy.statements.filter((statement) => actionApplies(statement, action, context));
    if (byAction.size >= MAX_ACTIONS_PER_POLICY) byAction.clear();
    byAction.set(action, statements);
  }
  return statements;
}

export function evaluate(policies: readonly CompiledPolicy[], request: PreparedRequest): Decision {
  const { action, resources, context } = request;
  const denies: StatementRef[] = [];
  const allows: StatementRef[] = [];
  let unallowed: RequestResource | undefined;
  for (const resource of resources) {
    let allowed = false;
    for (const policy of policies) {
      for (const statement of statementsFor(policy, action, context)) {
        if (!resourceApplies(statement, resource, context) || failedCondition(statement, context) !== undefined) continue;
        if (statement.effect === 'Deny') pushOnce(denies, statement.ref);
        else {
          allowed = true;
          pushOnce(allows, statement.ref);
        }
      }
    }
    if (!allowed) unallowed ??= resource;
  }
  if (denies.length > 0) return { decision: 'explicitDeny', matched: denies };
  if (unallowed === undefined) return { decision: 'allowed', matched: allows };
  return explainImplicitDeny(policies, request, unallowed);
}

/** Convenience for one-off checks; prefer prepareRequest + evaluate in loops. */
export function decide(policies: readonly CompiledPolicy[], input: RequestInput): Decision {
  return evaluate(policies, prepareRequest(input));
}

function pushOnce(list: StatementRef[], ref: StatementRef): void {
  if (!list.includes(ref)) list.push(ref);
}

/** Runs only on implicit denies, so the fast path carries no bookkeeping. */
function explainImplicitDeny(policies: readonly CompiledPolicy[], request: PreparedRequest, resource: RequestResource): Decision {
  const { action, actionName, context } = request;
  const misses: Miss[] = [];
  for (const policy of policies) {
    for (const statement of policy.statements) {
      if (statement.effect !== 'Allow' || !actionApplies(statement, action, context)) continue;
      if (!resourceApplies(statement, resource, context)) {
        const listed = statement.resources.map((pattern) => pattern.source).join(', ');
        const element = statement.notResource ? 'NotResource' : 'Resource';
        misses.push({ statement: statement.ref, resource: resource.arn, failed: 'resource', detail: `${resource.arn} does not fit ${element} [${listed}]` });
        continue;
      }
      const condition = failedCondition(statement, context);
      if (condition !== undefined) {
        misses.push({ statement: statement.ref, resource: resource.arn, failed: 'condition', detail: explainFailure(condition, context) });
      }
    }
  }
  const where = `${actionName} on ${resource.arn}`;
  let reason: string;
  if (policies.length === 0) reason = `No policy applies to this principal, so ${where} is denied by default.`;
  else if (misses.length === 0) reason = `No statement in the ${policies.length === 1 ? 'policy' : `${policies.length} policies`} allows ${actionName}.`;
  else {
    const parts = misses.map((miss) => `${label(miss.statement)}: ${miss.detail}`);
    reason = `No statement allows ${where}. ${parts.join('; ')}.`;
  }
  return { decision: 'implicitDeny', matched: [], reason, misses };
}

export function label(ref: StatementRef): string {
  const name = ref.sid === undefined ? `statement ${ref.statement}` : `statement ${ref.statement} (${ref.sid})`;
  return `${ref.policy} ${name}`;
}
