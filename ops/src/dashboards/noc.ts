import type { Json } from './builder.js';
import {
  F,
  barGauge,
  custom,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  stat,
  table,
  tableColumns,
} from './builder.js';
import { cannotSellByTill, tillStates } from './exprs.js';

const red: Array<[number | null, string]> = [
  [null, 'green'],
  [1, 'red'],
];

export function nocDashboard(): Json {
  return dashboard({
    uid: 'tillwatch-noc',
    title: 'TillWatch / NOC wall',
    description:
      'The whole fleet at a glance: the chain → store → till → device map and the counters that page.',
    refresh: '30s',
    time: 'now-1h',
    variables: hierarchyVariables(),
    panels: [
      stat({
        title: 'Tills',
        targets: [{ expr: `count(up{till!="", ${F}}) or vector(0)` }],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'Tills that cannot sell',
        description: 'Fiscal registrar absent or silent, shift over 24 h, no paper, or FN expired.',
        targets: [{ expr: tillStates[0]!.expr }],
        thresholds: red,
      }),
      stat({
        title: 'Stores with a till that cannot sell',
        targets: [{ expr: `count(count by (chain, region, store) (${cannotSellByTill})) or vector(0)` }],
        thresholds: red,
      }),
      stat({
        title: 'Firing critical alerts',
        targets: [{ expr: `count(ALERTS{alertstate="firing", severity="critical", ${F}}) or vector(0)` }],
        thresholds: red,
      }),
      stat({
        title: 'Exporters down',
        targets: [{ expr: tillStates[2]!.expr }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stat({
        title: 'Firing warnings',
        targets: [{ expr: `count(ALERTS{alertstate="firing", severity="warning", ${F}}) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'yellow'],
        ],
      }),
      custom(
        'tillwatch-hierarchy-panel',
        {
          title: 'Fleet',
          description:
            'Health per device from till_device_up, overlaid with firing alerts (worst severity wins).',
          w: 16,
          h: 20,
          targets: [
            { expr: `till_device_up{${F}}`, instant: true, table: true },
            { expr: `ALERTS{alertstate="firing", ${F}}`, instant: true, table: true },
          ],
        },
        { levels: ['chain', 'region', 'store', 'till', 'device'] },
      ),
      barGauge({
        title: 'Tills by state',
        w: 8,
        h: 8,
        targets: tillStates.map((s) => ({ expr: s.expr, legend: s.legend })),
        overrides: [
          ['cannot sell', 'red'],
          ['degraded', 'orange'],
          ['exporter down', 'purple'],
          ['ok', 'green'],
        ].map(([name, color]) => ({
          matcher: { id: 'byName', options: name },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: color } }],
        })),
      }),
      barGauge({
        title: 'Firing alerts by name',
        w: 8,
        h: 12,
        targets: [
          {
            expr: `sort_desc(count by (alertname) (ALERTS{alertstate="firing", ${F}}))`,
            legend: '{{alertname}}',
          },
        ],
      }),
      table({
        title: 'Tills that cannot sell',
        targets: [{ expr: cannotSellByTill }],
        transformations: [tableColumns(['chain', 'region', 'store', 'till'])],
        overrides: linkOverrides,
      }),
      table({
        title: 'Firing critical alerts',
        targets: [{ expr: `ALERTS{alertstate="firing", severity="critical", ${F}}` }],
        transformations: [tableColumns(['alertname', 'chain', 'region', 'store', 'till', 'device'])],
        overrides: linkOverrides,
      }),
    ],
  });
}
