/**
 * The hash chain of the audit trail, and the columns derived from a record. Everything here is
 * part of the stored format: a change makes existing trails fail verification, so don't.
 *
 *   hash = hex(SHA-256(canonicalJson([seq, prev_hash, record])))
 *
 * where `record` is the record as stored (its JSON text, parsed) and canonicalJson is JSON with
 * object keys sorted and no whitespace (RFC 8785's rules for the values JSON text can hold). The
 * first record's prev_hash is GENESIS_HASH; every other record's is the hash of the one before.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with sorted keys and no whitespace: one text per value, whatever order its keys came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    const members = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
    return `{${members.join(',')}}`;
  }
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`${typeof value} has no JSON form`);
  return text;
}

export function chainHash(seq: number, prevHash: string, record: unknown): string {
  return createHash('sha256').update(canonicalJson([seq, prevHash, record])).digest('hex');
}

/** The index columns of audit_events that come from the record's userIdentity. */
export interface IdentityColumns {
  readonly user_name: string | null;
  readonly access_key_id: string | null;
}

/** LookupEvents' Username (root for the root token) and AccessKeyId, from a parsed record. */
export function identityColumns(record: unknown): IdentityColumns {
  const identity = field(record, 'userIdentity');
  const userName = field(identity, 'userName');
  const accessKeyId = field(identity, 'accessKeyId');
  return {
    user_name: typeof userName === 'string' ? userName : field(identity, 'type') === 'Root' ? 'root' : null,
    access_key_id: typeof accessKeyId === 'string' ? accessKeyId : null,
  };
}

export function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}
