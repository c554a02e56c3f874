import { storable, type WebhookPayload } from '../alertmanager.js';
import type { Config, Priority } from '../config.js';
import type { Store } from '../db/connect.js';
import type { KnowledgeBase } from '../knowledge-base.js';
import type { Metrics } from '../metrics.js';
import { Places } from '../places.js';
import { Remediation } from '../actions/service.js';
import { createFanout, type Fanout } from './fanout.js';
import * as actions from './actions.js';
import type { ResolveOptions } from './actions.js';
import type { IngestResult, Ticket, TicketAlert } from './model.js';
import { deskChange, type DeskEvent, type DeskOutcome } from './desk.js';
import type { TicketChange } from './lifecycle.js';
import { createPolicy, openTicket, type Policy } from './policy.js';
import { resume, resumedEvent, resumeSet, startWaiting } from './waiting.js';
import { slaReport, type SlaReport } from './report.js';
import { releaseHeld, storeSnapshot } from './held.js';
import { TicketStore } from './store.js';
import { Sweeper } from './sweep.js';
import {
  createView,
  TicketReader,
  type ListFilter,
  type PlaceQuery,
  type TicketDetail,
  type TicketJson,
  type ToJson,
} from './view.js';

export { ConflictError, NotFoundError, type IngestResult, type Ticket } from './model.js';
export type { ListFilter, PlaceQuery, TicketDetail, TicketJson } from './view.js';
export { ReportRequestError, type SlaReport } from './report.js';
export { DESK_ACTIONS, type DeskAction, type DeskEvent, type DeskOutcome } from './desk.js';

export interface TicketServiceDeps {
  store: Store;
  config: Config;
  kb: KnowledgeBase;
  metrics: Metrics;
  places?: Places;
  now?: () => number;
}

/** What the HTTP layer and the dispatcher use: ingest, the people's actions, reads, housekeeping. */
export class TicketService {
  readonly fanout: Fanout;
  readonly toJson: ToJson;
  readonly writes: TicketStore;
  /** Remote actions on tills: the automatic first step of tickets (issue 19). */
  readonly remediation: Remediation;
  private readonly reader: TicketReader;
  private readonly sweeper: Sweeper;

  /** How long a new ticket's first messages wait for its snapshot: the query's own bound, plus storing it. */
  private readonly holdNewFor: number;

  constructor(private readonly deps: TicketServiceDeps) {
    const now = deps.now ?? Date.now;
    const { config, kb, metrics } = deps;
    this.holdNewFor = config.enrichment ? config.enrichment.timeout + 500 : 0;
    this.fanout = createFanout(config);
    const policy = createPolicy(config, kb);
    this.toJson = createView({
      kb,
      locale: config.locale,
      publicUrl: config.public_url,
      places: deps.places ?? Places.none(config.timezone),
      slaPolicyOf: (t) => policy.slaPolicyOf(t.priority as Priority, t.chain),
    });
    this.remediation = new Remediation({
      db: deps.store.db,
      config,
      metrics,
      store: () => this.writes,
      now,
    });
    this.writes = new TicketStore({
      kb,
      remediation: config.remediation ? this.remediation : undefined,
      holdNewFor: this.holdNewFor,
      familyOf: (c) => kb.familyOf(c),
      store: deps.store,
      config,
      policy,
      open: openTicket(config, kb, policy, this.fanout.hasTargets),
      fanout: this.fanout,
      metrics,
      now,
    });
    this.reader = new TicketReader(deps.store.db, this.toJson);
    this.sweeper = new Sweeper({
      db: deps.store.db,
      store: this.writes,
      config,
      metrics,
      targets: () => this.fanout.targetNames(),
      levelTargets: (l) => this.fanout.levelTargets(l),
      now,
    });
    this.metrics = metrics;
    this.policy = policy;
    this.db = deps.store.db;
    this.config = config;
    this.now = now;
  }

  private readonly db: TicketServiceDeps['store']['db'];
  private readonly policy: Policy;

  private calendarOf(t: Ticket) {
    return this.policy.slaPolicyOf(t.priority as Priority, t.chain).cal;
  }

  /** The ticket waits for the client: its reaction and resolution clocks stand still. */
  async wait(id: number, actor: string, note?: string): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, _a, now) => startWaiting(t, actor, now, note)))!;
  }

  /** The client answered: the clocks run again with the working time they had left. */
  async resume(id: number, actor: string, note?: string): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, _a, now) =>
      resume(t, actor, now, this.calendarOf(t), note),
    ))!;
  }
  private readonly config: Config;
  private readonly now: () => number;

  /**
   * The monthly SLA report of a chain. The month is taken in the zone of the chain's business-hours
   * calendar (its first SLA policy that has one), else the bridge's `timezone`.
   */
  slaReport(chain: string, month: string): Promise<SlaReport> {
    const { sla, timezone } = this.config;
    const withCal = sla.policies.find((p) => p.chain === chain && p.calendar !== '24/7');
    const zone = withCal ? sla.calendars[withCal.calendar]!.timezone : timezone;
    return slaReport(this.db, { chain, month, timezone: zone, now: this.now() });
  }

  private readonly metrics: Metrics;

  ingest(payload: WebhookPayload): Promise<IngestResult> {
    return this.writes.ingest(payload);
  }

  async acknowledge(id: number, actor: string, note?: string): Promise<Ticket> {
    const t = (await this.writes.mutate({ id }, (t, _a, now) => actions.acknowledge(t, actor, now, note)))!;
    this.metrics.acknowledged(t);
    return t;
  }

  async resolve(id: number, actor: string, opts: ResolveOptions = {}): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, alerts, now) =>
      this.resolveChange(t, alerts, actor, now, opts),
    ))!;
  }

  private resolveChange(
    t: Ticket,
    alerts: readonly TicketAlert[],
    actor: string,
    now: number,
    opts: ResolveOptions,
  ): TicketChange {
    const c = actions.resolve(t, alerts, actor, now, opts);
    // Resolving ends a wait for the client; the time it waited is not counted.
    if (t.waiting_since === null) return c;
    return {
      ...c,
      set: { ...resumeSet(t, this.calendarOf(t), now), ...c.set },
      events: [resumedEvent(t, actor, now), ...c.events],
    };
  }

  /**
   * A service desk's change (its signed webhook, a Redmine poll): applied once per desk event id, recorded
   * with the desk as actor, and sent to every target but the desk it came from.
   */
  async deskEvent(raw: DeskEvent): Promise<DeskOutcome> {
    // A desk's text is stored as both engines can (PostgreSQL refuses NUL): see `storable`.
    const e: DeskEvent = {
      ...raw,
      id: storable(raw.id),
      text: raw.text === undefined ? undefined : storable(raw.text),
      person: raw.person === undefined ? undefined : storable(raw.person),
    };
    const r = await this.writes.mutateOnce({ desk: e.origin, eventId: e.id }, e.ticket, (t, alerts, now) =>
      deskChange(e, t, alerts, now, (...a) => this.resolveChange(...a)),
    );
    if (r.duplicate) return { status: 'duplicate' };
    if (!r.ticket) return { status: 'unchanged' };
    if (e.action === 'acknowledge') this.metrics.acknowledged(r.ticket);
    return { status: 'applied', ticket: r.ticket };
  }

  async reopen(id: number, actor: string, note?: string): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, _a, now) => actions.reopen(t, actor, now, note)))!;
  }

  async assign(id: number, actor: string, assignee: string | null): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, _a, now) => actions.assign(t, actor, now, assignee)))!;
  }

  async comment(id: number, actor: string, text: string): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, _a, now) => actions.comment(t, actor, now, text)))!;
  }

  get(id: number): Promise<TicketDetail> {
    return this.reader.get(id);
  }

  list(filter: ListFilter): Promise<TicketJson[]> {
    return this.reader.list(filter);
  }

  /** Composes outbox rows into the events receivers get. */
  outgoing(rows: Parameters<TicketReader['outgoing']>[0]) {
    return this.reader.outgoing(rows);
  }

  forPlace(q: PlaceQuery): Promise<TicketJson[]> {
    return this.reader.forPlace(q);
  }

  setSnapshot(id: number, snapshot: object): Promise<void> {
    return storeSnapshot(this.db, id, snapshot);
  }

  /** Lets a new ticket's first messages go now: its snapshot is stored, or will not come. */
  release(id: number): Promise<void> {
    return releaseHeld(this.db, id, this.now(), this.holdNewFor);
  }

  async sweep(): Promise<void> {
    await this.sweeper.sweep();
    await this.writes.syncMassIncidents();
    if (this.deps.config.remediation) await this.remediation.sweep();
  }
}
