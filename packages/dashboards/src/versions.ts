// The fleet's software versions: how many tills of each chain run which version of the POS program, OS,
// kernel, exporter, registrar firmware, УТМ and marking module, and which tills are below their chain's
// declared minimum (rules/software.yml TillSoftwareBelowMinimum; inventory chains[].min_versions).
import type { Json } from './builder.js';
import {
  F,
  barGauge,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  merge,
  stat,
  table,
  tableColumns,
} from './builder.js';

const BELOW = `till_software_version_number{${F}} < on (chain, component) group_left (minimum) tillwatch:chain_min_version_number`;

/** A table of how many tills run each version, by chain. */
function spread(
  title: string,
  description: string,
  expr: string,
  labels: string[],
): ReturnType<typeof table> {
  return table({
    title,
    description,
    w: 12,
    targets: [{ expr, instant: true, table: true }],
    transformations: [tableColumns(['chain', ...labels, 'Value'], { Value: 'tills' })],
    overrides: [{ matcher: { id: 'byName', options: 'tills' }, properties: [{ id: 'decimals', value: 0 }] }],
  });
}

export function versionsDashboard(): Json {
  return dashboard({
    uid: 'tillwatch-versions',
    title: 'TillWatch / Versions',
    description:
      "Which versions the fleet runs, per chain, and the tills below their chain's minimum: update ahead of trouble.",
    variables: hierarchyVariables(),
    time: 'now-24h',
    refresh: '5m',
    panels: [
      stat({
        title: "Tills below their chain's minimum",
        description:
          'Tills with at least one component older than the chain declares (inventory min_versions).',
        w: 8,
        targets: [{ expr: `count(count by (chain, region, store, till) (${BELOW})) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      barGauge({
        title: 'POS program versions',
        description: 'Tills per POS version and chain.',
        w: 16,
        targets: [
          {
            expr: `count by (chain, version) (till_software_version_info{component="pos", ${F}})`,
            legend: '{{chain}} {{version}}',
            instant: true,
          },
        ],
      }),
      table({
        title: "Tills below their chain's minimum",
        description: 'Each component older than the chain declares; click the till for its dashboard.',
        w: 24,
        targets: [
          { expr: BELOW, instant: true, table: true },
          {
            expr: `till_software_version_info{${F}} and on (chain, region, store, till, component) (${BELOW})`,
            instant: true,
            table: true,
          },
        ],
        transformations: [
          merge,
          tableColumns(['till', 'component', 'version', 'minimum', 'chain', 'region', 'store']),
        ],
        overrides: linkOverrides,
      }),
      spread(
        'Software versions',
        'POS program, OS, kernel, exporter and the components the exporters are told to read.',
        `count by (chain, component, version) (till_software_version_info{${F}})`,
        ['component', 'version'],
      ),
      spread(
        'Registrar models and firmware',
        'From till_fiscal_info.',
        `count by (chain, driver, model, firmware) (till_fiscal_info{${F}})`,
        ['driver', 'model', 'firmware'],
      ),
      spread('УТМ versions', 'From till_utm_info.', `count by (chain, version) (till_utm_info{${F}})`, [
        'version',
      ]),
      spread(
        'Marking module versions',
        'From till_marking_info.',
        `count by (chain, version) (till_marking_info{${F}})`,
        ['version'],
      ),
    ],
  });
}
