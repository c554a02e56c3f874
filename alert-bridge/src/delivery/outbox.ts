import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../db/connect.js';
import type { Database, OutboxTable } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { DeliveryError, type OutgoingEvent, type Sender, type Senders } from './sender.js';
import { parseTarget, type Target } from './target.js';

export type OutboxRow = Selectable<OutboxTable>;

// Rows one pass of one target looks at; a target with more waits for its next pass.
const PASS_ROWS = 500;
// Tickets of one forwarding target delivered at once (each still in order within its ticket).
const PARALLEL_PER_TARGET = 8;

export interface DispatcherDeps {
  store: Store;
  config: Config;
  metrics: Metrics;
  logger: Logger;
  senders: Senders;
  /** Every target id the configuration delivers to, with the name metrics and logs show for it. */
  targets: () => Map<string, string>;
  /** Builds the outgoing events of rows from the stored events and tickets, in row order. */
  compose: (rows: readonly OutboxRow[]) => Promise<OutgoingEvent[]>;
  /** Called in the transaction that marks ticket.created rows delivered (registration time). */
  onRegistered?: (
    trx: Transaction<Database> | Kysely<Database>,
    ticketIds: number[],
    now: number,
  ) => Promise<void>;
  now?: () => number;
}

/**
 * Delivers outbox rows: at least once (a row is marked delivered only after the receiver said so), in
 * order per ticket and target (only the oldest pending row of a (target, ticket) pair is tried),
 * surviving restarts (state is in the store; an expired lease is picked up by any replica).
 *
 * Every target drains on its own: its own query, its own backoff, its own pass in flight. A target
 * that is down, slow or removed never holds up another; its rows wait (and are dead-lettered by the
 * sweeper after `forwarding.dead_after`).
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly owner = randomUUID();
  private readonly workers = new Map<string, TargetWorker>();

  constructor(private readonly deps: DispatcherDeps) {}

  now(): number {
    return (this.deps.now ?? Date.now)();
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.workers.values()].map((w) => w.idle()));
  }

  /** Wakes every target right away (after a webhook added rows) instead of waiting for the poll. */
  kick(): void {
    if (!this.stopped) this.schedule(0);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.stopped) return;
      this.tick();
      this.schedule(this.deps.config.forwarding.poll_interval);
    }, ms);
  }

  /** Starts a pass for every configured target that has none in flight; does not wait for them. */
  tick(): void {
    for (const [id, name] of this.deps.targets()) {
      let w = this.workers.get(id);
      if (!w) {
        let target: Target;
        try {
          target = parseTarget(id);
        } catch {
          continue;
        }
        const sender = this.deps.senders.for(target);
        if (!sender) continue;
        w = new TargetWorker(this.deps, this.owner, id, name, target, sender, () => this.now());
        this.workers.set(id, w);
      }
      w.pass();
    }
  }

  /** Waits until no pass is in flight (tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.idle()));
  }
}

class TargetWorker {
  private running: Promise<void> | undefined;
  private failures = 0;
  private blockedUntil = 0;
  private lastSent = 0;

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly owner: string,
    private readonly id: string,
    private readonly name: string,
    private readonly target: Target,
    private readonly sender: Sender,
    private readonly now: () => number,
  ) {}

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  pass(): void {
    if (this.running) return;
    this.running = this.run()
      .catch((e: unknown) =>
        this.deps.logger.warn({ target: this.name, err: (e as Error).message }, 'outbox pass failed'),
      )
      .finally(() => {
        this.running = undefined;
      });
  }

  private async run(): Promise<void> {
    const now = this.now();
    if (now < this.blockedUntil) return;
    const rows = await this.deps.store.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .where('target', '=', this.id)
      .orderBy('id')
      .limit(PASS_ROWS)
      .execute();
    if (rows.length === 0) return;
    // Oldest pending row per ticket only: a later event never overtakes an earlier one.
    const heads = new Map<number, OutboxRow>();
    for (const r of rows) if (!heads.has(r.ticket_id)) heads.set(r.ticket_id, r);
    const due = [...heads.values()].filter((r) => r.next_attempt_at <= now);
    if (due.length === 0) return;
    if (this.sender.batch) return this.batch(rows, due, now);
    for (let i = 0; i < due.length; i += PARALLEL_PER_TARGET) {
      const part = due.slice(i, i + PARALLEL_PER_TARGET);
      const claimed = new Set(
        await this.claim(
          part.map((r) => r.id),
          now,
        ),
      );
      await Promise.all(part.filter((r) => claimed.has(r.id)).map((r) => this.attempt([r], 0)));
      if (this.now() < this.blockedUntil) return;
    }
  }

  /** Chats and mailboxes: every due event of the target in one message, after a short wait. */
  private async batch(rows: OutboxRow[], heads: OutboxRow[], now: number): Promise<void> {
    const { notifications } = this.deps.config;
    // A burst (a chain-wide outage) becomes one message; a minimum gap separates two messages.
    if (now - Math.min(...heads.map((r) => r.created_at)) < notifications.batch_wait) return;
    if (now - this.lastSent < notifications.min_interval) return;
    // Per ticket in order: one message may carry several events of one ticket.
    const due = rows.filter((r) => r.next_attempt_at <= now);
    const claimed = new Set(
      await this.claim(
        due.map((r) => r.id),
        now,
      ),
    );
    const mine = due.filter((r) => claimed.has(r.id));
    if (mine.length === 0) return;
    this.lastSent = now;
    const shown = mine.slice(0, notifications.max_items);
    await this.attempt(mine, mine.length - shown.length, shown);
  }

  private async claim(ids: number[], now: number): Promise<number[]> {
    const leaseMs = this.deps.config.forwarding.timeout + 5_000;
    const got: number[] = [];
    for (const id of ids) {
      const r = await this.deps.store.db
        .updateTable('outbox')
        .set({ lease_until: now + leaseMs, lease_owner: this.owner })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) got.push(id);
    }
    return got;
  }

  private async attempt(rows: OutboxRow[], more: number, shown = rows): Promise<void> {
    const { store, metrics, config, logger } = this.deps;
    const ids = rows.map((r) => r.id);
    const end = metrics.deliveryDuration.startTimer({ kind: this.sender.kind });
    let events: OutgoingEvent[] = [];
    try {
      events = await this.deps.compose(shown);
      await this.sender.deliver(this.target, events, more);
      end();
      const now = this.now();
      this.failures = 0;
      metrics.deliveries.inc({ kind: this.sender.kind, target: this.name, result: 'success' }, rows.length);
      await store.db.transaction().execute(async (trx) => {
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
      const now = this.now();
      if (!err.permanent) {
        // The target, not the row, is what fails: hold the whole target back, doubling each time.
        this.failures++;
        const backoff = Math.min(
          config.forwarding.retry_base * 2 ** (this.failures - 1),
          config.forwarding.retry_max,
        );
        this.blockedUntil = now + (err.retryAfterMs ?? backoff);
      }
      metrics.deliveries.inc(
        { kind: this.sender.kind, target: this.name, result: err.permanent ? 'failed' : 'retry' },
        rows.length,
      );
      logger.warn(
        { target: this.name, events: events.map((x) => x.id), attempts, err: err.message },
        'delivery failed',
      );
      await store.db
        .updateTable('outbox')
        .set({
          status: err.permanent ? 'failed' : 'pending',
          attempts,
          next_attempt_at: err.permanent ? now : this.blockedUntil,
          lease_until: null,
          last_error: err.message.slice(0, 1000),
        })
        .where('id', 'in', ids)
        // The sweeper may have dead-lettered them while this attempt was in flight: that stands.
        .where('status', '=', 'pending')
        .execute();
    }
  }
}
