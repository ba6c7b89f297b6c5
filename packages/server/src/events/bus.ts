/**
 * The event bus (EventBridge's role): events in, matched against the account's enabled rules,
 * and one delivery queued in the database for each endpoint of each matching rule's targets.
 * Delivery is at least once: a delivery stays PENDING until its endpoint takes it or its
 * target's RetryPolicy gives up (FAILED), across restarts.
 *
 * Any node may deliver any delivery. A node claims one with a conditional UPDATE (only while it
 * is PENDING, due and unclaimed or its claim has lapsed), so two nodes never attempt it at once;
 * a node that dies mid-attempt leaves a claim that lapses after `leaseMs`, and another node
 * retries. Due times, claims and backoff follow the services' clock, so tests can move it; the
 * queue is looked at every `pollMs` of real time, and at once when this node queues something.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AuditRecord } from '../audit/trail.js';
import type { SecretBox } from '../identity/secrets.js';
import type { Mailer } from '../mail/mailer.js';
import type { Db } from '../storage/db.js';
import type { EventDeliveriesTable } from '../storage/schema.js';
import { mailEvent, postWebhook, type Outcome } from './deliver.js';
import { OneAtATime } from './one-at-a-time.js';
import { compilePattern, type CompiledPattern } from './pattern.js';
import { auditEvents, connectionLost, sessionEnded } from './sources.js';
import { endpointsOf, readDestination, type HttpParameters } from './targets.js';

/** An event as a producer gives it; the bus adds the id, time, region and version. */
export interface EventInput {
  readonly source: string;
  readonly detailType: string;
  /** The account whose rules see it. */
  readonly account: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
  /** Epoch milliseconds; default: now by the services' clock. */
  readonly time?: number;
}

/** An event as rules match it and targets receive it: EventBridge's envelope. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  /** ISO 8601 UTC, to the second, as EventBridge writes it. */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface EventBusDeps {
  readonly db: Db;
  readonly clock: { now(): number };
  readonly log: { error(message: string, error?: unknown): void };
  readonly mailer: Mailer;
  readonly secrets: SecretBox;
  readonly region: string;
  /** The management account: it hears the events of callers without an account (failed sign-ins). */
  readonly accountId: string;
}

export interface EventBusOptions {
  /** How often the queue is looked at (real time); 1 s. */
  readonly pollMs: number;
  /** How long a claim holds before another node may take the delivery over (services' clock); 5 minutes. */
  readonly leaseMs: number;
  /** How long a webhook has to answer; 10 s. */
  readonly requestTimeoutMs: number;
  /** Attempts this node makes at once; 16. */
  readonly maxInFlight: number;
  /** How long finished deliveries stay listed (services' clock); 14 days. */
  readonly retentionMs: number;
}

export const DEFAULT_EVENT_BUS_OPTIONS: EventBusOptions = {
  pollMs: 1_000,
  leaseMs: 5 * 60_000,
  requestTimeoutMs: 10_000,
  maxInFlight: 16,
  retentionMs: 14 * 24 * 60 * 60_000,
};

/** Backoff after the nth failed attempt: 1 s, 2 s, 4 s … up to 10 minutes, each up to a quarter longer at random. */
export function backoffMs(attempts: number): number {
  const base = Math.min(1_000 * 2 ** Math.min(attempts - 1, 30), 10 * 60_000);
  return Math.round(base * (1 + Math.random() / 4));
}

/** The finished deliveries are purged at most this often (real time). */
const PURGE_INTERVAL_MS = 10 * 60_000;
/** Patterns compiled and kept, by their text. */
const PATTERN_CACHE_SIZE = 1_000;

type Claimed = Pick<
  EventDeliveriesTable,
  'delivery_id' | 'account_id' | 'rule_name' | 'target_id' | 'endpoint' | 'event_id' | 'body' | 'attempts' | 'max_attempts' | 'expires_at'
>;

export class EventBus {
  /** Claims this process makes carry its id. */
  readonly nodeId = randomUUID();
  private readonly settings: EventBusOptions;
  private readonly patterns = new Map<string, CompiledPattern>();
  private readonly inFlight = new Map<string, { readonly done: Promise<void>; readonly abort: AbortController }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly scanner = new OneAtATime(
    () => this.scan(),
    (error) => {
      if (!this.closed) this.deps.log.error('events: looking at the delivery queue failed', error);
    },
  );
  private closed = false;
  private lastPurge = -Infinity;
  /** Events being read for (sessionEnded, instanceConnectionLost) and not yet queued. */
  private readonly finding = new Set<Promise<void>>();

  constructor(
    private readonly deps: EventBusDeps,
    options: Partial<EventBusOptions> = {},
  ) {
    this.settings = { ...DEFAULT_EVENT_BUS_OPTIONS, ...options };
  }

  /**
   * Puts events on the bus: each is matched against its account's enabled rules, and deliveries
   * are queued for the matching rules' targets before this resolves. Never rejects: a failure is
   * logged (an event is a notification, never a reason for the call that made it to fail).
   */
  async emit(...inputs: readonly EventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    try {
      const now = this.deps.clock.now();
      const rows: EventDeliveriesTable[] = [];
      for (const account of new Set(inputs.map((input) => input.account))) {
        const mine = inputs.filter((input) => input.account === account).map((input) => this.envelope(input, now));
        rows.push(...(await this.deliveriesFor(account, mine, now)));
      }
      if (rows.length === 0) return;
      await this.deps.db.insertInto('event_deliveries').values(rows).execute();
      this.kick();
    } catch (error) {
      this.deps.log.error(`events: queueing ${inputs.map((input) => input.detailType).join(', ')} failed`, error);
    }
  }

  /** The audit trail's hook: the events an API call makes (audit/trail.ts calls it for every record). */
  async recorded(record: AuditRecord): Promise<void> {
    await this.emit(...auditEvents(record, this.deps.accountId));
  }

  /** The session broker's call when a session ends: Terminated (an exit, TerminateSession, a timeout) or Failed. */
  async sessionEnded(sessionId: string, status: 'Terminated' | 'Failed', reason: string): Promise<void> {
    await this.emitFound(() => sessionEnded(this.deps.db, this.deps.region, sessionId, status, reason), `the end of session ${sessionId}`);
  }

  /** The agents' hub's call when an instance's control channel closed and no other took its place. */
  async instanceConnectionLost(instanceId: string, reason: string): Promise<void> {
    await this.emitFound(() => connectionLost(this.deps.db, this.deps.region, instanceId, reason), `the connection of ${instanceId}`);
  }

  /** Reads what the event needs, then emits it; close() waits for these (a session ended at shutdown is still queued). */
  private async emitFound(find: () => Promise<EventInput | undefined>, what: string): Promise<void> {
    const done = (async () => {
      try {
        const input = await find();
        if (input !== undefined) await this.emit(input);
      } catch (error) {
        this.deps.log.error(`events: reading ${what} for its event failed`, error);
      }
    })();
    this.finding.add(done);
    try {
      await done;
    } finally {
      this.finding.delete(done);
    }
  }

  private envelope(input: EventInput, now: number): BusEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': input.detailType,
      source: input.source,
      account: input.account,
      time: new Date(input.time ?? now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.deps.region,
      resources: input.resources ?? [],
      // Exactly what JSON carries (no undefined members): what patterns see is what targets get.
      detail: JSON.parse(JSON.stringify(input.detail)) as Record<string, unknown>,
    };
  }

  private async deliveriesFor(account: string, events: readonly BusEvent[], now: number): Promise<EventDeliveriesTable[]> {
    const rules = await this.deps.db.selectFrom('event_rules').select(['name', 'event_pattern']).where('account_id', '=', account).where('state', '=', 'ENABLED').execute();
    if (rules.length === 0) return [];
    const matched = events.map((event) => ({ event, rules: new Set(rules.filter((rule) => this.pattern(rule.event_pattern)?.matches(event) === true).map((rule) => rule.name)) }));
    const ruleNames = [...new Set(matched.flatMap((match) => [...match.rules]))];
    if (ruleNames.length === 0) return [];
    const targets = await this.deps.db
      .selectFrom('event_targets')
      .select(['rule_name', 'target_id', 'arn', 'max_retry_attempts', 'max_event_age_seconds'])
      .where('account_id', '=', account)
      .where('rule_name', 'in', ruleNames)
      .execute();
    const rows: EventDeliveriesTable[] = [];
    for (const { event, rules: names } of matched) {
      const body = JSON.stringify(event);
      const eventTime = Date.parse(event.time);
      for (const target of targets.filter((candidate) => names.has(candidate.rule_name))) {
        for (const endpoint of endpointsOf(readDestination(target.arn, target.target_id))) {
          rows.push({
            delivery_id: randomUUID(),
            account_id: account,
            rule_name: target.rule_name,
            target_id: target.target_id,
            endpoint,
            event_id: event.id,
            source: event.source,
            detail_type: event['detail-type'],
            event_time: eventTime,
            body,
            status: 'PENDING',
            attempts: 0,
            max_attempts: 1 + target.max_retry_attempts,
            expires_at: now + target.max_event_age_seconds * 1000,
            created_at: now,
            next_attempt_at: now,
            last_attempt_at: null,
            last_error: null,
            claimed_by: null,
            claimed_until: null,
          });
        }
      }
    }
    return rows;
  }

  /** A stored rule's pattern, compiled once. Stored patterns were checked when put; one that no longer compiles matches nothing. */
  private pattern(text: string): CompiledPattern | undefined {
    let compiled = this.patterns.get(text);
    if (compiled === undefined) {
      try {
        compiled = compilePattern(text);
      } catch (error) {
        this.deps.log.error('events: a stored event pattern does not compile', error);
        return undefined;
      }
      if (this.patterns.size >= PATTERN_CACHE_SIZE) this.patterns.clear();
      this.patterns.set(text, compiled);
    }
    return compiled;
  }

  /* ---------------------------------------------------------------- delivering */

  start(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.kick();
    }, this.settings.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Looks at the queue now (again once the current look ends, if one is running). */
  kick(): void {
    if (!this.closed) this.scanner.run();
  }

  /**
   * Claims what is due and starts it, then waits until every attempt this node has under way is
   * over. For tests (after moving the clock) and for shutting down cleanly.
   */
  async deliverDue(): Promise<void> {
    this.kick();
    while (this.scanner.current !== undefined || this.inFlight.size > 0) {
      await this.scanner.current;
      await Promise.all([...this.inFlight.values()].map((attempt) => attempt.done));
    }
  }

  private async scan(): Promise<void> {
    await this.purge();
    for (;;) {
      const room = this.settings.maxInFlight - this.inFlight.size;
      if (room <= 0 || this.closed) return;
      const now = this.deps.clock.now();
      const due = await this.deps.db
        .selectFrom('event_deliveries')
        .select('delivery_id')
        .where('status', '=', 'PENDING')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .limit(room + this.inFlight.size)
        .execute();
      const candidates = due.filter((row) => !this.inFlight.has(row.delivery_id)).slice(0, room);
      let claimed = 0;
      for (const { delivery_id: id } of candidates) {
        const row = await this.claim(id, now);
        if (row === undefined) continue;
        claimed++;
        this.begin(row);
      }
      if (claimed === 0 || candidates.length < room) return;
    }
  }

  /** Takes a delivery for this node; undefined when another node has it, or it is no longer due. */
  private async claim(deliveryId: string, now: number): Promise<Claimed | undefined> {
    const result = await this.deps.db
      .updateTable('event_deliveries')
      .set({ claimed_by: this.nodeId, claimed_until: now + this.settings.leaseMs })
      .where('delivery_id', '=', deliveryId)
      .where('status', '=', 'PENDING')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .executeTakeFirst();
    if (result.numUpdatedRows !== 1n) return undefined;
    return this.deps.db
      .selectFrom('event_deliveries')
      .select(['delivery_id', 'account_id', 'rule_name', 'target_id', 'endpoint', 'event_id', 'body', 'attempts', 'max_attempts', 'expires_at'])
      .where('delivery_id', '=', deliveryId)
      .where('claimed_by', '=', this.nodeId)
      .executeTakeFirst();
  }

  private begin(row: Claimed): void {
    const abort = new AbortController();
    const done = this.attempt(row, abort.signal)
      .catch(async (error: unknown) => {
        if (abort.signal.aborted) {
          // Shutting down: the attempt does not count; the claim is let go for a node that stays.
          await this.release(row.delivery_id).catch(() => undefined);
          return;
        }
        if (!this.closed) this.deps.log.error(`events: delivery ${row.delivery_id} failed unexpectedly`, error);
      })
      .finally(() => {
        this.inFlight.delete(row.delivery_id);
        this.kick();
      });
    this.inFlight.set(row.delivery_id, { done, abort });
  }

  private async attempt(row: Claimed, signal: AbortSignal): Promise<void> {
    const target = await this.deps.db
      .selectFrom('event_targets')
      .select(['arn', 'http_parameters', 'signing_secret'])
      .where('account_id', '=', row.account_id)
      .where('rule_name', '=', row.rule_name)
      .where('target_id', '=', row.target_id)
      .executeTakeFirst();
    const destination = target === undefined ? undefined : readDestination(target.arn, row.target_id);
    if (target === undefined || destination === undefined || !endpointsOf(destination).includes(row.endpoint)) {
      await this.finish(row, { ok: false, retry: false, error: 'the target was removed, or no longer sends to this endpoint' }, false);
      return;
    }
    let outcome: Outcome;
    if (destination.kind === 'webhook') {
      outcome = await postWebhook({
        endpoint: row.endpoint,
        body: row.body,
        secret: target.signing_secret === null ? '' : Buffer.from(this.deps.secrets.open(target.signing_secret)).toString('utf8'),
        parameters: target.http_parameters === null ? {} : (JSON.parse(Buffer.from(this.deps.secrets.open(target.http_parameters)).toString('utf8')) as HttpParameters),
        deliveryId: row.delivery_id,
        eventId: row.event_id,
        attempt: row.attempts + 1,
        timeoutMs: this.settings.requestTimeoutMs,
        signal,
      });
    } else {
      outcome = await mailEvent(this.deps.mailer, row.endpoint, row.body);
    }
    // Recorded even when shutting down meanwhile: the endpoint has answered (a mail is not sent twice for it).
    await this.finish(row, outcome, true);
  }

  /** Records an attempt's outcome: SUCCEEDED, PENDING again after a backoff, or FAILED for good. */
  private async finish(row: Claimed, outcome: Outcome, attempted: boolean): Promise<void> {
    const now = this.deps.clock.now();
    const attempts = row.attempts + (attempted ? 1 : 0);
    const common = { attempts, claimed_by: null, claimed_until: null, ...(attempted ? { last_attempt_at: now } : {}) };
    let update: Partial<EventDeliveriesTable>;
    if (outcome.ok) {
      update = { ...common, status: 'SUCCEEDED', last_error: null };
    } else {
      const next = now + backoffMs(attempts);
      const giveUp = !outcome.retry ? '' : attempts >= row.max_attempts ? ` (no retry left after ${attempts} attempts)` : next > row.expires_at ? ' (the event is too old to retry)' : undefined;
      update = giveUp === undefined ? { ...common, status: 'PENDING', next_attempt_at: next, last_error: outcome.error } : { ...common, status: 'FAILED', last_error: `${outcome.error}${giveUp}` };
    }
    await this.deps.db.updateTable('event_deliveries').set(update).where('delivery_id', '=', row.delivery_id).where('claimed_by', '=', this.nodeId).execute();
  }

  private async release(deliveryId: string): Promise<void> {
    await this.deps.db.updateTable('event_deliveries').set({ claimed_by: null, claimed_until: null }).where('delivery_id', '=', deliveryId).where('claimed_by', '=', this.nodeId).execute();
  }

  /** Finished deliveries older than the retention go. */
  private async purge(): Promise<void> {
    const now = performance.now();
    if (now - this.lastPurge < PURGE_INTERVAL_MS) return;
    this.lastPurge = now;
    await this.deps.db
      .deleteFrom('event_deliveries')
      .where('status', '<>', 'PENDING')
      .where('created_at', '<', this.deps.clock.now() - this.settings.retentionMs)
      .execute();
  }

  /** Stops looking at the queue; attempts under way are abandoned (their claims let go) and waited for. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    await Promise.all([...this.finding]);
    await this.scanner.current;
    for (const attempt of this.inFlight.values()) attempt.abort.abort();
    await Promise.all([...this.inFlight.values()].map((attempt) => attempt.done));
  }
}
