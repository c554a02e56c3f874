// The prediction-quality figures: the shipped rules backtested over a synthetic fleet with a known truth.
import { backtesting } from '@tillwatch/ops';
import { startHistoryPrometheus } from '@tillwatch/testkit';
import { PRECURSOR_CLASSES, SUDDEN_CLASSES, generateFleet } from './fleet.js';
import type { FleetOptions } from './fleet.js';

const { DEFAULT_MATCH_WINDOW_MS, backtest, loadRules, matches, median } = backtesting;

export interface QualityResult {
  tills: number;
  days: number;
  incidents: number;
  precursorFaults: number;
  /** Share of precursor faults with an alert before they became critical. */
  alertedBeforeCritical: number;
  /** Median lead per precursor class (ms). */
  medianLeadMs: Record<string, number | null>;
  suddenFaultsDetected: number;
  falseAlarms: number;
  falseAlarmsPer1000TillsPerDay: number;
  falseAlarmsByAlert: Record<string, number>;
  report: backtesting.BacktestReport;
  timingsMs: { generateAndBackfill: number; backtest: number };
}

export async function measureQuality(
  rulesPaths: string[],
  o: FleetOptions & { stepMs?: number },
): Promise<QualityResult> {
  const t0 = Date.now();
  const fleet = generateFleet(o);
  const prom = await startHistoryPrometheus(fleet.series, {
    // Samples are o.intervalMs apart; two missed samples still count as present.
    lookbackDelta: `${Math.round((2 * o.intervalMs) / 1000) + 1}s`,
    maxBlockDuration: '744h',
  });
  const t1 = Date.now();
  try {
    const report = await backtest(loadRules(rulesPaths), {
      prometheus: prom.url,
      fromMs: fleet.fromMs,
      toMs: fleet.toMs,
      stepMs: o.stepMs ?? o.intervalMs,
      incidents: fleet.incidents,
      tills: o.tills,
    });
    const t2 = Date.now();
    const results = report.incidents ?? [];
    const pre = results.filter((r) =>
      (PRECURSOR_CLASSES as readonly string[]).includes(r.incident.incidentClass),
    );
    const sudden = results.filter((r) =>
      (SUDDEN_CLASSES as readonly string[]).includes(r.incident.incidentClass),
    );
    // Which rule raised the false alarms, so the report names the noisy ones.
    const falseByAlert: Record<string, number> = {};
    for (const e of report.episodes)
      if (!fleet.incidents.some((i) => matches(e, i, DEFAULT_MATCH_WINDOW_MS)))
        falseByAlert[e.alert] = (falseByAlert[e.alert] ?? 0) + 1;
    const falseAlarms = report.summary.falseAlarms ?? 0;
    return {
      tills: o.tills,
      days: o.days,
      incidents: results.length,
      precursorFaults: pre.length,
      alertedBeforeCritical: pre.length ? pre.filter((r) => (r.leadMs ?? 0) > 0).length / pre.length : 1,
      medianLeadMs: Object.fromEntries(
        PRECURSOR_CLASSES.map((c) => [
          c,
          median(
            pre.filter((r) => r.incident.incidentClass === c && r.leadMs !== undefined).map((r) => r.leadMs!),
          ),
        ]),
      ),
      suddenFaultsDetected: sudden.filter((r) => r.firstAlertAt !== undefined).length,
      falseAlarms,
      falseAlarmsPer1000TillsPerDay: (falseAlarms / o.tills / o.days) * 1000,
      falseAlarmsByAlert: falseByAlert,
      report,
      timingsMs: { generateAndBackfill: t1 - t0, backtest: t2 - t1 },
    };
  } finally {
    await prom.stop();
  }
}
