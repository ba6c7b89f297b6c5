/** Tags typed as `key=value`, one a line: how the admin forms take them. */
import { inputProblem } from '../../app/errors';

export interface TagInput {
  readonly Key: string;
  readonly Value: string;
}

/** Parses `key=value` lines; throws with the line at fault so the form can say which. */
export function parseTags(text: string): TagInput[] {
  const tags: TagInput[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const at = line.indexOf('=');
    if (at <= 0) throw inputProblem(`Tags: line ${index + 1} ("${line}") is not key=value.`);
    tags.push({ Key: line.slice(0, at).trim(), Value: line.slice(at + 1).trim() });
  }
  return tags;
}

export function formatTags(tags: readonly TagInput[]): string {
  return tags.map((tag) => `${tag.Key}=${tag.Value}`).join(', ');
}
