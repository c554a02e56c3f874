import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_TOKEN, startBridge } from '@tillwatch/testkit/bridge';
import { main } from '../cli.js';

const M = 60_000;
const H = 60 * M;
const Z = (s: string) => Date.parse(s);

// A simulated month of one client's tickets, written straight into the bridge's store (backfilled).
// Each row sets its own due times, as the bridge computed them when it opened the ticket.
interface Row {
  cls: string;
  p: 'P1' | 'P2' | 'P3';
  chain?: string;
  store: string;
  till?: string;
  device?: string;
  opened: number;
  reg: [number | null, number]; // [done after opening, due after opening]
  ack: number | null;
  reactionDue: number;
  resolved: number | null;
  resolutionDue: number;
  self?: boolean;
  mass?: boolean;
}

const ROWS: Row[] = [
  // T1: everything on time.
  {
    cls: 'fiscal.paper_out',
    p: 'P3',
    store: 's1',
    till: 't1',
    device: 'kkt',
    opened: Z('2026-11-02T10:00:00Z'),
    reg: [M, H],
    ack: 30 * M,
    reactionDue: 4 * H,
    resolved: 2 * H,
    resolutionDue: 72 * H,
  },
  // T2: self-resolved within 10 minutes: the resolve is the reaction.
  {
    cls: 'fiscal.paper_out',
    p: 'P3',
    store: 's1',
    till: 't1',
    device: 'kkt',
    opened: Z('2026-11-05T10:00:00Z'),
    reg: [M, H],
    ack: null,
    reactionDue: 4 * H,
    resolved: 10 * M,
    resolutionDue: 72 * H,
    self: true,
  },
  // T3: late reaction and late resolution.
  {
    cls: 'fiscal.paper_out',
    p: 'P3',
    store: 's1',
    till: 't2',
    device: 'kkt',
    opened: Z('2026-11-09T10:00:00Z'),
    reg: [M, H],
    ack: 5 * H,
    reactionDue: 4 * H,
    resolved: 80 * H,
    resolutionDue: 72 * H,
  },
  // T4: registered late, the rest on time.
  {
    cls: 'network.store_offline',
    p: 'P1',
    store: 's2',
    opened: Z('2026-11-12T10:00:00Z'),
    reg: [10 * M, 5 * M],
    ack: 10 * M,
    reactionDue: 15 * M,
    resolved: 3 * H,
    resolutionDue: 4 * H,
  },
  // T5: late reaction and resolution.
  {
    cls: 'network.store_offline',
    p: 'P1',
    store: 's2',
    opened: Z('2026-11-20T10:00:00Z'),
    reg: [M, 5 * M],
    ack: 20 * M,
    reactionDue: 15 * M,
    resolved: 5 * H,
    resolutionDue: 4 * H,
  },
  // T6: on time.
  {
    cls: 'fiscal.fn_expiring',
    p: 'P2',
    store: 's3',
    till: 't1',
    device: 'kkt',
    opened: Z('2026-11-25T12:00:00Z'),
    reg: [M, 15 * M],
    ack: 30 * M,
    reactionDue: H,
    resolved: 20 * H,
    resolutionDue: 24 * H,
  },
  // T7: opened the last evening, nobody reacted (breached), resolution still running at report time.
  {
    cls: 'fiscal.fn_expiring',
    p: 'P2',
    store: 's3',
    till: 't1',
    device: 'kkt',
    opened: Z('2026-11-30T18:00:00Z'),
    reg: [M, 15 * M],
    ack: null,
    reactionDue: H,
    resolved: null,
    resolutionDue: 24 * H,
  },
  // Not in the report: October in Moscow, December in Moscow, another chain, a mass-incident parent.
  {
    cls: 'fiscal.paper_out',
    p: 'P3',
    store: 's9',
    opened: Z('2026-10-31T20:00:00Z'),
    reg: [M, H],
    ack: null,
    reactionDue: H,
    resolved: null,
    resolutionDue: H,
  },
  {
    cls: 'fiscal.paper_out',
    p: 'P3',
    store: 's9',
    opened: Z('2026-11-30T22:00:00Z'),
    reg: [M, H],
    ack: null,
    reactionDue: H,
    resolved: null,
    resolutionDue: H,
  },
  {
    cls: 'fiscal.paper_out',
    p: 'P3',
    chain: 'other',
    store: 's9',
    opened: Z('2026-11-10T10:00:00Z'),
    reg: [M, H],
    ack: null,
    reactionDue: H,
    resolved: null,
    resolutionDue: H,
  },
  {
    cls: 'network.store_offline',
    p: 'P1',
    store: 's9',
    opened: Z('2026-11-10T10:00:00Z'),
    reg: [M, H],
    ack: null,
    reactionDue: H,
    resolved: null,
    resolutionDue: H,
    mass: true,
  },
];

describe('tillwatch report sla', () => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  const now = Z('2026-12-01T06:00:00Z');
  beforeAll(async () => {
    ctx = await startBridge(
      'sqlite',
      {
        api: {
          tokens: [
            { name: 'reader', token: READ_TOKEN, scope: 'read' },
            { name: 'other-only', token: 'other-reader-0123456789', scope: 'read', chains: ['other'] },
          ],
        },
      },
      { now: () => now, background: false },
    );
    let n = 0;
    for (const r of ROWS) {
      const key = `${r.cls}|${++n}`;
      const at = (d: number | null) => (d === null ? null : r.opened + d);
      await ctx.bridge.store.db
        .insertInto('tickets')
        .values({
          key,
          open_key: r.resolved === null ? key : null,
          status: r.resolved === null ? (r.ack === null ? 'open' : 'acknowledged') : 'closed',
          priority: r.p,
          severity: 'warning',
          incident_class: r.cls,
          family: r.cls,
          team: 'first-line',
          chain: r.chain ?? 'x5',
          region: 'r1',
          store: r.store,
          till: r.till ?? null,
          device: r.device ?? null,
          title: r.cls,
          needs_card: 0,
          self_resolved: r.self ? 1 : 0,
          flapping: 0,
          reopen_count: 0,
          opened_at: r.opened,
          acknowledged_at: at(r.ack),
          resolved_at: at(r.resolved),
          closed_at: r.resolved === null ? null : r.opened + r.resolved + H,
          registered_at: at(r.reg[0]),
          updated_at: r.opened,
          registration_due_at: r.opened + r.reg[1],
          reaction_due_at: r.opened + r.reactionDue,
          resolution_due_at: r.opened + r.resolutionDue,
          registration_breached: 0,
          reaction_breached: 0,
          resolution_breached: 0,
          labels: '{}',
          annotations: '{}',
          snapshot: null,
          version: 0,
          assignee: null,
          forced_resolve: 0,
          parent_id: null,
          mass: r.mass ? 1 : 0,
          escalation_step: 0,
          escalated_at: null,
          escalation_base: null,
          page_hold_until: null,
          remediation_state: null,
          auto_remediated: 0,
        })
        .execute();
    }
  });
  afterAll(async () => ctx?.close());

  async function runIn(o: { env?: NodeJS.ProcessEnv; cwd?: string }, ...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, ...o });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }
  const run = (...args: string[]) => runIn({}, ...args);

  it('writes HTML and CSV whose on-time shares match the hand count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-report-'));
    const r = await run(
      'report',
      'sla',
      '--bridge',
      ctx.bridge.url,
      '--bridge-token',
      READ_TOKEN,
      '--chain',
      'x5',
      '--month',
      '2026-11',
      '--out',
      dir,
      '--locale',
      'en',
    );
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('7 tickets');
    const csv = readFileSync(join(dir, 'sla-x5-2026-11.csv'), 'utf8').split('\r\n');
    // By hand: registration T4 late → 6/7; reaction T3, T5, T7 late (T2's resolve counts) → 4/7;
    // resolution T3, T5 late, T7 still running → 4/6.
    expect(csv).toContain(`on_time,registration,,,6,1,0,${6 / 7}`);
    expect(csv).toContain(`on_time,reaction,,,4,3,0,${4 / 7}`);
    expect(csv).toContain(`on_time,resolution,,,4,2,1,${4 / 6}`);
    expect(csv.filter((l) => l.startsWith('class_priority'))).toEqual([
      'class_priority,fiscal.fn_expiring,P2,2,,,,',
      'class_priority,fiscal.paper_out,P3,3,,,,',
      'class_priority,network.store_offline,P1,2,,,,',
    ]);
    // Most breached first: s2 (both late), then s1 (3 tickets, 1 late), then s3.
    expect(csv.filter((l) => l.startsWith('store,'))).toEqual([
      'store,s2,,2,,2,,',
      'store,s1,,3,,1,,',
      'store,s3,,2,,1,,',
    ]);
    expect(csv.filter((l) => l.startsWith('device,'))).toEqual([
      'device,s1/t1/kkt,,2,,,,',
      'device,s3/t1/kkt,,2,,,,',
      'device,s1/t2/kkt,,1,,,,',
    ]);
    expect(csv).toContain(`self_resolved,self,,6,1,,,${1 / 6}`);
    // Acknowledged after 30, 300, 10, 20, 30 minutes; resolved after 120, 10, 4800, 180, 300, 1200.
    expect(csv).toContain('time,mtta_seconds,,,,,,4680');
    expect(csv).toContain(`time,mttr_seconds,,,,,,${(6610 * 60) / 6}`);
    const html = readFileSync(join(dir, 'sla-x5-2026-11.html'), 'utf8');
    expect(html).toContain('<title>Service level report: x5, 2026-11</title>');
    expect(html).toContain('<td>reaction</td><td>4</td><td>3</td><td>0</td><td>57.1 %</td>');
    expect(html).toContain('Self-resolved: 1 / 6 (16.7 %)');
    expect(html).toContain('<svg');
  });

  it('refuses a chain the token may not see, and a malformed month, with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-report-'));
    const other = await run(
      'report',
      'sla',
      '--bridge',
      ctx.bridge.url,
      '--bridge-token',
      'other-reader-0123456789',
      '--chain',
      'x5',
      '--month',
      '2026-11',
      '--out',
      dir,
    );
    expect(other.code).toBe(1);
    expect(other.err).toContain('HTTP 404: no report for chain x5');
    const bad = await fetch(`${ctx.bridge.url}/api/v1/reports/sla?chain=x5&month=2026-13`, {
      headers: { authorization: `Bearer ${READ_TOKEN}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      'month: expected YYYY-MM such as 2026-11',
    );
    const usage = await run(
      'report',
      'sla',
      '--bridge',
      ctx.bridge.url,
      '--chain',
      'x5',
      '--month',
      '11/2026',
      '--out',
      dir,
    );
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('--month: expected YYYY-MM such as 2026-11, got "11/2026"');
  });

  it('takes the token from a file or the environment and the bridge from TILLWATCH_BRIDGE_URL, as the issue writes the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-report-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${READ_TOKEN}\n`, { mode: 0o600 });
    const env = { TILLWATCH_BRIDGE_URL: ctx.bridge.url };
    const sla = ['report', 'sla', '--chain', 'x5', '--month', '2026-11'];
    // `tillwatch report sla --chain X --month 2026-11`, with the token in a file: written to the current folder.
    const fromFile = await runIn({ env, cwd: dir }, ...sla, '--bridge-token-file', tokenFile);
    expect(fromFile).toMatchObject({ code: 0, err: '' });
    expect(readFileSync(join(dir, 'sla-x5-2026-11.csv'), 'utf8')).toContain('on_time,registration,,,6,1,0,');
    // The token of the environment is the one sent: a reader of another chain is refused this one.
    const other = await runIn(
      { env: { ...env, TILLWATCH_BRIDGE_TOKEN: 'other-reader-0123456789' }, cwd: dir },
      ...sla,
    );
    expect(other.code).toBe(1);
    expect(other.err).toContain('HTTP 404: no report for chain x5');
    const viaEnv = await runIn({ env: { ...env, TILLWATCH_BRIDGE_TOKEN: READ_TOKEN }, cwd: dir }, ...sla);
    expect(viaEnv).toMatchObject({ code: 0, err: '' });
    // A token file that is not one token is named, and nothing is asked of the bridge without it.
    writeFileSync(join(dir, 'empty'), '\n');
    const empty = await runIn({ env, cwd: dir }, ...sla, '--bridge-token-file', join(dir, 'empty'));
    expect(empty).toMatchObject({
      code: 1,
      err: `error: --bridge-token-file ${join(dir, 'empty')}: the file is empty`,
    });
    const both = await runIn(
      { env, cwd: dir },
      ...sla,
      '--bridge-token',
      'x',
      '--bridge-token-file',
      tokenFile,
    );
    expect(both.code).toBe(2);
    expect(both.err).toContain('--bridge-token and --bridge-token-file: give one of them, not both');
    // An address that is none says so, not fetch's "fetch failed".
    const notUrl = await runIn({ env, cwd: dir }, ...sla, '--bridge', 'bridge-host');
    expect(notUrl).toMatchObject({
      code: 1,
      err: 'error: --bridge bridge-host: cannot connect: Invalid URL',
    });
    // No --bridge and no TILLWATCH_BRIDGE_URL: the default address, and the error says how to give another.
    // (Another test's bridge may listen there: then it is that bridge's refusal that names the address.)
    const closed = await runIn({ cwd: dir }, ...sla);
    expect(closed.code).toBe(1);
    expect(closed.err).toMatch(
      /bridge http:\/\/127\.0\.0\.1:9836 \(the default: give --bridge or \$TILLWATCH_BRIDGE_URL\): cannot connect|http:\/\/127\.0\.0\.1:9836\/api\/v1\/reports\/sla/,
    );
  });
});
