import { startAlertmanager as startKitAlertmanager, type RunningAlertmanager } from '../alertmanager.js';
import { freePort } from '../ports.js';
import { WEBHOOK_TOKEN } from './helpers.js';

export { freePort };
export type RunningAm = RunningAlertmanager;

/** The Debian Alertmanager 0.25 on loopback, routing to the bridge(s) with short grouping so tests run fast. */
export function startAlertmanager(
  webhookUrls: string[],
  opts: { cluster?: { listen: string; peers: string[] } } = {},
): Promise<RunningAm> {
  const config = {
    route: {
      receiver: 'bridge',
      group_by: ['incident_class', 'chain', 'region', 'store', 'till', 'device'],
      group_wait: '500ms',
      group_interval: '1s',
      repeat_interval: '1h',
    },
    receivers: [
      {
        name: 'bridge',
        webhook_configs: webhookUrls.map((url) => ({
          url,
          send_resolved: true,
          http_config: { authorization: { type: 'Bearer', credentials: WEBHOOK_TOKEN } },
        })),
      },
    ],
  };
  return startKitAlertmanager({ config, ...(opts.cluster ? { cluster: opts.cluster } : {}) });
}

export async function postAlerts(
  am: string,
  alerts: { labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }[],
) {
  const res = await fetch(`${am}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      alerts.map((a) => ({ startsAt: new Date(Date.now() - 60_000).toISOString(), ...a })),
    ),
  });
  if (!res.ok) throw new Error(`alertmanager refused alerts: ${res.status} ${await res.text()}`);
}
