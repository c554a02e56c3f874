import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { WEBHOOK_TOKEN, waitFor } from './helpers.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

export interface RunningAm {
  url: string;
  clusterAddr: string;
  stop(): Promise<void>;
}

/** Starts the Debian Alertmanager 0.25 binary on loopback with short grouping so tests run fast. */
export async function startAlertmanager(
  webhookUrls: string[],
  opts: { cluster?: { listen: string; peers: string[] } } = {},
): Promise<RunningAm> {
  const dir = mkdtempSync(join(tmpdir(), 'tw-am-'));
  const port = await freePort();
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
  writeFileSync(join(dir, 'am.yml'), stringify(config));
  const args = [
    `--config.file=${join(dir, 'am.yml')}`,
    `--storage.path=${dir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=http://127.0.0.1:${port}`,
    '--log.level=warn',
  ];
  if (opts.cluster) {
    args.push(`--cluster.listen-address=${opts.cluster.listen}`, '--cluster.peer-timeout=1s', '--cluster.settle-timeout=2s');
    for (const p of opts.cluster.peers) args.push(`--cluster.peer=${p}`);
  } else {
    args.push('--cluster.listen-address=');
  }
  const child: ChildProcess = spawn('prometheus-alertmanager', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => child.exitCode === null && (await fetch(`${url}/-/ready`)).ok, `alertmanager ready (${err})`, 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url,
    clusterAddr: opts.cluster?.listen ?? '',
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function postAlerts(am: string, alerts: { labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }[]) {
  const res = await fetch(`${am}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts.map((a) => ({ startsAt: new Date(Date.now() - 60_000).toISOString(), ...a }))),
  });
  if (!res.ok) throw new Error(`alertmanager refused alerts: ${res.status} ${await res.text()}`);
}
