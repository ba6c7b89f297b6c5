/** The external identity sources Airlock knows; each plugs in through the IdentitySource interface. */
import type { IdentitySource } from './source.js';
import type { ExternalSourceType } from './setting.js';

export const IDENTITY_SOURCES: readonly IdentitySource[] = [];

export function sourceOf(type: ExternalSourceType): IdentitySource | undefined {
  return IDENTITY_SOURCES.find((source) => source.type === type);
}
