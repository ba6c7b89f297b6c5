/**
 * Reads a policy document, reports every problem with its JSON path, and compiles it into
 * matchers when nothing is wrong enough to refuse it. Validation and compilation are one walk,
 * so what is checked is exactly what is evaluated.
 */
import { ArnPattern } from './arn.js';
import { AIRLOCK_ACTIONS, keySupported, type ActionCatalog, type ActionInfo } from './catalog.js';
import { literalsOf, type CompiledCondition } from './conditions.js';
import { error, hasErrors, warning, type Finding } from './findings.js';
import { Glob } from './glob.js';
import { childPath, indexPath, isObject, readJson, type JsonObject, type JsonValue } from './json.js';
import { compileValue, parseOperator, type ValueMatcher } from './operators.js';
import type { CompiledPolicy, CompiledStatement, Effect, StatementRef } from './statement.js';
import { parseTemplate } from './template.js';

/** IAM Identity Center's limit for a permission set's inline policy. */
export const DEFAULT_MAX_POLICY_LENGTH = 32_768;

export const CURRENT_VERSION = '2012-10-17';
const VERSIONS = new Set([CURRENT_VERSION, '2008-10-17']);

export interface AnalyzeOptions {
  /** Names the policy in decisions; defaults to the document's Id, else "policy". */
  readonly name?: string;
  readonly catalog?: ActionCatalog;
  readonly maxLength?: number;
}

export interface Analysis {
  readonly findings: readonly Finding[];
  /** Present when the findings hold no ERROR. */
  readonly policy: CompiledPolicy | undefined;
}

const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_ELEMENTS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const SID = /^[A-Za-z0-9]*$/;
const ACTION = /^[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+$/;
const CONDITION_KEY = /^[A-Za-z0-9-]+:[^\s]+$/;
/** Keys that always carry one value, where ForAnyValue/ForAllValues are a mistake. */
const SINGLE_VALUED_KEYS = [
  'aws:username',
  'aws:userid',
  'aws:principaltype',
  'aws:principalarn',
  'aws:principalaccount',
  'aws:sourceip',
  'aws:currenttime',
  'aws:epochtime',
  'aws:securetransport',
  'aws:multifactorauthpresent',
  'aws:multifactorauthage',
  'aws:requestedregion',
  'aws:principaltag/',
  'aws:resourcetag/',
  'aws:requesttag/',
  'ssm:resourcetag/',
  'ec2:resourcetag/',
];

export function analyzePolicy(document: string | JsonValue, options: AnalyzeOptions = {}): Analysis {
  const maxLength = options.maxLength ?? DEFAULT_MAX_POLICY_LENGTH;
  const findings: Finding[] = [];
  let value: JsonValue;
  // A parsed document is measured as its compact text, so passing an object cannot skip the limit.
  const length = typeof document === 'string' ? document.length : JSON.stringify(document).length;
  if (length > maxLength) {
    const finding = error(
      'POLICY_SIZE_EXCEEDED',
      '',
      `The policy has ${length} characters; the limit is ${maxLength}. Split it into several policies or use wildcards.`,
    );
    return { findings: [finding], policy: undefined };
  }
  if (typeof document === 'string') {
    const read = readJson(document);
    if (!read.ok) return { findings: [error('INVALID_JSON', '', read.message)], policy: undefined };
    for (const duplicate of read.duplicates) {
      findings.push(
        error(
          'DUPLICATE_KEY',
          childPath(duplicate.path, duplicate.key),
          `"${duplicate.key}" appears twice in the same object; JSON readers keep only one of them, so remove one.`,
        ),
      );
    }
    value = read.value;
  } else {
    value = document;
  }
  const walker = new Walker(findings, options.catalog ?? AIRLOCK_ACTIONS);
  const policy = walker.document(value, options.name);
  return { findings, policy: hasErrors(findings) || policy === undefined ? undefined : policy };
}

class Walker {
  private variables = true;
  private readonly sids = new Set<string>();

  constructor(
    private readonly findings: Finding[],
    private readonly catalog: ActionCatalog,
  ) {}

  document(value: JsonValue, name: string | undefined): CompiledPolicy | undefined {
    if (!isObject(value)) {
      this.findings.push(error('INVALID_DOCUMENT', '', `A policy is a JSON object with a Statement; this is ${describe(value)}.`));
      return undefined;
    }
    this.unknownElements(value, '', TOP_LEVEL, 'a policy document');
    const version = this.version(value['Version']);
    const id = value['Id'];
    if (id !== undefined && typeof id !== 'string') {
      this.findings.push(error('INVALID_ID', 'Id', `Id must be a string; it is ${describe(id)}.`));
    }
    const policyName = name ?? (typeof id === 'string' ? id : 'policy');
    const statements = this.statements(value['Statement'], policyName);
    return { name: policyName, version, statements };
  }

  private version(version: JsonValue | undefined): string | undefined {
    if (version === undefined) {
      this.variables = false;
      this.findings.push(
        warning(
          'MISSING_VERSION',
          'Version',
          `The policy has no Version, so policy variables such as \${aws:username} are read as plain text. Add "Version": "${CURRENT_VERSION}".`,
        ),
      );
      return undefined;
    }
    if (typeof version !== 'string' || !VERSIONS.has(version)) {
      this.findings.push(
        error('INVALID_VERSION', 'Version', `Version must be "${CURRENT_VERSION}" (or the older "2008-10-17"), not ${describe(version)}.`),
      );
      return undefined;
    }
    this.variables = version === CURRENT_VERSION;
    return version;
  }

  private statements(value: JsonValue | undefined, policyName: string): CompiledStatement[] {
    if (value === undefined) {
      this.findings.push(error('MISSING_STATEMENT', 'Statement', 'The policy has no Statement; add at least one.'));
      return [];
    }
    if (isObject(value)) {
      const single = this.statement(value, 'Statement', { policy: policyName, statement: 0 });
      return single === undefined ? [] : [single];
    }
    if (!Array.isArray(value) || value.length === 0) {
      const what = Array.isArray(value) ? 'an empty list' : describe(value);
      this.findings.push(error('MISSING_STATEMENT', 'Statement', `Statement must be a statement object or a non-empty list of them; it is ${what}.`));
      return [];
    }
    const compiled: CompiledStatement[] = [];
    value.forEach((item, index) => {
      const path = indexPath('Statement', index);
      if (!isObject(item)) {
        this.findings.push(error('INVALID_STATEMENT', path, `Each statement must be an object; this is ${describe(item)}.`));
        return;
      }
      const statement = this.statement(item, path, { policy: policyName, statement: index });
      if (statement !== undefined) compiled.push(statement);
    });
    return compiled;
  }

  private statement(value: JsonObject, path: string, position: { policy: string; statement: number }): CompiledStatement | undefined {
    const before = this.findings.length;
    for (const key of ['Principal', 'NotPrincipal']) {
      if (key in value) {
        this.findings.push(
          error(
            'PRINCIPAL_IN_IDENTITY_POLICY',
            childPath(path, key),
            `${key} belongs to resource-based policies. A permission set's policy applies to whoever uses the role, so remove ${key}.`,
          ),
        );
      }
    }
    this.unknownElements(value, path, new Set([...STATEMENT_ELEMENTS, 'Principal', 'NotPrincipal']), 'a statement');
    const sid = this.sid(value['Sid'], childPath(path, 'Sid'));
    const effect = this.effect(value['Effect'], childPath(path, 'Effect'));
    const actions = this.pair(value, path, 'Action', 'NotAction', 'MISSING_ACTION', 'ACTION_AND_NOT_ACTION');
    const resources = this.pair(value, path, 'Resource', 'NotResource', 'MISSING_RESOURCE', 'RESOURCE_AND_NOT_RESOURCE');
    const actionGlobs = actions === undefined ? [] : this.actions(actions.values, childPath(path, actions.element), actions.listed);
    const resourcePatterns = resources === undefined ? [] : this.resources(resources.values, childPath(path, resources.element), resources.listed);
    const covered = actions?.element === 'Action' ? this.coveredActions(actionGlobs) : undefined;
    const conditions = this.conditions(value['Condition'], childPath(path, 'Condition'), covered);
    if (effect === 'Allow' && actions?.element === 'NotAction' && resourcePatterns.some((pattern) => pattern.matchesEverything)) {
      this.findings.push(
        warning(
          'ALLOW_NOT_ACTION_ALL_RESOURCES',
          childPath(path, 'NotAction'),
          'Allow with NotAction and "Resource": "*" grants every other action of every service, including ones added later. List the actions to allow instead.',
        ),
      );
    }
    const failed = this.findings.slice(before).some((finding) => finding.findingType === 'ERROR');
    if (failed || effect === undefined || actions === undefined || resources === undefined) return undefined;
    const ref: StatementRef = sid === undefined ? position : { ...position, sid };
    return {
      ref,
      effect,
      actions: actionGlobs,
      notAction: actions.element === 'NotAction',
      resources: resourcePatterns,
      notResource: resources.element === 'NotResource',
      conditions,
    };
  }

  private unknownElements(value: JsonObject, path: string, known: ReadonlySet<string>, where: string): void {
    for (const key of Object.keys(value)) {
      if (known.has(key)) continue;
      const near = [...known].find((candidate) => candidate.toLowerCase() === key.toLowerCase());
      const hint = near === undefined ? ` Allowed: ${[...known].join(', ')}.` : ` Did you mean ${near}? Element names are case-sensitive.`;
      this.findings.push(error('UNKNOWN_ELEMENT', childPath(path, key), `${key} is not an element of ${where}.${hint}`));
    }
  }

  private sid(value: JsonValue | undefined, path: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !SID.test(value)) {
      this.findings.push(error('INVALID_SID', path, `Sid may hold only letters A-Z, a-z and digits 0-9; it is ${describe(value)}.`));
      return undefined;
    }
    if (this.sids.has(value)) {
      this.findings.push(error('DUPLICATE_SID', path, `Sid "${value}" is used by an earlier statement; each Sid must be unique within the policy.`));
    }
    this.sids.add(value);
    return value;
  }

  private effect(value: JsonValue | undefined, path: string): Effect | undefined {
    if (value === 'Allow' || value === 'Deny') return value;
    if (value === undefined) {
      this.findings.push(error('MISSING_EFFECT', path, 'The statement has no Effect; add "Effect": "Allow" or "Effect": "Deny".'));
    } else {
      const hint = typeof value === 'string' && ['allow', 'deny'].includes(value.toLowerCase()) ? ' It is case-sensitive.' : '';
      this.findings.push(error('INVALID_EFFECT', path, `Effect must be "Allow" or "Deny", not ${describe(value)}.${hint}`));
    }
    return undefined;
  }

  /** Reads Action/NotAction or Resource/NotResource: exactly one of the two, as a string or list. */
  private pair(
    statement: JsonObject,
    path: string,
    positive: string,
    negative: string,
    missing: 'MISSING_ACTION' | 'MISSING_RESOURCE',
    both: 'ACTION_AND_NOT_ACTION' | 'RESOURCE_AND_NOT_RESOURCE',
  ): { element: string; values: string[]; listed: boolean } | undefined {
    const hasPositive = positive in statement;
    const hasNegative = negative in statement;
    if (hasPositive && hasNegative) {
      this.findings.push(error(both, childPath(path, negative), `A statement has either ${positive} or ${negative}, not both.`));
      return undefined;
    }
    if (!hasPositive && !hasNegative) {
      this.findings.push(error(missing, childPath(path, positive), `The statement has no ${positive} (or ${negative}); add one.`));
      return undefined;
    }
    const element = hasPositive ? positive : negative;
    const values = this.stringList(statement[element], childPath(path, element), element === 'Action' || element === 'NotAction' ? 'INVALID_ACTION' : 'INVALID_RESOURCE');
    // A list of one entry is still a list: its entry's path ends in [0].
    return values === undefined ? undefined : { element, values, listed: Array.isArray(statement[element]) };
  }

  private stringList(value: JsonValue | undefined, path: string, code: 'INVALID_ACTION' | 'INVALID_RESOURCE'): string[] | undefined {
    const element = path.slice(path.lastIndexOf('.') + 1);
    if (typeof value === 'string') return [value];
    if (Array.isArray(value) && value.length > 0) {
      const strings: string[] = [];
      value.forEach((item, index) => {
        if (typeof item === 'string') strings.push(item);
        else this.findings.push(error(code, indexPath(path, index), `Each ${element} entry must be a string; this is ${describe(item)}.`));
      });
      return strings.length === value.length ? strings : undefined;
    }
    const what = Array.isArray(value) ? 'an empty list' : describe(value);
    this.findings.push(error(code, path, `${element} must be a string or a non-empty list of strings; it is ${what}.`));
    return undefined;
  }

  private actions(values: readonly string[], path: string, listed: boolean): Glob[] {
    const globs: Glob[] = [];
    values.forEach((action, index) => {
      const at = listed ? indexPath(path, index) : path;
      if (action !== '*' && !ACTION.test(action)) {
        this.findings.push(
          error('INVALID_ACTION', at, `"${action}" is not an action; write service:Operation, as in "ssm:StartSession", or "*".`),
        );
        return;
      }
      const parsed = parseTemplate(action, { wildcards: true, variables: false });
      if ('error' in parsed) return;
      const glob = new Glob(action, parsed.parts, true);
      globs.push(glob);
      this.knownAction(action, glob, at);
    });
    return globs;
  }

  /** Warns when an action names a service Airlock knows but no operation of it. */
  private knownAction(action: string, glob: Glob, path: string): void {
    const colon = action.indexOf(':');
    const service = action.slice(0, colon).toLowerCase();
    const operations = this.catalog.services.get(service);
    if (operations === undefined) return;
    const none = { single: () => undefined };
    for (const operation of operations.keys()) if (glob.matches(`${service}:${operation}`, none)) return;
    const near = closest(action.slice(colon + 1).toLowerCase(), [...operations.values()]);
    const hint = near === undefined ? '' : ` Did you mean ${near.name}?`;
    this.findings.push(warning('UNKNOWN_ACTION', path, `${action} matches no ${service} action.${hint}`));
  }

  /** The catalogue actions a statement's Action list covers, for the condition-key check. */
  private coveredActions(globs: readonly Glob[]): ActionInfo[] | undefined {
    const none = { single: () => undefined };
    const covered: ActionInfo[] = [];
    for (const glob of globs) {
      let any = false;
      for (const [service, operations] of this.catalog.services) {
        for (const [operation, info] of operations) {
          if (glob.matches(`${service}:${operation}`, none)) {
            covered.push(info);
            any = true;
          }
        }
      }
      // An action outside the catalogue may support any key: make no claim.
      if (!any) return undefined;
    }
    return covered;
  }

  private resources(values: readonly string[], path: string, listed: boolean): ArnPattern[] {
    const patterns: ArnPattern[] = [];
    values.forEach((resource, index) => {
      const at = listed ? indexPath(path, index) : path;
      const parsed = ArnPattern.parse(resource, this.variables);
      if ('error' in parsed) {
        this.findings.push(error('INVALID_RESOURCE', at, `${parsed.error}.`));
        return;
      }
      this.literalVariable(resource, at);
      patterns.push(parsed.pattern);
    });
    return patterns;
  }

  private literalVariable(text: string, path: string): void {
    if (this.variables || !text.includes('${')) return;
    this.findings.push(
      warning(
        'LITERAL_VARIABLE',
        path,
        `"${text}" looks like it uses a policy variable, but variables need "Version": "${CURRENT_VERSION}"; here \${…} is plain text.`,
      ),
    );
  }

  private conditions(value: JsonValue | undefined, path: string, covered: readonly ActionInfo[] | undefined): CompiledCondition[] {
    if (value === undefined) return [];
    if (!isObject(value)) {
      this.findings.push(error('INVALID_CONDITION', path, `Condition must be an object of operators, as in {"StringEquals": {"aws:username": "alice"}}; it is ${describe(value)}.`));
      return [];
    }
    const compiled: CompiledCondition[] = [];
    for (const [operatorText, block] of Object.entries(value)) {
      const operatorPath = childPath(path, operatorText);
      const parsed = parseOperator(operatorText);
      if ('error' in parsed) {
        this.findings.push(error('INVALID_OPERATOR', operatorPath, parsed.error));
        continue;
      }
      if (!isObject(block) || Object.keys(block).length === 0) {
        const what = isObject(block) ? 'an empty object' : describe(block);
        this.findings.push(error('INVALID_CONDITION', operatorPath, `${operatorText} must map condition keys to values; it is ${what}.`));
        continue;
      }
      for (const [keyName, raw] of Object.entries(block)) {
        const condition = this.condition(parsed.operator, keyName, raw, childPath(operatorPath, keyName), covered);
        if (condition !== undefined) compiled.push(condition);
      }
    }
    return compiled;
  }

  private condition(
    operator: CompiledCondition['operator'],
    keyName: string,
    raw: JsonValue,
    path: string,
    covered: readonly ActionInfo[] | undefined,
  ): CompiledCondition | undefined {
    if (!CONDITION_KEY.test(keyName) || keyName.includes('${')) {
      this.findings.push(error('INVALID_CONDITION_KEY', path, `"${keyName}" is not a condition key; keys look like aws:username or ssm:resourceTag/project.`));
      return undefined;
    }
    const key = keyName.toLowerCase();
    if (covered !== undefined && covered.length > 0 && !covered.some((action) => keySupported(action, key))) {
      const names = covered.slice(0, 3).map((action) => action.name).join(', ');
      this.findings.push(
        warning('UNSUPPORTED_CONDITION_KEY', path, `${keyName} is not set by ${names}${covered.length > 3 ? ' …' : ''}, so this condition never sees a value.`),
      );
    }
    if (operator.qualifier !== undefined && SINGLE_VALUED_KEYS.some((single) => (single.endsWith('/') ? key.startsWith(single) : key === single))) {
      const note = operator.qualifier === 'ForAllValues' ? ' ForAllValues also holds when the key is absent.' : '';
      this.findings.push(
        warning('SET_OPERATOR_ON_SINGLE_VALUED_KEY', path, `${keyName} has one value; use ${operator.base.name} without ${operator.qualifier}:.${note}`),
      );
    }
    const items = Array.isArray(raw) ? raw : [raw];
    if (items.length === 0) {
      this.findings.push(error('INVALID_CONDITION_VALUE', path, `${keyName} has an empty list of values; give at least one.`));
      return undefined;
    }
    const values: ValueMatcher[] = [];
    items.forEach((item, index) => {
      const at = Array.isArray(raw) ? indexPath(path, index) : path;
      if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
        this.findings.push(error('INVALID_CONDITION_VALUE', at, `A condition value must be a string, number or boolean; this is ${describe(item)}.`));
        return;
      }
      const text = String(item);
      const compiled = compileValue(operator.base, text, this.variables);
      if ('error' in compiled) {
        this.findings.push(error('INVALID_CONDITION_VALUE', at, `${compiled.error}.`));
        return;
      }
      if (compiled.warning !== undefined) this.findings.push(warning('LIKE_WITHOUT_WILDCARD', at, `${compiled.warning}.`));
      if (operator.base.family === 'String' || operator.base.family === 'Arn') this.literalVariable(text, at);
      values.push(compiled.matcher);
    });
    if (values.length !== items.length) return undefined;
    const literals = literalsOf(operator, values);
    return literals === undefined ? { operator, keyName, key, values } : { operator, keyName, key, values, literals };
  }
}

function describe(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The catalogue action nearest to a mistyped name, if one is close. */
function closest(name: string, candidates: readonly ActionInfo[]): ActionInfo | undefined {
  let best: ActionInfo | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of candidates) {
    const operation = candidate.name.slice(candidate.name.indexOf(':') + 1).toLowerCase();
    const distance = editDistance(name, operation);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Thrown by compilePolicy for a document with ERROR findings; carries them all. */
export class InvalidPolicyError extends Error {
  override readonly name = 'InvalidPolicyError';
  constructor(readonly findings: readonly Finding[]) {
    const errors = findings.filter((finding) => finding.findingType === 'ERROR');
    super(errors.map((finding) => (finding.path === '' ? finding.findingDetails : `${finding.path}: ${finding.findingDetails}`)).join(' '));
  }
}

/** Compiles a document that must be valid; warnings are allowed. */
export function compilePolicy(document: string | JsonValue, options: AnalyzeOptions = {}): CompiledPolicy {
  const { findings, policy } = analyzePolicy(document, options);
  if (policy === undefined) throw new InvalidPolicyError(findings);
  return policy;
}
