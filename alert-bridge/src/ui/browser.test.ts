import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_DIR } from '@tillwatch/testkit';
import { PEOPLE } from '@tillwatch/testkit/bridge';
import { alert, paperOut, payload, postWebhook, startBridge } from '@tillwatch/testkit/bridge';

// The ticket page as people use it, in Chromium: Russian, a store in Ekaterinburg (UTC+5).
const SHOTS = join(REPO_DIR, '.tmp', 'screenshots');
const NOW = Date.parse('2026-03-03T07:30:00Z');

describe('the ticket page in a browser', () => {
  let ctx: Awaited<ReturnType<typeof startBridge>>;
  let browser: Browser;
  let ticket: number;
  let other: number;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ctx = await startBridge(
      'sqlite',
      { locale: 'ru', timezone: 'Asia/Yekaterinburg', auth: PEOPLE },
      { now: () => NOW },
    );
    const r = await postWebhook(
      ctx.bridge.url,
      payload([paperOut('t1', 's1', { startsAt: '2026-03-03T07:04:00Z' })]),
    );
    ticket = (r.body.tickets as number[])[0]!;
    // What enrichment stores from Prometheus when the ticket opens (enrich.test.ts takes it from a real one).
    await ctx.bridge.tickets.setSnapshot(ticket, {
      taken_at: '2026-03-03T07:04:10Z',
      query: '{__name__=~"till_.*",chain="c1",store="s1",till="t1"}',
      samples: [
        { metric: { __name__: 'till_fiscal_paper_present', device: 'kkt', till: 't1' }, value: 0 },
        { metric: { __name__: 'till_fiscal_cover_open', device: 'kkt', till: 't1' }, value: 0 },
        { metric: { __name__: 'till_fiscal_last_error_code', device: 'kkt', till: 't1' }, value: 0x6b },
        { metric: { __name__: 'till_device_up', device: 'kkt', kind: 'fiscal', till: 't1' }, value: 1 },
        { metric: { __name__: 'till_cpu_usage_ratio', till: 't1' }, value: 0.3 },
      ],
      links: { prometheus: 'http://127.0.0.1:9090/graph' },
    });
    const o = await postWebhook(
      ctx.bridge.url,
      payload([
        alert({
          alertname: 'TillPaperOut',
          incident_class: 'fiscal.paper_out',
          chain: 'c2',
          store: 'z',
          till: 't1',
        }),
      ]),
    );
    other = (o.body.tickets as number[])[0]!;
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await ctx?.close();
  });

  async function login(name: string, password: string): Promise<Page> {
    const page = await (
      await browser.newContext({ locale: 'ru-RU', viewport: { width: 1200, height: 900 } })
    ).newPage();
    await page.goto(`${ctx.bridge.url}/ui/tickets/${ticket}`);
    expect(page.url()).toContain('/ui/login?next=');
    await page.getByLabel('Имя').fill(name);
    await page.getByLabel('Пароль').fill(password);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.waitForURL(`**/ui/tickets/${ticket}`);
    return page;
  }

  it('an operator logs in, acknowledges, comments, and resolves (forced while the alert still fires)', async () => {
    const page = await login('alice', 'alice-password');
    await expect(page.locator('h1').textContent()).resolves.toContain('Закончилась чековая лента');
    // Local times with the zone named.
    await expect(page.locator('body').textContent()).resolves.toContain(
      'открыта 12:30 (Екатеринбург, UTC+5)',
    );
    // The snapshot as the printer's facts, not raw JSON.
    const facts = (await page.locator('dl.facts').textContent())!;
    expect(facts).toContain('Бумага есть (kkt, t1)нет');
    expect(facts).toContain('Код последней ошибки (kkt, t1)0x6B');
    expect(facts).not.toContain('Загрузка ЦП');

    await page.getByRole('button', { name: 'Взять в работу' }).click();
    await page.waitForLoadState();
    await expect(page.locator('body').textContent()).resolves.toContain('в работе');
    await page.getByLabel('Комментарий').fill('Лента заправлена, жду подтверждения кассира');
    await page.getByRole('button', { name: 'Комментировать' }).click();
    await page.waitForLoadState();
    await page.getByRole('button', { name: 'Решить', exact: true }).click();
    await page.waitForLoadState();
    // Refused: the alert still fires. The reason is shown and the forced resolve offered.
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'Действие не выполнено: сигналы ещё активны (TillPaperOut).',
    );
    await page.screenshot({ path: join(SHOTS, 'ticket-409.png'), fullPage: true });
    await page.getByRole('button', { name: 'Решить принудительно' }).click();
    await page.waitForLoadState();
    const history = (await page.locator('ol.history').innerText()).split('\n');
    expect(history).toEqual([
      '12:30 (Екатеринбург, UTC+5) — заявка создана по сигналам TillPaperOut',
      '12:30 (Екатеринбург, UTC+5) — alice взял(а) в работу',
      '12:30 (Екатеринбург, UTC+5) — alice прокомментировал(а):',
      'Лента заправлена, жду подтверждения кассира',
      '12:30 (Екатеринбург, UTC+5) — alice решил(а) заявку (принудительно, сигналы ещё активны: TillPaperOut)',
    ]);
    await expect(page.locator('body').textContent()).resolves.toContain('исполнитель: alice');
    await page.screenshot({ path: join(SHOTS, 'ticket-resolved.png'), fullPage: true });
    const t = await ctx.bridge.tickets.get(ticket);
    expect(t.status).toBe('resolved');
    expect(t.events.map((e) => e.actor)).toEqual(['alertmanager', 'alice', 'alice', 'alice']);
  });

  it('a viewer sees no buttons and a post is refused with 403', async () => {
    const page = await login('victor', 'victor-password');
    expect(await page.locator('form[action^="/ui/tickets/"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'ticket-viewer.png'), fullPage: true });
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const before = (await ctx.bridge.tickets.get(ticket)).events.length;
    const r = await page.request.post(`${ctx.bridge.url}/ui/tickets/${ticket}/comments`, {
      form: { _csrf: csrf, text: 'viewer was here' },
      maxRedirects: 0,
    });
    expect(r.status()).toBe(403);
    expect((await ctx.bridge.tickets.get(ticket)).events.length).toBe(before);
  });

  it('a chain-scoped user gets 404 for another chain’s ticket', async () => {
    const page = await login('olga', 'olga-password');
    const r = await page.goto(`${ctx.bridge.url}/ui/tickets/${other}`);
    expect(r!.status()).toBe(404);
    await expect(page.locator('body').textContent()).resolves.toContain('Такой заявки нет');
  });

  it('a form post without the CSRF token is refused', async () => {
    const page = await login('alice', 'alice-password');
    const before = (await ctx.bridge.tickets.get(ticket)).events.length;
    const r = await page.request.post(`${ctx.bridge.url}/ui/tickets/${ticket}/reopen`, {
      form: { note: 'no token' },
      maxRedirects: 0,
    });
    expect(r.status()).toBe(403);
    expect(await r.text()).toContain('Форма устарела или отправлена с другого сайта');
    expect((await ctx.bridge.tickets.get(ticket)).events.length).toBe(before);
  });
});
