// The ticket as people and programs see it: the JSON read model rendered from stored rows.
import type { KnowledgeBase, Locale, Recommendation } from '../knowledge-base.js';
import type { Places } from '../places.js';
import { factsOf } from './lifecycle.js';
import type { Ticket, TicketAlert } from './model.js';
import { cardContext, type AlertFacts } from './policy.js';

/** Alerts an outgoing event carries at most (firing first); the counts say how many there are. */
export const OUTGOING_ALERTS = 100;

/** The ticket as the API, the pages, notifications and service desks see it. */
export interface TicketJson {
  id: number;
  key: string;
  status: string;
  priority: string;
  severity: string;
  incident_class: string;
  /** The family of classes the ticket gathers (the class itself when its card names none). */
  family: string;
  team: string;
  chain: string | null;
  region: string | null;
  store: string | null;
  till: string | null;
  device: string | null;
  tills: string[];
  /** Who works the ticket (acknowledging assigns it to whoever took it). */
  assignee: string | null;
  /** IANA zone of the ticket's store: every time shown to a person is rendered in it. */
  timezone: string;
  /** The store's name from the inventory, when it lists the store. */
  store_name: string | null;
  title: string;
  /** A few words for lists and walls, in the configured language ("Нет бумаги"). */
  short: string;
  needs_card: boolean;
  /** The mass incident this ticket belongs to, if any. */
  parent_id: number | null;
  /** Whether this is a mass incident (one problem on many places). */
  mass: boolean;
  recommendation: Recommendation | null;
  alerts: AlertJson[];
  /** How many alerts the ticket has; `alerts` may list fewer in outgoing events (firing first). */
  alert_counts: { firing: number; total: number };
  opened_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
  updated_at: string;
  self_resolved: boolean;
  /** Resolved by the automatic first step (a remote action on the till) with nobody paged. */
  auto_remediated: boolean;
  /** The automatic first step: pending, succeeded, failed, or null when the ticket has none. */
  remediation_state: string | null;
  /** Its attempts so far (action, attempt, status), oldest first; in details and outgoing events. */
  remediation_tried?: { action: string; attempt: number; status: string }[];
  flapping: boolean;
  reopen_count: number;
  sla_due_at: string;
  /** Waiting for the client since (null: not waiting): the reaction and resolution clocks stand still. */
  waiting_since: string | null;
  sla: {
    registration_due_at: string;
    reaction_due_at: string;
    resolution_due_at: string;
    registered_at: string | null;
    breached: { registration: boolean; reaction: boolean; resolution: boolean };
    /** The SLA policy (`sla.policies[].name`, `default`) and the calendar its deadlines count on. */
    policy: string;
    calendar: string;
  };
  links: Record<string, string | null>;
  snapshot: unknown;
  version: number;
}

export interface AlertJson {
  fingerprint: string;
  alertname: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /**
   * What the alert says, in the configured language: its card's title for its labels (the rule's English
   * summary only when no card knows the alert's class).
   */
  text: string;
  starts_at: string | null;
  ends_at: string | null;
}

export interface EventJson {
  id: string;
  type: string;
  at: string;
  actor: string;
  data: unknown;
}

/** Members a mass incident's detail lists at most (the API's parent_id filter pages through all). */
export const DETAIL_MEMBERS = 200;

export type TicketDetail = TicketJson & {
  events: EventJson[];
  /** A mass incident's place tickets, open first (at most DETAIL_MEMBERS); absent for other tickets. */
  members?: TicketJson[];
  /** How many place tickets a mass incident has in all. */
  member_count?: number;
};

export interface ListFilter {
  status?: Ticket['status'][];
  store?: string;
  till?: string;
  team?: string;
  incident_class?: string;
  chain?: string;
  region?: string;
  /** The members of a mass incident. */
  parent_id?: number;
  /** Opened at or after / before these epoch milliseconds. */
  opened_after?: number;
  opened_before?: number;
  /** Only ids below this one (the next page of a newest-first listing). */
  before_id?: number;
  limit?: number;
}

export interface PlaceQuery {
  chain?: string | undefined;
  region?: string | undefined;
  store?: string | undefined;
  till?: string | undefined;
  device?: string | undefined;
  alertname?: string | undefined;
  incident_class?: string | undefined;
}

export const iso = (n: number | null) => (n === null ? null : new Date(n).toISOString());

interface SnapshotJson {
  links?: object;
  samples?: { metric: Record<string, string>; value: number }[];
}

/** The snapshot's samples by metric name (the first of each), for the card's templates. */
function factsFrom(s: SnapshotJson | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of s?.samples ?? []) {
    const name = x.metric.__name__;
    if (name && !Object.hasOwn(out, name)) out[name] = x.value;
  }
  return out;
}
export const LEVELS = ['chain', 'region', 'store', 'till', 'device'] as const;

export interface ViewDeps {
  kb: KnowledgeBase;
  locale: Locale;
  publicUrl: string;
  /** Store names, tills and time zones from the inventory. */
  places: Places;
  /** The SLA policy and calendar names that apply to a ticket (absent: `default` on `24/7`). */
  slaPolicyOf?: (t: Ticket) => { name: string; calendar: string };
}

function slaNames(deps: ViewDeps, t: Ticket): { policy: string; calendar: string } {
  const p = deps.slaPolicyOf?.(t);
  return p ? { policy: p.name, calendar: p.calendar } : { policy: 'default', calendar: '24/7' };
}

/** Renders stored rows as TicketJson. */
export function createView(deps: ViewDeps) {
  const base = deps.publicUrl.replace(/\/$/, '');
  return function toJson(t: Ticket, alerts: readonly TicketAlert[]): TicketJson {
    const parsed = alerts.map((a) => ({ a, labels: JSON.parse(a.labels) as Record<string, string> }));
    const storeFacts = deps.places.store(t.store);
    // A store-wide ticket concerns every till of the store the inventory lists; otherwise the tills its
    // alerts name.
    const named = parsed.map((p) => p.labels.till).filter((x): x is string => !!x);
    const tills = [
      ...new Set(t.till === null && storeFacts ? [...storeFacts.tills, ...named] : named),
    ].sort();
    const annotations = JSON.parse(t.annotations) as Record<string, string>;
    const snapshot = t.snapshot ? (JSON.parse(t.snapshot) as SnapshotJson) : null;
    const headline: AlertFacts = {
      alertname: '',
      status: 'firing',
      labels: JSON.parse(t.labels) as Record<string, string>,
      annotations: JSON.parse(t.annotations) as Record<string, string>,
      starts_at: t.opened_at,
    };
    const place = { chain: t.chain, region: t.region, store: t.store, till: t.till, device: t.device };
    const firing = parsed
      .filter((p) => p.a.status === 'firing')
      .map((p) => ({ ...factsOf(p.a), labels: p.labels }));
    const recommendation = deps.kb.recommend(t.incident_class, deps.locale, {
      ...cardContext(headline, firing, place),
      facts: factsFrom(snapshot),
    });
    return {
      id: t.id,
      key: t.key,
      status: t.status,
      priority: t.priority,
      severity: t.severity,
      incident_class: t.incident_class,
      family: t.family || t.incident_class,
      team: t.team,
      chain: t.chain,
      region: t.region,
      store: t.store,
      till: t.till,
      device: t.device,
      tills,
      assignee: t.assignee,
      timezone: deps.places.zoneOf(t),
      store_name: storeFacts?.name ?? null,
      title: t.title,
      short: recommendation?.short ?? t.title,
      needs_card: t.needs_card === 1,
      parent_id: t.parent_id,
      mass: t.mass === 1,
      recommendation,
      alert_counts: { firing: alerts.filter((a) => a.status === 'firing').length, total: alerts.length },
      alerts: parsed.map(({ a, labels }) => {
        const annotations = JSON.parse(a.annotations) as Record<string, string>;
        const facts = { ...factsOf(a), labels, annotations };
        const text =
          deps.kb.titleFor(
            labels.incident_class ?? t.incident_class,
            deps.locale,
            cardContext(facts, [facts], place),
          ) ??
          annotations.summary ??
          a.alertname;
        return {
          fingerprint: a.fingerprint,
          alertname: a.alertname,
          status: a.status,
          labels,
          annotations,
          text,
          starts_at: iso(a.starts_at),
          ends_at: iso(a.ends_at),
        };
      }),
      opened_at: iso(t.opened_at)!,
      acknowledged_at: iso(t.acknowledged_at),
      resolved_at: iso(t.resolved_at),
      closed_at: iso(t.closed_at),
      updated_at: iso(t.updated_at)!,
      self_resolved: t.self_resolved === 1,
      auto_remediated: t.auto_remediated === 1,
      remediation_state: t.remediation_state,
      flapping: t.flapping === 1,
      reopen_count: t.reopen_count,
      sla_due_at: iso(t.resolution_due_at)!,
      waiting_since: iso(t.waiting_since),
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
        ...slaNames(deps, t),
      },
      links: {
        ticket: `${base}/ui/tickets/${t.id}`,
        runbook: annotations.runbook_url ?? null,
        dashboard: annotations.dashboard_url ?? null,
        alertmanager: annotations.alertmanager_url ?? null,
        ...(snapshot?.links ?? {}),
      },
      snapshot,
      version: t.version,
    };
  };
}

export type ToJson = ReturnType<typeof createView>;
