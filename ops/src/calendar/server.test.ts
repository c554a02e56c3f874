// The calendar component for real: listening on 127.0.0.1, scraped by a real Prometheus, at a fixed clock.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  close,
  freePort,
  instantQuery,
  listen,
  repoPath,
  startPrometheus,
  startVictoriaMetrics,
  waitFor,
  type RunningPrometheus,
} from '@tillwatch/testkit';
import { parseInventory } from '@tillwatch/inventory';
import { createCalendarServer } from './server.js';
import { main } from '../cli.js';

// A Moscow store (UTC+3) and a Novosibirsk store (UTC+7) on the chain's 08:00-22:00, a 24-hour store, and a
// store without hours: it must not appear at all (watched around the clock, as before calendars).
const INVENTORY = `
chains:
  - id: produkty
    timezone: Europe/Moscow
    hours: { default: "08:00-22:00" }
    regions:
      - id: msk
        stores:
          - id: msk-001
            tills: [{ id: msk-001-t1, address: "127.0.0.1:19001" }]
          - id: msk-024
            hours: 24h
            tills: [{ id: msk-024-t1, address: "127.0.0.1:19002" }]
      - id: nsk
        timezone: Asia/Novosibirsk
        stores:
          - id: nsk-001
            tills: [{ id: nsk-001-t1, address: "127.0.0.1:19003" }]
  - id: apteka
    regions:
      - id: msk
        stores:
          - id: apteka-001
            tills: [{ id: apteka-001-t1, address: "127.0.0.1:19004" }]
`;

let clock = new Date('2026-12-07T18:30:00Z');
let prom: RunningPrometheus;
let port: number;
const { server } = createCalendarServer(parseInventory(INVENTORY, 'calendar.yml'), { now: () => clock });

beforeAll(async () => {
  port = await listen(server);
  prom = await startPrometheus(
    [
      'global: { scrape_interval: 1s, scrape_timeout: 1s }',
      'scrape_configs:',
      '  - job_name: tillwatch-calendar',
      `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await close(server);
});

/** The open state of every store as Prometheus has it after a scrape at the current clock. */
async function scraped(): Promise<Record<string, string>> {
  const want = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return waitFor(`Prometheus to scrape the states of ${clock.toISOString()}`, async () => {
    const r = (await instantQuery(prom.url, 'tillwatch_store_open{job="tillwatch-calendar"}')) as {
      metric: Record<string, string>;
      value: [number, string];
    }[];
    const states = Object.fromEntries(
      r.map((s) => [`${s.metric.chain}/${s.metric.region}/${s.metric.store}`, s.value[1]]),
    );
    // Every state the component serves now must be what Prometheus read.
    const served = [...want.matchAll(/store="([^"]+)"} (\d)/g)].every(([, store, v]) =>
      Object.entries(states).some(([k, s]) => k.endsWith(`/${store}`) && s === v),
    );
    return served && r.length === 3 ? states : undefined;
  });
}

describe('the calendar component scraped by Prometheus', () => {
  it('closes each store at its own local hour', async () => {
    // 18:30 UTC on a Monday: 21:30 in Moscow (open), 01:30 on Tuesday in Novosibirsk (closed).
    expect(await scraped()).toEqual({
      'produkty/msk/msk-001': '1',
      'produkty/msk/msk-024': '1',
      'produkty/nsk/nsk-001': '0',
    });
    // 19:00 UTC: 22:00 in Moscow, closing time.
    clock = new Date('2026-12-07T19:00:00Z');
    expect(await scraped()).toEqual({
      'produkty/msk/msk-001': '0',
      'produkty/msk/msk-024': '1',
      'produkty/nsk/nsk-001': '0',
    });
    // 01:00 UTC on Tuesday: 04:00 in Moscow (closed), 08:00 in Novosibirsk (opening).
    clock = new Date('2026-12-08T01:00:00Z');
    expect(await scraped()).toEqual({
      'produkty/msk/msk-001': '0',
      'produkty/msk/msk-024': '1',
      'produkty/nsk/nsk-001': '1',
    });
  }, 60_000);

  it('serves an exposition promtool accepts', async () => {
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(execFileSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })).toBe('');
  });

  it('answers other paths with 404 and other methods with 405', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('the distributed path', () => {
  it('is scraped by the central VictoriaMetrics with the shipped deploy/central/calendar-scrape.yml', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-calendar-vm-'));
    // The shipped scrape config, its target moved to this test's port and its interval to 1 s.
    const shipped = readFileSync(repoPath('deploy', 'central', 'calendar-scrape.yml'), 'utf8');
    expect(shipped).toContain("'127.0.0.1:9841'");
    const config = join(dir, 'calendar-scrape.yml');
    writeFileSync(
      config,
      shipped
        .replace("'127.0.0.1:9841'", `'127.0.0.1:${port}'`)
        .replace('scrape_interval: 15s', 'scrape_interval: 1s'),
    );
    clock = new Date('2026-12-07T18:30:00Z');
    const vmPort = await freePort();
    const vm = await startVictoriaMetrics(join(dir, 'data'), vmPort, [`-promscrape.config=${config}`]);
    try {
      const states = await waitFor('VictoriaMetrics to scrape the calendar', async () => {
        const r = (await instantQuery(`http://127.0.0.1:${vmPort}`, 'tillwatch_store_open')) as {
          metric: Record<string, string>;
          value: [number, string];
        }[];
        return r.length === 3 ? Object.fromEntries(r.map((x) => [x.metric.store, x.value[1]])) : undefined;
      });
      expect(states).toEqual({ 'msk-001': '1', 'msk-024': '1', 'nsk-001': '0' });
    } finally {
      await vm.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('tillwatch calendar serve', () => {
  it('refuses a bad listen address, naming it', async () => {
    const err: string[] = [];
    const io = { out: () => {}, err: (l: string) => err.push(l) };
    expect(
      await main(['calendar', 'serve', '--inventory', 'deploy/inventory/demo.yml', '--listen', 'nope'], io),
    ).toBe(1);
    expect(err.join('\n')).toContain('--listen: expected host:port, got "nope"');
  });
});
