/**
 * Authorization of a role session's call: the permission set's inline and managed policies,
 * evaluated by @airlock/policy against the action, the resources and the request context
 * (who, from where, when, with or without MFA). Policies are read at every call, so an edit
 * applies to the next one; compiled forms are cached by their text.
 */
import { analyzePolicy, evaluate, label, prepareRequest, type CompiledPolicy, type ContextEntries, type Decision, type StatementRef } from '@airlock/policy';
import { actionOf, ApiError, type AnyOperation } from '@airlock/protocol';
import { assumedRoleArn, roleArn, type RolePrincipal } from '../identity/principal.js';
import type { ResourceRef } from '../registry/handler.js';
import type { Services } from '../services.js';
import { GenerationCache } from './cache.js';
import { managedPolicy } from './managed-policies.js';
import { roleUniqueId } from './role-sessions.js';

export interface RequestFacts {
  readonly sourceIp: string;
  readonly now: number;
  readonly secure: boolean;
}

const CACHE_LIMIT = 1000;
const compiledInline = new Map<string, CompiledPolicy>();

function compileInline(name: string, text: string): CompiledPolicy | undefined {
  const key = `${name}\u0000${text}`;
  let policy = compiledInline.get(key);
  if (policy === undefined) {
    // Stored policies were validated when put; a document that no longer compiles grants nothing.
    policy = analyzePolicy(text, { name: `${name} inline policy` }).policy;
    if (policy === undefined) return undefined;
    if (compiledInline.size >= CACHE_LIMIT) compiledInline.clear();
    compiledInline.set(key, policy);
  }
  return policy;
}

const policyCaches = new WeakMap<Services, GenerationCache<CompiledPolicy[]>>();

/** The permission set's policies, from the cache when nothing has changed since. */
function cachedPolicies(services: Services, permissionSetId: string, now: number): Promise<CompiledPolicy[]> {
  let cache = policyCaches.get(services);
  if (cache === undefined) policyCaches.set(services, (cache = new GenerationCache(services.changes)));
  return cache.get(permissionSetId, now, () => effectivePolicies(services, permissionSetId));
}

export async function effectivePolicies(services: Services, permissionSetId: string): Promise<CompiledPolicy[]> {
  const [set, managed] = await Promise.all([
    services.db.selectFrom('permission_sets').select(['name', 'inline_policy']).where('ps_id', '=', permissionSetId).executeTakeFirst(),
    services.db.selectFrom('permission_set_managed_policies').select('policy_arn').where('ps_id', '=', permissionSetId).execute(),
  ]);
  if (set === undefined) return [];
  const policies = managed.map((row) => managedPolicy(row.policy_arn)).filter((policy): policy is CompiledPolicy => policy !== undefined);
  const inline = set.inline_policy === null ? undefined : compileInline(set.name, set.inline_policy);
  return inline === undefined ? policies : [inline, ...policies];
}

/** The global condition keys of a role session's request. */
export function requestContext(principal: RolePrincipal, facts: RequestFacts, services: Services): Record<string, string> {
  const context: Record<string, string> = {
    'aws:username': principal.userName,
    'aws:userid': `${roleUniqueId(principal.roleName)}:${principal.userName}`,
    'aws:PrincipalArn': roleArn(principal),
    'aws:PrincipalAccount': principal.accountId,
    'aws:PrincipalType': 'AssumedRole',
    'aws:MultiFactorAuthPresent': String(principal.mfaAt !== null),
    'aws:SourceIp': facts.sourceIp,
    'aws:CurrentTime': new Date(facts.now).toISOString(),
    'aws:EpochTime': String(Math.floor(facts.now / 1000)),
    'aws:SecureTransport': String(facts.secure),
    'aws:RequestedRegion': services.config.region,
  };
  if (principal.mfaAt !== null) context['aws:MultiFactorAuthAge'] = String(Math.floor((facts.now - principal.mfaAt) / 1000));
  for (const [key, value] of Object.entries(principal.tags)) context[`aws:PrincipalTag/${key}`] = value;
  return context;
}

/**
 * The condition keys of a resource's tags: `aws:ResourceTag/K` and the service's own
 * (`ssm:resourceTag/K`). Tag keys are case-sensitive but condition keys are not: of keys that
 * differ only in case (`Env`, `env`), the first in code-point order speaks for them.
 */
export function resourceTagContext(service: string, tags: Readonly<Record<string, string>> = {}): Record<string, string> {
  const context: Record<string, string> = {};
  const seen = new Set<string>();
  for (const key of Object.keys(tags).sort()) {
    const folded = key.toLowerCase();
    if (seen.has(folded)) continue;
    seen.add(folded);
    const value = tags[key] ?? '';
    context[`aws:ResourceTag/${key}`] = value;
    context[`${service}:resourceTag/${key}`] = value;
  }
  return context;
}

/**
 * The policies' decision on a call, resource by resource (each with its own tags in the
 * context, as AWS does): the first that is not allowed, or allowed with every matched statement.
 */
export async function decideRole(
  spec: AnyOperation,
  principal: RolePrincipal,
  facts: RequestFacts,
  services: Services,
  resources: readonly ResourceRef[] = [{ arn: '*' }],
  extraContext: ContextEntries = {},
): Promise<{ readonly resource: string; readonly decision: Decision }> {
  const action = actionOf(spec);
  const policies = await cachedPolicies(services, principal.permissionSetId, facts.now);
  const base = { ...requestContext(principal, facts, services), ...extraContext };
  const matched: StatementRef[] = [];
  for (const resource of resources) {
    const context = resource.tags === undefined && resource.context === undefined ? base : { ...base, ...resourceTagContext(spec.service, resource.tags), ...resource.context };
    const decision = evaluate(policies, prepareRequest({ action, resource: resource.arn, context }));
    if (decision.decision !== 'allowed') return { resource: resource.arn, decision };
    matched.push(...decision.matched);
  }
  return { resource: resources[0]?.arn ?? '*', decision: { decision: 'allowed', matched } };
}

/** Throws AccessDeniedException, worded as AWS words it, unless the policies allow the call on every resource. */
export async function authorizeRole(
  spec: AnyOperation,
  principal: RolePrincipal,
  facts: RequestFacts,
  services: Services,
  resources: readonly ResourceRef[] = [{ arn: '*' }],
  extraContext: ContextEntries = {},
): Promise<void> {
  const { resource, decision } = await decideRole(spec, principal, facts, services, resources, extraContext);
  if (decision.decision === 'allowed') return;
  const action = actionOf(spec);
  // AWS's wording, then what decided: the Deny statements, or the Allow statements that named the
  // action but whose resource or condition did not fit (a tag, the time, MFA…).
  const because =
    decision.decision === 'explicitDeny'
      ? `with an explicit deny in an identity-based policy: ${decision.matched.map(label).join('; ')}`
      : `because no identity-based policy allows the ${action} action${'misses' in decision && decision.misses.length > 0 ? `. ${decision.reason}` : ''}`;
  throw new ApiError('AccessDeniedException', `User: ${assumedRoleArn(principal)} is not authorized to perform: ${action} on resource: ${resource} ${because}`);
}
