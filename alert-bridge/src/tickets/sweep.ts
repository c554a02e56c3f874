import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { Database, TicketsTable } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { close } from './actions.js';
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

/**
 * Periodic housekeeping, safe to run on every replica at once: closes resolved tickets past the
 * reopen window, counts each SLA breach once, deletes old delivered outbox rows and refreshes gauges.
 */
export class Sweeper {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      store: TicketStore;
      config: Config;
      metrics: Metrics;
      now: () => number;
    },
  ) {}

  async sweep(): Promise<void> {
    const { db, store, config, metrics } = this.deps;
    const now = this.deps.now();
    const stale = await db
      .selectFrom('tickets')
      .select(['id', 'key'])
      .where('status', '=', 'resolved')
      .where('resolved_at', '<', now - config.tickets.reopen_window)
      .execute();
    for (const s of stale)
      await store.mutate({ key: s.key }, (t, _alerts, at) => (t.id === s.id ? close(t, at) : undefined));

    for (const { kind, flag, due } of BREACHES) {
      let q = db.selectFrom('tickets').select(['id', 'priority']).where(flag, '=', 0).where(due, '<', now);
      if (kind === 'registration') q = q.where('registered_at', 'is', null).where('status', '!=', 'closed');
      if (kind === 'reaction') q = q.where('status', '=', 'open');
      if (kind === 'resolution') q = q.where('status', 'in', ['open', 'acknowledged']);
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
    await db
      .deleteFrom('outbox')
      .where('status', '=', 'delivered')
      .where('delivered_at', '<', now - config.forwarding.retention)
      .execute();
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
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    metrics.outboxPending.set(Number(pending.n));
  }
}
