// Forecasts against a real Prometheus 2.42 with backfilled expiry timestamps and ALERTS history, and the
// real alert bridge (createApp on SQLite) fed the same incidents as Alertmanager webhooks.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HistoryPrometheus,
  seededRandom,
  type Series,
  startHistoryPrometheus,
} from '@tillwatch/testkit';
import { main } from '../cli.js';
import { startTicketBridge, type FiredAlert, type TicketBridge } from '../testdata/bridge.js';
import type { Forecast } from './forecast.js';

const SEC = 1000;
const MIN = 60_000;
const H = 3_600_000;
const DAY = 86_400_000;
const AT = Date.UTC(2026, 0, 5, 12, 0, 0);
const HISTORY_FROM = AT - 90 * DAY;
const MODELS = ['ШТРИХ-М-01Ф', 'АТОЛ 30Ф', 'АТОЛ 91Ф'];

// 60 tills, two per store, stores in two regions; every till reports its registrar model for the whole
// 90 days, every 2 hours (the history Prometheus looks back 3 hours).
const TILLS = Array.from({ length: 60 }, (_, i) => {
  const store = `s${String(Math.floor(i / 2) + 1).padStart(2, '0')}`;
  return {
    chain: 'c1',
    region: Math.floor(i / 2) % 2 ? 'r2' : 'r1',
    store,
    till: `${store}-t${(i % 2) + 1}`,
    model: MODELS[i % MODELS.length]!,
  };
});
const placeOf = (t: (typeof TILLS)[number]) => ({
  chain: t.chain,
  region: t.region,
  store: t.store,
  till: t.till,
});
const every = (from: number, to: number, step: number, v: number): Array<[number, number]> => {
  const out: Array<[number, number]> = [];
  for (let t = from; t <= to; t += step) out.push([t, v]);
  return out;
};

// FN expiry -> replacement due 30 days earlier -> week index from AT.
const FN: Array<[number, number]> = [
  [0, AT + 31 * DAY], // due AT+1d: week 0
  [1, AT + 45 * DAY], // due AT+15d: week 2
  [2, AT + 20 * DAY], // due 10 days ago: overdue
  [3, AT + 115 * DAY], // due AT+85d: week 12, the last of 13
];

// The known incidents: 110 moments over the history, at each 10 short firings on different tills (15 s
// to 2 minutes: a paper-out of 15 s is a single evaluation), cycling through four classes; five store
// outages (no till); one FN replacement whose 30-day warning becomes the 7-day alert 10 minutes later; and
// a paper-out back 20 minutes after it ended. Each of these is one incident.
const CLASSES = [
  ['TillFiscalPaperOut', 'fiscal.paper_out', 'critical'],
  ['TillFiscalRegistrarDown', 'fiscal.registrar_down', 'critical'],
  ['TillFiscalCoverOpen', 'fiscal.cover_open', 'critical'],
  ['TillFiscalClockDrift', 'fiscal.clock_drift', 'warning'],
] as const;
const DURATIONS = [15 * SEC, 45 * SEC, 2 * MIN];
const FIRINGS: FiredAlert[] = [];
const KNOWN: Record<string, number> = {};
const known = (cls: string) => (KNOWN[cls] = (KNOWN[cls] ?? 0) + 1);
{
  const rand = seededRandom(21);
  for (let k = 0; k < 110; k++) {
    // Whole 15-second evaluations, so the ALERTS samples below fall on the firing exactly.
    const at = HISTORY_FROM + DAY + Math.floor((k * 87 * DAY) / 110 / (15 * SEC)) * 15 * SEC;
    const start = Math.floor(rand() * 60);
    for (let j = 0; j < 10; j++) {
      const t = TILLS[(start + j * 6) % TILLS.length]!;
      const [alertname, cls, severity] = CLASSES[(k + j) % CLASSES.length]!;
      FIRINGS.push({
        labels: { alertname, ...placeOf(t), device: 'kkt', incident_class: cls, severity },
        startsAt: at,
        endsAt: at + DURATIONS[(k + j) % DURATIONS.length]!,
      });
      known(cls);
    }
  }
  for (let k = 0; k < 5; k++) {
    const at = HISTORY_FROM + (10 + 15 * k) * DAY + 7 * H;
    const { chain, region, store } = TILLS[k * 4]!;
    FIRINGS.push({
      labels: {
        alertname: 'TillStoreUnreachable',
        chain,
        region,
        store,
        incident_class: 'network.store_unreachable',
        severity: 'critical',
      },
      startsAt: at,
      endsAt: at + 3 * MIN,
    });
    known('network.store_unreachable');
  }
  const fnTill = { ...placeOf(TILLS[2]!), device: 'kkt', incident_class: 'fiscal.fn_expiry' };
  const w = AT - 10 * DAY - 4 * H;
  FIRINGS.push(
    {
      labels: { alertname: 'TillFiscalFnExpiresIn30Days', ...fnTill, severity: 'warning' },
      startsAt: w,
      endsAt: w + 4 * H,
    },
    {
      labels: { alertname: 'TillFiscalFnExpiresIn7Days', ...fnTill, severity: 'critical' },
      startsAt: w + 4 * H + 10 * MIN,
      endsAt: w + 7 * H,
    },
  );
  known('fiscal.fn_expiry');
  const paper = {
    alertname: 'TillFiscalPaperOut',
    ...placeOf(TILLS[5]!),
    device: 'kkt',
    incident_class: 'fiscal.paper_out',
    severity: 'critical',
  };
  const p = AT - 3 * DAY + 5 * H;
  FIRINGS.push(
    { labels: paper, startsAt: p, endsAt: p + MIN },
    { labels: paper, startsAt: p + 21 * MIN, endsAt: p + 22 * MIN },
  );
  known('fiscal.paper_out');
}
const TOTAL_KNOWN = Object.values(KNOWN).reduce((a, b) => a + b, 0);

/** ALERTS as Prometheus records it: one sample per 15-second evaluation while the alert fires. */
function alertsSeries(firings: FiredAlert[]): Series[] {
  const byLabels = new Map<string, Series & { samples: Array<[number, number]> }>();
  for (const f of firings) {
    const labels = { ...f.labels, alertstate: 'firing' };
    const key = JSON.stringify(Object.entries(labels).sort());
    let s = byLabels.get(key);
    if (!s) byLabels.set(key, (s = { name: 'ALERTS', labels, samples: [] }));
    for (let t = f.startsAt; t < f.endsAt!; t += 15 * SEC) s.samples.push([t, 1]);
  }
  for (const s of byLabels.values()) s.samples.sort((a, b) => a[0] - b[0]);
  return [...byLabels.values()];
}

const recent = (v: number) => every(AT - 2 * H, AT, 10 * MIN, v);
const SERIES: Series[] = [
  ...FN.map(([i, exp]) => ({
    name: 'till_fiscal_fn_expiry_timestamp_seconds',
    labels: { ...placeOf(TILLS[i]!), device: 'kkt' },
    samples: recent(exp / 1000),
  })),
  {
    name: 'till_utm_certificate_expiry_timestamp_seconds',
    labels: { ...placeOf(TILLS[0]!), device: 'utm', certificate: 'gost' },
    samples: recent((AT + 40 * DAY) / 1000),
  },
  {
    name: 'till_utm_certificate_expiry_timestamp_seconds',
    labels: { ...placeOf(TILLS[0]!), device: 'utm', certificate: 'rsa' },
    samples: recent((AT + 400 * DAY) / 1000),
  },
  ...TILLS.map((t) => ({
    name: 'till_fiscal_info',
    labels: { ...placeOf(t), device: 'kkt', model: t.model },
    samples: every(HISTORY_FROM, AT, 2 * H, 1),
  })),
  ...TILLS.map((t) => ({
    name: 'up',
    labels: { ...placeOf(t), job: 'tillwatch-exporter', instance: `127.0.0.1:${t.till.length}` },
    samples: every(HISTORY_FROM, AT, 2 * H, 1),
  })),
  ...alertsSeries(FIRINGS),
];

let prom: HistoryPrometheus;
let bridge: TicketBridge;
beforeAll(async () => {
  [prom, bridge] = await Promise.all([
    startHistoryPrometheus(SERIES, { maxBlockDuration: '744h', lookbackDelta: '3h' }),
    startTicketBridge(),
  ]);
  await bridge.replay(FIRINGS);
});
afterAll(async () => Promise.all([prom?.stop(), bridge?.stop()]));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const base = () => ['forecast', '--prometheus', prom.url, '--at', String(AT / 1000)];
const perClass = (f: Forecast) => {
  const out: Record<string, number> = {};
  for (const r of f.failures) out[r.incidentClass] = (out[r.incidentClass] ?? 0) + r.incidents;
  return out;
};

describe('tillwatch forecast', () => {
  it('counts FN replacements and certificate renewals per week and region', async () => {
    const r = await run([...base(), '--section', 'fn', '--format', 'json']);
    expect(r.code, r.err).toBe(0);
    const week = (k: number) => new Date(AT + k * 7 * DAY).toISOString().slice(0, 10);
    expect((JSON.parse(r.out) as Forecast).fnReplacements).toEqual([
      { region: 'r1', week: week(0), count: 1 },
      { region: 'r1', week: week(2), count: 1 },
      { region: 'r2', week: 'overdue', count: 1 },
      { region: 'r2', week: week(12), count: 1 },
    ]);
    const certs = await run([...base(), '--section', 'certs', '--format', 'json']);
    expect((JSON.parse(certs.out) as Forecast).certificateRenewals).toEqual([
      { region: 'r1', week: week(1), count: 1 },
    ]);
  });

  it('counts every short incident of a 90-day history exactly once, from ALERTS and from 1,100+ bridge tickets', async () => {
    expect(TOTAL_KNOWN).toBeGreaterThan(1000);
    const fromAlerts = await run([...base(), '--section', 'failures', '--format', 'json']);
    expect(fromAlerts.code, fromAlerts.err).toBe(0);
    const a = JSON.parse(fromAlerts.out) as Forecast;
    expect(a.failureSource).toBe('alerts');
    expect(perClass(a)).toEqual(KNOWN);

    const fromBridge = await run([
      ...base(),
      '--section',
      'failures',
      '--format',
      'json',
      '--bridge',
      bridge.url,
      '--bridge-token',
      bridge.token,
    ]);
    expect(fromBridge.code, fromBridge.err).toBe(0);
    // More tickets than one page of the list API: read by splitting, without a warning of a shortfall.
    expect(fromBridge.err).not.toMatch(/warning: .*tickets/);
    const b = JSON.parse(fromBridge.out) as Forecast;
    expect(b.failureSource).toBe('bridge');
    expect(perClass(b)).toEqual(KNOWN);
    // The same rows per class and model from both sources; store outages have no model.
    const rows = (f: Forecast) =>
      f.failures
        .map((r) => [r.incidentClass, r.model, r.incidents])
        .sort((x, y) => (String(x) < String(y) ? -1 : 1));
    expect(rows(b)).toEqual(rows(a));
    expect(a.failures.find((r) => r.incidentClass === 'network.store_unreachable')).toMatchObject({
      model: '',
      incidents: 5,
      ratePerTillMonth: null,
      expectedNextMonth: 5 / 3,
    });
  });

  it('rates per till-month of the history it has, with engineer hours from the knowledge base it finds', async () => {
    const r = await run([...base(), '--section', 'failures', '--format', 'json']);
    const f = JSON.parse(r.out) as Forecast;
    expect(f.history).toMatchObject({ requestedMs: 90 * DAY, coveredMs: 90 * DAY });
    expect(f.warnings).toEqual([]);
    // 20 tills of each model for 90 days: 60 till-months per model.
    const row = f.failures.find((x) => x.incidentClass === 'fiscal.paper_out' && x.model === MODELS[0])!;
    expect(f.history.tillDaysByModel[MODELS[0]!]).toBeCloseTo(20 * 90, 0);
    // (The till-days are sampled at 1/2000 of the history: within 0.1 %.)
    expect(row.ratePerTillMonth).toBeCloseTo(row.incidents / 60, 2);
    expect(row.expectedNextMonth).toBeCloseTo(row.incidents / 3, 1);
    // Found without --knowledge-base, wherever the command runs: paper-out takes 10 minutes per its card.
    expect(row).toMatchObject({ expectedMinutes: 10 });
    expect(row.engineerHours).toBeCloseTo((row.expectedNextMonth * 10) / 60, 6);

    // Two days into the same history: the rates are per those two days, and the report says why to
    // distrust them.
    const early = await run([
      'forecast',
      '--prometheus',
      prom.url,
      '--at',
      String((HISTORY_FROM + 2 * DAY) / 1000),
      '--history',
      '90d',
      '--section',
      'failures',
      '--format',
      'json',
    ]);
    const e = JSON.parse(early.out) as Forecast;
    expect(e.history.coveredMs).toBe(2 * DAY);
    expect(e.warnings).toEqual([
      `data covers only 2d of the 90d asked (from ${new Date(HISTORY_FROM).toISOString()}): rates are per the time covered`,
      '2d of history is short for a forecast of the next 30d: rare failures are missed and one incident weighs 15.0x',
    ]);
    expect(early.err).toContain('warning: 2d of history is short for a forecast of the next 30d');
    const erow = e.failures.find((x) => x.model !== '')!;
    expect(e.failures.reduce((a, x) => a + x.incidents, 0)).toBe(20);
    expect(erow.ratePerTillMonth).toBeCloseTo(erow.incidents / (20 * (2 / 30)), 2);
  });

  it('writes durations for people, one CSV per section, and a wide table', async () => {
    const table = await run([...base(), '--section', 'failures', '--history', '36h']);
    expect(table.out).toMatch(/^Failures over the last 1d12h, from ALERTS, and next month$/m);
    expect(table.out).toMatch(/^engineer hours next month: \d+\.\d$/m);
    const csv = await run([...base(), '--section', 'fn', '--format', 'csv']);
    expect(csv.out.split('\n')).toEqual([
      'region,week_start,due',
      'r1,2026-01-05,1',
      'r1,2026-01-19,1',
      'r2,overdue,1',
      'r2,2026-03-30,1',
    ]);
    const certs = await run([...base(), '--section', 'certs']);
    expect(certs.out).toMatch(/^r1 +0 +0 +1 +0/m);
    const bad = await run(['forecast', '--prometheus', prom.url, '--format', 'csv']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--format csv: give --section');
  });

  it('fails clearly without a knowledge base, and uses the one $TILLWATCH_KNOWLEDGE_BASE names', async () => {
    const missing = join(tmpdir(), 'tillwatch-no-such-knowledge-base');
    const r = await run([...base(), '--section', 'failures', '--knowledge-base', missing]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: knowledge base not found; looked in ${missing}; give --knowledge-base DIR`);
    // Not needed for the FN table.
    expect((await run([...base(), '--section', 'fn', '--knowledge-base', missing])).code).toBe(0);

    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-kb-'));
    writeFileSync(join(dir, 'paper.yml'), 'incident_class: fiscal.paper_out\nexpected_minutes: 25\n');
    process.env.TILLWATCH_KNOWLEDGE_BASE = dir;
    try {
      const f = JSON.parse(
        (await run([...base(), '--section', 'failures', '--format', 'json'])).out,
      ) as Forecast;
      expect(f.failures.find((x) => x.incidentClass === 'fiscal.paper_out')).toMatchObject({
        expectedMinutes: 25,
      });
      expect(f.warnings[0]).toMatch(
        /^no expected_minutes in the knowledge base for .*fiscal\.registrar_down/,
      );
    } finally {
      delete process.env.TILLWATCH_KNOWLEDGE_BASE;
    }
  });
});

describe('tillwatch forecast against a Prometheus that keeps 30 days', () => {
  let short: HistoryPrometheus;
  beforeAll(async () => {
    // 90 days of two tills; Prometheus deletes the blocks older than its retention at start.
    short = await startHistoryPrometheus(
      TILLS.slice(0, 2).map((t) => ({
        name: 'till_fiscal_info',
        labels: { ...placeOf(t), device: 'kkt', model: t.model },
        samples: every(HISTORY_FROM, AT, 2 * H, 1),
      })),
      { maxBlockDuration: '24h', lookbackDelta: '3h', retention: '30d' },
    );
  });
  afterAll(async () => short?.stop());

  it('defaults the history to the retention, and warns when asked for more than it keeps', async () => {
    const args = [
      'forecast',
      '--prometheus',
      short.url,
      '--at',
      String(AT / 1000),
      '--section',
      'failures',
      '--format',
      'json',
    ];
    const d = JSON.parse((await run(args)).out) as Forecast;
    expect(d.history.requestedMs).toBe(30 * DAY);
    expect(d.warnings).toEqual([]);
    const r = await run([...args, '--history', '90d']);
    const f = JSON.parse(r.out) as Forecast;
    expect(f.warnings[0]).toBe(
      'the history asked (90d) is longer than Prometheus keeps (--storage.tsdb.retention.time 30d)',
    );
    expect(f.warnings[1]).toMatch(/^data covers only 3\dd\S* of the 90d asked/);
  });
});
