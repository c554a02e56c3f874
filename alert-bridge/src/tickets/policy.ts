import type { Config, Priority } from '../config.js';
import { identify } from '../identity.js';
import type { KnowledgeBase } from '../knowledge-base.js';
import { routeTeam } from '../routing.js';
import type { OpenTicket } from './lifecycle.js';

/** The ticket rules that come from configuration and cards: priority, SLA clocks, reopening. */
export interface Policy {
  priorityOf(incidentClass: string, severity: string): Priority;
  slaDue(p: Priority, from: number): SlaDue;
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

export function createPolicy(config: Config, kb: KnowledgeBase): Policy {
  const { priority, sla, tickets } = config;
  // Maps, not plain objects: label values such as "constructor" or "__proto__" must not hit prototypes.
  const byClass = new Map(Object.entries(priority.by_class));
  const bySeverity = new Map<string, Priority>(Object.entries(priority.by_severity));
  return {
    priorityOf(incidentClass, severity) {
      const bySev = bySeverity.get(severity) ?? priority.by_severity.warning;
      let p: Priority = byClass.get(incidentClass) ?? kb.get(incidentClass)?.priority ?? bySev;
      // "critical" means act now: it never ranks below the configured critical priority.
      if (severity === 'critical' && rank(priority.by_severity.critical) < rank(p))
        p = priority.by_severity.critical;
      return p;
    },
    slaDue(p, from) {
      const s = sla[p];
      return {
        registration_due_at: from + s.registration,
        reaction_due_at: from + s.reaction,
        resolution_due_at: from + s.resolution,
      };
    },
    reopenWindow: tickets.reopen_window,
    flapWindow: tickets.flap_window,
    flapThreshold: tickets.flap_threshold,
  };
}

/**
 * How a problem's first alerts become a ticket: the card gives title, team and priority; the worst
 * severity may raise the priority; SLA clocks start now. With nowhere to register a ticket (no chat,
 * mailbox or service desk for its team), the bridge counts as having registered it itself.
 */
export function openTicket(
  config: Config,
  kb: KnowledgeBase,
  policy: Policy,
  hasTargets: (team: string) => boolean,
): OpenTicket {
  return (key, alerts, externalURL, now) => {
    const first = alerts[0]!;
    const id = identify(first.labels, config.tickets);
    const card = kb.get(id.incidentClass);
    const severity = worstSeverity(alerts.map((a) => a.labels.severity));
    const priority = policy.priorityOf(id.incidentClass, severity);
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
      acknowledged_at: null,
      resolved_at: null,
      closed_at: null,
      updated_at: now,
      ...policy.slaDue(priority, now),
      registered_at: hasTargets(team) ? null : now,
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
      assignee: null,
      forced_resolve: 0,
    };
  };
}
