import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KnowledgeBase } from '@tillwatch/alert-bridge';
import type { Json, PanelOpts } from './builder.js';
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

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The wall's reasons, in the operator's language: incident class → its diagnostic card's short title, and
 * alert name → the short title of the card variant that names that one alert ("ФН истёк" among the FN
 * expiry alerts). Read with the bridge's own loader, so the wall says what tickets and messages say. ALERTS
 * carries labels, not annotations, so the reasons reach the panel as standard value mappings on those two
 * columns.
 */
export function wallReasons(repo = REPO): {
  classes: Record<string, string>;
  alerts: Record<string, string>;
} {
  const kb = KnowledgeBase.load(join(repo, 'alert-bridge', 'knowledge-base'));
  const classes: Record<string, string> = {};
  const alerts: Record<string, string> = {};
  for (const c of kb.classes()) {
    const card = kb.get(c)!;
    if (!card.ru.short)
      throw new Error(`${c}: ru.short: every diagnostic card needs a short title for the wall`);
    classes[c] = card.ru.short;
    for (const v of card.variants) {
      const keys = Object.keys(v.when);
      if (keys.length === 1 && keys[0] === 'alertname' && v.ru?.short && !v.when.alertname!.startsWith('/'))
        alerts[v.when.alertname!] = v.ru.short;
    }
  }
  return { classes, alerts };
}

const mapText = (texts: Record<string, string>) => [
  { type: 'value', options: Object.fromEntries(Object.entries(texts).map(([k, text]) => [k, { text }])) },
];

/**
 * The hierarchy panel's standard field config (grafana-plugin/README.md, "Panel options"): a health value
 * below 1 is a warning until an alert says how bad it is, no value reads "Нет данных", the alerts' reasons
 * come from value mappings, and the tile links go to the till dashboard, the ticket on the alert bridge
 * (`$bridge`, the dashboard's hidden variable) and the runbook.
 */
export function wallFieldConfig(tillLink: string): Partial<PanelOpts> {
  const { classes, alerts } = wallReasons();
  return {
    unit: 'none',
    color: { mode: 'thresholds' },
    thresholds: [
      [null, 'orange'],
      [1, 'green'],
    ],
    mappings: [{ type: 'value', options: { '0': { text: 'Устройство не отвечает', color: 'orange' } } }],
    noValue: 'Нет данных',
    links: [
      { title: 'Till dashboard', url: tillLink },
      {
        title: 'Ticket',
        url: '${bridge:raw}/ui/tickets?chain=${chain}&region=${region}&store=${store}&till=${till}&device=${device}&alertname=${alertname}',
        targetBlank: true,
      },
      { title: 'Runbook', url: '${runbook_url:raw}', targetBlank: true },
    ],
    overrides: [
      {
        matcher: { id: 'byName', options: 'incident_class' },
        properties: [{ id: 'mappings', value: mapText(classes) }],
      },
      {
        matcher: { id: 'byName', options: 'alertname' },
        properties: [{ id: 'mappings', value: mapText(alerts) }],
      },
    ],
  };
}

/** Where the wall's ticket links go; a hidden variable, so another address is `?var-bridge=...` or a dashboard edit. */
export const bridgeVariable: Json = {
  type: 'textbox',
  name: 'bridge',
  label: 'Alert bridge',
  query: 'http://127.0.0.1:9836',
  current: { text: 'http://127.0.0.1:9836', value: 'http://127.0.0.1:9836' },
  hide: 2,
  skipUrlSync: false,
};

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
    variables: [...hierarchyVariables(), bridgeVariable],
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
            'Every store and till of the inventory in a fixed place, coloured by the worst firing alert on it or ' +
            'above it (a store outage colours the store and its tills), else by its worst device ' +
            '(till:device_up:min); a problem tile names its worst reason and counts the others. Click a store ' +
            'for its tills; the store dashboard maps every device of one store.',
          w: 16,
          h: 20,
          targets: [
            // Per till, not per device: 8 times fewer series (10,000 instead of 80,000 at 10,000 tills); the raw
            // per-device query is the wall's most expensive (docs/benchmarks.md, "Scaling").
            { expr: `till:device_up:min{${F}}`, instant: true, table: true, refId: 'HEALTH' },
            // Every firing alert that names a place: device-, till- and store-level ones alike (a store alert
            // has no till label; `=~".*"` matches it).
            { expr: `ALERTS{alertstate="firing", ${F}}`, instant: true, table: true, refId: 'ALERTS' },
            // Every store, its name and its number of tills: the layout, whatever answers.
            { expr: `store:inventory_tills:count{${FS}}`, instant: true, table: true, refId: 'INVENTORY' },
          ],
          ...wallFieldConfig(
            '/d/tillwatch-till/till?var-chain=${chain}&var-region=${region}&var-store=${store}&var-till=${till}',
          ),
        },
        // Option names from grafana-plugin/src/types.ts (HierarchyOptions); the rest keep the panel's defaults.
        { levels: 'chain,region,store,till', alertsRefId: 'ALERTS', inventoryRefId: 'INVENTORY' },
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
