// The store-server rules against the real programs: a PostgreSQL cluster of the test's own, Debian's
// prometheus-postgres-exporter and prometheus-node-exporter on loopback; what the exporters expose is
// evaluated by promtool against rules/store-server.yml with the labels the store agent adds.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  promtoolAlerts,
  startPgCluster,
  startService,
  waitFor,
  type PgCluster,
  type Service,
} from '@tillwatch/testkit';
import { STORE_NODE_KEEP, STORE_POSTGRES_JOB, STORE_POSTGRES_KEEP } from '@tillwatch/ops';

const PLACE = { chain: 'c1', region: 'r1', store: 's1' };
const DB_ALERTS = [
  'TillStoreDatabaseDown',
  'TillStoreDatabaseConnectionsHigh',
  'TillStoreDatabaseLongTransaction',
];

/** What the agent would keep of a scrape (its metric_relabel_configs keep list), as exposition text. */
async function scrape(url: string, keep: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const re = new RegExp(`^(?:${keep})$`);
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#') && l.trim() !== '' && re.test(l.split(/[{ ]/)[0] ?? ''))
    .join('\n');
}

describe('store server rules on the real exporters', () => {
  let cluster: PgCluster;
  let exporter: Service;
  const clients: pg.Client[] = [];
  const firing = async () => {
    const text = await scrape(exporter.url, STORE_POSTGRES_KEEP);
    const alerts = await promtoolAlerts({
      exposition: text,
      alertnames: DB_ALERTS,
      targetLabels: { ...PLACE, job: STORE_POSTGRES_JOB, instance: `127.0.0.1:${exporter.port}` },
    });
    return { text, names: alerts.map((a) => a.alertname).sort(), alerts };
  };

  beforeAll(async () => {
    cluster = await startPgCluster({ maxConnections: 20 });
    const port = await freePort();
    exporter = await startService(
      'postgres_exporter',
      'prometheus-postgres-exporter',
      [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      port,
      {
        readyPath: '/metrics',
        env: { ...process.env, DATA_SOURCE_NAME: `${cluster.url}?sslmode=disable` },
      },
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await exporter?.stop();
    await cluster?.destroy();
  });

  it('sees a healthy database: nothing fires', async () => {
    const { text, names } = await firing();
    expect(text).toMatch(/^pg_up(\{[^}]*\})? 1$/m);
    expect(text).toMatch(/^pg_settings_max_connections\{[^}]*\} 20$/m);
    expect(names).toEqual([]);
  });

  it('fires the connections alert once the clients hold most of max_connections', async () => {
    // 20 connections, 3 reserved for superusers: 15 sessions plus the exporter's own is past 80 %.
    for (let i = 0; i < 15; i++) {
      const c = new pg.Client({ connectionString: cluster.url });
      await c.connect();
      clients.push(c);
    }
    // One of them idles inside a transaction, as a stuck exchange job would.
    await clients[0]!.query('begin');
    await clients[0]!.query('select 1');
    const { names, alerts } = await waitFor(
      'the exporter to count the sessions',
      async () => {
        const r = await firing();
        return r.names.includes('TillStoreDatabaseConnectionsHigh') ? r : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    expect(names).toEqual(['TillStoreDatabaseConnectionsHigh']);
    expect(alerts[0]?.labels).toMatchObject({
      ...PLACE,
      severity: 'warning',
      incident_class: 'store_server.database_load',
    });
    expect(alerts[0]?.annotations.description).toMatch(
      /^Store s1: PostgreSQL on 127\.0\.0\.1:\d+ uses 8\d% of its connections\./,
    );
    await Promise.all(clients.splice(0).map((c) => c.end()));
  });

  it('fires the database-down alert when PostgreSQL stops', async () => {
    await cluster.stop();
    const { text, names, alerts } = await firing();
    expect(text).toMatch(/^pg_up(\{[^}]*\})? 0$/m);
    expect(names).toEqual(['TillStoreDatabaseDown']);
    expect(alerts[0]?.labels).toMatchObject({
      ...PLACE,
      severity: 'critical',
      incident_class: 'store_server.database_down',
    });
    await cluster.start();
    await waitFor('PostgreSQL back in the exporter', async () => (await firing()).names.length === 0, {
      timeoutMs: 20_000,
      intervalMs: 500,
    });
  });

  it("finds every node-exporter metric the rules and the store dashboard read in Debian's node exporter", async () => {
    const port = await freePort();
    const node = await startService(
      'node_exporter',
      'prometheus-node-exporter',
      [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      port,
      { readyPath: '/metrics' },
    );
    try {
      const text = await scrape(node.url, STORE_NODE_KEEP);
      const names = new Set(text.split('\n').map((l) => l.split(/[{ ]/)[0]));
      // Every name of the agent's keep list that the rules and the store dashboard read, as this version names it.
      for (const m of [
        'node_filesystem_avail_bytes',
        'node_filesystem_size_bytes',
        'node_filesystem_readonly',
        'node_load1',
        'node_memory_MemAvailable_bytes',
        'node_memory_MemTotal_bytes',
        'node_boot_time_seconds',
      ])
        expect(names.has(m), m).toBe(true);
      expect([...names].every((n) => new RegExp(`^(?:${STORE_NODE_KEEP})$`).test(n ?? ''))).toBe(true);
    } finally {
      await node.stop();
    }
  });
});
