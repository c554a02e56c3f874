import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database, TicketsTable } from '../db/schema.js';
import { AGE_BUCKETS, type Metrics } from '../metrics.js';
import type { Target } from '../delivery/target.js';
import { close } from './actions.js';
import { escalate, escalationPolicyOf, nextEscalationAt, type EscalationLevel } from './escalation.js';
import type { Ticket } from './model.js';
import type { TicketStore } from './store.js';

type BreachFlag = 'registration_breached' | 'reaction_breached' | 'resolution_breached';
type DueColumn = keyof TicketsTable & `${string}_due_at`;

const BREACHES: readonly {
  kind: 'registration' | 'reaction' | 'resolution';
  flag: BreachFlag;
  due: DueColumn;
}[] = [
  { kind: 'registration', flag: 'registration_breached', due: 'registration_due_at' },
  { kind: 'reaction', flag: 'reaction_breached', due: 'reaction_due_at' },
  { kind: 'resolution', flag: 'resolution_breached', due: 'resolution_due_at' },
];

// Rows one retention statement deletes, so a first sweep over a large backlog never holds a long lock.
const DELETE_BATCH = 1_000;

/**
 * Periodic housekeeping, safe to run on every replica at once: closes resolved tickets past the
 * reopen window, counts each SLA breach once, dead-letters undeliverable outbox rows, applies
 * retention, and refreshes the gauges.
 */
export class Sweeper {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      store: TicketStore;
      config: Config;
      metrics: Metrics;
      /** Configured target ids with their display names. */
      targets: () => Map<string, string>;
      /** Where an escalation level is notified. */
      levelTargets: (l: EscalationLevel) => Target[];
      now: () => number;
    },
  ) {}

  async sweep(): Promise<void> {
    const now = this.deps.now();
    await this.closeStale(now);
    await this.breaches(now);
    await this.escalate(now);
    await this.deadLetter(now);
    await this.retention(now);
    await this.gauges(now);
  }

  private async closeStale(now: number): Promise<void> {
    const { db, store, config } = this.deps;
    const stale = await db
      .selectFrom('tickets')
      .select(['id', 'key'])
      .where('status', '=', 'resolved')
      .where('resolved_at', '<', now - config.tickets.reopen_window)
      .execute();
    for (const s of stale) {
      let before: Ticket | undefined;
      const after = await store.mutate({ key: s.key }, (t, _alerts, at) => {
        before = t;
        return t.id === s.id ? close(t, at) : undefined;
      });
      // Only the replica whose transaction closed it counts it: each ticket's outcome once, when final.
      if (after && before) {
        const last = await db
          .selectFrom('events')
          .select('data')
          .where('ticket_id', '=', s.id)
          .where('type', '=', 'resolved')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        const byHuman = last !== undefined && (JSON.parse(last.data) as { by?: unknown }).by === 'human';
        this.deps.metrics.closed(before, byHuman);
      }
    }
  }

  /** Sends the escalation steps that are due for open tickets nobody acknowledged. */
  private async escalate(now: number): Promise<void> {
    const { db, store, config } = this.deps;
    const policies = config.escalation.policies;
    if (policies.length === 0) return;
    const open = await db
      .selectFrom('tickets')
      .select(['id', 'team', 'priority', 'opened_at', 'escalation_step', 'escalated_at', 'escalation_base'])
      .where('status', '=', 'open')
      .where('acknowledged_at', 'is', null)
      // Waiting for the client: nobody is late.
      .where('waiting_since', 'is', null)
      // A member of a mass incident is escalated through its parent.
      .where('parent_id', 'is', null)
      .execute();
    for (const o of open) {
      const p = escalationPolicyOf(policies, o.team, o.priority);
      if (!p || now < nextEscalationAt(o, p)) continue;
      // Decided again under the row lock: two replicas sweeping at once send one step.
      let levels: string[] = [];
      const after = await store.mutate({ id: o.id }, (t, _alerts, at) => {
        const c = escalate(t, p, this.deps.levelTargets, at);
        levels = (c?.events[0]?.data.levels as string[] | undefined) ?? [];
        return c;
      });
      if (after)
        for (const level of levels) this.deps.metrics.escalations.inc({ level, priority: after.priority });
    }
  }

  private async breaches(now: number): Promise<void> {
    const { db, metrics } = this.deps;
    for (const { kind, flag, due } of BREACHES) {
      let q = db.selectFrom('tickets').select(['id', 'priority']).where(flag, '=', 0).where(due, '<', now);
      if (kind === 'registration') q = q.where('registered_at', 'is', null).where('status', '!=', 'closed');
      // Waiting for the client: the reaction and resolution clocks stand still.
      if (kind === 'reaction') q = q.where('status', '=', 'open').where('waiting_since', 'is', null);
      if (kind === 'resolution')
        q = q.where('status', 'in', ['open', 'acknowledged']).where('waiting_since', 'is', null);
      for (const b of await q.execute()) {
        const r = await db
          .updateTable('tickets')
          .set({ [flag]: 1 })
          .where('id', '=', b.id)
          .where(flag, '=', 0)
          .executeTakeFirst();
        // Only the replica that flipped the flag counts it, so a breach is counted once.
        if (Number(r.numUpdatedRows) === 1) metrics.slaBreaches.inc({ kind, priority: b.priority });
      }
    }
  }

  /** Rows past forwarding.dead_after, or for a target no longer configured, stop waiting. */
  private async deadLetter(now: number): Promise<void> {
    const { db, config, metrics } = this.deps;
    const names = this.deps.targets();
    const waiting = await db
      .selectFrom('outbox')
      .select(['target', (eb) => eb.fn.min('created_at').as('oldest')])
      .where('status', '=', 'pending')
      .groupBy('target')
      .execute();
    for (const w of waiting) {
      const known = names.has(w.target);
      const cutoff = now - config.forwarding.dead_after;
      if (known && Number(w.oldest) >= cutoff) continue;
      const r = await db
        .updateTable('outbox')
        .set({
          status: 'dead',
          dead_at: now,
          lease_until: null,
          last_error: known
            ? `undelivered for longer than forwarding.dead_after`
            : 'target is no longer configured',
        })
        .where('status', '=', 'pending')
        .where('target', '=', w.target)
        .$if(known, (q) => q.where('created_at', '<', cutoff))
        .executeTakeFirst();
      const n = Number(r.numUpdatedRows);
      if (n > 0) metrics.outboxDead.inc({ target: names.get(w.target) ?? 'unconfigured' }, n);
    }
  }

  private async retention(now: number): Promise<void> {
    const { db, config, metrics } = this.deps;
    const done = async (table: string, q: () => Promise<{ numDeletedRows: bigint }>) => {
      for (;;) {
        const n = Number((await q()).numDeletedRows);
        if (n > 0) metrics.deleted.inc({ table }, n);
        if (n < DELETE_BATCH) return;
      }
    };
    const outbox = (
      status: 'delivered' | 'failed' | 'dead',
      col: 'delivered_at' | 'dead_at' | 'next_attempt_at',
      keep: number,
    ) =>
      done('outbox', () =>
        db
          .deleteFrom('outbox')
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('outbox')
              .select('id')
              .where('status', '=', status)
              .where(col, '<', now - keep)
              .limit(DELETE_BATCH),
          )
          .executeTakeFirstOrThrow(),
      );
    await outbox('delivered', 'delivered_at', config.forwarding.retention);
    await outbox('dead', 'dead_at', config.forwarding.dead_retention);
    await outbox('failed', 'next_attempt_at', config.forwarding.dead_retention);
    // Desks' event ids: a repeat after this long would be applied again (a desk retries for minutes, not days).
    const desk = await db
      .deleteFrom('desk_events')
      .where('at', '<', now - config.forwarding.desk_event_retention)
      .executeTakeFirst();
    metrics.deleted.inc({ table: 'desk_events' }, Number(desk.numDeletedRows));
    // Closed tickets go with everything that hangs off them.
    for (;;) {
      const old = await db
        .selectFrom('tickets')
        .select('id')
        .where('status', '=', 'closed')
        .where('closed_at', '<', now - config.tickets.retention)
        .limit(DELETE_BATCH)
        .execute();
      if (old.length === 0) return;
      const ids = old.map((t) => t.id);
      await db.transaction().execute(async (trx) => {
        for (const table of ['ticket_alerts', 'events', 'outbox', 'external_refs'] as const) {
          const r = await trx.deleteFrom(table).where('ticket_id', 'in', ids).executeTakeFirst();
          metrics.deleted.inc({ table }, Number(r.numDeletedRows));
        }
        const r = await trx.deleteFrom('tickets').where('id', 'in', ids).executeTakeFirst();
        metrics.deleted.inc({ table: 'tickets' }, Number(r.numDeletedRows));
      });
      if (old.length < DELETE_BATCH) return;
    }
  }

  private async gauges(now: number): Promise<void> {
    const { db, metrics } = this.deps;
    const live = await db
      .selectFrom('tickets')
      .select(['priority', 'chain', 'opened_at'])
      .where('status', 'in', ['open', 'acknowledged'])
      .execute();
    metrics.openTickets.reset();
    // Every bucket of every priority is written (0 when empty), per chain that has a live ticket, so a
    // dashboard's sum over buckets never misses a series that was there a minute ago.
    const chains = new Set(live.map((t) => t.chain ?? ''));
    for (const chain of chains)
      for (const p of ['P1', 'P2', 'P3', 'P4'])
        for (const b of AGE_BUCKETS) metrics.openTickets.set({ age: b.label, priority: p, chain }, 0);
    for (const t of live) {
      const hours = (now - Number(t.opened_at)) / 3_600_000;
      const b = AGE_BUCKETS.find((x) => hours < x.below)!;
      metrics.openTickets.inc({ age: b.label, priority: t.priority, chain: t.chain ?? '' });
    }
    const counts = await db
      .selectFrom('tickets')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    metrics.tickets.reset();
    for (const s of ['open', 'acknowledged', 'resolved', 'closed']) metrics.tickets.set({ status: s }, 0);
    for (const c of counts) metrics.tickets.set({ status: c.status }, Number(c.n));
    const pending = await db
      .selectFrom('outbox')
      .select([
        'target',
        (eb) => eb.fn.countAll<number>().as('n'),
        (eb) => eb.fn.min('created_at').as('oldest'),
      ])
      .where('status', '=', 'pending')
      .groupBy('target')
      .execute();
    const names = this.deps.targets();
    metrics.outboxPending.reset();
    metrics.outboxOldest.reset();
    for (const name of names.values()) {
      metrics.outboxPending.set({ target: name }, 0);
      metrics.outboxOldest.set({ target: name }, 0);
    }
    for (const p of pending) {
      const name = names.get(p.target) ?? 'unconfigured';
      metrics.outboxPending.inc({ target: name }, Number(p.n));
      metrics.outboxOldest.set({ target: name }, Math.max((now - Number(p.oldest)) / 1000, 0));
    }
  }
}
