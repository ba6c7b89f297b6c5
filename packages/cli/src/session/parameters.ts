/**
 * `--parameters` as the AWS CLI takes it for start-session: shorthand
 * (`portNumber=80,localPortNumber=8080`, `units=nginx,sshd` for a list) or JSON
 * (`{"portNumber":["80"]}`; a plain string value is taken as a list of one). StartSession wants
 * every value as a list.
 */
import { UsageError } from '../args.js';

export type SessionParameters = Record<string, string[]>;

export function parseSessionParameters(words: readonly string[] | undefined): SessionParameters | undefined {
  if (words === undefined) return undefined;
  if (words.length !== 1 || words[0] === undefined || words[0] === '') throw new UsageError('--parameters takes one value: name=value,name2=value2 or JSON. Quote values with spaces.');
  const word = words[0];
  return word.trimStart().startsWith('{') ? fromJson(word) : fromShorthand(word);
}

function fromJson(word: string): SessionParameters {
  let parsed: unknown;
  try {
    parsed = JSON.parse(word);
  } catch {
    throw new UsageError(`--parameters is not valid JSON: ${word}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--parameters must be a JSON object: {"portNumber":["80"]}.');
  const result: SessionParameters = {};
  for (const [name, value] of Object.entries(parsed)) {
    const list: unknown[] = Array.isArray(value) ? value : [value];
    if (!list.every((item) => typeof item === 'string' || typeof item === 'number')) throw new UsageError(`--parameters: ${name} must be a string or a list of strings.`);
    result[name] = list.map(String);
  }
  return result;
}

/** Splits at commas that are not inside "double" or 'single' quotes, as the AWS CLI's shorthand does. */
function splitOutsideQuotes(word: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const char of word) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current += char;
    } else if (char === ',') {
      pieces.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (quote !== undefined) throw new UsageError(`--parameters: a ${quote} quote is not closed in "${word}".`);
  pieces.push(current);
  return pieces;
}

/** `"echo a, b"` → `echo a, b`: a quoted value keeps its commas and loses its quotes. */
function unquote(value: string): string {
  const first = value[0];
  return value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first) ? value.slice(1, -1) : value;
}

/**
 * `a=1,b=x,y` → {a: [1], b: [x, y]}, `a="x, y"` → {a: ["x, y"]}, as the AWS CLI reads a map of lists: a piece without `=`
 * is one more value of the name before it (a value with a comma needs JSON). `b=[x,y]` too.
 */
function fromShorthand(word: string): SessionParameters {
  const result: SessionParameters = {};
  let last: string[] | undefined;
  for (const piece of splitOutsideQuotes(word)) {
    const eq = piece.indexOf('=');
    if (eq > 0) {
      const name = piece.slice(0, eq);
      last = result[name] ?? (result[name] = []);
      last.push(unquote(piece.slice(eq + 1)));
    } else if (last !== undefined) {
      last.push(unquote(piece));
    } else {
      throw new UsageError(`--parameters: cannot read "${word}"; write name=value,name2=value2 or JSON.`);
    }
  }
  for (const [name, values] of Object.entries(result)) {
    const joined = values.join(',');
    if (joined.startsWith('[') && joined.endsWith(']')) result[name] = joined.slice(1, -1).split(',').filter((value) => value !== '');
  }
  return result;
}

/** The one value of `name`, if given. */
export function parameter(parameters: SessionParameters | undefined, name: string): string | undefined {
  return parameters?.[name]?.[0];
}
