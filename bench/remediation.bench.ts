// Self-healing on the prediction-quality fleet (issue 19): what share of the faults that have a safe automatic
// action the bridge's policies fix with nobody paged, and the median time from fault to fix. The alerts are
// replayed through the real bridge and the real till agents in virtual time (bench/remediation/replay.ts says
// what is modelled). BENCH_REMEDIATION_SEEDS=1,2,3 (default), BENCH_QUALITY_SCENARIO as for the quality bench.
import { loadScenario } from './quality/scenario.js';
import {
  FAULTS,
  PERSON_FIX_HOURS,
  replay,
  shippedKnowledgeBase,
  type ReplayResult,
} from './remediation/replay.js';
import { backtesting } from '@tillwatch/ops';

const END = Date.UTC(2026, 9, 1);
const seeds = (process.env.BENCH_REMEDIATION_SEEDS ?? '1,2,3').split(',').map(Number);
const l = loadScenario(process.env.BENCH_QUALITY_SCENARIO ?? 'evaluation');
const { median } = backtesting;

const results: ReplayResult[] = [];
const started = Date.now();
const kb = shippedKnowledgeBase();
for (const seed of seeds) results.push(await replay(l.scenario, { seed, endMs: END, kb }));
const seconds = (ms: number | null) => (ms === null ? '–' : `${Math.round(ms / 1000)} s`);
const pct = (a: number, b: number) => (b ? `${((a / b) * 100).toFixed(1)} %` : '–');

interface Row {
  faults: number;
  alerted: number;
  stepped: number;
  auto: number;
  paged: number;
  other: number;
  fixMs: number[];
  resolveMs: number[];
  personMs: number[];
  powerOff: number;
}
const byKind = new Map<string, Row>();
const byClass = new Map<string, Row>();
const counted: Record<string, Record<string, number>> = {};
const actions: Record<string, number> = {};
const empty = (): Row => ({
  faults: 0,
  alerted: 0,
  stepped: 0,
  auto: 0,
  paged: 0,
  other: 0,
  fixMs: [],
  resolveMs: [],
  personMs: [],
  powerOff: 0,
});
for (const r of results) {
  for (const [cls, o] of Object.entries(r.counted))
    for (const [k, v] of Object.entries(o)) (counted[cls] ??= {})[k] = (counted[cls]?.[k] ?? 0) + v;
  for (const [k, v] of Object.entries(r.actions)) actions[k] = (actions[k] ?? 0) + v;
  for (const f of r.faults) {
    const t = f.ticketId === null ? undefined : r.tickets.get(f.ticketId);
    const cls = t?.incident_class ?? `(${FAULTS[f.kind]!.alert})`;
    for (const row of [
      byKind.get(f.kind) ?? byKind.set(f.kind, empty()).get(f.kind)!,
      byClass.get(cls) ?? byClass.set(cls, empty()).get(cls)!,
    ]) {
      row.faults++;
      if (f.fixedBy === 'power-off' && !f.alerted) row.powerOff++;
      if (!f.alerted || !t) continue;
      row.alerted++;
      if (t.remediation_state !== null) row.stepped++;
      if (t.auto_remediated === 1) {
        row.auto++;
        if (f.fixedMs !== null) row.fixMs.push(f.fixedMs - f.startMs);
        if (t.resolved_at !== null) row.resolveMs.push(t.resolved_at - f.startMs);
      } else if (t.remediation_state !== null) row.paged++;
      else row.other++;
      if (f.fixedBy === 'person' && f.fixedMs !== null) row.personMs.push(f.fixedMs - f.startMs);
    }
  }
}
const policies = results[0]!.policies;
const timing = results[0]!.timing;
const table = (header: string[], body: string[][]) =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const rows = (m: Map<string, Row>) =>
  [...m]
    .sort()
    .map(([k, r]) => [
      k,
      String(r.faults),
      String(r.alerted),
      String(r.stepped),
      `${r.auto} (${pct(r.auto, r.alerted)})`,
      String(r.paged),
      String(r.other),
      seconds(median(r.fixMs)),
      seconds(median(r.resolveMs)),
      r.personMs.length ? `${(median(r.personMs)! / 3_600_000).toFixed(1)} h` : '–',
    ]);
const header = [
  '',
  'faults',
  'alerted (ticket)',
  'got the automatic step',
  'auto-remediated, nobody paged',
  'paged after the step',
  'ticket without a step',
  'median fault → fix, auto',
  'median fault → ticket resolved, auto',
  'median fault → fix by a person',
];
const all = [...byClass.values()].reduce(
  (a, r) => ({ alerted: a.alerted + r.alerted, auto: a.auto + r.auto, fix: [...a.fix, ...r.fixMs] }),
  { alerted: 0, auto: 0, fix: [] as number[] },
);

console.log(`Self-healing on the prediction-quality fleet: scenario \`${l.scenario.name}\` (sha256 ${l.digest}), ${l.scenario.tills} tills, seeds ${seeds.join(', ')}, ${Math.round((Date.now() - started) / 1000)} s.

Policies (deploy/bridge.yml): ${Object.entries(policies)
  .map(([c, p]) => `${c} → ${p.action}, ${p.attempts} attempts, wait ${p.wait}`)
  .join(
    '; ',
  )}. Scrape ${timing.scrapeMs / 1000} s and evaluation ${timing.evalMs / 1000} s (deploy/prometheus.yml), Alertmanager routes of deploy/alertmanager.yml, agent poll ${timing.pollMs / 1000} s (its default), bridge sweep ${timing.sweepMs / 1000} s.

The faults (model inputs, per till per 30 days while it runs): ${Object.entries(FAULTS)
  .map(
    ([k, f]) =>
      `${k} ${f.perTillPer30Days} — ${f.what} (${f.alert}; service back ${f.startSeconds} s after a restart)`,
  )
  .join('; ')}. A person fixes a fault ${PERSON_FIX_HOURS[0]}–${PERSON_FIX_HOURS[1]} h after the page.

By fault kind:

${table(header, rows(byKind))}

By incident class:

${table(header, rows(byClass))}

**Auto-remediated: ${all.auto} of ${all.alerted} alerted faults with a safe action (${pct(all.auto, all.alerted)}); median fault → fix ${seconds(median(all.fix))}.**
Faults ended by a till's power-off before they alerted: ${[...byKind.values()].reduce((a, r) => a + r.powerOff, 0)}.
The bridge's own counter (tillwatch_bridge_remediation_tickets_total, summed over the seeds): ${Object.entries(
  counted,
)
  .map(
    ([c, o]) =>
      `${c} ${Object.entries(o)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
  )
  .join('; ')}. Agent outcomes: ${Object.entries(actions)
  .map(([k, v]) => `${k} ${v}`)
  .join(', ')}.
`);
