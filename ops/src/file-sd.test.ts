import { afterAll, describe, expect, it } from 'vitest';
import { FULL_INVENTORY } from '@tillwatch/testkit';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory, parseInventory } from '@tillwatch/inventory';
import { renderFileSd, toFileSd, writeFileSd } from './file-sd.js';
import { generateDemoInventory } from '@tillwatch/inventory';
import {
  startMetricsServer,
  startPrometheus,
  waitFor,
  type MetricsServer,
  type RunningPrometheus,
} from '@tillwatch/testkit';

const full = FULL_INVENTORY;

function scrapeConfig(sdFile: string, interval = '1s'): string {
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    'scrape_configs:',
    '  - job_name: tills',
    '    file_sd_configs:',
    `      - files: ['${sdFile}']`,
    '',
  ].join('\n');
}

describe('file_sd targets', () => {
  it('gives each till its own group with chain, region, store and till labels, and the store name', () => {
    expect(toFileSd(loadInventory(full))).toEqual([
      {
        targets: ['127.0.0.1:19001'],
        labels: {
          chain: 'c1',
          format: 'express',
          lane: '1',
          region: 'r1',
          store: 's1',
          store_name: 'Store one',
          till: 't1',
        },
      },
      {
        targets: ['[::1]:9835'],
        labels: {
          __metrics_path__: '/tills/t2/metrics',
          chain: 'c1',
          format: 'express',
          region: 'r1',
          store: 's1',
          store_name: 'Store one',
          till: 't2',
        },
      },
      { targets: ['127.0.0.1:19101'], labels: { chain: 'c2', region: 'r1', store: 's2', till: 't3' } },
    ]);
  });

  it('is the same bytes whatever order the inventory lists things in', () => {
    const till = (id: string, port: number) => `{ id: ${id}, address: "h:${port}" }`;
    const a = `chains:
  - id: b
    regions: [{ id: r, stores: [{ id: s2, tills: [${till('t4', 4)}, ${till('t3', 3)}] }, { id: s1, tills: [${till('t1', 1)}] }] }]
  - id: a
    regions: [{ id: r, stores: [{ id: s0, tills: [${till('t0', 5)}] }] }]
`;
    const b = `chains:
  - id: a
    regions: [{ id: r, stores: [{ id: s0, tills: [${till('t0', 5)}] }] }]
  - id: b
    regions: [{ id: r, stores: [{ id: s1, tills: [${till('t1', 1)}] }, { id: s2, tills: [${till('t3', 3)}, ${till('t4', 4)}] }] }]
`;
    const out = renderFileSd(parseInventory(a));
    expect(out).toBe(renderFileSd(parseInventory(b)));
    expect(toFileSd(parseInventory(a)).map((g) => g.labels.till)).toEqual(['t0', 't1', 't3', 't4']);
  });

  it('replaces the file atomically and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-sd-'));
    writeFileSync(join(dir, 'tills.json'), '[]\n');
    const { path, targets } = writeFileSd(loadInventory(full), dir);
    expect(targets).toBe(3);
    expect(readdirSync(dir)).toEqual(['tills.json']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(3);
  });

  it('passes promtool check config for the whole demo fleet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillwatch-sd-'));
    const { path, targets } = writeFileSd(generateDemoInventory(), dir);
    expect(targets).toBeGreaterThanOrEqual(120);
    writeFileSync(join(dir, 'prometheus.yml'), scrapeConfig(path, '15s'));
    // promtool also parses the referenced file_sd file; a bad target or label fails here.
    const out = execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(out).toContain('SUCCESS');
  });

  describe('scraped by a real Prometheus', () => {
    const servers: MetricsServer[] = [];
    let prom: RunningPrometheus | undefined;
    afterAll(async () => {
      await prom?.stop();
      await Promise.all(servers.map((s) => s.close()));
    });

    it('labels every scraped series with chain, region, store and till', async () => {
      for (let i = 0; i < 2; i++)
        servers.push(
          await startMetricsServer(() => '# TYPE till_cpu_usage_ratio gauge\ntill_cpu_usage_ratio 0.25\n'),
        );
      const inv = parseInventory(`chains:
  - id: north
    regions:
      - id: r1
        stores:
          - id: s1
            tills:
              - { id: s1-t1, address: "${servers[0]!.address}" }
  - id: south
    regions:
      - id: r2
        stores:
          - id: s2
            tills:
              - { id: s2-t1, address: "${servers[1]!.address}" }
`);
      const dir = mkdtempSync(join(tmpdir(), 'tillwatch-sd-'));
      const { path } = writeFileSd(inv, join(dir, 'targets'));
      prom = await startPrometheus(scrapeConfig(path));
      const result = await waitFor('both tills scraped', async () => {
        const r = await prom!.query('till_cpu_usage_ratio');
        const series = (r.data?.result ?? []) as Array<{ metric: Record<string, string> }>;
        return series.length === 2 ? series : undefined;
      });
      expect(result.map((s) => s.metric).sort((a, b) => (a.till! < b.till! ? -1 : 1))).toEqual([
        {
          __name__: 'till_cpu_usage_ratio',
          chain: 'north',
          region: 'r1',
          store: 's1',
          till: 's1-t1',
          instance: servers[0]!.address,
          job: 'tills',
        },
        {
          __name__: 'till_cpu_usage_ratio',
          chain: 'south',
          region: 'r2',
          store: 's2',
          till: 's2-t1',
          instance: servers[1]!.address,
          job: 'tills',
        },
      ]);
    });
  });
});
