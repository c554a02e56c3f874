import type { Json } from './builder.js';
import {
  F,
  custom,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  merge,
  row,
  stat,
  stateTimeline,
  table,
  tableColumns,
  timeseries,
} from './builder.js';
import { FS } from './exprs.js';
import { bridgeVariable, wallFieldConfig } from './noc.js';

/** The store server's real filesystems (node exporter also lists tmpfs and friends). */
const SERVER_FS = `fstype!~"tmpfs|ramfs|squashfs|overlay", ${FS}`;

const BY = 'chain, region, store, till';
const upDown = [
  { type: 'value', options: { '0': { text: 'down', color: 'red' }, '1': { text: 'up', color: 'green' } } },
];

// The values of till:health:state (rules/recording.yml).
const health = [
  {
    type: 'value',
    options: {
      '0': { text: 'ok', color: 'green' },
      '1': { text: 'warning', color: 'yellow' },
      '2': { text: 'critical', color: 'red' },
      '3': { text: 'unreachable', color: 'purple' },
    },
  },
];

export function storeDashboard(): Json {
  const columns: Array<[string, string]> = [
    ['health', `max by (${BY}) (till:health:state{${F}})`],
    ['exporter', `max by (${BY}) (up{till!="", ${F}})`],
    [
      'devices down',
      `count by (${BY}) (till_device_up{${F}} == 0) or (max by (${BY}) (up{till!="", ${F}}) * 0)`,
    ],
    ['paper', `min by (${BY}) (till_fiscal_paper_present{${F}})`],
    ['shift expired', `max by (${BY}) (till_fiscal_shift_expired{${F}})`],
    ['FN days left', `min by (${BY}) (till:fiscal_fn_time_left:seconds{${F}}) / 86400`],
    ['OFD backlog age', `max by (${BY}) (till:fiscal_ofd_backlog_age:seconds{${F}})`],
  ];
  const rename: Record<string, string> = {};
  columns.forEach(([name], i) => (rename[`Value #${String.fromCharCode(65 + i)}`] = name));
  return dashboard({
    uid: 'tillwatch-store',
    title: 'TillWatch / Store',
    description: 'One store: its tills, their devices and what stops them selling.',
    variables: [...hierarchyVariables({ single: ['store'] }), bridgeVariable],
    panels: [
      stat({
        title: 'Tills',
        targets: [{ expr: `count(up{till!="", ${F}}) or vector(0)` }],
        thresholds: [[null, 'blue']],
      }),
      stat({
        title: 'Tills that cannot sell',
        description: 'Tills with a critical alert firing (rules/recording.yml store:tills_critical:count).',
        targets: [{ expr: `sum(store:tills_critical:count{${FS}}) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      stat({
        title: 'Tills unreachable',
        targets: [{ expr: `sum(store:tills_unreachable:count{${FS}}) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stat({
        title: 'Devices down',
        targets: [{ expr: `count(till_device_up{${F}} == 0) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stat({
        title: 'Firing alerts',
        w: 8,
        targets: [{ expr: `count(ALERTS{alertstate="firing", ${F}}) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      table({
        title: 'Tills',
        description: 'One row per till; click the till for every device and metric.',
        targets: columns.map(([, expr]) => ({ expr })),
        transformations: [
          merge,
          tableColumns(
            [
              'till',
              ...columns.map((_, i) => `Value #${String.fromCharCode(65 + i)}`),
              'chain',
              'region',
              'store',
            ],
            rename,
          ),
        ],
        overrides: [
          ...linkOverrides,
          { matcher: { id: 'byName', options: 'exporter' }, properties: [{ id: 'mappings', value: upDown }] },
          { matcher: { id: 'byName', options: 'health' }, properties: [{ id: 'mappings', value: health }] },
          { matcher: { id: 'byName', options: 'FN days left' }, properties: [{ id: 'decimals', value: 0 }] },
          { matcher: { id: 'byName', options: 'OFD backlog age' }, properties: [{ id: 'unit', value: 's' }] },
        ],
      }),
      custom(
        'tillwatch-hierarchy-panel',
        {
          title: 'Devices',
          description:
            'Every device of the store from till_device_up, overlaid with firing alerts (worst severity wins). ' +
            'The NOC wall stops at tills; this map is its device level for one store.',
          w: 24,
          h: 10,
          targets: [
            { expr: `till_device_up{${F}}`, instant: true, table: true, refId: 'HEALTH' },
            { expr: `ALERTS{alertstate="firing", ${F}}`, instant: true, table: true, refId: 'ALERTS' },
          ],
          ...wallFieldConfig('/d/tillwatch-till/till?var-store=${store}&var-till=${till}'),
        },
        { levels: 'store,till,device', alertsRefId: 'ALERTS' },
      ),
      stateTimeline({
        title: 'Devices up',
        w: 24,
        targets: [{ expr: `till_device_up{${F}}`, legend: '{{till}} {{device}}' }],
        mappings: upDown,
        thresholds: [
          [null, 'red'],
          [1, 'green'],
        ],
      }),
      timeseries({
        title: 'OFD unsent documents',
        targets: [{ expr: `till_fiscal_ofd_unsent_documents{${F}}`, legend: '{{till}} {{device}}' }],
      }),
      timeseries({
        title: 'Host clock offset from NTP',
        unit: 's',
        targets: [{ expr: `till_clock_offset_seconds{${F}}`, legend: '{{till}}' }],
      }),
      row('Store server'),
      stat({
        title: 'Store server',
        description:
          "The store server's node exporter as the store agent scrapes it (job tillwatch-store-node).",
        w: 4,
        targets: [{ expr: `max(up{job="tillwatch-store-node", ${FS}})` }],
        mappings: upDown,
        thresholds: [
          [null, 'red'],
          [1, 'green'],
        ],
      }),
      stat({
        title: 'Database',
        description: 'PostgreSQL on the store server, through postgres_exporter (pg_up).',
        w: 4,
        targets: [{ expr: `min(pg_up{${FS}})` }],
        mappings: upDown,
        thresholds: [
          [null, 'red'],
          [1, 'green'],
        ],
      }),
      stat({
        title: 'Connections used',
        description: 'Share of max_connections in use; TillStoreDatabaseConnectionsHigh warns past 80 %.',
        w: 4,
        unit: 'percentunit',
        targets: [{ expr: `sum(pg_stat_activity_count{${FS}}) / sum(pg_settings_max_connections{${FS}})` }],
        thresholds: [
          [null, 'green'],
          [0.8, 'orange'],
        ],
      }),
      stat({
        title: 'Lowest free disk',
        description:
          'The fullest writable filesystem of the store server; TillStoreServerDiskLow warns under 10 %.',
        w: 4,
        unit: 'percentunit',
        targets: [
          {
            expr: `min(node_filesystem_avail_bytes{${SERVER_FS}} / node_filesystem_size_bytes{${SERVER_FS}})`,
          },
        ],
        thresholds: [
          [null, 'red'],
          [0.1, 'green'],
        ],
      }),
      stat({
        title: 'Server load (1 m)',
        w: 4,
        decimals: 2,
        targets: [{ expr: `max(node_load1{${FS}})` }],
      }),
      stat({
        title: 'Database size',
        w: 4,
        unit: 'bytes',
        targets: [{ expr: `sum(pg_database_size_bytes{${FS}})` }],
      }),
      timeseries({
        title: 'Longest open transaction',
        description: 'Per database; TillStoreDatabaseLongTransaction warns past 10 minutes.',
        unit: 's',
        targets: [
          {
            expr: `max by (datname) (pg_stat_activity_max_tx_duration{state=~"active|idle in transaction.*", ${FS}})`,
            legend: '{{datname}}',
          },
        ],
      }),
      timeseries({
        title: 'Replication lag',
        description: 'WAL bytes each standby has not replayed (stores with replication only).',
        unit: 'bytes',
        targets: [{ expr: `pg_stat_replication_pg_wal_lsn_diff{${FS}}`, legend: '{{application_name}}' }],
      }),
      row('Alerts'),
      table({
        title: 'Firing alerts',
        targets: [{ expr: `ALERTS{alertstate="firing", ${F}}` }],
        transformations: [
          tableColumns(['alertname', 'severity', 'till', 'device', 'chain', 'region', 'store']),
        ],
        overrides: linkOverrides,
      }),
    ],
  });
}
