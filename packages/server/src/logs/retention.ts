/**
 * Retention: the events of a group with a retention policy (PutRetentionPolicy) are removed once
 * older than its days, by a purge the server runs periodically, measured by the services' clock.
 * Streams stay, with their first and last event times; their stored bytes go down.
 */
import type { Clock, Logger } from '../services.js';
import type { Db } from '../storage/db.js';

const DAY_MS = 86_400_000;
/** How often the server purges. */
export const PURGE_INTERVAL_MS = 10 * 60_000;

/** Removes every event older than its group's retention at `now`; answers how many were removed. */
export async function purgeExpiredEvents(db: Db, now: number): Promise<number> {
  const groups = await db.selectFrom('log_groups').select(['group_id', 'retention_days']).where('retention_days', 'is not', null).execute();
  let removed = 0;
  for (const group of groups) {
    const cutoff = now - (group.retention_days ?? 0) * DAY_MS;
    // The group's expired events are the start of its (group, time) index: only they are read.
    const streams = await db.selectFrom('log_events').select('stream_id').distinct().where('group_id', '=', group.group_id).where('event_time', '<', cutoff).execute();
    for (const { stream_id: streamId } of streams) {
      removed += await db.transaction().execute(async (trx) => {
        const expired = trx.selectFrom('log_events').where('stream_id', '=', streamId).where('event_time', '<', cutoff);
        const { bytes } = await expired.select((eb) => eb.cast<number>(eb.fn.coalesce(eb.fn.sum('size'), eb.lit(0)), 'bigint').as('bytes')).executeTakeFirstOrThrow();
        const result = await trx.deleteFrom('log_events').where('stream_id', '=', streamId).where('event_time', '<', cutoff).executeTakeFirst();
        await trx
          .updateTable('log_streams')
          .set((eb) => ({ stored_bytes: eb('stored_bytes', '-', bytes) }))
          .where('stream_id', '=', streamId)
          .execute();
        return Number(result.numDeletedRows);
      });
    }
  }
  return removed;
}

/** The periodic purge of a server. */
export class LogRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private closed = false;

  constructor(
    private readonly deps: { readonly db: Db; readonly clock: Clock; readonly log: Logger },
    private readonly intervalMs = PURGE_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      this.purge().catch((error: unknown) => {
        if (!this.closed) this.deps.log.error('logs: removing expired events failed', error);
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Purges now, by the services' clock (tests call it after moving the clock); never two at once. */
  purge(): Promise<number> {
    this.running ??= purgeExpiredEvents(this.deps.db, this.deps.clock.now()).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
