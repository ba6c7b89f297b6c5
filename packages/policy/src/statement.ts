/** A statement compiled into matchers, and the test of whether it applies to a request. */
import type { ArnPattern } from './arn.js';
import { conditionHolds, type CompiledCondition } from './conditions.js';
import type { RequestContext } from './context.js';
import type { Glob } from './glob.js';

export type Effect = 'Allow' | 'Deny';

/** Names a statement in a decision: its policy, its position, and its Sid when it has one. */
export interface StatementRef {
  readonly policy: string;
  readonly statement: number;
  readonly sid?: string;
}

export interface CompiledStatement {
  readonly ref: StatementRef;
  readonly effect: Effect;
  /** Lower-cased globs; with `notAction` the statement covers every other action. */
  readonly actions: readonly Glob[];
  readonly notAction: boolean;
  readonly resources: readonly ArnPattern[];
  readonly notResource: boolean;
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  readonly name: string;
  readonly version: string | undefined;
  readonly statements: readonly CompiledStatement[];
}

/** A resource as a request names it, split once so each statement need not. */
export interface RequestResource {
  readonly arn: string;
  readonly segments: readonly string[] | undefined;
}

export function actionApplies(statement: CompiledStatement, action: string, context: RequestContext): boolean {
  let listed = false;
  for (const glob of statement.actions) {
    if (glob.matches(action, context)) {
      listed = true;
      break;
    }
  }
  return listed !== statement.notAction;
}

export function resourceApplies(statement: CompiledStatement, resource: RequestResource, context: RequestContext): boolean {
  let listed = false;
  for (const pattern of statement.resources) {
    if (pattern.matches(resource.segments, context)) {
      listed = true;
      break;
    }
  }
  return listed !== statement.notResource;
}

/** The first condition that does not hold, or undefined when all hold. */
export function failedCondition(statement: CompiledStatement, context: RequestContext): CompiledCondition | undefined {
  for (const condition of statement.conditions) {
    if (!conditionHolds(condition, context)) return condition;
  }
  return undefined;
}
