// The shipped scrapers against an exporter that protects itself (issue 20): deploy/prometheus.yml's TLS
// job, and the store agents `tillwatch inventory agents --exporter-ca-file ... --exporter-username ...`
// generates (vmagent and Prometheus in agent mode, pushing to VictoriaMetrics), each scrape a real
// exporter serving HTTPS with basic auth on loopback. Also what Prometheus stores of till_info: the
// inventory's place as target labels, the till's own claim as identity_*, nothing as exported_*.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSync } from '@node-rs/bcrypt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import {
  createExporter,
  loadWebConfig,
  parseConfig,
  startWebServer,
  type Exporter,
  type WebServer,
} from '@tillwatch/exporter';
import { parseInventory, iterateStores } from '@tillwatch/inventory';
import { renderFileSd, storeAgent } from '@tillwatch/ops';
import {
  exportSeries,
  freePort,
  instantQuery,
  repoPath,
  selfSignedCert,
  signedCert,
  startPrometheus,
  startService,
  startVictoriaMetrics,
  waitFor,
  type RunningPrometheus,
  type Service,
  prometheusAgentFlag,
} from '@tillwatch/testkit';

const PASSWORD = 'scrape-secret';

describe('the shipped scrapers reach an exporter with TLS and basic auth', () => {
  let dir: string;
  let ex: Exporter;
  let web: WebServer;
  let address: string;
  const stopped: Array<{ stop(): Promise<void> }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-tls-scrape-'));
    // A fleet CA, and the till's certificate for the address the scrapers dial.
    selfSignedCert(dir, 'ca', '/CN=tills CA');
    signedCert(dir, 'till', '/CN=t1', { ca: 'ca', san: 'IP:127.0.0.1' });
    writeFileSync(join(dir, 'exporter-password'), `${PASSWORD}\n`);
    writeFileSync(
      join(dir, 'web.yml'),
      `tls_server_config:\n  cert_file: till.crt\n  key_file: till.key\nbasic_auth_users:\n  prometheus: '${hashSync(PASSWORD, 4)}'\n`,
    );
    // The till's own config names another till than the inventory does: a copied config.
    ex = createExporter(
      parseConfig({ identity: { chain: 'demo', region: 'msk', store: 's1', till: 't9' } }),
      {
        logger: pino({ level: 'silent' }),
      },
    );
    await ex.start();
    web = await startWebServer(ex, '127.0.0.1:0', loadWebConfig(join(dir, 'web.yml')));
    address = `127.0.0.1:${web.address().port}`;
  });
  afterAll(async () => {
    for (const s of stopped.reverse()) await s.stop().catch(() => {});
    await web?.close();
    await ex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const inventory = () =>
    parseInventory(
      `chains:\n  - id: demo\n    regions:\n      - id: msk\n        stores:\n          - id: s1\n            tills:\n              - { id: t1, address: '${address}' }\n`,
    );

  it("deploy/prometheus.yml's TLS job scrapes it; till_info keeps the place as target labels and the till's claim as identity_*", async () => {
    type Job = Record<string, unknown> & { job_name: string };
    const shipped = parseYaml(readFileSync(repoPath('deploy', 'prometheus.yml'), 'utf8')) as {
      global: Record<string, unknown>;
      scrape_configs: Job[];
    };
    const job = structuredClone(shipped.scrape_configs.find((j) => j.job_name === 'tillwatch-exporter-tls'));
    expect(job, 'the shipped TLS job').toBeDefined();
    // The shipped job as is, with its files where this test keeps them.
    (job!.tls_config as Record<string, string>).ca_file = join(dir, 'ca.crt');
    (job!.basic_auth as Record<string, string>).password_file = join(dir, 'exporter-password');
    mkdirSync(join(dir, 'targets', 'tls'), { recursive: true });
    writeFileSync(join(dir, 'targets', 'tls', 'tills.json'), renderFileSd(inventory()));
    job!.file_sd_configs = [{ files: [join(dir, 'targets', 'tls', '*.json')], refresh_interval: '1s' }];
    const prom: RunningPrometheus = await startPrometheus(
      toYaml({
        global: { ...shipped.global, scrape_interval: '1s', scrape_timeout: '1s' },
        scrape_configs: [job],
      }),
    );
    stopped.push(prom);

    const up = await waitFor('a successful scrape', async () => {
      const r = await instantQuery(prom.url, 'up{job="tillwatch-exporter"} == 1');
      return r.length > 0 ? r : undefined;
    });
    expect(up[0]?.metric).toMatchObject({
      chain: 'demo',
      region: 'msk',
      store: 's1',
      till: 't1',
      instance: address,
    });
    const [info] = await waitFor('till_info', async () => {
      const r = await instantQuery(prom.url, 'till_info');
      return r.length > 0 ? r : undefined;
    });
    expect(info?.metric).toEqual({
      __name__: 'till_info',
      job: 'tillwatch-exporter',
      instance: address,
      chain: 'demo',
      region: 'msk',
      store: 's1',
      till: 't1',
      identity_chain: 'demo',
      identity_region: 'msk',
      identity_store: 's1',
      identity_till: 't9',
      os: process.platform === 'win32' ? 'windows' : 'linux',
    });
    // docs/metrics.md's query for a till whose config names another till finds it.
    const copied = await instantQuery(
      prom.url,
      'till_info unless on (till, identity_till) label_replace(till_info, "identity_till", "$1", "till", "(.*)")',
    );
    expect(copied.map((s) => s.metric.till)).toEqual(['t1']);
  });

  it('the generated store agents (vmagent and Prometheus agent mode) scrape it and deliver to the centre', async () => {
    const { chain, region, store } = [...iterateStores(inventory())][0]!;
    const vmPort = await freePort();
    const vm: Service = await startVictoriaMetrics(join(dir, 'vm'), vmPort);
    stopped.push(vm);
    const agent = storeAgent(chain, region, store, {
      remoteWriteUrl: `${vm.url}/api/v1/write`,
      scrapeInterval: '1s',
      dataDir: join(dir, 'agents'),
      exporterAuth: {
        caFile: join(dir, 'ca.crt'),
        username: 'prometheus',
        passwordFile: join(dir, 'exporter-password'),
      },
    });

    // vmagent exactly as generated, but with an absolute config path, a free port, and its name on what it sends.
    const vmagentPort = await freePort();
    writeFileSync(join(dir, 'vmagent.yml'), agent.vmagentScrapeConfig);
    const flags = agent.vmagentFlags
      .filter((f) => !f.startsWith('-httpListenAddr=') && !f.startsWith('-promscrape.config='))
      .concat([
        `-promscrape.config=${join(dir, 'vmagent.yml')}`,
        `-httpListenAddr=127.0.0.1:${vmagentPort}`,
        '-remoteWrite.label=agent=vmagent',
      ]);
    stopped.push(await startService('vmagent', 'vmagent', flags, vmagentPort, { readyPath: '/health' }));

    const promPort = await freePort();
    const promConfig = parseYaml(agent.prometheusAgentConfig) as {
      global: { external_labels: Record<string, string> };
    };
    promConfig.global.external_labels.agent = 'prometheus';
    writeFileSync(join(dir, 'prometheus-agent.yml'), toYaml(promConfig));
    stopped.push(
      await startService(
        'prometheus-agent',
        'prometheus',
        [
          prometheusAgentFlag(),
          `--config.file=${join(dir, 'prometheus-agent.yml')}`,
          `--storage.agent.path=${join(dir, 'prom-agent')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        promPort,
        { readyPath: '/-/ready' },
      ),
    );

    for (const name of ['vmagent', 'prometheus']) {
      const series = await waitFor(
        `${name}'s successful scrapes at the centre`,
        async () => {
          const s = await exportSeries(vm.url, `up{job="tillwatch-exporter",agent="${name}"}`);
          return s.some((x) => x.values.includes(1)) ? s : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(series[0]?.metric).toMatchObject({ chain: 'demo', region: 'msk', store: 's1', till: 't1' });
      const info = await exportSeries(vm.url, `till_info{agent="${name}"}`);
      expect(info[0]?.metric).toMatchObject({ till: 't1', identity_till: 't9' });
    }
  });
});
