// The conventions every alert follows (kubernetes-mixin style), checked over the rule files: names,
// labels, annotations, runbook anchors, knowledge-base cards, and that every metric an expression reads is in
// the metric contract (docs/metrics.md) or is one of our recording rules. What the docs say about each alert
// (thresholds table, runbook sections) is checked by docs-drift.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KnowledgeBase } from '@tillwatch/alert-bridge';
import { parseDuration } from '@tillwatch/config';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { headingAnchors, readMetricContract } from '@tillwatch/testkit';
import { metricNames } from './lib/promql-names.js';
import { READ_BUDGET_PER_TILL, readsPerTill } from './lib/read-cost.js';
import {
  alerts,
  groupIntervals,
  loadRules,
  loadTestFile,
  records,
  REPO_DIR,
  RULES_DIR,
} from './lib/rule-files.js';

const RUNBOOKS = join(REPO_DIR, 'docs', 'runbooks.md');
const CARDS_DIR = join(REPO_DIR, 'alert-bridge', 'knowledge-base');
const RUNBOOK_PREFIX = 'https://github.com/tillwatch/tillwatch/blob/main/docs/runbooks.md#';
const DASHBOARD_UIDS = [
  'tillwatch-noc',
  'tillwatch-store',
  'tillwatch-till',
  'tillwatch-fiscal',
  'tillwatch-integrations',
  'tillwatch-alerts',
  'tillwatch-exporters',
  'tillwatch-forecast',
  'tillwatch-versions',
];
// Series Prometheus itself produces: the scrape health and the alert state.
const PROMETHEUS_BUILTINS = new Set(['up', 'ALERTS']);

function runbookAnchors(): Set<string> {
  return headingAnchors(readFileSync(RUNBOOKS, 'utf8'));
}

describe('metric names', () => {
  const contract = readMetricContract();
  const recorded = new Set(records().map((r) => r.record));

  it.each(loadRules().map((r) => [r.alert ?? r.record, r] as const))(
    '%s reads only known metrics',
    (_name, rule) => {
      for (const m of metricNames(rule.expr)) {
        const known = contract.has(m) || recorded.has(m) || PROMETHEUS_BUILTINS.has(m);
        expect(known, `${m} is neither in docs/metrics.md nor a recording rule`).toBe(true);
      }
    },
  );

  // Annotations may run a query (`{{ range printf "metric{...}" ... | query }}`); those read metrics too.
  const templateQueries = alerts().flatMap((a) =>
    Object.values(a.annotations ?? {}).flatMap((text) =>
      [...text.matchAll(/printf\s+"((?:[^"\\]|\\.)*)"[^}]*\|\s*query/g)].map(
        (m) => [a.alert, (m[1] as string).replaceAll('%s', 'x')] as const,
      ),
    ),
  );
  it.each(templateQueries)('%s annotation query %s reads only known metrics', (_name, query) => {
    for (const m of metricNames(query)) expect(contract.has(m) || recorded.has(m), m).toBe(true);
  });

  it('finds the metrics of an expression and refuses one that does not parse', () => {
    expect(
      metricNames('max without (status) (till_marking_status{status="ready"}) == 0 and on () up'),
    ).toEqual(['till_marking_status', 'up']);
    expect(metricNames('rate(x{__name__="till_a"}[5m]) / store:b:c')).toEqual(['store:b:c', 'till_a', 'x']);
    expect(() => metricNames('sum(till_a')).toThrow(/cannot parse/);
  });

  it('names recording rules level:metric:operations', () => {
    for (const r of records()) expect(r.record).toMatch(/^[a-z]+:[a-z0-9_]+:[a-z0-9_]+$/);
  });
});

describe('alert conventions', () => {
  const anchors = runbookAnchors();

  it.each(alerts().map((a) => [a.alert, a] as const))('%s', (name, a) => {
    expect(name).toMatch(/^Till[A-Z][A-Za-z0-9]+$/);
    expect(a.for).toMatch(/^\d+[smhd]$/);
    expect(a.labels?.severity).toMatch(/^(critical|warning|info)$/);
    expect(a.labels?.team).toMatch(/^(fiscal|network|hardware|software|field)$/);
    expect(a.labels?.incident_class).toMatch(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/);
    const ann = a.annotations ?? {};
    expect(ann.summary, 'summary is static').toMatch(/^[^{}]+$/);
    expect(ann.description, 'description is templated').toContain('{{ $labels.');
    expect(ann.runbook_url?.startsWith(RUNBOOK_PREFIX), 'runbook_url').toBe(true);
    const target = ann.runbook_url?.slice(RUNBOOK_PREFIX.length) ?? '';
    expect(anchors.has(target), `docs/runbooks.md has no heading for #${target}`).toBe(true);
    expect(target).toBe(name.toLowerCase());
    if (ann.dashboard_url) {
      const uid = /^\/d\/([a-z-]+)\?/.exec(ann.dashboard_url)?.[1];
      expect(DASHBOARD_UIDS, ann.dashboard_url).toContain(uid);
    }
  });

  it('keeps alert names unique', () => {
    const names = alerts().map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives every alert of one incident class the same team', () => {
    const teams = new Map<string, Set<string>>();
    for (const a of alerts()) {
      const c = a.labels?.incident_class ?? '';
      teams.set(c, (teams.get(c) ?? new Set()).add(a.labels?.team ?? ''));
    }
    for (const [c, t] of teams) expect([...t], c).toHaveLength(1);
  });

  // Evaluation cadence (rules/README.md): trend groups run once a minute to save the centre's CPU at fleet
  // scale; what must page fast stays on the global interval.
  const intervals = groupIntervals();
  const forMs = (a: { for?: string }) => parseDuration(a.for ?? '0s')!;

  it('keeps every `for` at least its group interval, so two evaluations agree before a page', () => {
    for (const a of alerts()) {
      const every = intervals.get(a.group);
      if (every !== undefined)
        expect(forMs(a), `${a.alert} (${a.group}, every ${every / 1000} s)`).toBeGreaterThanOrEqual(every);
    }
  });

  it('evaluates the fast-path alerts, and every record they read, on the global interval', () => {
    const fastPath = new Set(
      loadTestFile(join(RULES_DIR, 'tests', 'fiscal-fast-path.test.yml')).tests.flatMap((t) =>
        (t.alert_rule_test ?? []).map((c) => c.alertname),
      ),
    );
    // The "cannot sell" and "cannot be reached" pages: the fast-path test's alerts and every alert whose
    // `for` is under a minute.
    const fast = alerts().filter((a) => fastPath.has(a.alert) || forMs(a) < 60_000);
    expect(fast.map((a) => a.alert)).toEqual(expect.arrayContaining([...fastPath, 'TillStoreSilent']));
    const recordGroup = new Map(records().map((r) => [r.record, r.group]));
    for (const a of fast) {
      expect(intervals.get(a.group), `${a.alert} is in ${a.group}`).toBeUndefined();
      for (const m of metricNames(a.expr))
        if (recordGroup.has(m))
          expect(intervals.get(recordGroup.get(m)!), `${a.alert} reads ${m}`).toBeUndefined();
    }
  });

  // A group's evaluation time at fleet scale is the series it reads (rules/lib/read-cost.ts). 11 series per till
  // is 110,000 at 10,000 tills: about 1 s for a group evaluated alone on VictoriaMetrics 1.79 (~9 µs a series,
  // docs/benchmarks.md "Scaling"), half the 2 s target, the other half for the ingestion and groups it runs
  // next to. A group over it is split (rules/README.md, "Evaluation cadence").
  it('keeps every group within its read budget of 11 series per till and evaluation', () => {
    const perGroup = new Map<string, number>();
    for (const r of loadRules()) perGroup.set(r.group, (perGroup.get(r.group) ?? 0) + readsPerTill(r.expr));
    const over = [...perGroup].filter(([, n]) => n > READ_BUDGET_PER_TILL);
    expect(over, 'groups reading more than 11 series per till').toEqual([]);
    // The check can fail: the once-a-minute fiscal rules in one group, as before the split, are over budget.
    const fiscalTrends = loadRules().filter((r) => r.group.startsWith('tillwatch-fiscal-'));
    expect(fiscalTrends.reduce((a, r) => a + readsPerTill(r.expr), 0)).toBeGreaterThan(READ_BUDGET_PER_TILL);
  });

  it('counts the series a selector reads from the exposition of one full till', () => {
    // 4 of the 9 error reasons of each of the capture's 2 registrars.
    expect(readsPerTill('rate(till_fiscal_errors_total{reason=~"timeout|nak|lrc|framing"}[5m])')).toBe(8);
    // Four peripherals and the CUPS printer of full.yml.
    expect(readsPerTill('till_device_up{kind!~"fiscal|utm|marking"} == 0')).toBe(5);
    // Matchers on the agent's place labels narrow stores, not a till's own series.
    expect(readsPerTill('till_device_up{store=~"s1", kind="fiscal"}')).toBe(2);
    // Per-till records and the exporter's `up` are one series per till; store records and ALERTS scale with
    // stores and alerts, not tills.
    expect(readsPerTill('till:health:state > 0 or up{job="tillwatch-exporter"}')).toBe(2);
    expect(readsPerTill('store:tills:count + on () count(ALERTS) + count(up{job="tillwatch-agent"})')).toBe(
      0,
    );
    // Quoted and raw string literals alike.
    expect(readsPerTill("till_device_up{kind='fiscal'} + till_device_up{kind=`utm`}")).toBe(3);
    expect(() => readsPerTill('sum(till_a')).toThrow(/cannot parse/);
  });

  it('has no runbook section for an alert that does not exist', () => {
    const names = new Set(alerts().map((a) => a.alert.toLowerCase()));
    for (const h of anchors) if (/^till[a-z0-9]+$/.test(h)) expect(names.has(h), h).toBe(true);
  });
});

// The bridge's own loader validates every card (schema, templates); this adds what the rules need of them.
const kb = KnowledgeBase.load(CARDS_DIR);

describe('knowledge-base cards', () => {
  const classes = new Map(alerts().map((a) => [a.labels?.incident_class ?? '', a.labels?.team ?? '']));
  // Raised by the bridge itself, not by a rule: the silence of the Watchdog heartbeat (alert-bridge/src/watchdog.ts).
  classes.set('meta.alertmanager_silent', 'software');

  it.each([...classes].map(([c, team]) => [c, team] as const))(
    '%s has a valid card',
    (incidentClass, team) => {
      const file = join(CARDS_DIR, `${incidentClass}.yml`);
      expect(existsSync(file), file).toBe(true);
      const card = kb.get(incidentClass)!;
      expect(card.incident_class).toBe(incidentClass);
      expect(card.team).toBe(team);
      expect(['fiscal', 'network', 'hardware', 'software', 'field']).toContain(card.team);
      expect(card.ru.title).toMatch(/[а-яА-Я]/);
      for (const l of [card.ru, card.en]) {
        expect(l.impact.length).toBeGreaterThanOrEqual(10);
        expect(l.first_line.length).toBeGreaterThanOrEqual(1);
        // The reason the NOC wall writes on a tile: a few plain words that fit a till's tile.
        expect(l.short, `${incidentClass}: short`).toMatch(/^[^{}]{3,24}$/);
      }
      for (const v of card.variants)
        for (const l of [v.ru, v.en])
          if (l?.short) expect(l.short, `${incidentClass}: variant short`).toMatch(/^[^{}]{3,24}$/);
    },
  );

  it('has no card for an incident class no alert raises', () => {
    for (const f of readdirSync(CARDS_DIR).filter((f) => /\.ya?ml$/.test(f))) {
      // The bridge reads a file as one card or a list of cards, keyed by incident_class, not by file name.
      const doc: unknown = parseYaml(readFileSync(join(CARDS_DIR, f), 'utf8'));
      for (const card of Array.isArray(doc) ? doc : [doc]) {
        const c = (card as { incident_class?: unknown } | null)?.incident_class;
        expect(typeof c === 'string' && classes.has(c), `${f}: incident_class ${String(c)}`).toBe(true);
      }
    }
  });
});
