import type { Json, Panel } from './builder.js';
import {
  F,
  dashboard,
  hierarchyVariables,
  row,
  stat,
  stateTimeline,
  table,
  tableColumns,
  timeseries,
} from './builder.js';
import { ageSeconds, daysLeft } from './exprs.js';

const bool = (zero: string, one: string, zeroColor: string, oneColor: string) => [
  { type: 'value', options: { '0': { text: zero, color: zeroColor }, '1': { text: one, color: oneColor } } },
];
const upDown = bool('down', 'up', 'red', 'green');

function flag(title: string, metric: string, zero: [string, string], one: [string, string]): Panel {
  return stat({
    title,
    w: 4,
    h: 3,
    targets: [{ expr: `max(${metric}{${F}})`, legend: title }],
    mappings: bool(zero[0], one[0], zero[1], one[1]),
    noValue: 'n/a',
  });
}

export function tillDashboard(): Json {
  return dashboard({
    uid: 'tillwatch-till',
    title: 'TillWatch / Till',
    description: 'One till: every configured device with its metrics, the host, and the exporter itself.',
    variables: hierarchyVariables({ single: ['store', 'till'] }),
    panels: [
      row('Overview'),
      stat({
        title: 'Exporter',
        w: 4,
        h: 3,
        targets: [{ expr: `max(up{till!="", ${F}})` }],
        mappings: upDown,
        noValue: 'not scraped',
      }),
      stat({
        title: 'Devices down',
        w: 4,
        h: 3,
        targets: [{ expr: `count(till_device_up{${F}} == 0) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      stat({
        title: 'Firing alerts',
        w: 4,
        h: 3,
        targets: [{ expr: `count(ALERTS{alertstate="firing", ${F}}) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      stat({
        title: 'Uptime',
        w: 4,
        h: 3,
        unit: 's',
        targets: [{ expr: `time() - max(till_boot_time_seconds{${F}})` }],
        thresholds: [[null, 'blue']],
      }),
      table({
        title: 'Identity',
        w: 8,
        h: 3,
        targets: [{ expr: `till_info{${F}}` }],
        transformations: [tableColumns(['till', 'store', 'os'])],
      }),
      table({
        title: 'Devices',
        description: 'Every configured device: answering (up) and enumerated by the OS (present).',
        w: 12,
        targets: [
          { expr: `max by (device, kind) (till_device_up{${F}})` },
          { expr: `max by (device, kind) (till_device_present{${F}})` },
        ],
        transformations: [
          { id: 'merge', options: {} },
          tableColumns(['device', 'kind', 'Value #A', 'Value #B'], {
            'Value #A': 'up',
            'Value #B': 'present',
          }),
        ],
        overrides: ['up', 'present'].map((name) => ({
          matcher: { id: 'byName', options: name },
          properties: [
            { id: 'mappings', value: upDown },
            { id: 'custom.cellOptions', value: { type: 'color-background' } },
          ],
        })),
      }),
      table({
        title: 'Firing alerts',
        w: 12,
        targets: [{ expr: `ALERTS{alertstate="firing", ${F}}` }],
        transformations: [tableColumns(['alertname', 'severity', 'device'])],
      }),
      stateTimeline({
        title: 'Devices up',
        w: 24,
        h: 6,
        targets: [{ expr: `till_device_up{${F}}`, legend: '{{device}}' }],
        mappings: upDown,
        thresholds: [
          [null, 'red'],
          [1, 'green'],
        ],
      }),

      row('Fiscal registrar'),
      table({
        title: 'Registrar',
        h: 4,
        targets: [{ expr: `till_fiscal_info{${F}}` }],
        transformations: [tableColumns(['device', 'driver', 'model', 'serial', 'fn_serial', 'firmware'])],
      }),
      flag('Paper', 'till_fiscal_paper_present', ['out', 'red'], ['present', 'green']),
      flag('Cover', 'till_fiscal_cover_open', ['closed', 'green'], ['open', 'red']),
      flag('Cash drawer', 'till_fiscal_drawer_open', ['closed', 'green'], ['open', 'yellow']),
      flag('Shift', 'till_fiscal_shift_open', ['closed', 'blue'], ['open', 'green']),
      flag('Shift over 24 h', 'till_fiscal_shift_expired', ['no', 'green'], ['expired', 'red']),
      flag('OFD link', 'till_fiscal_ofd_connected', ['down', 'red'], ['up', 'green']),
      stat({
        title: 'FN days left',
        w: 4,
        targets: [{ expr: `min(${daysLeft('till_fiscal_fn_expiry_timestamp_seconds')})` }],
        decimals: 0,
        thresholds: [
          [null, 'red'],
          [3, 'orange'],
          [30, 'yellow'],
          [60, 'green'],
        ],
      }),
      stat({
        title: 'FN documents remaining',
        w: 4,
        targets: [{ expr: `min(till_fiscal_fn_documents_remaining{${F}})` }],
        thresholds: [
          [null, 'red'],
          [1000, 'yellow'],
          [10000, 'green'],
        ],
      }),
      stat({
        title: 'Shift age',
        w: 4,
        unit: 's',
        targets: [{ expr: `max(${ageSeconds('till_fiscal_shift_opened_timestamp_seconds')})` }],
        thresholds: [
          [null, 'green'],
          [20 * 3600, 'yellow'],
          [24 * 3600, 'red'],
        ],
        noValue: 'no shift',
      }),
      stat({
        title: 'Oldest unsent OFD document',
        w: 4,
        unit: 's',
        targets: [{ expr: `max(${ageSeconds('till_fiscal_ofd_oldest_unsent_timestamp_seconds')})` }],
        thresholds: [
          [null, 'green'],
          [86400, 'yellow'],
          [7 * 86400, 'red'],
        ],
        noValue: 'none unsent',
      }),
      stat({
        title: 'Last error code',
        w: 4,
        targets: [{ expr: `max(till_fiscal_last_error_code{${F}})` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
        options: { textMode: 'value' },
      }),
      stat({
        title: 'FN warnings raised',
        w: 4,
        targets: [{ expr: `sum(till_fiscal_fn_warning{${F}})` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stateTimeline({
        title: 'FN warnings',
        targets: [{ expr: `till_fiscal_fn_warning{${F}}`, legend: '{{device}} {{warning}}' }],
        mappings: bool('off', 'raised', 'green', 'red'),
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      timeseries({
        title: 'OFD unsent documents',
        targets: [{ expr: `till_fiscal_ofd_unsent_documents{${F}}`, legend: '{{device}}' }],
      }),
      timeseries({
        title: 'Clock offsets',
        description: 'The FN rejects documents more than 5 minutes off its timer.',
        unit: 's',
        targets: [
          { expr: `till_fiscal_clock_offset_seconds{${F}}`, legend: 'registrar − host ({{device}})' },
          { expr: `till_clock_offset_seconds{${F}}`, legend: 'host − NTP' },
        ],
      }),
      timeseries({
        title: 'Registrar exchange errors',
        unit: 'ops',
        targets: [
          {
            expr: `sum by (device, reason) (rate(till_fiscal_errors_total{${F}}[$__rate_interval]))`,
            legend: '{{device}} {{reason}}',
          },
        ],
      }),

      row('EGAIS UTM'),
      table({
        title: 'UTM',
        w: 8,
        h: 6,
        targets: [{ expr: `till_utm_info{${F}}` }],
        transformations: [tableColumns(['device', 'version', 'fsrar_id'])],
      }),
      barGauge_days(
        'UTM certificates: days left',
        `${daysLeft('till_utm_certificate_expiry_timestamp_seconds')}`,
        '{{device}} {{certificate}}',
      ),
      stat({
        title: 'Oldest unsent UTM receipt',
        w: 8,
        h: 6,
        unit: 's',
        targets: [{ expr: `max(${ageSeconds('till_utm_oldest_unsent_receipt_timestamp_seconds')})` }],
        thresholds: [
          [null, 'green'],
          [3600, 'yellow'],
          [86400, 'red'],
        ],
        noValue: 'none unsent',
      }),

      row('Честный знак local module'),
      table({
        title: 'Marking module',
        w: 8,
        h: 6,
        targets: [{ expr: `till_marking_info{${F}}` }],
        transformations: [tableColumns(['device', 'version'])],
      }),
      stateTimeline({
        title: 'Marking module status',
        w: 8,
        h: 6,
        targets: [
          { expr: `till_marking_status{${F}} == 1`, legend: '{{status}}' },
          { expr: `till_marking_requires_download{${F}} == 1`, legend: 'requires download' },
        ],
      }),
      stat({
        title: 'Since last marking sync',
        w: 8,
        h: 6,
        unit: 's',
        targets: [{ expr: `max(${ageSeconds('till_marking_last_sync_timestamp_seconds')})` }],
        thresholds: [
          [null, 'green'],
          [6 * 3600, 'yellow'],
          [86400, 'red'],
        ],
      }),

      row('Host'),
      timeseries({
        title: 'CPU',
        w: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [{ expr: `till_cpu_usage_ratio{${F}}`, legend: 'busy' }],
      }),
      timeseries({
        title: 'Memory available',
        w: 8,
        unit: 'bytes',
        targets: [
          { expr: `till_memory_available_bytes{${F}}`, legend: 'available' },
          { expr: `till_memory_total_bytes{${F}}`, legend: 'total' },
        ],
      }),
      timeseries({
        title: 'Filesystem space available',
        w: 8,
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [
          {
            expr: `till_filesystem_avail_bytes{${F}} / till_filesystem_size_bytes{${F}}`,
            legend: '{{mountpoint}}',
          },
          // The folders the till's cleanup empties (the exporter's `disposable`): the disk forecasts do not
          // count their growth as a fill, so a disk falling while they grow is not warned.
          {
            expr: `till_disposable_bytes{${F}} / ignoring (name) group_left till_filesystem_size_bytes{${F}}`,
            legend: '{{mountpoint}} {{name}}: deleted by its cleanup',
          },
        ],
      }),
      timeseries({
        title: 'Temperatures',
        w: 8,
        unit: 'celsius',
        targets: [{ expr: `till_temperature_celsius{${F}}`, legend: '{{sensor}}' }],
      }),
      stateTimeline({
        title: 'NTP answered',
        w: 8,
        targets: [{ expr: `till_clock_sync_success{${F}}`, legend: 'NTP' }],
        mappings: bool('no', 'yes', 'red', 'green'),
      }),
      stateTimeline({
        title: 'Network probes',
        w: 8,
        targets: [{ expr: `till_probe_success{${F}}`, legend: '{{kind}} {{probe}}' }],
        mappings: bool('failed', 'ok', 'red', 'green'),
      }),
      timeseries({
        title: 'Probe durations',
        w: 12,
        unit: 's',
        targets: [{ expr: `till_probe_duration_seconds{${F}}`, legend: '{{kind}} {{probe}}' }],
      }),
      barGauge_days(
        'TLS certificates of probed services: days left',
        daysLeft('till_probe_tls_cert_expiry_timestamp_seconds'),
        '{{probe}}',
        12,
      ),

      row('Software'),
      stateTimeline({
        title: 'Processes running',
        w: 12,
        targets: [{ expr: `till_process_up{${F}}`, legend: '{{process}}' }],
        mappings: bool('not running', 'running', 'red', 'green'),
      }),
      timeseries({
        title: 'Process restarts',
        w: 12,
        targets: [
          {
            expr: `sum by (process) (increase(till_process_restarts_total{${F}}[$__rate_interval]))`,
            legend: '{{process}}',
          },
        ],
      }),
      timeseries({
        title: 'Process resident memory',
        w: 12,
        unit: 'bytes',
        targets: [{ expr: `till_process_resident_memory_bytes{${F}}`, legend: '{{process}}' }],
      }),
      timeseries({
        title: 'Log pattern matches',
        w: 12,
        unit: 'short',
        targets: [
          {
            expr: `sum by (log, pattern) (increase(till_log_matches_total{${F}}[$__rate_interval]))`,
            legend: '{{log}}: {{pattern}}',
          },
        ],
      }),

      row('Exporter'),
      stateTimeline({
        title: 'Collectors succeeding',
        w: 12,
        targets: [{ expr: `till_collector_success{${F}}`, legend: '{{collector}}' }],
        mappings: bool('failing', 'ok', 'red', 'green'),
      }),
      timeseries({
        title: 'Collector durations',
        w: 12,
        unit: 's',
        targets: [{ expr: `till_collector_duration_seconds{${F}}`, legend: '{{collector}}' }],
      }),
    ],
  });
}

function barGauge_days(title: string, expr: string, legend: string, w = 8): Panel {
  return {
    ...stat({
      title,
      w,
      h: 6,
      targets: [{ expr, legend }],
      decimals: 0,
      thresholds: [
        [null, 'red'],
        [14, 'orange'],
        [30, 'yellow'],
        [60, 'green'],
      ],
    }),
    type: 'bargauge',
    options: {
      reduceOptions: { values: false, calcs: ['lastNotNull'], fields: '' },
      orientation: 'horizontal',
      displayMode: 'basic',
      showUnfilled: true,
    },
  };
}
