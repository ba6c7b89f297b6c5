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
  /**
   * When every value is plain text for string equality: the texts as a set, so that a request
   * value is looked up once instead of compared with each.
   */
  readonly literals?: { readonly texts: ReadonlySet<string>; readonly ignoreCase: boolean };
}

export function literalsOf(operator: ConditionOperator, values: readonly ValueMatcher[]): CompiledCondition['literals'] {
  if (operator.base.family !== 'String' || operator.base.comparison === 'like' || values.length < 2) return undefined;
  const texts = values.map((value) => value.literal);
  if (texts.some((text) => text === undefined)) return undefined;
  return { texts: new Set(texts as string[]), ignoreCase: operator.base.comparison === 'equalsIgnoreCase' };
}

function passes(condition: CompiledCondition, value: string, context: RequestContext): boolean {
  let matched = false;
  const { literals } = condition;
  if (literals !== undefined) matched = literals.texts.has(literals.ignoreCase ? value.toLowerCase() : value);
  else {
    for (const policyValue of condition.values) {
      if (policyValue.test(value, context)) {
        matched = true;
        break;
      }
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
