/**
 * What the session operations act on, for the access check: a new session's target (with its
 * tags) and document, an existing session's ARN (tagged with its owner and target), and
 * whether the caller started it.
 */
import type { sessions as api} from '@airlock/protocol';
import { ApiError, type InputOf } from '@airlock/protocol';
import { instanceArn } from '../fleet/arns.js';
import { assumedRoleArn, callerAccount, type Principal } from '../identity/principal.js';
import type { CallContext, ResourceRef } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { SessionsTable } from '../storage/schema.js';
import { documentResource } from './document-store.js';

export function sessionArn(services: Services, accountId: string, sessionId: string): string {
  return `arn:aws:ssm:${services.config.region}:${accountId}:session/${sessionId}`;
}

/** The target's and (when named) the document's ARNs; ssm:SessionDocumentAccessCheck as AWS sets it. */
export async function startResources(input: InputOf<typeof api.StartSession>, context: CallContext): Promise<readonly ResourceRef[]> {
  const { services, principal } = context;
  const accountId = callerAccount(principal);
  const row = await services.db.selectFrom('instances').select(['instance_id', 'account_id', 'region']).where('instance_id', '=', input.Target).where('account_id', '=', accountId).executeTakeFirst();
  const tags = row === undefined ? undefined : await services.db.selectFrom('instance_tags').select(['key', 'value']).where('instance_id', '=', row.instance_id).execute();
  const target: ResourceRef = {
    arn: instanceArn(row ?? { instance_id: input.Target, account_id: accountId, region: null }, services.config.region),
    ...(tags === undefined ? {} : { tags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])) }),
  };
  if (input.DocumentName === undefined) return [{ ...target, context: { 'ssm:SessionDocumentAccessCheck': 'false' } }];
  return [target, await documentResource(input.DocumentName, context)];
}

export async function sessionResource(input: { readonly SessionId: string }, { services, principal }: CallContext): Promise<readonly ResourceRef[]> {
  const accountId = callerAccount(principal);
  const row = await services.db.selectFrom('sessions').select(['owner_user_id', 'target']).where('session_id', '=', input.SessionId).where('account_id', '=', accountId).executeTakeFirst();
  const arn = sessionArn(services, accountId, input.SessionId);
  return [row === undefined ? { arn } : { arn, tags: { 'aws:ssmmessages:session-id': row.owner_user_id, 'aws:ssmmessages:target-id': row.target } }];
}

export async function startedByCaller(input: { readonly SessionId: string }, { services, principal }: CallContext): Promise<boolean> {
  if (principal.kind !== 'role') return false;
  const row = await services.db.selectFrom('sessions').select(['owner_arn']).where('session_id', '=', input.SessionId).where('account_id', '=', principal.accountId).executeTakeFirst();
  return row?.owner_arn === assumedRoleArn(principal);
}

export async function findSession(services: Services, principal: Principal, sessionId: string): Promise<SessionsTable> {
  const row = await services.db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).where('account_id', '=', callerAccount(principal)).executeTakeFirst();
  if (row === undefined) throw new ApiError('DoesNotExistException', `Session ${sessionId} does not exist.`);
  return row;
}

