/**
 * EventBridge's rule and target operations (service `events`), on the caller's account's one
 * event bus, `default`. Rule operations are authorized on the rule's ARN,
 * `arn:aws:events:{region}:{account}:rule/{name}`, as AWS does.
 */
import { ApiError, events as api, type InputOf } from '@airlock/protocol';
import { sql } from 'kysely';
import { decodeNextToken, page } from '../identity/paging.js';
import { callerAccount } from '../identity/principal.js';
import { bind, type BoundOperation, type CallContext, type ResourceRef } from '../registry/handler.js';
import type { EventRulesTable } from '../storage/schema.js';
import { compilePattern, PatternError } from './pattern.js';
import { checkHttpParameters, newSigningSecret, readDestination } from './targets.js';

export function ruleArn(region: string, accountId: string, name: string): string {
  return `arn:aws:events:${region}:${accountId}:rule/${name}`;
}

/** The account's one bus: absent, `default`, or its ARN. */
function checkBus(name: string | undefined, { services, principal }: CallContext): void {
  if (name === undefined || name === api.DEFAULT_EVENT_BUS) return;
  if (name === `arn:aws:events:${services.config.region}:${callerAccount(principal)}:event-bus/${api.DEFAULT_EVENT_BUS}`) return;
  throw new ApiError('ResourceNotFoundException', `Event bus ${name} does not exist. Airlock has one event bus an account: ${api.DEFAULT_EVENT_BUS}.`);
}

const noSuchRule = (name: string): ApiError => new ApiError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${api.DEFAULT_EVENT_BUS}.`);

async function requireRule(context: CallContext, name: string, bus: string | undefined): Promise<EventRulesTable> {
  checkBus(bus, context);
  const row = await context.services.db.selectFrom('event_rules').selectAll().where('account_id', '=', callerAccount(context.principal)).where('name', '=', name).executeTakeFirst();
  if (row === undefined) throw noSuchRule(name);
  return row;
}

function checkPattern(text: string): void {
  try {
    compilePattern(text);
  } catch (error) {
    if (error instanceof PatternError) throw new ApiError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${error.message}`);
    throw error;
  }
}

function ruleFields(row: EventRulesTable, region: string) {
  return {
    Name: row.name,
    Arn: ruleArn(region, row.account_id, row.name),
    EventPattern: row.event_pattern,
    State: row.state,
    ...(row.description === null ? {} : { Description: row.description }),
    EventBusName: api.DEFAULT_EVENT_BUS,
  };
}

/* ---------------------------------------------------------------- rules */

async function putRule(input: InputOf<typeof api.PutRule>, context: CallContext) {
  checkBus(input.EventBusName, context);
  checkPattern(input.EventPattern);
  const { services, now } = context;
  const accountId = callerAccount(context.principal);
  const fields = { event_pattern: input.EventPattern, state: input.State ?? 'ENABLED', description: input.Description ?? null, updated_at: now };
  await services.db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable('event_rules').set(fields).where('account_id', '=', accountId).where('name', '=', input.Name).executeTakeFirst();
    if (updated.numUpdatedRows > 0n) return;
    const { count } = await trx.selectFrom('event_rules').select((eb) => eb.fn.countAll<number | string | bigint>().as('count')).where('account_id', '=', accountId).executeTakeFirstOrThrow();
    if (Number(count) >= api.MAX_RULES) throw new ApiError('LimitExceededException', `An event bus holds at most ${api.MAX_RULES} rules; delete one first.`);
    await trx.insertInto('event_rules').values({ account_id: accountId, name: input.Name, created_at: now, ...fields }).execute();
  });
  return { RuleArn: ruleArn(services.config.region, accountId, input.Name) };
}

async function describeRule(input: InputOf<typeof api.DescribeRule>, context: CallContext) {
  const row = await requireRule(context, input.Name, input.EventBusName);
  return { ...ruleFields(row, context.services.config.region), CreatedBy: row.account_id };
}

async function listRules(input: InputOf<typeof api.ListRules>, context: CallContext) {
  checkBus(input.EventBusName, context);
  const size = input.Limit ?? 100;
  const after = decodeNextToken(input.NextToken);
  let query = context.services.db.selectFrom('event_rules').selectAll().where('account_id', '=', callerAccount(context.principal));
  // substr, not LIKE or a range: exact and case-sensitive on both databases, whatever their collation.
  if (input.NamePrefix !== undefined) query = query.where(sql<string>`substr(name, 1, ${input.NamePrefix.length})`, '=', input.NamePrefix);
  if (after !== undefined) query = query.where('name', '>', after);
  const { items, nextToken } = page(await query.orderBy('name').limit(size + 1).execute(), size, (row) => row.name);
  return { Rules: items.map((row) => ruleFields(row, context.services.config.region)), ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}

async function deleteRule(input: InputOf<typeof api.DeleteRule>, context: CallContext) {
  checkBus(input.EventBusName, context);
  const accountId = callerAccount(context.principal);
  await context.services.db.transaction().execute(async (trx) => {
    const target = await trx.selectFrom('event_targets').select('target_id').where('account_id', '=', accountId).where('rule_name', '=', input.Name).limit(1).executeTakeFirst();
    if (target !== undefined) throw new ApiError('ValidationException', `Rule can't be deleted since it has targets: remove them first (events remove-targets --rule ${input.Name} --ids …).`);
    await trx.deleteFrom('event_rules').where('account_id', '=', accountId).where('name', '=', input.Name).execute();
    await trx.deleteFrom('event_deliveries').where('account_id', '=', accountId).where('rule_name', '=', input.Name).execute();
  });
  return {};
}

/* ---------------------------------------------------------------- targets */

type TargetInput = InputOf<typeof api.PutTargets>['Targets'][number];

async function putTargets(input: InputOf<typeof api.PutTargets>, context: CallContext) {
  const { services, now } = context;
  const rule = await requireRule(context, input.Rule, input.EventBusName);
  const ids = input.Targets.map((target) => target.Id);
  const twice = ids.find((id, index) => ids.indexOf(id) !== index);
  if (twice !== undefined) throw new ApiError('ValidationException', `Targets: the Id ${twice} is given twice.`);
  input.Targets.forEach((target, index) => {
    checkTarget(target, `Targets[${index}]`);
  });
  const made: { Id: string; SigningSecret: string }[] = [];
  await services.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('event_targets').select(['target_id', 'signing_secret']).where('account_id', '=', rule.account_id).where('rule_name', '=', rule.name).execute();
    const after = new Set([...existing.map((row) => row.target_id), ...ids]);
    if (after.size > api.MAX_TARGETS_PER_RULE) throw new ApiError('LimitExceededException', `A rule has at most ${api.MAX_TARGETS_PER_RULE} targets; ${rule.name} would have ${after.size}.`);
    for (const target of input.Targets) {
      const webhook = readDestination(target.Arn, target.Id).kind === 'webhook';
      let secret = webhook ? target.SigningSecret : undefined;
      const kept = existing.find((row) => row.target_id === target.Id)?.signing_secret ?? null;
      if (webhook && secret === undefined && kept === null) {
        secret = newSigningSecret();
        made.push({ Id: target.Id, SigningSecret: secret });
      }
      const sealed = secret === undefined ? (webhook ? kept : null) : services.secrets.seal(Buffer.from(secret, 'utf8'));
      const row = {
        arn: target.Arn,
        http_parameters: target.HttpParameters === undefined ? null : services.secrets.seal(Buffer.from(JSON.stringify(target.HttpParameters), 'utf8')),
        max_retry_attempts: target.RetryPolicy?.MaximumRetryAttempts ?? api.MAX_RETRY_ATTEMPTS,
        max_event_age_seconds: target.RetryPolicy?.MaximumEventAgeInSeconds ?? api.MAX_EVENT_AGE_SECONDS,
        signing_secret: sealed,
        updated_at: now,
      };
      const updated = await trx.updateTable('event_targets').set(row).where('account_id', '=', rule.account_id).where('rule_name', '=', rule.name).where('target_id', '=', target.Id).executeTakeFirst();
      if (updated.numUpdatedRows === 0n) {
        await trx.insertInto('event_targets').values({ account_id: rule.account_id, rule_name: rule.name, target_id: target.Id, created_at: now, ...row }).execute();
      }
    }
  });
  return { FailedEntryCount: 0, FailedEntries: [], ...(made.length === 0 ? {} : { SigningSecrets: made }) };
}

function checkTarget(target: TargetInput, at: string): void {
  const destination = readDestination(target.Arn, `${at}.Arn`);
  if (destination.kind === 'email') {
    if (target.HttpParameters !== undefined) throw new ApiError('ValidationException', `${at}.HttpParameters: only webhook targets take HTTP parameters.`);
    if (target.SigningSecret !== undefined) throw new ApiError('ValidationException', `${at}.SigningSecret: only webhook targets are signed.`);
  } else if (target.HttpParameters !== undefined) {
    checkHttpParameters(target.HttpParameters, `${at}.HttpParameters`);
  }
}

async function listTargetsByRule(input: InputOf<typeof api.ListTargetsByRule>, context: CallContext) {
  const rule = await requireRule(context, input.Rule, input.EventBusName);
  const size = input.Limit ?? 100;
  const after = decodeNextToken(input.NextToken);
  let query = context.services.db
    .selectFrom('event_targets')
    .select(['target_id', 'arn', 'http_parameters', 'max_retry_attempts', 'max_event_age_seconds'])
    .where('account_id', '=', rule.account_id)
    .where('rule_name', '=', rule.name);
  if (after !== undefined) query = query.where('target_id', '>', after);
  const { items, nextToken } = page(await query.orderBy('target_id').limit(size + 1).execute(), size, (row) => row.target_id);
  const { secrets } = context.services;
  return {
    Targets: items.map((row) => ({
      Id: row.target_id,
      Arn: row.arn,
      ...(row.http_parameters === null ? {} : { HttpParameters: JSON.parse(Buffer.from(secrets.open(row.http_parameters)).toString('utf8')) as TargetInput['HttpParameters'] & object }),
      RetryPolicy: { MaximumRetryAttempts: row.max_retry_attempts, MaximumEventAgeInSeconds: row.max_event_age_seconds },
    })),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
}

async function removeTargets(input: InputOf<typeof api.RemoveTargets>, context: CallContext) {
  const rule = await requireRule(context, input.Rule, input.EventBusName);
  await context.services.db.deleteFrom('event_targets').where('account_id', '=', rule.account_id).where('rule_name', '=', rule.name).where('target_id', 'in', input.Ids).execute();
  return { FailedEntryCount: 0, FailedEntries: [] };
}

/* ---------------------------------------------------------------- patterns and deliveries */

function testEventPattern(input: InputOf<typeof api.TestEventPattern>) {
  checkPattern(input.EventPattern);
  let event: unknown;
  try {
    event = JSON.parse(input.Event);
  } catch {
    throw new ApiError('ValidationException', 'Event is not valid JSON.');
  }
  const missing = ['id', 'account', 'source', 'time', 'region', 'detail-type'].filter((field) => typeof (event as Record<string, unknown> | null)?.[field] !== 'string');
  if (typeof event !== 'object' || event === null || Array.isArray(event) || missing.length > 0) {
    throw new ApiError('ValidationException', `Event must be a JSON object with the string fields id, account, source, time, region and detail-type${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}.`);
  }
  return Promise.resolve({ Result: compilePattern(input.EventPattern).matches(event) });
}

const seconds = (ms: number): number => ms / 1000;

async function listRuleDeliveries(input: InputOf<typeof api.ListRuleDeliveries>, context: CallContext) {
  const rule = await requireRule(context, input.Rule, input.EventBusName);
  const size = input.Limit ?? 100;
  const after = readDeliveryToken(decodeNextToken(input.NextToken));
  let query = context.services.db.selectFrom('event_deliveries').selectAll().where('account_id', '=', rule.account_id).where('rule_name', '=', rule.name);
  if (input.TargetId !== undefined) query = query.where('target_id', '=', input.TargetId);
  if (input.Status !== undefined) query = query.where('status', '=', input.Status);
  if (after !== undefined) {
    query = query.where((eb) => eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('delivery_id', '<', after.id)])]));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('delivery_id', 'desc').limit(size + 1).execute();
  const { items, nextToken } = page(rows, size, (row) => `${row.created_at}/${row.delivery_id}`);
  return {
    Deliveries: items.map((row) => ({
      DeliveryId: row.delivery_id,
      TargetId: row.target_id,
      Endpoint: row.endpoint,
      EventId: row.event_id,
      Source: row.source,
      DetailType: row.detail_type,
      EventTime: seconds(row.event_time),
      Status: row.status,
      Attempts: row.attempts,
      ...(row.last_attempt_at === null ? {} : { LastAttemptTime: seconds(row.last_attempt_at) }),
      ...(row.status === 'PENDING' ? { NextAttemptTime: seconds(row.next_attempt_at) } : {}),
      ...(row.last_error === null ? {} : { LastError: row.last_error }),
    })),
    ...(nextToken === undefined ? {} : { NextToken: nextToken }),
  };
}

function readDeliveryToken(key: string | undefined): { createdAt: number; id: string } | undefined {
  if (key === undefined) return undefined;
  const match = /^(\d+)\/(.+)$/.exec(key);
  if (match?.[1] === undefined || match[2] === undefined) throw new ApiError('ValidationException', 'NextToken is not a token this operation returned.');
  return { createdAt: Number(match[1]), id: match[2] };
}

/* ---------------------------------------------------------------- binding */

/** The rule a call names, as a resource for the access check. */
function ruleNamed(name: string, { services, principal }: CallContext): Promise<readonly ResourceRef[]> {
  return Promise.resolve([{ arn: ruleArn(services.config.region, callerAccount(principal), name) }]);
}

export const EVENTS_OPERATIONS: readonly BoundOperation[] = [
  bind(api.PutRule, putRule, { resources: (input, context) => ruleNamed(input.Name, context) }),
  bind(api.DescribeRule, describeRule, { resources: (input, context) => ruleNamed(input.Name, context) }),
  bind(api.ListRules, listRules),
  bind(api.DeleteRule, deleteRule, { resources: (input, context) => ruleNamed(input.Name, context) }),
  bind(api.PutTargets, putTargets, { resources: (input, context) => ruleNamed(input.Rule, context) }),
  bind(api.ListTargetsByRule, listTargetsByRule, { resources: (input, context) => ruleNamed(input.Rule, context) }),
  bind(api.RemoveTargets, removeTargets, { resources: (input, context) => ruleNamed(input.Rule, context) }),
  bind(api.TestEventPattern, testEventPattern),
  bind(api.ListRuleDeliveries, listRuleDeliveries, { resources: (input, context) => ruleNamed(input.Rule, context) }),
];
