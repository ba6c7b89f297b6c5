/**
 * Cloud join: an EC2 instance registers with its instance identity document, which AWS signs,
 * instead of an activation code (ssm:RegisterEC2Instance, Airlock's own operation). The
 * signature is checked against the configured certificates, the account against the allow-list;
 * the instance is registered under its own id (i-…), in the account and region the document
 * names, with the tags the metadata service showed the agent.
 *
 * The document does not change while an instance runs, and any process on the instance can read
 * it, so it is a credential that can be replayed. Hence:
 *   - an instance registers once per launch: a new key for a registered instance is accepted only
 *     with a document from a later launch (pendingTime moves on a stop and start), and then it
 *     replaces the old key (revoked at once; the old agent is cut off);
 *   - a deregistered instance never registers again (as an mi- id is never reused);
 *   - optionally (cloudJoinMaxAge), only instances launched recently may join at all.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, control, type fleet as api, type InputOf } from '@airlock/protocol';
import type { CallContext } from '../registry/handler.js';
import { checkPublicKey } from './activations.js';
import { verifyIdentityDocument } from './identity-document.js';
import { insertFirstTags, newInstanceRow } from './new-instance.js';
import { checkTags } from './tags.js';

/** How far in the future a launch time may be (clocks differ). */
const CLOCK_SKEW_MS = 5 * 60_000;

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

function duration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, name] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms === size ? '' : 's'}`;
  return `${Math.round(ms / 1000)} seconds`;
}

async function registerEC2Instance(input: InputOf<typeof api.RegisterEC2Instance>, { services, now }: CallContext) {
  const settings = services.config.cloudJoin;
  if (settings === undefined) {
    throw new ApiError(
      'UnsupportedOperationException',
      "Cloud join is off on this server: it needs AWS's identity document certificates (--cloud-join-certificates) and the AWS accounts allowed to join (--cloud-join-accounts). Register with an activation instead.",
    );
  }
  const identity = verifyIdentityDocument(input.IdentityDocument, input.IdentityDocumentSignature, input.SignatureFormat ?? 'PKCS7', settings.certificates);
  const instanceId = identity.instanceId;
  if (!settings.accounts.has(identity.accountId)) {
    throw new ApiError('AccessDeniedException', `Instances of AWS account ${identity.accountId} may not join this server: the account is not one of its cloud join accounts.`);
  }
  if (identity.pendingTime > now + CLOCK_SKEW_MS) {
    throw new ApiError('InvalidIdentityDocument', `${instanceId} launched at ${iso(identity.pendingTime)}, in the future of this server (${iso(now)}): check the clocks.`);
  }
  if (settings.maxAgeMs !== undefined && now - identity.pendingTime > settings.maxAgeMs) {
    throw new ApiError(
      'InvalidIdentityDocument',
      `${instanceId} launched at ${iso(identity.pendingTime)}; this server takes only instances launched in the last ${duration(settings.maxAgeMs)}. Stop and start the instance to join now.`,
    );
  }
  const keyHash = checkPublicKey(input.PublicKey);
  const tags = input.Tags === undefined ? undefined : checkTags(input.Tags);
  const connectionId = randomUUID();

  // The instance belongs to the Airlock account with the AWS account's id, if there is one;
  // otherwise to the management account, so that someone sees it.
  const ownAccount = await services.db.selectFrom('accounts').select('account_id').where('account_id', '=', identity.accountId).executeTakeFirst();
  const accountId = ownAccount?.account_id ?? services.accountId;

  const replaced = await services.db.transaction().execute(async (trx) => {
    const clash = await trx.selectFrom('instances').select('instance_id').where('public_key_hash', '=', keyHash).executeTakeFirst();
    if (clash !== undefined) throw new ApiError('InstanceAlreadyRegistered', `This public key is already registered (${clash.instance_id}); register with a new key pair.`);
    const existing = await trx.selectFrom('instances').select(['instance_id', 'account_id', 'deregistered_at', 'launched_at', 'registered_at']).where('instance_id', '=', instanceId).executeTakeFirst();
    if (existing === undefined) {
      const inserted = await trx
        .insertInto('instances')
        .values(
          newInstanceRow({
            instance_id: instanceId,
            resource_type: 'EC2Instance',
            account_id: accountId,
            region: identity.region,
            launched_at: identity.pendingTime,
            fingerprint: input.Fingerprint,
            public_key: input.PublicKey,
            public_key_hash: keyHash,
            registered_at: now,
            ip_address: identity.privateIp ?? null,
          }),
        )
        .onConflict((conflict) => conflict.column('instance_id').doNothing())
        .returning('instance_id')
        .executeTakeFirst();
      if (inserted === undefined) throw new ApiError('InstanceAlreadyRegistered', `${instanceId} was registered a moment ago by another call.`);
      await insertFirstTags(trx, instanceId, tags ?? []);
      return false;
    }
    if (existing.deregistered_at !== null) {
      throw new ApiError('InvalidInstanceId', `${instanceId} was deregistered at ${iso(existing.deregistered_at)}; a deregistered instance never registers again.`);
    }
    if (existing.account_id !== accountId) {
      throw new ApiError('InstanceAlreadyRegistered', `${instanceId} is registered in another account.`);
    }
    // A new key for a registered instance: only with a document from a later launch, which a
    // document captured before (the same launch or an earlier one) cannot be.
    const replacedRow = await trx
      .updateTable('instances')
      .set({
        public_key: input.PublicKey,
        public_key_hash: keyHash,
        fingerprint: input.Fingerprint,
        launched_at: identity.pendingTime,
        region: identity.region,
        ip_address: identity.privateIp ?? null,
        registered_at: now,
        // A new connection id: the node holding the old key's connection (this one or another) drops it.
        connected_node: null,
        connection_id: connectionId,
        connected_at: now,
      })
      .where('instance_id', '=', instanceId)
      .where('deregistered_at', 'is', null)
      .where((eb) => eb.or([eb('launched_at', 'is', null), eb('launched_at', '<', identity.pendingTime)]))
      .executeTakeFirst();
    if (replacedRow.numUpdatedRows === 0n) {
      throw new ApiError(
        'InstanceAlreadyRegistered',
        `${instanceId} is registered already (since ${iso(existing.registered_at)}) with another key, by a document from its launch at ${iso(existing.launched_at ?? 0)}. ` +
          'A new key replaces it only with the document of a later launch: stop and start the instance (a reboot is not enough), then register again.',
      );
    }
    if (tags !== undefined) {
      await trx.deleteFrom('instance_tags').where('instance_id', '=', instanceId).execute();
      if (tags.length > 0) await trx.insertInto('instance_tags').values(tags.map((tag) => ({ instance_id: instanceId, key: tag.Key, value: tag.Value }))).execute();
    }
    return true;
  });
  if (replaced) services.agents.get(instanceId)?.close(control.AgentCloseCode.Unauthorized, 'the instance registered again with a new key');
  return { InstanceId: instanceId };
}

export const cloudJoinHandlers = { registerEC2Instance };
