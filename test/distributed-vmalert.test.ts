// The central evaluation path: vmalert runs the project's own rules/*.yml against VictoriaMetrics,
// sends to a real Alertmanager configured like deploy/alertmanager.yml, and the real alert bridge
// (createApp, SQLite) makes the ticket. Also: every rule file loads in vmalert (its parser and
// template functions differ from Prometheus', so promtool passing is not enough).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, load } from 'js-yaml';
import { WEBHOOK_TOKEN, api, startBridge } from '../alert-bridge/src/testdata/helpers.js';
import {
  freePort,
  instantQuery,
  startService,
  startVictoriaMetrics,
  waitFor,
} from '../ops/src/agents/testdata/processes.js';
import type { Service } from '../ops/src/agents/testdata/processes.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const ruleFiles = readdirSync(join(root, 'rules'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(root, 'rules', f));

function vmalertDryRun(files: string[]): void {
  execFileSync('vmalert', ['-dryRun', '-loggerLevel=ERROR', ...files.map((f) => `-rule=${f}`)], {
    stdio: 'pipe',
  });
}

describe('vmalert loads the project rules', () => {
  it('accepts every rules/*.yml file (expressions and annotation templates)', () => {
    expect(ruleFiles.length).toBeGreaterThan(3);
    for (const f of ruleFiles) expect(() => vmalertDryRun([f]), f).not.toThrow();
  });

  it('rejects a rule whose template uses a function vmalert lacks, so the check above can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-vmalert-'));
    const bad = join(dir, 'bad.yml');
    writeFileSync(
      bad,
      'groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up\n        annotations: { s: "{{ $labels.x | nosuchfunc }}" }\n',
    );
    expect(() => vmalertDryRun([bad])).toThrow(/nosuchfunc/);
    rmSync(dir, { recursive: true, force: true });
  });
});

/** deploy/alertmanager.yml with every bridge receiver pointed at the test bridge. */
function alertmanagerConfig(bridgeUrl: string, tokenFile: string): string {
  const cfg = load(readFileSync(join(root, 'deploy', 'alertmanager.yml'), 'utf8')) as {
    receivers: Array<{ webhook_configs?: Array<Record<string, unknown>> }>;
  };
  for (const r of cfg.receivers)
    r.webhook_configs = (r.webhook_configs ?? []).map((w) => ({
      ...w,
      url: `${bridgeUrl}/webhook/alertmanager`,
      http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } },
    }));
  return dump(cfg, { noRefs: true });
}

describe('vmalert on VictoriaMetrics fires into Alertmanager and the bridge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-vmalert-'));
  const services: Service[] = [];
  let bridge: Awaited<ReturnType<typeof startBridge>>;
  let vm: Service;
  let vmalert: Service;
  let feeding: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    bridge = await startBridge('sqlite');
    vm = await startVictoriaMetrics(join(dir, 'vm'), await freePort());
    services.push(vm);
    const tokenFile = join(dir, 'webhook-token');
    writeFileSync(tokenFile, WEBHOOK_TOKEN);
    const amYml = join(dir, 'alertmanager.yml');
    writeFileSync(amYml, alertmanagerConfig(bridge.bridge.url, tokenFile));
    const amPort = await freePort();
    const am = await startService(
      'alertmanager',
      'prometheus-alertmanager',
      [
        `--config.file=${amYml}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
        `--storage.path=${join(dir, 'am')}`,
      ],
      amPort,
      '/-/ready',
    );
    services.push(am);
    const vmalertPort = await freePort();
    vmalert = await startService(
      'vmalert',
      'vmalert',
      [
        ...ruleFiles.map((f) => `-rule=${f}`),
        `-datasource.url=${vm.url}`,
        `-notifier.url=${am.url}`,
        // ALERTS and the recording rules' results go back into the store: till:health:state reads ALERTS.
        `-remoteWrite.url=${vm.url}`,
        `-remoteRead.url=${vm.url}`,
        // deploy/central/vmalert.flags uses 10s (the latency budget); 2s keeps the test short.
        '-evaluationInterval=2s',
        `-httpListenAddr=127.0.0.1:${vmalertPort}`,
        '-loggerLevel=WARN',
      ],
      vmalertPort,
      '/health',
    );
    services.push(vmalert);
  });

  afterAll(async () => {
    if (feeding) clearInterval(feeding);
    for (const s of services.reverse()) await s.stop();
    await bridge?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'opens a fiscal.paper_out ticket for a till whose registrar has no paper',
    { timeout: 90_000 },
    async () => {
      const place = 'chain="vmchain",region="r1",store="vm-store-1",till="vm-t1"';
      // The till keeps reporting, as an edge agent would push it: paper out on the registrar, till up.
      const feed = () =>
        fetch(`${vm.url}/api/v1/import/prometheus`, {
          method: 'POST',
          body:
            `till_fiscal_paper_present{${place},device="fiscal",job="tillwatch-exporter"} 0\n` +
            `till_device_up{${place},device="fiscal",kind="fiscal",job="tillwatch-exporter"} 1\n` +
            `up{${place},job="tillwatch-exporter",instance="10.0.0.1:9835"} 1\n`,
        });
      await feed();
      feeding = setInterval(() => void feed(), 1000);

      const ticket = await waitFor(
        async () => {
          const { body } = await api<{ tickets: Array<Record<string, unknown>> }>(
            bridge.bridge.url,
            '/tickets?incident_class=fiscal.paper_out',
          );
          return body.tickets.find((t) => t.till === 'vm-t1');
        },
        'the bridge to make the ticket',
        60_000,
      );
      expect(ticket).toMatchObject({
        incident_class: 'fiscal.paper_out',
        store: 'vm-store-1',
        till: 'vm-t1',
      });

      // vmalert wrote its state back, so the health recording rule (which reads ALERTS) sees it.
      const health = await waitFor(
        async () => {
          const r = await instantQuery(vm.url, 'till:health:state{till="vm-t1"}');
          return r[0]?.value[1] === '2' ? r : undefined;
        },
        'till:health:state to turn critical',
        30_000,
      );
      expect(health[0]?.metric).toMatchObject({ store: 'vm-store-1', till: 'vm-t1' });
    },
  );
});
