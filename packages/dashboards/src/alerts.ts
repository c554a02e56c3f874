import type { Json } from './builder.js';
import {
  F,
  barGauge,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  row,
  stat,
  table,
  tableColumns,
  timeseries,
} from './builder.js';

// Bridge series (alert-bridge/src/metrics.ts) carry no chain/region/store labels: tickets are
// counted fleet-wide, so only the Prometheus ALERTS panels follow the hierarchy variables.
const B = 'tillwatch_bridge_';

export function alertsDashboard(): Json {
  return dashboard({
    uid: 'tillwatch-alerts',
    title: 'TillWatch / Alerts and tickets',
    description:
      'Firing alerts from Prometheus and the tickets the alert bridge made of them: backlog, SLA, delivery.',
    variables: hierarchyVariables(),
    panels: [
      row('Tickets (alert bridge)'),
      stat({
        title: 'Open tickets',
        targets: [{ expr: `sum(${B}tickets{status="open"})` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stat({
        title: 'Acknowledged',
        targets: [{ expr: `sum(${B}tickets{status="acknowledged"})` }],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'Resolved (in reopen window)',
        targets: [{ expr: `sum(${B}tickets{status="resolved"})` }],
        thresholds: [[null, 'green']],
      }),
      stat({
        title: 'SLA breaches in range',
        targets: [{ expr: `sum(increase(${B}sla_breaches_total[$__range])) or vector(0)` }],
        decimals: 0,
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      stat({
        title: 'Undelivered notifications',
        targets: [{ expr: `sum(${B}outbox_pending)` }],
        thresholds: [
          [null, 'green'],
          [1, 'yellow'],
          [50, 'red'],
        ],
      }),
      stat({
        title: 'Rejected webhooks in range',
        targets: [{ expr: `sum(increase(${B}webhook_rejected_total[$__range])) or vector(0)` }],
        decimals: 0,
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      timeseries({
        title: 'Tickets by status',
        targets: [
          {
            expr: `sum by (status) (${B}tickets{status=~"open|acknowledged|resolved"})`,
            legend: '{{status}}',
          },
        ],
      }),
      timeseries({
        title: 'Ticket transitions per hour',
        targets: [
          { expr: `sum by (event) (increase(${B}ticket_transitions_total[1h]))`, legend: '{{event}}' },
        ],
      }),
      timeseries({
        title: 'SLA breaches per hour',
        targets: [
          {
            expr: `sum by (kind, priority) (increase(${B}sla_breaches_total[1h]))`,
            legend: '{{kind}} {{priority}}',
          },
        ],
      }),
      barGauge({
        title: 'SLA breaches in range by kind',
        w: 12,
        targets: [{ expr: `sum by (kind) (increase(${B}sla_breaches_total[$__range]))`, legend: '{{kind}}' }],
      }),
      timeseries({
        title: 'Notification delivery p95',
        unit: 's',
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (kind, le) (rate(${B}delivery_duration_seconds_bucket[$__rate_interval])))`,
            legend: '{{kind}}',
          },
        ],
      }),
      timeseries({
        title: 'Deliveries retried or failed',
        unit: 'ops',
        targets: [
          {
            expr: `sum by (kind, target, result) (rate(${B}deliveries_total{result!="success"}[$__rate_interval]))`,
            legend: '{{kind}} {{target}} {{result}}',
          },
        ],
      }),

      row('Self-healing (remote actions on tills)'),
      barGauge({
        title: 'Auto-remediated share by class in range',
        description:
          'Of the tickets that got an automatic first step (a remote action on the till), the share resolved by it with nobody paged.',
        w: 12,
        unit: 'percentunit',
        targets: [
          {
            expr: `sum by (incident_class) (increase(${B}remediation_tickets_total{outcome="auto_remediated"}[$__range])) / sum by (incident_class) (increase(${B}remediation_tickets_total[$__range]))`,
            legend: '{{incident_class}}',
          },
        ],
      }),
      timeseries({
        title: 'Remote actions by result',
        unit: 'ops',
        targets: [
          {
            expr: `sum by (action, result) (rate(${B}remediation_actions_total[$__rate_interval]))`,
            legend: '{{action}} {{result}}',
          },
        ],
      }),

      row('Alerts (Prometheus)'),
      timeseries({
        title: 'Firing alerts by severity',
        targets: [
          { expr: `count by (severity) (ALERTS{alertstate="firing", ${F}})`, legend: '{{severity}}' },
        ],
      }),
      timeseries({
        title: 'Firing alerts by name',
        targets: [
          { expr: `count by (alertname) (ALERTS{alertstate="firing", ${F}})`, legend: '{{alertname}}' },
        ],
      }),
      table({
        title: 'Firing alerts',
        targets: [{ expr: `ALERTS{alertstate="firing", ${F}}` }],
        transformations: [
          tableColumns(['alertname', 'severity', 'chain', 'region', 'store', 'till', 'device']),
        ],
        overrides: linkOverrides,
      }),
      table({
        title: 'Pending alerts',
        targets: [{ expr: `ALERTS{alertstate="pending", ${F}}` }],
        transformations: [
          tableColumns(['alertname', 'severity', 'chain', 'region', 'store', 'till', 'device']),
        ],
        overrides: linkOverrides,
      }),
    ],
  });
}
