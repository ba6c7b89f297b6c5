/** Tags on managed instances: Key and Value as AWS allows them, at most 50, `aws:` reserved. */
import { ApiError, fleet as api } from '@airlock/protocol';

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/** Refuses reserved and repeated keys; returns the tags as given. */
export function checkTags(tags: readonly Tag[]): Tag[] {
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag.Key.toLowerCase().startsWith('aws:')) throw new ApiError('ValidationException', `Tag key ${tag.Key}: keys starting with aws: are reserved.`);
    if (seen.has(tag.Key)) throw new ApiError('ValidationException', `Tag key ${tag.Key} is given twice.`);
    seen.add(tag.Key);
  }
  if (tags.length > api.MAX_TAGS) throw new ApiError('TooManyTagsError', `At most ${api.MAX_TAGS} tags per resource.`);
  return tags.map((tag) => ({ Key: tag.Key, Value: tag.Value }));
}
