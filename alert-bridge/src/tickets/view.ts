// Reads of the ticket store for the API, the pages and outgoing events, rendered by ./json.ts.
import type { Kysely } from 'kysely';
import type { OutgoingEvent } from '../delivery/sender.js';
import type { Database } from '../db/schema.js';
import {
  DETAIL_MEMBERS,
  LEVELS,
  OUTGOING_ALERTS,
  type ListFilter,
  type PlaceQuery,
  type TicketDetail,
  type TicketJson,
  type ToJson,
} from './json.js';
import { NotFoundError, type OutgoingType, type TicketAlert } from './model.js';

export * from './json.js';
/** The read side: one ticket with history, filtered lists, and the tickets about a place. */
export class TicketReader {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly toJson: ToJson,
  ) {}

  /** The remote-action attempts of these tickets, by ticket (only tickets that had any). */
  private async tried(
    ids: readonly number[],
  ): Promise<Map<number, NonNullable<TicketJson['remediation_tried']>>> {
    const out = new Map<number, NonNullable<TicketJson['remediation_tried']>>();
    if (ids.length === 0) return out;
    for (const r of await this.db
      .selectFrom('remediation_actions')
      .select(['ticket_id', 'action', 'attempt', 'status'])
      .where('ticket_id', 'in', [...ids])
      .orderBy('id')
      .execute()) {
      const id = Number(r.ticket_id);
      const l = out.get(id) ?? [];
      l.push({ action: r.action, attempt: r.attempt, status: r.status });
      out.set(id, l);
    }
    return out;
  }

  async get(id: number): Promise<TicketDetail> {
    const t = await this.db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirst();
    if (!t) throw new NotFoundError(`ticket ${id} does not exist`);
    const alerts = await this.db
      .selectFrom('ticket_alerts')
      .selectAll()
      .where('ticket_id', '=', id)
      .orderBy('starts_at')
      .execute();
    const events = await this.db
      .selectFrom('events')
      .selectAll()
      .where('ticket_id', '=', id)
      .orderBy('id')
      .execute();
    const members = t.mass ? await this.membersOf(id) : undefined;
    const tried = (await this.tried([id])).get(id);
    return {
      ...this.toJson(t, alerts),
      ...members,
      ...(tried ? { remediation_tried: tried } : {}),
      events: events.map((e) => ({
        id: e.event_id,
        type: e.type,
        at: new Date(e.at).toISOString(),
        actor: e.actor,
        data: JSON.parse(e.data) as unknown,
      })),
    };
  }

  private async membersOf(id: number): Promise<{ members: TicketJson[]; member_count: number }> {
    const total = await this.db
      .selectFrom('tickets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('parent_id', '=', id)
      .executeTakeFirstOrThrow();
    const live = await this.list({ parent_id: id, status: ['open', 'acknowledged'], limit: DETAIL_MEMBERS });
    const rest =
      live.length < DETAIL_MEMBERS
        ? await this.list({
            parent_id: id,
            status: ['resolved', 'closed'],
            limit: DETAIL_MEMBERS - live.length,
          })
        : [];
    return { members: [...live, ...rest], member_count: Number(total.n) };
  }

  async list(filter: ListFilter): Promise<TicketJson[]> {
    let q = this.db
      .selectFrom('tickets')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.status) q = q.where('status', 'in', filter.status);
    for (const k of ['store', 'till', 'team', 'incident_class', 'chain', 'region'] as const) {
      const v = filter[k];
      if (v !== undefined) q = q.where(k, '=', v);
    }
    if (filter.parent_id !== undefined) q = q.where('parent_id', '=', filter.parent_id);
    if (filter.opened_after !== undefined) q = q.where('opened_at', '>=', filter.opened_after);
    if (filter.opened_before !== undefined) q = q.where('opened_at', '<', filter.opened_before);
    if (filter.before_id !== undefined) q = q.where('id', '<', filter.before_id);
    const rows = await q.execute();
    if (rows.length === 0) return [];
    const alerts = await this.db
      .selectFrom('ticket_alerts')
      .selectAll()
      .where(
        'ticket_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    const byTicket = new Map<number, TicketAlert[]>();
    for (const a of alerts) {
      const l = byTicket.get(a.ticket_id);
      if (l) l.push(a);
      else byTicket.set(a.ticket_id, [a]);
    }
    return rows.map((r) => this.toJson(r, byTicket.get(r.id) ?? []));
  }

  /**
   * Live tickets about a place: those at the place itself, above it (a store-wide ticket for a till)
   * and below it (a till's tickets for a store). With `alertname`, tickets carrying that alert come
   * first and alone when there are any.
   */
  async forPlace(q: PlaceQuery): Promise<TicketJson[]> {
    const live = await this.list({
      status: ['open', 'acknowledged', 'resolved'],
      ...(q.incident_class ? { incident_class: q.incident_class } : {}),
      ...(q.store ? { store: q.store } : q.chain ? { chain: q.chain } : {}),
      limit: 1000,
    });
    const near = live.filter(
      (t) =>
        LEVELS.every((k) => q[k] === undefined || t[k] === null || t[k] === q[k]) &&
        (q.till === undefined || t.till !== null || t.tills.length === 0 || t.tills.includes(q.till)),
    );
    if (!q.alertname) return near;
    const named = near.filter((t) => t.alerts.some((a) => a.alertname === q.alertname));
    return named.length ? named : near;
  }

  /**
   * The outgoing events of outbox rows, composed at delivery from the stored event and the ticket as
   * it stands now (so a message carries the latest state, the snapshot included), in row order.
   */
  async outgoing(
    rows: readonly { event_id: string; ticket_id: number; event_type: string }[],
  ): Promise<OutgoingEvent[]> {
    if (rows.length === 0) return [];
    const eventIds = [...new Set(rows.map((r) => r.event_id))];
    const ticketIds = [...new Set(rows.map((r) => r.ticket_id))];
    const events = new Map(
      (await this.db.selectFrom('events').selectAll().where('event_id', 'in', eventIds).execute()).map(
        (e) => [e.event_id, e],
      ),
    );
    const tickets = new Map(
      (await this.db.selectFrom('tickets').selectAll().where('id', 'in', ticketIds).execute()).map((t) => [
        t.id,
        t,
      ]),
    );
    const alerts = new Map<number, TicketAlert[]>();
    for (const a of await this.db
      .selectFrom('ticket_alerts')
      .selectAll()
      .where('ticket_id', 'in', ticketIds)
      .orderBy('starts_at', 'desc')
      .execute()) {
      const l = alerts.get(a.ticket_id);
      if (l) l.push(a);
      else alerts.set(a.ticket_id, [a]);
    }
    const tried = await this.tried(
      [...tickets.values()].filter((t) => t.remediation_state !== null).map((t) => t.id),
    );
    return rows.map((r) => {
      const e = events.get(r.event_id);
      const t = tickets.get(r.ticket_id);
      if (!e || !t) throw new Error(`outbox row for event ${r.event_id} has no stored event or ticket`);
      const all = alerts.get(t.id) ?? [];
      const json = this.toJson(t, all);
      const attempts = tried.get(t.id);
      if (attempts) json.remediation_tried = attempts;
      const shown = [
        ...json.alerts.filter((a) => a.status === 'firing'),
        ...json.alerts.filter((a) => a.status !== 'firing'),
      ];
      return {
        id: e.event_id,
        type: r.event_type as OutgoingType,
        event: e.type,
        actor: e.actor,
        occurred_at: new Date(e.at).toISOString(),
        data: JSON.parse(e.data) as Record<string, unknown>,
        ticket: { ...json, alerts: shown.slice(0, OUTGOING_ALERTS) },
      };
    });
  }
}
