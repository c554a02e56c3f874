import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Ticket } from './tickets/model.js';

/** Labels of the service figures: who handled what, how urgent, which problem, whose stores. */
const SERVICE_LABELS = ['team', 'priority', 'incident_class', 'chain'] as const;
const serviceLabels = (t: Pick<Ticket, 'team' | 'priority' | 'incident_class' | 'chain'>) => ({
  team: t.team,
  priority: t.priority,
  incident_class: t.incident_class,
  chain: t.chain ?? '',
});

/** Upper bounds of the open-ticket age buckets, in hours, and their label values. */
export const AGE_BUCKETS: readonly { below: number; label: string }[] = [
  { below: 1, label: '0-1h' },
  { below: 4, label: '1h-4h' },
  { below: 24, label: '4h-24h' },
  { below: 72, label: '1d-3d' },
  { below: 168, label: '3d-7d' },
  { below: Infinity, label: '7d+' },
];

/**
 * The SLA outcome of a closed ticket per deadline kind: a step done by its due time is met. A resolve
 * counts as the reaction when nobody acknowledged (the problem was gone: nobody had to react).
 */
export function slaOutcomes(
  t: Pick<
    Ticket,
    | 'registered_at'
    | 'acknowledged_at'
    | 'resolved_at'
    | 'registration_due_at'
    | 'reaction_due_at'
    | 'resolution_due_at'
  >,
): { kind: 'registration' | 'reaction' | 'resolution'; met: boolean }[] {
  const done = (at: number | null, due: number) => at !== null && at <= due;
  return [
    { kind: 'registration', met: done(t.registered_at, t.registration_due_at) },
    { kind: 'reaction', met: done(t.acknowledged_at ?? t.resolved_at, t.reaction_due_at) },
    { kind: 'resolution', met: done(t.resolved_at, t.resolution_due_at) },
  ];
}

// One registry per app instance so tests (and two replicas in one process) never share series.
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tillwatch_bridge_' });
  // prom-client names three gauges *_total, which `promtool check metrics` refuses (only counters end in
  // _total); nothing reads them, so they are dropped to keep /metrics clean for promtool.
  for (const g of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`tillwatch_bridge_nodejs_${g}`);
  const p = 'tillwatch_bridge_';
  const m = {
    registry,
    httpRequests: new Counter({
      name: `${p}http_requests_total`,
      help: 'HTTP requests answered, by route and status code.',
      labelNames: ['route', 'code'],
      registers: [registry],
    }),
    webhookAlerts: new Counter({
      name: `${p}webhook_alerts_total`,
      help: 'Alerts received in accepted Alertmanager notifications, by alert status.',
      labelNames: ['status'],
      registers: [registry],
    }),
    webhookRejected: new Counter({
      name: `${p}webhook_rejected_total`,
      help: 'Webhook requests refused, by reason (stable error code).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    alertsRejected: new Counter({
      name: `${p}webhook_alerts_rejected_total`,
      help: 'Alerts of accepted notifications that could not be stored for a reason a retry cannot fix (logged with the reason).',
      registers: [registry],
    }),
    webhookDuration: new Histogram({
      name: `${p}webhook_duration_seconds`,
      help: 'Time from receiving an Alertmanager notification to answering it (includes the durable commit).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ticketsTransitions: new Counter({
      name: `${p}ticket_transitions_total`,
      help: 'Ticket lifecycle transitions, by event (created, acknowledged, resolved, reopened, closed).',
      labelNames: ['event'],
      registers: [registry],
    }),
    tickets: new Gauge({
      name: `${p}tickets`,
      help: 'Tickets in the store, by status (refreshed by the sweeper).',
      labelNames: ['status'],
      registers: [registry],
    }),
    slaBreaches: new Counter({
      name: `${p}sla_breaches_total`,
      help: 'SLA due times passed without the step done, by kind (registration, reaction, resolution) and priority.',
      labelNames: ['kind', 'priority'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: `${p}deliveries_total`,
      help: 'Outbox delivery attempts (notifications and forwarding), by target kind, target and result.',
      labelNames: ['kind', 'target', 'result'],
      registers: [registry],
    }),
    deliveryDuration: new Histogram({
      name: `${p}delivery_duration_seconds`,
      help: 'Latency of one delivery attempt to a notification channel or forwarding target.',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: `${p}outbox_pending`,
      help: 'Outbox entries not yet delivered, by target (refreshed by the sweeper).',
      labelNames: ['target'],
      registers: [registry],
    }),
    outboxOldest: new Gauge({
      name: `${p}outbox_oldest_pending_seconds`,
      help: 'Age of the oldest undelivered outbox entry, by target (0 when none; refreshed by the sweeper).',
      labelNames: ['target'],
      registers: [registry],
    }),
    watchdogLastSeen: new Gauge({
      name: `${p}watchdog_last_seen_timestamp_seconds`,
      help: 'When the Watchdog heartbeat from Alertmanager last reached the bridge (any replica).',
      registers: [registry],
    }),
    outboxDead: new Counter({
      name: `${p}outbox_dead_total`,
      help: 'Outbox entries given up after forwarding.dead_after undelivered, or whose target is no longer configured.',
      labelNames: ['target'],
      registers: [registry],
    }),
    deleted: new Counter({
      name: `${p}retention_deleted_total`,
      help: 'Rows deleted by retention, by table.',
      labelNames: ['table'],
      registers: [registry],
    }),
    remediationActions: new Counter({
      name: `${p}remediation_actions_total`,
      help: 'Remote actions on tills by incident class, action and result: queued, succeeded, failed, refused (by the till), dry_run, expired (never fetched).',
      labelNames: ['incident_class', 'action', 'result'],
      registers: [registry],
    }),
    remediationTickets: new Counter({
      name: `${p}remediation_tickets_total`,
      help: 'Tickets with an automatic first step, by incident class and outcome: auto_remediated (nobody paged) or paged.',
      labelNames: ['incident_class', 'outcome'],
      registers: [registry],
    }),
    tillRequestsRejected: new Counter({
      name: `${p}till_requests_rejected_total`,
      help: 'Requests on the till action channel refused, by reason (unknown_till, bad_signature, stale, replayed, invalid).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deskEvents: new Counter({
      name: `${p}desk_events_total`,
      help: 'Changes service desks sent back (the signed webhook, the Redmine and Request Tracker polls), by desk and result: applied, unchanged, duplicate, conflict, not_found, invalid, bad_signature, stale.',
      labelNames: ['desk', 'result'],
      registers: [registry],
    }),
    deskPolls: new Counter({
      name: `${p}desk_polls_total`,
      help: 'Polls of service desks without webhooks (Redmine, Request Tracker) for changes, by desk and result (success, failure).',
      labelNames: ['desk', 'result'],
      registers: [registry],
    }),
    enrichment: new Counter({
      name: `${p}enrichment_total`,
      help: 'Prometheus snapshot queries at ticket creation, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    timeToAcknowledge: new Histogram({
      name: `${p}ticket_time_to_acknowledge_seconds`,
      help: 'Time from a ticket opening (or reopening) to a person acknowledging it.',
      labelNames: SERVICE_LABELS,
      buckets: [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200],
      registers: [registry],
    }),
    timeToResolve: new Histogram({
      name: `${p}ticket_time_to_resolve_seconds`,
      help: 'Time from a ticket opening to its last resolution, observed when the ticket closes.',
      labelNames: SERVICE_LABELS,
      buckets: [300, 900, 3600, 14400, 28800, 86400, 259200, 604800, 1209600],
      registers: [registry],
    }),
    slaDeadlines: new Counter({
      name: `${p}sla_deadlines_total`,
      help: 'SLA deadlines of closed tickets, by kind (registration, reaction, resolution), result (met, breached), priority and chain.',
      labelNames: ['kind', 'result', 'priority', 'chain'],
      registers: [registry],
    }),
    ticketsClosed: new Counter({
      name: `${p}tickets_closed_total`,
      help: 'Tickets closed, by who resolved them (self: alerts resolved before anyone acknowledged; alerts: after; human: a person).',
      labelNames: [...SERVICE_LABELS, 'resolved_by'],
      registers: [registry],
    }),
    escalations: new Counter({
      name: `${p}escalations_total`,
      help: 'Escalation steps sent for tickets nobody acknowledged, by level notified and priority.',
      labelNames: ['level', 'priority'],
      registers: [registry],
    }),
    openTickets: new Gauge({
      name: `${p}open_tickets`,
      help: 'Open and acknowledged tickets by age since opening, priority and chain (refreshed by the sweeper).',
      labelNames: ['age', 'priority', 'chain'],
      registers: [registry],
    }),
  };
  return {
    ...m,
    /** A person acknowledged the ticket: its time to acknowledge. */
    acknowledged(t: Ticket) {
      if (t.acknowledged_at === null) return;
      const from = t.escalation_base ?? t.opened_at;
      m.timeToAcknowledge.observe(serviceLabels(t), Math.max(t.acknowledged_at - from, 0) / 1000);
    },
    /** The ticket closed (as it stood before closing): its time to resolve, SLA outcomes and resolver. */
    closed(t: Ticket, byHuman: boolean) {
      const labels = serviceLabels(t);
      if (t.resolved_at !== null)
        m.timeToResolve.observe(labels, Math.max(t.resolved_at - t.opened_at, 0) / 1000);
      for (const o of slaOutcomes(t))
        m.slaDeadlines.inc({
          kind: o.kind,
          result: o.met ? 'met' : 'breached',
          priority: t.priority,
          chain: labels.chain,
        });
      const by = t.self_resolved ? 'self' : byHuman ? 'human' : 'alerts';
      m.ticketsClosed.inc({ ...labels, resolved_by: by });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
