// End-to-end test of the hierarchy panel (issue #7): a real Prometheus scrapes a static fleet target and
// evaluates alert rules; the panel's standalone harness renders it in Debian's Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { smallFleet, startStaticFleetTarget, type FleetTarget } from './support/panel-fleet.js';
import {
  freePort,
  instantQuery,
  startPrometheus,
  startService,
  waitFor,
  type RunningPrometheus,
  type Service,
} from '@tillwatch/testkit';

const root = fileURLToPath(new URL('..', import.meta.url));
const plugin = join(root, 'grafana-plugin');
const artifacts = join(root, 'artifacts', 'panel');

const RULES = `groups:
  - name: tillwatch-panel-e2e
    interval: 1s
    rules:
      - alert: TillwatchE2EScannerFault
        expr: till_device_up{till="store-2-till-1", device="scanner"} == 1
        labels: { severity: warning }
        annotations:
          summary: Scanner reported a fault
          runbook_url: https://runbooks.example/scanner-fault
      - alert: TillwatchE2EPaperLow
        expr: till_device_up{till="store-3-till-2", device="printer"} == 1
        labels: { severity: info }
        annotations: { summary: Receipt paper low }
`;

interface Cell {
  name: string;
  state: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

let dir: string;
let target: FleetTarget;
let prom: RunningPrometheus;
let promUrl: string;
let vite: Service;
let harnessUrl: string;
let browser: Browser;
let page: Page;

async function cells(): Promise<Cell[]> {
  return page.$$eval('[data-testid="tillwatch-cells"] li', (lis) =>
    lis.map((li) => {
      const d = (li as HTMLElement).dataset;
      return { name: d.name!, state: d.state!, x: +d.x!, y: +d.y!, w: +d.w!, h: +d.h! };
    }),
  );
}

async function cell(name: string): Promise<Cell> {
  const c = (await cells()).find((k) => k.name === name);
  if (!c) {
    throw new Error(`no cell "${name}" in ${(await cells()).map((k) => k.name).join(', ')}`);
  }
  return c;
}

async function view(): Promise<string> {
  return (await page.getAttribute('[data-testid="tillwatch-summary"]', 'data-view')) ?? '';
}

/** Clicks the middle of a cell as a user would and waits for the view to change to `expected`. */
async function drill(name: string, expected: string): Promise<void> {
  const c = await cell(name);
  const box = (await page.locator('[data-testid="tillwatch-canvas"]').boundingBox())!;
  await page.mouse.click(box.x + c.x + c.w / 2, box.y + c.y + c.h / 2);
  await page.waitForFunction(
    (v) => document.querySelector('[data-testid="tillwatch-summary"]')?.getAttribute('data-view') === v,
    expected,
  );
}

/** Colour drawn at a cell's centre, and the legend's colour for a state, both as [r, g, b]. */
async function pixel(c: Cell): Promise<number[]> {
  return page.evaluate(
    ({ x, y }) => {
      const canvas = document.querySelector('[data-testid="tillwatch-canvas"]') as HTMLCanvasElement;
      const dpr = canvas.width / canvas.clientWidth;
      const d = canvas.getContext('2d')!.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!];
    },
    { x: c.x + c.w / 2, y: c.y + c.h / 2 },
  );
}

async function legendColour(state: string): Promise<number[]> {
  const css = await page.$eval(
    `[data-testid="tillwatch-legend"] [data-state="${state}"] span`,
    (el) => getComputedStyle(el).backgroundColor,
  );
  return css.match(/\d+/g)!.slice(0, 3).map(Number);
}

function close(a: number[], b: number[]): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= 3);
}

describe('hierarchy panel against a real Prometheus', () => {
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-panel-e2e-'));
    const fleet = smallFleet();
    const set = (till: string, device: string, up: number) => {
      fleet.find((d) => d.till === till && d.device === device)!.up = up;
    };
    set('store-2-till-1', 'fiscal', 0);
    set('store-2-till-1', 'printer', NaN);
    target = await startStaticFleetTarget(fleet);

    writeFileSync(join(dir, 'rules.yml'), RULES);
    prom = await startPrometheus(
      `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${JSON.stringify(join(dir, 'rules.yml'))}]
scrape_configs:
  - job_name: static-fleet
    honor_labels: true
    static_configs: [{ targets: [${JSON.stringify(target.address)}] }]
`,
      { dir },
    );
    promUrl = prom.url;

    // The harness is served by Vite straight from the sources: a production build of @grafana/data takes
    // most of a minute, the dev server a few seconds.
    const vitePort = await freePort();
    const viteBin = existsSync(join(plugin, 'node_modules', '.bin', 'vite'))
      ? join(plugin, 'node_modules', '.bin', 'vite')
      : join(root, 'node_modules', '.bin', 'vite');
    // Its own process group: the .bin script runs vite, which runs esbuild.
    vite = await startService(
      'vite',
      viteBin,
      ['--config', 'harness/vite.config.ts', '--port', String(vitePort), '--strictPort'],
      vitePort,
      { readyPath: '/', cwd: plugin, group: true },
    );
    harnessUrl = `${vite.url}/`;

    const count = async (q: string) => (await instantQuery(promUrl, q)).length;
    await waitFor(
      'Prometheus to scrape the fleet and fire both alerts',
      async () =>
        (await count('till_device_up')) === fleet.length &&
        (await count('ALERTS{alertstate="firing"}')) === 2,
      { timeoutMs: 40_000 },
    );

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${harnessUrl}?prom=${encodeURIComponent(promUrl)}&refresh=0`);
    await page.waitForSelector('[data-testid="tillwatch-summary"][data-state]', { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await vite?.stop();
    await prom?.stop();
    await target?.close();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows the whole fleet with the worst state on top and counts per state in the legend', async () => {
    await page.screenshot({ path: join(artifacts, '01-fleet.png') });
    expect(await page.getAttribute('[data-testid="tillwatch-summary"]', 'data-state')).toBe('critical');
    const legend = await page.$$eval('[data-testid="tillwatch-legend"] [data-state]', (els) =>
      Object.fromEntries(
        els.map((e) => [(e as HTMLElement).dataset.state, Number((e as HTMLElement).dataset.count)]),
      ),
    );
    // 21 devices: fiscal down, printer without a value, scanner with a warning alert, printer with an info alert.
    expect(legend).toEqual({ critical: 1, unknown: 1, warning: 1, info: 1, ok: 17 });
    expect(await cells()).toEqual([expect.objectContaining({ name: 'acme', state: 'critical' })]);
  });

  it('drills into a store and shows each till in its state, drawn in the legend colour', async () => {
    await drill('acme', 'acme');
    await drill('north', 'acme/north');
    const stores = await cells();
    expect(stores.map((c) => [c.name, c.state]).sort()).toEqual([
      ['store-1', 'ok'],
      ['store-2', 'critical'],
    ]);
    await drill('store-2', 'acme/north/store-2');
    await page.screenshot({ path: join(artifacts, '02-store.png') });
    expect(await page.textContent('[data-testid="tillwatch-breadcrumb"]')).toContain('store-2');
    const tills = await cells();
    expect(tills.map((c) => [c.name, c.state])).toEqual([
      ['store-2-till-1', 'critical'],
      ['store-2-till-2', 'ok'],
    ]);
    // The healthy till is drawn as a group of device cells: a point a quarter down its box lands on one.
    const healthy = tills[1]!;
    const green = await legendColour('ok');
    expect(close(await pixel({ ...healthy, y: healthy.y + healthy.h * 0.25 }), green)).toBe(true);
  });

  it('drills into a till: each device drawn in its state colour (pixels and accessible list agree)', async () => {
    await drill('store-2-till-1', 'acme/north/store-2/store-2-till-1');
    await page.screenshot({ path: join(artifacts, '03-till.png') });
    const devices = Object.fromEntries((await cells()).map((c) => [c.name, c]));
    expect(devices.fiscal?.state).toBe('critical');
    expect(devices.printer?.state).toBe('unknown');
    expect(devices.scanner?.state).toBe('warning');
    for (const c of Object.values(devices)) {
      expect({ cell: c.name, colour: await pixel(c) }).toEqual({
        cell: c.name,
        colour: await legendColour(c.state),
      });
    }
    const red = await pixel(devices.fiscal!);
    expect(red[0]).toBeGreaterThan(red[1]! + 80);
  });

  it('opens a tooltip with the path, the state, the active alert and its links', async () => {
    const scanner = await cell('scanner');
    const box = (await page.locator('[data-testid="tillwatch-canvas"]').boundingBox())!;
    await page.mouse.move(box.x + scanner.x + scanner.w / 2, box.y + scanner.y + scanner.h / 2);
    const tip = page.locator('[data-testid="tillwatch-tooltip"]');
    await tip.waitFor();
    await page.screenshot({ path: join(artifacts, '04-tooltip.png') });
    expect(await tip.locator('[data-testid="tillwatch-tooltip-path"]').textContent()).toBe(
      'acme / north / store-2 / store-2-till-1 / scanner',
    );
    expect(await tip.textContent()).toContain('Warning');
    expect(await tip.locator('[data-testid="tillwatch-tooltip-alerts"]').textContent()).toContain(
      '[warning] Scanner reported a fault',
    );
    expect(await tip.locator('a', { hasText: 'Till dashboard' }).getAttribute('href')).toBe(
      '/d/tillwatch-till?var-chain=acme&var-store=store-2&var-till=store-2-till-1',
    );
    expect(await tip.locator('a', { hasText: 'Runbook' }).getAttribute('href')).toBe(
      'https://runbooks.example/scanner-fault',
    );
    expect(await tip.locator('a', { hasText: 'Ticket' }).getAttribute('href')).toContain(
      'alertname=TillwatchE2EScannerFault',
    );
  });

  it('goes back with Escape and the breadcrumb, and moves with the keyboard', async () => {
    await page.mouse.move(0, 0);
    await page.focus('[data-testid="tillwatch-panel"]');
    await page.keyboard.press('Escape');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="tillwatch-summary"]')?.getAttribute('data-view') ===
        'acme/north/store-2',
    );
    await page.click('[data-testid="tillwatch-breadcrumb"] button:has-text("All")');
    expect(await view()).toBe('');
    await page.focus('[data-testid="tillwatch-panel"]');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="tillwatch-summary"]')?.getAttribute('data-view') === 'acme',
    );
  });

  it('keeps a device that stopped reporting on the map as stale, not healthy', async () => {
    await page.click('[data-testid="tillwatch-breadcrumb"] button:has-text("All")');
    const gone = target.fleet.findIndex((d) => d.till === 'store-1-till-3' && d.device === 'scanner');
    target.fleet.splice(gone, 1);
    // Prometheus marks the series stale on the next scrape once the target stops exposing it.
    await waitFor(
      'the scanner series to go stale',
      async () =>
        (await instantQuery(promUrl, 'till_device_up{till="store-1-till-3",device="scanner"}')).length === 0,
    );
    await page.evaluate(() =>
      (window as unknown as { tillwatchHarness: { refresh(): Promise<void> } }).tillwatchHarness.refresh(),
    );
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-testid="tillwatch-legend"] [data-state="unknown"]')
          ?.getAttribute('data-count') === '2',
    );
    await drill('acme', 'acme');
    await drill('north', 'acme/north');
    await drill('store-1', 'acme/north/store-1');
    expect((await cell('store-1-till-3')).state).toBe('unknown');
    await drill('store-1-till-3', 'acme/north/store-1/store-1-till-3');
    const scanner = await cell('scanner');
    expect(scanner.state).toBe('unknown');
    expect(close(await pixel(scanner), await legendColour('unknown'))).toBe(true);
    const box = (await page.locator('[data-testid="tillwatch-canvas"]').boundingBox())!;
    await page.mouse.move(box.x + scanner.x + scanner.w / 2, box.y + scanner.y + scanner.h / 2);
    expect(await page.locator('[data-testid="tillwatch-tooltip"]').textContent()).toContain('stale');
    await page.screenshot({ path: join(artifacts, '06-stale.png') });
    await page.mouse.move(0, 0);
  });

  it('filters to problems only and by search', async () => {
    await page.click('[data-testid="tillwatch-breadcrumb"] button:has-text("All")');
    await page.check('text=Only problems');
    await drill('acme', 'acme');
    expect((await cells()).map((c) => c.name).sort()).toEqual(['north', 'south']);
    await drill('north', 'acme/north');
    expect((await cells()).map((c) => c.name).sort()).toEqual(['store-1', 'store-2']);
    await page.click('[data-testid="tillwatch-breadcrumb"] button:has-text("acme")');
    await drill('south', 'acme/south');
    expect((await cells()).map((c) => c.name)).toEqual(['store-3']);
    await page.uncheck('text=Only problems');
    await page.fill('input[aria-label="Search"]', 'till-1');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="tillwatch-cells"] li').length === 1,
    );
    await page.screenshot({ path: join(artifacts, '05-search.png') });
    expect((await cells()).map((c) => c.name)).toEqual(['store-3']);
  });
});
