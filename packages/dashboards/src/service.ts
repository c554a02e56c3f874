// The service a contract is measured by, from the alert bridge's service metrics (docs/metrics.md,
// "Alert bridge: service"): mean times to acknowledge and resolve, the on-time share per deadline kind,
// breaches per client, the self-resolved share and the open backlog by age. Outcomes are counted when a
// ticket closes, so over the dashboard's range (pick "This month" for a client's month). The self-healing
// share (issue 19) counts tickets whose automatic first step (a remote action on the till) fixed the fault
// with nobody paged, among those that got one.
import type { Json } from './builder.js';
import { barGauge, dashboard, hierarchyVariables, stat, table, tableColumns, timeseries } from './builder.js';

const B = 'tillwatch_bridge_';
// The bridge's series carry the client (chain) but no region, store or till.
const C = 'chain=~"$chain"';
const inRange = (m: string, sel = C) => `increase(${B}${m}{${sel}}[$__range])`;
const mean = (h: string, by = '') => `sum${by}(${inRange(`${h}_sum`)}) / sum${by}(${inRange(`${h}_count`)})`;

export function serviceDashboard(): Json {
  return dashboard({
    uid: 'tillwatch-service',
    title: 'TillWatch / Service',
    description:
      'Service levels per client: time to acknowledge and resolve, deadlines met on time, breaches, self-resolved and auto-remediated shares, open backlog by age.',
    variables: hierarchyVariables(),
    time: 'now-30d',
    refresh: '5m',
    panels: [
      stat({
        title: 'MTTA',
        description:
          'Mean time from a ticket opening (or reopening) to a person acknowledging it, over the range.',
        unit: 's',
        targets: [{ expr: mean('ticket_time_to_acknowledge_seconds') }],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'MTTR',
        description: 'Mean time from opening to resolution of the tickets closed in the range.',
        unit: 's',
        targets: [{ expr: mean('ticket_time_to_resolve_seconds') }],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'Resolution on time',
        description:
          'Share of resolution deadlines met (on each SLA policy’s calendar) among tickets closed in the range.',
        unit: 'percentunit',
        targets: [
          {
            expr: `sum(${inRange('sla_deadlines_total', `${C}, kind="resolution", result="met"`)}) / sum(${inRange('sla_deadlines_total', `${C}, kind="resolution"`)})`,
          },
        ],
        thresholds: [
          [null, 'red'],
          [0.9, 'orange'],
          [0.95, 'green'],
        ],
      }),
      stat({
        title: 'Self-resolved',
        description:
          'Share of closed tickets whose alerts resolved before anyone acknowledged them: they still deserve a look.',
        unit: 'percentunit',
        targets: [
          {
            expr: `sum(${inRange('tickets_closed_total', `${C}, resolved_by="self"`)}) / sum(${inRange('tickets_closed_total')})`,
          },
        ],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'Open tickets older than a day',
        unit: 'none',
        decimals: 0,
        targets: [{ expr: `sum(${B}open_tickets{${C}, age!~"0-1h|1h-4h|4h-24h"}) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      barGauge({
        title: 'On time by deadline',
        description:
          'Share of registration, reaction and resolution deadlines met, tickets closed in the range.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [
          {
            expr: `sum by (kind) (${inRange('sla_deadlines_total', `${C}, result="met"`)}) / sum by (kind) (${inRange('sla_deadlines_total')})`,
            legend: '{{kind}}',
          },
        ],
        thresholds: [
          [null, 'red'],
          [0.9, 'orange'],
          [0.95, 'green'],
        ],
      }),
      timeseries({
        title: 'Time to acknowledge and resolve, 90th percentile by priority',
        unit: 's',
        targets: [
          {
            expr: `histogram_quantile(0.9, sum by (le, priority) (rate(${B}ticket_time_to_acknowledge_seconds_bucket{${C}}[$__rate_interval])))`,
            legend: 'acknowledge {{priority}}',
          },
          {
            expr: `histogram_quantile(0.9, sum by (le, priority) (rate(${B}ticket_time_to_resolve_seconds_bucket{${C}}[$__rate_interval])))`,
            legend: 'resolve {{priority}}',
          },
        ],
      }),
      table({
        title: 'Breaches per client',
        description:
          'Deadlines missed by tickets closed in the range, per client (chain), kind and priority.',
        targets: [
          {
            expr: `sum by (chain, kind, priority) (${inRange('sla_deadlines_total', `${C}, result="breached"`)})`,
          },
        ],
        transformations: [tableColumns(['chain', 'kind', 'priority', 'Value'], { Value: 'breached' })],
      }),
      table({
        title: 'Mean time to resolve per client and team',
        targets: [{ expr: mean('ticket_time_to_resolve_seconds', ' by (chain, team)') }],
        transformations: [tableColumns(['chain', 'team', 'Value'], { Value: 'MTTR' })],
        unit: 's',
      }),
      barGauge({
        title: 'Auto-remediated share by class',
        description:
          'Of the tickets of each class that got an automatic first step (a remote action on the till, by the bridge’s remediation policies), the share it fixed with nobody paged, over the range. The bridge counts these for the whole fleet: the client filter does not apply.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [
          {
            expr: `sum by (incident_class) (increase(${B}remediation_tickets_total{outcome="auto_remediated"}[$__range])) / sum by (incident_class) (increase(${B}remediation_tickets_total[$__range]))`,
            legend: '{{incident_class}}',
          },
        ],
        thresholds: [[null, 'blue']],
      }),
      table({
        title: 'Automatic first steps by class and outcome',
        description:
          'Tickets that got a remote action on the till, over the range: auto_remediated (fixed, nobody paged) or paged (the step failed or did not help; the page says what was tried).',
        targets: [
          {
            expr: `sum by (incident_class, outcome) (increase(${B}remediation_tickets_total[$__range]))`,
          },
        ],
        transformations: [
          tableColumns(['incident_class', 'outcome', 'Value'], { incident_class: 'class', Value: 'tickets' }),
        ],
        decimals: 0,
      }),
      barGauge({
        title: 'Open tickets by age',
        description: 'Open and acknowledged tickets by time since opening.',
        decimals: 0,
        targets: [{ expr: `sum by (age) (${B}open_tickets{${C}})`, legend: '{{age}}' }],
        thresholds: [[null, 'blue']],
      }),
    ],
  });
}
