// Prediction quality of the shipped rules (rules/*.yml) on a synthetic fleet with a known ground truth:
// bench/quality/fleet.ts generates the history (faults with and without precursors, plus noise that
// looks like faults), promtool backfills it into a TSDB, Prometheus 2.42 serves it, and `tillwatch
// backtest` replays every alert over it. Targets: >= 97 % of precursor faults alerted before they become
// critical; median lead >= 24 h for FN, certificates and OFD backlog; < 1 false alarm per 1,000 tills a day.
import { fileURLToPath } from 'node:url';
import { measureQuality } from './quality/quality.js';

const TILLS = Number(process.env.BENCH_QUALITY_TILLS ?? 200);
const DAYS = 64;
const RULES = fileURLToPath(new URL('../rules', import.meta.url));
const H = 3_600_000;

const q = await measureQuality([RULES], {
  tills: TILLS,
  days: DAYS,
  intervalMs: 30 * 60_000,
  endMs: Date.UTC(2026, 9, 1),
  faultShare: 0.3,
  seed: 7,
});
const lead = (c: string) => {
  const v = q.medianLeadMs[c];
  return v == null ? 'n/a' : `${(v / H).toFixed(1)} h (${(v / H / 24).toFixed(1)} d)`;
};
const byClass = (c: string) => (q.report.incidents ?? []).filter((r) => r.incident.incidentClass === c);
const rows = Object.keys(q.medianLeadMs).map((c) => {
  const list = byClass(c);
  const before = list.filter((r) => (r.leadMs ?? 0) > 0).length;
  return `| ${c} | ${list.length} | ${before} | ${lead(c)} |`;
});
const okShare = q.alertedBeforeCritical >= 0.97;
const okLead = ['fiscal.fn_expiry', 'egais.certificate_expiry', 'fiscal.ofd_backlog'].every(
  (c) => (q.medianLeadMs[c] ?? 0) >= 24 * H,
);
const okFalse = q.falseAlarmsPer1000TillsPerDay < 1;
console.log(`Synthetic fleet: ${q.tills} tills, ${q.days} days at 30-minute samples, evaluated every 30 minutes;
${q.incidents} faults (${q.precursorFaults} with precursors); backfill ${(q.timingsMs.generateAndBackfill / 1000).toFixed(1)} s,
backtest of ${q.report.alerts.length} alerts ${(q.timingsMs.backtest / 1000).toFixed(1)} s.

| fault class | faults | alerted before critical | median lead |
| --- | --- | --- | --- |
${rows.join('\n')}

Faults without precursor (registrar suddenly down) alerted at all: ${q.suddenFaultsDetected} of ${byClass('fiscal.registrar_down').length}.
False alarms (firings matching no fault): ${q.falseAlarms} (${
  Object.entries(q.falseAlarmsByAlert)
    .map(([a, n]) => `${a} ${n}`)
    .join(', ') || 'none'
}) = ${q.falseAlarmsPer1000TillsPerDay.toFixed(2)} per 1,000 tills per day.

| target | measured | met |
| --- | --- | --- |
| >= 97 % of precursor faults alerted before critical | ${(q.alertedBeforeCritical * 100).toFixed(1)} % | ${okShare ? 'yes' : 'no'} |
| median lead >= 24 h for FN, certificates, OFD backlog | ${lead('fiscal.fn_expiry')}, ${lead('egais.certificate_expiry')}, ${lead('fiscal.ofd_backlog')} | ${okLead ? 'yes' : 'no'} |
| < 1 false alarm per 1,000 tills per day | ${q.falseAlarmsPer1000TillsPerDay.toFixed(2)} | ${okFalse ? 'yes' : 'no'} |
`);
if (q.report.alerts.some((a) => a.error)) {
  console.error(q.report.alerts.filter((a) => a.error));
  process.exitCode = 1;
}
