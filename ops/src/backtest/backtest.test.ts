// The backtest against a real Prometheus 2.42 over backfilled history, with hand-computed answers, and
// scored against tickets of the real alert bridge (createApp on SQLite, fed Alertmanager's webhooks).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  type HistoryPrometheus,
  repoPath,
  type Series,
  startHistoryPrometheus,
} from '@tillwatch/testkit';
import { backtest } from './backtest.js';
import { LEAD_NOTE } from './format.js';
import { loadRules } from './rules.js';
import { main } from '../cli.js';
import { startTicketBridge } from '../testdata/bridge.js';

const MIN = 60_000;
const STEP = 15_000;
// A fixed hour well in the past: promtool only backfills blocks older than the head, and the answers
// below must not depend on when the test runs.
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const T1 = T0 + 60 * MIN;

function samples(value: (t: number) => number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t = T0; t <= T1; t += STEP) out.push([t, value(t)]);
  return out;
}

// bt_signal is 1 for exactly 10 minutes: samples T0+10m .. T0+19m45s, 0 before and after.
const signal = (t: number) => (t >= T0 + 10 * MIN && t < T0 + 20 * MIN ? 1 : 0);
// bt_flap: 1 for one minute every three minutes, five times from T0+30m (starts at 30, 33, 36, 39, 42).
const flap = (t: number) => {
  const k = (t - (T0 + 30 * MIN)) / MIN;
  return k >= 0 && k < 15 && k % 3 < 1 ? 1 : 0;
};

// A store outage: both tills of s1 unreachable from T0+10m to T0+30m (their alerts are muted by the store
// alert); t3 of s2 alone from T0+40m to T0+45m, while s2's t4 stays up.
const up = (store: string, till: string, down: (t: number) => boolean): Series => ({
  name: 'up',
  labels: {
    job: 'tillwatch-exporter',
    instance: `127.0.0.1:${till.slice(1)}`,
    chain: 'c1',
    region: 'r1',
    store,
    till,
  },
  samples: samples((t) => (down(t) ? 0 : 1)),
});
const storeDown = (t: number) => t >= T0 + 10 * MIN && t < T0 + 30 * MIN;

const SERIES: Series[] = [
  { name: 'bt_signal', labels: { store: 's1', till: 't1' }, samples: samples(signal) },
  { name: 'bt_flap', labels: { store: 's1', till: 't2' }, samples: samples(flap) },
  up('s1', 't1', storeDown),
  up('s1', 't2', storeDown),
  up('s2', 't3', (t) => t >= T0 + 40 * MIN && t < T0 + 45 * MIN),
  up('s2', 't4', () => false),
];

const RULES = `
groups:
  - name: bt
    rules:
      - record: bt:signal:on
        expr: bt_signal == 1
      - alert: For0
        expr: bt_signal == 1
        labels: { severity: warning, incident_class: bt.signal }
      - alert: For5m
        expr: bt:signal:on
        for: 5m
        labels: { severity: warning, incident_class: bt.signal }
      - alert: For9m
        expr: bt_signal == 1
        for: 9m
        labels: { severity: warning, incident_class: bt.signal }
      - alert: For10m
        expr: bt_signal == 1
        for: 10m
        labels: { severity: warning, incident_class: bt.signal }
      - alert: Flap
        expr: bt_flap == 1
        labels: { severity: warning, incident_class: bt.flap }
      - alert: FlapKept
        expr: bt_flap == 1
        keep_firing_for: 3m
        labels: { severity: warning, incident_class: bt.flap }
`;

let prom: HistoryPrometheus;
let rulesFile: string;
beforeAll(async () => {
  prom = await startHistoryPrometheus(SERIES);
  rulesFile = join(mkdtempSync(join(tmpdir(), 'tillwatch-bt-')), 'bt.yml');
  writeFileSync(rulesFile, RULES);
});
afterAll(async () => prom?.stop());

const range = (...rules: string[]) => [
  'backtest',
  ...rules.flatMap((r) => ['--rules', r]),
  '--prometheus',
  prom.url,
  '--from',
  String(T0 / 1000),
  '--to',
  String(T1 / 1000),
];

async function runJson(args: string[]): Promise<Awaited<ReturnType<typeof backtest>>> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, '--format', 'json'], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  expect(code, err.join('\n')).toBe(0);
  return JSON.parse(out.join('\n')) as Awaited<ReturnType<typeof backtest>>;
}

describe('backtest on backfilled history', () => {
  it('replays for, keep_firing_for and flapping as Prometheus would', async () => {
    const r = await backtest(loadRules([rulesFile]), {
      prometheus: prom.url,
      fromMs: T0,
      toMs: T1,
      stepMs: STEP,
    });
    const by = Object.fromEntries(r.alerts.map((a) => [a.alert, a]));
    expect(r.alerts.every((a) => a.error === undefined)).toBe(true);
    // for 0: fires at the first true evaluation, resolves at the first false one: the full 10 minutes.
    expect(by.For0).toMatchObject({ firings: 1, firingMs: 10 * MIN, tills: 1, flappingSeries: 0 });
    // for 5m (through an inlined recording rule): firing from T0+15m to T0+20m.
    expect(by.For5m).toMatchObject({ firings: 1, firingMs: 5 * MIN, tills: 1 });
    const e5 = r.episodes.find((e) => e.alert === 'For5m')!;
    expect([e5.activeAt, e5.start, e5.end]).toEqual([T0 + 10 * MIN, T0 + 15 * MIN, T0 + 20 * MIN]);
    expect(e5.labels).toMatchObject({
      till: 't1',
      store: 's1',
      incident_class: 'bt.signal',
      alertname: 'For5m',
    });
    expect(by.For9m).toMatchObject({ firings: 1, firingMs: 1 * MIN });
    // for equal to the time above the threshold: the condition is false at the evaluation that would fire.
    expect(by.For10m).toMatchObject({ firings: 0, firingMs: 0, tills: 0 });
    // Five one-minute firings, five starts within an hour: flapping.
    expect(by.Flap).toMatchObject({ firings: 5, firingMs: 5 * MIN, flappingSeries: 1 });
    // keep_firing_for 3m bridges the two-minute gaps: one firing from T0+30m to 3m after the last true
    // evaluation's successor (last true T0+42m45s, first false T0+43m, resolved T0+46m).
    expect(by.FlapKept).toMatchObject({ firings: 1, firingMs: 16 * MIN, flappingSeries: 0 });
    expect(r.summary).toMatchObject({ firings: 9, tillsAffected: 2 });
  });

  it('splits ranges above 11,000 points into several queries and gets the same answer', async () => {
    const rules = loadRules([rulesFile]).filter((a) => a.name === 'For0');
    const r = await backtest(rules, { prometheus: prom.url, fromMs: T0, toMs: T1, stepMs: 250 });
    expect(r.alerts[0]).toMatchObject({ firings: 1, firingMs: 10 * MIN });
  });

  it('scores firings against incidents: precision, recall and lead time', async () => {
    const incidents = [
      // Became critical at T0+18m: For0 (T0+10m) leads by 8 minutes, For5m by 3.
      {
        id: '1',
        till: 't1',
        incidentClass: 'bt.signal',
        start: T0 + 18 * MIN,
        end: T0 + 25 * MIN,
        criticalAt: T0 + 18 * MIN,
      },
      // An incident no alert saw.
      { id: '2', till: 't9', incidentClass: 'bt.signal', start: T0 + 5 * MIN, criticalAt: T0 + 5 * MIN },
    ];
    const r = await backtest(loadRules([rulesFile]), {
      prometheus: prom.url,
      fromMs: T0,
      toMs: T1,
      stepMs: STEP,
      incidents,
      matchWindowMs: 30 * MIN,
      tills: 10,
    });
    const by = Object.fromEntries(r.alerts.map((a) => [a.alert, a]));
    expect(by.For0).toMatchObject({ matched: 1, precision: 1, recall: 0.5, medianLeadMs: 8 * MIN });
    expect(by.For5m).toMatchObject({ matched: 1, medianLeadMs: 3 * MIN });
    expect(by.Flap).toMatchObject({ matched: 0, precision: 0, recall: null });
    expect(r.incidents![0]).toMatchObject({ firstAlert: 'For0', leadMs: 8 * MIN });
    // 8 firings, 3 matched (For0, For5m, For9m); 5 Flap + 1 FlapKept are false alarms over 1 h on 10 tills.
    expect(r.summary).toMatchObject({
      matchedFirings: 3,
      falseAlarms: 6,
      recall: 0.5,
      alertedBeforeCritical: 0.5,
    });
    expect(r.summary.falseAlarmsPer1000TillsPerDay).toBeCloseTo((6 / 10 / (1 / 24)) * 1000);
  });

  it('runs as `tillwatch backtest`, in CSV and as a comparison of two rule versions', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const base = range(rulesFile);
    expect(await main([...base, '--format', 'csv'], io)).toBe(0);
    const lines = out.join('\n').split('\n');
    expect(lines[0]).toBe(
      'alert,for,keep_firing_for,firings,firing_seconds,inhibited,tills,flapping_series,error',
    );
    expect(lines).toContain('For5m,300,0,1,300,0,1,0,');

    const newer = join(mkdtempSync(join(tmpdir(), 'tillwatch-bt-')), 'bt.yml');
    writeFileSync(newer, RULES.replace('for: 5m', 'for: 2m'));
    out.length = 0;
    expect(
      await main(
        ['backtest', '--rules', newer, '--compare', rulesFile, ...base.slice(3), '--format', 'json'],
        io,
      ),
    ).toBe(0);
    const rows = JSON.parse(out.join('\n')) as Array<{
      alert: string;
      status: string;
      old: { firingMs: number };
      new: { firingMs: number };
    }>;
    const f5 = rows.find((x) => x.alert === 'For5m')!;
    expect(f5).toMatchObject({ status: 'changed', old: { firingMs: 5 * MIN }, new: { firingMs: 8 * MIN } });
    expect(rows.find((x) => x.alert === 'For0')!.status).toBe('same');
  });

  it("scores against the real bridge's tickets: critical time from the first critical alert on the ticket", async () => {
    const bridge = await startTicketBridge();
    const signal = { alertname: 'SignalAlert', store: 's1', till: 't1', incident_class: 'bt.signal' };
    try {
      // One problem: a warning at T0+12m, the critical alert joining at T0+19m (one ticket, same place and
      // class), both resolved at T0+30m; and a ticket after the range, which the backtest leaves out.
      await bridge.notify(T0 + 12 * MIN, [
        { labels: { ...signal, severity: 'warning' }, startsAt: T0 + 12 * MIN },
      ]);
      await bridge.notify(T0 + 19 * MIN, [
        { labels: { ...signal, severity: 'warning' }, startsAt: T0 + 12 * MIN },
        { labels: { ...signal, alertname: 'SignalCritical', severity: 'critical' }, startsAt: T0 + 19 * MIN },
      ]);
      await bridge.notify(T0 + 30 * MIN, [
        { labels: { ...signal, severity: 'warning' }, startsAt: T0 + 12 * MIN, endsAt: T0 + 30 * MIN },
        {
          labels: { ...signal, alertname: 'SignalCritical', severity: 'critical' },
          startsAt: T0 + 19 * MIN,
          endsAt: T0 + 30 * MIN,
        },
      ]);
      await bridge.notify(T1 + 60 * MIN, [
        {
          labels: {
            alertname: 'Flap',
            store: 's1',
            till: 't2',
            incident_class: 'bt.flap',
            severity: 'warning',
          },
          startsAt: T1 + 60 * MIN,
        },
      ]);
      const r = await runJson([
        ...range(rulesFile),
        '--bridge',
        bridge.url,
        '--bridge-token',
        bridge.token,
        '--match-window',
        '30m',
        '--tills',
        '2',
      ]);
      expect(r.incidents).toHaveLength(1);
      expect(r.incidents![0]!.incident).toMatchObject({
        store: 's1',
        till: 't1',
        incidentClass: 'bt.signal',
      });
      // Critical at T0+19m; For0 started at T0+10m: 9 minutes of warning.
      expect(r.incidents![0]).toMatchObject({ firstAlert: 'For0', leadMs: 9 * MIN });
      const by = Object.fromEntries(r.alerts.map((a) => [a.alert, a]));
      expect(by.For9m).toMatchObject({ matched: 1, precision: 1, recall: 1, medianLeadMs: 0 });
      expect(r.summary).toMatchObject({
        recall: 1,
        alertedBeforeCritical: 1,
        matchedFirings: 3,
        falseAlarms: 6,
      });
    } finally {
      await bridge.stop();
    }
  });

  it('matches a store outage to its store ticket and does not count the tills Alertmanager muted', async () => {
    // What Alertmanager 0.25 with deploy/alertmanager.yml sends the bridge: the store alert (its startsAt is
    // when the condition began, it fires 30 s later, group_wait 5 s), resolved at the first evaluation without
    // it; t1 and t2's TillUnreachable are inhibited and never sent; t3's own outage is.
    const bridge = await startTicketBridge();
    const storeAlert = {
      alertname: 'TillStoreUnreachable',
      chain: 'c1',
      region: 'r1',
      store: 's1',
      severity: 'critical',
      team: 'network',
      incident_class: 'network.store_unreachable',
    };
    const tillAlert = {
      alertname: 'TillUnreachable',
      chain: 'c1',
      region: 'r1',
      store: 's2',
      till: 't3',
      instance: '127.0.0.1:3',
      job: 'tillwatch-exporter',
      severity: 'warning',
      team: 'network',
      incident_class: 'network.till_unreachable',
    };
    try {
      await bridge.replay([
        { labels: storeAlert, startsAt: T0 + 10 * MIN, endsAt: T0 + 30 * MIN },
        { labels: tillAlert, startsAt: T0 + 40 * MIN, endsAt: T0 + 45 * MIN },
      ]);
      const network = [repoPath('rules', 'network.yml'), repoPath('rules', 'recording.yml')];
      const args = [
        ...range(network[0]!, network[1]!),
        '--bridge',
        bridge.url,
        '--bridge-token',
        bridge.token,
        '--tills',
        '4',
      ];
      const r = await runJson([...args, '--alertmanager-config', repoPath('deploy', 'alertmanager.yml')]);
      const by = Object.fromEntries(r.alerts.map((a) => [a.alert, a]));
      expect(r.incidents!.map((i) => i.incident.incidentClass).sort()).toEqual([
        'network.store_unreachable',
        'network.till_unreachable',
      ]);
      // The store alert is a true positive of its store ticket; it fired 30 s (its `for`) after the ticket's
      // critical time, which the report counts as caught after critical.
      expect(by.TillStoreUnreachable).toMatchObject({
        firings: 1,
        inhibited: 0,
        matched: 1,
        precision: 1,
        recall: 1,
        medianLeadMs: -30_000,
        caughtAfterCritical: 1,
      });
      // Three till firings: t1 and t2 muted by the store alert, t3 matched to its own ticket.
      expect(by.TillUnreachable).toMatchObject({
        firings: 3,
        inhibited: 2,
        matched: 1,
        precision: 1,
        recall: 1,
      });
      expect(r.summary).toMatchObject({
        inhibited: 2,
        falseAlarms: 0,
        precision: 1,
        recall: 1,
        alertedAfterCritical: 1,
        medianDelayAfterCriticalMs: 30_000,
      });
      expect(r.inhibition).toMatchObject({
        file: repoPath('deploy', 'alertmanager.yml'),
        groupWaitMs: 30_000,
      });

      // Without the inhibit rules, the muted till alerts would be two false alarms.
      const raw = await runJson([...args, '--alertmanager-config', 'none']);
      expect(raw.summary).toMatchObject({ inhibited: 0, falseAlarms: 2 });

      // The table says what a negative lead means.
      const out: string[] = [];
      expect(await main([...args, '--format', 'table'], { out: (l) => out.push(l), err: () => {} })).toBe(0);
      const text = out.join('\n');
      expect(text).toContain('30s after critical');
      expect(text).toContain('alerted only after critical: 1 incidents, median 30s after');
      expect(text).toContain(LEAD_NOTE);
      expect(text).toMatch(/inhibit rules: \d+ from .*deploy\/alertmanager\.yml/);
    } finally {
      await bridge.stop();
    }
  });

  it('says so once, and why, when Prometheus cannot be reached', async () => {
    const err: string[] = [];
    const url = `http://127.0.0.1:${await closedPort()}`;
    const code = await main(
      ['backtest', '--rules', rulesFile, '--prometheus', url, '--from', 'now-1h', '--to', 'now'],
      { out: () => {}, err: (l) => err.push(l) },
    );
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toBe(`error: --prometheus ${url}: cannot connect: ECONNREFUSED`);
  });

  it('shows progress on stderr with --progress, one line per 10% of the range queries', async () => {
    // A 250ms step over the hour is 14,401 points: two query_range requests per rule.
    const rules = loadRules([rulesFile]).length;
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    expect(await main([...range(rulesFile), '--step', '250ms', '--progress'], io), err.join('\n')).toBe(0);
    expect(err.length).toBeGreaterThan(1);
    expect(err.length).toBeLessThanOrEqual(10);
    for (const line of err)
      expect(line).toMatch(/^backtest: \d+% \(\d+\/\d+ queries, \d+\/\d+ rules\), \S+ elapsed/);
    expect(err.at(-1)).toMatch(
      new RegExp(`^backtest: 100% \\(${2 * rules}/${2 * rules} queries, ${rules}/${rules} rules\\)`),
    );
    // Not asked and not a terminal, or a terminal with --no-progress: stderr stays empty.
    err.length = 0;
    expect(await main([...range(rulesFile), '--step', '250ms'], io)).toBe(0);
    expect(await main([...range(rulesFile), '--no-progress'], { ...io, errIsTTY: true })).toBe(0);
    expect(err).toEqual([]);
  });

  describe('a Prometheus that does not answer', () => {
    // Loopback servers that accept connections and never answer (or answer only the first check, as a
    // Prometheus stand-in that hangs mid-run: a real one cannot be made to hang on demand).
    const sockets = new Set<Socket>();
    async function holding(answerCheck: boolean): Promise<{ url: string; close: () => void }> {
      const server = createServer((s) => {
        sockets.add(s);
        s.once('data', (req) => {
          if (answerCheck && req.toString().startsWith('GET /api/v1/query?query=vector(1)')) {
            const body = '{"status":"success","data":{"resultType":"vector","result":[]}}';
            s.end(
              `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
            );
          }
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const { port } = server.address() as { port: number };
      return {
        url: `http://127.0.0.1:${port}`,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      };
    }

    it.each([
      ['at the first request', false, 'GET /api/v1/query?query=vector(1)'],
      ['mid-run', true, 'query_range up == 0'],
    ])('fails %s naming the URL and the timeout', async (_, answerCheck, request) => {
      const server = await holding(answerCheck);
      const plain = join(mkdtempSync(join(tmpdir(), 'tillwatch-bt-')), 'plain.yml');
      writeFileSync(plain, 'groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up == 0\n');
      const err: string[] = [];
      try {
        const code = await main(
          [
            'backtest',
            ...['--rules', plain, '--prometheus', server.url, '--from', 'now-1h', '--to', 'now'],
            ...['--timeout', '1s'],
          ],
          { out: () => {}, err: (l) => err.push(l) },
        );
        expect(code).toBe(1);
      } finally {
        server.close();
      }
      expect(err).toHaveLength(1);
      expect(err[0]).toBe(
        `error: Prometheus at ${server.url} did not answer within 1s (--timeout): ${request}`,
      );
    });
  });

  it('fails naming the bridge and the timeout when the bridge does not answer', async () => {
    const sockets = new Set<Socket>();
    const bridge = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => bridge.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(bridge.address() as { port: number }).port}`;
    const err: string[] = [];
    try {
      const code = await main([...range(rulesFile), '--bridge', url, '--timeout', '1s'], {
        out: () => {},
        err: (l) => err.push(l),
      });
      expect(code).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      bridge.close();
    }
    expect(err).toEqual([
      `error: --bridge ${url} did not answer within 1s (--timeout): GET ${url}/api/v1/tickets?limit=1000`,
    ]);
  });

  it('names the cause of bad input', async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    expect(
      await main(
        ['backtest', '--rules', rulesFile, '--prometheus', prom.url, '--from', 'yesterday', '--to', 'now'],
        io,
      ),
    ).toBe(2);
    expect(err[0]).toContain('--from: "yesterday" is not a time');
    const bad = join(mkdtempSync(join(tmpdir(), 'tillwatch-bt-')), 'bad.yml');
    writeFileSync(
      bad,
      'groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        for: soon\n',
    );
    expect(
      await main(
        ['backtest', '--rules', bad, '--prometheus', prom.url, '--from', 'now-1h', '--to', 'now'],
        io,
      ),
    ).toBe(1);
    expect(err.at(-1)).toContain(
      'bad.yml: groups[0].rules[0].for: invalid duration "soon": expected a Prometheus',
    );
  });
});
