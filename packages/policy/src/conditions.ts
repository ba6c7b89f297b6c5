/**
 * One condition: an operator, a key and the policy values, evaluated by IAM's rules.
 * - several values of one key: any may match (for negated operators: none may match);
 * - a key the request lacks: false, except negated operators and `…IfExists`, which hold;
 * - `ForAnyValue:` needs some request value to pass (absent or empty: false);
 * - `ForAllValues:` needs every request value to pass (absent or empty: true);
 * - a plain operator on a multi-valued key passes when any request value does.
 */
import type { RequestContext } from './context.js';
import type { ConditionOperator, ValueMatcher } from './operators.js';

export interface CompiledCondition {
  readonly operator: ConditionOperator;
  /** The key as written, for messages. */
  readonly keyName: string;
  /** Lower-cased: keys are case-insensitive. */
  readonly key: string;
  readonly values: readonly ValueMatcher[];
}

function passes(condition: CompiledCondition, value: string, context: RequestContext): boolean {
  let matched = false;
  for (const policyValue of condition.values) {
    if (policyValue.test(value, context)) {
      matched = true;
      break;
    }
  }
  return condition.operator.base.negated ? !matched : matched;
}

export function conditionHolds(condition: CompiledCondition, context: RequestContext): boolean {
  const { base, qualifier, ifExists } = condition.operator;
  const values = context.values(condition.key);
  const absent = values === undefined || values.length === 0;
  if (base.family === 'Null') {
    return condition.values.some((policyValue) => (policyValue.source === 'true') === absent);
  }
  if (absent) {
    if (ifExists || qualifier === 'ForAllValues') return true;
    if (qualifier === 'ForAnyValue') return false;
    return base.negated;
  }
  if (qualifier === 'ForAllValues') return values.every((value) => passes(condition, value, context));
  if (!base.negated || qualifier === 'ForAnyValue') return values.some((value) => passes(condition, value, context));
  // A plain negated operator: no request value may match any policy value.
  return values.every((value) => passes(condition, value, context));
}

/** Says, for a person, why a condition did not hold. */
export function explainFailure(condition: CompiledCondition, context: RequestContext): string {
  const { operator, keyName } = condition;
  const wanted = condition.values.map((value) => JSON.stringify(value.source)).join(', ');
  const values = context.values(condition.key);
  const head = `condition ${operator.text} {${JSON.stringify(keyName)}: [${wanted}]}`;
  if (values === undefined || values.length === 0) return `${head} failed: the request has no ${keyName}`;
  const shown = values.map((value) => JSON.stringify(value)).join(', ');
  if (operator.base.family === 'Null') return `${head} failed: the request has ${keyName} = ${shown}`;
  return `${head} failed: the request's ${keyName} is ${shown}`;
}
