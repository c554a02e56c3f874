import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import * as actions from './actions.js';
import type { TicketChange } from './lifecycle.js';
import type { MassIncidents } from './mass.js';
import type { Ticket, TicketAlert } from './model.js';
import { applyChange, chunks, type Recorder, type Sink } from './sink.js';

type Trx = Transaction<Database>;

/** What a change to one ticket does to its mass incident, and a person's change to a mass incident to its places. */
export class MassMembers {
  constructor(
    private readonly mass: MassIncidents,
    private readonly recorder: Recorder,
    private readonly pg: boolean,
  ) {}

  /** Brings a mass incident in line with its places after one of them changed. */
  async syncParent(trx: Trx, id: number, now: number, sink: Sink): Promise<void> {
    const parent = await trx
      .selectFrom('tickets')
      .selectAll()
      .where('id', '=', id)
      .$if(this.pg, (q) => q.forUpdate())
      .executeTakeFirst();
    if (!parent || parent.status === 'closed') return;
    const synced = await this.mass.sync(trx, parent, now);
    this.recorder.record(synced.ticket, synced.events, now, sink);
  }

  /** The alerts of these tickets (a mass incident's are its places'). */
  async alertsOf(trx: Trx, ids: number[]): Promise<TicketAlert[]> {
    const out: TicketAlert[] = [];
    for (const part of chunks(ids))
      out.push(
        ...(await trx.selectFrom('ticket_alerts').selectAll().where('ticket_id', 'in', part).execute()),
      );
    return out;
  }

  /**
   * A person's acknowledgement or resolution of a mass incident is theirs on every open member too: the
   * engineer who takes "OFD unreachable at 1,243 tills" takes each till's ticket, and resolving it
   * resolves them (forced where a member's alerts still fire: the parent's resolve was already allowed).
   */
  async cascade(
    trx: Trx,
    parent: Ticket,
    members: Ticket[],
    alerts: TicketAlert[],
    actor: string,
    now: number,
    sink: Sink,
  ): Promise<void> {
    const byTicket = new Map<number, TicketAlert[]>();
    for (const a of alerts) byTicket.set(a.ticket_id, [...(byTicket.get(a.ticket_id) ?? []), a]);
    for (const m of members) {
      let c: TicketChange | undefined;
      if (parent.status === 'acknowledged' && m.status === 'open')
        c = actions.acknowledge(m, actor, now, `#${parent.id}`);
      else if (parent.status === 'resolved')
        c = actions.resolve(m, byTicket.get(m.id) ?? [], actor, now, { force: true, note: `#${parent.id}` });
      if (!c) continue;
      this.recorder.record(await applyChange(trx, c, m), c.events, now, sink);
    }
  }

  /** Brings every live mass incident in line with its places (the sweeper: a storm's last arrivals). */
  async syncAll(db: Kysely<Database>, now: number): Promise<Sink[]> {
    const parents = await db
      .selectFrom('tickets')
      .select('id')
      .where('mass', '=', 1)
      .where('status', 'in', ['open', 'acknowledged'])
      .execute();
    const sinks: Sink[] = [];
    for (const p of parents)
      await db.transaction().execute(async (trx) => {
        const sink: Sink = { alerts: new Map(), events: [], outbox: [], transitions: [] };
        await this.syncParent(trx, Number(p.id), now, sink);
        await this.recorder.flush(trx, sink);
        sinks.push(sink);
      });
    return sinks;
  }
}
