/**
 * Wildcard matching without regular expressions.
 *
 * A pattern is compiled once into segments split at `*`: the first segment must match at the
 * start, the last at the end, and the ones between are found leftmost-first in order, which is
 * optimal for `*` globs. `?` is a one-character hole inside a segment. Matching allocates
 * nothing unless the pattern holds variables.
 */
import { hasVariables, resolveParts, type TemplatePart, type VariableSource } from './template.js';

interface Segment {
  readonly text: string;
  /** 1 where the pattern has `?`; null when the segment is plain text. */
  readonly holes: Uint8Array | null;
}

type Shape =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly segment: Segment }
  | { readonly kind: 'stars'; readonly head: Segment; readonly middle: readonly Segment[]; readonly tail: Segment };

const EMPTY: Segment = { text: '', holes: null };

function segmentOf(parts: readonly TemplatePart[]): Segment {
  let text = '';
  let holes: number[] | null = null;
  for (const part of parts) {
    if (part.kind === 'text') text += part.text;
    else {
      (holes ??= []).push(text.length);
      text += '?';
    }
  }
  if (holes === null) return { text, holes: null };
  const mask = new Uint8Array(text.length);
  for (const at of holes) mask[at] = 1;
  return { text, holes: mask };
}

function shapeOf(parts: readonly TemplatePart[]): Shape {
  const segments: Segment[] = [];
  let current: TemplatePart[] = [];
  let stars = 0;
  for (const part of parts) {
    if (part.kind === 'star') {
      segments.push(segmentOf(current));
      current = [];
      stars++;
    } else current.push(part);
  }
  segments.push(segmentOf(current));
  if (stars === 0) return { kind: 'exact', segment: segments[0] ?? EMPTY };
  const head = segments[0] ?? EMPTY;
  const tail = segments[segments.length - 1] ?? EMPTY;
  if (stars === 1 && head.text === '' && tail.text === '') return { kind: 'any' };
  return { kind: 'stars', head, middle: segments.slice(1, -1), tail };
}

function matchesAt(segment: Segment, input: string, at: number): boolean {
  const { text, holes } = segment;
  if (at + text.length > input.length) return false;
  if (holes === null) return input.startsWith(text, at);
  for (let i = 0; i < text.length; i++) {
    if (holes[i] === 0 && input.charCodeAt(at + i) !== text.charCodeAt(i)) return false;
  }
  return true;
}

function findFrom(segment: Segment, input: string, from: number, end: number): number {
  if (segment.holes === null) {
    const at = input.indexOf(segment.text, from);
    return at >= 0 && at + segment.text.length <= end ? at : -1;
  }
  for (let at = from; at + segment.text.length <= end; at++) {
    if (matchesAt(segment, input, at)) return at;
  }
  return -1;
}

function matchShape(shape: Shape, input: string): boolean {
  switch (shape.kind) {
    case 'any':
      return true;
    case 'exact':
      return input.length === shape.segment.text.length && matchesAt(shape.segment, input, 0);
    case 'stars': {
      const { head, middle, tail } = shape;
      const end = input.length - tail.text.length;
      if (end < head.text.length || !matchesAt(head, input, 0) || !matchesAt(tail, input, end)) return false;
      let at = head.text.length;
      for (const segment of middle) {
        const found = findFrom(segment, input, at, end);
        if (found < 0) return false;
        at = found + segment.text.length;
      }
      return true;
    }
  }
}

/** A compiled pattern: wildcards, literal text and (optionally) policy variables. */
export class Glob {
  private readonly parts: readonly TemplatePart[];
  /** Precompiled when the pattern has no variables; otherwise built per request. */
  private readonly shape: Shape | undefined;

  /** With `ignoreCase` the pattern is lower-cased here and the input by the caller. */
  constructor(
    readonly source: string,
    parts: readonly TemplatePart[],
    private readonly ignoreCase: boolean,
  ) {
    this.parts = ignoreCase ? parts.map(lowerPart) : parts;
    this.shape = hasVariables(this.parts) ? undefined : shapeOf(this.parts);
  }

  get matchesEverything(): boolean {
    return this.shape?.kind === 'any';
  }

  /** `input` must already be lower-cased when the glob ignores case. */
  matches(input: string, variables: VariableSource): boolean {
    if (this.shape !== undefined) return matchShape(this.shape, input);
    const resolved = resolveParts(this.parts, variables, this.ignoreCase);
    return resolved !== undefined && matchShape(shapeOf(resolved), input);
  }
}

function lowerPart(part: TemplatePart): TemplatePart {
  return part.kind === 'text' ? { kind: 'text', text: part.text.toLowerCase() } : part;
}
