import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Bridge } from './app.js';
import { parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import type { TicketJson } from './tickets/index.js';
import { freePort, postAlerts, startAlertmanager, type RunningAm } from '@tillwatch/testkit/bridge';
import {
  CARDS_DIR,
  ENGINES,
  api,
  startBridge,
  testConfigRaw,
  testStorage,
  waitFor,
} from '@tillwatch/testkit/bridge';

const labels = (store: string, till = 't1') => ({
  alertname: 'TillPaperOut',
  incident_class: 'fiscal.paper_out',
  severity: 'warning',
  team: 'hardware',
  chain: 'c1',
  region: 'r1',
  store,
  till,
  device: 'kkt',
  instance: `${store}-${till}:9835`,
  job: 'tillwatch',
});
const annotations = {
  summary: 'Receipt paper out',
  description: 'no paper',
  runbook_url: 'http://runbooks/paper',
  dashboard_url: 'http://grafana/d/x',
};

async function tickets(url: string, q: string) {
  return (await api<{ tickets: TicketJson[] }>(url, `/tickets?${q}`)).body.tickets;
}

async function firingAlertsReceived(b: Bridge): Promise<number> {
  const m = await b.metrics.webhookAlerts.get();
  return m.values.find((v) => v.labels.status === 'firing')?.value ?? 0;
}

describe.each(ENGINES)('a real Alertmanager sending to the bridge on %s', (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  let am: RunningAm;
  beforeAll(async () => {
    ctx = await startBridge(engine);
    am = await startAlertmanager([`${ctx.bridge.url}/webhook/alertmanager`]);
  });
  afterAll(async () => {
    await am?.stop();
    await ctx?.close();
  });

  it('turns an alert into exactly one ticket with the right card, and resolving it resolves the ticket', async () => {
    await postAlerts(am.url, [{ labels: labels('am-1'), annotations }]);
    const [t] = await waitFor(async () => {
      const ts = await tickets(ctx.bridge.url, 'store=am-1');
      return ts.length > 0 && ts;
    }, 'ticket from alertmanager');
    expect(t).toMatchObject({
      status: 'open',
      incident_class: 'fiscal.paper_out',
      priority: 'P2',
      team: 'hardware',
      store: 'am-1',
      till: 't1',
    });
    expect(t!.recommendation?.title).toBe('Receipt paper out');
    expect(t!.links.runbook).toBe('http://runbooks/paper');

    // Re-sending (Prometheus re-evaluates every interval) must not add a ticket.
    await postAlerts(am.url, [{ labels: labels('am-1'), annotations }]);
    await postAlerts(am.url, [{ labels: labels('am-1'), annotations, endsAt: new Date().toISOString() }]);
    const done = await waitFor(async () => {
      const ts = await tickets(ctx.bridge.url, 'store=am-1');
      return ts[0]?.status === 'resolved' && ts;
    }, 'ticket resolved by alertmanager');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ self_resolved: true });
  });
});

describe('Alertmanager HA pair', () => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  const ams: RunningAm[] = [];
  beforeAll(async () => {
    ctx = await startBridge('sqlite');
  });
  afterAll(async () => {
    for (const a of ams) await a.stop();
    await ctx?.close();
  });

  it('a clustered pair sending the same group yields one ticket', async () => {
    const [c1, c2] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const hook = `${ctx.bridge.url}/webhook/alertmanager`;
    const [a, b] = await Promise.all([
      startAlertmanager([hook], { cluster: { listen: c1, peers: [c2] } }),
      startAlertmanager([hook], { cluster: { listen: c2, peers: [c1] } }),
    ]);
    ams.push(a, b);
    // Prometheus sends every alert to every Alertmanager of the pair.
    await Promise.all([
      postAlerts(a.url, [{ labels: labels('ha-1'), annotations }]),
      postAlerts(b.url, [{ labels: labels('ha-1'), annotations }]),
    ]);
    await waitFor(
      async () => (await tickets(ctx.bridge.url, 'store=ha-1')).length > 0,
      'ticket from the pair',
    );
    expect(await tickets(ctx.bridge.url, 'store=ha-1')).toHaveLength(1);
  });

  it('even when the pair cannot gossip and both notify, the result is one ticket', async () => {
    const hook = `${ctx.bridge.url}/webhook/alertmanager`;
    const [a, b] = await Promise.all([startAlertmanager([hook]), startAlertmanager([hook])]);
    ams.push(a, b);
    const before = await firingAlertsReceived(ctx.bridge);
    await Promise.all([
      postAlerts(a.url, [{ labels: labels('ha-2'), annotations }]),
      postAlerts(b.url, [{ labels: labels('ha-2'), annotations }]),
    ]);
    await waitFor(
      async () => (await firingAlertsReceived(ctx.bridge)) >= before + 2,
      'both Alertmanagers notified',
    );
    const ts = await tickets(ctx.bridge.url, 'store=ha-2');
    expect(ts).toHaveLength(1);
    expect(ts[0]!.alerts).toHaveLength(1);
  });
});

describe('two bridge replicas on one PostgreSQL behind Alertmanager', () => {
  const storage = testStorage('postgres');
  const bridges: Bridge[] = [];
  let am: RunningAm;
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const b = await createApp(parseConfig(testConfigRaw(storage.raw)), {
        logger: pino({ level: 'silent' }),
        kb: KnowledgeBase.load(CARDS_DIR),
      });
      await b.start('127.0.0.1:0');
      bridges.push(b);
    }
    am = await startAlertmanager(bridges.map((b) => `${b.url}/webhook/alertmanager`));
  });
  afterAll(async () => {
    await am?.stop();
    for (const b of bridges) await b.stop();
    await storage.cleanup();
  });

  it('both replicas receive every notification and still one ticket per problem', async () => {
    await postAlerts(
      am.url,
      ['t1', 't2', 't3'].map((till) => ({ labels: labels('rep-am', till), annotations })),
    );
    await waitFor(
      async () =>
        (await firingAlertsReceived(bridges[0]!)) >= 3 && (await firingAlertsReceived(bridges[1]!)) >= 3,
      'both replicas notified',
    );
    const ts = await tickets(bridges[0]!.url, 'store=rep-am');
    expect(ts.map((t) => t.till).sort()).toEqual(['t1', 't2', 't3']);
  });
});
