import type { WebhookPayload } from '../alertmanager.js';
import type { Config } from '../config.js';
import type { Store } from '../db/connect.js';
import type { KnowledgeBase } from '../knowledge-base.js';
import type { Metrics } from '../metrics.js';
import { Places } from '../places.js';
import { Remediation } from '../actions/service.js';
import { createFanout, type Fanout } from './fanout.js';
import * as actions from './actions.js';
import type { ResolveOptions } from './actions.js';
import type { IngestResult, Ticket } from './model.js';
import { createPolicy, openTicket } from './policy.js';
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

  constructor(private readonly deps: TicketServiceDeps) {
    const now = deps.now ?? Date.now;
    const { config, kb, metrics } = deps;
    this.fanout = createFanout(config);
    const policy = createPolicy(config, kb);
    this.toJson = createView({
      kb,
      locale: config.locale,
      publicUrl: config.public_url,
      places: deps.places ?? Places.none(config.timezone),
    });
    this.remediation = new Remediation({
      db: deps.store.db,
      config,
      metrics,
      store: () => this.writes,
      now,
    });
    this.writes = new TicketStore({
      remediation: config.remediation ? this.remediation : undefined,
      // The snapshot query's own bound, plus a little for storing it.
      holdNewFor: config.enrichment ? config.enrichment.timeout + 500 : 0,
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
      now,
    });
  }

  ingest(payload: WebhookPayload): Promise<IngestResult> {
    return this.writes.ingest(payload);
  }

  async acknowledge(id: number, actor: string, note?: string): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, _a, now) => actions.acknowledge(t, actor, now, note)))!;
  }

  async resolve(id: number, actor: string, opts: ResolveOptions = {}): Promise<Ticket> {
    return (await this.writes.mutate({ id }, (t, alerts, now) =>
      actions.resolve(t, alerts, actor, now, opts),
    ))!;
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
    return this.writes.setSnapshot(id, snapshot);
  }

  async sweep(): Promise<void> {
    await this.sweeper.sweep();
    if (this.deps.config.remediation) await this.remediation.sweep();
  }
}
