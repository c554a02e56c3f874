// The dashboards against the metric contract and a real Prometheus 2.42: every query parses,
// names only contract metrics, recording rules or documented bridge metrics, and runs without
// error on Prometheus with a small fleet of till series scraped from loopback servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parser } from '@prometheus-io/lezer-promql';
import { readMetricContract } from '@tillwatch/testkit';
import { allDashboards } from '@tillwatch/dashboards';
import { parseInventory } from '@tillwatch/inventory';
import { renderMinVersionRules, writeFileSd } from '@tillwatch/ops';
import {
  startMetricsServer,
  startPrometheus,
  waitFor,
  type MetricsServer,
  type RunningPrometheus,
} from '@tillwatch/testkit';
import { copyRulesOnGlobalInterval } from '../rules/lib/rule-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dashboardsDir = join(root, 'dashboards');
const rulesDir = join(root, 'rules');

// Links, bookmarks and the rules' dashboard_url annotations depend on these: never change them.
const UIDS: Record<string, string> = {
  'alerts.json': 'tillwatch-alerts',
  'exporters.json': 'tillwatch-exporters',
  'fiscal.json': 'tillwatch-fiscal',
  'forecast.json': 'tillwatch-forecast',
  'integrations.json': 'tillwatch-integrations',
  'noc.json': 'tillwatch-noc',
  'planning.json': 'tillwatch-planning',
  'service.json': 'tillwatch-service',
  'store.json': 'tillwatch-store',
  'till.json': 'tillwatch-till',
  'versions.json': 'tillwatch-versions',
};

/** Series Prometheus itself produces (scrape health, alert state). */
const PROMETHEUS_SERIES = new Set([
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'ALERTS',
  'ALERTS_FOR_STATE',
]);

type Json = Record<string, unknown>;

interface Query {
  dashboard: string;
  where: string;
  expr: string;
}

function loadDashboards(): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const f of readdirSync(dashboardsDir)
    .filter((f) => f.endsWith('.json'))
    .sort())
    out.set(f, JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as Json);
  return out;
}

function panelsOf(d: Json): Json[] {
  const out: Json[] = [];
  const walk = (ps: unknown) => {
    for (const p of (ps as Json[] | undefined) ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(d.panels);
  return out;
}

function queriesOf(file: string, d: Json): Query[] {
  const qs: Query[] = [];
  for (const p of panelsOf(d))
    for (const t of (p.targets as Json[] | undefined) ?? [])
      qs.push({
        dashboard: file,
        where: `panel "${String(p.title)}" ${String(t.refId)}`,
        expr: String(t.expr),
      });
  for (const v of ((d.templating as Json).list as Json[]) ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : String((v.query as Json).query);
    // label_values(selector, label) is Grafana's, not PromQL: check the selector inside it.
    const m = /^label_values\((.*),\s*[a-zA-Z_]\w*\)$/s.exec(q);
    qs.push({ dashboard: file, where: `variable ${String(v.name)}`, expr: m?.[1] ?? q });
  }
  return qs;
}

// What Grafana would put in place of its variables: `.*` for the hierarchy (the "All" value),
// typical durations for the interval macros. An unknown variable is an error.
const SUBSTITUTES: Record<string, string> = {
  chain: '.*',
  region: '.*',
  store: '.*',
  till: '.*',
  __rate_interval: '1m',
  __interval: '30s',
  __range: '1h',
  __range_s: '3600',
};

function substitute(expr: string, values: Record<string, string> = {}): string {
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (_m, a?: string, b?: string, c?: string) => {
      const name = (a ?? b ?? c)!;
      const v = values[name] ?? SUBSTITUTES[name];
      if (v === undefined) throw new Error(`unknown Grafana variable $${name}`);
      return v;
    },
  );
}

/** Metric names a PromQL expression reads (with the labels it matches on), or the syntax errors lezer found. */
function analyse(expr: string): { metrics: string[]; matchers: Array<[string, string]>; errors: string[] } {
  const tree = parser.parse(expr);
  const metrics: string[] = [];
  const matchers: Array<[string, string]> = [];
  const errors: string[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.type.isError)
        errors.push(`syntax error at ${n.from}: "${expr.slice(Math.max(0, n.from - 20), n.to + 20)}"`);
      if (n.name === 'VectorSelector') {
        const id = n.node.getChild('Identifier');
        if (id) {
          const metric = expr.slice(id.from, id.to);
          metrics.push(metric);
          const list = n.node.getChild('LabelMatchers');
          for (const m of list?.getChildren('UnquotedLabelMatcher') ?? []) {
            const label = m.getChild('LabelName');
            if (label) matchers.push([metric, expr.slice(label.from, label.to)]);
          }
        }
      }
      if (n.name === 'UnquotedLabelMatcher') {
        const text = expr.slice(n.from, n.to);
        const m = /^__name__\s*=\s*"([^"]+)"$/.exec(text);
        if (m?.[1]) metrics.push(m[1]);
      }
    },
  });
  return { metrics, matchers, errors };
}

function recordingRules(): Set<string> {
  const names = new Set<string>();
  if (!existsSync(rulesDir)) return names;
  for (const f of readdirSync(rulesDir).filter((f) => /\.ya?ml$/.test(f))) {
    const doc = parseYaml(readFileSync(join(rulesDir, f), 'utf8')) as {
      groups?: Array<{ rules?: Json[] }>;
    } | null;
    for (const g of doc?.groups ?? [])
      for (const r of g.rules ?? []) if (typeof r.record === 'string') names.add(r.record);
  }
  return names;
}

/** Bridge metrics with their labels, from the metrics table of alert-bridge/README.md (same row format as the contract). */
function bridgeMetrics() {
  return readMetricContract(join(root, 'alert-bridge/README.md'));
}

function known(name: string, contract: Set<string>): boolean {
  if (contract.has(name) || PROMETHEUS_SERIES.has(name)) return true;
  // A histogram's series: the base name is what documents list.
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && contract.has(base);
}

/** How every panel, target and query variable names its datasource: the dashboard's `datasource` variable. */
const DATASOURCE_REF = { type: 'prometheus', uid: '${datasource}' };

/** Every `datasource` reference in a dashboard, with its JSON path. */
function datasourceRefs(node: unknown, path = ''): Array<{ path: string; ref: unknown }> {
  if (Array.isArray(node)) return node.flatMap((x, i) => datasourceRefs(x, `${path}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node as Json).flatMap(([k, v]) => [
    ...(k === 'datasource' ? [{ path: `${path}.${k}`, ref: v }] : []),
    ...datasourceRefs(v, `${path}.${k}`),
  ]);
}

/**
 * A stand-in for Grafana's dashboard import (its template evaluator in pkg/services/dashboardimport),
 * which cannot run here: each `${INPUT}` of `__inputs` in every string becomes the value the person picked,
 * other `${...}` stay as they are.
 */
function importAs(d: Json, inputs: Record<string, string>): Json {
  const text = JSON.stringify(d, (_k, v: unknown) =>
    typeof v === 'string' ? v.replace(/\$\{([^}]+)\}/g, (m, name: string) => inputs[name] ?? m) : v,
  );
  return JSON.parse(text) as Json;
}

const dashboards = loadDashboards();
const queries = [...dashboards].flatMap(([f, d]) => queriesOf(f, d));

describe('dashboards', () => {
  it('are exactly the dashboards with the fixed uids, generated from dashboards/src', () => {
    expect(Object.fromEntries([...dashboards].map(([f, d]) => [f, d.uid]))).toEqual(UIDS);
    // Compared as data so prettier may format the files.
    const generated = allDashboards();
    for (const [f, d] of dashboards)
      expect(d, `${f} is stale: run npm run generate -w @tillwatch/dashboards`).toEqual(generated[f]);
  });

  it.each([...dashboards.keys()])('%s: tagged, linked to the others, on the tillwatch datasource', (f) => {
    const d = dashboards.get(f)!;
    expect(d.tags).toContain('tillwatch');
    expect(d.links).toContainEqual(
      expect.objectContaining({ type: 'dashboards', tags: ['tillwatch'], includeVars: true }),
    );
    for (const p of panelsOf(d).filter((p) => p.type !== 'row')) {
      expect(p.datasource, String(p.title)).toEqual(DATASOURCE_REF);
      for (const t of (p.targets as Json[] | undefined) ?? [])
        expect(t.datasource, `${String(p.title)} ${String(t.refId)}`).toEqual(DATASOURCE_REF);
    }
    const ids = panelsOf(d).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.each([...dashboards.keys()])('%s: has the chained chain → region → store → till variables', (f) => {
    const all = (dashboards.get(f)!.templating as Json).list as Json[];
    const vars = all
      // The wall's hidden `bridge` textbox (the alert bridge its ticket links open) is no hierarchy level,
      // nor is the Prometheus datasource picker.
      .filter((v) => !(v.name === 'bridge' && v.type === 'textbox' && v.hide === 2))
      .filter((v) => v.type !== 'datasource')
      .map((v) => ({ name: v.name, query: (v.query as Json).query }));
    expect(vars.map((v) => v.name)).toEqual(['chain', 'region', 'store', 'till']);
    // Each level is filtered by the ones above it, so picking a chain narrows the regions.
    expect(vars[1]?.query).toContain('chain=~"$chain"');
    expect(vars[2]?.query).toContain('region=~"$region"');
    expect(vars[3]?.query).toContain('store=~"$store"');
  });

  it('link tables to the till dashboard with the row’s variables', () => {
    const links = JSON.stringify([...dashboards.values()]);
    expect(links).toContain(
      '/d/tillwatch-till/till?var-chain=${__data.fields.chain}&var-region=${__data.fields.region}&var-store=${__data.fields.store}&var-till=${__data.fields.till}',
    );
  });

  it('exist for every dashboard_url the alert rules link to, with the variables the link sets', () => {
    const byUid = new Map([...dashboards.values()].map((d) => [d.uid, d]));
    const broken: string[] = [];
    for (const f of readdirSync(rulesDir).filter((f) => /\.ya?ml$/.test(f))) {
      const doc = parseYaml(readFileSync(join(rulesDir, f), 'utf8')) as {
        groups?: Array<{ rules?: Json[] }>;
      } | null;
      for (const g of doc?.groups ?? [])
        for (const r of g.rules ?? []) {
          const url = (r.annotations as Json | undefined)?.dashboard_url;
          if (typeof url !== 'string') continue;
          const uid = /\/d\/([\w-]+)/.exec(url)?.[1];
          const d = uid === undefined ? undefined : byUid.get(uid);
          if (!d) {
            broken.push(`${f} ${String(r.alert)}: no dashboard for ${url}`);
            continue;
          }
          const names = ((d.templating as Json).list as Json[]).map((v) => v.name);
          for (const m of url.matchAll(/var-(\w+)=/g))
            if (!names.includes(m[1]))
              broken.push(`${f} ${String(r.alert)}: ${uid} has no variable ${m[1]!}`);
        }
    }
    expect(broken).toEqual([]);
  });

  it('puts the hierarchy panel on the NOC wall, with options the panel knows', () => {
    const panel = panelsOf(dashboards.get('noc.json')!).find((p) => p.type === 'tillwatch-hierarchy-panel');
    expect(panel).toBeDefined();
    // Option names of the panel plugin being built beside this (grafana-plugin/src/types.ts).
    const types = readFileSync(join(root, 'grafana-plugin/src/types.ts'), 'utf8');
    const body = /interface HierarchyOptions \{([\s\S]*?)\n\}/.exec(types)?.[1] ?? '';
    const known = [...body.matchAll(/^\s*([a-zA-Z]+)\??:/gm)].map((m) => m[1]);
    expect(known).toContain('levels');
    const options = panel!.options as Json;
    expect(Object.keys(options).filter((k) => !known.includes(k))).toEqual([]);
    // The alerts overlay is found by refId.
    expect((panel!.targets as Json[]).map((t) => t.refId)).toContain(options.alertsRefId);
  });

  it.each([...dashboards.keys()])(
    '%s: imports into a Grafana whose Prometheus has another uid (__inputs, __requires, datasource variable)',
    (f) => {
      const d = dashboards.get(f)!;
      expect(d.__inputs).toEqual([
        expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
      ]);
      // No fixed uid anywhere: only the variable, or Grafana's built-in annotation source.
      const fixed = datasourceRefs(d).filter(
        ({ ref }) =>
          !isDeepStrictEqual(ref, DATASOURCE_REF) &&
          !isDeepStrictEqual(ref, { type: 'grafana', uid: '-- Grafana --' }),
      );
      expect(fixed).toEqual([]);
      expect(JSON.stringify(d)).not.toContain('tillwatch-prometheus');
      const vars = (d.templating as Json).list as Json[];
      expect(vars[0]).toMatchObject({
        type: 'datasource',
        name: 'datasource',
        query: 'prometheus',
        current: { value: '${DS_PROMETHEUS}' },
      });
      // Grafana, the datasource plugin and every panel plugin the dashboard uses.
      const requires = d.__requires as Json[];
      const panelTypes = [...new Set(panelsOf(d).map((p) => p.type as string))].filter((t) => t !== 'row');
      expect(requires.filter((r) => r.type === 'panel').map((r) => r.id)).toEqual(panelTypes.sort());
      expect(requires).toContainEqual(expect.objectContaining({ type: 'grafana', id: 'grafana' }));
      expect(requires).toContainEqual(expect.objectContaining({ type: 'datasource', id: 'prometheus' }));
      // Imported with another Prometheus picked: the variable starts on it, so every query reads it.
      const imported = importAs(d, { DS_PROMETHEUS: 'their-prometheus' });
      expect(((imported.templating as Json).list as Json[])[0]?.current).toEqual({
        text: 'their-prometheus',
        value: 'their-prometheus',
      });
      expect(JSON.stringify(imported)).not.toContain('DS_PROMETHEUS}');
    },
  );

  it('declare the hierarchy panel plugin and the Grafana it needs in __requires', () => {
    const plugin = JSON.parse(readFileSync(join(root, 'grafana-plugin/src/plugin.json'), 'utf8')) as {
      id: string;
      name: string;
      dependencies: { grafanaDependency: string };
    };
    const pkg = JSON.parse(readFileSync(join(root, 'grafana-plugin/package.json'), 'utf8')) as {
      version: string;
    };
    const requires = dashboards.get('noc.json')!.__requires as Json[];
    expect(requires).toContainEqual({
      type: 'panel',
      id: plugin.id,
      name: plugin.name,
      version: pkg.version,
    });
    const grafana = requires.find((r) => r.type === 'grafana');
    expect(`>=${String(grafana?.version)}`).toBe(plugin.dependencies.grafanaDependency);
  });

  it('are provisioned into Grafana with the one Prometheus datasource their variable then selects', () => {
    const prov = join(root, 'deploy/grafana/provisioning');
    const ds = parseYaml(readFileSync(join(prov, 'datasources/tillwatch.yml'), 'utf8')) as {
      datasources: Json[];
    };
    // $__rate_interval builds on timeInterval, so it must be the interval the shipped Prometheus scrapes at.
    const prom = parseYaml(readFileSync(join(root, 'deploy/prometheus.yml'), 'utf8')) as {
      global: { scrape_interval: string };
    };
    expect(ds.datasources).toContainEqual(
      expect.objectContaining({
        uid: 'tillwatch-prometheus',
        type: 'prometheus',
        access: 'proxy',
        jsonData: expect.objectContaining({ timeInterval: prom.global.scrape_interval }),
      }),
    );
    // File provisioning resolves no __inputs: the datasource variable falls back to the first Prometheus
    // datasource, so the provisioned Grafana has exactly one, and it is the default.
    const proms = ds.datasources.filter((d) => d.type === 'prometheus');
    expect(proms).toEqual([expect.objectContaining({ isDefault: true })]);
    // The central store's datasource (deploy/central/) replaces it for the same dashboards.
    const central = parseYaml(readFileSync(join(root, 'deploy/central/grafana-datasource.yml'), 'utf8')) as {
      datasources: Json[];
    };
    expect(central.datasources).toContainEqual(
      expect.objectContaining({ uid: 'tillwatch-prometheus', type: 'prometheus' }),
    );
    const dp = parseYaml(readFileSync(join(prov, 'dashboards/tillwatch.yml'), 'utf8')) as {
      providers: Json[];
    };
    expect(dp.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }),
      }),
    ]);
  });

  it('have queries to check', () => {
    expect(queries.length).toBeGreaterThan(100);
  });

  it('every query parses as PromQL', () => {
    const bad = queries.flatMap((q) =>
      analyse(substitute(q.expr)).errors.map((e) => `${q.dashboard} ${q.where}: ${e}`),
    );
    expect(bad).toEqual([]);
  });

  it('every metric is in docs/metrics.md, a recording rule in rules/*.yml, or a documented bridge metric', () => {
    const contract = new Set([
      ...readMetricContract().keys(),
      ...recordingRules(),
      ...bridgeMetrics().keys(),
    ]);
    const unknown = queries.flatMap((q) =>
      analyse(substitute(q.expr))
        .metrics.filter((m) => !known(m, contract))
        .map((m) => `${q.dashboard} ${q.where}: ${m}`),
    );
    expect(unknown).toEqual([]);
  });

  it('every label a query matches a contract or bridge metric on is one that metric has', () => {
    const doc = new Map([...readMetricContract(), ...bridgeMetrics()]);
    // Target labels from the inventory (file_sd) and Prometheus' own.
    const everywhere = ['chain', 'region', 'store', 'till', 'job', 'instance'];
    const wrong = queries.flatMap((q) =>
      analyse(substitute(q.expr))
        .matchers.filter(([metric, label]) => {
          const entry = doc.get(metric);
          return entry !== undefined && !entry.labels.includes(label) && !everywhere.includes(label);
        })
        .map(([metric, label]) => `${q.dashboard} ${q.where}: ${metric} has no label ${label}`),
    );
    expect(wrong).toEqual([]);
  });

  it('the checker catches an unknown metric and a syntax error', () => {
    const contract = new Set(readMetricContract().keys());
    expect(analyse('sum(rate(till_made_up_total[5m]))').metrics.filter((m) => !known(m, contract))).toEqual([
      'till_made_up_total',
    ]);
    expect(analyse('sum(till_device_up').errors).not.toEqual([]);
    expect(analyse('till_device_up{kind="utm", state="x"}').matchers).toEqual([
      ['till_device_up', 'kind'],
      ['till_device_up', 'state'],
    ]);
    expect(() => substitute('up{x="$nope"}')).toThrow('unknown Grafana variable $nope');
  });
});

// --- Against a real Prometheus ---------------------------------------------------------------

const NOW = Math.floor(Date.now() / 1000);
const DAY = 86400;
const elapsed = () => Math.floor(Date.now() / 1000) - NOW;

/** One till's /metrics: every contract family with plausible values; `faulty` runs out of paper. */
function tillExposition(faulty: boolean): string {
  const g = (name: string, samples: Array<[string, number]>, type = 'gauge') =>
    `# TYPE ${name} ${type}\n${samples.map(([l, v]) => `${name}${l ? `{${l}}` : ''} ${v}`).join('\n')}\n`;
  const dev = (d: string, k: string) => `device="${d}",kind="${k}"`;
  return [
    g('till_exporter_build_info', [['version="0.1.0",revision="0000000",nodejs="20.19.0"', 1]]),
    g('till_info', [['os="linux"', 1]]),
    g('till_collector_success', [
      ['collector="system"', 1],
      ['collector="fiscal"', faulty ? 0 : 1],
    ]),
    g('till_collector_duration_seconds', [['collector="system"', 0.01]]),
    g('till_collector_last_success_timestamp_seconds', [['collector="fiscal"', NOW - 600]]),
    g('till_device_up', [
      [dev('fiscal', 'fiscal'), 1],
      [dev('scanner', 'scanner'), faulty ? 0 : 1],
      [dev('utm', 'utm'), 1],
      [dev('marking', 'marking'), 1],
    ]),
    g('till_device_present', [[dev('scanner', 'scanner'), faulty ? 0 : 1]]),
    g('till_cpu_usage_ratio', [['', 0.2]]),
    g('till_memory_total_bytes', [['', 4e9]]),
    g('till_memory_available_bytes', [['', 1e9]]),
    g('till_filesystem_size_bytes', [['mountpoint="/"', 1e11]]),
    g('till_filesystem_avail_bytes', [['mountpoint="/"', 2e10 - 1e6 * elapsed()]]),
    g('till_disposable_bytes', [['mountpoint="/",name="pos_temp"', 3e9]]),
    g('till_boot_time_seconds', [['', NOW - DAY]]),
    g('till_temperature_celsius', [['sensor="cpu"', 55]]),
    g('till_clock_offset_seconds', [['', 0.2]]),
    g('till_clock_sync_success', [['', 1]]),
    g('till_probe_success', [['probe="ofd",kind="tcp"', 1]]),
    g('till_probe_duration_seconds', [['probe="ofd",kind="tcp"', 0.05]]),
    g('till_probe_tls_cert_expiry_timestamp_seconds', [['probe="ofd"', NOW + 90 * DAY]]),
    g('till_process_up', [['process="pos"', 1]]),
    g('till_process_restarts_total', [['process="pos"', faulty ? 3 : 0]], 'counter'),
    g('till_process_resident_memory_bytes', [['process="pos"', 3e8]]),
    g('till_process_start_time_seconds', [['process="pos"', NOW - 3600]]),
    g('till_log_matches_total', [['log="pos",pattern="error"', 5]], 'counter'),
    g('till_fiscal_info', [
      ['device="fiscal",driver="shtrih",model="ШТРИХ-М-01Ф",serial="1",fn_serial="2",firmware="A4"', 1],
    ]),
    g('till_fiscal_paper_present', [['device="fiscal"', faulty ? 0 : 1]]),
    g('till_fiscal_cover_open', [['device="fiscal"', 0]]),
    g('till_fiscal_drawer_open', [['device="fiscal"', 0]]),
    g('till_fiscal_shift_open', [['device="fiscal"', 1]]),
    g('till_fiscal_shift_expired', [['device="fiscal"', 0]]),
    g('till_fiscal_shift_opened_timestamp_seconds', [['device="fiscal"', NOW - 3600]]),
    g('till_fiscal_fn_expiry_timestamp_seconds', [['device="fiscal"', NOW + (faulty ? 10 : 200) * DAY]]),
    g(
      'till_fiscal_fn_warning',
      ['replace_urgent', 'resource_low', 'memory_full', 'ofd_timeout', 'critical'].map(
        (w) => [`device="fiscal",warning="${w}"`, faulty && w === 'resource_low' ? 1 : 0] as [string, number],
      ),
    ),
    // Falling with every scrape, so the trend-based forecasts have something to project.
    g('till_fiscal_fn_documents_remaining', [['device="fiscal"', 50000 - 10 * elapsed()]]),
    g('till_fiscal_ofd_connected', [['device="fiscal"', faulty ? 0 : 1]]),
    g('till_fiscal_ofd_unsent_documents', [['device="fiscal"', faulty ? 40 : 0]]),
    g('till_fiscal_ofd_oldest_unsent_timestamp_seconds', [['device="fiscal"', NOW - 2 * DAY]]),
    g('till_fiscal_clock_offset_seconds', [['device="fiscal"', 1]]),
    g('till_fiscal_last_error_code', [['device="fiscal"', faulty ? 0x6b : 0]]),
    g('till_fiscal_errors_total', [['device="fiscal",reason="timeout"', 2]], 'counter'),
    g('till_utm_info', [['device="utm",version="4.2.0",fsrar_id="030000000001"', 1]]),
    g('till_utm_certificate_expiry_timestamp_seconds', [
      ['device="utm",certificate="rsa"', NOW + 20 * DAY],
      ['device="utm",certificate="gost"', NOW + 100 * DAY],
    ]),
    g('till_utm_oldest_unsent_receipt_timestamp_seconds', [['device="utm"', NOW - 7200]]),
    g('till_marking_info', [['device="marking",version="1.2"', 1]]),
    g(
      'till_marking_status',
      ['ready', 'sync_error'].map(
        (s) => [`device="marking",status="${s}"`, (s === 'ready') !== faulty ? 1 : 0] as [string, number],
      ),
    ),
    g('till_marking_last_sync_timestamp_seconds', [['device="marking"', NOW - (faulty ? 2 : 0.1) * DAY]]),
    g('till_marking_requires_download', [['device="marking"', 0]]),
    g('till_software_version_info', [
      [`component="pos",version="${faulty ? '4.1.0' : '4.2.3'}"`, 1],
      ['component="os",version="debian 12"', 1],
    ]),
    // The faulty till runs a POS older than its chain's minimum (4.2.0, the test inventory's min_versions).
    g('till_software_version_number', [
      ['component="pos"', faulty ? 4001000 : 4002003],
      ['component="os"', 12000000],
    ]),
  ].join('');
}

/** The store server's node exporter and postgres_exporter, as far as rules and dashboards read them. */
function storeServerExposition(): string {
  const fs = (m: string, v: number) =>
    `${m}{device="/dev/sda2",fstype="ext4",mountpoint="/var/lib/postgresql"} ${v}`;
  return [
    '# TYPE pg_up gauge',
    'pg_up{server="127.0.0.1:5432"} 1',
    '# TYPE pg_settings_max_connections gauge',
    'pg_settings_max_connections{server="127.0.0.1:5432"} 100',
    '# TYPE pg_stat_activity_count gauge',
    'pg_stat_activity_count{datname="backoffice",server="127.0.0.1:5432",state="active"} 12',
    '# TYPE pg_stat_activity_max_tx_duration gauge',
    'pg_stat_activity_max_tx_duration{datname="backoffice",server="127.0.0.1:5432",state="active"} 3',
    '# TYPE pg_stat_replication_pg_wal_lsn_diff gauge',
    'pg_stat_replication_pg_wal_lsn_diff{application_name="standby",client_addr="127.0.0.1",server="127.0.0.1:5432",slot_name="standby",state="streaming"} 4096',
    '# TYPE pg_database_size_bytes gauge',
    'pg_database_size_bytes{datname="backoffice",server="127.0.0.1:5432"} 2e9',
    '# TYPE node_filesystem_avail_bytes gauge',
    fs('node_filesystem_avail_bytes', 4e10),
    '# TYPE node_filesystem_size_bytes gauge',
    fs('node_filesystem_size_bytes', 1e11),
    '# TYPE node_filesystem_readonly gauge',
    fs('node_filesystem_readonly', 0),
    '# TYPE node_load1 gauge',
    'node_load1 0.4',
    '',
  ].join('\n');
}

function bridgeExposition(): string {
  const lines = [
    '# TYPE tillwatch_bridge_tickets gauge',
    ...['open', 'acknowledged', 'resolved', 'closed'].map(
      (s, i) => `tillwatch_bridge_tickets{status="${s}"} ${i + 1}`,
    ),
    '# TYPE tillwatch_bridge_sla_breaches_total counter',
    'tillwatch_bridge_sla_breaches_total{kind="reaction",priority="P1"} 1',
    '# TYPE tillwatch_bridge_ticket_transitions_total counter',
    'tillwatch_bridge_ticket_transitions_total{event="created"} 4',
    '# TYPE tillwatch_bridge_outbox_pending gauge',
    'tillwatch_bridge_outbox_pending 0',
    '# TYPE tillwatch_bridge_webhook_rejected_total counter',
    'tillwatch_bridge_webhook_rejected_total{reason="bad_payload"} 0',
    '# TYPE tillwatch_bridge_deliveries_total counter',
    'tillwatch_bridge_deliveries_total{kind="telegram",target="noc",result="failed"} 1',
    '# TYPE tillwatch_bridge_delivery_duration_seconds histogram',
    'tillwatch_bridge_delivery_duration_seconds_bucket{kind="telegram",le="0.1"} 1',
    'tillwatch_bridge_delivery_duration_seconds_bucket{kind="telegram",le="+Inf"} 2',
    'tillwatch_bridge_delivery_duration_seconds_sum{kind="telegram"} 0.5',
    'tillwatch_bridge_delivery_duration_seconds_count{kind="telegram"} 2',
    // The service metrics (docs/metrics.md "Alert bridge: service") of two clients.
    ...['ticket_time_to_acknowledge_seconds', 'ticket_time_to_resolve_seconds'].flatMap((h) => [
      `# TYPE tillwatch_bridge_${h} histogram`,
      ...['c1', 'c2'].flatMap((chain) => {
        const l = `team="hardware",priority="P2",incident_class="fiscal.paper_out",chain="${chain}"`;
        return [
          `tillwatch_bridge_${h}_bucket{le="900",${l}} 1`,
          `tillwatch_bridge_${h}_bucket{le="+Inf",${l}} 2`,
          `tillwatch_bridge_${h}_sum{${l}} 3000`,
          `tillwatch_bridge_${h}_count{${l}} 2`,
        ];
      }),
    ]),
    '# TYPE tillwatch_bridge_sla_deadlines_total counter',
    ...['registration', 'reaction', 'resolution'].flatMap((kind) =>
      ['met', 'breached'].map(
        (result) =>
          `tillwatch_bridge_sla_deadlines_total{kind="${kind}",result="${result}",priority="P2",chain="c1"} 1`,
      ),
    ),
    '# TYPE tillwatch_bridge_tickets_closed_total counter',
    ...['self', 'alerts', 'human'].map(
      (by) =>
        `tillwatch_bridge_tickets_closed_total{team="hardware",priority="P2",incident_class="fiscal.paper_out",chain="c1",resolved_by="${by}"} 1`,
    ),
    '# TYPE tillwatch_bridge_open_tickets gauge',
    ...['0-1h', '1d-3d', '7d+'].map(
      (age) => `tillwatch_bridge_open_tickets{age="${age}",priority="P2",chain="c1"} 1`,
    ),
    '# TYPE tillwatch_bridge_remediation_tickets_total counter',
    'tillwatch_bridge_remediation_tickets_total{incident_class="egais.utm_down",outcome="auto_remediated"} 3',
    'tillwatch_bridge_remediation_tickets_total{incident_class="egais.utm_down",outcome="paged"} 1',
    '# TYPE tillwatch_bridge_remediation_actions_total counter',
    'tillwatch_bridge_remediation_actions_total{incident_class="egais.utm_down",action="restart_utm",result="succeeded"} 3',
  ];
  return `${lines.join('\n')}\n`;
}

// Queries that may rightly return nothing on the fixture fleet (no pending alerts, no till down...).
const MAY_BE_EMPTY = new Set([
  'panel "Pending alerts" A',
  'panel "Exporters down" A',
  'panel "FN memory full within 60 days (at the one-day trend)" A',
  'panel "Modules requiring a download" A',
  'panel "Marking module status" B',
]);

describe('dashboard queries on a real Prometheus 2.42', () => {
  const servers: MetricsServer[] = [];
  let prom: RunningPrometheus;

  beforeAll(async () => {
    const healthy = await startMetricsServer(() => tillExposition(false));
    const faulty = await startMetricsServer(() => tillExposition(true));
    const bridge = await startMetricsServer(bridgeExposition);
    const storeServer = await startMetricsServer(storeServerExposition);
    servers.push(healthy, faulty, bridge, storeServer);
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-dash-'));
    const inv = parseInventory(`chains:
  - id: c1
    min_versions: { pos: "4.2.0" }
    regions:
      - id: r1
        stores:
          - id: s1
            tills:
              - { id: s1-t1, address: "${healthy.address}" }
              - { id: s1-t2, address: "${faulty.address}" }
`);
    const { path } = writeFileSd(inv, join(dir, 'targets'));
    // A critical alert that fires at once, so ALERTS-based rules and panels have data.
    writeFileSync(
      join(dir, 'test-alerts.yml'),
      `groups:
  - name: dashboard-test
    rules:
      - alert: TestPaperOut
        expr: till_fiscal_paper_present == 0
        labels: { severity: critical }
`,
    );
    // The chains' minimum versions, as `tillwatch inventory min-versions` writes them.
    writeFileSync(join(dir, 'min-versions.rules.yml'), renderMinVersionRules(inv));
    // Every group on the 1 s interval, trends included: this test checks what the queries return, not when.
    const rules = [...copyRulesOnGlobalInterval(dir), join(dir, 'min-versions.rules.yml')].map(
      (f) => `  - ${f}`,
    );
    prom = await startPrometheus(
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files:',
        `  - ${join(dir, 'test-alerts.yml')}`,
        ...rules,
        'scrape_configs:',
        // The job name the rules expect for till exporters (rules/recording.yml).
        '  - job_name: tillwatch-exporter',
        `    file_sd_configs: [{ files: ['${path}'] }]`,
        // The store server as the store agent scrapes it, its place as the agent's external labels would set it.
        ...['tillwatch-store-node', 'tillwatch-store-postgres'].flatMap((job) => [
          `  - job_name: ${job}`,
          `    static_configs: [{ targets: ['${storeServer.address}'], labels: { chain: c1, region: r1, store: s1 } }]`,
        ]),
        '  - job_name: tillwatch-bridge',
        `    static_configs: [{ targets: ['${bridge.address}'] }]`,
        '',
      ].join('\n'),
      { dir },
    );
    // Enough samples for rate() over 1m windows and for the store rules built on ALERTS.
    await waitFor(
      'rules evaluated over a few scrapes',
      async () => {
        const r = await prom.query('count_over_time(store:tills_critical:count[1m]) >= 3');
        return (r.data?.result.length ?? 0) > 0 ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
  });

  afterAll(async () => {
    await prom?.stop();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('runs every dashboard query without error, and each returns data on the fixture fleet', async () => {
    const failures: string[] = [];
    const empty: string[] = [];
    for (const q of queries) {
      const r = await prom.query(substitute(q.expr));
      if (r.status !== 'success') failures.push(`${q.dashboard} ${q.where}: ${r.errorType}: ${r.error}`);
      else if ((r.data?.result.length ?? 0) === 0 && !MAY_BE_EMPTY.has(q.where))
        empty.push(`${q.dashboard} ${q.where}`);
    }
    expect(failures).toEqual([]);
    expect(empty).toEqual([]);
  });

  it('returns data for one picked till, as Grafana substitutes a selection', async () => {
    // Multi-value selections become a regex alternation in Grafana; single ones the plain value.
    const picked = { chain: '(c1|c9)', region: 'r1', store: 's1', till: 's1-t2' };
    const empty: string[] = [];
    for (const file of ['till.json', 'store.json', 'noc.json']) {
      for (const q of queriesOf(file, dashboards.get(file)!)) {
        const r = await prom.query(substitute(q.expr, picked));
        expect(r.status, `${file} ${q.where}: ${r.error}`).toBe('success');
        if ((r.data?.result.length ?? 0) === 0 && !MAY_BE_EMPTY.has(q.where))
          empty.push(`${file} ${q.where}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it('fails a query that Prometheus 2.42 rejects', async () => {
    // sort_by_label arrived after 2.42: the lezer grammar knows it, this Prometheus does not.
    const r = await prom.query('sort_by_label(up, "till")');
    expect(r.status).toBe('error');
  });

  it('the Service dashboard reads the bridge: backlog older than a day, per client', async () => {
    const qs = queriesOf('service.json', dashboards.get('service.json')!);
    const value = async (where: string, picked: Record<string, string> = {}) => {
      const r = await prom.query(substitute(qs.find((x) => x.where === where)!.expr, picked));
      return (r.data?.result as Array<{ value: [number, string] }>).map((x) => x.value[1]);
    };
    expect(await value('panel "Open tickets older than a day" A')).toEqual(['2']);
    expect(await value('panel "Open tickets older than a day" A', { chain: 'c2' })).toEqual(['0']);
    expect((await value('panel "Open tickets by age" A')).sort()).toEqual(['1', '1', '1']);
  });

  it('the NOC counts the faulty till as unable to sell', async () => {
    const noc = queriesOf('noc.json', dashboards.get('noc.json')!);
    const q = noc.find((x) => x.where === 'panel "Stores with a till that cannot sell" A')!;
    const r = await prom.query(substitute(q.expr));
    expect((r.data?.result as Array<{ value: [number, string] }>)[0]?.value[1]).toBe('1');
  });
});
