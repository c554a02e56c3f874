import type { Json } from './builder.js';
import {
  F,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  merge,
  table,
  tableColumns,
  timeseries,
} from './builder.js';

const BY = 'chain, region, store, till';
const DAY = 86400;

// Slow faults that stop a till on a date: what the forecast alerts in rules/fiscal.yml link to
// (dashboard_url /d/tillwatch-forecast). Each column is "days until this stops sales".
export function forecastDashboard(): Json {
  const columns: Array<[string, string]> = [
    ['FN validity', `min by (${BY}) (till:fiscal_fn_time_left:seconds{${F}}) / ${DAY}`],
    ['FN documents', `min by (${BY}) (till:fiscal_fn_documents_remaining:days_left{${F}})`],
    // The FN blocks when a document has waited 30 days for an OFD receipt.
    ['OFD block', `(30 * ${DAY} - max by (${BY}) (till:fiscal_ofd_backlog_age:seconds{${F}})) / ${DAY}`],
    ['UTM certificate', `min by (${BY}) (till:utm_certificate_time_left:seconds{${F}}) / ${DAY}`],
    [
      'disk full',
      `min by (${BY}) (till_filesystem_avail_bytes{${F}} / (-deriv(till_filesystem_avail_bytes{${F}}[6h]) > 0)) / ${DAY}`,
    ],
  ];
  const rename: Record<string, string> = {};
  columns.forEach(([name], i) => (rename[`Value #${String.fromCharCode(65 + i)}`] = name));
  const daysThresholds = {
    mode: 'absolute',
    steps: [
      { value: null, color: 'red' },
      { value: 7, color: 'orange' },
      { value: 30, color: 'yellow' },
      { value: 60, color: 'green' },
    ],
  };
  return dashboard({
    uid: 'tillwatch-forecast',
    title: 'TillWatch / Forecast',
    description:
      'What will stop each till, and when: FN validity and memory, OFD backlog, UTM certificates, disk.',
    time: 'now-7d',
    refresh: '5m',
    variables: hierarchyVariables(),
    panels: [
      table({
        title: 'Days until sales stop (lowest first)',
        description:
          'Empty cells: nothing is running out (no backlog, no downward trend). FN documents and disk use the trend of the last day / 6 hours.',
        h: 12,
        targets: columns.map(([, expr]) => ({ expr })),
        transformations: [
          merge,
          tableColumns(['chain', 'region', 'store', 'till', ...Object.keys(rename)], rename),
          { id: 'sortBy', options: { sort: [{ field: 'FN validity', desc: false }] } },
        ],
        overrides: [
          ...linkOverrides,
          ...columns.map(([name]) => ({
            matcher: { id: 'byName', options: name },
            properties: [
              { id: 'decimals', value: 0 },
              { id: 'thresholds', value: daysThresholds },
              { id: 'custom.cellOptions', value: { type: 'color-text' } },
            ],
          })),
        ],
      }),
      timeseries({
        title: 'FN validity left (lowest 10)',
        unit: 'd',
        targets: [
          {
            expr: `bottomk(10, till:fiscal_fn_time_left:seconds{${F}} / ${DAY})`,
            legend: '{{store}} {{till}}',
          },
        ],
      }),
      timeseries({
        title: 'FN documents remaining and the 7-day projection',
        targets: [
          { expr: `bottomk(10, till_fiscal_fn_documents_remaining{${F}})`, legend: '{{store}} {{till}}' },
          {
            expr: `bottomk(10, predict_linear(till_fiscal_fn_documents_remaining{${F}}[1d], 7 * ${DAY}))`,
            legend: 'in 7 days: {{store}} {{till}}',
          },
        ],
      }),
      timeseries({
        title: 'OFD backlog age (30 days blocks the FN)',
        unit: 's',
        targets: [
          { expr: `topk(10, till:fiscal_ofd_backlog_age:seconds{${F}})`, legend: '{{store}} {{till}}' },
        ],
      }),
      timeseries({
        title: 'Disk space available and the 7-day projection',
        unit: 'percentunit',
        targets: [
          {
            expr: `bottomk(10, till:filesystem_avail:ratio{${F}})`,
            legend: '{{store}} {{till}} {{mountpoint}}',
          },
          {
            expr: `bottomk(10, predict_linear(till:filesystem_avail:ratio{${F}}[6h], 7 * ${DAY}))`,
            legend: 'in 7 days: {{store}} {{till}} {{mountpoint}}',
          },
        ],
      }),
      table({
        title: 'Forecast alerts firing',
        targets: [{ expr: `ALERTS{alertstate="firing", ${F}}` }],
        transformations: [
          tableColumns(['alertname', 'severity', 'chain', 'region', 'store', 'till', 'device']),
        ],
        overrides: linkOverrides,
      }),
    ],
  });
}
