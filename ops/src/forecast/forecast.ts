// `tillwatch forecast`: what planners need for the next weeks: FN replacements and UTM certificate
// renewals due per week and region (from the expiry timestamps in Prometheus), and failure rates per
// incident class and device model with the incidents and engineer hours to expect next month.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadYamlFile } from '@tillwatch/config';
import { queryRange } from '../backtest/prometheus.js';
import { simulateSeries } from '../backtest/simulate.js';
import type { Incident } from '../backtest/incidents.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

export interface DueRow {
  region: string;
  /** Start of the week (ISO date); "overdue" when the due date has already passed. */
  week: string;
  count: number;
}

export interface FailureRow {
  incidentClass: string;
  /** Device model of the till's fiscal registrar (till_fiscal_info), or "" when unknown. */
  model: string;
  incidents: number;
  tills: number;
  /** Incidents per till per 30 days over the history. */
  ratePerTillMonth: number | null;
  expectedNextMonth: number;
  expectedMinutes: number | null;
  engineerHours: number | null;
}

export interface Forecast {
  at: string;
  weeks: number;
  fnReplacements: DueRow[];
  certificateRenewals: DueRow[];
  failures: FailureRow[];
  failureSource: 'bridge' | 'alerts' | 'none';
  historyDays: number;
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
  /** incident_class -> expected minutes to fix, from the knowledge base cards. */
  expectedMinutes?: Map<string, number>;
}

type Vector = { metric: Record<string, string>; value: [number, string] }[];

async function instant(prometheus: string, query: string, atMs: number): Promise<Vector> {
  const res = await fetch(`${prometheus.replace(/\/$/, '')}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query, time: String(atMs / 1000) }),
  }).catch((err: Error) => {
    throw new Error(`${prometheus}: cannot connect: ${err.message}`);
  });
  const json = (await res.json().catch(() => undefined)) as
    { status: string; error?: string; data?: { result: Vector } } | undefined;
  if (!json || json.status !== 'success' || !json.data)
    throw new Error(`query ${query}: ${json?.error ?? `HTTP ${res.status}`}`);
  return json.data.result;
}

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

/**
 * Incidents from the ALERTS series when no ticket history is given: firing alerts of one till and class
 * that follow each other within a day (a 30-day warning, then the 7-day one...) count as one incident.
 */
export async function incidentsFromAlerts(
  prometheus: string,
  fromMs: number,
  toMs: number,
): Promise<Incident[]> {
  const step = Math.max(60_000, Math.ceil((toMs - fromMs) / 10_000 / 60_000) * 60_000);
  const series = await queryRange(
    prometheus,
    'max by (till, store, incident_class) (ALERTS{alertstate="firing", till!="", incident_class!=""})',
    fromMs,
    toMs,
    step,
  );
  const out: Incident[] = [];
  for (const s of series) {
    const eps = simulateSeries(s, {
      alert: 'ALERTS',
      forMs: 0,
      keepFiringForMs: DAY,
      fromMs,
      toMs,
      stepMs: step,
    });
    eps.forEach((e, n) =>
      out.push({
        id: `${s.labels.till}/${s.labels.incident_class}/${n}`,
        till: s.labels.till ?? '',
        ...(s.labels.store ? { store: s.labels.store } : {}),
        incidentClass: s.labels.incident_class ?? '',
        start: e.start,
        end: e.end,
      }),
    );
  }
  return out;
}

export async function forecast(o: ForecastOptions): Promise<Forecast> {
  const weeks = o.weeks ?? 13;
  const historyMs = o.historyMs ?? 90 * DAY;
  const fn = await instant(o.prometheus, 'till_fiscal_fn_expiry_timestamp_seconds', o.atMs);
  const certs = await instant(o.prometheus, 'till_utm_certificate_expiry_timestamp_seconds', o.atMs);
  const due = (v: Vector, windowMs: number) =>
    v.map((s) => ({ region: s.metric.region ?? '', dueMs: Number(s.value[1]) * 1000 - windowMs }));

  // Models and fleet size per model: the registrar model of each till.
  const info = await instant(o.prometheus, 'max by (till, model) (till_fiscal_info)', o.atMs);
  const modelOf = new Map(info.map((s) => [s.metric.till ?? '', s.metric.model ?? '']));
  const tillsPerModel = new Map<string, number>();
  for (const m of modelOf.values()) tillsPerModel.set(m, (tillsPerModel.get(m) ?? 0) + 1);

  const fromMs = o.atMs - historyMs;
  const source: Forecast['failureSource'] = o.incidents ? 'bridge' : 'alerts';
  const incidents = (o.incidents ?? (await incidentsFromAlerts(o.prometheus, fromMs, o.atMs))).filter(
    (i) => i.start >= fromMs && i.start <= o.atMs,
  );
  const groups = new Map<string, number>();
  for (const i of incidents) {
    const key = JSON.stringify([i.incidentClass, modelOf.get(i.till) ?? '']);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const months = historyMs / (30 * DAY);
  const failures = [...groups]
    .map(([key, n]): FailureRow => {
      const [incidentClass, model] = JSON.parse(key) as [string, string];
      const tills = tillsPerModel.get(model) ?? 0;
      const expectedNextMonth = n / months;
      const minutes = o.expectedMinutes?.get(incidentClass) ?? null;
      return {
        incidentClass,
        model,
        incidents: n,
        tills,
        ratePerTillMonth: tills ? expectedNextMonth / tills : null,
        expectedNextMonth,
        expectedMinutes: minutes,
        engineerHours: minutes === null ? null : (expectedNextMonth * minutes) / 60,
      };
    })
    .sort(
      (a, b) => b.expectedNextMonth - a.expectedNextMonth || (a.incidentClass < b.incidentClass ? -1 : 1),
    );

  return {
    at: new Date(o.atMs).toISOString(),
    weeks,
    fnReplacements: bucketDue(due(fn, o.fnWindowMs ?? 30 * DAY), o.atMs, weeks),
    certificateRenewals: bucketDue(due(certs, o.certWindowMs ?? 30 * DAY), o.atMs, weeks),
    failures,
    failureSource: source,
    historyDays: historyMs / DAY,
  };
}
