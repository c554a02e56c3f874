import { connect, createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import {
  CARDS_DIR,
  PG_URL,
  api,
  paperOut,
  payload,
  postWebhook,
  testConfigRaw,
  testStorage,
} from './testdata/helpers.js';

/** A TCP relay to PostgreSQL that the test can cut and restore, like a network blip or a failover. */
async function startRelay(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((c) => {
        const u = connect(Number(target.port || 5432), target.hostname);
        sockets.add(c).add(u);
        c.pipe(u).pipe(c);
        const drop = () => {
          c.destroy();
          u.destroy();
        };
        c.on('error', drop).on('close', drop);
        u.on('error', drop).on('close', drop);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      server!.close(() => resolve());
    });
  await up();
  return { port: () => port, up, down };
}

describe('PostgreSQL outage', () => {
  const storage = testStorage('postgres');
  afterAll(() => storage.cleanup());

  it('answers 503 while the database is unreachable, stores nothing half-way, and recovers', async () => {
    const relay = await startRelay(new URL(PG_URL));
    const url = new URL(PG_URL);
    url.port = String(relay.port());
    const raw = { ...(storage.raw as object), url: url.toString() };
    const bridge = await createApp(parseConfig(testConfigRaw(raw)), {
      logger: pino({ level: 'silent' }),
      kb: KnowledgeBase.load(CARDS_DIR),
    });
    await bridge.start('127.0.0.1:0');
    try {
      expect((await postWebhook(bridge.url, payload([paperOut('t1', 'pg-out-1')]))).status).toBe(200);
      await relay.down();
      const r = await postWebhook(bridge.url, payload([paperOut('t1', 'pg-out-2')]));
      expect(r.status).toBe(503);
      expect(r.body.error?.code).toBe('storage_unavailable');
      expect((await fetch(`${bridge.url}/readyz`)).status).toBe(503);
      await relay.up();
      // Alertmanager retries the same notification: now it is stored.
      expect((await postWebhook(bridge.url, payload([paperOut('t1', 'pg-out-2')]))).status).toBe(200);
      const ts = (await api<{ tickets: { store: string }[] }>(bridge.url, '/tickets')).body.tickets;
      expect(ts.map((t) => t.store).sort()).toEqual(['pg-out-1', 'pg-out-2']);
    } finally {
      await bridge.stop();
      await relay.down().catch(() => undefined);
    }
  });
});
