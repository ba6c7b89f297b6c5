/**
 * Option values read by the shape they fill, as the AWS CLI reads them: scalars as words, lists
 * as several words, structures and maps as shorthand (`GivenName=Test,FamilyName=User01`) or
 * JSON. Wrong values are usage errors that name the option.
 */
import { ownValue, type AnyShape, type Members } from '@airlock/protocol';
import { UsageError } from './args.js';

export function parseOptionValue(option: string, shape: AnyShape, words: readonly string[]): unknown {
  if (shape.kind === 'boolean' && words.length === 0) return true;
  if (words.length === 0) throw new UsageError(`--${option} needs a value.`);
  if (shape.kind === 'list') {
    const [first] = words;
    if (words.length === 1 && first?.trimStart().startsWith('[') === true) return parseJson(option, first);
    return words.map((word) => parseWord(option, shape.member, word));
  }
  if (words.length > 1) throw new UsageError(`--${option} takes one value; got ${words.length}. Quote values with spaces.`);
  return parseWord(option, shape, words[0] as string);
}

function parseWord(option: string, shape: AnyShape, word: string): unknown {
  switch (shape.kind) {
    case 'string':
      return word;
    case 'integer': {
      const value = Number(word);
      if (!Number.isInteger(value)) throw new UsageError(`--${option} must be an integer, not "${word}".`);
      return value;
    }
    case 'boolean':
      if (word !== 'true' && word !== 'false') throw new UsageError(`--${option} must be true or false, not "${word}".`);
      return word === 'true';
    case 'timestamp': {
      const value = /^\d+(\.\d+)?$/.test(word) ? Number(word) : Date.parse(word) / 1000;
      if (Number.isNaN(value)) throw new UsageError(`--${option} must be a time (ISO 8601 or epoch seconds), not "${word}".`);
      return value;
    }
    case 'document':
      return word.trimStart().startsWith('{') || word.trimStart().startsWith('[') ? parseJson(option, word) : word;
    case 'list':
      return word.trimStart().startsWith('[') ? parseJson(option, word) : word.split(',').map((item) => parseWord(option, shape.member, item));
    case 'map':
      return word.trimStart().startsWith('{') ? parseJson(option, word) : Object.fromEntries(pairs(option, word));
    case 'structure':
      return word.trimStart().startsWith('{') ? parseJson(option, word) : structure(option, shape.members, word);
  }
}

/** `A=1,B=x,y` → [['A','1'], ['B','x,y']]: a piece without `=` continues the previous value. */
function pairs(option: string, word: string): [string, string][] {
  const result: [string, string][] = [];
  for (const piece of word.split(',')) {
    const eq = piece.indexOf('=');
    const last = result[result.length - 1];
    if (eq > 0) {
      const key = piece.slice(0, eq);
      // As the AWS CLI: a key given twice is a mistake (a missing space between two values, say), not the last one winning.
      if (result.some(([seen]) => seen === key)) throw new UsageError(`--${option}: ${key} is given twice in "${word}"; to give several, repeat the option's value after a space or use JSON.`);
      result.push([key, piece.slice(eq + 1)]);
    } else if (last !== undefined) last[1] += `,${piece}`;
    else throw new UsageError(`--${option}: cannot read "${word}"; write Key=Value,Key2=Value2 or JSON.`);
  }
  return result;
}

function structure(option: string, members: Members, word: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of pairs(option, word)) {
    const member = ownValue(members, key);
    if (member === undefined) {
      throw new UsageError(`--${option}: ${key} is not a field. Fields: ${Object.keys(members).join(', ')}.`);
    }
    result[key] = parseWord(`${option} ${key}`, member.shape, value);
  }
  return result;
}

function parseJson(option: string, word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    throw new UsageError(`--${option} is not valid JSON: ${word}`);
  }
}

/** A scalar's placeholder in a synopsis: its values when there are a few, else its kind. */
function scalarSynopsis(shape: AnyShape): string {
  switch (shape.kind) {
    case 'string':
      return shape.enum !== undefined && shape.enum.length <= 4 ? shape.enum.join('|') : 'string';
    case 'boolean':
      return 'true|false';
    case 'timestamp':
      return 'time';
    case 'integer':
      return 'integer';
    case 'list': {
      const item = scalarSynopsis(shape.member);
      return `${item},${item}`;
    }
    default:
      // A structure, map or document inside shorthand is given as JSON.
      return 'JSON';
  }
}

/**
 * How an option of this shape is written in shorthand, for help: `Key=string,Values=string,…`
 * for a structure, the same followed by `…` for a list of them (one a word), undefined for what
 * is written plainly (a string, a number, a list of words).
 */
export function shorthandSynopsis(shape: AnyShape): string | undefined {
  if (shape.kind === 'structure') return Object.entries(shape.members).map(([name, member]) => `${name}=${scalarSynopsis(member.shape)}`).join(',');
  if (shape.kind === 'map') return 'Key1=string,Key2=string';
  if (shape.kind === 'list' && (shape.member.kind === 'structure' || shape.member.kind === 'map')) return `${shorthandSynopsis(shape.member) ?? ''} …`;
  return undefined;
}
