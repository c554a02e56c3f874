import { randomUUID } from 'node:crypto';
import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { Config, Priority } from './config.js';
import type { Database, EventsTable, OutboxTable, TicketAlertsTable, TicketsTable } from './db/schema.js';
import type { Store } from './db/connect.js';
import type { KnowledgeBase, Recommendation } from './knowledge-base.js';
import type { Metrics } from './metrics.js';
import type { AmAlert, WebhookPayload } from './alertmanager.js';
import { fingerprintOf, identify } from './identity.js';
import { channelsFor, routeTeam } from './routing.js';

export type Ticket = Selectable<TicketsTable>;
export type TicketAlert = Selectable<TicketAlertsTable>;
type Db = Kysely<Database> | Transaction<Database>;

export type EventKind =
  'created' | 'alert_joined' | 'acknowledged' | 'commented' | 'resolved' | 'reopened' | 'closed';
export type OutgoingType = 'ticket.created' | 'ticket.updated' | 'ticket.resolved' | 'ticket.reopened';

const OUTGOING: Record<EventKind, OutgoingType | null> = {
  created: 'ticket.created',
  alert_joined: 'ticket.updated',
  acknowledged: 'ticket.updated',
  commented: 'ticket.updated',
  resolved: 'ticket.resolved',
  reopened: 'ticket.reopened',
  // Closing is bookkeeping after the reopen window; service desks already got ticket.resolved.
  closed: null,
};

const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1, info: 2 };

/** Rows collected while applying one notification and written in a few multi-row inserts at the end. */
interface Sink {
  alerts: Map<string, TicketAlert>;
  events: Insertable<EventsTable>[];
  outbox: Insertable<OutboxTable>[];
}

// Keeps multi-row inserts under SQLite's and PostgreSQL's bound-parameter limits.
const CHUNK = 500;
// Bounds of one group commit: enough to absorb a burst, small enough that one transaction stays short.
const GROUP_MAX = 64;
const GROUP_MAX_ALERTS = 5_000;

interface KeyGroup {
  alerts: AmAlert[];
  externalURL: string;
}
interface KeyResult {
  id: number;
  created: boolean;
}
interface Pending {
  alerts: number;
  /** The notification's alerts by ticket key. */
  groups: Map<string, KeyGroup>;
  resolve: (r: IngestResult) => void;
  reject: (e: unknown) => void;
}

export class NotFoundError extends Error {}
export class ConflictError extends Error {}

export interface IngestResult {
  alerts: number;
  tickets: number[];
  created: number[];
}

export interface TicketServiceDeps {
  store: Store;
  config: Config;
  kb: KnowledgeBase;
  metrics: Metrics;
  now?: () => number;
}

export class TicketService {
  private readonly db: Kysely<Database>;
  private readonly pg: boolean;
  private readonly now: () => number;

  constructor(private readonly deps: TicketServiceDeps) {
    this.db = deps.store.db;
    this.pg = deps.store.engine === 'postgres';
    this.now = deps.now ?? Date.now;
  }

  /**
   * Applies one Alertmanager notification. Everything (alerts, ticket changes, events, outbox rows)
   * is committed before the promise resolves, so a 2xx always means "stored".
   *
   * Group commit: notifications that arrive while a commit is in flight wait and are then applied
   * together in a single transaction, so they share one commit (one fsync on SQLite with
   * synchronous=FULL, one WAL flush on PostgreSQL) instead of queueing for one commit each. Every
   * caller is answered only after that shared commit. The result is the same as applying them one
   * after the other: notifications touching disjoint problems are merged into one round of reads and
   * multi-row writes, and one that touches a problem already in the round starts a new round, so it
   * sees the writes of the earlier one, in arrival order.
   */
  ingest(payload: WebhookPayload): Promise<IngestResult> {
    const groups = new Map<string, KeyGroup>();
    for (const a of payload.alerts) {
      const id = identify(a.labels, this.deps.config.tickets);
      let g = groups.get(id.key);
      if (!g) groups.set(id.key, (g = { alerts: [], externalURL: payload.externalURL }));
      g.alerts.push(a);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ alerts: payload.alerts.length, groups, resolve, reject });
      if (!this.committing) {
        this.committing = true;
        void this.drain();
      }
    });
  }

  private readonly pending: Pending[] = [];
  private committing = false;

  private async drain(): Promise<void> {
    try {
      // Let the requests already read in this turn of the event loop join the group first. On
      // SQLite this matters most: better-sqlite3 runs the whole transaction, fsync included,
      // synchronously, so requests that arrived meanwhile are only parsed after it; this turn
      // gives them their place in the next group instead of one commit each.
      await new Promise((r) => setImmediate(r));
      while (this.pending.length > 0) {
        let alerts = 0;
        let n = 0;
        while (n < this.pending.length && n < GROUP_MAX && alerts < GROUP_MAX_ALERTS)
          alerts += this.pending[n++]!.alerts;
        await this.commitGroup(this.pending.splice(0, n));
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.committing = false;
    }
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    // Rounds of notifications with disjoint ticket keys, in arrival order.
    const rounds: Pending[][] = [];
    let round: Pending[] = [];
    const inRound = new Set<string>();
    for (const p of group) {
      if ([...p.groups.keys()].some((k) => inRound.has(k))) {
        rounds.push(round);
        round = [];
        inRound.clear();
      }
      round.push(p);
      for (const k of p.groups.keys()) inRound.add(k);
    }
    rounds.push(round);
    const transitions: EventKind[] = [];
    let results: Map<string, KeyResult>[];
    try {
      results = await this.db.transaction().execute(async (trx) => {
        const out = [];
        for (const r of rounds) out.push(await this.applyRound(trx, r, transitions));
        return out;
      });
    } catch (e) {
      if (group.length === 1) {
        group[0]!.reject(e);
        return;
      }
      // One bad notification (or a deadlock with another replica) must not fail the others it was
      // grouped with: retry each in its own transaction so only the faulty one gets the error.
      for (const p of group) await this.commitGroup([p]);
      return;
    }
    for (const t of transitions) this.deps.metrics.ticketsTransitions.inc({ event: t });
    for (const [i, r] of rounds.entries()) {
      const byKey = results[i]!;
      for (const p of r) {
        const result: IngestResult = { alerts: p.alerts, tickets: [], created: [] };
        for (const k of [...p.groups.keys()].sort()) {
          const kr = byKey.get(k);
          if (!kr) continue;
          result.tickets.push(kr.id);
          if (kr.created) result.created.push(kr.id);
        }
        p.resolve(result);
      }
    }
  }

  /** Applies notifications with disjoint ticket keys: two reads and a few multi-row writes in all. */
  private async applyRound(
    trx: Transaction<Database>,
    round: Pending[],
    transitions: EventKind[],
  ): Promise<Map<string, KeyResult>> {
    const groups = new Map<string, KeyGroup>();
    for (const p of round) for (const [k, g] of p.groups) groups.set(k, g);
    // A fixed lock order keeps two replicas handling overlapping notifications from deadlocking.
    const keys = [...groups.keys()].sort();
    const out = new Map<string, KeyResult>();
    const sink: Sink = { alerts: new Map(), events: [], outbox: [] };
    // Two reads for the whole round; a pure repeat then writes nothing at all.
    const live = new Map<string, Ticket>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const rows = await trx
        .selectFrom('tickets')
        .selectAll()
        .where('open_key', 'in', keys.slice(i, i + CHUNK))
        .orderBy('open_key')
        .$if(this.pg, (q) => q.forUpdate())
        .execute();
      for (const r of rows) live.set(r.open_key!, r);
    }
    const liveAlerts = new Map<number, TicketAlert[]>();
    const ids = [...live.values()].map((t) => t.id);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await trx
        .selectFrom('ticket_alerts')
        .selectAll()
        .where('ticket_id', 'in', ids.slice(i, i + CHUNK))
        .execute();
      for (const a of rows) {
        const l = liveAlerts.get(a.ticket_id);
        if (l) l.push(a);
        else liveAlerts.set(a.ticket_id, [a]);
      }
    }
    // Problems with no live ticket yet: one multi-row insert. A key another replica inserted
    // meanwhile is skipped by the unique open_key and picked up (locked) below.
    const now = this.now();
    const fresh = keys.filter(
      (k) => !live.has(k) && groups.get(k)!.alerts.some((a) => a.status === 'firing'),
    );
    const created = new Set<string>();
    for (let i = 0; i < fresh.length; i += CHUNK) {
      const rows = await trx
        .insertInto('tickets')
        .values(
          fresh
            .slice(i, i + CHUNK)
            .map((k) => this.newTicket(k, groups.get(k)!.alerts, groups.get(k)!.externalURL, now)),
        )
        .onConflict((oc) => oc.column('open_key').doNothing())
        .returningAll()
        .execute();
      for (const r of rows) {
        live.set(r.key, r);
        created.add(r.key);
      }
    }
    for (const key of fresh) {
      if (created.has(key)) continue;
      const t = await this.lockLive(trx, key);
      if (t) {
        live.set(key, t);
        liveAlerts.set(
          t.id,
          await trx.selectFrom('ticket_alerts').selectAll().where('ticket_id', '=', t.id).execute(),
        );
      }
    }
    for (const key of keys) {
      const t = live.get(key);
      const existing = t ? (liveAlerts.get(t.id) ?? []) : [];
      const g = groups.get(key)!;
      const r = await this.applyKey(trx, key, g.alerts, g.externalURL, transitions, t, existing, sink, {
        created: created.has(key),
      });
      if (r) out.set(key, r);
    }
    await this.flush(trx, sink);
    return out;
  }

  private async lockLive(trx: Db, key: string): Promise<Ticket | undefined> {
    return trx
      .selectFrom('tickets')
      .selectAll()
      .where('open_key', '=', key)
      .$if(this.pg, (q) => q.forUpdate())
      .executeTakeFirst();
  }

  private async applyKey(
    trx: Transaction<Database>,
    key: string,
    alerts: AmAlert[],
    externalURL: string,
    transitions: EventKind[],
    live: Ticket | undefined,
    existing: TicketAlert[],
    sink: Sink,
    pre?: { created: boolean },
  ): Promise<{ id: number; created: boolean } | null> {
    const { config } = this.deps;
    const now = this.now();
    const anyFiringIn = alerts.some((a) => a.status === 'firing');

    let t = live;
    if (
      t &&
      t.status === 'resolved' &&
      t.resolved_at !== null &&
      now - t.resolved_at > config.tickets.reopen_window
    ) {
      // The sweeper has not closed it yet, but the reopen window is over: this is a new problem.
      await this.close(trx, t, now, existing, sink);
      transitions.push('closed');
      t = undefined;
      existing = [];
    }
    let created = pre?.created ?? false;
    if (!t) {
      if (!anyFiringIn) return null; // a late "resolved" for a problem already closed adds nothing
      const inserted = await trx
        .insertInto('tickets')
        .values(this.newTicket(key, alerts, externalURL, now))
        // Two replicas may race here: the unique open_key makes the loser insert nothing.
        .onConflict((oc) => oc.column('open_key').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (inserted) {
        t = inserted;
        created = true;
      } else {
        t = await this.lockLive(trx, key);
        if (!t) throw new Error(`ticket for ${key} vanished during ingest`);
        existing = await trx.selectFrom('ticket_alerts').selectAll().where('ticket_id', '=', t.id).execute();
      }
    }

    const byFp = new Map(existing.map((a) => [a.fingerprint, a]));
    const joined: string[] = [];
    const writes: TicketAlert[] = [];
    for (const a of alerts) {
      const fp = fingerprintOf(a.labels, a.fingerprint);
      const startsAt = Date.parse(a.startsAt);
      const endsAt = a.endsAt && !a.endsAt.startsWith('0001-') ? Date.parse(a.endsAt) : null;
      const old = byFp.get(fp);
      if (old) {
        // Out-of-order copies (HA peers, retries) must not undo newer news about the same alert.
        if (a.status === 'firing' && old.status === 'resolved' && startsAt <= old.starts_at) continue;
        if (a.status === 'resolved' && startsAt < old.starts_at) continue;
        // An identical repeat adds nothing (jiralert habit): no write at all.
        if (a.status === old.status && startsAt === old.starts_at) continue;
      } else if (a.status === 'firing') {
        joined.push(a.labels.alertname ?? fp);
      }
      const row: TicketAlert = {
        ticket_id: t.id,
        fingerprint: fp,
        alertname: a.labels.alertname ?? '',
        status: a.status,
        labels: JSON.stringify(a.labels),
        annotations: JSON.stringify(a.annotations),
        starts_at: startsAt,
        ends_at: a.status === 'resolved' ? (endsAt ?? now) : null,
        last_seen_at: now,
      };
      writes.push(row);
      byFp.set(fp, row);
    }
    for (const w of writes) sink.alerts.set(`${w.ticket_id}\u0000${w.fingerprint}`, w);
    const all = [...byFp.values()];
    const firing = all.filter((a) => a.status === 'firing');

    if (created) {
      await this.record(
        trx,
        t,
        'created',
        'alertmanager',
        { alerts: firing.map((a) => a.alertname) },
        now,
        all,
        sink,
      );
      transitions.push('created');
      return { id: t.id, created };
    }
    if (writes.length === 0) return { id: t.id, created };

    // Severity/priority follow the worst alert still firing: a warning that turns critical raises it.
    const severity = firing.length
      ? worstSeverity(firing.map((a) => ({ labels: JSON.parse(a.labels) as Record<string, string> })))
      : t.severity;
    const priority = this.priorityOf(t.incident_class, severity);
    const changes: Partial<Ticket> = {};
    if (severity !== t.severity) changes.severity = severity;
    if (rank(priority) < rank(t.priority as Priority)) {
      changes.priority = priority;
      Object.assign(changes, this.slaDue(priority, t.opened_at));
    }

    if (t.status === 'resolved' && firing.length > 0) {
      const since = now - config.tickets.flap_window;
      const recent = await trx
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('ticket_id', '=', t.id)
        .where('type', '=', 'reopened')
        .where('at', '>=', since)
        .executeTakeFirstOrThrow();
      const reopenings = Number(recent.n) + 1;
      Object.assign(changes, {
        status: 'open',
        resolved_at: null,
        acknowledged_at: null,
        self_resolved: 0,
        reopen_count: t.reopen_count + 1,
        flapping: reopenings >= config.tickets.flap_threshold ? 1 : t.flapping,
      });
      t = await this.update(trx, t, changes, now);
      await this.record(
        trx,
        t,
        'reopened',
        'alertmanager',
        { reopenings_in_window: reopenings },
        now,
        all,
        sink,
      );
      transitions.push('reopened');
    } else if ((t.status === 'open' || t.status === 'acknowledged') && firing.length === 0) {
      Object.assign(changes, {
        status: 'resolved',
        resolved_at: now,
        // Faults that cure themselves before anyone looked still need analysis (they hide real faults).
        self_resolved: t.acknowledged_at === null ? 1 : 0,
      });
      t = await this.update(trx, t, changes, now);
      await this.record(
        trx,
        t,
        'resolved',
        'alertmanager',
        { self_resolved: t.self_resolved === 1 },
        now,
        all,
        sink,
      );
      transitions.push('resolved');
    } else if (joined.length > 0 || Object.keys(changes).length > 0) {
      t = await this.update(trx, t, changes, now);
      await this.record(
        trx,
        t,
        'alert_joined',
        'alertmanager',
        { alerts: joined, ...changes },
        now,
        all,
        sink,
      );
    }
    return { id: t.id, created };
  }

  private newTicket(
    key: string,
    alerts: AmAlert[],
    externalURL: string,
    now: number,
  ): Insertable<TicketsTable> {
    const { config, kb } = this.deps;
    const first = alerts[0]!;
    const id = identify(first.labels, config.tickets);
    const card = kb.get(id.incidentClass);
    const severity = worstSeverity(alerts);
    const priority = this.priorityOf(id.incidentClass, severity);
    const team = routeTeam(first.labels, config.routing, card);
    const rec = kb.recommend(id.incidentClass, config.locale);
    return {
      key,
      open_key: key,
      status: 'open',
      priority,
      severity,
      incident_class: id.incidentClass,
      team,
      ...id.place,
      title: rec?.title ?? first.annotations.summary ?? first.labels.alertname ?? id.incidentClass,
      needs_card: card ? 0 : 1,
      self_resolved: 0,
      flapping: 0,
      reopen_count: 0,
      opened_at: now,
      updated_at: now,
      ...this.slaDue(priority, now),
      // With nowhere to register it, the ticket counts as registered by the bridge itself.
      registered_at: this.targetsFor(team, 'ticket.created').length === 0 ? now : null,
      registration_breached: 0,
      reaction_breached: 0,
      resolution_breached: 0,
      labels: JSON.stringify(first.labels),
      annotations: JSON.stringify({
        ...first.annotations,
        ...(externalURL ? { alertmanager_url: externalURL } : {}),
      }),
      snapshot: null,
      version: 0,
    };
  }

  private priorityOf(incidentClass: string, severity: string): Priority {
    const { priority } = this.deps.config;
    const bySev = priority.by_severity[severity as 'critical'] ?? priority.by_severity.warning;
    let p: Priority = priority.by_class[incidentClass] ?? this.deps.kb.get(incidentClass)?.priority ?? bySev;
    // "critical" means act now (style.md): it never ranks below the configured critical priority.
    if (severity === 'critical' && rank(priority.by_severity.critical) < rank(p))
      p = priority.by_severity.critical;
    return p;
  }

  private slaDue(p: Priority, from: number) {
    const s = this.deps.config.sla[p];
    return {
      registration_due_at: from + s.registration,
      reaction_due_at: from + s.reaction,
      resolution_due_at: from + s.resolution,
    };
  }

  private async update(trx: Db, t: Ticket, changes: Partial<Ticket>, now: number): Promise<Ticket> {
    const set = { ...changes, updated_at: now, version: t.version + 1 };
    await trx.updateTable('tickets').set(set).where('id', '=', t.id).execute();
    return { ...t, ...set };
  }

  private async close(trx: Db, t: Ticket, now: number, alerts?: TicketAlert[], sink?: Sink): Promise<void> {
    const closed = await this.update(trx, t, { status: 'closed', open_key: null, closed_at: now }, now);
    await this.record(trx, closed, 'closed', 'bridge', {}, now, alerts, sink);
  }

  private async flush(trx: Db, sink: Sink): Promise<void> {
    const alerts = [...sink.alerts.values()];
    for (let i = 0; i < alerts.length; i += CHUNK) {
      await trx
        .insertInto('ticket_alerts')
        .values(alerts.slice(i, i + CHUNK))
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
    for (let i = 0; i < sink.events.length; i += CHUNK) {
      await trx
        .insertInto('events')
        .values(sink.events.slice(i, i + CHUNK))
        .execute();
    }
    for (let i = 0; i < sink.outbox.length; i += CHUNK) {
      await trx
        .insertInto('outbox')
        .values(sink.outbox.slice(i, i + CHUNK))
        .execute();
    }
  }

  /** Writes the history event and, in the same transaction, one outbox row per interested target. */
  private async record(
    trx: Db,
    t: Ticket,
    kind: EventKind,
    actor: string,
    data: object,
    now: number,
    knownAlerts?: TicketAlert[],
    sink?: Sink,
  ): Promise<void> {
    const eventId = randomUUID();
    const event = {
      event_id: eventId,
      ticket_id: t.id,
      type: kind,
      at: now,
      actor,
      data: JSON.stringify(data),
    };
    if (sink) sink.events.push(event);
    else await trx.insertInto('events').values(event).execute();
    const type = OUTGOING[kind];
    if (!type) return;
    const targets = this.targetsFor(t.team, type);
    if (targets.length === 0) return;
    const alerts =
      knownAlerts ??
      (await trx.selectFrom('ticket_alerts').selectAll().where('ticket_id', '=', t.id).execute());
    const payload = JSON.stringify({
      id: eventId,
      type,
      event: kind,
      actor,
      occurred_at: new Date(now).toISOString(),
      data,
      ticket: this.toJson(t, alerts),
    });
    const rows = targets.map((target) => ({
      event_id: eventId,
      ticket_id: t.id,
      target,
      event_type: type,
      payload,
      status: 'pending' as const,
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
    }));
    if (sink) sink.outbox.push(...rows);
    else await trx.insertInto('outbox').values(rows).execute();
  }

  private targetsFor(team: string, type: OutgoingType): string[] {
    const out: string[] = [];
    for (const f of this.deps.config.forwarding.targets) {
      if (f.type === 'webhook' && f.events && !f.events.includes(type)) continue;
      out.push(`${f.type}:${f.name}`);
    }
    // Chats and mailboxes hear about new, reopened and resolved problems, not every update.
    if (type !== 'ticket.updated') for (const c of channelsFor(team, this.deps.config)) out.push(c.target);
    return out;
  }

  async acknowledge(id: number, actor: string, note?: string): Promise<Ticket> {
    return this.mutate(id, async (trx, t, now) => {
      if (t.status !== 'open')
        throw new ConflictError(`ticket ${id} is ${t.status}, only an open ticket can be acknowledged`);
      const u = await this.update(trx, t, { status: 'acknowledged', acknowledged_at: now }, now);
      await this.record(trx, u, 'acknowledged', actor, note ? { note } : {}, now);
      this.deps.metrics.ticketsTransitions.inc({ event: 'acknowledged' });
      return u;
    });
  }

  async resolve(id: number, actor: string, note?: string): Promise<Ticket> {
    return this.mutate(id, async (trx, t, now) => {
      if (t.status !== 'open' && t.status !== 'acknowledged') {
        throw new ConflictError(
          `ticket ${id} is ${t.status}, only an open or acknowledged ticket can be resolved`,
        );
      }
      const u = await this.update(trx, t, { status: 'resolved', resolved_at: now, self_resolved: 0 }, now);
      await this.record(trx, u, 'resolved', actor, { by: 'human', ...(note ? { note } : {}) }, now);
      this.deps.metrics.ticketsTransitions.inc({ event: 'resolved' });
      return u;
    });
  }

  async comment(id: number, actor: string, text: string): Promise<Ticket> {
    return this.mutate(id, async (trx, t, now) => {
      const u = await this.update(trx, t, {}, now);
      await this.record(trx, u, 'commented', actor, { text }, now);
      return u;
    });
  }

  private async mutate(
    id: number,
    fn: (trx: Transaction<Database>, t: Ticket, now: number) => Promise<Ticket>,
  ) {
    return this.db.transaction().execute(async (trx) => {
      const t = await trx
        .selectFrom('tickets')
        .selectAll()
        .where('id', '=', id)
        .$if(this.pg, (q) => q.forUpdate())
        .executeTakeFirst();
      if (!t) throw new NotFoundError(`ticket ${id} does not exist`);
      return fn(trx, t, this.now());
    });
  }

  /** Closes resolved tickets past the reopen window and counts SLA breaches; run periodically. */
  async sweep(): Promise<void> {
    const now = this.now();
    const { metrics, config } = this.deps;
    const stale = await this.db
      .selectFrom('tickets')
      .selectAll()
      .where('status', '=', 'resolved')
      .where('resolved_at', '<', now - config.tickets.reopen_window)
      .execute();
    for (const s of stale) {
      await this.db.transaction().execute(async (trx) => {
        const t = await this.lockLive(trx, s.key);
        if (t?.id === s.id && t.status === 'resolved') {
          await this.close(trx, t, now);
          metrics.ticketsTransitions.inc({ event: 'closed' });
        }
      });
    }
    const breaches: [
      kind: 'registration' | 'reaction' | 'resolution',
      col: keyof Ticket,
      due: keyof Ticket,
    ][] = [
      ['registration', 'registration_breached', 'registration_due_at'],
      ['reaction', 'reaction_breached', 'reaction_due_at'],
      ['resolution', 'resolution_breached', 'resolution_due_at'],
    ];
    for (const [kind, col, due] of breaches) {
      let q = this.db
        .selectFrom('tickets')
        .select(['id', 'priority'])
        .where(col as 'reaction_breached', '=', 0)
        .where(due as 'reaction_due_at', '<', now);
      if (kind === 'registration') q = q.where('registered_at', 'is', null).where('status', '!=', 'closed');
      if (kind === 'reaction') q = q.where('status', '=', 'open');
      if (kind === 'resolution') q = q.where('status', 'in', ['open', 'acknowledged']);
      for (const b of await q.execute()) {
        const r = await this.db
          .updateTable('tickets')
          .set({ [col]: 1 })
          .where('id', '=', b.id)
          .where(col as 'reaction_breached', '=', 0)
          .executeTakeFirst();
        // Only the replica that flipped the flag counts it, so a breach is counted once.
        if (Number(r.numUpdatedRows) === 1) metrics.slaBreaches.inc({ kind, priority: b.priority });
      }
    }
    await this.db
      .deleteFrom('outbox')
      .where('status', '=', 'delivered')
      .where('delivered_at', '<', now - config.forwarding.retention)
      .execute();
    const counts = await this.db
      .selectFrom('tickets')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    metrics.tickets.reset();
    for (const s of ['open', 'acknowledged', 'resolved', 'closed']) metrics.tickets.set({ status: s }, 0);
    for (const c of counts) metrics.tickets.set({ status: c.status }, Number(c.n));
    const pending = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    metrics.outboxPending.set(Number(pending.n));
  }

  async get(id: number) {
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
    return {
      ...this.toJson(t, alerts),
      events: events.map((e) => ({
        id: e.event_id,
        type: e.type,
        at: new Date(e.at).toISOString(),
        actor: e.actor,
        data: JSON.parse(e.data) as unknown,
      })),
    };
  }

  async list(filter: ListFilter) {
    let q = this.db
      .selectFrom('tickets')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100);
    if (filter.status) q = q.where('status', 'in', filter.status as Ticket['status'][]);
    for (const k of ['store', 'till', 'team', 'incident_class', 'chain', 'region'] as const) {
      const v = filter[k];
      if (v !== undefined) q = q.where(k, '=', v);
    }
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
    return rows.map((r) =>
      this.toJson(
        r,
        alerts.filter((a) => a.ticket_id === r.id),
      ),
    );
  }

  async setSnapshot(id: number, snapshot: object): Promise<void> {
    await this.db
      .updateTable('tickets')
      .set({ snapshot: JSON.stringify(snapshot) })
      .where('id', '=', id)
      .execute();
  }

  toJson(t: Ticket, alerts: TicketAlert[]): TicketJson {
    const rec = this.deps.kb.recommend(t.incident_class, this.deps.config.locale);
    const iso = (n: number | null) => (n === null ? null : new Date(n).toISOString());
    const tills = [
      ...new Set(
        alerts
          .map((a) => (JSON.parse(a.labels) as Record<string, string>).till)
          .filter((x): x is string => !!x),
      ),
    ].sort();
    const annotations = JSON.parse(t.annotations) as Record<string, string>;
    return {
      id: t.id,
      key: t.key,
      status: t.status,
      priority: t.priority,
      severity: t.severity,
      incident_class: t.incident_class,
      team: t.team,
      chain: t.chain,
      region: t.region,
      store: t.store,
      till: t.till,
      device: t.device,
      tills,
      title: t.title,
      needs_card: t.needs_card === 1,
      recommendation: rec,
      alerts: alerts.map((a) => ({
        fingerprint: a.fingerprint,
        alertname: a.alertname,
        status: a.status,
        labels: JSON.parse(a.labels) as Record<string, string>,
        annotations: JSON.parse(a.annotations) as Record<string, string>,
        starts_at: iso(a.starts_at),
        ends_at: iso(a.ends_at),
      })),
      opened_at: iso(t.opened_at)!,
      acknowledged_at: iso(t.acknowledged_at),
      resolved_at: iso(t.resolved_at),
      closed_at: iso(t.closed_at),
      updated_at: iso(t.updated_at)!,
      self_resolved: t.self_resolved === 1,
      flapping: t.flapping === 1,
      reopen_count: t.reopen_count,
      sla_due_at: iso(t.resolution_due_at)!,
      sla: {
        registration_due_at: iso(t.registration_due_at)!,
        reaction_due_at: iso(t.reaction_due_at)!,
        resolution_due_at: iso(t.resolution_due_at)!,
        registered_at: iso(t.registered_at),
        breached: {
          registration: t.registration_breached === 1,
          reaction: t.reaction_breached === 1,
          resolution: t.resolution_breached === 1,
        },
      },
      links: {
        ticket: `${this.deps.config.public_url.replace(/\/$/, '')}/ui/tickets/${t.id}`,
        runbook: annotations.runbook_url ?? null,
        dashboard: annotations.dashboard_url ?? null,
        alertmanager: annotations.alertmanager_url ?? null,
        ...(t.snapshot ? ((JSON.parse(t.snapshot) as { links?: object }).links ?? {}) : {}),
      },
      snapshot: t.snapshot ? (JSON.parse(t.snapshot) as unknown) : null,
      version: t.version,
    };
  }
}

export interface ListFilter {
  status?: string[];
  store?: string;
  till?: string;
  team?: string;
  incident_class?: string;
  chain?: string;
  region?: string;
  limit?: number;
}

export interface TicketJson {
  id: number;
  key: string;
  status: string;
  priority: string;
  severity: string;
  incident_class: string;
  team: string;
  chain: string | null;
  region: string | null;
  store: string | null;
  till: string | null;
  device: string | null;
  tills: string[];
  title: string;
  needs_card: boolean;
  recommendation: Recommendation | null;
  alerts: {
    fingerprint: string;
    alertname: string;
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    starts_at: string | null;
    ends_at: string | null;
  }[];
  opened_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  updated_at: string;
  self_resolved: boolean;
  flapping: boolean;
  reopen_count: number;
  sla_due_at: string;
  sla: {
    registration_due_at: string;
    reaction_due_at: string;
    resolution_due_at: string;
    registered_at: string | null;
    breached: { registration: boolean; reaction: boolean; resolution: boolean };
  };
  links: Record<string, string | null>;
  snapshot: unknown;
  version: number;
}

function rank(p: Priority | string): number {
  return Number(p.slice(1));
}

function worstSeverity(alerts: { labels: Record<string, string> }[]): string {
  let best = 'info';
  for (const a of alerts) {
    const s = a.labels.severity ?? 'warning';
    if ((SEVERITY_RANK[s] ?? 1) < (SEVERITY_RANK[best] ?? 2)) best = s in SEVERITY_RANK ? s : 'warning';
  }
  return best;
}
