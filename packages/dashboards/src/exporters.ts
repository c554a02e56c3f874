import type { Json } from './builder.js';
import {
  F,
  barGauge,
  dashboard,
  hierarchyVariables,
  linkOverrides,
  stat,
  table,
  tableColumns,
  timeseries,
} from './builder.js';

export function exportersDashboard(): Json {
  return dashboard({
    uid: 'tillwatch-exporters',
    title: 'TillWatch / Exporter fleet',
    description: 'Health of the monitoring itself: scrapes, collectors, exporter versions.',
    variables: hierarchyVariables(),
    panels: [
      stat({
        title: 'Exporters up',
        unit: 'percentunit',
        targets: [{ expr: `avg(up{till!="", ${F}})` }],
        thresholds: [
          [null, 'red'],
          [0.95, 'yellow'],
          [0.99, 'green'],
        ],
      }),
      stat({
        title: 'Exporters down',
        targets: [{ expr: `count(up{till!="", ${F}} == 0) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'red'],
        ],
      }),
      stat({
        title: 'Failing collectors',
        targets: [{ expr: `count(till_collector_success{${F}} == 0) or vector(0)` }],
        thresholds: [
          [null, 'green'],
          [1, 'orange'],
        ],
      }),
      stat({
        title: 'Slowest scrape',
        unit: 's',
        targets: [{ expr: `max(scrape_duration_seconds{till!="", ${F}})` }],
        thresholds: [
          [null, 'green'],
          [1, 'yellow'],
          [5, 'red'],
        ],
      }),
      stat({
        title: 'Series per till (max)',
        targets: [{ expr: `max(scrape_samples_scraped{till!="", ${F}})` }],
        thresholds: [[null, 'blue']],
      }),
      barGauge({
        title: 'Exporter versions',
        w: 4,
        h: 4,
        targets: [{ expr: `count by (version) (till_exporter_build_info{${F}})`, legend: '{{version}}' }],
      }),
      timeseries({
        title: 'Exporters up by region',
        unit: 'percentunit',
        max: 1,
        targets: [{ expr: `avg by (region) (up{till!="", ${F}})`, legend: '{{region}}' }],
      }),
      timeseries({
        title: 'Scrape duration quantiles',
        unit: 's',
        targets: [
          { expr: `quantile(0.5, scrape_duration_seconds{till!="", ${F}})`, legend: 'p50' },
          { expr: `quantile(0.99, scrape_duration_seconds{till!="", ${F}})`, legend: 'p99' },
          { expr: `max(scrape_duration_seconds{till!="", ${F}})`, legend: 'max' },
        ],
      }),
      timeseries({
        title: 'Collector success ratio',
        unit: 'percentunit',
        max: 1,
        targets: [{ expr: `avg by (collector) (till_collector_success{${F}})`, legend: '{{collector}}' }],
      }),
      timeseries({
        title: 'Collector duration (max over tills)',
        unit: 's',
        targets: [
          { expr: `max by (collector) (till_collector_duration_seconds{${F}})`, legend: '{{collector}}' },
        ],
      }),
      table({
        title: 'Exporters down',
        w: 12,
        targets: [{ expr: `up{till!="", ${F}} == 0` }],
        transformations: [tableColumns(['chain', 'region', 'store', 'till', 'instance'])],
        overrides: linkOverrides,
      }),
      table({
        title: 'Failing collectors',
        w: 12,
        targets: [
          {
            expr: `time() - till_collector_last_success_timestamp_seconds{${F}} and on (chain, region, store, till, collector) till_collector_success{${F}} == 0`,
          },
        ],
        transformations: [
          tableColumns(['chain', 'region', 'store', 'till', 'collector', 'Value'], {
            Value: 'since last success',
          }),
        ],
        overrides: [
          ...linkOverrides,
          {
            matcher: { id: 'byName', options: 'since last success' },
            properties: [{ id: 'unit', value: 's' }],
          },
        ],
      }),
    ],
  });
}
