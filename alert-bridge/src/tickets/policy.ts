import type { CardContext } from '../card-templates.js';
import type { Config, Priority } from '../config.js';
import { identify, incidentClassOf as classOf, type Place } from '../identity.js';
import type { KnowledgeBase } from '../knowledge-base.js';
import { routeTeam } from '../routing.js';
import type { OpenTicket } from './lifecycle.js';
import { addWorkingTime, ALWAYS, type Calendar } from './calendar.js';
import type { Ticket } from './model.js';

/** An alert as the policy weighs it (an incoming one or a stored row, parsed). */
export interface AlertFacts {
  alertname: string;
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: number;
}

/** What the alert heading a ticket says about it: the fields of the ticket row that follow it. */
export type Headline = Pick<
  Ticket,
  'incident_class' | 'title' | 'team' | 'needs_card' | 'labels' | 'annotations'
>;

/** The ticket rules that come from configuration and cards: priority, SLA clocks, reopening, headlines. */
export interface Policy {
  /** Priority of one alert: config override by class, else its card (variant), else by severity. */
  priorityOf(incidentClass: string, labels: Record<string, string>, severity: string): Priority;
  /** Due times of a ticket of this priority and chain opened at `from`, on its SLA policy's calendar. */
  slaDue(p: Priority, from: number, chain: string | null): SlaDue;
  /** The SLA policy and calendar that apply to a ticket (names as configured; `default`, `24/7`). */
  slaPolicyOf(p: Priority, chain: string | null): { name: string; calendar: string; cal: Calendar };
  /** The alert that speaks for a ticket: the most urgent by its card, then severity, then the newest. */
  headline(alerts: readonly AlertFacts[]): AlertFacts;
  /** The ticket fields the headline alert sets, its card rendered with the ticket's firing alerts. */
  describe(h: AlertFacts, firing: readonly AlertFacts[], place: Place): Headline;
  reopenWindow: number;
  flapWindow: number;
  flapThreshold: number;
}

export interface SlaDue {
  registration_due_at: number;
  reaction_due_at: number;
  resolution_due_at: number;
}

const SEVERITY_RANK = new Map([
  ['critical', 0],
  ['warning', 1],
  ['info', 2],
]);
const severityRank = (s: string | undefined) => SEVERITY_RANK.get(s ?? '') ?? 1;

export function rank(p: Priority | string): number {
  return Number(p.slice(1));
}

/** The most urgent of the given severities; an unknown or missing severity counts as warning. */
export function worstSeverity(severities: (string | undefined)[]): string {
  let best = 'info';
  for (const raw of severities) {
    const s = raw !== undefined && SEVERITY_RANK.has(raw) ? raw : 'warning';
    if (SEVERITY_RANK.get(s)! < SEVERITY_RANK.get(best)!) best = s;
  }
  return best;
}

/** The card context of one alert: its labels, annotations and numeric value, and the ticket's alerts. */
export function cardContext(h: AlertFacts, firing: readonly AlertFacts[], place: Place): CardContext {
  const v = Number(h.annotations.value);
  return {
    labels: h.labels,
    annotations: h.annotations,
    value: h.annotations.value !== undefined && Number.isFinite(v) ? v : null,
    alerts: firing.map((a) => ({ alertname: a.alertname, labels: a.labels })),
    place,
  };
}

export function createPolicy(config: Config, kb: KnowledgeBase): Policy {
  const { priority, sla, tickets } = config;
  // Maps, not plain objects: label values such as "constructor" or "__proto__" must not hit prototypes.
  const byClass = new Map(Object.entries(priority.by_class));
  const bySeverity = new Map<string, Priority>(Object.entries(priority.by_severity));
  const priorityOf = (incidentClass: string, labels: Record<string, string>, severity: string): Priority => {
    const bySev = bySeverity.get(severity) ?? priority.by_severity.warning;
    let p: Priority = byClass.get(incidentClass) ?? kb.priorityFor(incidentClass, labels) ?? bySev;
    // "critical" means act now: it never ranks below the configured critical priority.
    if (severity === 'critical' && rank(priority.by_severity.critical) < rank(p))
      p = priority.by_severity.critical;
    return p;
  };
  const calendars = new Map<string, Calendar>([['24/7', ALWAYS]]);
  for (const [name, c] of Object.entries(sla.calendars))
    calendars.set(name, {
      kind: 'hours',
      timezone: c.timezone,
      hours: c.hours,
      holidays: new Set(c.holidays),
    });
  const slaPolicyOf = (p: Priority, chain: string | null) => {
    const i = sla.policies.findIndex(
      (x) => (x.chain === undefined || x.chain === chain) && (!x.priority || x.priority.includes(p)),
    );
    const x = sla.policies[i];
    if (!x) return { name: 'default', calendar: '24/7', cal: ALWAYS, times: sla[p] };
    return {
      name: x.name ?? `${i}`,
      calendar: x.calendar,
      cal: calendars.get(x.calendar)!,
      times: {
        registration: x.registration ?? sla[p].registration,
        reaction: x.reaction ?? sla[p].reaction,
        resolution: x.resolution ?? sla[p].resolution,
      },
    };
  };
  const weight = (a: AlertFacts) =>
    rank(priorityOf(classOf(a.labels), a.labels, a.labels.severity ?? 'warning'));
  return {
    priorityOf,
    slaDue(p, from, chain) {
      const { cal, times } = slaPolicyOf(p, chain);
      return {
        registration_due_at: addWorkingTime(cal, from, times.registration),
        reaction_due_at: addWorkingTime(cal, from, times.reaction),
        resolution_due_at: addWorkingTime(cal, from, times.resolution),
      };
    },
    slaPolicyOf,
    headline(alerts) {
      let best = alerts[0]!;
      for (const a of alerts.slice(1)) {
        const d =
          weight(a) - weight(best) ||
          severityRank(a.labels.severity) - severityRank(best.labels.severity) ||
          best.starts_at - a.starts_at;
        if (d < 0) best = a;
      }
      return best;
    },
    describe(h, firing, place) {
      const incidentClass = classOf(h.labels);
      const card = kb.get(incidentClass);
      const rec = kb.recommend(incidentClass, config.locale, cardContext(h, firing, place));
      return {
        incident_class: incidentClass,
        title: rec?.title ?? h.annotations.summary ?? h.labels.alertname ?? incidentClass,
        team: routeTeam(h.labels, config.routing, card),
        needs_card: card ? 0 : 1,
        labels: JSON.stringify(h.labels),
        annotations: JSON.stringify(h.annotations),
      };
    },
    reopenWindow: tickets.reopen_window,
    flapWindow: tickets.flap_window,
    flapThreshold: tickets.flap_threshold,
  };
}

/**
 * How a problem's first alerts become a ticket: the headline alert's card gives title, team and
 * priority; the worst severity may raise the priority; SLA clocks start now. With nowhere to register a
 * ticket (no chat, mailbox or service desk for its team), the bridge counts as having registered it.
 */
/**
 * The lifecycle fields of a ticket just opened, whatever opened it (an alert or a mass incident): open,
 * nothing acknowledged, resolved, breached, escalated or held yet. One place, so a new column of the
 * lifecycle gets its starting value everywhere a ticket is born.
 */
export function freshLifecycle(now: number) {
  return {
    status: 'open' as const,
    self_resolved: 0,
    flapping: 0,
    reopen_count: 0,
    opened_at: now,
    acknowledged_at: null,
    resolved_at: null,
    closed_at: null,
    updated_at: now,
    registration_breached: 0,
    reaction_breached: 0,
    resolution_breached: 0,
    snapshot: null,
    version: 0,
    assignee: null,
    forced_resolve: 0,
    parent_id: null,
    escalation_step: 0,
    escalated_at: null,
    escalation_base: null,
    waiting_since: null,
    page_hold_until: null,
    remediation_state: null,
    auto_remediated: 0,
  };
}

export function openTicket(
  config: Config,
  kb: KnowledgeBase,
  policy: Policy,
  hasTargets: (team: string) => boolean,
): OpenTicket {
  return (key, alerts, externalURL, now) => {
    const facts: AlertFacts[] = alerts.map((a) => ({
      alertname: a.labels.alertname ?? '',
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      starts_at: Date.parse(a.startsAt),
    }));
    const firing = facts.filter((a) => a.status === 'firing');
    const h = policy.headline(firing.length ? firing : facts);
    const id = identify(h.labels, config.tickets, (c) => kb.familyOf(c));
    const severity = worstSeverity(alerts.map((a) => a.labels.severity));
    const head = policy.describe(h, firing, id.place);
    const priority = policy.priorityOf(head.incident_class, h.labels, severity);
    return {
      key,
      open_key: key,
      priority,
      severity,
      family: id.family,
      ...id.place,
      ...head,
      annotations: JSON.stringify({
        ...h.annotations,
        ...(externalURL ? { alertmanager_url: externalURL } : {}),
      }),
      ...freshLifecycle(now),
      ...policy.slaDue(priority, now, id.place.chain ?? null),
      registered_at: hasTargets(head.team) ? null : now,
      mass: 0,
    };
  };
}
