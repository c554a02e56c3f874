import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, type RunningAlertmanager } from '@tillwatch/testkit';
import { REPO_DIR } from '@tillwatch/testkit';
import { KnowledgeBase } from './knowledge-base.js';
import type { TicketJson } from './tickets/index.js';
import {
  api,
  postAlerts,
  startBridge,
  startReceiver,
  waitFor,
  WEBHOOK_TOKEN,
} from '@tillwatch/testkit/bridge';

// The dead man's switch with the real Alertmanager and the shipped route (deploy/alertmanager.yml, its
// Watchdog intervals shortened from a minute to a second so the test runs in seconds): while the heartbeat
// comes the bridge is quiet; when Alertmanager stops, or sends with a wrong token, the bridge opens a ticket
// of its own and sends it to its targets; the heartbeat's return resolves it.

/** The shipped Alertmanager config, sending to this bridge with this token. */
function shippedConfig(bridgeUrl: string, token: string): string {
  const text = readFileSync(join(REPO_DIR, 'deploy', 'alertmanager.yml'), 'utf8')
    .replaceAll('http://127.0.0.1:9836/', `${bridgeUrl}/`)
    .replaceAll('credentials_file: secrets/webhook-token', `credentials: ${token}`)
    .replace(/(alertname="Watchdog"\][\s\S]*?group_interval: )1m(\s+repeat_interval: )1m/, '$11s$21s');
  if (!text.includes('group_interval: 1s'))
    throw new Error('the Watchdog route of deploy/alertmanager.yml moved');
  return text;
}

const heartbeat = (am: RunningAlertmanager) =>
  postAlerts(am.url, [
    {
      labels: { alertname: 'Watchdog', severity: 'none' },
      annotations: { summary: 'The alerting pipeline is alive.' },
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
  ]);

describe('the Watchdog dead man’s switch', () => {
  let desk: Awaited<ReturnType<typeof startReceiver>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  let am: RunningAlertmanager | undefined;
  beforeAll(async () => {
    desk = await startReceiver('k');
    ctx = await startBridge(
      'sqlite',
      {
        locale: 'ru',
        watchdog: { timeout: '4s' },
        tickets: { sweep_interval: '250ms' },
        forwarding: {
          poll_interval: '100ms',
          targets: [{ name: 'desk', type: 'webhook', url: desk.url, secret: 'k' }],
        },
      },
      { kb: KnowledgeBase.load(join(REPO_DIR, 'alert-bridge', 'knowledge-base')) },
    );
  });
  afterAll(async () => {
    await am?.stop();
    await ctx?.close();
    await desk?.close();
  });
  const silence = async () =>
    (
      await api<{ tickets: TicketJson[] }>(
        ctx.bridge.url,
        '/tickets?incident_class=meta.alertmanager_silent&status=open,acknowledged,resolved',
      )
    ).body.tickets;
  const metric = async (re: RegExp) => {
    const m = re.exec(await (await fetch(`${ctx.bridge.url}/metrics`)).text());
    return m ? Number(m[1]) : undefined;
  };

  it('while the heartbeat comes, nothing is opened and its time is on /metrics', async () => {
    am = await startAlertmanager({ config: shippedConfig(ctx.bridge.url, WEBHOOK_TOKEN) });
    await heartbeat(am);
    await waitFor(
      async () => ((await metric(/^tillwatch_bridge_watchdog_last_seen_timestamp_seconds (\S+)$/m)) ?? 0) > 0,
      'the first heartbeat at the bridge',
      20_000,
    );
    // Longer than the timeout: the heartbeats keep the switch quiet.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await silence()).toEqual([]);
    expect(desk.got).toEqual([]);
  });

  it('Alertmanager stopped: the bridge opens its own P1 ticket and sends it; the heartbeat back resolves it', async () => {
    await am!.stop();
    am = undefined;
    const [t] = await waitFor(
      async () => {
        const s = await silence();
        return s.length && s[0]!.status === 'open' ? s : undefined;
      },
      'the silence ticket',
      20_000,
    );
    expect(t).toMatchObject({ priority: 'P1', team: 'software', title: 'Alertmanager не передаёт сигналы' });
    await waitFor(() => desk.got.some((g) => g.type === 'ticket.created'), 'the desk to hear of it', 10_000);
    am = await startAlertmanager({ config: shippedConfig(ctx.bridge.url, WEBHOOK_TOKEN) });
    await heartbeat(am);
    await waitFor(
      async () => (await silence()).find((s) => s.status === 'resolved'),
      'the silence ticket resolved',
      20_000,
    );
  });

  it('a wrong webhook token: every notification is refused, and the silence pages again', async () => {
    await am!.stop();
    am = await startAlertmanager({ config: shippedConfig(ctx.bridge.url, 'not-the-token') });
    await heartbeat(am);
    await waitFor(
      async () =>
        ((await metric(/^tillwatch_bridge_webhook_rejected_total\{reason="unauthorized"\} (\S+)$/m)) ?? 0) >
        0,
      'Alertmanager refused at the bridge',
      20_000,
    );
    await waitFor(
      async () => (await silence()).find((s) => s.status === 'open'),
      'the silence ticket open again',
      20_000,
    );
  });
});
