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
import { ageSeconds } from './exprs.js';

const warnAt = (yellow: number, red: number): Array<[number | null, string]> => [
  [null, 'green'],
  [yellow, 'yellow'],
  [red, 'red'],
];

export function integrationsDashboard(): Json {
  const certDays = `till:utm_certificate_time_left:seconds{${F}} / 86400`;
  const syncAge = `till:marking_sync_age:seconds{${F}}`;
  return dashboard({
    uid: 'tillwatch-integrations',
    title: 'TillWatch / Integrations',
    description:
      'State integrations that stop sales of alcohol (EGAIS UTM) and marked goods (Честный знак module).',
    variables: hierarchyVariables(),
    panels: [
      row('EGAIS UTM'),
      stat({
        title: 'UTMs not answering',
        targets: [{ expr: `count(till_device_up{kind="utm", ${F}} == 0) or vector(0)` }],
        thresholds: warnAt(1, 1),
      }),
      stat({
        title: 'Certificates expired',
        targets: [{ expr: `count(${certDays} < 0) or vector(0)` }],
        thresholds: warnAt(1, 1),
      }),
      stat({
        title: 'Certificates expiring in 30 days',
        description: 'RSA and GOST certificates on the key token; alcohol sales stop at expiry.',
        targets: [{ expr: `count(${certDays} < 30) or vector(0)` }],
        thresholds: warnAt(1, 1000000),
      }),
      stat({
        title: 'UTMs with unsent receipts over 1 h',
        w: 6,
        targets: [
          {
            expr: `count(${ageSeconds('till_utm_oldest_unsent_receipt_timestamp_seconds')} > 3600) or vector(0)`,
          },
        ],
        thresholds: warnAt(1, 1000000),
      }),
      barGauge({
        title: 'UTM versions',
        w: 6,
        h: 4,
        targets: [{ expr: `count by (version) (till_utm_info{${F}})`, legend: '{{version}}' }],
      }),
      table({
        title: 'UTM certificates expiring within 60 days',
        w: 12,
        targets: [{ expr: `sort(${certDays} < 60)` }],
        transformations: [
          tableColumns(['chain', 'region', 'store', 'till', 'device', 'certificate', 'Value'], {
            Value: 'days left',
          }),
        ],
        overrides: [
          ...linkOverrides,
          { matcher: { id: 'byName', options: 'days left' }, properties: [{ id: 'decimals', value: 0 }] },
        ],
      }),
      table({
        title: 'Oldest unsent UTM receipts',
        w: 12,
        targets: [{ expr: `topk(50, ${ageSeconds('till_utm_oldest_unsent_receipt_timestamp_seconds')})` }],
        transformations: [
          tableColumns(['chain', 'region', 'store', 'till', 'device', 'Value'], { Value: 'age' }),
        ],
        overrides: [
          ...linkOverrides,
          { matcher: { id: 'byName', options: 'age' }, properties: [{ id: 'unit', value: 's' }] },
        ],
      }),
      timeseries({
        title: 'UTM certificates expiring within 30 days, by region',
        targets: [{ expr: `count by (region) (${certDays} < 30)`, legend: '{{region}}' }],
      }),
      timeseries({
        title: 'UTMs not answering, by region',
        targets: [
          {
            expr: `count by (region) (till_device_up{kind="utm", ${F}} == 0) or (count by (region) (till_device_up{kind="utm", ${F}}) * 0)`,
            legend: '{{region}}',
          },
        ],
      }),

      row('Честный знак local module'),
      stat({
        title: 'Modules not ready',
        targets: [{ expr: `count(till_marking_status{status!="ready", ${F}} == 1) or vector(0)` }],
        thresholds: warnAt(1, 1),
      }),
      stat({
        title: 'Modules requiring a download',
        targets: [{ expr: `count(till_marking_requires_download{${F}} == 1) or vector(0)` }],
        thresholds: warnAt(1, 1),
      }),
      stat({
        title: 'Not synced within the allowed age',
        description:
          'The allowed sync age is not confirmed by the vendor: it is the rule parameter global:marking_sync_max_age:seconds (rules/recording.yml).',
        targets: [{ expr: `count(${syncAge} > scalar(global:marking_sync_max_age:seconds)) or vector(0)` }],
        thresholds: warnAt(1, 1000000),
      }),
      barGauge({
        title: 'Modules by status',
        w: 6,
        h: 4,
        targets: [{ expr: `sum by (status) (till_marking_status{${F}})`, legend: '{{status}}' }],
      }),
      barGauge({
        title: 'Module versions',
        w: 6,
        h: 4,
        targets: [{ expr: `count by (version) (till_marking_info{${F}})`, legend: '{{version}}' }],
      }),
      table({
        title: 'Modules not ready',
        w: 12,
        targets: [{ expr: `till_marking_status{status!="ready", ${F}} == 1` }],
        transformations: [tableColumns(['chain', 'region', 'store', 'till', 'device', 'status'])],
        overrides: linkOverrides,
      }),
      table({
        title: 'Longest since last sync',
        w: 12,
        targets: [{ expr: `topk(50, ${syncAge})` }],
        transformations: [
          tableColumns(['chain', 'region', 'store', 'till', 'device', 'Value'], { Value: 'since sync' }),
        ],
        overrides: [
          ...linkOverrides,
          { matcher: { id: 'byName', options: 'since sync' }, properties: [{ id: 'unit', value: 's' }] },
        ],
      }),
      timeseries({
        title: 'Modules by status over time',
        w: 24,
        targets: [{ expr: `sum by (status) (till_marking_status{${F}})`, legend: '{{status}}' }],
      }),
    ],
  });
}
