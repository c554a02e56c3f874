// The prediction-quality figures: the shipped rules backtested over a synthetic fleet whose faults are
// known (fleet.ts), per fault class and over several seeds.
import { fileURLToPath } from 'node:url';
import { backtesting } from '@tillwatch/ops';
import { startHistoryPrometheus } from '@tillwatch/testkit';
import { generateFleet, type FaultTruth, type Precursor } from './fleet.js';
import type { Scenario } from './scenario.js';

const { backtest, loadInhibitConfig, loadRules, median } = backtesting;

// What people are notified of: the shipped Alertmanager's inhibit rules apply (a store that is down silences
// its tills, a till clock its registrar's, critical the warning of the same fault); a muted firing is never a
// false alarm, as `tillwatch backtest` counts it by default.
const SHIPPED_ALERTMANAGER = fileURLToPath(new URL('../../deploy/alertmanager.yml', import.meta.url));

export interface ClassFigures {
  /** Faults of the class, by how much warning their metrics gave. */
  faults: Record<Precursor, number>;
  /** Faults alerted before they became critical, by precursor. */
  beforeCritical: Record<Precursor, number>;
  /** Faults alerted at all (before or after critical). */
  detected: number;
  /** Lead times of the usable faults alerted before critical (ms). */
  leadsMs: number[];
  /** Notified firings of the class's alerts, those matched to a fault, and the rest (false alarms). */
  firings: number;
  matched: number;
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
  falseAlarms: number;
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
    const falseAlarmsByAlert: Record<string, number> = {};
    const falseAlarmsByCause: Record<string, number> = {};
    const faultOf = new Map(fleet.incidents.map((i) => [i.till, fleet.truth.get(i.id)!.kind]));
    for (const e of report.episodes) {
      if (e.inhibited) continue;
      const f = of(e.labels.incident_class ?? '');
      f.firings += 1;
      if (e.matched) f.matched += 1;
      else {
        f.falseAlarms += 1;
        falseAlarmsByAlert[e.alert] = (falseAlarmsByAlert[e.alert] ?? 0) + 1;
        // The noise of the alert's own kind on its till, else what else it had.
        const till = e.labels.till ?? '';
        const noise = fleet.noise.get(till) ?? [];
        const own = noise.filter((n) => n.incidentClass === e.labels.incident_class).map((n) => n.what);
        const fault = faultOf.get(till);
        const other = [
          ...noise.filter((n) => n.incidentClass === '').map((n) => n.what),
          ...(fault ? [`after fault ${fault}`] : []),
        ];
        const cause = `${e.alert} on ${(own.length ? own : other).join(', ') || 'a till without noise of its kind'}`;
        falseAlarmsByCause[cause] = (falseAlarmsByCause[cause] ?? 0) + 1;
      }
    }
    const usable = Object.values(byClass).reduce((a, f) => a + f.faults.usable, 0);
    const caught = Object.values(byClass).reduce((a, f) => a + f.beforeCritical.usable, 0);
    const falseAlarms = report.summary.falseAlarms ?? 0;
    const measuredDays = (fleet.toMs - fleet.measureFromMs) / 86_400_000;
    return {
      seed: o.seed,
      tills: scenario.tills,
      days: measuredDays,
      byClass,
      recallBeforeCritical: usable ? caught / usable : null,
      falseAlarms,
      falseAlarmsPer1000TillsPerDay: (falseAlarms / scenario.tills / measuredDays) * 1000,
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

/** The median lead of a class's usable faults in one seed. */
export const medianLead = (f: ClassFigures | undefined): number | null => (f ? median(f.leadsMs) : null);

/** min, median and max of the non-null values (null when none). */
export function spread(values: Array<number | null>): { min: number; median: number; max: number } | null {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return null;
  return { min: Math.min(...v), median: median(v)!, max: Math.max(...v) };
}
