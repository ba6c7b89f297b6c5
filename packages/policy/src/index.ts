/**
 * @airlock/policy: IAM-style identity policies for Airlock.
 *
 *   const { findings, policy } = analyzePolicy(text, { name: 'ProductionPermissionSet' });
 *   const decision = evaluate([policy], prepareRequest({ action, resource, context }));
 *
 * Pure: no I/O, no Node or DOM APIs.
 */
export { analyzePolicy, compilePolicy, InvalidPolicyError, CURRENT_VERSION, DEFAULT_MAX_POLICY_LENGTH } from './analyze.js';
export type { Analysis, AnalyzeOptions } from './analyze.js';
export { AIRLOCK_ACTIONS, buildCatalog } from './catalog.js';
export type { ActionCatalog, ActionInfo } from './catalog.js';
export { RequestContext, ContextKeyError } from './context.js';
export type { ContextEntries, ContextValue } from './context.js';
export { decide, evaluate, label, prepareRequest } from './evaluate.js';
export type { Decision, DecisionKind, Miss, PreparedRequest, RequestInput } from './evaluate.js';
export { ERROR_CODES, WARNING_CODES, hasErrors } from './findings.js';
export type { ErrorCode, Finding, FindingType, WarningCode } from './findings.js';
export { readJson } from './json.js';
export type { JsonObject, JsonValue } from './json.js';
export { BASE_OPERATORS } from './operators.js';
export { actionApplies, resourceApplies } from './statement.js';
export type { CompiledPolicy, CompiledStatement, Effect, RequestResource, StatementRef } from './statement.js';
