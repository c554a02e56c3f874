// `tillwatch forecast`: what planners need for the next weeks: FN replacements and UTM certificate
// renewals due per week and region (from the expiry timestamps in Prometheus), and failure rates per
// incident class and device model with the incidents and engineer hours to expect next month.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration, loadYamlFile } from '@tillwatch/config';
import { instantQuery, queryRange, type Vector } from '../backtest/prometheus.js';
import type { Incident, Place } from '../backtest/incidents.js';
import { PLACE_LEVELS } from '../backtest/incidents.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;

export interface DueRow {
  region: string;
  /** Start of the week (ISO date); "overdue" when the due date has already passed. */
  week: string;
  count: number;
}

export interface FailureRow {
  incidentClass: string;
  /** Device model of the till's fiscal registrar (till_fiscal_info), or "" when unknown or store-wide. */
  model: string;
  incidents: number;
  /** Tills of the model now. */
  tills: number;
  /** Incidents per till per 30 days, over the till-days the history really covers. */
  ratePerTillMonth: number | null;
  expectedNextMonth: number;
  expectedMinutes: number | null;
  engineerHours: number | null;
}

export interface HistoryCoverage {
  /** The history asked for (--history). */
  requestedMs: number;
  /** Where the data starts within it: the first step with tills reporting (or the first ticket). */
  from: string;
  /** How much of the requested history the rates are computed over. */
  coveredMs: number;
  /** Till-days observed per registrar model (the rates' denominators). */
  tillDaysByModel: Record<string, number>;
}

export interface Forecast {
  at: string;
  weeks: number;
  fnReplacements: DueRow[];
  certificateRenewals: DueRow[];
  failures: FailureRow[];
  failureSource: 'bridge' | 'alerts';
  history: HistoryCoverage;
  /** Reasons to read the figures with care (short history, retention...), one sentence each. */
  warnings: string[];
}

export interface ForecastOptions {
  prometheus: string;
  atMs: number;
  weeks?: number;
  /** FN replacement is due this long before expiry: the device's own 30-day warning. */
  fnWindowMs?: number;
  /** A certificate renewal is due this long before expiry (the 30-day alert of rules/integrations.yml). */
  certWindowMs?: number;
  historyMs?: number;
  /** Incidents from the bridge; without them, firing ALERTS in Prometheus over the history are used. */
  incidents?: Incident[];
  /** Scan of ALERTS: firings of one place and class that restart within this long are one incident. */
  reopenWindowMs?: number;
  /** Scan of ALERTS: the window width; every sample falls in exactly one window, so none is missed. */
  resolutionMs?: number;
  /** incident_class -> expected minutes to fix, from the knowledge base cards. */
  expectedMinutes?: Map<string, number>;
  /** Prometheus' retention, when known: a longer history than it keeps is warned about. */
  retentionMs?: number;
  /** Compute the failures section (default true); the FN and certificate tables do not need it. */
  failures?: boolean;
}

/** The default history; the shipped Prometheus keeps as much (scripts/stack/plan.ts). */
export const DEFAULT_HISTORY_MS = 90 * DAY;
/** The bridge's default tickets.reopen_window: a problem back within it reopens the same ticket. */
export const DEFAULT_REOPEN_WINDOW_MS = 3_600_000;
export const DEFAULT_RESOLUTION_MS = 60_000;
/** The failures section forecasts the next 30 days; a shorter history than that is warned about. */
export const FAILURE_HORIZON_MS = MONTH;

export function weekStart(atMs: number, k: number): string {
  return new Date(atMs + k * WEEK).toISOString().slice(0, 10);
}

/** Buckets due dates into the weeks from atMs; past due dates go to "overdue", later ones are dropped. */
export function bucketDue(items: { region: string; dueMs: number }[], atMs: number, weeks: number): DueRow[] {
  const counts = new Map<string, number>();
  for (const { region, dueMs } of items) {
    const k = Math.floor((dueMs - atMs) / WEEK);
    if (k >= weeks) continue;
    const key = JSON.stringify([region, k < 0 ? 'overdue' : weekStart(atMs, k)]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .map(([key, count]) => {
      const [region, week] = JSON.parse(key) as [string, string];
      return { region, week, count };
    })
    .sort((a, b) =>
      a.region === b.region
        ? a.week === 'overdue'
          ? -1
          : b.week === 'overdue'
            ? 1
            : a.week < b.week
              ? -1
              : 1
        : a.region < b.region
          ? -1
          : 1,
    );
}

/** A diagnostic card as read here: only the fields ops uses, unchecked (the bridge validates cards). */
export interface CardFields {
  incident_class?: unknown;
  expected_minutes?: unknown;
  ru?: { short?: unknown };
  en?: { short?: unknown };
}

/** The diagnostic cards (alert-bridge/knowledge-base/*.yml), each with the file it came from. */
export function loadCards(dir: string): Array<{ file: string; card: CardFields }> {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort();
  } catch {
    throw new Error(`${dir}: knowledge base directory not found`);
  }
  return files.map((f) => ({
    file: join(dir, f),
    card: (loadYamlFile(join(dir, f)) as CardFields | null) ?? {},
  }));
}

/** incident_class -> expected_minutes from the diagnostic cards (alert-bridge/knowledge-base/*.yml). */
export function loadExpectedMinutes(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const { card } of loadCards(dir))
    if (typeof card.incident_class === 'string' && typeof card.expected_minutes === 'number')
      out.set(card.incident_class, card.expected_minutes);
  return out;
}

/** The labels an incident is keyed by: the bridge's ticket key (place levels and incident_class). */
const KEY_LABELS = [...PLACE_LEVELS, 'incident_class'].join(', ');

/**
 * Incidents from the ALERTS series when no ticket history is given, counted the way the bridge makes
 * tickets: one per place (chain, region, store, till, device) and incident class, where a firing that
 * comes back within `reopenWindowMs` of the previous one's end is the same incident (the 30-, 7- and 3-day FN
 * warnings are one replacement).
 *
 * A coarse query_range samples ALERTS at its step and misses firings shorter than it. Here windows of
 * `resolutionMs` tile the history and max_over_time sees every sample in its window, so a firing of a
 * single evaluation still shows; onsets (a window with firing samples after one without) and ends are
 * computed by Prometheus, so only the changes travel, whatever the history length.
 */
export async function incidentsFromAlerts(
  prometheus: string,
  fromMs: number,
  toMs: number,
  o: { resolutionMs?: number; reopenWindowMs?: number } = {},
): Promise<Incident[]> {
  const w = o.resolutionMs ?? DEFAULT_RESOLUTION_MS;
  const reopen = o.reopenWindowMs ?? DEFAULT_REOPEN_WINDOW_MS;
  const win = `${w / 1000}s`;
  const active = (offset: string) =>
    `max by (${KEY_LABELS}) (max_over_time(ALERTS{alertstate="firing", incident_class!=""}[${win}]${offset}))`;
  const now = active('');
  const before = active(` offset ${win}`);
  const first = Math.ceil(fromMs / w) * w;
  const [onsets, ends, initial] = await Promise.all([
    queryRange(prometheus, `${now} unless ${before}`, first, toMs, w),
    queryRange(prometheus, `${before} unless ${now}`, first, toMs, w),
    instantQuery(prometheus, now, first - w),
  ]);
  const key = (labels: Record<string, string>) =>
    JSON.stringify(KEY_LABELS.split(', ').map((k) => labels[k] ?? ''));
  type Edge = { t: number; kind: 'on' | 'off' };
  const edges = new Map<string, { labels: Record<string, string>; list: Edge[]; activeAtStart: boolean }>();
  const entry = (labels: Record<string, string>) => {
    const k = key(labels);
    let e = edges.get(k);
    if (!e) edges.set(k, (e = { labels, list: [], activeAtStart: false }));
    return e;
  };
  // A window with an onset starts one window before the evaluation that reports it.
  for (const s of onsets) entry(s.labels).list.push(...s.times.map((t): Edge => ({ t: t - w, kind: 'on' })));
  for (const s of ends) entry(s.labels).list.push(...s.times.map((t): Edge => ({ t: t - w, kind: 'off' })));
  for (const s of initial) entry(s.metric).activeAtStart = true;

  const out: Incident[] = [];
  for (const { labels, list, activeAtStart } of edges.values()) {
    list.sort((a, b) => a.t - b.t || (a.kind === 'off' ? -1 : 1));
    // Walk the firings; `start` is the open incident's start (-Infinity: began before the history).
    let start: number | undefined = activeAtStart ? -Infinity : undefined;
    let lastEnd: number | undefined;
    let n = 0;
    const close = (end: number | undefined) => {
      if (start !== undefined && start >= fromMs) {
        const place: Place = {};
        for (const l of PLACE_LEVELS) if (labels[l]) place[l] = labels[l];
        out.push({
          id: `${key(labels)}#${n++}`,
          ...place,
          incidentClass: labels.incident_class ?? '',
          start,
          ...(end !== undefined ? { end } : {}),
        });
      }
    };
    let firing = activeAtStart;
    for (const e of list) {
      if (e.kind === 'on' && !firing) {
        firing = true;
        if (start === undefined || lastEnd === undefined || e.t - lastEnd > reopen) {
          if (start !== undefined) close(lastEnd);
          start = e.t;
        }
      } else if (e.kind === 'off' && firing) {
        firing = false;
        lastEnd = e.t;
      }
    }
    close(firing ? undefined : lastEnd);
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Till-days per registrar model over [fromMs, atMs]: the count of tills reporting till_fiscal_info at each
 * step, times the step. Also where the data starts: a history shorter than asked (a new install, a
 * shorter retention) must shorten the denominator, not dilute the rates.
 */
async function exposure(
  prometheus: string,
  fromMs: number,
  atMs: number,
): Promise<{ startMs: number | undefined; tillDays: Map<string, number> }> {
  const perModel = async (from: number) => {
    const step = Math.max(60_000, Math.ceil((atMs - from) / 2000 / 60_000) * 60_000);
    const series = await queryRange(
      prometheus,
      'count by (model) (max by (till, model) (till_fiscal_info))',
      Math.ceil(from / step) * step,
      atMs,
      step,
    );
    const tillDays = new Map<string, number>();
    let first: number | undefined;
    for (const s of series) {
      tillDays.set(s.labels.model ?? '', s.values.reduce((a, v) => a + v, 0) * (step / DAY));
      if (s.times.length) first = Math.min(first ?? Infinity, s.times[0]!);
    }
    return { step, first, tillDays };
  };
  const coarse = await perModel(fromMs);
  if (coarse.first === undefined) return { startMs: undefined, tillDays: coarse.tillDays };
  if (coarse.first - coarse.step < fromMs) return { startMs: fromMs, tillDays: coarse.tillDays };
  // The data starts within the step before the first point that has it: find the minute, then sum the
  // till-days again at a step fitted to the shorter span.
  const fine = await queryRange(
    prometheus,
    'count(till_fiscal_info)',
    coarse.first - coarse.step,
    coarse.first,
    60_000,
  );
  const startMs = Math.min(coarse.first, ...fine.flatMap((s) => s.times.slice(0, 1)));
  return { startMs, tillDays: (await perModel(startMs)).tillDays };
}

export async function forecast(o: ForecastOptions): Promise<Forecast> {
  const weeks = o.weeks ?? 13;
  const historyMs = o.historyMs ?? DEFAULT_HISTORY_MS;
  const warnings: string[] = [];
  const fn = await instantQuery(o.prometheus, 'till_fiscal_fn_expiry_timestamp_seconds', o.atMs);
  const certs = await instantQuery(o.prometheus, 'till_utm_certificate_expiry_timestamp_seconds', o.atMs);
  const due = (v: Vector, windowMs: number) =>
    v.map((s) => ({ region: s.metric.region ?? '', dueMs: Number(s.value[1]) * 1000 - windowMs }));

  // Models and fleet size per model now: the registrar model of each till.
  const info = await instantQuery(o.prometheus, 'max by (till, model) (till_fiscal_info)', o.atMs);
  const modelOf = new Map(info.map((s) => [s.metric.till ?? '', s.metric.model ?? '']));
  const tillsPerModel = new Map<string, number>();
  for (const m of modelOf.values()) tillsPerModel.set(m, (tillsPerModel.get(m) ?? 0) + 1);

  const fromMs = o.atMs - historyMs;
  const history: HistoryCoverage = {
    requestedMs: historyMs,
    from: new Date(fromMs).toISOString(),
    coveredMs: 0,
    tillDaysByModel: {},
  };
  const result = {
    at: new Date(o.atMs).toISOString(),
    weeks,
    fnReplacements: bucketDue(due(fn, o.fnWindowMs ?? 30 * DAY), o.atMs, weeks),
    certificateRenewals: bucketDue(due(certs, o.certWindowMs ?? 30 * DAY), o.atMs, weeks),
    failures: [] as FailureRow[],
    failureSource: (o.incidents ? 'bridge' : 'alerts') as Forecast['failureSource'],
    history,
    warnings,
  };
  if (o.failures === false) return result;
  if (o.retentionMs !== undefined && o.retentionMs > 0 && historyMs > o.retentionMs)
    warnings.push(
      `the history asked (${formatDuration(historyMs)}) is longer than Prometheus keeps (--storage.tsdb.retention.time ${formatDuration(o.retentionMs)})`,
    );
  const incidents = (
    o.incidents ??
    (await incidentsFromAlerts(o.prometheus, fromMs, o.atMs, {
      ...(o.resolutionMs !== undefined ? { resolutionMs: o.resolutionMs } : {}),
      ...(o.reopenWindowMs !== undefined ? { reopenWindowMs: o.reopenWindowMs } : {}),
    }))
  ).filter((i) => i.start >= fromMs && i.start <= o.atMs);

  const exp = await exposure(o.prometheus, fromMs, o.atMs);
  // The bridge may remember further back than Prometheus keeps: its first ticket then starts the history.
  const firstTicket = o.incidents?.length ? Math.min(...incidents.map((i) => i.start)) : undefined;
  const startMs = Math.max(fromMs, Math.min(exp.startMs ?? o.atMs, firstTicket ?? o.atMs));
  const coveredMs = o.atMs - startMs;
  if (coveredMs <= 0) warnings.push(`no data in the last ${formatDuration(historyMs)}: no failure rates`);
  else if (coveredMs < historyMs - DAY)
    warnings.push(
      `data covers only ${formatDuration(coveredMs)} of the ${formatDuration(historyMs)} asked (from ${new Date(startMs).toISOString()}): rates are per the time covered`,
    );
  if (coveredMs > 0 && coveredMs < FAILURE_HORIZON_MS)
    warnings.push(
      `${formatDuration(coveredMs)} of history is short for a forecast of the next ${formatDuration(FAILURE_HORIZON_MS)}: rare failures are missed and one incident weighs ${(FAILURE_HORIZON_MS / coveredMs).toFixed(1)}x`,
    );
  // Till-days before Prometheus' first data (when the bridge remembers more) count at the first fleet size.
  const tillDays = new Map(exp.tillDays);
  if (exp.startMs !== undefined && startMs < exp.startMs)
    for (const [m, d] of tillDays) {
      const perDay = d / Math.max((o.atMs - exp.startMs) / DAY, 1e-9);
      tillDays.set(m, d + perDay * ((exp.startMs - startMs) / DAY));
    }

  const groups = new Map<string, number>();
  for (const i of incidents) {
    const k = JSON.stringify([i.incidentClass, i.till ? (modelOf.get(i.till) ?? '') : '']);
    groups.set(k, (groups.get(k) ?? 0) + 1);
  }
  const months = coveredMs / MONTH;
  const failures = [...groups]
    .map(([k, n]): FailureRow => {
      const [incidentClass, model] = JSON.parse(k) as [string, string];
      const tills = model ? (tillsPerModel.get(model) ?? 0) : 0;
      const tillMonths = model ? (tillDays.get(model) ?? 0) / 30 : 0;
      const rate = tillMonths > 0 ? n / tillMonths : null;
      // Per till when the model's exposure is known; otherwise (store-wide, unknown model) per month.
      const expectedNextMonth = rate !== null && tills > 0 ? rate * tills : months > 0 ? n / months : 0;
      const minutes = o.expectedMinutes?.get(incidentClass) ?? null;
      return {
        incidentClass,
        model,
        incidents: n,
        tills,
        ratePerTillMonth: rate,
        expectedNextMonth,
        expectedMinutes: minutes,
        engineerHours: minutes === null ? null : (expectedNextMonth * minutes) / 60,
      };
    })
    .sort(
      (a, b) => b.expectedNextMonth - a.expectedNextMonth || (a.incidentClass < b.incidentClass ? -1 : 1),
    );
  if (o.expectedMinutes) {
    const missing = [
      ...new Set(failures.filter((f) => f.expectedMinutes === null).map((f) => f.incidentClass)),
    ];
    if (missing.length)
      warnings.push(
        `no expected_minutes in the knowledge base for ${missing.join(', ')}: their engineer hours are left out of the total`,
      );
  }

  Object.assign(history, {
    from: new Date(startMs).toISOString(),
    coveredMs,
    tillDaysByModel: Object.fromEntries(tillDays),
  });
  return { ...result, failures };
}
