import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeBase } from './knowledge-base.js';
import type { TicketDetail, TicketJson } from './tickets/index.js';
import {
  alert,
  api,
  ENGINES,
  payload,
  postWebhook,
  startBridge,
  WRITE_TOKEN,
} from '@tillwatch/testkit/bridge';

// Problem families and card templates with the shipped knowledge base: related classes on one place are
// one ticket, headed (title, priority, team) by the most urgent of them, its card filled with the facts.
const KB = fileURLToPath(new URL('../knowledge-base', import.meta.url));
const DAY = 86_400;

const fn = (store: string, name: string, labels: Record<string, string> = {}, value?: number) =>
  alert(
    {
      alertname: name,
      incident_class: name === 'TillFiscalFnWarning' ? 'fiscal.fn_warning' : 'fiscal.fn_expiry',
      // As the rules say: the 30-day band and the warning are warnings, the rest critical.
      severity: /Warning|30Days/.test(name) ? 'warning' : 'critical',
      team: name === 'TillFiscalFnWarning' ? 'fiscal' : 'field',
      store,
      till: 't1',
      device: 'fiscal',
      ...labels,
    },
    value === undefined ? {} : { annotations: { value: String(value) } },
  );

describe.each(ENGINES)('problem families on %s', (engine) => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  beforeAll(async () => {
    ctx = await startBridge(engine, { locale: 'ru' }, { kb: KnowledgeBase.load(KB), background: false });
  });
  afterAll(async () => ctx?.close());
  const post = async (...alerts: Parameters<typeof payload>[0]) => {
    const r = await postWebhook(ctx.bridge.url, payload(alerts));
    expect(r.status).toBe(200);
    return r.body.tickets as number[];
  };
  const get = async (id: number) => (await api<TicketDetail>(ctx.bridge.url, `/tickets/${id}`)).body;
  const live = async (store: string) =>
    (await api<{ tickets: TicketJson[] }>(ctx.bridge.url, `/tickets?store=${store}&status=open,acknowledged`))
      .body.tickets;

  it('an expired ФН is one P1 ticket that says so and since when; its warning joins that ticket', async () => {
    const [id] = await post(fn('fn1', 'TillFiscalFnExpired', {}, -2.5 * DAY));
    let t = await get(id!);
    expect(t).toMatchObject({ priority: 'P1', title: 'ФН истёк — касса не может продавать', team: 'field' });
    expect(t.short).toBe('ФН истёк');
    expect(t.recommendation?.impact).toContain('Срок ФН истёк 2 дня назад');
    expect(t.recommendation?.first_line[1]).toContain('Срочно');
    const [again] = await post(fn('fn1', 'TillFiscalFnWarning', { warning: 'memory_full' }));
    expect(again).toBe(id);
    t = await get(id!);
    expect(await live('fn1')).toHaveLength(1);
    expect(t.alerts.map((a) => a.alertname).sort()).toEqual(['TillFiscalFnExpired', 'TillFiscalFnWarning']);
    expect(t).toMatchObject({
      priority: 'P1',
      title: 'ФН истёк — касса не может продавать',
      family: 'fiscal.fn',
    });
    expect(t.events.map((e) => e.type)).toEqual(['created', 'alert_joined']);
    // Each alert speaks Russian in a Russian ticket: its own card's title for its labels, not the rule's
    // English summary (the API keeps that in annotations).
    const texts = Object.fromEntries(t.alerts.map((a) => [a.alertname, a.text]));
    expect(texts.TillFiscalFnExpired).toBe('ФН истёк — касса не может продавать');
    expect(texts.TillFiscalFnWarning).toMatch(/ФН/);
    expect(texts.TillFiscalFnWarning).not.toMatch(/summary/);
    const page = await (
      await fetch(`${ctx.bridge.url}/ui/tickets/${id}`, {
        headers: { authorization: `Basic ${Buffer.from(`alice:${WRITE_TOKEN}`).toString('base64')}` },
      })
    ).text();
    expect(page).toContain(`<td>${texts.TillFiscalFnWarning}</td>`);
    expect(page).not.toContain('TillFiscalFnWarning summary');
  });

  it('a warning ticket is taken over by its worse sibling: title, priority and team follow the expiry', async () => {
    const [id] = await post(fn('fn2', 'TillFiscalFnWarning', { warning: 'replace_urgent' }));
    expect(await get(id!)).toMatchObject({
      priority: 'P3',
      title: 'ФН требует срочной замены',
      team: 'fiscal',
    });
    await post(fn('fn2', 'TillFiscalFnExpiresIn7Days', {}, 6.5 * DAY));
    const t = await get(id!);
    expect(t).toMatchObject({
      priority: 'P2',
      title: 'ФН истекает через 6 дней',
      team: 'field',
      incident_class: 'fiscal.fn_expiry',
    });
    // A ФН six days from expiry and one twenty days from it are told apart.
    const [other] = await post(fn('fn3', 'TillFiscalFnExpiresIn30Days', {}, 20.2 * DAY));
    expect(await get(other!)).toMatchObject({ priority: 'P3', title: 'ФН истекает через 20 дней' });
  });

  it('a store outage takes in its tills: their open tickets merge into it and later ones join it', async () => {
    const down = (till: string) =>
      alert({
        alertname: 'TillUnreachable',
        incident_class: 'network.till_unreachable',
        team: 'network',
        store: 'so',
        till,
      });
    const [t1] = await post(down('t1'));
    const [t2] = await post(down('t2'));
    const [store] = await post(
      alert({
        alertname: 'TillStoreUnreachable',
        incident_class: 'network.store_unreachable',
        team: 'network',
        severity: 'critical',
        store: 'so',
      }),
    );
    expect(store).not.toBe(t1);
    for (const id of [t1!, t2!]) {
      const t = await get(id);
      expect(t.status).toBe('closed');
      expect(t.events.at(-1)).toMatchObject({ type: 'merged', data: { into: store } });
    }
    const [t3] = await post(down('t3'));
    expect(t3).toBe(store);
    const s = await get(store!);
    expect(s).toMatchObject({ till: null, title: 'Магазин недоступен', priority: 'P1' });
    expect(s.tills).toEqual(['t1', 't2', 't3']);
    expect(s.alerts.map((a) => a.alertname).sort()).toEqual([
      'TillStoreUnreachable',
      'TillUnreachable',
      'TillUnreachable',
      'TillUnreachable',
    ]);
    expect(await live('so')).toHaveLength(1);
  });

  it('card templates read label values as data: markup in a label is shown as text, prototype names reach nothing', async () => {
    const [id] = await post(fn('fn4', 'TillFiscalFnExpiresIn7Days', {}, Number.NaN));
    expect((await get(id!)).title).toBe('ФН истекает');
    const [x] = await post(
      fn('fn5', 'TillFiscalFnWarning', {
        warning: '{% for i in (1..100000000) %}x{% endfor %}{{ labels.constructor }}',
      }),
    );
    const t = await get(x!);
    expect(t.title).toBe('Предупреждение ФН');
    expect(t.alerts[0]!.labels.warning).toContain('{% for');
  });
});

describe('places from the inventory', () => {
  it('a store ticket lists every till of the store and carries its name and time zone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-inv-'));
    const file = join(dir, 'inventory.yml');
    writeFileSync(
      file,
      `chains:
  - id: c1
    regions:
      - id: ekb
        timezone: Asia/Yekaterinburg
        stores:
          - id: ekb-001
            name: Продукты у дома №7
            tills:
              - { id: ekb-001-t1, address: 127.0.0.1:19001 }
              - { id: ekb-001-t2, address: 127.0.0.1:19002 }
              - { id: ekb-001-t3, address: 127.0.0.1:19003 }
`,
    );
    const ctx = await startBridge(
      'sqlite',
      { inventory: file, timezone: 'Europe/Moscow' },
      { kb: KnowledgeBase.load(KB), background: false },
    );
    try {
      const r = await postWebhook(
        ctx.bridge.url,
        payload([
          alert({
            alertname: 'TillStoreUnreachable',
            incident_class: 'network.store_unreachable',
            team: 'network',
            severity: 'critical',
            store: 'ekb-001',
          }),
        ]),
      );
      const t = (await api<TicketJson>(ctx.bridge.url, `/tickets/${(r.body.tickets as number[])[0]}`)).body;
      expect(t).toMatchObject({
        tills: ['ekb-001-t1', 'ekb-001-t2', 'ekb-001-t3'],
        timezone: 'Asia/Yekaterinburg',
        store_name: 'Продукты у дома №7',
      });
      // A store the inventory does not list: the configured zone, the tills its alerts name.
      const r2 = await postWebhook(
        ctx.bridge.url,
        payload([fn('elsewhere', 'TillFiscalFnExpired', {}, -DAY)]),
      );
      const u = (await api<TicketJson>(ctx.bridge.url, `/tickets/${(r2.body.tickets as number[])[0]}`)).body;
      expect(u).toMatchObject({ tills: ['t1'], timezone: 'Europe/Moscow', store_name: null });
    } finally {
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
