/**
 * Policy strings with wildcards and `${…}` variables, parsed once into parts.
 *
 * `${aws:username}` is replaced per request; `${key, 'default'}` falls back to the default;
 * `${*}`, `${?}` and `${$}` stand for a literal `*`, `?` and `$`. Variables are only read in
 * documents whose Version is 2012-10-17; elsewhere `${…}` is plain text.
 */

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'variable'; readonly key: string; readonly name: string; readonly fallback: string | undefined };

export interface TemplateOptions {
  /** Read `*` and `?` as wildcards (StringLike, Resource) or as literal text (StringEquals). */
  readonly wildcards: boolean;
  /** Read `${…}` as variables (Version 2012-10-17) or as literal text. */
  readonly variables: boolean;
}

export type TemplateParse = { readonly parts: readonly TemplatePart[] } | { readonly error: string };

const LITERAL_SPECIALS: Readonly<Record<string, string>> = { '*': '*', '?': '?', $: '$' };
const VARIABLE_KEY = /^[A-Za-z0-9_.:/@+=,-]+$/;
const DEFAULT_VALUE = /^'([^']*)'$/;

export function parseTemplate(source: string, options: TemplateOptions): TemplateParse {
  const parts: TemplatePart[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (options.variables && c === '$' && source[i + 1] === '{') {
      const end = source.indexOf('}', i + 2);
      if (end < 0) return { error: `"${source}" opens a policy variable with \${ but never closes it with }` };
      const body = source.slice(i + 2, end);
      const special = Object.hasOwn(LITERAL_SPECIALS, body) ? LITERAL_SPECIALS[body] : undefined;
      if (special !== undefined) {
        text += special;
      } else {
        const variable = parseVariable(body);
        if ('error' in variable) return { error: `"${source}": ${variable.error}` };
        flush();
        parts.push(variable);
      }
      i = end;
    } else if (options.wildcards && c === '*') {
      flush();
      // Consecutive stars mean the same as one.
      if (parts[parts.length - 1]?.kind !== 'star') parts.push({ kind: 'star' });
    } else if (options.wildcards && c === '?') {
      flush();
      parts.push({ kind: 'one' });
    } else {
      text += c;
    }
  }
  flush();
  return { parts };
}

function parseVariable(body: string): TemplatePart | { error: string } {
  const comma = body.indexOf(',');
  const name = (comma < 0 ? body : body.slice(0, comma)).trim();
  if (name === '') return { error: 'a policy variable needs a key name, as in ${aws:username}' };
  if (!VARIABLE_KEY.test(name) || !name.includes(':')) {
    return { error: `"${name}" is not a condition key; a variable names one, as in \${aws:username}` };
  }
  let fallback: string | undefined;
  if (comma >= 0) {
    const match = DEFAULT_VALUE.exec(body.slice(comma + 1).trim());
    if (match === null) {
      return { error: `the default of \${${name}} must be quoted with single quotes, as in \${${name}, 'none'}` };
    }
    fallback = match[1];
  }
  return { kind: 'variable', key: name.toLowerCase(), name, fallback };
}

export function hasVariables(parts: readonly TemplatePart[]): boolean {
  return parts.some((part) => part.kind === 'variable');
}

export function hasWildcards(parts: readonly TemplatePart[]): boolean {
  return parts.some((part) => part.kind === 'star' || part.kind === 'one');
}

/** Where variables get their values: the request's single-valued context keys. */
export interface VariableSource {
  /** The value of a single-valued key (lower-cased name), or undefined if absent or multi-valued. */
  single(key: string): string | undefined;
}

/**
 * Replaces variables with their values. A value is literal text even if it holds `*`, so a user
 * named `*` matches nothing more than a user named `x`. Returns undefined when a variable has no
 * value and no default: AWS then treats the policy entry as matching nothing.
 */
export function resolveParts(
  parts: readonly TemplatePart[],
  source: VariableSource,
  lowerCase: boolean,
): TemplatePart[] | undefined {
  const resolved: TemplatePart[] = [];
  for (const part of parts) {
    if (part.kind !== 'variable') {
      resolved.push(part);
      continue;
    }
    const value = source.single(part.key) ?? part.fallback;
    if (value === undefined) return undefined;
    resolved.push({ kind: 'text', text: lowerCase ? value.toLowerCase() : value });
  }
  return resolved;
}
