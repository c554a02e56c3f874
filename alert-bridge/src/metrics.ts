import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// One registry per app instance so tests (and two replicas in one process) never share series.
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tillwatch_bridge_' });
  const p = 'tillwatch_bridge_';
  return {
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
    enrichment: new Counter({
      name: `${p}enrichment_total`,
      help: 'Prometheus snapshot queries at ticket creation, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
