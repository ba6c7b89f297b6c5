/**
 * Batch simulation: JSON Lines in, one decision a line out, in order.
 *
 *   in:  {"id": "c1", "policies": [{…}], "action": "ssm:StartSession", "resource": "arn:…", "context": {…}}
 *   out: {"id": "c1", "decision": "allowed", "matched": [{"policy": 0, "statement": 1}]}
 *        {"id": "c2", "error": "policies[0]: Statement[0].Effect: …"}
 *
 * Cases often share their policies, so compiled policies are cached by their text.
 */
import {
  analyzePolicy,
  ContextKeyError,
  evaluate,
  prepareRequest,
  readJson,
  type CompiledPolicy,
  type ContextValue,
  type Decision,
  type JsonValue,
  type StatementRef,
} from '@airlock/policy';

const CACHE_LIMIT = 10_000;

export interface CaseResult {
  readonly id: JsonValue;
  readonly decision?: Decision['decision'];
  readonly matched?: readonly { policy: number; statement: number; sid?: string }[];
  readonly reason?: string;
  readonly error?: string;
}

class CaseError extends Error {}

export class CaseSimulator {
  private readonly compiled = new Map<string, CompiledPolicy | string>();

  /** Decides one line; `lineNumber` names the line in errors when the id cannot be read. */
  run(line: string, lineNumber: number): CaseResult {
    const read = readJson(line);
    if (!read.ok) return { id: null, error: `line ${lineNumber}: ${read.message}` };
    const value = read.value;
    const id = isRecord(value) && value['id'] !== undefined ? value['id'] : null;
    try {
      if (!isRecord(value)) throw new CaseError('a case is a JSON object with id, policies, action and resource');
      if (read.duplicates.length > 0) {
        const first = read.duplicates[0];
        throw new CaseError(`the key "${first?.key ?? ''}" appears twice in one object`);
      }
      return { id, ...this.decide(value) };
    } catch (error) {
      if (error instanceof CaseError || error instanceof ContextKeyError) return { id, error: error.message };
      throw error;
    }
  }

  private decide(value: Readonly<Record<string, JsonValue>>): Omit<CaseResult, 'id'> {
    const policies = this.policies(value['policies']);
    const action = value['action'];
    if (typeof action !== 'string' || action === '') throw new CaseError('action must be a string such as "ssm:StartSession"');
    const resource = stringOrList(value['resource'], 'resource');
    const context = contextOf(value['context']);
    const decision = evaluate(policies, prepareRequest({ action, resource, context }));
    const positions = new Map(policies.map((policy, index) => [policy.name, index]));
    const matched = decision.matched.map((ref) => refOut(ref, positions.get(ref.policy) ?? -1));
    return decision.decision === 'implicitDeny' ? { decision: decision.decision, matched, reason: decision.reason } : { decision: decision.decision, matched };
  }

  private policies(value: JsonValue | undefined): CompiledPolicy[] {
    if (!Array.isArray(value)) throw new CaseError('policies must be a list of policy documents');
    return value.map((document, index) => {
      const text = typeof document === 'string' ? document : JSON.stringify(document);
      const key = `${index}\u0000${text}`;
      let compiled = this.compiled.get(key);
      if (compiled === undefined) {
        const { findings, policy } = analyzePolicy(document, { name: `policies[${index}]` });
        const errors = findings.filter((finding) => finding.findingType === 'ERROR');
        compiled = policy ?? errors.map((finding) => `${finding.path === '' ? '' : `${finding.path}: `}${finding.findingDetails}`).join(' ');
        if (this.compiled.size >= CACHE_LIMIT) this.compiled.clear();
        this.compiled.set(key, compiled);
      }
      if (typeof compiled === 'string') throw new CaseError(`policies[${index}]: ${compiled}`);
      return compiled;
    });
  }
}

function isRecord(value: JsonValue | undefined): value is Readonly<Record<string, JsonValue>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrList(value: JsonValue | undefined, name: string): string | string[] {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) return value;
  throw new CaseError(`${name} must be an ARN or a non-empty list of ARNs ("*" for actions without a resource)`);
}

function contextOf(value: JsonValue | undefined): Record<string, ContextValue> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new CaseError('context must be an object of condition keys');
  const context: Record<string, ContextValue> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string' || typeof entry === 'number' || typeof entry === 'boolean') context[key] = entry;
    else if (Array.isArray(entry) && entry.every((item) => typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean')) {
      context[key] = entry;
    } else throw new CaseError(`context key ${key} must be a string (single-valued) or a list of strings (multi-valued)`);
  }
  return context;
}

function refOut(ref: StatementRef, policy: number): { policy: number; statement: number; sid?: string } {
  const out = { policy, statement: ref.statement };
  return ref.sid === undefined ? out : { ...out, sid: ref.sid };
}
