// The HA alerting path of deploy/ha/: two Alertmanagers in a gossip cluster, each sending every
// notification to both bridge replicas, the replicas sharing one PostgreSQL schema. Alerts are posted
// to both Alertmanagers (as vmalert and Prometheus do), one Alertmanager and one bridge are killed
// (SIGKILL) while notifications are in flight, more alerts follow; every alert must end with exactly
// one ticket: none lost, none duplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYamlFile, toYaml } from '@tillwatch/config';
import { WEBHOOK_TOKEN, api, testConfigRaw, testStorage } from '@tillwatch/testkit/bridge';
import { freePort, startService, waitFor, type Service } from '@tillwatch/testkit';

const root = fileURLToPath(new URL('..', import.meta.url));

/** deploy/ha/alertmanager.yml with bridge-1/bridge-2 pointed at the test replicas. */
function alertmanagerConfig(bridgeUrls: [string, string], tokenFile: string): string {
  const cfg = loadYamlFile(join(root, 'deploy', 'ha', 'alertmanager.yml')) as {
    receivers: Array<{ name: string; webhook_configs?: Array<{ url: string; http_config: unknown }> }>;
  };
  for (const r of cfg.receivers) {
    // The wall receiver of severity="info" notifies no one (deploy/alertmanager.yml).
    if (r.name === 'wall') {
      expect(r.webhook_configs).toBeUndefined();
      continue;
    }
    if (!r.webhook_configs) throw new Error(`receiver ${r.name} has no webhook_configs`);
    expect(r.webhook_configs.map((w) => new URL(w.url).host)).toEqual(['bridge-1:9836', 'bridge-2:9836']);
    r.webhook_configs = r.webhook_configs.map((w, i) => ({
      ...w,
      url: `${bridgeUrls[i]}/webhook/alertmanager`,
      http_config: { authorization: { type: 'Bearer', credentials_file: tokenFile } },
    }));
  }
  return toYaml(cfg);
}

function paperOut(store: string) {
  return {
    labels: {
      alertname: 'TillFiscalPaperOut',
      severity: 'critical',
      team: 'hardware',
      incident_class: 'fiscal.paper_out',
      chain: 'ha',
      region: 'r1',
      store,
      till: `${store}-t1`,
      device: 'fiscal',
    },
    annotations: { summary: 'Receipt paper is out.' },
    startsAt: new Date().toISOString(),
  };
}

describe('Alertmanager pair and two bridge replicas on PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-ha-'));
  const storage = testStorage('postgres');
  const bridges: Service[] = [];
  const ams: Service[] = [];

  async function startBridgeProcess(i: number): Promise<Service> {
    const port = await freePort();
    const cfg = join(dir, `bridge-${i}.yml`);
    // JSON is YAML: the test config of the bridge's own tests, on the shared schema.
    writeFileSync(cfg, JSON.stringify(testConfigRaw(storage.raw, { log_level: 'warn' })));
    return startService(
      `bridge-${i}`,
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'alert-bridge', 'src', 'cli.ts'),
        '--config',
        cfg,
        '--listen',
        `127.0.0.1:${port}`,
      ],
      port,
      { readyPath: '/readyz', timeoutMs: 30_000, ...{ cwd: root } },
    );
  }

  beforeAll(async () => {
    for (let i = 1; i <= 2; i++) bridges.push(await startBridgeProcess(i));
    const tokenFile = join(dir, 'webhook-token');
    writeFileSync(tokenFile, WEBHOOK_TOKEN);
    const amYml = join(dir, 'alertmanager.yml');
    writeFileSync(amYml, alertmanagerConfig([bridges[0]!.url, bridges[1]!.url], tokenFile));
    const cluster = [await freePort(), await freePort()];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ams.push(
        await startService(
          `alertmanager-${i + 1}`,
          'prometheus-alertmanager',
          [
            `--config.file=${amYml}`,
            `--web.listen-address=127.0.0.1:${port}`,
            `--storage.path=${join(dir, `am-${i + 1}`)}`,
            `--cluster.listen-address=127.0.0.1:${cluster[i]}`,
            `--cluster.peer=127.0.0.1:${cluster[1 - i]}`,
            // Loopback gossip settles in well under a second; the defaults are tuned for a WAN.
            '--cluster.peer-timeout=2s',
            '--cluster.gossip-interval=100ms',
            '--cluster.pushpull-interval=2s',
            '--log.level=warn',
          ],
          port,
          { readyPath: '/-/ready' },
        ),
      );
    }
    // Both members see each other before the test starts.
    for (const am of ams)
      await waitFor(`${am.name} to join the cluster`, async () => {
        const s = (await (await fetch(`${am.url}/api/v2/status`)).json()) as {
          cluster: { status: string; peers: unknown[] };
        };
        return s.cluster.status === 'ready' && s.cluster.peers.length === 2 ? true : undefined;
      });
  });

  afterAll(async () => {
    for (const s of [...ams, ...bridges]) await s.stop();
    await storage.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  async function post(targets: Service[], stores: string[]) {
    const body = JSON.stringify(stores.map(paperOut));
    for (const am of targets) {
      const r = await fetch(`${am.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(r.status, `${am.name} accepts the alerts`).toBe(200);
    }
  }

  it(
    'loses no notification and duplicates no ticket when one of each dies mid-stream',
    { timeout: 120_000 },
    async () => {
      const batch = (name: string) => Array.from({ length: 8 }, (_, i) => `ha-${name}-${i}`);
      const [am1, am2] = ams as [Service, Service];
      const [bridge1, bridge2] = bridges as [Service, Service];

      await post([am1, am2], batch('a'));
      await post([am1, am2], batch('b'));
      // Batch b's groups are waiting out group_wait (5 s for critical) when one of each dies.
      await am1.kill();
      await bridge1.kill();
      // The alert senders now reach only the surviving Alertmanager.
      await post([am2], batch('c'));

      const all = [...batch('a'), ...batch('b'), ...batch('c')];
      const tickets = await waitFor(
        'a ticket for every alert',
        async () => {
          const { body } = await api<{
            tickets: Array<{ id: number; store: string; incident_class: string }>;
          }>(bridge2.url, '/tickets?limit=1000');
          return body.tickets.length >= all.length ? body.tickets : undefined;
        },
        { timeoutMs: 90_000 },
      );
      // Exactly one ticket per alert: nothing lost, nothing twice.
      expect(tickets.map((t) => t.store).sort()).toEqual([...all].sort());
      for (const t of tickets) {
        expect(t.incident_class).toBe('fiscal.paper_out');
        const d = (await api<{ events: Array<{ type: string }> }>(bridge2.url, `/tickets/${t.id}`)).body;
        expect(d.events.filter((e) => e.type === 'created')).toHaveLength(1);
      }
    },
  );
});
