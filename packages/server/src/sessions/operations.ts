/**
 * Session Manager's operations: StartSession (authorized on the target and the document),
 * ResumeSession and TerminateSession (on the session's ARN, tagged with its owner and target, so a
 * policy can let people end only their own), DescribeSessions.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, sessions as api, type control, type InputOf } from '@airlock/protocol';
import { roleUniqueId } from '../access/role-sessions.js';
import { decodeToken, encodeToken } from '../fleet/paging.js';
import { assumedRoleArn, callerAccount, type Principal } from '../identity/principal.js';
import { hashToken, newToken } from '../identity/tokens.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { SessionsTable } from '../storage/schema.js';
import { newNonce } from './broker.js';
import { takeOver } from './takeover.js';
import { recordingPlan } from './recording.js';
import { accountPreferences, loadSessionDocument } from './document-store.js';
import { REPLAY_OPERATIONS } from './replay.js';
import { findSession, sessionResource, startedByCaller, startResources } from './session-access.js';
import { SIMULATE_OPERATIONS } from './simulate.js';
import { resolveParameters, RUN_SHELL, sessionWork, type Preferences } from './documents.js';

const TOKEN_TTL_MS = 60_000;
const HISTORY_MS = 30 * 24 * 60 * 60 * 1000;
const ACTIVE: SessionsTable['status'][] = ['Connecting', 'Connected', 'Disconnected', 'Terminating'];
const ENDED: SessionsTable['status'][] = ['Terminated', 'Failed'];
export const RUN_AS_TAG = 'SSMSessionRunAs';

/** Who the caller is, as sessions name them: their name (in the id), ARN (Owner) and aws:userid. */
function owner(principal: Principal): { name: string; arn: string; userId: string } {
  switch (principal.kind) {
    case 'role':
      return { name: principal.userName, arn: assumedRoleArn(principal), userId: `${roleUniqueId(principal.roleName)}:${principal.userName}` };
    case 'root':
      return { name: 'root', arn: `arn:aws:iam::${principal.accountId}:root`, userId: principal.accountId };
    default:
      throw new ApiError('AccessDeniedException', 'Sessions need a role session: choose an account and permission set first.');
  }
}

/** `{name}-{17 hex}`, the name cut to the characters and length a session id allows. */
function newSessionId(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.@+=,-]/g, '_').slice(0, 78) || 'session';
  return `${safe}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** The client's data channel for a session on the node at `base` (several nodes: the node carrying it, reached directly). */
function streamUrl(services: Services, sessionId: string, base = services.cluster?.advertiseUrl() ?? services.publicUrl()): string {
  return `${base.replace(/^http/, 'ws')}/session/stream/${encodeURIComponent(sessionId)}`;
}

/** Several nodes: the URL of the live node carrying a session open elsewhere; undefined: none (or one node). */
async function carrierUrl(services: Services, row: SessionsTable): Promise<string | undefined> {
  if (services.cluster === undefined || row.node_id === services.agents.nodeId) return undefined;
  return services.cluster.nodes.liveUrl(row.node_id);
}

/** Run As: the principal's SSMSessionRunAs tag, else the preference's default; never root. */
function runAsFor(principal: Principal, preferences: Preferences): control.RunAs {
  if (!preferences.runAsEnabled) return { user: 'ssm-user' };
  const tagged = principal.kind === 'role' ? Object.entries(principal.tags).find(([key]) => key.toLowerCase() === RUN_AS_TAG.toLowerCase())?.[1] : undefined;
  const user = tagged ?? preferences.runAsDefaultUser;
  if (user === '') throw new ApiError('InvalidParameters', `Run As is on, but there is no user to run as: give the user the ${RUN_AS_TAG} attribute or set runAsDefaultUser.`);
  if (user === 'root') throw new ApiError('InvalidParameters', 'Run As root is not allowed.');
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new ApiError('InvalidParameters', `Run As user ${JSON.stringify(user)} is not a valid OS user name.`);
  return { user, named: true };
}

/* ---------------------------------------------------------------- StartSession */

async function startSession(input: InputOf<typeof api.StartSession>, { services, principal, now }: CallContext) {
  const accountId = callerAccount(principal);
  const who = owner(principal);
  const document = await loadSessionDocument(services.db, accountId, input.DocumentName ?? RUN_SHELL);
  // A Standard_Stream document carries its own preferences (the account's for SSM-SessionManagerRunShell); other sessions take the account's.
  const preferences = document.spec.sessionType === 'Standard_Stream' ? document.spec.preferences : await accountPreferences(services.db, accountId);
  const work = sessionWork(document, resolveParameters(document, input.Parameters), () => runAsFor(principal, preferences));
  const row = await services.db.selectFrom('instances').select(['instance_id', 'deregistered_at', 'last_ping_at', 'connected_node', 'lease_expires_at']).where('instance_id', '=', input.Target).where('account_id', '=', accountId).executeTakeFirst();
  if (row === undefined || services.agents.presence(row, now).status !== 'Online') {
    throw new ApiError('TargetNotConnected', `${input.Target} is not connected.`);
  }
  const recording = await recordingPlan(preferences, services.objects);
  const sessionId = newSessionId(who.name);
  const token = newToken('alt_');
  const nonce = newNonce();
  const session: SessionsTable = {
    session_id: sessionId,
    account_id: accountId,
    target: input.Target,
    owner_arn: who.arn,
    owner_user_id: who.userId,
    document_name: document.name,
    reason: input.Reason ?? null,
    work: JSON.stringify(work),
    status: 'Connecting',
    details: null,
    started_at: now,
    ended_at: null,
    idle_timeout_ms: preferences.idleSessionTimeoutMinutes * 60_000,
    max_duration_ms: preferences.maxSessionDurationMinutes === null ? null : preferences.maxSessionDurationMinutes * 60_000,
    node_id: services.agents.nodeId,
    token_hash: hashToken(token),
    token_expires_at: now + TOKEN_TTL_MS,
    agent_nonce: nonce,
    recording: JSON.stringify(recording),
    carriers: null,
    segments_delivered_at: null,
  };
  await services.db.insertInto('sessions').values(session).execute();
  const live = await services.sessions.open({ sessionId, instanceId: input.Target, work, startedAt: now, idleTimeoutMs: session.idle_timeout_ms, maxDurationMs: session.max_duration_ms, nonce });
  if (live === undefined) {
    await services.db.updateTable('sessions').set({ status: 'Failed', details: 'the target was not connected to this node', ended_at: now, token_hash: null }).where('session_id', '=', sessionId).execute();
    throw new ApiError('TargetNotConnected', `${input.Target} is not connected.`);
  }
  return { SessionId: sessionId, TokenValue: token, StreamUrl: streamUrl(services, sessionId) };
}

/* ---------------------------------------------------------------- one session */

async function resumeSession(input: InputOf<typeof api.ResumeSession>, { services, principal, now }: CallContext) {
  const found = await findSession(services, principal, input.SessionId);
  const moved = await carriedHereIfItsNodeDied(services, found);
  const row = moved ?? found;
  const live = services.sessions.get(row.session_id);
  // Terminating: ended through another node while its own was down; it is sealed when that node is back.
  const over = ENDED.includes(row.status) || row.status === 'Terminating';
  // Several nodes: a session carried by another live node resumes there (its links are there).
  const elsewhere = over || live !== undefined ? undefined : await carrierUrl(services, row);
  if (!over && live === undefined && elsewhere === undefined && services.cluster !== undefined && row.node_id !== services.agents.nodeId) {
    throw new ApiError('InternalServerException', `Session ${input.SessionId} is moving from node ${row.node_id}, which is not running, to another node: try again in a few seconds.`);
  }
  if (over || (live === undefined && elsewhere === undefined)) {
    throw new ApiError('DoesNotExistException', `Session ${input.SessionId} has ended${row.details === null ? '' : ` (${row.details})`}: start a new one.`);
  }
  const token = newToken('alt_');
  await services.db.updateTable('sessions').set({ token_hash: hashToken(token), token_expires_at: now + TOKEN_TTL_MS }).where('session_id', '=', row.session_id).execute();
  return { SessionId: row.session_id, TokenValue: token, StreamUrl: streamUrl(services, row.session_id, elsewhere) };
}

/**
 * Several nodes: a session whose node is not running moves here (takeover.ts) and this node
 * takes it up from its two ends; its row as it now stands. Undefined: nothing moved.
 */
async function carriedHereIfItsNodeDied(services: Services, row: SessionsTable): Promise<SessionsTable | undefined> {
  const { cluster } = services;
  const here = services.agents.nodeId;
  if (cluster === undefined || row.node_id === here || ENDED.includes(row.status) || row.status === 'Terminating' || row.agent_nonce === null) return undefined;
  if ((await cluster.nodes.liveUrl(row.node_id)) !== undefined) return undefined;
  // The clock read now, not at the request's start: the same moment the node was found dead.
  const taken = await takeOver(services.db, row, here, services.clock.now());
  if (taken === undefined) {
    // Another node took it first (or its node came back): the row says where it is now.
    return services.db.selectFrom('sessions').selectAll().where('session_id', '=', row.session_id).executeTakeFirst();
  }
  services.log.warn(`Sessions: ${row.session_id} was carried by node ${row.node_id}, which is not running; this node takes it over.`);
  try {
    await services.sessions.adopt(taken);
  } catch (error) {
    // Moved here but not taken up (its record here is unreadable): it ends rather than hang on a node that lacks it.
    services.log.error(`Sessions: taking ${row.session_id} over failed; it ends`, error);
    await services.db.updateTable('sessions').set({ status: 'Failed', details: 'the session could not be taken over by another node', ended_at: services.clock.now(), token_hash: null }).where('session_id', '=', row.session_id).where('node_id', '=', here).execute();
    throw error;
  }
  return taken;
}

async function terminateSession(input: InputOf<typeof api.TerminateSession>, { services, principal }: CallContext) {
  const row = await findSession(services, principal, input.SessionId);
  const live = services.sessions.get(row.session_id);
  const by = principal.kind === 'role' ? principal.userName : 'root';
  if (live !== undefined) services.sessions.end(live, 'Terminated', `terminated by ${by}`);
  else if (!ENDED.includes(row.status) && services.cluster !== undefined && row.node_id !== services.agents.nodeId) {
    // Carried by another node, which ends and seals it: told now if it runs, else when it is back
    // (it revives its sessions and ends those Terminating).
    await services.db.updateTable('sessions').set({ status: 'Terminating', details: `terminated by ${by}`, token_hash: null }).where('session_id', '=', row.session_id).where('status', 'not in', ENDED).execute();
    if ((await carrierUrl(services, row)) !== undefined) await services.cluster.relay.send({ kind: 'end', to: row.node_id, sessionId: row.session_id, reason: `terminated by ${by}` });
  } else if (!ENDED.includes(row.status)) {
    // Open in the record but not live here: its node is gone.
    await services.db.updateTable('sessions').set({ status: 'Terminated', details: `terminated by ${by}`, ended_at: services.clock.now(), token_hash: null }).where('session_id', '=', row.session_id).execute();
  }
  return { SessionId: row.session_id };
}

/* ---------------------------------------------------------------- DescribeSessions */

function isoTime(key: string, value: string): number {
  const time = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(time)) throw new ApiError('ValidationException', `${key} must be an ISO 8601 time such as 2024-08-29T00:00:00Z, not ${JSON.stringify(value)}.`);
  return time;
}

function describe(row: SessionsTable) {
  return {
    SessionId: row.session_id,
    Target: row.target,
    Status: row.status,
    StartDate: row.started_at / 1000,
    ...(row.ended_at === null ? {} : { EndDate: row.ended_at / 1000 }),
    DocumentName: row.document_name,
    Owner: row.owner_arn,
    ...(row.reason === null ? {} : { Reason: row.reason }),
    ...(row.details === null ? {} : { Details: row.details }),
    ...(row.max_duration_ms === null ? {} : { MaxSessionDuration: String(Math.round(row.max_duration_ms / 60_000)) }),
    AccessType: 'Standard' as const,
  };
}

async function describeSessions(input: InputOf<typeof api.DescribeSessions>, { services, principal, now }: CallContext) {
  const size = input.MaxResults ?? 20;
  let query = services.db
    .selectFrom('sessions')
    .selectAll()
    .where('account_id', '=', callerAccount(principal))
    .where('status', 'in', input.State === 'Active' ? ACTIVE : ENDED);
  if (input.State === 'History') query = query.where('started_at', '>=', now - HISTORY_MS);
  for (const { key, value } of input.Filters ?? []) {
    switch (key) {
      case 'InvokedAfter':
        query = query.where('started_at', '>=', isoTime(key, value));
        break;
      case 'InvokedBefore':
        query = query.where('started_at', '<', isoTime(key, value));
        break;
      case 'Target':
        query = query.where('target', '=', value);
        break;
      case 'Owner':
        query = query.where('owner_arn', '=', value);
        break;
      case 'Status':
        if (!(api.SESSION_STATUSES as readonly string[]).includes(value)) throw new ApiError('ValidationException', `Status must be one of ${api.SESSION_STATUSES.join(', ')}.`);
        query = query.where('status', '=', value as SessionsTable['status']);
        break;
      case 'SessionId':
        query = query.where('session_id', '=', value);
        break;
      case 'AccessType':
        if (value !== 'Standard') query = query.where('session_id', '=', '');
        break;
    }
  }
  // The token names the State it pages through: one from the other list is not a place in this one.
  const token = decodeToken(input.NextToken);
  const [tokenState, startedText, sessionId] = token?.split(' ') ?? [];
  const startedAt = Number(startedText);
  if (token !== undefined && (tokenState !== input.State || !Number.isSafeInteger(startedAt) || sessionId === undefined)) {
    throw new ApiError('InvalidNextToken', `NextToken is not a token DescribeSessions returned for State ${input.State}.`);
  }
  if (token !== undefined && sessionId !== undefined) {
    query = query.where((eb) => eb.or([eb('started_at', '<', startedAt), eb.and([eb('started_at', '=', startedAt), eb('session_id', '<', sessionId)])]));
  }
  const rows = await query.orderBy('started_at', 'desc').orderBy('session_id', 'desc').limit(size + 1).execute();
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  return { Sessions: page.map(describe), ...(rows.length > size && last !== undefined ? { NextToken: encodeToken(`${input.State} ${last.started_at} ${last.session_id}`) } : {}) };
}

export const SESSION_OPERATIONS: readonly BoundOperation[] = [
  bind(api.StartSession, startSession, { resources: startResources }),
  // Resuming one's own live session is part of having started it (the guide's policies grant no
  // ssm:ResumeSession, yet a dropped network must not end the session); anyone else needs the policy.
  bind(api.ResumeSession, resumeSession, { resources: sessionResource, callersOwn: startedByCaller }),
  bind(api.TerminateSession, terminateSession, { resources: sessionResource }),
  bind(api.DescribeSessions, describeSessions),
  ...REPLAY_OPERATIONS,
  ...SIMULATE_OPERATIONS,
];
