/**
 * What SAML sign-in remembers between requests, in the database so that any node can take the
 * answer: the IDs of the AuthnRequests sent (each answered once, within 10 minutes: node-saml's
 * InResponseTo check reads them through a CacheProvider), and the assertions already used, so a
 * captured assertion cannot sign in again (replay) until it has expired anyway.
 */
import { createHash } from 'node:crypto';
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { Services } from '../../services.js';
import { hashToken } from '../tokens.js';

export const REQUEST_TTL_MS = 10 * 60 * 1000;
/** An assertion without an expiry is kept (and refused again) this long: longer than any sane validity. */
const DEFAULT_ASSERTION_LIFETIME_MS = 24 * 3600 * 1000;

const requestKey = (requestId: string): string => hashToken(`saml-request:${requestId}`);

/** node-saml's request-id cache, kept in federation_flows (sealed, 10 minutes, removed when answered). */
export function requestIdCache(services: Services): CacheProvider {
  return {
    saveAsync: async (key, value): Promise<CacheItem> => {
      const now = services.clock.now();
      await services.db.deleteFrom('federation_flows').where('expires_at', '<=', now).execute();
      await services.db
        .insertInto('federation_flows')
        .values({ binding_hash: requestKey(key), source_type: 'SAML', sealed_state: services.secrets.seal(Buffer.from(value, 'utf8')), expires_at: now + REQUEST_TTL_MS })
        .execute();
      return { value, createdAt: now };
    },
    getAsync: async (key) => {
      const row = await services.db.selectFrom('federation_flows').select(['sealed_state', 'expires_at']).where('binding_hash', '=', requestKey(key)).where('source_type', '=', 'SAML').executeTakeFirst();
      if (row === undefined || row.expires_at <= services.clock.now()) return null;
      return Buffer.from(services.secrets.open(row.sealed_state)).toString('utf8');
    },
    removeAsync: async (key) => {
      if (key === null) return null;
      const row = await services.db.deleteFrom('federation_flows').where('binding_hash', '=', requestKey(key)).where('source_type', '=', 'SAML').returning('sealed_state').executeTakeFirst();
      return row === undefined ? null : Buffer.from(services.secrets.open(row.sealed_state)).toString('utf8');
    },
  };
}

/**
 * Marks an assertion used; false when it already was (a replay). Atomic: of two requests
 * carrying the same assertion at once, one inserts and the other finds it there.
 */
export async function claimAssertion(services: Services, issuer: string, assertionId: string, notOnOrAfter: number | undefined, now: number): Promise<boolean> {
  await services.db.deleteFrom('saml_used_assertions').where('expires_at', '<=', now).execute();
  const key = createHash('sha256').update(issuer).update('\n').update(assertionId).digest('hex');
  const result = await services.db
    .insertInto('saml_used_assertions')
    .values({ assertion_key: key, expires_at: Math.max(now, notOnOrAfter ?? now + DEFAULT_ASSERTION_LIFETIME_MS) + 60_000 })
    .onConflict((conflict) => conflict.column('assertion_key').doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}
