import type { Json } from './builder.js';
import {
  F,
  FS,
  barGauge,
  custom,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  merge,
  stat,
  table,
  tableColumns,
} from './builder.js';
import { tillStates } from './exprs.js';

const red: Array<[number | null, string]> = [
  [null, 'green'],
  [1, 'red'],
];

// Fleet-wide counters read the store/region recording rules (rules/recording.yml), not raw
// per-device series: at 100,000 tills the wall refreshes every 30 s.
export function nocDashboard(): Json {
  const regionColumns: Array<[string, string]> = [
    ['tills', `sum by (chain, region) (store:tills:count{${FS}})`],
    ['tills unhealthy', `sum by (chain, region) (store:tills_unhealthy:count{${FS}})`],
    ['tills critical', `sum by (chain, region) (store:tills_critical:count{${FS}})`],
    ['stores unreachable', `sum by (chain, region) (store:tills_up:count{${FS}} == bool 0)`],
  ];
  const rename: Record<string, string> = {};
  regionColumns.forEach(([name], i) => (rename[`Value #${String.fromCharCode(65 + i)}`] = name));
  return dashboard({
    uid: 'tillwatch-noc',
    title: 'TillWatch / NOC wall',
    description: 'The whole fleet at a glance: the chain → store → till map and the counters that page.',
    refresh: '30s',
    time: 'now-1h',
    variables: hierarchyVariables(),
    panels: [
      stat({
        title: 'Tills',
        targets: [{ expr: `sum(store:tills:count{${FS}}) or vector(0)` }],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'Tills that cannot sell',
        description: 'Tills with a critical alert firing: the alerts that mean sales stop now.',
        targets: [{ expr: tillStates[2]!.expr }],
        thresholds: red,
      }),
      stat({
        title: 'Stores with a till that cannot sell',
        targets: [{ expr: `count(store:tills_critical:count{${FS}} > 0) or vector(0)` }],
        thresholds: red,
      }),
      stat({
        title: 'Firing critical alerts',
        targets: [{ expr: `count(ALERTS{alertstate="firing", severity="critical", ${F}}) or vector(0)` }],
        thresholds: red,
      }),
      stat({
        title: 'Tills unreachable',
        targets: [{ expr: tillStates[3]!.expr }],
        thresholds: [
          [null, 'green'],
          [1, 'purple'],
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
            'Health per till (its worst device, till:device_up:min), overlaid with firing alerts (worst severity ' +
            'wins). Click a till for its devices; the store dashboard maps every device of one store.',
          w: 16,
          h: 20,
          targets: [
            // Per till, not per device: 8 times fewer series (10,000 instead of 80,000 at 10,000 tills); the raw
            // per-device query is the wall's most expensive (docs/benchmarks.md, "Scaling").
            { expr: `till:device_up:min{${F}}`, instant: true, table: true, refId: 'HEALTH' },
            // The panel overlays alerts from the query with this refId (its `alertsRefId` option).
            { expr: `ALERTS{alertstate="firing", ${F}}`, instant: true, table: true, refId: 'ALERTS' },
          ],
        },
        // Option names from grafana-plugin/src/types.ts (HierarchyOptions); the rest keep the panel's defaults.
        {
          levels: 'chain,region,store,till',
          alertsRefId: 'ALERTS',
          tillDashboardUrl:
            '/d/tillwatch-till/till?var-chain=${chain}&var-region=${region}&var-store=${store}&var-till=${till}',
        },
      ),
      barGauge({
        title: 'Tills by state',
        w: 8,
        h: 8,
        targets: tillStates.map((s) => ({ expr: s.expr, legend: s.legend })),
        overrides: tillStates.map((s) => ({
          matcher: { id: 'byName', options: s.legend },
          properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: s.color } }],
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
        title: 'Regions',
        targets: regionColumns.map(([, expr]) => ({ expr })),
        transformations: [merge, tableColumns(['chain', 'region', ...Object.keys(rename)], rename)],
      }),
      table({
        title: 'Stores with a till that cannot sell',
        w: 12,
        targets: [{ expr: `sort_desc(store:tills_critical:count{${FS}} > 0)` }],
        transformations: [tableColumns(['chain', 'region', 'store', 'Value'], { Value: 'tills critical' })],
        overrides: linkOverrides,
      }),
      table({
        title: 'Firing critical alerts',
        w: 12,
        targets: [{ expr: `ALERTS{alertstate="firing", severity="critical", ${F}}` }],
        transformations: [tableColumns(['alertname', 'chain', 'region', 'store', 'till', 'device'])],
        overrides: linkOverrides,
      }),
    ],
  });
}
