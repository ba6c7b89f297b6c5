/**
 * A newly registered instance, as both registrations (an activation's `mi-`, a cloud join's
 * `i-`) write it: what registration knows, and nothing yet of its agent, which fills the rest in
 * at its first hello.
 */
import type { Transaction } from 'kysely';
import type { Database, InstancesTable } from '../storage/schema.js';
import type { Tag } from './tags.js';

type Known = Pick<InstancesTable, 'instance_id' | 'resource_type' | 'account_id' | 'region' | 'fingerprint' | 'public_key' | 'public_key_hash' | 'registered_at'> &
  Partial<Pick<InstancesTable, 'activation_id' | 'iam_role' | 'name' | 'ip_address' | 'launched_at'>>;

export function newInstanceRow(known: Known): InstancesTable {
  return {
    activation_id: null,
    iam_role: null,
    name: null,
    ip_address: null,
    launched_at: null,
    deregistered_at: null,
    agent_version: null,
    platform_type: null,
    platform_name: null,
    platform_version: null,
    computer_name: null,
    inventory: null,
    last_ping_at: null,
    connected_node: null,
    connection_id: null,
    connected_at: null,
    lease_expires_at: null,
    ...known,
  };
}

/** The tags a new instance starts with (its activation's, or its metadata's). */
export async function insertFirstTags(trx: Transaction<Database>, instanceId: string, tags: readonly Tag[]): Promise<void> {
  if (tags.length > 0) await trx.insertInto('instance_tags').values(tags.map((tag) => ({ instance_id: instanceId, key: tag.Key, value: tag.Value }))).execute();
}
