#!/usr/bin/env node
// Screenshot of the panel wall of a running stack (`npm start` in another terminal), for the README:
//   node --import tsx scripts/stack/screenshot.ts [--out docs/img/wall.png] [--min-firing 4] [--prom URL --wall URL]
// Waits until the demo scenario has fired at least --min-firing alerts, so the picture shows faults.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { planStack } from './plan.js';

async function firing(prom: string): Promise<number> {
  const r = await fetch(
    `${prom}/api/v1/query?query=${encodeURIComponent('count(ALERTS{alertstate="firing"})')}`,
  );
  const body = (await r.json()) as { data: { result: { value: [number, string] }[] } };
  return Number(body.data.result[0]?.value[1] ?? 0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      'min-firing': { type: 'string' },
      'timeout-s': { type: 'string' },
      prom: { type: 'string' },
      wall: { type: 'string' },
    },
  });
  const plan = planStack();
  const prom = values.prom ?? plan.urls.prometheus;
  const wall = values.wall ?? plan.urls.wall;
  const out = resolve(plan.root, values.out ?? 'docs/img/wall.png');
  const min = Number(values['min-firing'] ?? 4);
  const deadline = Date.now() + Number(values['timeout-s'] ?? 600) * 1000;
  for (;;) {
    const n = await firing(prom).catch(() => -1);
    if (n >= min) break;
    if (Date.now() > deadline) throw new Error(`only ${n} alerts firing at ${prom}; is the stack running?`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    // The size of a NOC wall screen.
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${wall}${wall.includes('?') ? '&' : '?'}refresh=0`);
    await page.waitForSelector('[data-testid="tillwatch-summary"][data-state]', { timeout: 60_000 });
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
}

main().catch((e: unknown) => {
  console.error(`screenshot: ${(e as Error).message}`);
  process.exit(1);
});
