// The real alert bridge for the backtest and forecast tests: createApp from @tillwatch/alert-bridge on
// SQLite in a temporary folder, fed Alertmanager webhook payloads (v4) at the times they would have
// arrived. Its clock is the test's, so tickets open and resolve inside a backfilled past, and the tests
// read the ticket JSON the bridge really serves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, parseConfig } from '@tillwatch/alert-bridge';
import { repoPath } from '@tillwatch/testkit';

const WEBHOOK_TOKEN = 'backtest-webhook-token-0123';
/** A read-only API token (the bridge wants at least 16 characters). */
export const READ_TOKEN = 'backtest-reader-token-0123';

/** One alert as Alertmanager sends it: firing from `startsAt`, resolved at `endsAt` when given. */
export interface FiredAlert {
  labels: Record<string, string>;
  startsAt: number;
  endsAt?: number;
}

export interface TicketBridge {
  url: string;
  token: string;
  /** Sends one notification with these alerts as the bridge's clock reads `atMs`. */
  notify(atMs: number, alerts: Array<{ labels: Record<string, string>; startsAt: number; endsAt?: number }>): Promise<void>;
  /**
   * What Alertmanager would send for these firings: each alert firing at its start and resolved at its
   * end, alerts that change at the same moment in one notification of up to `batch` alerts.
   */
  replay(alerts: FiredAlert[], batch?: number): Promise<void>;
  stop(): Promise<void>;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export async function startTicketBridge(o: { reopenWindow?: string } = {}): Promise<TicketBridge> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-ops-bridge-'));
  let clock = 0;
  const config = parseConfig({
    listen: '127.0.0.1:0',
    locale: 'en',
    log_level: 'silent',
    knowledge_base: repoPath('alert-bridge', 'knowledge-base'),
    storage: { driver: 'sqlite', path: join(dir, 'bridge.db') },
    webhook: { bearer_token: WEBHOOK_TOKEN },
    api: { tokens: [{ name: 'analyst', token: READ_TOKEN, scope: 'read' }] },
    ...(o.reopenWindow ? { tickets: { reopen_window: o.reopenWindow } } : {}),
  });
  // No background timers: the sweeper would run on the wall clock's schedule; the bridge closes a
  // ticket past its reopen window itself when the problem comes back.
  const bridge = await createApp(config, { now: () => clock, background: false });
  const url = (await bridge.start('127.0.0.1:0')).replace(/\/$/, '');
  let group = 0;
  const notify: TicketBridge['notify'] = async (atMs, alerts) => {
    clock = atMs;
    const body = {
      version: '4',
      groupKey: `{}:{backtest="${++group}"}`,
      truncatedAlerts: 0,
      status: alerts.some((a) => a.endsAt === undefined || a.endsAt > atMs) ? 'firing' : 'resolved',
      receiver: 'bridge-default',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://127.0.0.1:9093',
      alerts: alerts.map((a) => {
        const resolved = a.endsAt !== undefined && a.endsAt <= atMs;
        return {
          status: resolved ? 'resolved' : 'firing',
          labels: a.labels,
          annotations: { summary: `${a.labels.alertname ?? 'alert'} summary` },
          startsAt: new Date(a.startsAt).toISOString(),
          endsAt: resolved ? new Date(a.endsAt!).toISOString() : ZERO_TIME,
          generatorURL: 'http://127.0.0.1:9090/graph',
        };
      }),
    };
    const res = await fetch(`${url}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`bridge webhook: HTTP ${res.status}: ${await res.text()}`);
  };
  return {
    url,
    token: READ_TOKEN,
    notify,
    async replay(alerts, batch = 200) {
      const at = new Map<number, FiredAlert[]>();
      for (const a of alerts)
        for (const t of a.endsAt === undefined ? [a.startsAt] : [a.startsAt, a.endsAt])
          at.set(t, [...(at.get(t) ?? []), a]);
      for (const t of [...at.keys()].sort((x, y) => x - y)) {
        const list = at.get(t)!;
        for (let i = 0; i < list.length; i += batch) await notify(t, list.slice(i, i + batch));
      }
    },
    async stop() {
      await bridge.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
