import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, paperOut, payload, postWebhook, startBridge, api } from '@tillwatch/testkit/bridge';

describe.each(ENGINES)('POST /webhook/alertmanager on %s', (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    ctx = await startBridge(engine);
  });
  afterAll(async () => ctx?.close());

  const count = async () =>
    (await api<{ tickets: unknown[] }>(ctx.bridge.url, '/tickets')).body.tickets.length;
  const metric = async (name: string) => {
    const text = await (await fetch(`${ctx.bridge.url}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith(name));
  };

  it('accepts a valid notification with bearer auth and stores a ticket before answering', async () => {
    const r = await postWebhook(ctx.bridge.url, payload([paperOut('t1', 'web-1')]));
    expect(r.status).toBe(200);
    expect(r.body.tickets).toHaveLength(1);
    const t = await api(ctx.bridge.url, `/tickets/${(r.body.tickets as number[])[0]}`);
    expect(t.body).toMatchObject({
      status: 'open',
      incident_class: 'fiscal.paper_out',
      store: 'web-1',
      till: 't1',
    });
  });

  it('accepts basic auth as Alertmanager http_config sends it', async () => {
    const r = await postWebhook(
      ctx.bridge.url,
      payload([paperOut('t2', 'web-1')]),
      `Basic ${Buffer.from('am:am-pass').toString('base64')}`,
    );
    expect(r.status).toBe(200);
  });

  it('ignores unknown fields that newer Alertmanagers add', async () => {
    const p = payload([{ ...paperOut('t3', 'web-1'), notification_reason: 'x' }], {
      routeLabels: { a: 'b' },
      somethingNew: 1,
    });
    expect((await postWebhook(ctx.bridge.url, p)).status).toBe(200);
  });

  const hostile: [
    string,
    () => Promise<{ status: number; body: { error?: { code: string } } }>,
    number,
    string,
  ][] = [
    [
      'a missing token',
      () => postWebhook(ctx.bridge.url, payload([paperOut('h1', 'web-2')]), ''),
      401,
      'unauthorized',
    ],
    [
      'a wrong token',
      () => postWebhook(ctx.bridge.url, payload([paperOut('h1', 'web-2')]), 'Bearer nope'),
      401,
      'unauthorized',
    ],
    [
      'wrong basic password',
      () =>
        postWebhook(
          ctx.bridge.url,
          payload([paperOut('h1', 'web-2')]),
          `Basic ${Buffer.from('am:x').toString('base64')}`,
        ),
      401,
      'unauthorized',
    ],
    [
      'malformed JSON',
      () => postWebhook(ctx.bridge.url, '{"version": "4", "alerts": ['),
      400,
      'invalid_json',
    ],
    [
      'wrong types',
      () => postWebhook(ctx.bridge.url, { ...payload([paperOut('h1', 'web-2')]), alerts: 'many' }),
      400,
      'invalid_payload',
    ],
    [
      'a wrong version',
      () => postWebhook(ctx.bridge.url, { ...payload([paperOut('h1', 'web-2')]), version: '3' }),
      400,
      'invalid_payload',
    ],
    [
      'a huge label value',
      () =>
        postWebhook(
          ctx.bridge.url,
          payload([
            { ...paperOut('h1', 'web-2'), labels: { ...paperOut().labels, store: 'x'.repeat(100_000) } },
          ]),
        ),
      400,
      'label_too_long',
    ],
    [
      'a 10 MB body',
      () =>
        postWebhook(
          ctx.bridge.url,
          payload([paperOut('h1', 'web-2', { annotations: { description: 'x'.repeat(10 * 1024 * 1024) } })]),
        ),
      413,
      'payload_too_large',
    ],
  ];
  it.each(hostile)(
    'refuses %s with the right 4xx, a JSON error and no change in the store',
    async (_name, send, status, code) => {
      const before = await count();
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.body.error?.code).toBe(code);
      expect(await count()).toBe(before);
      expect((await metric('tillwatch_bridge_webhook_rejected_total')).join('\n')).toContain(
        `reason="${code}"`,
      );
    },
  );
});

describe('storage failure', () => {
  it('answers 503 so Alertmanager retries when the store is gone', async () => {
    const ctx = await startBridge('sqlite');
    try {
      await ctx.bridge.store.db.destroy();
      const r = await postWebhook(ctx.bridge.url, payload([paperOut()]));
      expect(r.status).toBe(503);
      expect(r.body.error?.code).toBe('storage_unavailable');
      const ready = await fetch(`${ctx.bridge.url}/readyz`);
      expect(ready.status).toBe(503);
    } finally {
      await ctx.bridge.dispatcher.stop();
      await ctx.storage.cleanup();
    }
  });
});
