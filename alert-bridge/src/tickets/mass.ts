import { sql, type Kysely, type Transaction } from 'kysely';
import type { Config, Priority } from '../config.js';
import type { Database } from '../db/schema.js';
import { escapeKeyPart } from '../identity.js';
import { chunks } from './sink.js';
import type { KnowledgeBase, Locale } from '../knowledge-base.js';
import { bump, type TicketChange } from './lifecycle.js';
import type { EventSpec, NewTicket, Ticket } from './model.js';
import { freshLifecycle, rank, worstSeverity, type Policy } from './policy.js';

type Db = Kysely<Database> | Transaction<Database>;
const OPEN = ['open', 'acknowledged'] as const;
/** How often a growing mass incident's counts are taken while its places arrive. */
export const SYNC_EVERY = 1_000;

/** How many places a mass incident covers: its open member tickets, their tills and their stores. */
export interface MassCounts {
  tickets: number;
  tills: number;
  stores: number;
}

const num = (n: number, locale: Locale) => n.toLocaleString(locale === 'ru' ? 'ru-RU' : 'en-US');
const ruForm = new Intl.PluralRules('ru');
const ru = (n: number, one: string, few: string, many: string) => {
  const f = ruForm.select(n);
  return f === 'one' ? one : f === 'few' ? few : many;
};

/** "ОФД недоступен: 1 243 кассы в 87 магазинах" / "OFD unreachable: 1,243 tills in 87 stores". */
export function massTitle(base: string, c: MassCounts, locale: Locale): string {
  const tills = Math.max(c.tills, 0);
  // A store-level class (the store's network) has no tills to count.
  if (tills === 0)
    return locale === 'ru'
      ? `${base}: ${num(c.stores, locale)} ${ru(c.stores, 'магазин', 'магазина', 'магазинов')}`
      : `${base}: ${num(c.stores, locale)} ${c.stores === 1 ? 'store' : 'stores'}`;
  if (locale === 'ru')
    return `${base}: ${num(tills, locale)} ${ru(tills, 'касса', 'кассы', 'касс')} в ${num(c.stores, locale)} ${ru(c.stores, 'магазине', 'магазинах', 'магазинах')}`;
  return `${base}: ${num(tills, locale)} ${tills === 1 ? 'till' : 'tills'} in ${num(c.stores, locale)} ${c.stores === 1 ? 'store' : 'stores'}`;
}

/** What a round did to mass incidents: parents opened or changed, each with its events. */
export interface MassOutcome {
  /** Tickets of this round that now belong to a parent (their own messages are left to it). */
  parentOf: Map<number, number>;
  /**
   * New tickets whose class is already open on another store of their chain: a storm may be starting, so
   * their first messages wait `hold` for a parent that would speak for them. A fault on one store alone is
   * sent at once.
   */
  held: Set<number>;
  /** A parent took in places without taking its counts (less than a second since the last): take them soon. */
  deferred: boolean;
  changes: { ticket: Ticket; events: EventSpec[] }[];
}

/**
 * Mass incidents: when one incident class opens tickets on many places of one chain (or region) within a
 * short window (the OFD or EGAIS down for everyone, a bad POS update), the bridge opens one parent ticket,
 * links the place tickets to it, and from then on announces only the parent: a storm of thousands of
 * alerts is one message per channel, and the place tickets are still there, each with its alerts.
 */
export class MassIncidents {
  constructor(
    private readonly config: Config,
    private readonly kb: KnowledgeBase,
    private readonly policy: Policy,
    private readonly hasTargets: (team: string) => boolean,
  ) {}

  private get cfg() {
    return this.config.mass_incidents;
  }

  /** The parent's key: its class and the chain (and region) it spans. */
  private keyOf(t: Pick<Ticket, 'incident_class' | 'chain' | 'region'>): string {
    const parts = [`~mass`, escapeKeyPart(t.incident_class), `chain=${escapeKeyPart(t.chain ?? '')}`];
    if (this.cfg.scope === 'region') parts.push(`region=${escapeKeyPart(t.region ?? '')}`);
    return parts.join('|');
  }

  private eligible(t: Ticket): boolean {
    return (
      this.cfg.enabled &&
      t.mass === 0 &&
      t.parent_id === null &&
      t.chain !== null &&
      t.store !== null &&
      (this.cfg.scope !== 'region' || t.region !== null) &&
      (this.cfg.classes ? this.cfg.classes.includes(t.incident_class) : this.kb.sharedCause(t.incident_class))
    );
  }

  /**
   * Links the round's new tickets to their mass incident, opening it when its class has reached the
   * threshold in the window. Runs before the new tickets' events are recorded, so a member's own
   * messages are never sent.
   */
  async adopt(trx: Db, born: Ticket[], now: number, pg: boolean): Promise<MassOutcome> {
    const out: MassOutcome = { parentOf: new Map(), changes: [], held: new Set(), deferred: false };
    const groups = new Map<string, Ticket[]>();
    for (const t of born) {
      if (!this.eligible(t)) continue;
      const k = this.keyOf(t);
      const g = groups.get(k);
      if (g) g.push(t);
      else groups.set(k, [t]);
    }
    for (const key of [...groups.keys()].sort()) {
      const members = groups.get(key)!;
      const sample = members[0]!;
      let parent = await trx
        .selectFrom('tickets')
        .selectAll()
        .where('open_key', '=', key)
        .$if(pg, (q) => q.forUpdate())
        .executeTakeFirst();
      let events: EventSpec[] = [];
      if (!parent) {
        const since = now - this.cfg.window;
        const candidates = await this.scopeQuery(trx, sample)
          .select(['id', 'store'])
          .where('parent_id', 'is', null)
          .where('mass', '=', 0)
          .where('status', 'in', OPEN)
          .where('opened_at', '>=', since)
          .execute();
        const stores = new Set(candidates.map((c) => c.store)).size;
        if (stores < this.cfg.min_stores) {
          if (stores >= 2) for (const m of members) out.held.add(m.id);
          continue;
        }
        parent = await this.open(trx, key, sample, now);
        events = [{ kind: 'created', actor: 'bridge', data: { mass: true, members: candidates.length } }];
        const ids = candidates.map((c) => Number(c.id));
        await this.link(trx, parent.id, ids);
        await this.withdraw(trx, ids, now);
      } else {
        await this.link(
          trx,
          parent.id,
          members.map((m) => m.id),
        );
      }
      for (const m of members) out.parentOf.set(m.id, parent.id);
      // A storm brings its places dozens a second: the parent's counts are taken at most once a second
      // (they read every member), and once more a second after the last arrival.
      const lastSync = Number((JSON.parse(parent.annotations) as Record<string, string>).mass_synced_at ?? 0);
      if (events.length === 0 && now - lastSync < SYNC_EVERY) {
        out.deferred = true;
        continue;
      }
      const synced = await this.sync(trx, parent, now, events.length === 0 ? 'announce' : 'created');
      out.changes.push({ ticket: synced.ticket, events: [...events, ...synced.events] });
    }
    return out;
  }

  private scopeQuery(trx: Db, t: Pick<Ticket, 'incident_class' | 'chain' | 'region'>) {
    return trx
      .selectFrom('tickets')
      .where('incident_class', '=', t.incident_class)
      .where('chain', '=', t.chain!)
      .$if(this.cfg.scope === 'region', (q) => q.where('region', '=', t.region!));
  }

  /**
   * Messages of the parent's earlier members that are still held (never sent to their target) are not
   * sent at all: the parent's message speaks for them. Rows being delivered right now are left alone.
   */
  private async withdraw(trx: Db, ids: number[], now: number): Promise<void> {
    for (const part of chunks(ids)) {
      const unsent = await trx
        .selectFrom('outbox')
        .select(['ticket_id', 'target'])
        .where('ticket_id', 'in', part)
        .where('event_type', '=', 'ticket.created')
        .where('status', '=', 'pending')
        .where('attempts', '=', 0)
        .execute();
      const targets = new Map<string, number[]>();
      for (const r of unsent) targets.set(r.target, [...(targets.get(r.target) ?? []), r.ticket_id]);
      for (const [target, tickets] of targets)
        await trx
          .deleteFrom('outbox')
          .where('target', '=', target)
          .where('ticket_id', 'in', tickets)
          .where('status', '=', 'pending')
          .where('attempts', '=', 0)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
          .execute();
    }
  }

  private async link(trx: Db, parentId: number, ids: number[]): Promise<void> {
    for (const part of chunks(ids))
      await trx.updateTable('tickets').set({ parent_id: parentId }).where('id', 'in', part).execute();
  }

  private async open(trx: Db, key: string, sample: Ticket, now: number): Promise<Ticket> {
    const labels = JSON.parse(sample.labels) as Record<string, string>;
    const keep = ['alertname', 'incident_class', 'severity', 'team', 'chain', 'region'];
    const head = Object.fromEntries(Object.entries(labels).filter(([k]) => keep.includes(k)));
    const priority = sample.priority as Priority;
    const row: NewTicket = {
      ...freshLifecycle(now),
      key,
      open_key: key,
      priority,
      severity: sample.severity,
      incident_class: sample.incident_class,
      family: sample.incident_class,
      team: sample.team,
      chain: sample.chain,
      region: this.cfg.scope === 'region' ? sample.region : null,
      store: null,
      till: null,
      device: null,
      title: sample.title,
      needs_card: sample.needs_card,
      ...this.policy.slaDue(priority, now, sample.chain),
      registered_at: this.hasTargets(sample.team) ? null : now,
      labels: JSON.stringify(head),
      annotations: JSON.stringify({}),
      mass: 1,
    };
    const inserted = await trx.insertInto('tickets').values(row).returning('id').executeTakeFirstOrThrow();
    return { ...row, id: Number(inserted.id) } as Ticket;
  }

  /**
   * Brings a parent in line with its members: counts in the title, the worst priority, open while any
   * member is open and resolved when none is. Announces the counts at most once per `update_interval`.
   */
  async sync(
    trx: Db,
    parent: Ticket,
    now: number,
    mode: 'announce' | 'created' | 'quiet' = 'announce',
  ): Promise<{ ticket: Ticket; events: EventSpec[] }> {
    // Counted in the database: a storm's parent has thousands of members and is synced on every round.
    const open = () =>
      trx.selectFrom('tickets').where('parent_id', '=', parent.id).where('status', 'in', OPEN);
    const totals = await open()
      .select([
        sql<number>`count(*)`.as('tickets'),
        sql<number>`count(distinct store)`.as('stores'),
        sql<number>`count(distinct store || '|' || till)`.as('tills'),
      ])
      .executeTakeFirstOrThrow();
    const rows = await open().select(['priority', 'severity']).groupBy(['priority', 'severity']).execute();
    const counts: MassCounts = {
      tickets: Number(totals.tickets),
      tills: Number(totals.tills),
      stores: Number(totals.stores),
    };
    const annotations = JSON.parse(parent.annotations) as Record<string, string>;
    const base = this.kb.recommend(parent.incident_class, this.config.locale)?.short ?? parent.incident_class;
    const set: Partial<Ticket> = {};
    const title = massTitle(base, counts, this.config.locale);
    if (counts.tickets > 0 && title !== parent.title) set.title = title;
    const worst = rows.reduce((p, r) => (rank(r.priority) < rank(p) ? r.priority : p), parent.priority);
    if (rank(worst) < rank(parent.priority)) {
      set.priority = worst;
      Object.assign(set, this.policy.slaDue(worst as Priority, parent.opened_at, parent.chain));
    }
    const severity = rows.length ? worstSeverity(rows.map((r) => r.severity)) : parent.severity;
    if (severity !== parent.severity) set.severity = severity;
    const events: EventSpec[] = [];
    if (counts.tickets === 0 && (parent.status === 'open' || parent.status === 'acknowledged')) {
      Object.assign(set, {
        status: 'resolved',
        resolved_at: now,
        self_resolved: parent.acknowledged_at === null ? 1 : 0,
      });
      events.push({ kind: 'resolved', actor: 'bridge', data: { mass: true, members: 0 } });
    } else if (counts.tickets > 0 && parent.status === 'resolved') {
      Object.assign(set, { status: 'open', resolved_at: null, reopen_count: parent.reopen_count + 1 });
      events.push({ kind: 'reopened', actor: 'bridge', data: { mass: true, members: counts.tickets } });
    } else if (mode === 'created') {
      // The parent's own creation message carries these counts.
      annotations.mass_announced = String(counts.tickets);
      annotations.mass_announced_at = String(now);
    } else if (mode === 'announce' && counts.tickets !== Number(annotations.mass_announced ?? -1)) {
      const last = Number(annotations.mass_announced_at ?? 0);
      if (now - last >= this.cfg.update_interval) {
        events.push({ kind: 'alert_joined', actor: 'bridge', data: { mass: true, ...counts } });
        annotations.mass_announced = String(counts.tickets);
        annotations.mass_announced_at = String(now);
      }
    }
    // The largest the incident grew: its title once it is over ("0 stores" would tell people nothing).
    const peakTills = Math.max(counts.tills, Number(annotations.mass_peak_tills ?? 0));
    const peakStores = Math.max(counts.stores, Number(annotations.mass_peak_stores ?? 0));
    const peakTickets = Math.max(counts.tickets, Number(annotations.mass_peak_tickets ?? 0));
    if (counts.tickets === 0 && peakTickets > 0) {
      const peak = massTitle(
        base,
        { tickets: peakTickets, tills: peakTills, stores: peakStores },
        this.config.locale,
      );
      if (peak !== parent.title) set.title = peak;
    }
    Object.assign(annotations, {
      mass_peak_tickets: String(peakTickets),
      mass_peak_tills: String(peakTills),
      mass_peak_stores: String(peakStores),
    });
    Object.assign(annotations, {
      mass_synced_at: String(now),
      mass_tickets: String(counts.tickets),
      mass_tills: String(counts.tills),
      mass_stores: String(counts.stores),
    });
    // Nothing moved (the sweeper's pass over a quiet incident): no write, the parent stays as it is.
    const { mass_synced_at: _was, ...before } = JSON.parse(parent.annotations) as Record<string, string>;
    const { mass_synced_at: _now, ...after } = annotations;
    if (
      events.length === 0 &&
      Object.keys(set).length === 0 &&
      JSON.stringify(before) === JSON.stringify(after)
    )
      return { ticket: parent, events };
    set.annotations = JSON.stringify(annotations);
    const change = bump(parent, set, now);
    await trx.updateTable('tickets').set(change).where('id', '=', parent.id).execute();
    return { ticket: { ...parent, ...change }, events };
  }
}

export type { TicketChange };
