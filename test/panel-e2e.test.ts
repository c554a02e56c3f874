// End-to-end test of the NOC wall (issue 16) as a new user meets it: the native stack of `npm start`
// (scripts/stack: the fleet simulator, Prometheus 2.42 with the shipped rules, Alertmanager, the bridge and
// the panel harness rendering dashboards/noc.json's panel) on free loopback ports, faults injected through
// the fleet API, the wall in Debian's Chromium at 1920×1080. It checks by pixel colour and in the accessible
// cell list that every fault is drawn where it happens, in its severity's colour, with its reason; that no tile
// moved; and that the wall's links open the right pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { iterateTills, loadInventory } from '@tillwatch/inventory';
import { waitFor } from '@tillwatch/testkit';
import { DEMO_ADMIN, startStack, type RunningStack, type StackPlan } from '../scripts/stack/index.js';
import { planTestStack, stackClient } from './support/stack.js';
import type { DrawnRect, HarnessApi } from '../grafana-plugin/harness/api.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const artifacts = join(root, 'artifacts', 'panel');

type Rect = DrawnRect;

interface Cell {
  name: string;
  title: string;
  state: string;
  reason: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

let dir: string;
let plan: StackPlan;
let stack: RunningStack;
let api: ReturnType<typeof stackClient>;
let browser: Browser;
let page: Page;
/** The places of the faults: a device critical, a till-level warning, a warning device, a store outage. */
let paper: { chain: string; region: string; store: string; till: string; storeName: string };
let crash: { store: string; till: string };
let scanner: { store: string; till: string };
let outage: { chain: string; region: string; store: string; tills: string[] };
let before: Rect[];

/** The colour the legend shows for a state: the panel's fixed palette (grafana-plugin/src/data/palette.ts). */
async function colour(state: string): Promise<number[]> {
  const css = await page.$eval(
    `[data-testid="tillwatch-legend"] [data-state="${state}"] span`,
    (el) => getComputedStyle(el).backgroundColor,
  );
  return css.match(/\d+/g)!.slice(0, 3).map(Number);
}

async function rects(): Promise<Rect[]> {
  return page.evaluate(() =>
    (window as unknown as { tillwatchHarness: HarnessApi }).tillwatchHarness.rects(),
  );
}

async function cells(): Promise<Cell[]> {
  return page.$$eval('[data-testid="tillwatch-cells"] li', (lis) =>
    lis.map((li) => {
      const d = (li as HTMLElement).dataset;
      return {
        name: d.name!,
        title: d.title!,
        state: d.state!,
        reason: d.reason ?? '',
        x: +d.x!,
        y: +d.y!,
        w: +d.w!,
        h: +d.h!,
      };
    }),
  );
}

async function cell(name: string): Promise<Cell> {
  const c = (await cells()).find((k) => k.name === name);
  if (!c) throw new Error(`no cell "${name}" in ${(await cells()).map((k) => k.name).join(', ')}`);
  return c;
}

async function waitView(view: string): Promise<void> {
  await page.waitForFunction(
    (v) => document.querySelector('[data-testid="tillwatch-summary"]')?.getAttribute('data-view') === v,
    view,
  );
}

/** Clicks the middle of a cell as a person would and waits for the view to become `view`. */
async function drill(name: string, view: string): Promise<void> {
  const c = await cell(name);
  const box = (await page.locator('[data-testid="tillwatch-canvas"]').boundingBox())!;
  await page.mouse.click(box.x + c.x + c.w / 2, box.y + c.y + c.h / 2);
  await waitView(view);
}

/** The colour painted near a rectangle's top right corner, clear of its text. */
async function pixel(r: { x: number; y: number; w: number }): Promise<number[]> {
  return page.evaluate(
    ({ x, y }) => {
      const canvas = document.querySelector('[data-testid="tillwatch-canvas"]') as HTMLCanvasElement;
      const dpr = canvas.width / canvas.clientWidth;
      const d = canvas.getContext('2d')!.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!];
    },
    { x: r.x + r.w - 4, y: r.y + 4 },
  );
}

const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 3);

/** Back to the whole fleet through the breadcrumb. */
async function home(): Promise<void> {
  if ((await page.getAttribute('[data-testid="tillwatch-summary"]', 'data-view')) !== '') {
    await page.click('[data-testid="tillwatch-breadcrumb"] button:has-text("All")');
    await waitView('');
  }
}

async function reload(): Promise<void> {
  await page.goto(`${plan.urls.wall}&refresh=0`);
  await page.waitForSelector('[data-testid="tillwatch-summary"][data-state]', { timeout: 120_000 });
}

async function firing(): Promise<Array<Record<string, string>>> {
  const r = await fetch(
    `${plan.urls.prometheus}/api/v1/query?query=${encodeURIComponent('ALERTS{alertstate="firing"}')}`,
  );
  return (
    (await r.json()) as { data: { result: Array<{ metric: Record<string, string> }> } }
  ).data.result.map((s) => s.metric);
}

describe('the NOC wall on the native stack, before and after faults', () => {
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-wall-e2e-'));
    plan = await planTestStack({ dir, stores: 6, tillsPerStore: 2 });
    stack = await startStack(plan);
    api = stackClient(plan);
    const inv = loadInventory(plan.inventory);
    const tills = [...iterateTills(inv)];
    const stores = [...new Set(tills.map((t) => t.store.id))];
    const first = (s: string, k = 0) => tills.filter((t) => t.store.id === s)[k]!;
    const a = first(stores[0]!);
    paper = {
      chain: a.chain.id,
      region: a.region.id,
      store: a.store.id,
      till: a.till.id,
      storeName: a.store.name ?? '',
    };
    crash = { store: stores[2]!, till: first(stores[2]!).till.id };
    scanner = { store: stores[3]!, till: first(stores[3]!, 1).till.id };
    const o = first(stores[1]!);
    outage = {
      chain: o.chain.id,
      region: o.region.id,
      store: o.store.id,
      tills: tills.filter((t) => t.store.id === o.store.id).map((t) => t.till.id),
    };
    await waitFor(
      'Prometheus to scrape every till and record the wall inventory',
      async () => {
        const q = async (e: string) =>
          Number(
            (
              (await (
                await fetch(`${plan.urls.prometheus}/api/v1/query?query=${encodeURIComponent(e)}`)
              ).json()) as { data: { result: Array<{ value: [number, string] }> } }
            ).data.result[0]?.value[1] ?? 0,
          );
        return (await q('count(up{job="tillwatch-exporter"} == 1)')) === tills.length &&
          (await q('sum(store:inventory_tills:count)')) === tills.length &&
          (await q('count(till:device_up:min)')) === tills.length
          ? true
          : undefined;
      },
      { timeoutMs: 120_000 },
    );
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    // The bridge's pages ask for the read token as the Basic password, as a person would type it.
    const context = await browser.newContext({
      viewport: { width: 1920, height: 1080 },
      httpCredentials: { username: 'noc', password: plan.apiToken },
    });
    page = await context.newPage();
    await reload();
    await page.screenshot({ path: join(artifacts, '01-healthy.png') });
    before = await rects();

    // The store outage takes longest (its rule waits 30 s after the scrapes fail), so it starts first.
    await api.injectStoreFault(outage.store, 'uplink_down');
    await api.injectTillFault(paper.till, 'paper_out');
    await api.injectTillFault(crash.till, 'pos_crashloop');
    await api.injectTillFault(scanner.till, 'scanner_missing');
    await waitFor(
      'the four faults to fire: paper out, crash loop, missing scanner, store unreachable',
      async () => {
        const a = await firing();
        const has = (name: string, labels: Record<string, string>) =>
          a.some((m) => m.alertname === name && Object.entries(labels).every(([k, v]) => m[k] === v));
        return has('TillFiscalPaperOut', { till: paper.till }) &&
          has('TillProcessCrashLooping', { till: crash.till }) &&
          has('TillPeripheralMissing', { till: scanner.till }) &&
          has('TillStoreUnreachable', { store: outage.store })
          ? true
          : undefined;
      },
      { timeoutMs: 300_000 },
    );
    // The page stayed open through the faults, as on a wall: the next refresh repaints it.
    await page.evaluate(() =>
      (window as unknown as { tillwatchHarness: HarnessApi }).tillwatchHarness.refresh(),
    );
    await page.screenshot({ path: join(artifacts, '02-faults.png') });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every tile in the rectangle it had before the faults, and repaints instead of laying out', async () => {
    const after = await rects();
    const by = (rs: Rect[]) => rs.map(({ path, kind, x, y, w, h }) => ({ path, kind, x, y, w, h }));
    expect(by(after)).toEqual(by(before));
    expect(after.filter((r) => r.state !== 'ok').length).toBeGreaterThan(0);
  });

  it('draws a device critical red on its till, with its reason', async () => {
    const till = (await rects()).find((r) => r.path.endsWith(`/${paper.till}`))!;
    expect(till.state).toBe('critical');
    expect(near(await pixel(till), await colour('critical'))).toBe(true);
    await drill(paper.chain, paper.chain);
    await drill(paper.region, `${paper.chain}/${paper.region}`);
    const store = await cell(paper.store);
    // The store's human name from the inventory, next to its id.
    expect(store.title).toBe(`${paper.storeName} (${paper.store})`);
    await drill(paper.store, `${paper.chain}/${paper.region}/${paper.store}`);
    expect(await cell(paper.till)).toMatchObject({ state: 'critical', reason: 'Нет бумаги' });
    await page.screenshot({ path: join(artifacts, '03-store.png') });
  });

  it('draws a till-level warning (no device label) orange on its till', async () => {
    await home();
    const till = (await rects()).find((r) => r.path.endsWith(`/${crash.till}`))!;
    expect(till.state).toBe('warning');
    expect(near(await pixel(till), await colour('warning'))).toBe(true);
    const path = till.path.split('/');
    await drill(path[0]!, path[0]!);
    await drill(path[1]!, path.slice(0, 2).join('/'));
    await drill(path[2]!, path.slice(0, 3).join('/'));
    expect(await cell(crash.till)).toMatchObject({ state: 'warning', reason: 'Программа падает' });
  });

  it('draws a store outage red over the store and its tills, saying "Магазин недоступен"', async () => {
    await home();
    const all = await rects();
    const store = all.find((r) => r.path === `${outage.chain}/${outage.region}/${outage.store}`)!;
    expect(store).toMatchObject({ kind: 'group', state: 'critical' });
    expect(near(await pixel(store), await colour('critical'))).toBe(true);
    for (const t of outage.tills) {
      const r = all.find((k) => k.path.endsWith(`/${t}`))!;
      expect({ till: t, state: r.state }).toEqual({ till: t, state: 'critical' });
      expect(near(await pixel(r), await colour('critical'))).toBe(true);
    }
    await drill(outage.chain, outage.chain);
    await drill(outage.region, `${outage.chain}/${outage.region}`);
    expect((await cell(outage.store)).reason).toContain('Магазин недоступен');
    await drill(outage.store, `${outage.chain}/${outage.region}/${outage.store}`);
    for (const t of outage.tills) {
      expect(await cell(t)).toMatchObject({
        state: 'critical',
        reason: expect.stringContaining('Магазин недоступен'),
      });
    }
    await page.screenshot({ path: join(artifacts, '04-outage.png') });
  });

  it('never draws a warning red: the missing scanner is orange, and the legend counts what the tiles show', async () => {
    await home();
    const all = await rects();
    const r = all.find((k) => k.path.endsWith(`/${scanner.till}`))!;
    expect(r.state).toBe('warning');
    const drawn = await pixel(r);
    expect(near(drawn, await colour('warning'))).toBe(true);
    expect(near(drawn, await colour('critical'))).toBe(false);
    for (const k of all.filter((x) => x.kind === 'cell' && x.state === 'warning')) {
      expect(near(await pixel(k), await colour('critical')), k.path).toBe(false);
    }
    const legend = await page.$$eval('[data-testid="tillwatch-legend"] [data-state]', (els) =>
      Object.fromEntries(
        els.map((e) => [(e as HTMLElement).dataset.state, Number((e as HTMLElement).dataset.count)]),
      ),
    );
    expect(legend.critical).toBe(1 + outage.tills.length);
    expect(legend.warning).toBe(2);
  });

  it('opens the ticket of a tile on the bridge and the till view, from the tooltip links', async () => {
    await home();
    const r = (await rects()).find((k) => k.path.endsWith(`/${paper.till}`))!;
    const box = (await page.locator('[data-testid="tillwatch-canvas"]').boundingBox())!;
    await page.mouse.move(box.x + r.x + r.w / 2, box.y + r.y + r.h / 2);
    const tip = page.locator('[data-testid="tillwatch-tooltip"]');
    await tip.waitFor();
    expect(await tip.locator('[data-testid="tillwatch-tooltip-path"]').textContent()).toContain(paper.till);
    await page.screenshot({ path: join(artifacts, '05-tooltip.png') });
    const ticketHref = (await tip.locator('a', { hasText: 'Ticket' }).getAttribute('href'))!;
    const tillHref = (await tip.locator('a', { hasText: 'Till dashboard' }).getAttribute('href'))!;
    expect(ticketHref.startsWith(`${plan.urls.bridge}/ui/tickets?`)).toBe(true);

    // The ticket: the bridge finds the one live ticket about the till and redirects to it.
    await waitFor(
      'the paper-out ticket on the bridge',
      async () =>
        (await api.tickets({ incident_class: 'fiscal.paper_out' })).find((t) => t.till === paper.till),
      { timeoutMs: 90_000 },
    );
    const ticketPage = await page.context().newPage();
    const response = await ticketPage.goto(ticketHref);
    expect(response?.status()).toBe(200);
    // Tickets are for named people: the link asks the operator to log in once, then goes on to the ticket.
    expect(new URL(ticketPage.url()).pathname).toBe('/ui/login');
    await ticketPage.fill('input[name="username"]', DEMO_ADMIN.name);
    await ticketPage.fill('input[name="password"]', DEMO_ADMIN.password);
    await Promise.all([ticketPage.waitForURL(/\/ui\/tickets\/\d+$/), ticketPage.click('button.primary')]);
    expect(new URL(ticketPage.url()).pathname).toMatch(/^\/ui\/tickets\/\d+$/);
    const ticketText = await ticketPage.textContent('body');
    expect(ticketText).toContain(paper.till);
    expect(ticketText).toContain('Нет бумаги в ККТ');
    await ticketPage.screenshot({ path: join(artifacts, '06-ticket.png') });

    // The till view: in the native stack, the harness's own device map of the store, opened at the till.
    const tillPage = await page.context().newPage();
    const tillResponse = await tillPage.goto(new URL(tillHref, plan.urls.wall).toString());
    expect(tillResponse?.status()).toBe(200);
    await tillPage.waitForFunction(
      (v) => document.querySelector('[data-testid="tillwatch-summary"]')?.getAttribute('data-view') === v,
      `${paper.store}/${paper.till}`,
      { timeout: 60_000 },
    );
    const devices = await tillPage.$$eval('[data-testid="tillwatch-cells"] li', (lis) =>
      lis.map((li) => [
        (li as HTMLElement).dataset.name,
        (li as HTMLElement).dataset.state,
        (li as HTMLElement).dataset.reason,
      ]),
    );
    expect(devices).toContainEqual(['fiscal', 'critical', 'Нет бумаги']);
    await tillPage.screenshot({ path: join(artifacts, '07-till.png') });
    await ticketPage.close();
    await tillPage.close();
    await page.mouse.move(0, 0);
  });

  it('links the Grafana till dashboard with variables it has, and the ticket to the bridge route', () => {
    const noc = JSON.parse(readFileSync(join(root, 'dashboards/noc.json'), 'utf8')) as {
      panels: Array<{
        type: string;
        fieldConfig: { defaults: { links: Array<{ title: string; url: string }> } };
      }>;
    };
    const till = JSON.parse(readFileSync(join(root, 'dashboards/till.json'), 'utf8')) as {
      uid: string;
      templating: { list: Array<{ name: string }> };
    };
    const links = noc.panels.find((p) => p.type === 'tillwatch-hierarchy-panel')!.fieldConfig.defaults.links;
    const dash = links.find((l) => l.title === 'Till dashboard')!.url;
    expect(dash.startsWith(`/d/${till.uid}/`)).toBe(true);
    const vars = till.templating.list.map((v) => v.name);
    for (const m of dash.matchAll(/var-(\w+)=/g)) expect(vars).toContain(m[1]);
    expect(links.find((l) => l.title === 'Ticket')!.url).toMatch(/^\$\{bridge:raw\}\/ui\/tickets\?/);
  });

  it('finds a store by its human name and shows only problems when asked', async () => {
    await reload();
    await page.fill('input[aria-label="Search"]', paper.storeName);
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="tillwatch-cells"] li').length === 1,
    );
    await drill(paper.chain, paper.chain);
    await drill(paper.region, `${paper.chain}/${paper.region}`);
    expect((await cells()).map((c) => c.name)).toEqual([paper.store]);
    await page.fill('input[aria-label="Search"]', '');
    await home();
    await page.check('text=Only problems');
    const problems = (await rects()).filter((r) => r.kind === 'cell').map((r) => r.path.split('/').pop());
    expect(problems.sort()).toEqual([paper.till, crash.till, scanner.till, ...outage.tills].sort());
    await page.uncheck('text=Only problems');
    await page.focus('[data-testid="tillwatch-panel"]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () =>
        (document.querySelector('[data-testid="tillwatch-summary"]')?.getAttribute('data-view') ?? '') !== '',
    );
    await page.keyboard.press('Escape');
    await waitView('');
  });
});
