// `tillwatch backtest`: what a set of alerting rules would have done over a stretch of history.
import type { AlertRule, RecordRule } from './rules.js';
import { inlineRecords, recordsRead } from './rules.js';
import { PrometheusTimeoutError, deadline, queryRange, rangeChunks, seriesExist } from './prometheus.js';
import { isFlapping, simulateSeries } from './simulate.js';
import type { Episode } from './simulate.js';
import { incidentClasses, samePlace } from './incidents.js';
import type { Incident } from './incidents.js';
import { inhibitedEpisodes } from './inhibit.js';
import type { InhibitConfig } from './inhibit.js';

export interface BacktestOptions {
  prometheus: string;
  fromMs: number;
  toMs: number;
  /** Evaluation step of every rule, or of the groups without an `interval` with `groupIntervals`. */
  stepMs: number;
  /** Evaluate each rule at its group's `interval`, as the rule engine does. */
  groupIntervals?: boolean;
  incidents?: Incident[];
  /** How long before an incident an alert may start and still count as its warning. */
  matchWindowMs?: number;
  /** Alertmanager's inhibit rules: muted firings are no notification and no false alarm. */
  inhibit?: InhibitConfig;
  flapCount?: number;
  flapWindowMs?: number;
  /** Fleet size for false alarms per 1,000 tills per day; defaults to the tills seen in `up`. */
  tills?: number;
  concurrency?: number;
  /** Per Prometheus request (default DEFAULT_TIMEOUT_MS); a timeout stops the run with a PrometheusTimeoutError. */
  timeoutMs?: number;
  /** Called after each query_range request: the work done of the rules' range queries. */
  onProgress?: (p: BacktestProgress) => void;
}

export interface BacktestProgress {
  /** query_range requests answered, of `queries` (each rule's range in chunks: see rangeChunks). */
  done: number;
  queries: number;
  rulesDone: number;
  rules: number;
}

export interface AlertReport {
  alert: string;
  file: string;
  forMs: number;
  keepFiringForMs: number;
  incidentClass: string;
  /** Firing episodes, whether or not Alertmanager let them through. */
  firings: number;
  firingMs: number;
  /** Firings muted by an inhibit rule (with `inhibit`): never notified, never a false alarm. */
  inhibited: number;
  tills: number;
  flappingSeries: number;
  /** With incidents: notified firings matched to an incident, matched / notified, incidents it caught. */
  matched?: number;
  precision?: number | null;
  recall?: number | null;
  medianLeadMs?: number | null;
  /** Incidents of its class it caught only after they turned critical (negative lead). */
  caughtAfterCritical?: number;
  error?: string;
}

export interface IncidentResult {
  incident: Incident;
  /** Earliest start among the matched firings. */
  firstAlertAt?: number;
  firstAlert?: string;
  /**
   * criticalAt minus firstAlertAt: positive means an alert came first; negative means the first alert
   * fired after the ticket's critical alert had started (a fault without a precursor is seen once its
   * critical alert has held for its `for`, while the ticket dates it from when the condition began).
   */
  leadMs?: number;
}

export interface ReportEpisode extends Episode {
  /** Muted by an inhibit rule. */
  inhibited?: boolean;
  /** Routed only to receivers without an integration (`severity="info"`: the wall, no ticket, no message). */
  unrouted?: boolean;
  /** Matched to an incident (with incidents). */
  matched?: boolean;
}

export interface BacktestReport {
  from: string;
  to: string;
  stepMs: number;
  /** The inhibit rules applied, or null when none were given (muted alerts then count as notified). */
  inhibition: { file: string | null; rules: number; groupWaitMs: number } | null;
  /** Recording rules the alerts read: from the history's recorded series, or rebuilt from their expressions. */
  records: { recorded: string[]; rebuilt: string[] };
  alerts: AlertReport[];
  episodes: ReportEpisode[];
  incidents?: IncidentResult[];
  summary: {
    firings: number;
    /** Firings muted by inhibition (with `inhibit`). */
    inhibited: number;
    /** Firings routed to no integration (with `inhibit` and a route tree): on the wall, never notified. */
    unrouted: number;
    tillsAffected: number;
    matchedFirings?: number;
    falseAlarms?: number;
    falseAlarmsPer1000TillsPerDay?: number | null;
    precision?: number | null;
    recall?: number | null;
    alertedBeforeCritical?: number | null;
    /** Incidents with a critical time whose first alert came only after it, and their median delay. */
    alertedAfterCritical?: number;
    medianDelayAfterCriticalMs?: number | null;
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

/**
 * A firing matches an incident of its class (or of a class on the incident's ticket) at its place: the
 * levels both name agree, so a store alert matches its store's ticket and a till alert its till's (see
 * samePlace). It must overlap the incident or end at most `windowMs` before it.
 */
export function matches(e: Episode, i: Incident, windowMs: number): boolean {
  const cls = e.labels.incident_class;
  if (cls === undefined || !incidentClasses(i).includes(cls)) return false;
  if (!samePlace(e.labels, i)) return false;
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

/**
 * The rules with every recording rule they read that the history lacks rebuilt from its expression, and those
 * it has read as recorded (what the rule engine read then, and far cheaper than rebuilding a record that
 * itself ranges over days).
 */
async function resolveRecords(
  rules: AlertRule[],
  o: BacktestOptions,
): Promise<{ rules: AlertRule[]; recorded: string[]; rebuilt: string[] }> {
  const used = new Set<string>();
  for (const r of rules) if (r.records) for (const n of recordsRead(r.source, r.records)) used.add(n);
  const present = new Set<string>();
  await pool([...used], o.concurrency ?? 4, async (name) => {
    const exists = await seriesExist(o.prometheus, name, o.fromMs, o.toMs, o).catch((err: unknown) => {
      if (err instanceof PrometheusTimeoutError) throw err;
      return false;
    });
    if (exists) present.add(name);
  });
  const resolved = rules.map((r) => {
    if (!r.records || present.size === 0) return r;
    const missing = new Map<string, RecordRule>([...r.records].filter(([n]) => !present.has(n)));
    return { ...r, expr: inlineRecords(r.source, missing, r.defaultIntervalMs) };
  });
  return {
    rules: resolved,
    recorded: [...present].sort(),
    rebuilt: [...used].filter((n) => !present.has(n)).sort(),
  };
}

export async function backtest(alertRules: AlertRule[], o: BacktestOptions): Promise<BacktestReport> {
  const window = o.matchWindowMs ?? DEFAULT_MATCH_WINDOW_MS;
  const flapCount = o.flapCount ?? 3;
  const flapWindow = o.flapWindowMs ?? 3_600_000;
  const { rules, recorded, rebuilt } = await resolveRecords(alertRules, o);
  const grid = (rule: AlertRule) => {
    const stepMs = (o.groupIntervals ? rule.intervalMs : undefined) ?? o.stepMs;
    // The engine evaluates on its own grid; the first evaluation at or after --from.
    return { stepMs, fromMs: Math.ceil(o.fromMs / stepMs) * stepMs };
  };
  const progress: BacktestProgress = {
    done: 0,
    queries: rules.reduce((n, r) => n + rangeChunks(grid(r).fromMs, o.toMs, grid(r).stepMs), 0),
    rulesDone: 0,
    rules: rules.length,
  };
  const perRule = await pool(rules, o.concurrency ?? 4, async (rule) => {
    const { stepMs, fromMs } = grid(rule);
    const chunks = rangeChunks(fromMs, o.toMs, stepMs);
    let answered = 0;
    const report = (n: number) => {
      progress.done += n;
      answered += n;
      if (answered === chunks) progress.rulesDone++;
      o.onProgress?.({ ...progress });
    };
    try {
      const series = await queryRange(o.prometheus, rule.expr, fromMs, o.toMs, stepMs, {
        ...(o.timeoutMs !== undefined && { timeoutMs: o.timeoutMs }),
        onChunk: () => report(1),
      });
      const bySeries = series.map((s) =>
        simulateSeries(s, {
          alert: rule.name,
          forMs: rule.forMs,
          keepFiringForMs: rule.keepFiringForMs,
          fromMs,
          toMs: o.toMs,
          stepMs,
          ruleLabels: rule.labels,
        }),
      );
      return { rule, bySeries: bySeries as ReportEpisode[][], error: undefined };
    } catch (err) {
      // A bad expression is that rule's error; a Prometheus that stopped answering is the whole run's.
      if (err instanceof PrometheusTimeoutError) throw err;
      // The chunks a failed query will not ask still count as done, so the progress ends at 100%.
      if (answered < chunks) report(chunks - answered);
      return { rule, bySeries: [] as ReportEpisode[][], error: (err as Error).message };
    }
  });

  const episodes = perRule.flatMap((r) => r.bySeries.flat());
  const muted = o.inhibit ? inhibitedEpisodes(episodes, o.inhibit.rules, o.inhibit.groupWaitMs) : new Set();
  for (const e of muted) (e as ReportEpisode).inhibited = true;
  // Routed only to receivers that notify nobody (info on the wall): shown, but never a notification.
  const notifies = o.inhibit?.notifies;
  const unrouted = notifies ? episodes.filter((e) => !e.inhibited && !notifies(e.labels)) : [];
  for (const e of unrouted) e.unrouted = true;
  const notified = episodes.filter((e) => !e.inhibited && !e.unrouted);

  const incidents = o.incidents;
  const incidentResults: IncidentResult[] | undefined = incidents?.map((inc) => {
    const hits = notified.filter((e) => matches(e, inc, window));
    for (const e of hits) e.matched = true;
    if (hits.length === 0) return { incident: inc };
    const first = hits.reduce((a, b) => (b.start < a.start ? b : a));
    return {
      incident: inc,
      firstAlertAt: first.start,
      firstAlert: first.alert,
      ...(inc.criticalAt !== undefined ? { leadMs: inc.criticalAt - first.start } : {}),
    };
  });
  if (incidents) for (const e of notified) e.matched ??= false;

  const alerts: AlertReport[] = perRule.map(({ rule, bySeries, error }) => {
    const eps = bySeries.flat();
    const sent = eps.filter((e) => !e.inhibited && !e.unrouted);
    const cls = rule.labels.incident_class ?? '';
    const row: AlertReport = {
      alert: rule.name,
      file: rule.file,
      forMs: rule.forMs,
      keepFiringForMs: rule.keepFiringForMs,
      incidentClass: cls,
      firings: eps.length,
      firingMs: eps.reduce((s, e) => s + (e.end - e.start), 0),
      inhibited: eps.length - sent.length,
      tills: new Set(eps.map((e) => e.labels.till).filter(Boolean)).size,
      flappingSeries: bySeries.filter((s) => isFlapping(s, flapCount, flapWindow)).length,
      ...(error ? { error } : {}),
    };
    if (incidents) {
      const own = incidents.filter((i) => incidentClasses(i).includes(cls));
      const leads = own.flatMap((i) => {
        const hit = sent.filter((e) => matches(e, i, window));
        if (hit.length === 0) return [];
        const first = Math.min(...hit.map((e) => e.start));
        return [i.criticalAt !== undefined ? i.criticalAt - first : undefined];
      });
      const timed = leads.filter((l): l is number => l !== undefined);
      row.matched = sent.filter((e) => e.matched).length;
      row.precision = ratio(row.matched, sent.length);
      row.recall = ratio(leads.length, own.length);
      row.medianLeadMs = median(timed);
      row.caughtAfterCritical = timed.filter((l) => l < 0).length;
    }
    return row;
  });

  const summary: BacktestReport['summary'] = {
    firings: episodes.length,
    inhibited: muted.size,
    unrouted: unrouted.length,
    tillsAffected: new Set(episodes.map((e) => e.labels.till).filter(Boolean)).size,
  };
  if (incidentResults) {
    const days = (o.toMs - o.fromMs) / 86_400_000;
    const fleet = o.tills ?? (await countTills(o.prometheus, o.toMs, o).catch(() => undefined));
    const matched = notified.filter((e) => e.matched).length;
    const falseAlarms = notified.length - matched;
    const critical = incidentResults.filter((r) => r.incident.criticalAt !== undefined);
    const late = critical.filter((r) => r.leadMs !== undefined && r.leadMs < 0);
    const classes = [...new Set(critical.map((r) => r.incident.incidentClass))].sort();
    Object.assign(summary, {
      matchedFirings: matched,
      falseAlarms,
      falseAlarmsPer1000TillsPerDay: fleet && days > 0 ? (falseAlarms / fleet / days) * 1000 : null,
      precision: ratio(matched, notified.length),
      recall: ratio(
        incidentResults.filter((r) => r.firstAlertAt !== undefined).length,
        incidentResults.length,
      ),
      alertedBeforeCritical: ratio(critical.filter((r) => (r.leadMs ?? 0) > 0).length, critical.length),
      alertedAfterCritical: late.length,
      medianDelayAfterCriticalMs: median(late.map((r) => -r.leadMs!)),
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
    inhibition: o.inhibit
      ? { file: o.inhibit.file ?? null, rules: o.inhibit.rules.length, groupWaitMs: o.inhibit.groupWaitMs }
      : null,
    records: { recorded, rebuilt },
    alerts,
    episodes,
    ...(incidentResults ? { incidents: incidentResults } : {}),
    summary,
  };
}

/** Tills that reported at the end of the range: the fleet size when none is given. Only a few metric
 * names are read, since `{till!=""}` would touch every series of a large fleet. */
async function countTills(
  prometheus: string,
  atMs: number,
  o: { timeoutMs?: number },
): Promise<number | undefined> {
  const { signal } = deadline(prometheus, 'count of tills', o);
  const res = await fetch(`${prometheus.replace(/\/$/, '')}/api/v1/query`, {
    signal,
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
