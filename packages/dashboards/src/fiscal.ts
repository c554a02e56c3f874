import type { Json, Panel, Target } from './builder.js';
import {
  F,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  merge,
  stat,
  table,
  tableColumns,
  timeseries,
} from './builder.js';

const DAY = 86400;
const WEEK = 7 * DAY;

interface Bucket {
  name: string;
  /** Lower bound (inclusive) and upper bound (exclusive), in seconds; null = open. */
  from: number | null;
  to: number | null;
}

/** `count by (region)` of series whose value falls in each bucket: one query (one table column) per bucket. */
function bucketTable(title: string, description: string, value: string, buckets: Bucket[]): Panel {
  const targets: Target[] = buckets.map((b) => {
    let e = `(${value})`;
    if (b.from !== null) e = `(${e} >= ${b.from})`;
    if (b.to !== null) e = `(${e} < ${b.to})`;
    // The zero branch lists every region in every column, so an empty cell never hides a region.
    return { expr: `count by (region) ${e} or (count by (region) (${value}) * 0)` };
  });
  const rename: Record<string, string> = {};
  buckets.forEach((b, i) => (rename[`Value #${String.fromCharCode(65 + i)}`] = b.name));
  return table({
    title,
    description,
    w: 12,
    targets,
    transformations: [merge, tableColumns(['region', ...Object.keys(rename)], rename)],
    options: { sortBy: [{ displayName: 'region', desc: false }] },
    custom: { cellOptions: { type: 'color-text' } },
    thresholds: [
      [null, 'text'],
      [1, 'orange'],
    ],
  });
}

export function fiscalDashboard(): Json {
  const fnLeft = `till:fiscal_fn_time_left:seconds{${F}}`;
  const weeks: Bucket[] = [
    { name: 'expired', from: null, to: 0 },
    ...Array.from({ length: 8 }, (_, i) => ({ name: `week ${i + 1}`, from: i * WEEK, to: (i + 1) * WEEK })),
  ];
  const ofdAge = `till:fiscal_ofd_backlog_age:seconds{${F}}`;
  const ages: Bucket[] = [
    { name: '< 1 day', from: null, to: DAY },
    { name: '1-3 days', from: DAY, to: 3 * DAY },
    { name: '3-7 days', from: 3 * DAY, to: 7 * DAY },
    { name: '7-14 days', from: 7 * DAY, to: 14 * DAY },
    { name: '14-30 days', from: 14 * DAY, to: 30 * DAY },
    // At 30 days without an OFD receipt the FN blocks: these tills cannot sell.
    { name: '≥ 30 days (blocked)', from: 30 * DAY, to: null },
  ];
  return dashboard({
    uid: 'tillwatch-fiscal',
    title: 'TillWatch / Fiscal',
    description: 'FN replacements to plan (expiries by week and region) and OFD backlogs to chase.',
    time: 'now-7d',
    refresh: '5m',
    variables: hierarchyVariables(),
    panels: [
      stat({
        title: 'FN expired',
        targets: [{ expr: `count(${fnLeft} < 0) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      stat({
        title: 'FN expiring in 30 days',
        targets: [{ expr: `count((${fnLeft}) < 30 * 86400) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stat({
        title: 'Shifts over 24 h',
        targets: [{ expr: `count(till_fiscal_shift_expired{${F}} == 1) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      stat({
        title: 'OFD links down',
        targets: [{ expr: `count(till_fiscal_ofd_connected{${F}} == 0) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stat({
        title: 'Unsent OFD documents',
        targets: [{ expr: `sum(till_fiscal_ofd_unsent_documents{${F}}) or vector(0)` }],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'Oldest OFD backlog',
        unit: 's',
        targets: [{ expr: `max(${ofdAge})` }],
        thresholds: [
          [null, 'green'],
          [DAY, 'yellow'],
          [7 * DAY, 'orange'],
          [25 * DAY, 'red'],
        ],
        noValue: 'none unsent',
      }),
      bucketTable(
        'FN expiries by week and region',
        'Fiscal drives by the week their validity ends (week 1 = the next 7 days): the field visits to plan.',
        fnLeft,
        weeks,
      ),
      bucketTable(
        'OFD backlog age by region',
        'Tills by the age of their oldest document without an OFD receipt. At 30 days the FN blocks sales.',
        ofdAge,
        ages,
      ),
      table({
        title: 'FN expiring within 60 days',
        w: 12,
        targets: [
          {
            expr: `sort(${fnLeft} / 86400 < 60)`,
          },
        ],
        transformations: [
          tableColumns(['chain', 'region', 'store', 'till', 'device', 'Value'], { Value: 'days left' }),
        ],
        overrides: [
          ...linkOverrides,
          { matcher: { id: 'byName', options: 'days left' }, properties: [{ id: 'decimals', value: 0 }] },
        ],
      }),
      table({
        title: 'Oldest OFD backlogs',
        w: 12,
        targets: [{ expr: `topk(50, ${ofdAge})` }],
        transformations: [
          tableColumns(['chain', 'region', 'store', 'till', 'device', 'Value'], { Value: 'age' }),
        ],
        overrides: [
          ...linkOverrides,
          { matcher: { id: 'byName', options: 'age' }, properties: [{ id: 'unit', value: 's' }] },
        ],
      }),
      table({
        title: 'FN memory full within 60 days (at the one-day trend)',
        w: 12,
        targets: [{ expr: `sort(till:fiscal_fn_documents_remaining:days_left{${F}} < 60)` }],
        transformations: [
          tableColumns(['chain', 'region', 'store', 'till', 'device', 'Value'], { Value: 'days left' }),
        ],
        overrides: [
          ...linkOverrides,
          { matcher: { id: 'byName', options: 'days left' }, properties: [{ id: 'decimals', value: 0 }] },
        ],
      }),
      timeseries({
        title: 'FN documents remaining (lowest 10)',
        targets: [
          { expr: `bottomk(10, till_fiscal_fn_documents_remaining{${F}})`, legend: '{{store}} {{till}}' },
        ],
      }),
      timeseries({
        title: 'Oldest OFD backlog by region',
        unit: 's',
        targets: [{ expr: `max by (region) (${ofdAge})`, legend: '{{region}}' }],
      }),
      timeseries({
        title: 'Unsent OFD documents by region',
        targets: [{ expr: `sum by (region) (till_fiscal_ofd_unsent_documents{${F}})`, legend: '{{region}}' }],
      }),
      timeseries({
        title: 'FN warnings by kind',
        targets: [{ expr: `sum by (warning) (till_fiscal_fn_warning{${F}})`, legend: '{{warning}}' }],
      }),
      timeseries({
        title: 'Registrars by model',
        targets: [
          { expr: `count by (driver, model) (till_fiscal_info{${F}})`, legend: '{{driver}} {{model}}' },
        ],
      }),
    ],
  });
}
