import type { AmAlert } from '../alertmanager.js';
import { fingerprintOf } from '../identity.js';
import { type AlertWrite, type EventSpec, type NewTicket, type Ticket, type TicketAlert } from './model.js';
import type { Priority } from '../config.js';
import { rank, worstSeverity, type AlertFacts, type Policy } from './policy.js';
import { resumeSet } from './waiting.js';

/**
 * The ticket lifecycle as pure functions: given what is stored and what arrived, decide what changes
 * and which events to record. No I/O here; the store reads, calls these, and writes the result in one
 * transaction. `open → acknowledged → resolved → closed`, with reopening inside the reopen window.
 */

/** What the store knows about one problem (one ticket key) before applying a notification. */
export interface Known {
  /** The live ticket (open, acknowledged, or resolved within the reopen window), if any. */
  ticket?: Ticket | undefined;
  alerts: TicketAlert[];
  /** Reopenings of this ticket already recorded within the flap window. */
  recentReopenings: number;
}

/** The alerts of one notification that share a ticket key. */
export interface Incoming {
  key: string;
  alerts: AmAlert[];
  externalURL: string;
}

/** A change to an existing ticket row, with the history events it produces. */
export interface TicketChange {
  id: number;
  set: Partial<Ticket>;
  events: EventSpec[];
}

export interface Decision {
  /** A resolved ticket past its reopen window, closed because the problem is back as a new one. */
  closed?: TicketChange;
  /** A new ticket to insert, with its `created` event; `alerts` then belong to it. */
  created?: { ticket: NewTicket; events: EventSpec[] };
  /** A change to the live ticket; `alerts` then belong to it. */
  updated?: TicketChange;
  /** Alert rows to upsert (new alerts, status changes). */
  alerts: AlertWrite[];
  /** The ticket as it stands afterwards (undefined when the notification concerned nothing live). */
  after?: Ticket | NewTicket;
}

/** Builds a new ticket from the first alerts of a problem (title, team, priority, SLA due times). */
export type OpenTicket = (key: string, alerts: AmAlert[], externalURL: string, now: number) => NewTicket;

const isFiring = (a: { status: string }) => a.status === 'firing';

/** A stored (or just merged) alert row as the policy weighs it. */
export function factsOf(a: AlertWrite): AlertFacts {
  return {
    alertname: a.alertname,
    status: a.status,
    labels: JSON.parse(a.labels) as Record<string, string>,
    annotations: JSON.parse(a.annotations) as Record<string, string>,
    starts_at: a.starts_at,
  };
}

/** Parses Alertmanager's endsAt; the zero time (0001-01-01...) means "not ended" and a bad date is null. */
export function endsAtOf(a: AmAlert): number | null {
  if (!a.endsAt || a.endsAt.startsWith('0001-')) return null;
  const t = Date.parse(a.endsAt);
  return Number.isFinite(t) ? t : null;
}

/**
 * Merges incoming alerts into the known ones. Out-of-order copies (HA peers, retries) never undo newer
 * news about the same alert, and an identical repeat writes nothing (jiralert habit).
 */
export function mergeAlerts(
  known: TicketAlert[],
  incoming: AmAlert[],
  now: number,
): { writes: AlertWrite[]; joined: string[]; all: AlertWrite[] } {
  const byFp = new Map<string, AlertWrite>(known.map((a) => [a.fingerprint, a]));
  const writes: AlertWrite[] = [];
  const joined: string[] = [];
  for (const a of incoming) {
    const fp = fingerprintOf(a.labels, a.fingerprint);
    const startsAt = Date.parse(a.startsAt);
    const old = byFp.get(fp);
    if (old) {
      if (a.status === 'firing' && old.status === 'resolved' && startsAt <= old.starts_at) continue;
      if (a.status === 'resolved' && startsAt < old.starts_at) continue;
      if (a.status === old.status && startsAt === old.starts_at) continue;
    } else if (a.status === 'firing') {
      joined.push(a.labels.alertname ?? fp);
    }
    const row: AlertWrite = {
      fingerprint: fp,
      alertname: a.labels.alertname ?? '',
      status: a.status,
      labels: JSON.stringify(a.labels),
      annotations: JSON.stringify(a.annotations),
      starts_at: startsAt,
      ends_at: a.status === 'resolved' ? (endsAtOf(a) ?? now) : null,
      last_seen_at: now,
    };
    // Two copies of one alert in the same notification: the later one wins, written once.
    const i = writes.findIndex((w) => w.fingerprint === fp);
    if (i >= 0) writes[i] = row;
    else writes.push(row);
    byFp.set(fp, row);
  }
  return { writes, joined, all: [...byFp.values()] };
}

export function bump(t: Ticket, set: Partial<Ticket>, now: number): Partial<Ticket> {
  return { ...set, updated_at: now, version: t.version + 1 };
}

/** Applies one notification's alerts for one ticket key. */
export function decide(
  known: Known,
  incoming: Incoming,
  now: number,
  policy: Policy,
  open: OpenTicket,
): Decision {
  let t = known.ticket;
  let existing = known.alerts;
  const out: Decision = { alerts: [] };
  if (t && t.status === 'resolved' && t.resolved_at !== null && now - t.resolved_at > policy.reopenWindow) {
    // The sweeper has not closed it yet, but the reopen window is over: this is a new problem.
    out.closed = {
      id: t.id,
      set: bump(t, { status: 'closed', open_key: null, closed_at: now }, now),
      events: [{ kind: 'closed', actor: 'bridge', data: {} }],
    };
    t = undefined;
    existing = [];
  }
  if (!t) {
    // A late "resolved" for a problem already closed adds nothing.
    if (!incoming.alerts.some(isFiring)) return out;
    const { writes, all } = mergeAlerts([], incoming.alerts, now);
    const ticket = open(incoming.key, incoming.alerts, incoming.externalURL, now);
    out.created = {
      ticket,
      events: [
        {
          kind: 'created',
          actor: 'alertmanager',
          data: { alerts: all.filter(isFiring).map((a) => a.alertname) },
        },
      ],
    };
    out.alerts = writes;
    out.after = ticket;
    return out;
  }
  out.after = t;
  const { writes, joined, all } = mergeAlerts(existing, incoming.alerts, now);
  // A person resolved it while alerts still fired: any notification that still has one firing,
  // even an identical repeat, reopens it.
  const stillFiring = t.forced_resolve === 1 && t.status === 'resolved' && incoming.alerts.some(isFiring);
  if (writes.length === 0 && !stillFiring) return out;
  out.alerts = writes;
  const firing = all.filter(isFiring);

  // Severity and priority follow the worst alert still firing: a warning that turns critical raises it,
  // and in a family the most urgent class heads the ticket (an expired ФН over its warning).
  const facts = firing.map(factsOf);
  const severity = firing.length ? worstSeverity(facts.map((a) => a.labels.severity)) : t.severity;
  const set: Partial<Ticket> = {};
  let classFor = t.incident_class;
  let labelsFor = JSON.parse(t.labels) as Record<string, string>;
  if (facts.length) {
    const h = policy.headline(facts);
    const head = policy.describe(h, facts, {
      chain: t.chain,
      region: t.region,
      store: t.store,
      till: t.till,
      device: t.device,
    });
    const annotations = JSON.parse(head.annotations) as Record<string, string>;
    const amUrl = (JSON.parse(t.annotations) as Record<string, string>).alertmanager_url;
    if (amUrl !== undefined) head.annotations = JSON.stringify({ ...annotations, alertmanager_url: amUrl });
    for (const k of Object.keys(head) as (keyof typeof head)[])
      if (head[k] !== t[k]) Object.assign(set, { [k]: head[k] });
    classFor = head.incident_class;
    labelsFor = h.labels;
  }
  const priority = policy.priorityOf(classFor, labelsFor, severity);
  if (severity !== t.severity) set.severity = severity;
  if (rank(priority) < rank(t.priority)) {
    set.priority = priority;
    Object.assign(set, policy.slaDue(priority, t.opened_at, t.chain));
  }

  let event: EventSpec | undefined;
  if (t.status === 'resolved' && (firing.length > 0 || stillFiring)) {
    const reopenings = known.recentReopenings + 1;
    Object.assign(set, {
      status: 'open',
      resolved_at: null,
      acknowledged_at: null,
      self_resolved: 0,
      reopen_count: t.reopen_count + 1,
      flapping: reopenings >= policy.flapThreshold ? 1 : t.flapping,
      forced_resolve: 0,
      // Nobody has it again: the escalation clock starts over.
      escalation_step: 0,
      escalated_at: null,
      escalation_base: now,
      // It came back: the automatic step did not fix it for good.
      auto_remediated: 0,
    });
    event = {
      kind: 'reopened',
      actor: 'alertmanager',
      data: {
        reopenings_in_window: reopenings,
        ...(t.forced_resolve === 1 ? { reason: 'still_firing_after_forced_resolve' } : {}),
      },
    };
  } else if ((t.status === 'open' || t.status === 'acknowledged') && firing.length === 0) {
    // The automatic first step worked while the page was held: resolved as auto-remediated, and the
    // store drops the held messages. Anything else (no step, a failed one, the page already out) is the
    // usual resolve.
    const auto = t.remediation_state === 'succeeded' && t.page_hold_until !== null && now < t.page_hold_until;
    // Faults that cure themselves before anyone looked still need analysis (they hide real faults).
    const self = t.acknowledged_at === null && !auto ? 1 : 0;
    // Resolved while waiting for the client: the wait ends here, its time not counted.
    if (t.waiting_since !== null)
      Object.assign(set, resumeSet(t, policy.slaPolicyOf(t.priority as Priority, t.chain).cal, now));
    Object.assign(set, {
      status: 'resolved',
      resolved_at: now,
      self_resolved: self,
      // Whatever held the page is over: the held messages keep their time, the sweeper has nothing to do.
      page_hold_until: null,
      ...(auto ? { auto_remediated: 1 } : {}),
    });
    event = {
      kind: 'resolved',
      actor: 'alertmanager',
      data: { self_resolved: self === 1, ...(auto ? { auto_remediated: true } : {}) },
    };
  } else if (joined.length > 0 || 'priority' in set || 'severity' in set) {
    const shown = ['severity', 'priority', 'incident_class', 'title', 'team'] as const;
    const changed = Object.fromEntries(shown.filter((k) => k in set).map((k) => [k, set[k]]));
    event = { kind: 'alert_joined', actor: 'alertmanager', data: { alerts: joined, ...changed } };
  }
  // Only the heading alert changed (one alert of several resolved): the ticket follows it quietly.
  if (!event && Object.keys(set).length === 0) return out;
  const change = bump(t, set, now);
  out.updated = { id: t.id, set: change, events: event ? [event] : [] };
  out.after = { ...t, ...change };
  return out;
}
