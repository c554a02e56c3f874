import { randomUUID } from 'node:crypto';
import type { Insertable, Transaction } from 'kysely';
import type { Config } from '../config.js';
import type { Database, EventsTable, OutboxTable, RemediationActionsTable } from '../db/schema.js';
import { targetId } from '../delivery/target.js';
import type { Metrics } from '../metrics.js';
import type { Fanout } from './fanout.js';
import type { TicketChange } from './lifecycle.js';
import { OUTGOING, type EventKind, type EventSpec, type Ticket, type TicketAlert } from './model.js';

// What one round (or one person's change) writes besides the tickets themselves: alert rows, history
// events, outbox rows per interested target, remote actions; collected, then written in a few
// multi-row inserts.

type Trx = Transaction<Database>;

/** Rows collected while applying one round and written in a few multi-row inserts at the end. */
export interface Sink {
  alerts: Map<string, TicketAlert>;
  /** New tickets whose first messages wait for a mass incident that may take them in. */
  held?: Set<number>;
  events: Insertable<EventsTable>[];
  outbox: Insertable<OutboxTable>[];
  transitions: EventKind[];
  /** Actions queued for tills by remediation policies. */
  actions?: Insertable<RemediationActionsTable>[];
  /** Tickets auto-remediated in this round: their held messages are dropped (nobody is paged). */
  suppress?: { id: number; incidentClass: string }[];
}

// Keeps multi-row inserts under SQLite's and PostgreSQL's bound-parameter limits.
const CHUNK = 500;

export const chunks = <T>(xs: readonly T[]): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
};

/** Writes a lifecycle change to its ticket's row; the ticket as it now stands. */
export async function applyChange(trx: Trx, c: TicketChange, base: Ticket): Promise<Ticket> {
  await trx.updateTable('tickets').set(c.set).where('id', '=', c.id).execute();
  return { ...base, ...c.set };
}

/** Records events into a sink (history and outbox rows per target) and writes a sink in one go. */
export class Recorder {
  constructor(
    private readonly deps: {
      fanout: Fanout;
      config: Config;
      metrics: Metrics;
      /** How long a new ticket's first messages wait for its snapshot (0: they do not). */
      holdNewFor: number;
    },
  ) {}

  /** Adds the history events and one outbox row per event and interested target to the sink. */
  record(t: Ticket, events: EventSpec[], now: number, sink: Sink): void {
    for (const e of events) this.recordOne(t, e, now, sink);
  }

  private recordOne(t: Ticket, e: EventSpec, now: number, sink: Sink): void {
    const eventId = randomUUID();
    sink.events.push({
      event_id: eventId,
      ticket_id: t.id,
      type: e.kind,
      at: now,
      actor: e.actor,
      data: JSON.stringify(e.data),
    });
    sink.transitions.push(e.kind);
    if (e.kind === 'resolved' && e.data.auto_remediated === true) {
      // Fixed by the automatic step while its page was held: nobody hears of it (history and metrics do).
      (sink.suppress ??= []).push({ id: t.id, incidentClass: t.incident_class });
      return;
    }
    const type = OUTGOING[e.kind];
    // A mass incident's member is announced through its parent only.
    if (!type || t.parent_id !== null) return;
    const targets = e.targets ?? this.deps.fanout.targetsFor(t.team, type);
    for (const target of targets) {
      if (e.origin !== undefined && targetId(target) === e.origin) continue;
      sink.outbox.push({
        event_id: eventId,
        ticket_id: t.id,
        target: targetId(target),
        event_type: type,
        status: 'pending',
        attempts: 0,
        // A new ticket's messages wait for its snapshot, for a mass incident that may take it in, and for its
        // automatic first step when it has one.
        next_attempt_at:
          e.kind === 'created'
            ? Math.max(
                now +
                  Math.max(
                    this.deps.holdNewFor,
                    sink.held?.has(t.id) ? this.deps.config.mass_incidents.hold : 0,
                  ),
                t.page_hold_until ?? 0,
              )
            : now,
        created_at: now,
      });
    }
  }

  async flush(trx: Trx, sink: Sink): Promise<void> {
    for (const part of chunks([...sink.alerts.values()])) {
      await trx
        .insertInto('ticket_alerts')
        .values(part)
        .onConflict((oc) =>
          oc.columns(['ticket_id', 'fingerprint']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            labels: eb.ref('excluded.labels'),
            annotations: eb.ref('excluded.annotations'),
            starts_at: eb.ref('excluded.starts_at'),
            ends_at: eb.ref('excluded.ends_at'),
            last_seen_at: eb.ref('excluded.last_seen_at'),
          })),
        )
        .execute();
    }
    // Insert order is id order, which is the per-ticket delivery order of the outbox.
    for (const part of chunks(sink.events)) await trx.insertInto('events').values(part).execute();
    for (const part of chunks(sink.outbox)) await trx.insertInto('outbox').values(part).execute();
    for (const part of chunks(sink.actions ?? []))
      await trx.insertInto('remediation_actions').values(part).execute();
    for (const part of chunks(sink.suppress ?? [])) {
      await trx
        .deleteFrom('outbox')
        .where(
          'ticket_id',
          'in',
          part.map((s) => s.id),
        )
        .where('status', '=', 'pending')
        .execute();
      for (const s of part)
        this.deps.metrics.remediationTickets.inc({
          incident_class: s.incidentClass,
          outcome: 'auto_remediated',
        });
    }
    sink.actions = [];
    sink.suppress = [];
    sink.alerts.clear();
    sink.events.length = 0;
    sink.outbox.length = 0;
  }
}
