// Forecasts against a real Prometheus 2.42 with backfilled expiry timestamps and ALERTS history.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  close,
  type HistoryPrometheus,
  listen,
  type Series,
  startHistoryPrometheus,
} from '@tillwatch/testkit';
import { main } from '../cli.js';
import type { Forecast } from './forecast.js';

const DAY = 86_400_000;
const H = 3_600_000;
const AT = Date.UTC(2026, 0, 5, 12, 0, 0);
const KB = fileURLToPath(new URL('../../../alert-bridge/knowledge-base', import.meta.url));

const recent = (v: number): Array<[number, number]> =>
  Array.from({ length: 13 }, (_, k) => [AT - 2 * H + k * 10 * 60_000, v]);
const till = (t: string, region: string) => ({ chain: 'c', region, store: `${t}-store`, till: t });
// Expiry -> replacement due 30 days earlier -> week index from AT.
const FN: Array<[string, string, number]> = [
  ['a', 'r1', AT + 31 * DAY], // due AT+1d: week 0
  ['b', 'r1', AT + 45 * DAY], // due AT+15d: week 2
  ['c', 'r2', AT + 20 * DAY], // due 10 days ago: overdue
  ['d', 'r2', AT + 115 * DAY], // due AT+85d: week 12, the last of 13
  ['e', 'r2', AT + 200 * DAY], // beyond 13 weeks
];
const MODEL: Record<string, string> = {
  a: 'ШТРИХ-М-01Ф',
  b: 'ШТРИХ-М-01Ф',
  c: 'АТОЛ 30Ф',
  d: 'АТОЛ 30Ф',
  e: 'АТОЛ 30Ф',
};

function firing(t: string, alertname: string, cls: string, start: number, hours: number): Series {
  return {
    name: 'ALERTS',
    labels: {
      ...till(t, t === 'a' || t === 'b' ? 'r1' : 'r2'),
      alertname,
      alertstate: 'firing',
      incident_class: cls,
      severity: 'warning',
    },
    samples: Array.from({ length: hours * 60 }, (_, k) => [start + k * 60_000, 1] as [number, number]),
  };
}

const SERIES: Series[] = [
  ...FN.map(([t, r, exp]) => ({
    name: 'till_fiscal_fn_expiry_timestamp_seconds',
    labels: { ...till(t, r), device: 'fiscal' },
    samples: recent(exp / 1000),
  })),
  {
    name: 'till_utm_certificate_expiry_timestamp_seconds',
    labels: { ...till('a', 'r1'), device: 'utm', certificate: 'gost' },
    samples: recent((AT + 40 * DAY) / 1000),
  },
  {
    name: 'till_utm_certificate_expiry_timestamp_seconds',
    labels: { ...till('a', 'r1'), device: 'utm', certificate: 'rsa' },
    samples: recent((AT + 400 * DAY) / 1000),
  },
  ...FN.map(([t, r]) => ({
    name: 'till_fiscal_info',
    labels: { ...till(t, r), device: 'fiscal', model: MODEL[t]! },
    samples: recent(1),
  })),
  // Paper out three times on a (ШТРИХ), once on c (АТОЛ); c's FN warning escalates from the 30-day to the
  // 7-day alert without a gap: one incident.
  firing('a', 'TillFiscalPaperOut', 'fiscal.paper_out', AT - 80 * DAY, 2),
  firing('a', 'TillFiscalPaperOut', 'fiscal.paper_out', AT - 50 * DAY, 2),
  firing('a', 'TillFiscalPaperOut', 'fiscal.paper_out', AT - 20 * DAY, 2),
  firing('c', 'TillFiscalPaperOut', 'fiscal.paper_out', AT - 30 * DAY, 2),
  firing('c', 'TillFiscalFnExpiresIn30Days', 'fiscal.fn_expiry', AT - 10 * DAY - 4 * H, 4),
  firing('c', 'TillFiscalFnExpiresIn7Days', 'fiscal.fn_expiry', AT - 10 * DAY, 3),
  // Older than the 90-day history: not counted.
  firing('b', 'TillFiscalPaperOut', 'fiscal.paper_out', AT - 100 * DAY, 2),
];

let prom: HistoryPrometheus;
beforeAll(async () => {
  prom = await startHistoryPrometheus(SERIES, { maxBlockDuration: '744h' });
});
afterAll(async () => prom?.stop());

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tillwatch forecast', () => {
  it('counts FN replacements and certificate renewals per week and region, and failures per class and model', async () => {
    const r = await run([
      'forecast',
      '--prometheus',
      prom.url,
      '--at',
      String(AT / 1000),
      '--knowledge-base',
      KB,
      '--format',
      'json',
    ]);
    expect(r.err).toBe('');
    const f = JSON.parse(r.out) as Forecast;
    const week = (k: number) => new Date(AT + k * 7 * DAY).toISOString().slice(0, 10);
    expect(f.fnReplacements).toEqual([
      { region: 'r1', week: week(0), count: 1 },
      { region: 'r1', week: week(2), count: 1 },
      { region: 'r2', week: 'overdue', count: 1 },
      { region: 'r2', week: week(12), count: 1 },
    ]);
    expect(f.certificateRenewals).toEqual([{ region: 'r1', week: week(1), count: 1 }]);
    expect(f.failureSource).toBe('alerts');
    // 90 days = 3 months: 3 incidents -> 1 next month; paper_out takes 10 minutes, fn_expiry 60.
    expect(f.failures).toEqual([
      {
        incidentClass: 'fiscal.paper_out',
        model: 'ШТРИХ-М-01Ф',
        incidents: 3,
        tills: 2,
        ratePerTillMonth: 0.5,
        expectedNextMonth: 1,
        expectedMinutes: 10,
        engineerHours: 10 / 60,
      },
      {
        incidentClass: 'fiscal.fn_expiry',
        model: 'АТОЛ 30Ф',
        incidents: 1,
        tills: 3,
        ratePerTillMonth: 1 / 9,
        expectedNextMonth: 1 / 3,
        expectedMinutes: 60,
        engineerHours: 1 / 3,
      },
      {
        incidentClass: 'fiscal.paper_out',
        model: 'АТОЛ 30Ф',
        incidents: 1,
        tills: 3,
        ratePerTillMonth: 1 / 9,
        expectedNextMonth: 1 / 3,
        expectedMinutes: 10,
        engineerHours: 10 / 180,
      },
    ]);
  });

  it('writes one CSV per section for planners, and a wide table for people', async () => {
    const csv = await run([
      'forecast',
      '--prometheus',
      prom.url,
      '--at',
      String(AT / 1000),
      '--section',
      'fn',
      '--format',
      'csv',
    ]);
    expect(csv.out.split('\n')).toEqual([
      'region,week_start,due',
      'r1,2026-01-05,1',
      'r1,2026-01-19,1',
      'r2,overdue,1',
      'r2,2026-03-30,1',
    ]);
    const table = await run([
      'forecast',
      '--prometheus',
      prom.url,
      '--at',
      String(AT / 1000),
      '--section',
      'certs',
    ]);
    expect(table.out).toMatch(/^r1 +0 +0 +1 +0/m);
    const bad = await run(['forecast', '--prometheus', prom.url, '--format', 'csv']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--format csv: give --section');
  });

  it('takes the failure history from the bridge ticket API when given', async () => {
    // A stub of the bridge's GET /api/v1/tickets (shape from alert-bridge/README.md); the bridge itself is
    // tested in its own package.
    const tickets = [
      {
        id: 1,
        incident_class: 'fiscal.paper_out',
        till: 'd',
        store: 'd-store',
        opened_at: new Date(AT - 5 * DAY).toISOString(),
        resolved_at: null,
        alerts: [],
      },
      {
        id: 2,
        incident_class: 'fiscal.paper_out',
        till: 'e',
        store: 'e-store',
        opened_at: new Date(AT - 6 * DAY).toISOString(),
        resolved_at: null,
        alerts: [],
      },
    ];
    let auth: string | undefined;
    const server: Server = createServer((req, res) => {
      auth = req.headers.authorization;
      res.setHeader('content-type', 'application/json').end(JSON.stringify({ tickets }));
    });
    const port = await listen(server);
    try {
      const r = await run([
        'forecast',
        '--prometheus',
        prom.url,
        '--at',
        String(AT / 1000),
        '--history',
        '30d',
        '--bridge',
        `http://127.0.0.1:${port}`,
        '--bridge-token',
        's3cret',
        '--section',
        'failures',
        '--format',
        'json',
      ]);
      const f = JSON.parse(r.out) as Forecast;
      expect(auth).toBe('Bearer s3cret');
      expect(f.failureSource).toBe('bridge');
      expect(f.failures).toMatchObject([
        { incidentClass: 'fiscal.paper_out', model: 'АТОЛ 30Ф', incidents: 2, expectedNextMonth: 2 },
      ]);
    } finally {
      await close(server);
    }
  });
});
