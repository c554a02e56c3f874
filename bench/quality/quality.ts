// The prediction-quality figures: the shipped rules backtested over a synthetic fleet whose faults are
// known (fleet.ts), per fault class and over several seeds.
import { fileURLToPath } from 'node:url';
import { KnowledgeBase, identify, parseConfig } from '@tillwatch/alert-bridge';
import { backtesting } from '@tillwatch/ops';
import { startHistoryPrometheus } from '@tillwatch/testkit';
import jstat from 'jstat';
import { generateFleet, type FaultTruth, type Precursor } from './fleet.js';
import type { Scenario } from './scenario.js';

const { backtest, loadInhibitConfig, loadRules, median } = backtesting;

// What people are notified of: the shipped Alertmanager's inhibit rules apply (a store that is down silences
// its tills, a till clock its registrar's, critical the warning of the same fault); a muted firing is never a
// false alarm, as `tillwatch backtest` counts it by default.
const SHIPPED_ALERTMANAGER = fileURLToPath(new URL('../../deploy/alertmanager.yml', import.meta.url));
const SHIPPED_KB = fileURLToPath(new URL('../../alert-bridge/knowledge-base', import.meta.url));

type Episode = backtesting.BacktestReport['episodes'][number];

/** One thing a person is told of: a ticket the bridge opens (or reopens), with the firings it gathered. */
export interface Notification {
  key: string;
  start: number;
  end: number;
  episodes: Episode[];
  matched: boolean;
}

/**
 * Notified firings as people meet them, which is what a false alarm costs. Two steps the backtest cannot take:
 * - An alert that reads a `*:held` record keeps firing through its store's closed night on a live Prometheus
 *   (rules/README.md, "Store hours"); the backtest inlines recording rules and a held record reads its own past,
 *   so there the alert resolves when the till goes dark and fires again when it reports. Two firings of one
 *   series are joined when the till was dark (switched off, store closed) at every step between them.
 * - The bridge keeps one ticket per problem (its ticket key: the incident family and the place), so firings of
 *   one key that overlap (a disk's 24-hour and 7-day forecasts, the OFD backlog's age and forecast) are one
 *   notification; a firing after the ticket's last one ended is another (a reopening is announced too).
 */
export function notificationsOf(
  episodes: Episode[],
  o: {
    keyOf: (labels: Record<string, string>) => string;
    heldAlerts: Set<string>;
    dark: (till: string, t: number) => boolean;
    stepMs: number;
  },
): Notification[] {
  const seriesKey = (e: Episode) => `${e.alert}\u0000${JSON.stringify(Object.entries(e.labels).sort())}`;
  const bySeries = Map.groupBy(episodes, seriesKey);
  const joined: Array<{ labels: Record<string, string>; start: number; end: number; parts: Episode[] }> = [];
  for (const list of bySeries.values()) {
    list.sort((a, b) => a.start - b.start);
    let cur: (typeof joined)[number] | undefined;
    for (const e of list) {
      const till = e.labels.till ?? '';
      let bridged = cur !== undefined && o.heldAlerts.has(e.alert) && e.activeAt > cur.end;
      for (let t = cur?.end ?? 0; bridged && t < e.activeAt; t += o.stepMs) bridged = o.dark(till, t);
      if (cur && bridged) {
        cur.end = Math.max(cur.end, e.end);
        cur.parts.push(e);
      } else joined.push((cur = { labels: e.labels, start: e.start, end: e.end, parts: [e] }));
    }
  }
  const byKey = Map.groupBy(joined, (j) => o.keyOf(j.labels));
  const out: Notification[] = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    let cur: Notification | undefined;
    for (const j of list) {
      if (cur && j.start <= cur.end) {
        cur.end = Math.max(cur.end, j.end);
        cur.episodes.push(...j.parts);
      } else out.push((cur = { key, start: j.start, end: j.end, episodes: [...j.parts], matched: false }));
    }
  }
  for (const n of out) n.matched = n.episodes.some((e) => e.matched);
  return out.sort((a, b) => a.start - b.start);
}

/** The bridge's ticket key with its defaults and the shipped knowledge base's families. */
function bridgeKeyOf(): (labels: Record<string, string>) => string {
  const tickets = parseConfig({ webhook: { bearer_token: 'bench' } }).tickets;
  const kb = KnowledgeBase.load(SHIPPED_KB);
  return (labels) => identify(labels, tickets, (c) => kb.familyOf(c)).key;
}

export interface ClassFigures {
  /** Faults of the class, by how much warning their metrics gave. */
  faults: Record<Precursor, number>;
  /** Faults alerted before they became critical, by precursor. */
  beforeCritical: Record<Precursor, number>;
  /** Faults alerted at all (before or after critical). */
  detected: number;
  /** Lead times of the usable faults alerted before critical (ms). */
  leadsMs: number[];
  /** Notified firings of the class's alerts and those matched to a fault (its precision). */
  firings: number;
  matched: number;
  /** Notifications of the class (tickets, as the bridge keys them) that match no fault. */
  falseAlarms: number;
}

export interface SeedResult {
  seed: number;
  tills: number;
  /** Days measured (the history after its warm-up). */
  days: number;
  byClass: Record<string, ClassFigures>;
  /** Usable-precursor faults alerted before critical / all of them (null without any). */
  recallBeforeCritical: number | null;
  /** Notifications (tickets opened or reopened, as the bridge keys them) that match no fault. */
  falseAlarms: number;
  /** The same counted per notified firing, as `tillwatch backtest` reports them (the figure before issue 18). */
  falseAlarmFirings: number;
  falseAlarmsPer1000TillsPerDay: number;
  /** Which alerts raised the false alarms, and on tills with which noise (or fault). */
  falseAlarmsByAlert: Record<string, number>;
  falseAlarmsByCause: Record<string, number>;
  inhibited: number;
  report: backtesting.BacktestReport;
  truth: Map<string, FaultTruth>;
  timingsMs: { generateAndBackfill: number; backtest: number };
}

const empty = (): ClassFigures => ({
  faults: { usable: 0, weak: 0, none: 0 },
  beforeCritical: { usable: 0, weak: 0, none: 0 },
  detected: 0,
  leadsMs: [],
  firings: 0,
  matched: 0,
  falseAlarms: 0,
});

export async function measureQuality(
  rulesPaths: string[],
  scenario: Scenario,
  o: { seed: number; endMs: number },
): Promise<SeedResult> {
  const t0 = Date.now();
  const fleet = generateFleet(scenario, o);
  const stepMs = scenario.sampleMinutes * 60_000;
  // Recording rules are rebuilt from their expressions by the backtest (Prometheus evaluates a subquery over
  // the whole range at once, so even the shift habit's day-long one is cheap).
  const rules = loadRules(rulesPaths, { defaultIntervalMs: stepMs });
  const prom = await startHistoryPrometheus(fleet.series, {
    // A live Prometheus marks a till's series stale when it stops answering (switched off at night); a
    // backfilled history has no staleness markers, so the lookback is just under a step: each evaluation sees
    // the sample of its own time and none older.
    lookbackDelta: `${Math.round(stepMs / 1000) - 1}s`,
    maxBlockDuration: '744h',
  });
  const t1 = Date.now();
  try {
    const report = await backtest(rules, {
      prometheus: prom.url,
      fromMs: fleet.measureFromMs,
      toMs: fleet.toMs,
      stepMs,
      incidents: fleet.incidents,
      tills: scenario.tills,
      inhibit: loadInhibitConfig(SHIPPED_ALERTMANAGER),
    });
    const t2 = Date.now();
    const byClass: Record<string, ClassFigures> = {};
    const of = (c: string) => (byClass[c] ??= empty());
    for (const r of report.incidents ?? []) {
      const t = fleet.truth.get(r.incident.id)!;
      const f = of(r.incident.incidentClass);
      f.faults[t.precursor] += 1;
      if (r.firstAlertAt !== undefined) f.detected += 1;
      if (r.leadMs !== undefined && r.leadMs > 0) {
        f.beforeCritical[t.precursor] += 1;
        if (t.precursor === 'usable') f.leadsMs.push(r.leadMs);
      }
    }
    const faultOf = new Map(fleet.incidents.map((i) => [i.till, fleet.truth.get(i.id)!.kind]));
    const notified = report.episodes.filter((e) => !e.inhibited && !e.unrouted);
    for (const e of notified) {
      const f = of(e.labels.incident_class ?? '');
      f.firings += 1;
      if (e.matched) f.matched += 1;
    }
    const notifications = notificationsOf(notified, {
      keyOf: bridgeKeyOf(),
      heldAlerts: new Set(rules.filter((r) => /:held\b/.test(r.source)).map((r) => r.name)),
      dark: fleet.dark,
      stepMs,
    });
    const falseAlarmsByAlert: Record<string, number> = {};
    const falseAlarmsByCause: Record<string, number> = {};
    for (const n of notifications) {
      if (n.matched) continue;
      const e = n.episodes[0]!;
      of(e.labels.incident_class ?? '').falseAlarms += 1;
      // Named after the alert that opened the ticket.
      falseAlarmsByAlert[e.alert] = (falseAlarmsByAlert[e.alert] ?? 0) + 1;
      // The noise of the alert's own kind on its till, else what else it had.
      const till = e.labels.till ?? '';
      const noise = fleet.noise.get(till) ?? [];
      const own = noise.filter((x) => x.incidentClass === e.labels.incident_class).map((x) => x.what);
      const fault = faultOf.get(till);
      const other = [
        ...noise.filter((x) => x.incidentClass === '').map((x) => x.what),
        ...(fault ? [`after fault ${fault}`] : []),
      ];
      const cause = `${e.alert} on ${(own.length ? own : other).join(', ') || 'a till without noise of its kind'}`;
      falseAlarmsByCause[cause] = (falseAlarmsByCause[cause] ?? 0) + 1;
    }
    const usable = Object.values(byClass).reduce((a, f) => a + f.faults.usable, 0);
    const caught = Object.values(byClass).reduce((a, f) => a + f.beforeCritical.usable, 0);
    const falseAlarms = notifications.filter((n) => !n.matched).length;
    const measuredDays = (fleet.toMs - fleet.measureFromMs) / 86_400_000;
    return {
      seed: o.seed,
      tills: scenario.tills,
      days: measuredDays,
      byClass,
      recallBeforeCritical: usable ? caught / usable : null,
      falseAlarms,
      falseAlarmsPer1000TillsPerDay: (falseAlarms / scenario.tills / measuredDays) * 1000,
      falseAlarmFirings: report.summary.falseAlarms ?? 0,
      falseAlarmsByAlert,
      falseAlarmsByCause,
      inhibited: report.summary.inhibited,
      report,
      truth: fleet.truth,
      timingsMs: { generateAndBackfill: t1 - t0, backtest: t2 - t1 },
    };
  } finally {
    await prom.stop();
  }
}

/**
 * A rate of rare events with its exact (Garwood) confidence interval: `count` events over `exposure` units (for
 * example false alarms over thousands of till-days), the bounds from chi-squared quantiles. Per-seed spreads say
 * how much seeds differ; this says how sure the pooled figure is that it is above or below a target.
 */
export function poissonRate(
  count: number,
  exposure: number,
  level = 0.95,
): { rate: number; low: number; high: number } {
  if (!(exposure > 0) || !Number.isInteger(count) || count < 0)
    throw new RangeError(
      `poissonRate: expected a whole count >= 0 and an exposure > 0, got ${count} over ${exposure}`,
    );
  const tail = (1 - level) / 2;
  const low = count === 0 ? 0 : jstat.jStat.chisquare.inv(tail, 2 * count) / 2;
  const high = jstat.jStat.chisquare.inv(1 - tail, 2 * count + 2) / 2;
  return { rate: count / exposure, low: low / exposure, high: high / exposure };
}

/** The median lead of a class's usable faults in one seed. */
export const medianLead = (f: ClassFigures | undefined): number | null => (f ? median(f.leadsMs) : null);

/** min, median and max of the non-null values (null when none). */
export function spread(values: Array<number | null>): { min: number; median: number; max: number } | null {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return null;
  return { min: Math.min(...v), median: median(v)!, max: Math.max(...v) };
}
