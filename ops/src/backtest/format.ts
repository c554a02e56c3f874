// Table, JSON and CSV output of backtest reports and comparisons.
import { formatDuration } from './duration.js';
import type { AlertReport, BacktestReport } from './backtest.js';

export type Format = 'table' | 'json' | 'csv';

const pct = (v: number | null | undefined): string => (v == null ? '' : `${(v * 100).toFixed(1)}%`);
const dur = (v: number | null | undefined): string =>
  v == null ? '' : (v < 0 ? '-' : '') + formatDuration(Math.abs(v));

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function csvCell(v: string | number | null | undefined): string {
  const s = v == null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(header: string[], rows: Array<Array<string | number | null | undefined>>): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n');
}

const COLUMNS = [
  'alert',
  'for',
  'keep_firing_for',
  'firings',
  'firing_time',
  'inhibited',
  'tills',
  'flapping_series',
];
const SCORE = ['matched', 'precision', 'recall', 'median_lead', 'caught_after_critical'];

/** Why a lead can be negative, printed under every scored table (issue 21: a bare "-15s" explains nothing). */
export const LEAD_NOTE =
  'lead = critical time (start of the first critical alert on the ticket) minus the first matching firing; ' +
  'negative = the alert fired only after the fault turned critical: a fault without a precursor is seen once ' +
  "its critical alert has held for its `for`, while Alertmanager's starts_at dates it from when the condition began";

export function formatReport(r: BacktestReport, format: Format): string {
  if (format === 'json') return JSON.stringify(r, null, 2);
  const scored = r.incidents !== undefined;
  const header = [...COLUMNS, ...(scored ? SCORE : []), 'error'];
  if (format === 'csv')
    return renderCsv(
      [
        ...header
          .slice(0, -1)
          .map((h) =>
            h === 'firing_time' ? 'firing_seconds' : h === 'median_lead' ? 'median_lead_seconds' : h,
          ),
        'error',
      ],
      r.alerts.map((a) => [
        a.alert,
        a.forMs / 1000,
        a.keepFiringForMs / 1000,
        a.firings,
        a.firingMs / 1000,
        a.inhibited,
        a.tills,
        a.flappingSeries,
        ...(scored
          ? [
              a.matched,
              a.precision ?? '',
              a.recall ?? '',
              a.medianLeadMs == null ? '' : a.medianLeadMs / 1000,
              a.caughtAfterCritical,
            ]
          : []),
        a.error ?? '',
      ]),
    );
  const rows = r.alerts.map((a: AlertReport) => [
    a.alert,
    dur(a.forMs),
    dur(a.keepFiringForMs),
    String(a.firings),
    dur(a.firingMs),
    String(a.inhibited),
    String(a.tills),
    String(a.flappingSeries),
    ...(scored
      ? [
          String(a.matched ?? ''),
          pct(a.precision),
          pct(a.recall),
          lead(a.medianLeadMs),
          String(a.caughtAfterCritical ?? ''),
        ]
      : []),
    a.error ?? '',
  ]);
  const s = r.summary;
  const lines = [
    `backtest ${r.from} .. ${r.to}, step ${dur(r.stepMs)}`,
    r.inhibition
      ? `inhibit rules: ${r.inhibition.rules} from ${r.inhibition.file ?? 'the given config'} (a firing muted for all but group_wait ${dur(r.inhibition.groupWaitMs)} is not notified)`
      : 'inhibit rules: none (give --alertmanager-config FILE): alerts Alertmanager would mute count as notified',
    ...(r.records.recorded.length + r.records.rebuilt.length
      ? [
          `recording rules: read from the history: ${r.records.recorded.join(', ') || 'none'}; rebuilt from their expressions: ${r.records.rebuilt.join(', ') || 'none'}`,
        ]
      : []),
    renderTable(header, rows),
    `firings ${s.firings} (${s.inhibited} muted by Alertmanager's inhibit rules${s.unrouted ? `, ${s.unrouted} routed to no notification` : ''}), tills affected ${s.tillsAffected}`,
  ];
  if (scored)
    lines.push(
      `incidents ${r.incidents!.length}, recall ${pct(s.recall)}, precision ${pct(s.precision)} of the notified firings, alerted before critical ${pct(s.alertedBeforeCritical)}, false alarms ${s.falseAlarms} (${s.falseAlarmsPer1000TillsPerDay == null ? '?' : s.falseAlarmsPer1000TillsPerDay.toFixed(3)} per 1,000 tills per day; inhibited firings and those routed to no notification are not counted)`,
      ...Object.entries(s.medianLeadMsByClass ?? {}).map(([c, v]) => `median lead ${c}: ${lead(v)}`),
      `alerted only after critical: ${s.alertedAfterCritical ?? 0} incidents${s.medianDelayAfterCriticalMs == null ? '' : `, median ${dur(s.medianDelayAfterCriticalMs)} after`}`,
      LEAD_NOTE,
    );
  return lines.join('\n');
}

/** A lead for people: "2d 4h" ahead, or "15s after critical". */
function lead(v: number | null | undefined): string {
  if (v == null) return '';
  return v < 0 ? `${formatDuration(-v)} after critical` : formatDuration(v);
}

export interface CompareRow {
  alert: string;
  status: 'same' | 'changed' | 'added' | 'removed';
  old?: AlertReport;
  new?: AlertReport;
}

export function compareReports(oldR: BacktestReport, newR: BacktestReport): CompareRow[] {
  const o = new Map(oldR.alerts.map((a) => [a.alert, a]));
  const n = new Map(newR.alerts.map((a) => [a.alert, a]));
  const names = [...new Set([...o.keys(), ...n.keys()])].sort();
  return names.map((alert) => {
    const a = o.get(alert);
    const b = n.get(alert);
    const status = !a
      ? 'added'
      : !b
        ? 'removed'
        : a.firings === b.firings && a.firingMs === b.firingMs && a.tills === b.tills && a.forMs === b.forMs
          ? 'same'
          : 'changed';
    return { alert, status, ...(a ? { old: a } : {}), ...(b ? { new: b } : {}) };
  });
}

export function formatCompare(rows: CompareRow[], format: Format): string {
  if (format === 'json') return JSON.stringify(rows, null, 2);
  const header = [
    'alert',
    'status',
    'firings_old',
    'firings_new',
    'firings_delta',
    'firing_time_old',
    'firing_time_new',
    'tills_old',
    'tills_new',
    'precision_old',
    'precision_new',
    'recall_old',
    'recall_new',
  ];
  const data = rows.map((r) => ({
    r,
    fo: r.old?.firings,
    fn: r.new?.firings,
    d: (r.new?.firings ?? 0) - (r.old?.firings ?? 0),
  }));
  if (format === 'csv')
    return renderCsv(
      header.map((h) => h.replace('firing_time', 'firing_seconds')),
      data.map(({ r, fo, fn, d }) => [
        r.alert,
        r.status,
        fo,
        fn,
        d,
        r.old ? r.old.firingMs / 1000 : '',
        r.new ? r.new.firingMs / 1000 : '',
        r.old?.tills,
        r.new?.tills,
        r.old?.precision ?? '',
        r.new?.precision ?? '',
        r.old?.recall ?? '',
        r.new?.recall ?? '',
      ]),
    );
  return renderTable(
    header,
    data.map(({ r, fo, fn, d }) => [
      r.alert,
      r.status,
      String(fo ?? ''),
      String(fn ?? ''),
      (d > 0 ? '+' : '') + String(d),
      r.old ? dur(r.old.firingMs) : '',
      r.new ? dur(r.new.firingMs) : '',
      String(r.old?.tills ?? ''),
      String(r.new?.tills ?? ''),
      pct(r.old?.precision),
      pct(r.new?.precision),
      pct(r.old?.recall),
      pct(r.new?.recall),
    ]),
  );
}
