import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { parseConfig } from './config.js';
import { KnowledgeBase } from './knowledge-base.js';
import { startReceiver } from '@tillwatch/testkit/bridge';
import {
  CARDS_DIR,
  ENGINES,
  paperOut,
  payload,
  postWebhook,
  startBridge,
  testConfigRaw,
  testStorage,
  waitFor,
} from '@tillwatch/testkit/bridge';

/** A service desk that accepts connections and never answers: every request runs into the timeout. */
async function startBlackHole() {
  const held = new Set<Socket>();
  const server: Server = createServer((s) => {
    held.add(s);
    s.on('error', () => undefined);
    s.on('close', () => held.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    held: () => held.size,
    close: () =>
      new Promise<void>((r) => {
        for (const s of held) s.destroy();
        server.close(() => r());
      }),
  };
}

const HOUR = 3_600_000;

describe.each(ENGINES)('one outbox per target on %s', (engine) => {
  let live: Awaited<ReturnType<typeof startReceiver>>;
  let hole: Awaited<ReturnType<typeof startBlackHole>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  const clock = { now: Date.parse('2026-06-01T08:00:00Z') };
  beforeAll(async () => {
    live = await startReceiver('k');
    hole = await startBlackHole();
    ctx = await startBridge(
      engine,
      {
        forwarding: {
          poll_interval: '50ms',
          retry_base: '1s',
          retry_max: '10s',
          timeout: '2s',
          targets: [
            { name: 'dead', type: 'webhook', url: hole.url },
            { name: 'live', type: 'webhook', url: live.url, secret: 'k' },
          ],
        },
      },
      { now: () => clock.now },
    );
  });
  afterAll(async () => {
    await ctx?.close();
    await live?.close();
    await hole?.close();
  });

  it('a desk that hangs for an hour with thousands of pending events does not delay the live one', async () => {
    // 2,100 problems at once: more than a whole pass of rows, all stuck behind the black hole.
    const many = Array.from({ length: 2_100 }, (_, i) => paperOut(`t${i}`, 'backlog'));
    expect((await postWebhook(ctx.bridge.url, payload(many))).status).toBe(200);
    await waitFor(() => live.got.length >= 2_100, 'the live desk to get the backlog', 120_000);
    expect(hole.held()).toBeGreaterThan(0);
    clock.now += HOUR;
    const r = await postWebhook(
      ctx.bridge.url,
      payload(Array.from({ length: 10 }, (_, i) => paperOut(`n${i}`, 'fresh'))),
    );
    const fresh = new Set(r.body.tickets as number[]);
    await waitFor(
      () => live.got.filter((g) => fresh.has((g.body.ticket as { id: number }).id)).length === 10,
      'the 10 new tickets at the live desk',
    );
    // Nothing for the dead desk was lost or given up yet: it is all still waiting.
    const pending = await ctx.bridge.store.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('target', '=', 'webhook:dead')
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    expect(Number(pending.n)).toBe(2_110);
    // 2,100 deliveries take a few seconds on a quiet machine and far longer on a loaded one: the waits
    // above bound it (120 s), not the default test timeout.
  }, 180_000);

  it('after forwarding.dead_after the stuck rows are dead-lettered, counted and shown per target', async () => {
    await ctx.bridge.tickets.sweep();
    let text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    expect(text).toMatch(/tillwatch_bridge_outbox_pending\{target="webhook:dead"\} 2110/);
    expect(text).toMatch(/tillwatch_bridge_outbox_oldest_pending_seconds\{target="webhook:dead"\} 36\d\d/);
    // The backlog is 25 h old by now, the 10 fresh rows 24 h and a minute.
    clock.now += 24 * HOUR + 60_000;
    await ctx.bridge.tickets.sweep();
    text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    expect(text).toMatch(/tillwatch_bridge_outbox_dead_total\{target="webhook:dead"\} 2110/);
    expect(text).toMatch(/tillwatch_bridge_outbox_pending\{target="webhook:dead"\} 0/);
    const dead = await ctx.bridge.store.db
      .selectFrom('outbox')
      .select(['status', 'last_error'])
      .where('target', '=', 'webhook:dead')
      .groupBy(['status', 'last_error'])
      .execute();
    expect(dead).toEqual([
      { status: 'dead', last_error: 'undelivered for longer than forwarding.dead_after' },
    ]);
  });
});

describe('a removed target', () => {
  const storage = testStorage('sqlite');
  afterAll(() => storage.cleanup());

  it('gets its waiting rows dead-lettered; the remaining target keeps delivering', async () => {
    const rx = await startReceiver('k');
    const start = async (targets: unknown[]) => {
      const b = await createApp(
        parseConfig(testConfigRaw(storage.raw, { forwarding: { poll_interval: '50ms', targets } })),
        {
          logger: pino({ level: 'silent' }),
          kb: KnowledgeBase.load(CARDS_DIR),
        },
      );
      await b.start('127.0.0.1:0');
      return b;
    };
    const old = { name: 'old', type: 'webhook', url: 'http://127.0.0.1:1/never' };
    const keep = { name: 'keep', type: 'webhook', url: rx.url, secret: 'k' };
    let b = await start([old, keep]);
    await b.dispatcher.stop();
    await postWebhook(b.url, payload([paperOut('t1', 'removed')]));
    await b.stop();
    b = await start([keep]);
    try {
      await b.tickets.sweep();
      const rows = await b.store.db
        .selectFrom('outbox')
        .select(['target', 'status', 'last_error'])
        .orderBy('target')
        .execute();
      expect(rows.find((r) => r.target === 'webhook:old')).toMatchObject({
        status: 'dead',
        last_error: 'target is no longer configured',
      });
      await waitFor(() => rx.got.length === 1, 'the kept target to deliver');
    } finally {
      await b.stop();
      await rx.close();
    }
  });
});

describe.each(ENGINES)('retention on %s', (engine) => {
  it('deletes delivered rows after forwarding.retention and closed tickets with their history after tickets.retention', async () => {
    const rx = await startReceiver('k');
    const clock = { now: Date.parse('2026-06-01T08:00:00Z') };
    const ctx = await startBridge(
      engine,
      {
        tickets: { reopen_window: '1h', retention: '30d' },
        forwarding: {
          poll_interval: '50ms',
          retention: '7d',
          targets: [{ name: 'desk', type: 'webhook', url: rx.url, secret: 'k' }],
        },
      },
      { now: () => clock.now },
    );
    try {
      const db = ctx.bridge.store.db;
      const count = async (table: 'tickets' | 'ticket_alerts' | 'events' | 'outbox') =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const [old] = (await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'ret')]))).body
        .tickets as number[];
      await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'ret', { status: 'resolved' })]));
      await waitFor(() => rx.got.length === 2, 'both events delivered');
      clock.now += 2 * 3_600_000;
      await ctx.bridge.tickets.sweep(); // closes it
      clock.now += 8 * 86_400_000;
      const [kept] = (await postWebhook(ctx.bridge.url, payload([paperOut('t2', 'ret')]))).body
        .tickets as number[];
      await waitFor(() => rx.got.length === 3, 'the new event delivered');
      await ctx.bridge.tickets.sweep();
      // Delivered rows older than 7 days are gone; the new ticket's row stays.
      expect(await count('outbox')).toBe(1);
      expect(await count('tickets')).toBe(2);
      clock.now += 30 * 86_400_000;
      await ctx.bridge.tickets.sweep();
      const ids = (await db.selectFrom('tickets').select('id').execute()).map((t) => Number(t.id));
      expect(ids).toEqual([kept]);
      expect(ids).not.toContain(old);
      expect(await count('ticket_alerts')).toBe(1);
      expect(await count('events')).toBe(1);
      const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
      expect(text).toMatch(/tillwatch_bridge_retention_deleted_total\{table="tickets"\} 1/);
    } finally {
      await ctx.close();
      await rx.close();
    }
  });
});
