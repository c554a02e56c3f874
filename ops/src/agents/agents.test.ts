import { describe, expect, it } from 'vitest';
import { FULL_INVENTORY } from '@tillwatch/testkit';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYaml } from '@tillwatch/config';
import { generateDemoInventory, loadInventory, parseInventory } from '@tillwatch/inventory';
import { main } from '../cli.js';
import {
  LEAN_DROP_METRICS,
  STORE_NODE_JOB,
  STORE_NODE_KEEP,
  STORE_POSTGRES_JOB,
  STORE_POSTGRES_KEEP,
  storeAgents,
  writeStoreAgents,
} from './agents.js';

const full = FULL_INVENTORY;
const URL_ = 'http://central.example:8428/api/v1/write';

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  return main(args, { out: (l) => out.push(l), err: (l) => err.push(l) }).then((code) => ({
    code,
    out: out.join('\n'),
    err: err.join('\n'),
  }));
}

describe('per-store agent configs', () => {
  it('puts the store place in external labels and keeps the till label on each target', () => {
    const [s1] = [...storeAgents(loadInventory(full), { remoteWriteUrl: URL_ })];
    expect(s1?.externalLabels).toEqual({ chain: 'c1', format: 'express', region: 'r1', store: 's1' });
    expect(s1?.vmagentFlags).toEqual(
      expect.arrayContaining([
        `-remoteWrite.url=${URL_}`,
        '-remoteWrite.label=chain=c1',
        '-remoteWrite.label=format=express',
        '-remoteWrite.label=region=r1',
        '-remoteWrite.label=store=s1',
        '-remoteWrite.tmpDataPath=/var/lib/tillwatch-agent/s1/vmagent',
      ]),
    );
    const prom = parseYaml(s1!.prometheusAgentConfig, 'prometheus-agent.yml') as {
      global: { external_labels: Record<string, string> };
      scrape_configs: Array<{ job_name: string; static_configs: unknown[] }>;
      remote_write: Array<{ url: string }>;
    };
    expect(prom.global.external_labels).toEqual(s1?.externalLabels);
    expect(prom.remote_write[0]?.url).toBe(URL_);
    expect(prom.scrape_configs[0]?.job_name).toBe('tillwatch-exporter');
    expect(prom.scrape_configs[0]?.static_configs).toEqual([
      { targets: ['127.0.0.1:19001'], labels: { lane: '1', store_name: 'Store one', till: 't1' } },
      {
        targets: ['[::1]:9835'],
        labels: { __metrics_path__: '/tills/t2/metrics', store_name: 'Store one', till: 't2' },
      },
    ]);
    // The store's name reaches the centre on `up` only, as with deploy/prometheus.yml.
    expect(prom.scrape_configs[0]).toMatchObject({
      metric_relabel_configs: [{ action: 'labeldrop', regex: 'store_name' }],
    });
    // Each engine also scrapes itself, keeping only `up`: the heartbeat TillStoreSilent reads at the centre.
    const selfJob = (targets: string[]) => ({
      job_name: 'tillwatch-agent',
      static_configs: [{ targets }],
      metric_relabel_configs: [{ source_labels: ['__name__'], regex: '.+', action: 'drop' }],
    });
    expect(prom.scrape_configs[1]).toEqual(selfJob(['127.0.0.1:9095']));
    // vmagent reads the same till section and scrapes itself where its flags make it listen.
    const vm = parseYaml(s1!.vmagentScrapeConfig, 'vmagent.yml') as typeof prom;
    expect(vm.scrape_configs[0]).toEqual(prom.scrape_configs[0]);
    expect(vm.scrape_configs[1]).toEqual(selfJob(['127.0.0.1:8429']));
    expect(s1?.vmagentFlags).toContain('-httpListenAddr=127.0.0.1:8429');
    expect(vm.scrape_configs).toHaveLength(2);
  });

  it("scrapes the store server's node and PostgreSQL exporters, keeping only what the rules read", () => {
    const inv = parseInventory(
      [
        'chains:',
        '  - id: c1',
        '    regions:',
        '      - id: r1',
        '        stores:',
        '          - id: s1',
        "            server: { node: '127.0.0.1:9100', postgres: '127.0.0.1:9187' }",
        "            tills: [{ id: t1, address: '127.0.0.1:9835' }]",
        '          - id: s2',
        "            server: { node: '127.0.0.1:9100' }",
        "            tills: [{ id: t2, address: '127.0.0.1:9836' }]",
      ].join('\n'),
      'inv.yml',
    );
    const [s1, s2] = [...storeAgents(inv, { remoteWriteUrl: URL_ })];
    const jobs = (a: typeof s1) =>
      (parseYaml(a!.prometheusAgentConfig, 'p.yml') as { scrape_configs: Array<Record<string, unknown>> })
        .scrape_configs;
    expect(jobs(s1).slice(2)).toEqual([
      {
        job_name: STORE_NODE_JOB,
        static_configs: [{ targets: ['127.0.0.1:9100'] }],
        metric_relabel_configs: [{ source_labels: ['__name__'], regex: STORE_NODE_KEEP, action: 'keep' }],
      },
      {
        job_name: STORE_POSTGRES_JOB,
        static_configs: [{ targets: ['127.0.0.1:9187'] }],
        metric_relabel_configs: [{ source_labels: ['__name__'], regex: STORE_POSTGRES_KEEP, action: 'keep' }],
      },
    ]);
    expect(jobs(s2).map((j) => j.job_name)).toEqual([
      'tillwatch-exporter',
      'tillwatch-agent',
      STORE_NODE_JOB,
    ]);
    expect(() =>
      parseInventory(
        'chains: [{ id: c, regions: [{ id: r, stores: [{ id: s, server: {}, tills: [{ id: t, address: "h:1" }] }] }] }]',
        'bad.yml',
      ),
    ).toThrow('bad.yml: chains[0].regions[0].stores[0].server: set node, postgres or both');
  });

  it('drops opt-out metrics at the edge when asked', () => {
    const [s1] = [
      ...storeAgents(loadInventory(full), { remoteWriteUrl: URL_, dropMetrics: LEAN_DROP_METRICS }),
    ];
    expect(s1?.prometheusAgentConfig).toContain('action: drop');
    expect(s1?.prometheusAgentConfig).toContain(LEAN_DROP_METRICS);
  });

  it('scrapes exporters with a web config over HTTPS with basic auth when asked, and never sends a password over plain HTTP', async () => {
    const auth = {
      caFile: '/etc/tillwatch-agent/tills-ca.crt',
      username: 'prometheus',
      passwordFile: '/etc/tillwatch-agent/exporter-password',
    };
    const [s1] = [...storeAgents(loadInventory(full), { remoteWriteUrl: URL_, exporterAuth: auth })];
    for (const text of [s1!.vmagentScrapeConfig, s1!.prometheusAgentConfig]) {
      const jobs = (parseYaml(text, 'agent.yml') as { scrape_configs: Record<string, unknown>[] })
        .scrape_configs;
      expect(jobs[0]).toMatchObject({
        job_name: 'tillwatch-exporter',
        scheme: 'https',
        tls_config: { ca_file: auth.caFile },
        basic_auth: { username: 'prometheus', password_file: auth.passwordFile },
      });
      // The agent's scrape of itself stays plain and unauthenticated.
      expect(jobs[1]).not.toHaveProperty('basic_auth');
    }
    const [plain] = [...storeAgents(loadInventory(full), { remoteWriteUrl: URL_ })];
    expect(plain!.vmagentScrapeConfig).not.toMatch(/scheme|basic_auth|tls_config/);
    const out = mkdtempSync(join(tmpdir(), 'tw-agents-auth-'));
    const agents = (...extra: string[]) =>
      run(['inventory', 'agents', '--inventory', full, '--out', out, '--remote-write', URL_, ...extra]);
    const bad = await agents('--exporter-username', 'prometheus');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--exporter-username needs --exporter-ca-file (basic auth goes only over TLS)');
    const half = await agents('--exporter-ca-file', auth.caFile, '--exporter-username', 'prometheus');
    expect(half.code).toBe(1);
  });

  it('writes configs that promtool (agent mode) and vmagent -dryRun accept, for every demo store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-agents-'));
    const inv = generateDemoInventory({
      stores: 3,
      tillsPerStore: { min: 2, max: 3 },
      basePort: 19100,
      host: '127.0.0.1',
    });
    expect(writeStoreAgents(inv, dir, { remoteWriteUrl: URL_, dropMetrics: LEAN_DROP_METRICS })).toBe(3);
    const stores = readdirSync(dir).sort();
    expect(stores).toHaveLength(3);
    for (const s of stores) {
      expect(readdirSync(join(dir, s)).sort()).toEqual([
        'prometheus-agent.yml',
        'vmagent.flags',
        'vmagent.yml',
      ]);
      execFileSync('promtool', ['check', 'config', '--agent', join(dir, s, 'prometheus-agent.yml')], {
        stdio: 'pipe',
      });
      execFileSync(
        'vmagent',
        ['-dryRun', `-promscrape.config=${join(dir, s, 'vmagent.yml')}`, '-loggerLevel=ERROR'],
        { stdio: 'pipe' },
      );
    }
  });

  it('vmagent -dryRun rejects a broken scrape config, so the check above can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-agents-'));
    writeFileSync(join(dir, 'bad.yml'), 'scrape_configs:\n  - job_name: x\n    bogus_key: 1\n');
    expect(() =>
      execFileSync(
        'vmagent',
        ['-dryRun', `-promscrape.config=${join(dir, 'bad.yml')}`, '-loggerLevel=ERROR'],
        {
          stdio: 'pipe',
        },
      ),
    ).toThrow();
  });

  it('runs as `tillwatch inventory agents` and names a bad option', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-agents-'));
    const ok = await run(['inventory', 'agents', '--inventory', full, '--out', dir, '--remote-write', URL_]);
    expect(ok).toMatchObject({
      code: 0,
      out: `wrote vmagent and Prometheus agent configs for 2 stores to ${dir}`,
    });
    expect(readFileSync(join(dir, 's2', 'vmagent.flags'), 'utf8')).toContain('-remoteWrite.label=store=s2\n');

    const missing = await run(['inventory', 'agents', '--inventory', full, '--out', dir]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('inventory agents: --remote-write is required');

    const bad = await run([
      'inventory',
      'agents',
      '--inventory',
      full,
      '--out',
      dir,
      '--remote-write',
      'central:8428',
    ]);
    expect(bad).toMatchObject({
      code: 1,
      err: 'error: --remote-write: expected an http(s) URL, got "central:8428"',
    });

    const interval = await run([
      'inventory',
      'agents',
      '--inventory',
      full,
      '--out',
      dir,
      '--remote-write',
      URL_,
      '--scrape-interval',
      'often',
    ]);
    expect(interval.err).toBe('error: --scrape-interval: expected a duration like 10s, got "often"');
  });
});
