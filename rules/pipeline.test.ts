// The whole alert path with the shipped configs and real binaries: a till's metrics endpoint (a stand-in
// for the exporter, serving the contract's series) scraped by Prometheus 2.42 through file_sd, the rules
// evaluated, the alert routed by Alertmanager 0.25 and delivered to a loopback stand-in for the bridge.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startAlertmanager, type RunningAlertmanager } from './lib/alertmanager-process.js';
import { REPO_DIR, ruleFiles } from './lib/rule-files.js';

interface Notification {
  receiver: string;
  status: string;
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Prometheus → Alertmanager → bridge webhook with the shipped configuration', () => {
  let paper = 1;
  let exporter: Server;
  let hook: Server;
  let am: RunningAlertmanager;
  let prometheus: ChildProcess;
  let promLog = '';
  const received: Notification[] = [];

  beforeAll(async () => {
    exporter = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        [
          'till_device_up{device="kkt",kind="fiscal"} 1',
          `till_fiscal_paper_present{device="kkt"} ${paper}`,
          'till_fiscal_cover_open{device="kkt"} 0',
          '',
        ].join('\n'),
      );
    });
    const exporterPort = await listen(exporter);
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
    am = await startAlertmanager(join(root, 'deploy', 'alertmanager.yml'));
    const amPort = new URL(am.url).port;
    writeFileSync(
      join(root, 'deploy', 'prometheus.yml'),
      readFileSync(join(REPO_DIR, 'deploy', 'prometheus.yml'), 'utf8').replace(
        "'127.0.0.1:9093'",
        `'127.0.0.1:${amPort}'`,
      ),
    );
    // Shaped like the inventory tool's output.
    writeFileSync(
      join(root, 'deploy', 'targets', 'tills.json'),
      JSON.stringify([
        {
          targets: [`127.0.0.1:${exporterPort}`],
          labels: { chain: 'demo', region: 'moscow', store: 'msk-001', till: 'msk-001-01' },
        },
      ]),
    );
    const promPort = await freePort();
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(root, 'deploy', 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(root, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (d: Buffer) => (promLog += d.toString()));
    prometheus.stderr?.on('data', (d: Buffer) => (promLog += d.toString()));
    // Wait for the first successful scrape of the till before injecting the fault.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const r = await fetch(
          `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('up{job="tillwatch-exporter"} == 1')}`,
        );
        const j = (await r.json()) as { data?: { result?: unknown[] } };
        if ((j.data?.result?.length ?? 0) > 0) break;
      } catch {
        // Prometheus still starting
      }
      if (Date.now() > deadline) throw new Error(`Prometheus never scraped the till:\n${promLog}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      await new Promise((r) => {
        prometheus.once('exit', r);
        prometheus.kill('SIGTERM');
      });
    }
    await am?.stop();
    await new Promise((r) => exporter?.close(r));
    await new Promise((r) => hook?.close(r));
  });

  it('delivers a paper-out fault to the bridge with inventory labels, card key and runbook', async () => {
    const start = Date.now();
    paper = 0;
    const note = await until(
      'the paper-out notification',
      () => received.find((n) => n.alerts.some((a) => a.labels.alertname === 'TillFiscalPaperOut')),
      90_000,
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
