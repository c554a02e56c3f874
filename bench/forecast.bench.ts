// How far `tillwatch forecast` is off: a simulated fleet with a known future (bench/forecast/fleet.ts) is
// backfilled up to a cut-off, the forecast runs at the cut-off, and its figures are compared with what then
// happened over 13 weeks: FN replacement visits and certificate renewals per week and region, incidents per
// class. Over several seeds (BENCH_FORECAST_SEEDS=1,2,3); the fleet size with BENCH_FORECAST_TILLS.
import { forecasting } from '@tillwatch/ops';
import { startHistoryPrometheus } from '@tillwatch/testkit';
import { REGIONS, generateForecastFleet, type FutureEvent } from './forecast/fleet.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const WEEKS = 13;
const AT = Date.UTC(2026, 8, 1);
const TILLS = Number(process.env.BENCH_FORECAST_TILLS ?? 2000);
const seeds = (process.env.BENCH_FORECAST_SEEDS ?? '1,2,3').split(',').map(Number);
// After the cut-off paper-outs rise by a quarter (a worse paper batch), registrar failures by half (a
// firmware update), the rest stay.
const RATE_CHANGE = { 'fiscal.paper_out': 1.25, 'fiscal.registrar_down': 1.5 };

type Grid = Map<string, number[]>;
const grid = (): Grid => new Map(REGIONS.map((r) => [r, Array<number>(WEEKS).fill(0)]));
function actualGrid(events: FutureEvent[]): Grid {
  const g = grid();
  for (const e of events) {
    const k = Math.floor((e.atMs - AT) / WEEK);
    if (k >= 0 && k < WEEKS) g.get(e.region)![k]! += 1;
  }
  return g;
}
/** The forecast's rows per region and week; "overdue" counts in week 0, when those visits happen. */
function forecastGrid(rows: forecasting.DueRow[]): Grid {
  const g = grid();
  for (const r of rows) {
    const k = r.week === 'overdue' ? 0 : Math.round((Date.parse(`${r.week}T00:00:00Z`) - AT) / WEEK);
    if (k >= 0 && k < WEEKS) g.get(r.region)![k]! += r.count;
  }
  return g;
}

interface Errors {
  /** Per week: forecast and actual totals over the regions. */
  weeks: Array<{ forecast: number; actual: number }>;
  /** Per region: 13-week totals and the mean absolute error of its weeks. */
  regions: Array<{ region: string; forecast: number; actual: number; mae: number }>;
  /** Mean absolute error per region and week, over the mean actual per region and week. */
  relativeMae: number;
  /** (actual - forecast) / actual over the 13 weeks. */
  totalBias: number;
}
function compare(forecast: Grid, actual: Grid): Errors {
  const weeks = Array.from({ length: WEEKS }, (_, k) => ({
    forecast: REGIONS.reduce((a, r) => a + forecast.get(r)![k]!, 0),
    actual: REGIONS.reduce((a, r) => a + actual.get(r)![k]!, 0),
  }));
  let absSum = 0;
  let actualSum = 0;
  const regions = REGIONS.map((region) => {
    const f = forecast.get(region)!;
    const a = actual.get(region)!;
    const abs = f.reduce((s, v, k) => s + Math.abs(a[k]! - v), 0);
    absSum += abs;
    actualSum += a.reduce((x, y) => x + y, 0);
    return {
      region,
      forecast: f.reduce((x, y) => x + y, 0),
      actual: a.reduce((x, y) => x + y, 0),
      mae: abs / WEEKS,
    };
  });
  const f = weeks.reduce((s, w) => s + w.forecast, 0);
  return { weeks, regions, relativeMae: absSum / actualSum, totalBias: (actualSum - f) / actualSum };
}

interface SeedRun {
  seed: number;
  fn: Errors;
  certs: Errors;
  failures: Array<{ incidentClass: string; forecast: number; actual: number; weeklyMae: number }>;
  warnings: string[];
}

async function runSeed(seed: number): Promise<SeedRun> {
  const fleet = generateForecastFleet({
    tills: TILLS,
    seed,
    atMs: AT,
    historyDays: 90,
    horizonWeeks: WEEKS,
    rateChange: RATE_CHANGE,
  });
  // till_fiscal_info is sampled every 4 hours: a 5-hour lookback keeps it continuous.
  const prom = await startHistoryPrometheus(fleet.series, { maxBlockDuration: '744h', lookbackDelta: '5h' });
  try {
    const f = await forecasting.forecast({
      prometheus: prom.url,
      atMs: AT,
      weeks: WEEKS,
      historyMs: 90 * DAY,
    });
    const byClass = new Map<string, number>();
    for (const r of f.failures)
      byClass.set(r.incidentClass, (byClass.get(r.incidentClass) ?? 0) + r.expectedNextMonth);
    const failures = [...byClass].map(([incidentClass, perMonth]) => {
      const weekly = Array<number>(WEEKS).fill(0);
      for (const i of fleet.incidents) {
        const k = Math.floor((i.atMs - AT) / WEEK);
        if (i.incidentClass === incidentClass && k < WEEKS) weekly[k]! += 1;
      }
      const actualMonth = fleet.incidents.filter(
        (i) => i.incidentClass === incidentClass && i.atMs < AT + 30 * DAY,
      ).length;
      const perWeek = (perMonth * 7) / 30;
      return {
        incidentClass,
        forecast: perMonth,
        actual: actualMonth,
        weeklyMae: weekly.reduce((s, v) => s + Math.abs(v - perWeek), 0) / WEEKS,
      };
    });
    return {
      seed,
      fn: compare(forecastGrid(f.fnReplacements), actualGrid(fleet.fnReplacements)),
      certs: compare(forecastGrid(f.certificateRenewals), actualGrid(fleet.certificateRenewals)),
      failures: failures.sort((a, b) => b.forecast - a.forecast),
      warnings: f.warnings,
    };
  } finally {
    await prom.stop();
  }
}

const runs: SeedRun[] = [];
for (const seed of seeds) runs.push(await runSeed(seed));

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const spread = (xs: number[], f: (v: number) => string) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${f(s[Math.floor(s.length / 2)]!)} (${f(s[0]!)}–${f(s.at(-1)!)})`;
};
const table = (header: string[], body: Array<Array<string | number>>) =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const first = runs[0]!;
const weekTable = (e: Errors) =>
  table(
    ['week', ...e.weeks.map((_, k) => String(k + 1))],
    [
      ['forecast', ...e.weeks.map((w) => w.forecast)],
      ['actual', ...e.weeks.map((w) => w.actual)],
      ['error', ...e.weeks.map((w) => w.actual - w.forecast)],
    ],
  );
const regionTable = (e: Errors) =>
  table(
    ['region', 'forecast (13 weeks)', 'actual', 'mean absolute error per week'],
    e.regions.map((r) => [r.region, r.forecast, r.actual, r.mae.toFixed(1)]),
  );
console.log(`${TILLS} tills in 5 regions, forecast at ${new Date(AT).toISOString().slice(0, 10)} from 90 days of history
(ALERTS, till_fiscal_info every 4 h, the expiry timestamps), compared with the next 13 weeks; seeds ${seeds.join(', ')}.
What happens after the cut-off: FNs fail early at 0.008 per till-month (replaced at once, the planned visit then
never comes), 2 % of the tills close, 6 % of the history's tills opened during it, visits are booked 0-25 days after
a replacement is due (mostly in the first two weeks; those already due within a week), certificates are renewed within
10 days of their 30-day warning, paper-outs rise by a quarter and registrar failures by half.

FN replacements: relative mean absolute error per region and week ${spread(
  runs.map((r) => r.fn.relativeMae),
  pct,
)},
13-week total: actual minus forecast ${spread(
  runs.map((r) => r.fn.totalBias),
  pct,
)} of actual (median over seeds, min–max).
Certificate renewals: ${spread(
  runs.map((r) => r.certs.relativeMae),
  pct,
)} per region and week, 13-week total: actual minus
forecast ${spread(
  runs.map((r) => r.certs.totalBias),
  pct,
)} of actual.

FN replacements per week, all regions (seed ${first.seed}; "overdue" counted in week 1):

${weekTable(first.fn)}

FN replacements per region (seed ${first.seed}):

${regionTable(first.fn)}

Certificate renewals per week, all regions (seed ${first.seed}):

${weekTable(first.certs)}

Certificate renewals per region (seed ${first.seed}):

${regionTable(first.certs)}

Incidents in the first 30 days, forecast (expected next month) against actual, and the mean absolute error of a
weekly forecast (expected / 30 × 7) over the 13 weeks:

${table(
  [
    'incident class',
    'rate change after the cut-off',
    ...runs.map((r) => `seed ${r.seed}: forecast / actual`),
    'weekly error, seed ' + first.seed,
  ],
  first.failures.map((c) => [
    c.incidentClass,
    `×${(RATE_CHANGE as Record<string, number>)[c.incidentClass] ?? 1}`,
    ...runs.map((r) => {
      const x = r.failures.find((y) => y.incidentClass === c.incidentClass);
      return x ? `${x.forecast.toFixed(0)} / ${x.actual}` : '–';
    }),
    `${c.weeklyMae.toFixed(1)} (${((c.weeklyMae / ((c.forecast * 7) / 30)) * 100).toFixed(0)} %)`,
  ]),
)}
${first.warnings.length ? `\nForecast warnings: ${first.warnings.join('; ')}` : ''}`);
