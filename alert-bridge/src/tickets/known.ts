import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Known } from './lifecycle.js';
import type { Ticket, TicketAlert } from './model.js';
import { chunks } from './sink.js';

/**
 * Reads what the lifecycle needs to decide for these open keys: their live tickets (locked on
 * PostgreSQL), the tickets' alerts, and how often each resolved one reopened since `reopenedSince`.
 */
export async function readKnown(
  trx: Transaction<Database>,
  keys: string[],
  pg: boolean,
  reopenedSince: number,
): Promise<Map<string, Known>> {
  const live = new Map<string, Ticket>();
  for (const part of chunks(keys)) {
    const rows = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('open_key', 'in', part)
      // A fixed lock order keeps two replicas handling overlapping notifications from deadlocking.
      .orderBy('open_key')
      .$if(pg, (q) => q.forUpdate())
      .execute();
    for (const r of rows) live.set(r.open_key!, r);
  }
  const tickets = [...live.values()];
  const alerts = new Map<number, TicketAlert[]>();
  for (const part of chunks(tickets.map((t) => t.id))) {
    for (const a of await trx
      .selectFrom('ticket_alerts')
      .selectAll()
      .where('ticket_id', 'in', part)
      .execute()) {
      const l = alerts.get(a.ticket_id);
      if (l) l.push(a);
      else alerts.set(a.ticket_id, [a]);
    }
  }
  const reopenings = new Map<number, number>();
  const resolved = tickets.filter((t) => t.status === 'resolved').map((t) => t.id);
  for (const part of chunks(resolved)) {
    const rows = await trx
      .selectFrom('events')
      .select(['ticket_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('ticket_id', 'in', part)
      .where('type', '=', 'reopened')
      .where('at', '>=', reopenedSince)
      .groupBy('ticket_id')
      .execute();
    for (const r of rows) reopenings.set(Number(r.ticket_id), Number(r.n));
  }
  const out = new Map<string, Known>();
  for (const k of keys) {
    const t = live.get(k);
    out.set(k, {
      ticket: t,
      alerts: t ? (alerts.get(t.id) ?? []) : [],
      recentReopenings: t ? (reopenings.get(t.id) ?? 0) : 0,
    });
  }
  return out;
}
