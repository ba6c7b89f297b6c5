/**
 * CloudWatch Logs' filter patterns for unstructured events, as FilterLogEvents takes them:
 *
 *     ERROR Exception        both terms
 *     "Failed to connect"    the phrase, spaces and all
 *     ERROR -Exiting         ERROR, and not Exiting
 *     ?ERROR ?WARN           ERROR or WARN
 *
 * A term matches where it appears anywhere in the message, case-sensitively. An event matches
 * when it holds every plain term, none of the -terms, and, if there are ?terms, at least one of
 * them. An empty pattern matches every event. Inside quotes, \" is a quote and \\ a backslash.
 * JSON (`{ $.x = … }`), space-delimited (`[a, b]`) and regular-expression (`%…%`) patterns are
 * refused.
 */
import { ApiError } from '@airlock/protocol';

export interface FilterPattern {
  readonly required: readonly string[];
  readonly excluded: readonly string[];
  readonly optional: readonly string[];
}

function invalid(pattern: string, why: string): ApiError {
  return new ApiError('InvalidParameterException', `Invalid filter pattern ${JSON.stringify(pattern)}: ${why}.`);
}

const SPACE = /\s/;

export function parseFilterPattern(pattern: string): FilterPattern {
  const trimmed = pattern.trim();
  const first = trimmed[0];
  if (first === '{' || first === '[' || first === '%') {
    throw invalid(pattern, 'Airlock takes terms, "quoted phrases", -exclusions and ?alternatives; JSON, space-delimited and regular-expression patterns are not supported');
  }
  const required: string[] = [];
  const excluded: string[] = [];
  const optional: string[] = [];
  let at = 0;
  while (at < pattern.length) {
    if (SPACE.test(pattern.charAt(at))) {
      at++;
      continue;
    }
    let into = required;
    const sign = pattern.charAt(at);
    if (sign === '-' || sign === '?') {
      into = sign === '-' ? excluded : optional;
      at++;
      if (at === pattern.length || SPACE.test(pattern.charAt(at))) throw invalid(pattern, `${sign} must be followed by a term`);
    }
    if (pattern.charAt(at) === '"') {
      let term = '';
      at++;
      for (;;) {
        if (at >= pattern.length) throw invalid(pattern, 'a quoted phrase is not closed');
        const char = pattern.charAt(at);
        if (char === '"') break;
        if (char === '\\' && (pattern.charAt(at + 1) === '"' || pattern.charAt(at + 1) === '\\')) {
          term += pattern.charAt(at + 1);
          at += 2;
        } else {
          term += char;
          at++;
        }
      }
      at++;
      if (at < pattern.length && !SPACE.test(pattern.charAt(at))) throw invalid(pattern, 'a quoted phrase must be followed by a space');
      into.push(term);
    } else {
      const start = at;
      while (at < pattern.length && !SPACE.test(pattern.charAt(at))) at++;
      const term = pattern.slice(start, at);
      if (term.includes('"')) throw invalid(pattern, `quote the whole term: ${term}`);
      into.push(term);
    }
  }
  return { required, excluded, optional };
}

export function matchesFilter(pattern: FilterPattern, message: string): boolean {
  return (
    pattern.required.every((term) => message.includes(term)) &&
    !pattern.excluded.some((term) => message.includes(term)) &&
    (pattern.optional.length === 0 || pattern.optional.some((term) => message.includes(term)))
  );
}
