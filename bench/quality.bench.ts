// Prediction quality of the shipped rules (rules/*.yml) on a synthetic fleet with a known ground truth:
// bench/quality/fleet.ts generates the history of a scenario (bench/quality/scenarios/), promtool backfills it
// into a TSDB, Prometheus 2.42 serves it, and `tillwatch backtest` replays every alert over it, once per seed.
// The evaluation scenario is not the one the thresholds were tuned on (tuning.yml); another scenario file can be
// given with BENCH_QUALITY_SCENARIO=path/to/scenario.yml, seeds with BENCH_QUALITY_SEEDS=1,2,3.
// Targets: >= 97 % of faults with a usable precursor alerted before they become critical; median lead >= 24 h
// for FN, certificates and OFD backlog; < 1 false alarm per 1,000 tills a day.
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import {
  type ClassFigures,
  type SeedResult,
  measureQuality,
  medianLead,
  poissonRate,
  spread,
} from './quality/quality.js';
import { loadScenario, type LoadedScenario } from './quality/scenario.js';

const RULES = fileURLToPath(new URL('../rules', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const H = 3_600_000;
const END = Date.UTC(2026, 9, 1);
const LEAD_CLASSES = ['fiscal.fn_expiry', 'egais.certificate_expiry', 'fiscal.ofd_backlog'];

const seeds = (process.env.BENCH_QUALITY_SEEDS ?? '1,2,3,4,5').split(',').map(Number);
const evaluation = loadScenario(process.env.BENCH_QUALITY_SCENARIO ?? 'evaluation');
// BENCH_QUALITY_CALENDARS=0|1 runs the scenario without or with store calendars (docs/benchmarks.md, "Store hours").
if (process.env.BENCH_QUALITY_CALENDARS !== undefined)
  evaluation.scenario.calendars = process.env.BENCH_QUALITY_CALENDARS === '1';
// BENCH_QUALITY_DISPOSABLE=0|1 runs it without or with the exporter's disposable folders (docs/benchmarks.md).
if (process.env.BENCH_QUALITY_DISPOSABLE !== undefined)
  evaluation.scenario.disposable = process.env.BENCH_QUALITY_DISPOSABLE === '1';
const tuning = loadScenario('tuning');

const pct = (v: number | null | undefined) => (v == null ? '–' : `${(v * 100).toFixed(1)} %`);
const hours = (v: number | null | undefined) =>
  v == null ? '–' : v >= 48 * H ? `${(v / H / 24).toFixed(1)} d` : `${(v / H).toFixed(1)} h`;
const fixed = (v: number | null | undefined) => (v == null ? '–' : v.toFixed(2));
const withSpread = (values: Array<number | null>, f: (v: number | null) => string) => {
  const s = spread(values);
  return s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : '–';
};

async function run(l: LoadedScenario, runSeeds: number[]): Promise<SeedResult[]> {
  const out: SeedResult[] = [];
  for (const seed of runSeeds) {
    const r = await measureQuality([RULES], l.scenario, { seed, endMs: END });
    if (r.report.alerts.some((a) => a.error)) {
      console.error(r.report.alerts.filter((a) => a.error));
      process.exitCode = 1;
    }
    out.push(r);
  }
  return out;
}

function report(l: LoadedScenario, results: SeedResult[]): string {
  const s = l.scenario;
  const classes = [...new Set(results.flatMap((r) => Object.keys(r.byClass)))].filter(Boolean).sort();
  const pooled = (c: string) => {
    const list = results.map((r) => r.byClass[c]).filter((f): f is ClassFigures => !!f);
    const sum = (get: (f: ClassFigures) => number) => list.reduce((a, f) => a + get(f), 0);
    return { list, sum };
  };
  const perSeed = (c: string, get: (f: ClassFigures) => number | null) =>
    results.map((r) => (r.byClass[c] ? get(r.byClass[c]) : null));
  const rows = classes.map((c) => {
    const { sum } = pooled(c);
    const usable = sum((f) => f.faults.usable);
    const weak = sum((f) => f.faults.weak);
    const none = sum((f) => f.faults.none);
    const faults = usable + weak + none;
    return [
      c,
      `${usable} / ${weak} / ${none}`,
      usable
        ? withSpread(
            perSeed(c, (f) => (f.faults.usable ? f.beforeCritical.usable / f.faults.usable : null)),
            pct,
          )
        : '–',
      usable ? withSpread(perSeed(c, medianLead), hours) : '–',
      weak ? `${sum((f) => f.beforeCritical.weak)} of ${weak}` : '–',
      faults ? `${sum((f) => f.detected)} of ${faults}` : '–',
      withSpread(
        perSeed(c, (f) => (f.firings ? f.matched / f.firings : null)),
        pct,
      ),
      withSpread(
        results.map((r) => (r.byClass[c] ? (r.byClass[c].falseAlarms / r.tills / r.days) * 1000 : null)),
        fixed,
      ),
    ];
  });
  const usableAll = results.reduce(
    (a, r) => a + Object.values(r.byClass).reduce((b, f) => b + f.faults.usable, 0),
    0,
  );
  const caughtAll = results.reduce(
    (a, r) => a + Object.values(r.byClass).reduce((b, f) => b + f.beforeCritical.usable, 0),
    0,
  );
  const recall = usableAll ? caughtAll / usableAll : null;
  const leads = LEAD_CLASSES.map((c) => spread(perSeed(c, medianLead)));
  const falseRate = spread(results.map((r) => r.falseAlarmsPer1000TillsPerDay));
  // Pooled over the seeds, per 1,000 till-days, with its 95 % interval.
  const tillDays = results.reduce((a, r) => a + r.tills * r.days, 0);
  const falseCount = results.reduce((a, r) => a + r.falseAlarms, 0);
  const falsePooled = tillDays ? poissonRate(falseCount, tillDays / 1000) : null;
  const falseByAlert: Record<string, number> = {};
  const falseByCause: Record<string, number> = {};
  for (const r of results) {
    for (const [a, n] of Object.entries(r.falseAlarmsByAlert)) falseByAlert[a] = (falseByAlert[a] ?? 0) + n;
    for (const [a, n] of Object.entries(r.falseAlarmsByCause)) falseByCause[a] = (falseByCause[a] ?? 0) + n;
  }
  // The faults with a usable precursor that were not alerted before they became critical.
  const misses = results.flatMap((r) =>
    (r.report.incidents ?? [])
      .filter((i) => r.truth.get(i.incident.id)?.precursor === 'usable' && !((i.leadMs ?? 0) > 0))
      .map((i) => {
        const t = r.truth.get(i.incident.id)!;
        return `${t.kind} (precursor ${hours(t.precursorMs)}, ${i.leadMs === undefined ? 'no alert' : `alert ${hours(-i.leadMs)} after critical`})`;
      }),
  );
  const missCounts = new Map<string, number>();
  for (const m of misses) {
    const k = m.split(' (')[0]!;
    missCounts.set(k, (missCounts.get(k) ?? 0) + 1);
  }
  const timing = results.map((r) => r.timingsMs);
  const mean = (f: (t: SeedResult['timingsMs']) => number) =>
    timing.reduce((a, t) => a + f(t), 0) / timing.length / 1000;
  const okRecall = recall !== null && recall >= 0.97;
  const okLead = leads.every((x) => x !== null && x.median >= 24 * H);
  // Met when both the typical seed and the pooled rate are under the target.
  const okFalse = falseRate !== null && falseRate.median < 1 && falsePooled !== null && falsePooled.rate < 1;
  const table = (header: string[], body: string[][]) =>
    [
      `| ${header.join(' | ')} |`,
      `| ${header.map(() => '---').join(' | ')} |`,
      ...body.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  return `### Scenario \`${s.name}\` (${relative(ROOT, l.file)}, sha256 ${l.digest}), seeds ${results.map((r) => r.seed).join(', ')}

${s.description}

${s.tills} tills, ${s.days} days at ${s.sampleMinutes}-minute samples, ${s.calendars ? 'with' : 'without'} store calendars, ${s.disposable ? 'with' : 'without'} the exporter's disposable folders (the first two days history only, measured from then on), evaluated every ${s.sampleMinutes} minutes; ${Math.round(s.faultShare * 100)} % of the tills with one fault. A precursor is usable when the fault shows in the metrics at least ${s.usablePrecursorHours} h before it becomes critical while the till reports. Per seed: generate and backfill ${mean((t) => t.generateAndBackfill).toFixed(0)} s, backtest ${mean((t) => t.backtest).toFixed(0)} s. Figures per seed as median (min–max); counts summed over the seeds.

${table(
  [
    'fault class',
    'faults (usable / weak / none)',
    'recall before critical, usable',
    'median lead, usable',
    'weak alerted before critical',
    'alerted at all',
    'precision of its alerts',
    'false alarms per 1,000 tills per day',
  ],
  rows,
)}

A false alarm is a notification that matches no fault: a ticket the bridge opens or reopens (one ticket key, the incident family and the place, for firings that overlap; an alert that reads a \`*:held\` record kept firing through its store's closed night, as a live Prometheus keeps it). Counted per notified firing instead, as \`tillwatch backtest\` reports them: ${withSpread(
    results.map((r) => (r.falseAlarmFirings / r.tills / r.days) * 1000),
    fixed,
  )} per 1,000 tills per day (${results.reduce((a, r) => a + r.falseAlarmFirings, 0)} firings, against ${results.reduce((a, r) => a + r.falseAlarms, 0)} notifications).

False alarms by alert and the noise (or fault) of their tills, all seeds: ${
    Object.entries(falseByCause)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([a, n]) => `${a} ${n}`)
      .join('; ') || 'none'
  }.
False alarms by alert, all seeds: ${
    Object.entries(falseByAlert)
      .sort((a, b) => b[1] - a[1])
      .map(([a, n]) => `${a} ${n}`)
      .join(', ') || 'none'
  }.
Usable-precursor faults not alerted before critical, all seeds: ${[...missCounts].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}${misses.length ? ` (e.g. ${misses.slice(0, 4).join('; ')})` : ''}.

${table(
  ['target', 'measured', 'met'],
  [
    [
      '>= 97 % of faults with a usable precursor alerted before critical',
      `${pct(recall)} (${caughtAll} of ${usableAll}; per seed ${withSpread(
        results.map((r) => r.recallBeforeCritical),
        pct,
      )})`,
      okRecall ? 'yes' : '**no**',
    ],
    [
      'median lead >= 24 h for FN, certificates, OFD backlog',
      LEAD_CLASSES.map(
        (c, k) =>
          `${c} ${leads[k] ? `${hours(leads[k]!.median)} (${hours(leads[k]!.min)}–${hours(leads[k]!.max)})` : '–'}`,
      ).join('; '),
      okLead ? 'yes' : '**no**',
    ],
    [
      '< 1 false alarm per 1,000 tills per day',
      falseRate && falsePooled
        ? `per seed ${fixed(falseRate.median)} (${fixed(falseRate.min)}–${fixed(falseRate.max)}); pooled ${fixed(falsePooled.rate)}, 95 % interval ${fixed(falsePooled.low)}–${fixed(falsePooled.high)} (${falseCount} in ${Math.round(tillDays).toLocaleString('en')} till-days)`
        : '–',
      okFalse ? 'yes' : '**no**',
    ],
  ],
)}
`;
}

const evalResults = await run(evaluation, seeds);
const tuningResults = await run(tuning, seeds.slice(0, 1));
console.log(`Prediction quality of rules/*.yml. The evaluation scenario is kept apart from the one the thresholds were
tuned on; the tuning scenario follows for contrast (one seed).

${report(evaluation, evalResults)}
${report(tuning, tuningResults)}`);
