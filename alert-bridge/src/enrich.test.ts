import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from './enrich.js';
import type { TicketJson } from './tickets/index.js';
import { freePort } from '@tillwatch/testkit/bridge';
import {
  api,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  startReceiver,
  waitFor,
} from '@tillwatch/testkit/bridge';
import { startTelegramEmulator } from '@tillwatch/testkit/telegram';

describe('enrichment from a real Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tw-prom-'));
  let exporter: Server;
  let prom: ChildProcess;
  let promUrl: string;
  beforeAll(async () => {
    // A stand-in for one till's exporter: the series the snapshot should capture.
    const app = express();
    app.get('/metrics', (_req, res) => {
      res
        .type('text/plain')
        .send('till_device_up{device="kkt",kind="fiscal"} 1\ntill_fiscal_paper_present{device="kkt"} 0\n');
    });
    exporter = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [
          {
            job_name: 'tillwatch',
            static_configs: [
              { targets: [target], labels: { chain: 'c1', region: 'r1', store: 'en-1', till: 't1' } },
            ],
          },
        ],
      }),
    );
    prom = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(
      async () => {
        const r = (await (await fetch(`${promUrl}/api/v1/query?query=till_fiscal_paper_present`)).json()) as {
          data: { result: unknown[] };
        };
        return r.data.result.length > 0;
      },
      'prometheus scraped the till',
      30_000,
    );
  });
  afterAll(async () => {
    prom?.kill('SIGTERM');
    if (prom && prom.exitCode === null) await new Promise((r) => prom.once('exit', r));
    await new Promise((r) => exporter?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the till snapshot on the new ticket with links to Prometheus and the dashboard', async () => {
    const ctx = await startBridge('sqlite', {
      enrichment: { prometheus_url: promUrl, grafana_url: 'http://grafana.local' },
    });
    try {
      const r = await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'en-1')]));
      const id = (r.body.tickets as number[])[0]!;
      const t = await waitFor(async () => {
        const x = (await api<TicketJson>(ctx.bridge.url, `/tickets/${id}`)).body;
        return x.snapshot !== null && x;
      }, 'snapshot stored');
      const snap = t.snapshot as Snapshot;
      const paper = snap.samples.find((s) => s.metric.__name__ === 'till_fiscal_paper_present');
      expect(paper?.value).toBe(0);
      expect(snap.samples.find((s) => s.metric.__name__ === 'till_device_up')?.value).toBe(1);
      expect(t.links.prometheus).toContain(`${promUrl}/graph?g0.expr=`);
      expect(t.links.dashboard).toBe(
        'http://grafana.local/d/tillwatch-till?var-chain=c1&var-region=r1&var-store=en-1&var-till=t1',
      );
    } finally {
      await ctx.close();
    }
  });

  it('holds the first message until the snapshot is in, so the chat and the desk see its facts', async () => {
    const tg = await startTelegramEmulator('7:FACTS');
    const desk = await startReceiver('k');
    // Prometheus answering in a second, as a loaded one does: without the hold, the message would leave
    // before the snapshot and carry no facts.
    const slow = express();
    slow.get('/api/v1/query', async (req, res) => {
      await new Promise((r) => setTimeout(r, 1000));
      const q = new URLSearchParams(req.query as Record<string, string>).toString();
      res.type('application/json').send(await (await fetch(`${promUrl}/api/v1/query?${q}`)).text());
    });
    const proxy = await new Promise<Server>((r) => {
      const s = slow.listen(0, '127.0.0.1', () => r(s));
    });
    const ctx = await startBridge('sqlite', {
      enrichment: { prometheus_url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` },
      telegram: { bot_token: '7:FACTS', base_url: tg.url },
      teams: { hardware: { telegram: [{ chat_id: 5 }] } },
      notifications: { batch_wait: '0s', min_interval: '0s' },
      forwarding: {
        poll_interval: '50ms',
        targets: [{ name: 'desk', type: 'webhook', url: desk.url, secret: 'k' }],
      },
    });
    try {
      await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'en-1')]));
      const msg = await waitFor(() => tg.messages().find((m) => m.chat_id === '5'), 'the first message');
      // The facts that matter for paper out, read from the till's series at the fault.
      expect(msg.text).toContain('• Paper present (kkt, t1): no');
      const first = await waitFor(() => desk.got[0], 'the desk event');
      expect(first.type).toBe('ticket.created');
      expect((first.body.ticket as TicketJson).snapshot).not.toBeNull();
    } finally {
      await ctx.close();
      await tg.close();
      await desk.close();
      await new Promise((r) => proxy.close(r));
    }
  });
});
