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
  waitFor,
} from '@tillwatch/testkit/bridge';

/**
 * A TCP relay to PostgreSQL that the test can cut and restore (a network blip or a failover), or
 * hold: stop forwarding without closing anything, as a stalled link or a frozen server does.
 */
async function startRelay(target: URL) {
  const sockets = new Set<Socket>();
  let holding = false;
  let server: Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((c) => {
        const u = connect(Number(target.port || 5432), target.hostname);
        sockets.add(c).add(u);
        if (holding) {
          c.pause();
          u.pause();
        }
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
  const hold = () => {
    holding = true;
    for (const s of sockets) s.pause();
  };
  const release = () => {
    holding = false;
    for (const s of sockets) s.resume();
  };
  await up();
  return { port: () => port, up, down, hold, release };
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

describe('PostgreSQL stall', () => {
  const storage = testStorage('postgres');
  afterAll(() => storage.cleanup());

  it('answers 503 within the configured timeouts while the link holds every packet, and loses nothing after', async () => {
    const relay = await startRelay(new URL(PG_URL));
    const url = new URL(PG_URL);
    url.port = String(relay.port());
    const raw = {
      ...(storage.raw as object),
      url: url.toString(),
      connect_timeout: '1s',
      statement_timeout: '2s',
    };
    const bridge = await createApp(parseConfig(testConfigRaw(raw)), {
      logger: pino({ level: 'silent' }),
      kb: KnowledgeBase.load(CARDS_DIR),
    });
    await bridge.start('127.0.0.1:0');
    try {
      expect((await postWebhook(bridge.url, payload([paperOut('t1', 'stall-1')]))).status).toBe(200);
      relay.hold();
      const t0 = Date.now();
      const r = await postWebhook(bridge.url, payload([paperOut('t1', 'stall-2')]));
      expect(r.status).toBe(503);
      expect(r.body.error?.code).toBe('storage_unavailable');
      const ready = await fetch(`${bridge.url}/readyz`);
      expect(ready.status).toBe(503);
      // Not a benchmark: without timeouts these requests hung for as long as the stall lasted.
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(await ready.text()).not.toMatch(/timeout exceeded|Query read timeout|ECONN/);
      relay.release();
      await waitFor(async () => (await fetch(`${bridge.url}/readyz`)).status === 200, 'ready again');
      // Alertmanager retries the notification it got a 503 for: now it is stored, nothing is lost.
      expect((await postWebhook(bridge.url, payload([paperOut('t1', 'stall-2')]))).status).toBe(200);
      const ts = (await api<{ tickets: { store: string }[] }>(bridge.url, '/tickets')).body.tickets;
      expect(ts.map((t) => t.store).sort()).toEqual(['stall-1', 'stall-2']);
    } finally {
      await bridge.stop();
      await relay.down().catch(() => undefined);
    }
  });
});
