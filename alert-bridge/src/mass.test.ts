import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeBase } from './knowledge-base.js';
import { massTitle } from './tickets/mass.js';
import type { TicketDetail, TicketJson } from './tickets/index.js';
import {
  alert,
  api,
  ENGINES,
  payload,
  postWebhook,
  startBridge,
  startReceiver,
  waitFor,
  WRITE_TOKEN,
} from '@tillwatch/testkit/bridge';

// Mass incidents with the shipped knowledge base: one shared cause (the УТМ, the OFD) on many stores of a
// chain is one parent ticket; its members stay, each with its alerts, but only the parent is announced.
const KB = fileURLToPath(new URL('../knowledge-base', import.meta.url));
const MIN = 60_000;

const utmDown = (store: string, till: string, status: 'firing' | 'resolved' = 'firing', chain = 'c1') =>
  alert(
    {
      alertname: 'TillUtmDown',
      incident_class: 'egais.utm_down',
      severity: 'critical',
      team: 'software',
      chain,
      store,
      till,
      device: 'utm',
    },
    { status },
  );
const paper = (store: string, till: string) =>
  alert({
    alertname: 'TillPaperOut',
    incident_class: 'fiscal.paper_out',
    team: 'hardware',
    store,
    till,
    device: 'kkt',
  });

describe('mass incident titles', () => {
  it('count tills and stores with Russian plural forms and grouped thousands', () => {
    expect(massTitle('УТМ не отвечает', { tickets: 1243, tills: 1243, stores: 87 }, 'ru')).toBe(
      'УТМ не отвечает: 1\u00a0243 кассы в 87 магазинах',
    );
    expect(massTitle('УТМ не отвечает', { tickets: 21, tills: 21, stores: 1 }, 'ru')).toBe(
      'УТМ не отвечает: 21 касса в 1 магазине',
    );
    expect(massTitle('Нет связи', { tickets: 5, tills: 0, stores: 5 }, 'ru')).toBe('Нет связи: 5 магазинов');
    expect(massTitle('OFD offline', { tickets: 1243, tills: 1243, stores: 87 }, 'en')).toBe(
      'OFD offline: 1,243 tills in 87 stores',
    );
  });
});

describe.each(ENGINES)('mass incidents on %s', (engine) => {
  let desk: Awaited<ReturnType<typeof startReceiver>>;
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  const clock = { now: Date.parse('2026-06-01T08:00:00Z') };
  beforeAll(async () => {
    desk = await startReceiver('k');
    ctx = await startBridge(
      engine,
      {
        locale: 'ru',
        mass_incidents: { min_stores: 10, window: '10m', update_interval: '5m' },
        forwarding: {
          poll_interval: '50ms',
          targets: [{ name: 'desk', type: 'webhook', url: desk.url, secret: 'k' }],
        },
      },
      { kb: KnowledgeBase.load(KB), now: () => clock.now },
    );
  });
  afterAll(async () => {
    await ctx?.close();
    await desk?.close();
  });
  const post = async (alerts: ReturnType<typeof alert>[]) => {
    const r = await postWebhook(ctx.bridge.url, payload(alerts));
    expect(r.status).toBe(200);
    return r.body.tickets as number[];
  };
  const get = async (id: number) => (await api<TicketDetail>(ctx.bridge.url, `/tickets/${id}`)).body;
  const list = async (q: string) =>
    (await api<{ tickets: TicketJson[]; next_before_id?: number }>(ctx.bridge.url, `/tickets?${q}`)).body;
  const act = (id: number, action: string, body: object = {}) =>
    fetch(`${ctx.bridge.url}/api/v1/tickets/${id}/${action}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${WRITE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const delivered = () => desk.got.length;
  const settle = async () => {
    const pending = async () =>
      Number(
        (
          await ctx.bridge.store.db
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', '=', 'pending')
            .executeTakeFirstOrThrow()
        ).n,
      );
    await waitFor(async () => (await pending()) === 0, 'the outbox to drain', 30_000);
  };

  let parentId = 0;
  it('the УТМ down on ten stores of a chain within the window opens one parent that takes in every store', async () => {
    // Nine stores, two tills each, a minute apart: ordinary tickets, each announced.
    for (let s = 1; s <= 9; s++) {
      clock.now += MIN / 2;
      await post([utmDown(`s${s}`, 't1'), utmDown(`s${s}`, 't2')]);
    }
    // The first store's go at once; once a second store has it, each new one waits mass_incidents.hold
    // (20 s) for a parent: the first eight stores' are out, the ninth's (opened on this tick) still held.
    await waitFor(() => delivered() === 16, 'the first eight stores at the desk');
    expect(new Set(desk.got.map((g) => (g.body.ticket as TicketJson).store)).has('s9')).toBe(false);
    expect((await list('status=open&chain=c1')).tickets.filter((t) => t.mass)).toEqual([]);
    // The tenth store makes it a mass incident: one parent announced, the twenty place tickets linked,
    // and the ninth store's messages, still held, are never sent.
    clock.now += 10_000;
    const [own] = await post([utmDown('s10', 't1'), utmDown('s10', 't2')]);
    await settle();
    clock.now += MIN;
    await settle();
    const created = desk.got.slice(16);
    expect(created.map((g) => g.type)).toEqual(['ticket.created']);
    const parent = (created[0]!.body as { ticket: TicketJson }).ticket;
    parentId = parent.id;
    expect(parent).toMatchObject({ mass: true, chain: 'c1', store: null, till: null, priority: 'P1' });
    expect(parent.title).toBe('УТМ не отвечает: 20 касс в 10 магазинах');
    expect((await get(own!)).parent_id).toBe(parentId);
    const members = await list(`parent_id=${parentId}&limit=1000`);
    expect(members.tickets).toHaveLength(20);
    expect(new Set(members.tickets.map((t) => t.store)).size).toBe(10);
  });

  it('later stores join the parent silently; its counts reach the desk at most once per update interval', async () => {
    const before = delivered();
    for (let s = 11; s <= 40; s++) {
      clock.now += 5_000;
      const [id] = await post([utmDown(`s${s}`, 't1')]);
      expect((await get(id!)).parent_id).toBe(parentId);
    }
    await settle();
    // 150 s since the parent opened: the counts are not announced yet.
    expect(delivered()).toBe(before);
    expect((await get(parentId)).title).toBe('УТМ не отвечает: 50 касс в 40 магазинах');
    clock.now += 5 * MIN;
    await post([utmDown('s41', 't1')]);
    await settle();
    expect(desk.got.slice(before).map((g) => g.type)).toEqual(['ticket.updated']);
    const update = (desk.got.at(-1)!.body as { ticket: TicketJson }).ticket;
    expect(update.title).toBe('УТМ не отвечает: 51 касса в 41 магазине');
    // The parent's page lists its places, each linked; a member's page points to the parent.
    const page = async (id: number) => {
      const r = await fetch(`${ctx.bridge.url}/ui/tickets/${id}`, {
        headers: { authorization: `Basic ${Buffer.from(`alice:${WRITE_TOKEN}`).toString('base64')}` },
      });
      expect(r.status).toBe(200);
      return r.text();
    };
    const html = await page(parentId);
    expect(html).toContain('Места инцидента (51)');
    const member = (await list(`parent_id=${parentId}&limit=1`)).tickets[0]!;
    expect(html).toContain(`<a href="/ui/tickets/${member.id}">#${member.id}</a>`);
    expect(await page(member.id)).toContain(`Входит в массовый инцидент <a href="/ui/tickets/${parentId}">`);
  });

  it('another chain and another class stay apart; a till-hardware class is never a mass incident', async () => {
    const [other] = await post([utmDown('x1', 't1', 'firing', 'c2')]);
    expect((await get(other!)).parent_id).toBeNull();
    const ids = [];
    for (let s = 1; s <= 30; s++) ids.push(...(await post([paper(`p${s}`, 't1')])));
    for (const id of ids.slice(-3)) expect((await get(id)).parent_id).toBeNull();
    expect((await list('status=open&incident_class=fiscal.paper_out')).tickets.some((t) => t.mass)).toBe(
      false,
    );
    // The other chain's ticket is announced on its own once its hold is over.
    clock.now += MIN;
    await settle();
    const x1 = desk.got.filter((g) => (g.body.ticket as TicketJson).store === 'x1');
    expect(x1.map((g) => g.type)).toEqual(['ticket.created']);
  });

  it('taking the parent takes every member; resolving it while members fire needs force', async () => {
    expect((await act(parentId, 'acknowledge')).status).toBe(200);
    const members = (await list(`parent_id=${parentId}&limit=1000`)).tickets;
    expect(members).toHaveLength(51);
    expect(members.every((m) => m.status === 'acknowledged' && m.assignee === 'alice')).toBe(true);
    const refused = await act(parentId, 'resolve', {});
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('TillUtmDown');
  });

  it('when the УТМ comes back everywhere, the parent resolves itself with its members', async () => {
    const before = delivered();
    const alerts = [];
    for (let s = 1; s <= 10; s++)
      alerts.push(utmDown(`s${s}`, 't1', 'resolved'), utmDown(`s${s}`, 't2', 'resolved'));
    for (let s = 11; s <= 41; s++) alerts.push(utmDown(`s${s}`, 't1', 'resolved'));
    clock.now += MIN;
    await post(alerts.slice(0, 30));
    expect((await get(parentId)).status).toBe('acknowledged');
    await post(alerts.slice(30));
    const parent = await get(parentId);
    expect(parent.status).toBe('resolved');
    expect(parent.title).toBe('УТМ не отвечает: 51 касса в 41 магазине');
    const members = (await list(`parent_id=${parentId}&limit=1000`)).tickets;
    expect(members.every((m) => m.status === 'resolved')).toBe(true);
    await settle();
    // One message for the whole recovery, from the parent.
    expect(desk.got.slice(before).map((g) => g.type)).toEqual(['ticket.resolved']);
  });

  it('a storm that reaches ten stores within the hold is one message: the parent', async () => {
    clock.now += 60 * MIN;
    const before = delivered();
    // 100 stores × 5 tills of another chain within a few seconds, ten notifications at a time.
    for (let s = 0; s < 100; s += 10) {
      clock.now += 500;
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          post(Array.from({ length: 5 }, (_, t) => utmDown(`z${s + i}`, `t${t}`, 'firing', 'storm'))),
        ),
      );
    }
    clock.now += MIN;
    await settle();
    // Counts are taken at most once a second while places arrive, and once more a second after the last.
    const storm = async () =>
      (await list('chain=storm&status=open&limit=1000')).tickets.filter((t) => t.mass);
    await waitFor(
      async () => (await storm())[0]?.title === 'УТМ не отвечает: 500 касс в 100 магазинах',
      'the parent to count all 100 stores',
      10_000,
    );
    const parents = await storm();
    expect(parents).toHaveLength(1);
    const members = (await list(`parent_id=${parents[0]!.id}&limit=1000`)).tickets;
    expect(members).toHaveLength(500);
    expect(members.reduce((n, m) => n + m.alert_counts.total, 0)).toBe(500);
    // The first store's five tills went at once (one store alone is no storm); then the parent only.
    const sent = desk.got.slice(before).filter((g) => (g.body.ticket as TicketJson).chain === 'storm');
    expect(sent.length).toBeLessThanOrEqual(5 + 1);
    expect(sent.filter((g) => (g.body.ticket as TicketJson).mass)).toHaveLength(1);
  });

  it('the ticket list pages through history newest first by id and opening time', async () => {
    const page1 = await list('limit=20&incident_class=egais.utm_down');
    expect(page1.tickets).toHaveLength(20);
    expect(page1.next_before_id).toBe(page1.tickets[19]!.id);
    const page2 = await list(`limit=20&incident_class=egais.utm_down&before_id=${page1.next_before_id}`);
    expect(Math.max(...page2.tickets.map((t) => t.id))).toBeLessThan(page1.next_before_id!);
    const from = new Date(Date.parse('2026-06-01T08:00:00Z')).toISOString();
    const to = new Date(Date.parse('2026-06-01T08:03:00Z')).toISOString();
    const early = await list(`limit=1000&opened_after=${from}&opened_before=${to}`);
    // The stores opened half a minute apart from 08:00:30: s1..s5 before 08:03.
    expect(new Set(early.tickets.map((t) => t.store))).toEqual(new Set(['s1', 's2', 's3', 's4', 's5']));
    expect((await api(ctx.bridge.url, '/tickets?opened_after=yesterday')).status).toBe(400);
  });
});
