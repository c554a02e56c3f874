// The backtest's reading of Alertmanager's inhibit rules, checked against Alertmanager 0.25 itself: the
// shipped rules (deploy/alertmanager.yml) plus the two-sided and deprecated forms are loaded into a real
// Alertmanager, a set of alerts is posted, and the alerts it reports as inhibited must be exactly those
// isInhibited names.
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadYamlFile, toYaml } from '@tillwatch/config';
import { repoPath, startAlertmanager, waitFor, type RunningAlertmanager } from '@tillwatch/testkit';
import { isInhibited, loadInhibitConfig, parseMatcher } from './inhibit.js';
import { loadRules } from './rules.js';

const place = (store: string, till?: string, device?: string) => ({
  chain: 'c1',
  region: 'r1',
  store,
  ...(till ? { till } : {}),
  ...(device ? { device } : {}),
});

// Named by what Alertmanager should do with them, so a failure reads as a story.
const ALERTS: Record<string, Record<string, string>> = {
  storeDown: {
    alertname: 'TillStoreUnreachable',
    severity: 'critical',
    incident_class: 'network.store_unreachable',
    ...place('s1'),
  },
  tillOfDownStore: {
    alertname: 'TillUnreachable',
    severity: 'warning',
    incident_class: 'network.till_unreachable',
    ...place('s1', 't1'),
  },
  tillElsewhere: {
    alertname: 'TillUnreachable',
    severity: 'warning',
    incident_class: 'network.till_unreachable',
    ...place('s2', 't3'),
  },
  deviceOfDownTill: {
    alertname: 'TillFiscalPaperOut',
    severity: 'critical',
    incident_class: 'fiscal.paper_out',
    ...place('s2', 't3', 'kkt'),
  },
  registrarDown: {
    alertname: 'TillFiscalRegistrarDown',
    severity: 'critical',
    incident_class: 'fiscal.registrar_down',
    ...place('s3', 't5', 'kkt'),
  },
  paperOutOfDeadRegistrar: {
    alertname: 'TillFiscalPaperOut',
    severity: 'critical',
    incident_class: 'fiscal.paper_out',
    ...place('s3', 't5', 'kkt'),
  },
  fnWarningUnderCritical: {
    alertname: 'TillFiscalFnExpiresIn30Days',
    severity: 'warning',
    incident_class: 'fiscal.fn_expiry',
    ...place('s4', 't7', 'kkt'),
  },
  fnCritical: {
    alertname: 'TillFiscalFnExpiresIn7Days',
    severity: 'critical',
    incident_class: 'fiscal.fn_expiry',
    ...place('s4', 't7', 'kkt'),
  },
  warningOfOtherDevice: {
    alertname: 'TillFiscalFnExpiresIn30Days',
    severity: 'warning',
    incident_class: 'fiscal.fn_expiry',
    ...place('s4', 't7', 'kkt2'),
  },
  // Both match both sides of the extra two-sided rule: neither may mute the other.
  twoSidedA: { alertname: 'TwoSidedA', team: 'lab', ...place('s9') },
  twoSidedB: { alertname: 'TwoSidedB', team: 'lab', ...place('s9') },
  // The deprecated map form: source_match / target_match_re.
  legacySource: { alertname: 'LegacySource', ...place('s8') },
  legacyTarget: { alertname: 'LegacyTarget', kind: 'printer', ...place('s8', 't8') },
};

let am: RunningAlertmanager;
let configFile: string;
beforeAll(async () => {
  const shipped = loadYamlFile(repoPath('deploy', 'alertmanager.yml')) as { inhibit_rules: unknown[] };
  configFile = join(mkdtempSync(join(tmpdir(), 'tillwatch-inhibit-')), 'alertmanager.yml');
  writeFileSync(
    configFile,
    toYaml({
      route: { receiver: 'nobody', group_by: ['alertname'] },
      receivers: [{ name: 'nobody' }],
      inhibit_rules: [
        ...shipped.inhibit_rules,
        { source_matchers: ['team="lab"'], target_matchers: ['team="lab"'], equal: ['store'] },
        {
          source_match: { alertname: 'LegacySource' },
          target_match_re: { kind: 'print.*' },
          equal: ['chain', 'region', 'store'],
        },
      ],
    }),
  );
  am = await startAlertmanager({ configFile });
});
afterAll(async () => am?.stop());

describe('inhibition as Alertmanager does it', () => {
  it('mutes exactly the alerts Alertmanager 0.25 mutes, with the shipped rules', async () => {
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const res = await fetch(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.values(ALERTS).map((labels) => ({ labels, endsAt }))),
    });
    expect(res.status).toBe(200);
    const { rules } = loadInhibitConfig(configFile);
    const active = Object.values(ALERTS);
    const ours = Object.entries(ALERTS)
      .filter(([, labels]) => isInhibited(labels, active, rules))
      .map(([name]) => name)
      .sort();
    expect(ours).toEqual([
      'deviceOfDownTill',
      'fnWarningUnderCritical',
      'legacyTarget',
      'paperOutOfDeadRegistrar',
      'tillOfDownStore',
    ]);
    const sorted = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    const name = (labels: Record<string, string>) =>
      Object.entries(ALERTS).find(([, l]) => sorted(l) === sorted(labels))?.[0];
    // Alertmanager fills its inhibition cache asynchronously: ask until it has seen every alert.
    const theirs = await waitFor(
      'Alertmanager to report the inhibited alerts',
      async () => {
        const list = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as Array<{
          labels: Record<string, string>;
          status: { inhibitedBy: string[] };
        }>;
        if (list.length !== active.length) return undefined;
        const muted = list.filter((a) => a.status.inhibitedBy.length > 0).map((a) => name(a.labels));
        return muted.length >= ours.length ? muted.sort() : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(theirs).toEqual(ours);
  });

  it('reads matchers as Alertmanager writes them, and names a bad one with its key', () => {
    expect(parseMatcher('alertname=~"A|B"')).toEqual({ name: 'alertname', op: '=~', value: 'A|B' });
    expect(parseMatcher(' till != "" ')).toEqual({ name: 'till', op: '!=', value: '' });
    expect(parseMatcher('severity=critical')).toEqual({ name: 'severity', op: '=', value: 'critical' });
    const bad = join(mkdtempSync(join(tmpdir(), 'tillwatch-inhibit-')), 'am.yml');
    writeFileSync(bad, 'inhibit_rules:\n  - source_matchers: [\'alertname=~"(unclosed"\']\n');
    expect(() => loadInhibitConfig(bad)).toThrow(
      /am\.yml.*inhibit_rules\[0\]\.source_matchers\[0\].*invalid regular expression/s,
    );
  });
});

describe('routing as Alertmanager does it', () => {
  const amtoolRoutes = async (file: string, labels: Record<string, string>) => {
    const { stdout } = await promisify(execFile)('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${file}`,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ]);
    return stdout.trim().split(',');
  };

  it('tells notified from wall-only alerts exactly as amtool routes them (continue, nesting, old match forms)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-routes-'));
    const file = join(dir, 'alertmanager.yml');
    writeFileSync(
      file,
      toYaml({
        route: {
          receiver: 'pager',
          routes: [
            { matchers: ['severity="info"'], receiver: 'wall' },
            { match: { team: 'quiet' }, receiver: 'wall', continue: true },
            { match_re: { team: 'quiet|loud' }, receiver: 'pager' },
            {
              matchers: ['team="muted"'],
              receiver: 'wall',
              routes: [{ matchers: ['severity="critical"'], receiver: 'pager' }],
            },
            {
              matchers: ['team="inherits"'],
              receiver: 'wall',
              routes: [{ matchers: ['severity="warning"'] }],
            },
          ],
        },
        receivers: [{ name: 'pager', webhook_configs: [{ url: 'http://127.0.0.1:9/' }] }, { name: 'wall' }],
      }),
    );
    const cfg = loadInhibitConfig(file);
    const cases = [
      { severity: 'info', team: 'loud' },
      { severity: 'warning', team: 'quiet' },
      { severity: 'warning', team: 'loud' },
      { severity: 'warning', team: 'muted' },
      { severity: 'critical', team: 'muted' },
      { severity: 'warning', team: 'inherits' },
      { severity: 'warning', team: 'other' },
    ];
    const seen: boolean[] = [];
    for (const labels of cases) {
      const receivers = await amtoolRoutes(file, { alertname: 'X', ...labels });
      const expected = receivers.some((r) => r !== 'wall');
      expect(cfg.notifies!(labels), `${JSON.stringify(labels)} → ${receivers.join(',')}`).toBe(expected);
      seen.push(expected);
    }
    // Both outcomes occur, so the comparison can fail either way.
    expect(seen).toContain(true);
    expect(seen).toContain(false);
  });

  it('notifies every alert of the shipped rules but the info ones', async () => {
    const cfg = loadInhibitConfig(repoPath('deploy', 'alertmanager.yml'));
    const rules = loadRules([repoPath('rules')]);
    expect(rules.some((r) => r.labels.severity === 'info')).toBe(true);
    for (const r of rules)
      expect(cfg.notifies!({ alertname: r.name, ...r.labels }), r.name).toBe(r.labels.severity !== 'info');
  });
});
