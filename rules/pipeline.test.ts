// The whole alert path with the shipped configs and real binaries: a till's metrics endpoint (a stand-in
// for the exporter, serving the contract's series) scraped by Prometheus 2.42 through file_sd, the rules
// evaluated, the alert routed by Alertmanager 0.25 and delivered to a loopback stand-in for the bridge.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  close,
  instantQuery,
  listen,
  startAlertmanager,
  startMetricsServer,
  startPrometheus,
  waitFor,
  type MetricsServer,
  type RunningAlertmanager,
  type RunningPrometheus,
} from '@tillwatch/testkit';
import { REPO_DIR, ruleFiles } from './lib/rule-files.js';

interface Notification {
  receiver: string;
  status: string;
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

describe('Prometheus → Alertmanager → bridge webhook with the shipped configuration', () => {
  let paper = 1;
  let exporter: MetricsServer;
  let hook: Server;
  let am: RunningAlertmanager;
  let prometheus: RunningPrometheus;
  const received: Notification[] = [];

  beforeAll(async () => {
    exporter = await startMetricsServer(() =>
      [
        'till_device_up{device="kkt",kind="fiscal"} 1',
        `till_fiscal_paper_present{device="kkt"} ${paper}`,
        'till_fiscal_cover_open{device="kkt"} 0',
        '',
      ].join('\n'),
    );
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as Notification);
        res.end();
      });
    });
    const hookPort = await listen(hook);

    const root = mkdtempSync(join(tmpdir(), 'tillwatch-pipeline-'));
    mkdirSync(join(root, 'deploy', 'targets'), { recursive: true });
    mkdirSync(join(root, 'deploy', 'secrets'));
    mkdirSync(join(root, 'rules'));
    for (const f of ruleFiles()) cpSync(f, join(root, 'rules', f.split('/').pop() as string));
    cpSync(
      join(REPO_DIR, 'deploy', 'secrets', 'webhook-token'),
      join(root, 'deploy', 'secrets', 'webhook-token'),
    );
    writeFileSync(
      join(root, 'deploy', 'alertmanager.yml'),
      readFileSync(join(REPO_DIR, 'deploy', 'alertmanager.yml'), 'utf8').replace(
        'http://127.0.0.1:9836/',
        `http://127.0.0.1:${hookPort}/`,
      ),
    );
    am = await startAlertmanager({ configFile: join(root, 'deploy', 'alertmanager.yml') });
    const amPort = new URL(am.url).port;
    // Shaped like the inventory tool's output.
    writeFileSync(
      join(root, 'deploy', 'targets', 'tills.json'),
      JSON.stringify([
        {
          targets: [exporter.address],
          labels: { chain: 'demo', region: 'moscow', store: 'msk-001', till: 'msk-001-01' },
        },
      ]),
    );
    // Written as deploy/prometheus.yml beside the copied rules and targets, as the shipped file expects.
    prometheus = await startPrometheus(
      readFileSync(join(REPO_DIR, 'deploy', 'prometheus.yml'), 'utf8').replace(
        "'127.0.0.1:9093'",
        `'127.0.0.1:${amPort}'`,
      ),
      { dir: join(root, 'deploy') },
    );
    // Wait for the first successful scrape of the till before injecting the fault.
    await waitFor(
      'Prometheus to scrape the till',
      async () => (await instantQuery(prometheus.url, 'up{job="tillwatch-exporter"} == 1')).length > 0,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await am?.stop();
    await exporter?.close();
    if (hook) await close(hook);
  });

  it('delivers a paper-out fault to the bridge with inventory labels, card key and runbook', async () => {
    const start = Date.now();
    paper = 0;
    const note = await waitFor(
      'the paper-out notification',
      () => received.find((n) => n.alerts.some((a) => a.labels.alertname === 'TillFiscalPaperOut')),
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    // A figure for the report, not an assertion: the latency budget is in rules/README.md.
    console.log(`paper out → webhook: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    expect(note.receiver).toBe('bridge-hardware');
    expect(note.status).toBe('firing');
    const alert = note.alerts.find((a) => a.labels.alertname === 'TillFiscalPaperOut');
    expect(alert?.labels).toMatchObject({
      chain: 'demo',
      region: 'moscow',
      store: 'msk-001',
      till: 'msk-001-01',
      job: 'tillwatch-exporter',
      device: 'kkt',
      severity: 'critical',
      team: 'hardware',
      incident_class: 'fiscal.paper_out',
    });
    expect(alert?.annotations.description).toBe(
      'Store msk-001, till msk-001-01: registrar "kkt" has no receipt paper. Sales stop until the cashier loads a new roll.',
    );
    expect(alert?.annotations.runbook_url).toMatch(/runbooks\.md#tillfiscalpaperout$/);
  }, 100_000);
});
