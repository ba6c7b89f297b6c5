/**
 * ARNs: `arn:partition:service:region:account:resource`. The resource part is everything after
 * the fifth colon, so it may hold colons and slashes of its own. Patterns match segment by
 * segment, so `*` in the region never spans into the account, while `*` in the resource part
 * spans `/` and `:`.
 */
import { Glob } from './glob.js';
import { hasVariables, hasWildcards, parseTemplate, type VariableSource } from './template.js';

const SEGMENT_NAMES = ['prefix', 'partition', 'service', 'region', 'account', 'resource'] as const;
const RESOURCE = 5;
const SERVICE = 2;

/**
 * Splits an ARN into its six segments, or returns undefined when it is not an ARN. With
 * `variables`, a colon inside `${…}` ends no segment, so a variable is seen whole wherever it stands.
 */
export function splitArn(value: string, variables = false): string[] | undefined {
  const segments: string[] = [];
  let start = 0;
  for (let i = 0; i < RESOURCE; i++) {
    const colon = variables ? colonOutsideVariables(value, start) : value.indexOf(':', start);
    if (colon < 0) return undefined;
    segments.push(value.slice(start, colon));
    start = colon + 1;
  }
  segments.push(value.slice(start));
  return segments[0] === 'arn' ? segments : undefined;
}

function colonOutsideVariables(value: string, from: number): number {
  for (let i = from; i < value.length; i++) {
    if (value[i] === ':') return i;
    if (value[i] === '$' && value[i + 1] === '{') {
      const close = value.indexOf('}', i + 2);
      // Unclosed: split plainly and let parseTemplate report it.
      if (close < 0) return value.indexOf(':', i);
      i = close;
    }
  }
  return -1;
}

export type ArnPatternParse = { readonly pattern: ArnPattern } | { readonly error: string };

/** A Resource entry or an Arn* condition value, compiled segment by segment. */
export class ArnPattern {
  /** The segments that can fail, the resource part first since it differs most often. */
  private readonly checks: readonly (readonly [index: number, glob: Glob])[];

  private constructor(
    readonly source: string,
    /** Undefined for `*`, which matches any resource, ARN or not. */
    private readonly segments: readonly Glob[] | undefined,
  ) {
    const checks = (segments ?? []).map((glob, index) => [index, glob] as const).filter(([, glob]) => !glob.matchesEverything);
    this.checks = checks.reverse();
  }

  /** `variables`: read `${…}` in the resource part (Version 2012-10-17). */
  static parse(source: string, variables: boolean): ArnPatternParse {
    if (source === '*') return { pattern: new ArnPattern(source, undefined) };
    const raw = splitArn(source, variables);
    if (raw === undefined) {
      return { error: `"${source}" is not an ARN (arn:partition:service:region:account:resource) or "*"` };
    }
    const globs: Glob[] = [];
    for (const [index, text] of raw.entries()) {
      const parsed = parseTemplate(text, { wildcards: true, variables });
      if ('error' in parsed) return { error: parsed.error };
      if (index === SERVICE && (text === '' || hasWildcards(parsed.parts))) {
        return { error: `"${source}" must name its service in full: the service segment cannot be empty or hold wildcards` };
      }
      if (index !== RESOURCE && hasVariables(parsed.parts)) {
        return {
          error: `"${source}" has a policy variable in its ${SEGMENT_NAMES[index] ?? ''} segment; variables may only stand in the resource part`,
        };
      }
      globs.push(new Glob(text, parsed.parts, false));
    }
    return { pattern: new ArnPattern(source, globs) };
  }

  get matchesEverything(): boolean {
    return this.segments === undefined;
  }

  /** `arn` is the request's resource split by splitArn (undefined when it is not an ARN). */
  matches(arn: readonly string[] | undefined, variables: VariableSource): boolean {
    if (this.segments === undefined) return true;
    if (arn === undefined) return false;
    for (const [index, glob] of this.checks) {
      if (!glob.matches(arn[index] as string, variables)) return false;
    }
    return true;
  }
}
