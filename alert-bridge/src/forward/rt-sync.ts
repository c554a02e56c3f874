import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { RtTarget } from '../config.js';
import type { Database } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { DeskPoller } from './desk-poller.js';
import { ConflictError, NotFoundError, type DeskEvent, type TicketService } from '../tickets/index.js';
import { rtClient } from './rt.js';

// A reply longer than a comment may be is cut (the whole reply stays in RT).
const MAX_TEXT = 10_000;
// RT's own automatic changes (new -> open on the first reply, resolved -> open when a requestor writes) are
// consequences of someone's transaction, not a person's decision.
const SYSTEM_USER = 'RT_System';

interface Txn {
  id: string;
  Type: string;
  ObjectId: string;
  Field?: string;
  NewValue?: string;
  Creator?: { id: string; Name?: string; RealName?: string };
}
interface Page<T> {
  items: T[];
  count: number;
}

/** desk_cursors keeps strings and moves only forward by string order: ids are padded to compare as numbers. */
const pad = (id: number) => String(id).padStart(15, '0');

/**
 * Request Tracker's changes back into tickets (issue 18). RT 5 has no outgoing webhooks, so this polls
 * REST 2 for the transactions of the target's queue after the last one it took, as one TransactionSQL query
 * (`TicketQueue = … AND id > cursor`, in id order, paged), keeps those on the tickets the bridge created
 * (external_refs), and turns a person's transaction into a ticket change: a reply or comment becomes a
 * comment by the desk with the person's name, a status in `resolve_statuses` resolves, one in
 * `acknowledge_statuses` acknowledges. Transactions of the bridge's own RT user and of RT_System (the
 * automatic status changes RT makes after a reply) are left out by the query, so nothing echoes.
 *
 * The cursor is the highest transaction id taken, stored after each complete pass: a restart neither misses
 * nor repeats a change. Ids, not dates: TicketSQL reads a date in the RT user's time zone, an id has none.
 * A transaction committed late with a lower id is still found by the query's second arm, `Created >
 * '<overlap> seconds ago'` (relative to RT's own clock); the transaction id is the change's event id, so a
 * transaction seen twice is applied once.
 */
export class RtSync extends DeskPoller {
  private readonly call: ReturnType<typeof rtClient>;

  constructor(
    private readonly deps: {
      target: RtTarget;
      sync: NonNullable<RtTarget['sync']>;
      db: Kysely<Database>;
      tickets: TicketService;
      metrics: Metrics;
      logger: Logger;
      timeoutMs: number;
      changed(): void;
    },
  ) {
    super(`rt:${deps.target.name}`, {
      interval: deps.sync.poll_interval,
      metrics: deps.metrics,
      logger: deps.logger,
    });
    this.call = rtClient(deps.target, deps.timeoutMs, () => this.stopSignal);
  }

  /** TicketSQL string literal: RT takes backslash escapes inside single quotes. */
  private static quote(s: string): string {
    return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  }

  private transactions(query: string, page: number, size: number, order: 'ASC' | 'DESC') {
    const q = new URLSearchParams({
      query,
      orderby: 'id',
      order,
      per_page: String(size),
      page: String(page),
      fields: 'Type,ObjectId,Field,NewValue,Creator',
      'fields[Creator]': 'Name,RealName',
    });
    return this.call<Page<Txn>>('GET', `/transactions?${q.toString()}`);
  }

  /** One pass: every transaction after the cursor, page by page, then the cursor moves on. */
  async poll(): Promise<void> {
    const { target, sync, db } = this.deps;
    const queue = `ObjectType = 'RT::Ticket' AND TicketQueue = ${RtSync.quote(target.queue)}`;
    const stored = await db
      .selectFrom('desk_cursors')
      .select('cursor')
      .where('desk', '=', this.desk)
      .executeTakeFirst();
    if (!stored) {
      // Sync just turned on: what people did in RT before is history, not news. Start at its newest change.
      const newest = await this.transactions(queue, 1, 1, 'DESC');
      await this.saveCursor(Number(newest.items[0]?.id ?? 0));
      return;
    }
    const after = Number(stored.cursor);
    const overlap = Math.ceil(sync.overlap / 1000);
    const query =
      `${queue} AND Creator != ${RtSync.quote(target.user)} AND Creator != '${SYSTEM_USER}'` +
      ` AND (id > ${after}${overlap > 0 ? ` OR Created > '${overlap} seconds ago'` : ''})`;
    let newest = after;
    // Offset pages in id order: a transaction made during the pass has a higher id and lands on a later page.
    for (let page = 1; ; page++) {
      const { items } = await this.transactions(query, page, sync.page_size, 'ASC');
      for (const t of items) {
        await this.take(t);
        newest = Math.max(newest, Number(t.id));
      }
      if (items.length < sync.page_size) break;
    }
    await this.saveCursor(newest);
  }

  private async saveCursor(id: number): Promise<void> {
    const cursor = pad(id);
    await this.deps.db
      .insertInto('desk_cursors')
      .values({ desk: this.desk, cursor, updated_at: Date.now() })
      .onConflict((oc) =>
        oc
          .column('desk')
          .doUpdateSet((eb) => ({
            cursor: eb.ref('excluded.cursor'),
            updated_at: eb.ref('excluded.updated_at'),
          }))
          // Only forward: another replica's pass may have gone further meanwhile.
          .where('desk_cursors.cursor', '<', (eb) => eb.ref('excluded.cursor')),
      )
      .execute();
  }

  /** One person's transaction on an RT ticket, if the bridge made that ticket, as a ticket change. */
  private async take(t: Txn): Promise<void> {
    const ref = await this.deps.db
      .selectFrom('external_refs')
      .select('ticket_id')
      .where('target', '=', this.desk)
      .where('external_id', '=', String(t.ObjectId))
      .executeTakeFirst();
    if (!ref) return;
    // Taken already (the overlap reads recent transactions again): skip before asking RT for its text.
    const seen = await this.deps.db
      .selectFrom('desk_events')
      .select('event_id')
      .where('desk', '=', this.desk)
      .where('event_id', '=', `transaction:${t.id}`)
      .executeTakeFirst();
    if (seen) {
      this.deps.metrics.deskEvents.inc({ desk: this.desk, result: 'duplicate' });
      return;
    }
    const e = await this.eventOf(t, Number(ref.ticket_id));
    if (!e) return;
    try {
      const out = await this.deps.tickets.deskEvent(e);
      this.deps.metrics.deskEvents.inc({ desk: this.desk, result: out.status });
      if (out.status === 'applied') {
        this.deps.changed();
        this.deps.logger.info(
          { desk: this.desk, rt_ticket: t.ObjectId, transaction: t.id, ticket: e.ticket, action: e.action },
          'desk change applied',
        );
      }
    } catch (err) {
      // A ticket deleted by retention, or a change it refuses: nothing to do, the poll goes on.
      if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
      this.deps.metrics.deskEvents.inc({
        desk: this.desk,
        result: err instanceof NotFoundError ? 'not_found' : 'conflict',
      });
    }
  }

  /** The text of a reply or comment: its first text/plain part. */
  private async text(txn: string): Promise<string | undefined> {
    const q = new URLSearchParams({ fields: 'ContentType,Content', per_page: '20' });
    const { items } = await this.call<Page<{ ContentType?: string; Content?: string }>>(
      'GET',
      `/transaction/${txn}/attachments?${q.toString()}`,
    );
    const part = items.find((a) => a.ContentType === 'text/plain' && a.Content?.trim());
    return part?.Content?.trim().slice(0, MAX_TEXT);
  }

  private async eventOf(t: Txn, ticket: number): Promise<DeskEvent | undefined> {
    const { target, sync } = this.deps;
    const common = {
      desk: target.name,
      origin: this.desk,
      id: `transaction:${t.id}`,
      ticket,
      person: (t.Creator?.RealName || t.Creator?.Name || t.Creator?.id)?.slice(0, 200),
      lenient: true,
    };
    if (t.Type === 'Correspond' || t.Type === 'Comment') {
      const text = await this.text(t.id);
      return text ? { ...common, action: 'comment', text } : undefined;
    }
    if (t.Type === 'Status' && t.NewValue) {
      // A person resolved the RT ticket: the work is done. Forced, because the desk says so; if the till still
      // has the fault, the next notification reopens the ticket and the RT ticket goes back to work.
      if (sync.resolve_statuses.includes(t.NewValue)) return { ...common, action: 'resolve', force: true };
      if (sync.acknowledge_statuses.includes(t.NewValue)) return { ...common, action: 'acknowledge' };
    }
    return undefined;
  }
}
