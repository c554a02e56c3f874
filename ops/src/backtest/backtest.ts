// `tillwatch backtest`: what a set of alerting rules would have done over a stretch of history.
import type { AlertRule } from './rules.js';
import { queryRange } from './prometheus.js';
import { isFlapping, simulateSeries } from './simulate.js';
import type { Episode } from './simulate.js';
import type { Incident } from './incidents.js';

export interface BacktestOptions {
  prometheus: string;
  fromMs: number;
  toMs: number;
  stepMs: number;
  incidents?: Incident[];
  /** How long before an incident an alert may start and still count as its warning. */
  matchWindowMs?: number;
  flapCount?: number;
  flapWindowMs?: number;
  /** Fleet size for false alarms per 1,000 tills per day; defaults to the tills seen in `up`. */
  tills?: number;
  concurrency?: number;
}

export interface AlertReport {
  alert: string;
  file: string;
  forMs: number;
  keepFiringForMs: number;
  incidentClass: string;
  firings: number;
  firingMs: number;
  tills: number;
  flappingSeries: number;
  /** With incidents: firings matched to an incident, firings / matched, incidents of the class it caught. */
  matched?: number;
  precision?: number | null;
  recall?: number | null;
  medianLeadMs?: number | null;
  error?: string;
}

export interface IncidentResult {
  incident: Incident;
  /** Earliest start among the matched firings. */
  firstAlertAt?: number;
  firstAlert?: string;
  /** criticalAt minus firstAlertAt; positive means the alert came first. */
  leadMs?: number;
}

export interface BacktestReport {
  from: string;
  to: string;
  stepMs: number;
  alerts: AlertReport[];
  episodes: Episode[];
  incidents?: IncidentResult[];
  summary: {
    firings: number;
    tillsAffected: number;
    matchedFirings?: number;
    falseAlarms?: number;
    falseAlarmsPer1000TillsPerDay?: number | null;
    precision?: number | null;
    recall?: number | null;
    alertedBeforeCritical?: number | null;
    medianLeadMsByClass?: Record<string, number | null>;
    fleetTills?: number;
  };
}

export const DEFAULT_MATCH_WINDOW_MS = 62 * 86_400_000;

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** An alert firing matches an incident on the same till and class that it overlaps or precedes. */
export function matches(e: Episode, i: Incident, windowMs: number): boolean {
  if (e.labels.till !== i.till || e.labels.incident_class !== i.incidentClass) return false;
  if (i.store && e.labels.store && e.labels.store !== i.store) return false;
  const ref = Math.min(i.start, i.criticalAt ?? i.start);
  return e.start <= (i.end ?? Infinity) && e.end >= ref - windowMs;
}

async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const k = next++;
        out[k] = await fn(items[k]!);
      }
    }),
  );
  return out;
}

export async function backtest(rules: AlertRule[], o: BacktestOptions): Promise<BacktestReport> {
  const window = o.matchWindowMs ?? DEFAULT_MATCH_WINDOW_MS;
  const flapCount = o.flapCount ?? 3;
  const flapWindow = o.flapWindowMs ?? 3_600_000;
  const perRule = await pool(rules, o.concurrency ?? 4, async (rule) => {
    try {
      const series = await queryRange(o.prometheus, rule.expr, o.fromMs, o.toMs, o.stepMs);
      const bySeries = series.map((s) =>
        simulateSeries(s, {
          alert: rule.name,
          forMs: rule.forMs,
          keepFiringForMs: rule.keepFiringForMs,
          fromMs: o.fromMs,
          toMs: o.toMs,
          stepMs: o.stepMs,
          ruleLabels: rule.labels,
        }),
      );
      return { rule, bySeries, error: undefined };
    } catch (err) {
      return { rule, bySeries: [] as Episode[][], error: (err as Error).message };
    }
  });

  const incidents = o.incidents;
  const episodes = perRule.flatMap((r) => r.bySeries.flat());
  const matchedEpisodes = new Set<Episode>();
  const incidentResults: IncidentResult[] | undefined = incidents?.map((inc) => {
    const hits = episodes.filter((e) => matches(e, inc, window));
    hits.forEach((e) => matchedEpisodes.add(e));
    if (hits.length === 0) return { incident: inc };
    const first = hits.reduce((a, b) => (b.start < a.start ? b : a));
    return {
      incident: inc,
      firstAlertAt: first.start,
      firstAlert: first.alert,
      ...(inc.criticalAt !== undefined ? { leadMs: inc.criticalAt - first.start } : {}),
    };
  });

  const alerts: AlertReport[] = perRule.map(({ rule, bySeries, error }) => {
    const eps = bySeries.flat();
    const cls = rule.labels.incident_class ?? '';
    const row: AlertReport = {
      alert: rule.name,
      file: rule.file,
      forMs: rule.forMs,
      keepFiringForMs: rule.keepFiringForMs,
      incidentClass: cls,
      firings: eps.length,
      firingMs: eps.reduce((s, e) => s + (e.end - e.start), 0),
      tills: new Set(eps.map((e) => e.labels.till).filter(Boolean)).size,
      flappingSeries: bySeries.filter((s) => isFlapping(s, flapCount, flapWindow)).length,
      ...(error ? { error } : {}),
    };
    if (incidents) {
      const own = incidents.filter((i) => i.incidentClass === cls);
      const caught = own.filter((i) => eps.some((e) => matches(e, i, window)));
      const leads = caught.flatMap((i) => {
        const first = Math.min(...eps.filter((e) => matches(e, i, window)).map((e) => e.start));
        return i.criticalAt !== undefined ? [i.criticalAt - first] : [];
      });
      row.matched = eps.filter((e) => matchedEpisodes.has(e)).length;
      row.precision = ratio(row.matched, eps.length);
      row.recall = ratio(caught.length, own.length);
      row.medianLeadMs = median(leads);
    }
    return row;
  });

  const summary: BacktestReport['summary'] = {
    firings: episodes.length,
    tillsAffected: new Set(episodes.map((e) => e.labels.till).filter(Boolean)).size,
  };
  if (incidentResults) {
    const days = (o.toMs - o.fromMs) / 86_400_000;
    const fleet = o.tills ?? (await countTills(o.prometheus, o.toMs).catch(() => undefined));
    const falseAlarms = episodes.length - matchedEpisodes.size;
    const critical = incidentResults.filter((r) => r.incident.criticalAt !== undefined);
    const classes = [...new Set(critical.map((r) => r.incident.incidentClass))].sort();
    Object.assign(summary, {
      matchedFirings: matchedEpisodes.size,
      falseAlarms,
      falseAlarmsPer1000TillsPerDay: fleet && days > 0 ? (falseAlarms / fleet / days) * 1000 : null,
      precision: ratio(matchedEpisodes.size, episodes.length),
      recall: ratio(
        incidentResults.filter((r) => r.firstAlertAt !== undefined).length,
        incidentResults.length,
      ),
      alertedBeforeCritical: ratio(critical.filter((r) => (r.leadMs ?? 0) > 0).length, critical.length),
      medianLeadMsByClass: Object.fromEntries(
        classes.map((c) => [
          c,
          median(
            critical
              .filter((r) => r.incident.incidentClass === c && r.leadMs !== undefined)
              .map((r) => r.leadMs!),
          ),
        ]),
      ),
      ...(fleet ? { fleetTills: fleet } : {}),
    });
  }
  return {
    from: new Date(o.fromMs).toISOString(),
    to: new Date(o.toMs).toISOString(),
    stepMs: o.stepMs,
    alerts,
    episodes,
    ...(incidentResults ? { incidents: incidentResults } : {}),
    summary,
  };
}

/** Tills that reported at the end of the range: the fleet size when none is given. Only a few metric
 * names are read, since `{till!=""}` would touch every series of a large fleet. */
async function countTills(prometheus: string, atMs: number): Promise<number | undefined> {
  const res = await fetch(`${prometheus.replace(/\/$/, '')}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      query: 'count(count by (till) ({__name__=~"till_info|till_device_up|up", till!=""}))',
      time: String(atMs / 1000),
    }),
  });
  const json = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
  const v = json.data?.result?.[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}
