import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Config } from '../config.js';
import type { Store } from '../db/connect.js';
import type { Database, OutboxTable } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { DeliveryError, type OutgoingEvent, type Sender, type Senders } from './sender.js';
import { parseTarget, type Target } from './target.js';

type Row = Selectable<OutboxTable>;

/**
 * Delivers outbox rows: at least once (a row is marked delivered only after the receiver said so),
 * in order per ticket and target (only the oldest pending row of a (target, ticket) pair is tried),
 * surviving restarts (state is in the store; an expired lease is picked up by any replica).
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly owner = randomUUID();
  private readonly lastSent = new Map<string, number>();

  constructor(
    private readonly deps: {
      store: Store;
      config: Config;
      metrics: Metrics;
      logger: Logger;
      senders: Senders;
      /** Called in the transaction that marks ticket.created rows delivered (registration time). */
      onRegistered?: (
        trx: Transaction<Database> | Kysely<Database>,
        ticketIds: number[],
        now: number,
      ) => Promise<void>;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  // A claim outlives the longest delivery attempt; after a crash another pass (or replica) retakes it.
  private leaseMs(): number {
    return this.deps.config.forwarding.timeout + 5_000;
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((e: unknown) => this.deps.logger.warn({ err: e }, 'outbox pass failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.deps.config.forwarding.poll_interval);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Wakes the dispatcher right away (after a webhook added rows) instead of waiting for the poll. */
  kick(): void {
    if (this.stopped || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = () => {
      this.running = this.tick()
        .catch((e: unknown) => this.deps.logger.warn({ err: e }, 'outbox pass failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(run, this.deps.config.forwarding.poll_interval);
        });
    };
    void Promise.resolve(this.running).then(() => {
      if (!this.stopped && this.timer === undefined) run();
    });
  }

  async tick(): Promise<void> {
    const { db } = this.deps.store;
    const now = this.now();
    const rows = await db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('id')
      .limit(2000)
      .execute();
    const byTarget = new Map<string, Row[]>();
    for (const r of rows) {
      const list = byTarget.get(r.target) ?? [];
      list.push(r);
      byTarget.set(r.target, list);
    }
    const work: Promise<void>[] = [];
    for (const [id, list] of byTarget) {
      let target: Target;
      try {
        target = parseTarget(id);
      } catch {
        continue;
      }
      const sender = this.deps.senders.for(target);
      if (!sender) continue;
      if (sender.batch) work.push(this.deliverBatch(sender, target, list, now));
      else {
        // Oldest pending row per ticket only: a later event never overtakes an earlier one.
        const heads = new Map<number, Row>();
        for (const r of list) if (!heads.has(r.ticket_id)) heads.set(r.ticket_id, r);
        for (const h of heads.values())
          if (h.next_attempt_at <= now) work.push(this.deliverOne(sender, target, h, now));
      }
    }
    await Promise.all(work);
  }

  private async claim(ids: number[], now: number): Promise<number[]> {
    const got: number[] = [];
    for (const id of ids) {
      const r = await this.deps.store.db
        .updateTable('outbox')
        .set({ lease_until: now + this.leaseMs(), lease_owner: this.owner })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) got.push(id);
    }
    return got;
  }

  private async deliverOne(sender: Sender, target: Target, row: Row, now: number): Promise<void> {
    if ((await this.claim([row.id], now)).length === 0) return;
    await this.attempt(sender, target, [row], 0);
  }

  private async deliverBatch(sender: Sender, target: Target, list: Row[], now: number): Promise<void> {
    const { notifications } = this.deps.config;
    const due = list.filter((r) => r.next_attempt_at <= now);
    if (due.length === 0) return;
    // Wait a little after the first event so a burst (a chain-wide outage) becomes one message,
    // and keep a minimum gap between messages to one chat.
    if (now - Math.min(...due.map((r) => r.created_at)) < notifications.batch_wait) return;
    const id = list[0]!.target;
    if (now - (this.lastSent.get(id) ?? 0) < notifications.min_interval) return;
    const claimed = new Set(
      await this.claim(
        due.map((r) => r.id),
        now,
      ),
    );
    const rows = due.filter((r) => claimed.has(r.id));
    if (rows.length === 0) return;
    this.lastSent.set(id, now);
    const shown = rows.slice(0, notifications.max_items);
    await this.attempt(sender, target, rows, rows.length - shown.length, shown);
  }

  private async attempt(
    sender: Sender,
    target: Target,
    rows: Row[],
    more: number,
    shown = rows,
  ): Promise<void> {
    const { db } = this.deps.store;
    const { metrics, config, logger } = this.deps;
    const events = shown.map((r) => JSON.parse(r.payload) as OutgoingEvent);
    const end = metrics.deliveryDuration.startTimer({ kind: sender.kind });
    const ids = rows.map((r) => r.id);
    try {
      await sender.deliver(target, events, more);
      end();
      const now = this.now();
      const label = rows[0]!.target;
      metrics.deliveries.inc({ kind: sender.kind, target: label, result: 'success' }, rows.length);
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('outbox')
          .set({
            status: 'delivered',
            delivered_at: now,
            lease_until: null,
            attempts: (eb) => eb('attempts', '+', 1),
          })
          .where('id', 'in', ids)
          .execute();
        const created = rows.filter((r) => r.event_type === 'ticket.created').map((r) => r.ticket_id);
        if (created.length && this.deps.onRegistered) await this.deps.onRegistered(trx, created, now);
      });
    } catch (e) {
      end();
      const err = e instanceof DeliveryError ? e : new DeliveryError((e as Error).message);
      const attempts = (rows[0]?.attempts ?? 0) + 1;
      const backoff = Math.min(
        config.forwarding.retry_base * 2 ** (attempts - 1),
        config.forwarding.retry_max,
      );
      const now = this.now();
      metrics.deliveries.inc(
        { kind: sender.kind, target: rows[0]!.target, result: err.permanent ? 'failed' : 'retry' },
        rows.length,
      );
      logger.warn(
        { target: rows[0]!.target, events: events.map((x) => x.id), attempts, err: err.message },
        'delivery failed',
      );
      await db
        .updateTable('outbox')
        .set({
          status: err.permanent ? 'failed' : 'pending',
          attempts,
          next_attempt_at: now + (err.retryAfterMs ?? backoff),
          lease_until: null,
          last_error: err.message.slice(0, 1000),
        })
        .where('id', 'in', ids)
        .execute();
    }
  }
}
