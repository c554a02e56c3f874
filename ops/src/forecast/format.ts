// Forecast output: wide tables for people, long CSV rows for planners' spreadsheets.
import { formatDuration } from '@tillwatch/config';
import { renderCsv, renderTable } from '../backtest/format.js';
import type { Format } from '../backtest/format.js';
import type { DueRow, Forecast } from './forecast.js';
import { weekStart } from './forecast.js';

export type Section = 'fn' | 'certs' | 'failures';

function dueTable(title: string, rows: DueRow[], f: Forecast): string {
  const atMs = Date.parse(f.at);
  const weeks = Array.from({ length: f.weeks }, (_, k) => weekStart(atMs, k));
  const regions = [...new Set(rows.map((r) => r.region))].sort();
  const cell = (region: string, week: string) =>
    rows.find((r) => r.region === region && r.week === week)?.count ?? 0;
  const body = [...regions, 'total'].map((region) => {
    const counts = ['overdue', ...weeks].map((w) =>
      region === 'total'
        ? rows.filter((r) => r.week === w).reduce((s, r) => s + r.count, 0)
        : cell(region, w),
    );
    return [region || '(none)', ...counts.map(String), String(counts.reduce((a, b) => a + b, 0))];
  });
  return `${title}\n${renderTable(['region', 'overdue', ...weeks.map((w) => w.slice(5)), 'total'], body)}`;
}

const num = (v: number | null, d = 2) => (v === null ? '' : v.toFixed(d));

export function formatForecast(f: Forecast, format: Format, section?: Section): string {
  if (format === 'json') {
    const { fnReplacements, certificateRenewals, failures, ...meta } = f;
    if (section === 'fn') return JSON.stringify({ ...meta, fnReplacements }, null, 2);
    if (section === 'certs') return JSON.stringify({ ...meta, certificateRenewals }, null, 2);
    if (section === 'failures') return JSON.stringify({ ...meta, failures }, null, 2);
    return JSON.stringify(f, null, 2);
  }
  if (format === 'csv') {
    if (section === 'failures')
      return renderCsv(
        [
          'incident_class',
          'model',
          'incidents',
          'tills',
          'rate_per_till_month',
          'expected_next_month',
          'expected_minutes',
          'engineer_hours',
        ],
        f.failures.map((r) => [
          r.incidentClass,
          r.model,
          r.incidents,
          r.tills,
          num(r.ratePerTillMonth, 4),
          num(r.expectedNextMonth),
          r.expectedMinutes,
          num(r.engineerHours),
        ]),
      );
    const rows = section === 'certs' ? f.certificateRenewals : f.fnReplacements;
    return renderCsv(
      ['region', 'week_start', 'due'],
      rows.map((r) => [r.region, r.week, r.count]),
    );
  }
  const parts: string[] = [`forecast at ${f.at}, ${f.weeks} weeks`];
  if (!section || section === 'fn')
    parts.push(
      dueTable('FN replacements due (30 days before expiry), per week starting', f.fnReplacements, f),
    );
  if (!section || section === 'certs')
    parts.push(dueTable('UTM certificate renewals due, per week starting', f.certificateRenewals, f));
  if (!section || section === 'failures') {
    const total = f.failures.reduce((s, r) => s + (r.engineerHours ?? 0), 0);
    const h = f.history;
    const covered =
      h.coveredMs < h.requestedMs
        ? `the last ${formatDuration(h.requestedMs)}, of which data covers ${formatDuration(h.coveredMs)} (from ${h.from})`
        : `the last ${formatDuration(h.requestedMs)}`;
    parts.push(
      `Failures over ${covered}, from ${f.failureSource === 'bridge' ? 'bridge tickets' : 'ALERTS'}, and next month\n` +
        renderTable(
          [
            'incident_class',
            'model',
            'incidents',
            'tills',
            'per_till_month',
            'expected_next_month',
            'minutes_each',
            'engineer_hours',
          ],
          f.failures.map((r) => [
            r.incidentClass,
            r.model || '(unknown)',
            String(r.incidents),
            String(r.tills),
            num(r.ratePerTillMonth, 4),
            num(r.expectedNextMonth),
            r.expectedMinutes === null ? '' : String(r.expectedMinutes),
            num(r.engineerHours),
          ]),
        ) +
        `\nengineer hours next month: ${total.toFixed(1)}`,
    );
  }
  return parts.join('\n\n');
}
