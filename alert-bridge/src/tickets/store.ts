import type { Kysely, Transaction } from 'kysely';
import type { WebhookPayload } from '../alertmanager.js';
import type { Config } from '../config.js';
import type { Store } from '../db/connect.js';
import type { Remediation } from '../actions/service.js';
import type { Database } from '../db/schema.js';
import { isTransient } from '../db/errors.js';
import { identify } from '../identity.js';
import type { Metrics } from '../metrics.js';
import type { KnowledgeBase } from '../knowledge-base.js';
import { StoreAbsorption } from './absorb.js';
import { MassIncidents, SYNC_EVERY } from './mass.js';
import { applyChange, chunks, Recorder, type Sink } from './sink.js';
import { MassMembers } from './mass-members.js';
import { queueFirstStep } from './first-step.js';
import { readKnown } from './known.js';
import type { Fanout } from './fanout.js';
import { GroupCommit, type Work } from './group-commit.js';
import { decide, type Decision, type Incoming, type OpenTicket, type TicketChange } from './lifecycle.js';
import { NotFoundError, type EventKind, type IngestResult, type Ticket, type TicketAlert } from './model.js';
import type { Policy } from './policy.js';

type Trx = Transaction<Database>;

interface KeyResult {
  id: number;
  created: boolean;
}
/** One notification: its alerts by ticket key; `weight` is its number of alerts. */
interface Notification extends Work {
  groups: Map<string, Incoming>;
}

export interface TicketStoreDeps {
  kb: KnowledgeBase;
  /**
   * How long a new ticket's first messages wait for its snapshot (0: they do not): enrichment releases
   * them as soon as the snapshot is stored or has failed, so the facts are in the first message.
   */
  holdNewFor: number;
  /** The knowledge base's family of an incident class (the ticket key is built from it). */
  familyOf: (incidentClass: string) => string;
  store: Store;
  config: Config;
  policy: Policy;
  open: OpenTicket;
  fanout: Fanout;
  metrics: Metrics;
  now: () => number;
  /** Remote actions (issue 19): the automatic first step of a new ticket, when configured. */
  remediation?: Remediation | undefined;
}

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 300);

/**
 * The write side of tickets: group commit, batched reads and writes, row locking, and recording
 * history events with their outbox rows in the same transaction. What changes is decided by the pure
 * lifecycle (lifecycle.ts); this class only reads what it needs and writes what was decided.
 */
export class TicketStore {
  private readonly db: Kysely<Database>;
  private readonly pg: boolean;
  private readonly absorb: StoreAbsorption;
  private readonly mass: MassIncidents;
  private readonly recorder: Recorder;
  private readonly members: MassMembers;
  private readonly group = new GroupCommit<Notification, IngestResult>((rounds) => this.commitRounds(rounds));

  constructor(private readonly deps: TicketStoreDeps) {
    this.db = deps.store.db;
    this.pg = deps.store.engine === 'postgres';
    this.absorb = new StoreAbsorption(deps.config, deps.familyOf);
    this.recorder = new Recorder(deps);
    this.mass = new MassIncidents(deps.config, deps.kb, deps.policy, (team) => deps.fanout.hasTargets(team));
    this.members = new MassMembers(this.mass, this.recorder, this.pg);
  }

  /**
   * Applies one Alertmanager notification. Everything (alerts, ticket changes, events, outbox rows)
   * is committed before the promise resolves, so a 2xx always means "stored". Notifications arriving
   * together share one transaction (see GroupCommit).
   */
  ingest(payload: WebhookPayload): Promise<IngestResult> {
    const groups = new Map<string, Incoming>();
    for (const a of payload.alerts) {
      const { key } = identify(a.labels, this.deps.config.tickets, this.deps.familyOf);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { key, alerts: [], externalURL: payload.externalURL }));
      g.alerts.push(a);
    }
    const n: Notification = { keys: [...groups.keys()], weight: payload.alerts.length, groups };
    return this.group
      .submit(n)
      .catch((e: unknown) => (isTransient(e) ? Promise.reject(e) : this.isolate(n, e)));
  }

  /**
   * A notification that failed for a reason a retry cannot fix: store it problem by problem, so the
   * good alerts are kept and only the problems that fail again are reported (Alertmanager drops a 4xx
   * and retries a 5xx forever, blocking the whole group).
   */
  private async isolate(n: Notification, first: unknown): Promise<IngestResult> {
    const out: IngestResult = { alerts: n.weight, tickets: [], created: [], rejected: [] };
    if (n.keys.length === 1) {
      const g = n.groups.get(n.keys[0]!)!;
      out.rejected.push({ key: g.key, alerts: g.alerts.length, reason: reasonOf(first) });
      return out;
    }
    for (const k of [...n.keys].sort()) {
      const g = n.groups.get(k)!;
      try {
        const r = await this.group.submit({ keys: [k], weight: g.alerts.length, groups: new Map([[k, g]]) });
        out.tickets.push(...r.tickets);
        out.created.push(...r.created);
      } catch (e) {
        if (isTransient(e)) throw e;
        out.rejected.push({ key: k, alerts: g.alerts.length, reason: reasonOf(e) });
      }
    }
    return out;
  }

  private async commitRounds(rounds: Notification[][]): Promise<IngestResult[][]> {
    const transitions: EventKind[] = [];
    const byKey = await this.db.transaction().execute(async (trx) => {
      const out = [];
      for (const r of rounds) out.push(await this.applyRound(trx, r, transitions));
      return out;
    });
    this.count(transitions);
    return rounds.map((r, i) =>
      r.map((n) => {
        const result: IngestResult = { alerts: n.weight, tickets: [], created: [], rejected: [] };
        for (const k of [...n.keys].sort()) {
          const kr = byKey[i]!.get(k);
          if (!kr) continue;
          result.tickets.push(kr.id);
          if (kr.created) result.created.push(kr.id);
        }
        return result;
      }),
    );
  }

  private count(transitions: EventKind[]): void {
    for (const t of transitions)
      if (t !== 'commented' && t !== 'alert_joined') this.deps.metrics.ticketsTransitions.inc({ event: t });
  }

  /** Applies notifications with disjoint ticket keys: a few reads and multi-row writes in all. */
  private async applyRound(
    trx: Trx,
    round: Notification[],
    transitions: EventKind[],
  ): Promise<Map<string, KeyResult>> {
    const groups = new Map<string, Incoming>();
    for (const p of round) for (const [k, g] of p.groups) groups.set(k, { ...g, alerts: [...g.alerts] });
    const alias = new Map<string, string>();
    await this.absorb.route(trx, groups, alias);
    const keys = [...groups.keys()].sort();
    const now = this.deps.now();
    const { policy, open } = this.deps;
    const known = await readKnown(trx, keys, this.pg, now - policy.flapWindow);
    const decisions = new Map<string, Decision>();
    for (const k of keys) decisions.set(k, decide(known.get(k)!, groups.get(k)!, now, policy, open));
    const sink: Sink = { alerts: new Map(), events: [], outbox: [], transitions };

    // Close before inserting: a closed ticket gives up its open_key for the new one.
    for (const k of keys) {
      const d = decisions.get(k)!;
      if (d.closed)
        this.recorder.record(
          await applyChange(trx, d.closed, known.get(k)!.ticket!),
          d.closed.events,
          now,
          sink,
        );
    }

    // New problems: one multi-row insert. A key another replica inserted meanwhile is skipped by the
    // unique open_key, then read (locked) and decided again against that replica's ticket.
    const fresh = keys.filter((k) => decisions.get(k)!.created);
    const plans = new Map<string, NonNullable<ReturnType<Remediation['planFor']>>>();
    for (const k of fresh) {
      const t = decisions.get(k)!.created!.ticket;
      const plan = this.deps.remediation?.planFor(t);
      if (!plan) continue;
      plans.set(k, plan);
      // A dry run only records what it would do: nothing is queued and the page is not held.
      if (!plan.dryRun)
        Object.assign(t, { page_hold_until: now + plan.policy.wait, remediation_state: 'pending' });
    }
    const ids = new Map<string, number>();
    for (const part of chunks(fresh)) {
      const rows = await trx
        .insertInto('tickets')
        .values(part.map((k) => decisions.get(k)!.created!.ticket))
        .onConflict((oc) => oc.column('open_key').doNothing())
        .returning(['id', 'key'])
        .execute();
      for (const r of rows) ids.set(r.key, Number(r.id));
    }
    const lost = fresh.filter((k) => !ids.has(k));
    if (lost.length) {
      const again = await readKnown(trx, lost, this.pg, now - policy.flapWindow);
      for (const k of lost) {
        known.set(k, again.get(k)!);
        const d = decide(again.get(k)!, groups.get(k)!, now, policy, open);
        if (d.created || d.closed) throw new Error(`ticket for ${k} changed twice during one commit`);
        decisions.set(k, d);
      }
    }

    // A storm of one class in one chain: the new tickets join their mass incident before their own events
    // are recorded, so none of them is announced on its own.
    const born = fresh
      .filter((k) => ids.has(k))
      .map((k) => ({ ...decisions.get(k)!.created!.ticket, id: ids.get(k)! }));
    const mass = await this.mass.adopt(trx, born, now, this.pg);
    sink.held = mass.held;
    if (mass.deferred) this.deferMassSync();
    const parents = new Set<number>();

    const out = new Map<string, KeyResult>();
    for (const key of keys) {
      const d = decisions.get(key)!;
      if (d.created && ids.has(key)) {
        const id = ids.get(key)!;
        const t: Ticket = { ...d.created.ticket, id, parent_id: mass.parentOf.get(id) ?? null };
        const alerts = d.alerts.map((a) => ({ ...a, ticket_id: id }));
        for (const a of alerts) sink.alerts.set(`${id}\u0000${a.fingerprint}`, a);
        this.recorder.record(t, d.created.events, now, sink);
        const plan = plans.get(key);
        if (plan) queueFirstStep(this.deps.remediation!, this.recorder, t, plan, now, sink);
        // Till tickets of this very round may still have their alert rows in the sink: write them first.
        if (t.till === null && t.store !== null) await this.recorder.flush(trx, sink);
        const merged = await this.absorb.mergeTills(trx, t, now);
        for (const c of merged.closed) this.recorder.record(c.ticket, c.events, now, sink);
        if (merged.joined) this.recorder.record(t, [merged.joined], now, sink);
        out.set(key, { id, created: true });
        continue;
      }
      const live = d.after as Ticket | undefined;
      if (!live) continue;
      const k = known.get(key)!;
      const alerts = d.alerts.map((a) => ({ ...a, ticket_id: live.id }));
      for (const a of alerts) sink.alerts.set(`${live.id}\u0000${a.fingerprint}`, a);
      if (d.updated) {
        const after = await applyChange(trx, d.updated, k.ticket!);
        this.recorder.record(after, d.updated.events, now, sink);
        if (after.parent_id !== null && 'status' in d.updated.set) parents.add(after.parent_id);
      }
      out.set(key, { id: live.id, created: false });
    }
    for (const c of mass.changes) this.recorder.record(c.ticket, c.events, now, sink);
    // Members that resolved or came back: their parent follows (resolved when none is open).
    for (const id of [...parents]
      .filter((p) => !mass.changes.some((c) => c.ticket.id === p))
      .sort((a, b) => a - b))
      await this.members.syncParent(trx, id, now, sink);
    await this.recorder.flush(trx, sink);
    for (const [from, to] of alias) {
      const r = out.get(to);
      if (r) out.set(from, { id: r.id, created: false });
    }
    return out;
  }

  /**
   * Applies a person's (or the sweeper's) change to one ticket under a row lock. `fn` sees the ticket
   * as stored and returns the change, or undefined for none; it may throw ConflictError.
   */
  async mutate(
    where: { id: number } | { key: string },
    fn: (t: Ticket, alerts: TicketAlert[], now: number) => TicketChange | undefined,
  ): Promise<Ticket | undefined> {
    const transitions: EventKind[] = [];
    const out = await this.db.transaction().execute((trx) => this.mutateIn(trx, where, fn, transitions));
    this.count(transitions);
    return out;
  }

  /**
   * A service desk's change, applied once per (desk, event id): the id is stored in the change's own
   * transaction, so a repeat (a retry, a replay, a poll that overlaps the last) changes nothing on any
   * replica. A change that throws (ConflictError) stores nothing; one that is undefined stores the id.
   */
  async mutateOnce(
    once: { desk: string; eventId: string },
    id: number,
    fn: (t: Ticket, alerts: TicketAlert[], now: number) => TicketChange | undefined,
  ): Promise<{ duplicate: boolean; ticket: Ticket | undefined }> {
    const transitions: EventKind[] = [];
    const out = await this.db.transaction().execute(async (trx) => {
      const stored = await trx
        .insertInto('desk_events')
        .values({ desk: once.desk, event_id: once.eventId, ticket_id: id, at: this.deps.now() })
        .onConflict((oc) => oc.columns(['desk', 'event_id']).doNothing())
        .executeTakeFirst();
      if (Number(stored.numInsertedOrUpdatedRows ?? 0) === 0) return { duplicate: true, ticket: undefined };
      return { duplicate: false, ticket: await this.mutateIn(trx, { id }, fn, transitions) };
    });
    this.count(transitions);
    return out;
  }

  private async mutateIn(
    trx: Trx,
    where: { id: number } | { key: string },
    fn: (t: Ticket, alerts: TicketAlert[], now: number) => TicketChange | undefined,
    transitions: EventKind[],
  ): Promise<Ticket | undefined> {
    const t = await trx
      .selectFrom('tickets')
      .selectAll()
      .$if('id' in where, (q) => q.where('id', '=', (where as { id: number }).id))
      .$if('key' in where, (q) => q.where('open_key', '=', (where as { key: string }).key))
      .$if(this.pg, (q) => q.forUpdate())
      .executeTakeFirst();
    if (!t) {
      if ('id' in where) throw new NotFoundError(`ticket ${where.id} does not exist`);
      return undefined;
    }
    const now = this.deps.now();
    // A mass incident has no alerts of its own: a person acting on it sees its open members' alerts.
    const members = t.mass
      ? await trx
          .selectFrom('tickets')
          .selectAll()
          .where('parent_id', '=', t.id)
          .where('status', 'in', ['open', 'acknowledged'])
          .orderBy('id')
          .$if(this.pg, (q) => q.forUpdate())
          .execute()
      : [];
    const alerts = await this.members.alertsOf(trx, t.mass ? members.map((m) => m.id) : [t.id]);
    const c = fn(t, alerts, now);
    if (!c) return undefined;
    const sink: Sink = { alerts: new Map(), events: [], outbox: [], transitions };
    let after = await applyChange(trx, c, t);
    this.recorder.record(after, c.events, now, sink);
    if (after.parent_id !== null && 'status' in c.set)
      await this.members.syncParent(trx, after.parent_id, now, sink);
    if (t.mass && 'status' in c.set && members.length > 0) {
      await this.members.cascade(trx, after, members, alerts, c.events[0]?.actor ?? 'bridge', now, sink);
      const synced = await this.mass.sync(trx, after, now, 'quiet');
      this.recorder.record(synced.ticket, synced.events, now, sink);
      after = synced.ticket;
    }
    await this.recorder.flush(trx, sink);
    return after;
  }

  private massTimer: NodeJS.Timeout | undefined;

  /** A parent's counts were left for later: take them a second from now (once, however many arrive). */
  private deferMassSync(): void {
    if (this.massTimer) return;
    this.massTimer = setTimeout(() => {
      this.massTimer = undefined;
      // The sweeper takes them anyway: a failure here (the store closing, a timeout) only delays the title.
      this.syncMassIncidents().catch(() => undefined);
    }, SYNC_EVERY);
    this.massTimer.unref();
  }

  /** Takes the counts of every live mass incident once more (after a storm's last arrivals; the sweeper too). */
  async syncMassIncidents(): Promise<void> {
    const sinks = await this.members.syncAll(this.db, this.deps.now());
    this.count(sinks.flatMap((s) => s.transitions));
  }
}
