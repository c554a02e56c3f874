// The bridge side of remote actions (issue 19): when a ticket of a class with a policy opens on an
// enrolled till, queue the policy's action for that till and hold the ticket's first page for the
// policy's wait. The till fetches the action over its outbound channel (http.ts), runs it if its own
// allowlist agrees, and reports back here. If the alerts clear after a successful attempt while the
// page is still held, the ticket resolves as auto-remediated and nobody is paged (lifecycle.ts); if the
// attempts fail or the wait ends with the alerts still firing, the page goes out with the attempts on
// the ticket's history.
import { existsSync } from 'node:fs';
import type { Kysely, Selectable } from 'kysely';
import type { Config } from '../config.js';
import type { Database, RemediationActionsTable } from '../db/schema.js';
import type { Metrics } from '../metrics.js';
import { bump } from '../tickets/lifecycle.js';
import { ConflictError, type NewTicket, type Ticket } from '../tickets/model.js';
import type { TicketStore } from '../tickets/store.js';
import { FISCAL_ACTION, type RemediationConfig, type RemediationPolicy } from './config.js';

export type ActionRow = Selectable<RemediationActionsTable>;

/** What a new ticket gets from its class's policy. */
export interface RemediationPlan {
  till: string;
  policy: RemediationPolicy;
  dryRun: boolean;
}

/** The outcome a till reports for one action. */
export interface ActionResult {
  result: 'succeeded' | 'failed' | 'refused' | 'dry_run';
  reason?: string | undefined;
  exit_code?: number | null | undefined;
  output?: string | undefined;
  duration_ms?: number | undefined;
}

export const tillIdOf = (t: Pick<Ticket, 'chain' | 'store' | 'till'>): string | undefined =>
  t.chain && t.store && t.till ? `${t.chain}/${t.store}/${t.till}` : undefined;

export class Remediation {
  readonly config: RemediationConfig | undefined;
  private readonly secrets: Map<string, string>;
  private readonly policies: Map<string, RemediationPolicy>;

  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      config: Config;
      metrics: Metrics;
      store: () => TicketStore;
      now: () => number;
    },
  ) {
    this.config = deps.config.remediation;
    this.secrets = new Map((this.config?.tills ?? []).map((t) => [t.id, t.secret.reveal()]));
    // A Map: a class such as "constructor" must not find a prototype member.
    this.policies = new Map(Object.entries(this.config?.policies ?? {}));
    // Every class with a policy has both outcome series from the start, at 0: increase() over a range
    // cannot see a counter's first step when the series is born at 1 (the first auto-remediated ticket
    // would never show on the Service dashboard).
    for (const cls of this.policies.keys())
      for (const outcome of ['auto_remediated', 'paged'])
        deps.metrics.remediationTickets.inc({ incident_class: cls, outcome }, 0);
  }

  /** The secret of an enrolled till, or undefined. */
  secretOf(till: string): string | undefined {
    return this.secrets.get(till);
  }

  /** Whether everything is stopped: not configured, `enabled: false`, or the kill-switch file present. */
  killed(): boolean {
    const c = this.config;
    return !c || !c.enabled || (c.kill_switch_file !== undefined && existsSync(c.kill_switch_file));
  }

  /** Whether this till's chain is switched off (or everything is). */
  killedFor(chain: string | null): boolean {
    return this.killed() || (chain !== null && this.config!.disabled_chains.includes(chain));
  }

  /** The automatic first step for a new ticket, if its class has a policy and its till is enrolled. */
  planFor(t: NewTicket): RemediationPlan | undefined {
    if (!this.config) return undefined;
    const policy = this.policies.get(t.incident_class);
    const till = tillIdOf(t);
    if (!policy || !till || !this.secrets.has(till) || this.killedFor(t.chain)) return undefined;
    return { till, policy, dryRun: this.config.dry_run };
  }

  /** The action row a plan queues (attempt 1) for a ticket just inserted. */
  firstAction(ticketId: number, t: NewTicket, plan: RemediationPlan, now: number) {
    return this.row(ticketId, plan.till, t.chain, t.incident_class, plan.policy, 1, now);
  }

  private row(
    ticketId: number,
    till: string,
    chain: string | null,
    incidentClass: string,
    p: RemediationPolicy,
    attempt: number,
    now: number,
  ) {
    return {
      ticket_id: ticketId,
      till,
      chain,
      incident_class: incidentClass,
      action: p.action,
      choice: p.choice ?? null,
      attempt,
      requested_by: 'bridge',
      status: 'queued' as const,
      created_at: now,
      expires_at: now + this.config!.action_ttl,
    };
  }

  /**
   * A person (operator or admin, checked by the caller) asks for an action of the ticket's till. The
   * till's own allowlist still decides; fiscal ones are refused here as well, whoever asks.
   */
  async request(ticketId: number, actor: string, action: string, choice: string | undefined): Promise<void> {
    if (FISCAL_ACTION.test(action))
      throw new ConflictError(`${action} looks like a fiscal action: those are never run remotely`);
    let row: ReturnType<Remediation['row']> | undefined;
    await this.deps.store().mutate({ id: ticketId }, (t, _a, now) => {
      const till = tillIdOf(t);
      if (!this.config || !till || !this.secrets.has(till))
        throw new ConflictError(`ticket ${t.id} is not about a till enrolled for remote actions`);
      if (this.killedFor(t.chain)) throw new ConflictError('remote actions are switched off (kill switch)');
      if (t.status === 'closed') throw new ConflictError(`ticket ${t.id} is closed`);
      row = {
        ...this.row(t.id, till, t.chain, t.incident_class, { action, choice, attempts: 1, wait: 0 }, 1, now),
        requested_by: actor,
      };
      return {
        id: t.id,
        set: bump(t, {}, now),
        events: [
          { kind: 'remediation', actor, data: { step: 'requested', action, ...(choice ? { choice } : {}) } },
        ],
      };
    });
    await this.deps.db.insertInto('remediation_actions').values(row!).execute();
    this.count(row!.incident_class, action, 'queued');
  }

  /**
   * Hands a till its queued actions, each once: marked delivered in the same statement that picks them,
   * so two replicas answering two polls never hand one action out twice. Expired ones are dropped.
   */
  async take(till: string, chain: string | null): Promise<ActionRow[]> {
    const { db, now } = this.deps;
    const at = now();
    const expired = await db
      .updateTable('remediation_actions')
      .set({ status: 'expired', finished_at: at, reason: 'not fetched before it expired' })
      .where('till', '=', till)
      .where('status', '=', 'queued')
      .where('expires_at', '<', at)
      .returning(['incident_class', 'action'])
      .execute();
    for (const e of expired) this.count(e.incident_class, e.action, 'expired');
    // The problem went away before the till asked: restarting a healthy service only interrupts sales.
    const moot = await db
      .updateTable('remediation_actions')
      .set({ status: 'expired', finished_at: at, reason: 'the ticket resolved before the till fetched it' })
      .where('till', '=', till)
      .where('status', '=', 'queued')
      .where('ticket_id', 'in', (eb) =>
        eb.selectFrom('tickets').select('id').where('status', 'in', ['resolved', 'closed']),
      )
      .returning(['incident_class', 'action'])
      .execute();
    for (const e of moot) this.count(e.incident_class, e.action, 'expired');
    if (this.killedFor(chain)) return [];
    const queued = await db
      .selectFrom('remediation_actions')
      .select('id')
      .where('till', '=', till)
      .where('status', '=', 'queued')
      .orderBy('id')
      .limit(20)
      .execute();
    if (queued.length === 0) return [];
    return db
      .updateTable('remediation_actions')
      .set({ status: 'delivered', delivered_at: at })
      .where(
        'id',
        'in',
        queued.map((q) => q.id),
      )
      .where('status', '=', 'queued')
      .returningAll()
      .execute();
  }

  /**
   * Records what a till reports for one of its own delivered actions; undefined when the action is
   * not this till's or not awaiting a result (the caller answers 404 and learns nothing more).
   */
  async report(till: string, id: number, r: ActionResult): Promise<ActionRow | undefined> {
    const { db, now } = this.deps;
    const at = now();
    const row = await db
      .updateTable('remediation_actions')
      .set({
        status: r.result,
        finished_at: at,
        exit_code: r.exit_code ?? null,
        reason: r.reason?.slice(0, 500) ?? null,
        output: r.output?.slice(-4096) ?? null,
      })
      .where('id', '=', id)
      .where('till', '=', till)
      .where('status', '=', 'delivered')
      .returningAll()
      .executeTakeFirst();
    if (!row) return undefined;
    this.count(row.incident_class, row.action, r.result);
    if (row.ticket_id !== null) await this.onResult(row, r, at);
    return row;
  }

  /** The ticket side of a result: the attempt on its history, then another attempt or the page. */
  private async onResult(row: ActionRow, r: ActionResult, at: number): Promise<void> {
    const policy = this.policies.get(row.incident_class);
    let next: ActionRow['attempt'] | undefined;
    let gaveUp = false;
    const store = this.deps.store();
    const ticket = await store.mutate({ id: row.ticket_id! }, (t, _alerts, now) => {
      const ok = r.result === 'succeeded';
      const live = t.status === 'open' || t.status === 'acknowledged';
      const retry =
        !ok && live && policy !== undefined && row.attempt < policy.attempts && !this.killedFor(t.chain);
      if (retry) next = row.attempt + 1;
      gaveUp = !ok && !retry && t.page_hold_until !== null;
      const set: Partial<Ticket> = ok
        ? { remediation_state: 'succeeded' }
        : retry
          ? {}
          : { remediation_state: 'failed', page_hold_until: null };
      return {
        id: t.id,
        set: bump(t, set, now),
        events: [
          {
            kind: 'remediation',
            actor: 'bridge',
            data: {
              step: 'result',
              action: row.action,
              attempt: row.attempt,
              result: r.result,
              ...(r.exit_code !== undefined ? { exit_code: r.exit_code } : {}),
              ...(r.reason ? { reason: r.reason.slice(0, 500) } : {}),
              ...(r.output ? { output: r.output.slice(-1000) } : {}),
              ...(gaveUp ? { paging: true } : {}),
            },
          },
        ],
      };
    });
    if (!ticket) return;
    if (next !== undefined && policy) {
      await this.deps.db
        .insertInto('remediation_actions')
        .values(this.row(ticket.id, row.till, row.chain, row.incident_class, policy, next, at))
        .execute();
      this.count(row.incident_class, row.action, 'queued');
    }
    if (gaveUp) {
      // Tried and failed: page now rather than at the end of the wait.
      await this.deps.db
        .updateTable('outbox')
        .set({ next_attempt_at: at })
        .where('ticket_id', '=', ticket.id)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '>', at)
        .execute();
      this.deps.metrics.remediationTickets.inc({ incident_class: row.incident_class, outcome: 'paged' });
    }
  }

  /**
   * Tickets whose wait ended with the alerts still firing: their held page goes out now (the outbox
   * rows were held until this time), with "tried X, did not help" recorded on the ticket.
   */
  async sweep(): Promise<string[]> {
    const { db, now } = this.deps;
    const at = now();
    const due = await db
      .selectFrom('tickets')
      .select(['id', 'incident_class'])
      .where('page_hold_until', 'is not', null)
      .where('page_hold_until', '<=', at)
      .where('status', 'in', ['open', 'acknowledged'])
      .execute();
    const paged: string[] = [];
    for (const d of due) {
      const tried = await db
        .selectFrom('remediation_actions')
        .select(['action', 'attempt', 'status'])
        .where('ticket_id', '=', d.id)
        .orderBy('id')
        .execute();
      const t = await this.deps.store().mutate({ id: d.id }, (t, _a, n) =>
        t.page_hold_until === null || t.page_hold_until > n
          ? undefined
          : {
              id: t.id,
              set: bump(t, { page_hold_until: null }, n),
              events: [{ kind: 'remediation', actor: 'bridge', data: { step: 'paged', tried } }],
            },
      );
      if (t) {
        paged.push(d.incident_class);
        this.deps.metrics.remediationTickets.inc({ incident_class: d.incident_class, outcome: 'paged' });
      }
    }
    // Nonces older than twice the skew window can no longer pass the timestamp check: forget them.
    if (this.config)
      await db
        .deleteFrom('remediation_nonces')
        .where('at', '<', at - 2 * this.config.max_clock_skew)
        .execute();
    return paged;
  }

  count(incidentClass: string, action: string, result: string): void {
    this.deps.metrics.remediationActions.inc({ incident_class: incidentClass, action, result });
  }
}
