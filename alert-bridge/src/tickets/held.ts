import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

// What happens to a new ticket around its first delivery: a target's confirmation registers it, and its
// first messages, held for the diagnostic snapshot, are let go once the snapshot is stored.

/** Marks tickets registered once a target confirmed their ticket.created (in the outbox's transaction). */
export async function markRegistered(
  trx: Kysely<Database> | Transaction<Database>,
  ticketIds: number[],
  now: number,
): Promise<void> {
  if (ticketIds.length === 0) return;
  await trx
    .updateTable('tickets')
    .set({ registered_at: now })
    .where('id', 'in', ticketIds)
    .where('registered_at', 'is', null)
    .execute();
}

/**
 * Lets a new ticket's held messages go now (its snapshot is stored, or will not come). `holdNewFor` is
 * how long a new ticket's messages wait for the snapshot.
 */
export async function releaseHeld(
  db: Kysely<Database>,
  id: number,
  now: number,
  holdNewFor: number,
): Promise<void> {
  const t = await db
    .selectFrom('tickets')
    .select(['opened_at', 'page_hold_until'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!t) return;
  // A page held for the ticket's automatic first step stays held (the snapshot is in by then anyway).
  if (t.page_hold_until != null && t.page_hold_until > now) return;
  await db
    .updateTable('outbox')
    .set({ next_attempt_at: now })
    .where('ticket_id', '=', id)
    .where('status', '=', 'pending')
    .where('event_type', '=', 'ticket.created')
    .where('next_attempt_at', '>', now)
    // A row held longer than the snapshot's wait is held for a mass incident: the snapshot does not
    // shorten that.
    .where('next_attempt_at', '<=', t.opened_at + holdNewFor)
    .execute();
}

export async function storeSnapshot(db: Kysely<Database>, id: number, snapshot: object): Promise<void> {
  await db
    .updateTable('tickets')
    .set({ snapshot: JSON.stringify(snapshot) })
    .where('id', '=', id)
    .execute();
}
