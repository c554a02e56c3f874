import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketJson } from './tickets/index.js';
import {
  ENGINES,
  READ_TOKEN,
  alert,
  api,
  paperOut,
  payload,
  postWebhook,
  startBridge,
} from '@tillwatch/testkit/bridge';

type T = TicketJson & { events: { type: string; actor: string; data: Record<string, unknown> }[] };

describe.each(ENGINES)('REST API and web page on %s', (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  let paper: number;
  beforeAll(async () => {
    ctx = await startBridge(engine, { locale: 'ru' });
    const r = await postWebhook(
      ctx.bridge.url,
      payload([
        paperOut('t1', 's1'),
        paperOut('t2', 's1'),
        alert({
          alertname: 'ScannerDown',
          incident_class: 'hardware.scanner_down',
          store: 's2',
          till: 't1',
          device: 'sc',
          team: 'hardware',
        }),
      ]),
    );
    paper = (r.body.tickets as number[])[0]!;
  });
  afterAll(async () => ctx?.close());

  it('lists tickets with filters', async () => {
    const q = async (s: string) =>
      (await api<{ tickets: T[] }>(ctx.bridge.url, `/tickets?${s}`, { token: READ_TOKEN })).body.tickets;
    expect(await q('')).toHaveLength(3);
    expect(await q('store=s1')).toHaveLength(2);
    expect(await q('store=s1&till=t2')).toHaveLength(1);
    expect(await q('incident_class=hardware.scanner_down')).toHaveLength(1);
    expect(await q('team=hardware')).toHaveLength(3);
    expect(await q('status=resolved')).toHaveLength(0);
    expect((await api(ctx.bridge.url, '/tickets?status=bogus')).status).toBe(400);
  });

  it('shows one ticket with the fields the issue lists, its card in the configured locale, alerts and events', async () => {
    const t = (await api<T>(ctx.bridge.url, `/tickets/${paper}`)).body;
    for (const k of [
      'id',
      'status',
      'priority',
      'severity',
      'incident_class',
      'team',
      'chain',
      'region',
      'store',
      'till',
      'device',
      'title',
      'recommendation',
      'alerts',
      'opened_at',
      'resolved_at',
      'self_resolved',
      'sla_due_at',
    ]) {
      expect(t).toHaveProperty(k);
    }
    expect(t.recommendation?.title).toBe('Закончилась чековая лента');
    expect(t.alerts).toHaveLength(1);
    expect(t.events.map((e) => e.type)).toEqual(['created']);
  });

  it("opens the wall's ticket link for a place: the one live ticket there, else the list of them", async () => {
    const auth = { authorization: `Basic ${Buffer.from(`x:${READ_TOKEN}`).toString('base64')}` };
    const open = (q: string) =>
      fetch(`${ctx.bridge.url}/ui/tickets?${q}`, { headers: auth, redirect: 'manual' });
    // The panel's default template, for a till tile (no device: the label is filled with "").
    const one = await open('alertname=PaperOut&store=s1&till=t2&device=');
    expect(one.status).toBe(302);
    const target = one.headers.get('location')!;
    const page = await fetch(new URL(target, ctx.bridge.url), { headers: auth });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Закончилась чековая лента');
    // A store tile: two tickets there, so the list of both.
    const many = await open('store=s1');
    expect(many.status).toBe(200);
    const html = await many.text();
    expect(html.match(/href="\/ui\/tickets\/\d+"/g)).toHaveLength(2);
    // A quiet till: an empty list that says so, not a 404.
    const none = await open('store=s9&till=t9');
    expect(none.status).toBe(200);
    expect(await none.text()).toContain('Нет живых заявок: store s9, till t9');
    expect((await open('stor=s1')).status).toBe(400);
    expect((await open('store=s1&store=s2')).status).toBe(400);
  });

  it('acknowledges, comments and resolves with a write token, recording who did it', async () => {
    const ack = await api<T>(ctx.bridge.url, `/tickets/${paper}/acknowledge`, {
      method: 'POST',
      body: { note: 'on it' },
    });
    expect(ack.status).toBe(200);
    expect(ack.body.status).toBe('acknowledged');
    expect(
      (await api(ctx.bridge.url, `/tickets/${paper}/acknowledge`, { method: 'POST' })).body,
    ).toMatchObject({ error: { code: 'conflict' } });
    const c = await api<T>(ctx.bridge.url, `/tickets/${paper}/comments`, {
      method: 'POST',
      body: { text: 'paper loaded' },
    });
    expect(c.status).toBe(201);
    const r = await api<T>(ctx.bridge.url, `/tickets/${paper}/resolve`, {
      method: 'POST',
      body: { force: true },
    });
    expect(r.body).toMatchObject({ status: 'resolved', self_resolved: false });
    expect(r.body.events.map((e) => [e.type, e.actor])).toEqual([
      ['created', 'alertmanager'],
      ['acknowledged', 'alice'],
      ['commented', 'alice'],
      ['resolved', 'alice'],
    ]);
  });

  it('enforces token scopes and answers stable error codes', async () => {
    expect(
      (
        await api(ctx.bridge.url, `/tickets/${paper}/comments`, {
          method: 'POST',
          body: { text: 'x' },
          token: READ_TOKEN,
        })
      ).body,
    ).toMatchObject({
      error: { code: 'forbidden' },
    });
    expect((await api(ctx.bridge.url, '/tickets', { token: 'nope' })).status).toBe(401);
    expect((await api(ctx.bridge.url, '/tickets/999999')).body).toMatchObject({
      error: { code: 'not_found' },
    });
    expect(
      (await api(ctx.bridge.url, `/tickets/${paper}/comments`, { method: 'POST', body: {} })).body,
    ).toMatchObject({ error: { code: 'invalid_request' } });
  });

  it('serves a page of open tickets and a ticket page with card and history', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`x:${READ_TOKEN}`).toString('base64')}` };
    expect((await fetch(`${ctx.bridge.url}/ui`)).status).toBe(401);
    const list = await (await fetch(`${ctx.bridge.url}/ui`, { headers: auth })).text();
    expect(list).toContain('Сканер не отвечает');
    expect(list).not.toContain(`/ui/tickets/${paper}"`); // resolved: no longer open
    const one = await (await fetch(`${ctx.bridge.url}/ui/tickets/${paper}`, { headers: auth })).text();
    expect(one).toContain('Попросить кассира заправить новую ленту');
    expect(one).toContain('alice прокомментировал(а):');
  });
});
