// A till whose POS program is older than its chain's minimum: the exporter reads the version file, the
// inventory declares the minimum, `tillwatch inventory min-versions` records it, and promtool evaluates
// TillSoftwareBelowMinimum on the till's real /metrics with those records.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createExporter, parseConfig, registeredCollectors } from '@tillwatch/exporter';
import { parseInventory } from '@tillwatch/inventory';
import { renderMinVersionRules } from '@tillwatch/ops';
import { firstMetrics, promtoolAlerts, repoPath, seriesValue } from '@tillwatch/testkit';

const dir = mkdtempSync(join(tmpdir(), 'tillwatch-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inventory = parseInventory(`chains:
  - id: c1
    min_versions: { pos: "4.2.0" }
    regions:
      - id: r1
        stores:
          - id: s1
            tills: [{ id: t1, address: "127.0.0.1:9835" }]
  - id: c2
    regions:
      - id: r2
        stores:
          - id: s2
            tills: [{ id: t2, address: "127.0.0.1:9836" }]
`);

async function tillMetrics(posVersionFile: string): Promise<string> {
  writeFileSync(join(dir, 'version.txt'), posVersionFile);
  const e = createExporter(
    parseConfig(
      {
        identity: { chain: 'c1', region: 'r1', store: 's1', till: 't1' },
        software: { components: [{ name: 'pos', file: 'version.txt' }] },
      },
      join(dir, 'exporter.yml'),
      dir,
    ),
    {
      logger: pino({ level: 'silent' }),
      collectors: registeredCollectors().filter((c) => c.name === 'software'),
    },
  );
  return firstMetrics(e);
}

async function firing(text: string, chain: string) {
  const rules = join(dir, 'min-versions.rules.yml');
  writeFileSync(rules, renderMinVersionRules(inventory));
  const shipped = readdirSync(repoPath('rules'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => repoPath('rules', f));
  return promtoolAlerts({
    exposition: text,
    alertnames: ['TillSoftwareBelowMinimum'],
    targetLabels: {
      chain,
      region: 'r1',
      store: 's1',
      till: 't1',
      instance: 't1:9835',
      job: 'tillwatch-exporter',
    },
    ruleFiles: [...shipped, rules],
  });
}

describe('POS version against the chain minimum', () => {
  it('fires for a till on POS 4.1.7 when its chain asks for 4.2.0', async () => {
    const text = await tillMetrics('Frontol POS 4.1.7 (build 1123)\n');
    expect(text).toContain('till_software_version_info{component="pos",version="4.1.7"} 1');
    expect(seriesValue(text, 'till_software_version_number{component="pos"}')).toBe(4_001_007);
    const alerts = await firing(text, 'c1');
    expect(alerts.map((a) => a.labels)).toEqual([
      expect.objectContaining({
        alertname: 'TillSoftwareBelowMinimum',
        component: 'pos',
        minimum: '4.2.0',
        till: 't1',
      }),
    ]);
  });

  it('stays quiet at the minimum, above it, and for a chain that declares none', async () => {
    expect(await firing(await tillMetrics('4.2.0\n'), 'c1')).toEqual([]);
    expect(await firing(await tillMetrics('4.10.1\n'), 'c1')).toEqual([]);
    expect(await firing(await tillMetrics('3.0.0\n'), 'c2')).toEqual([]);
  });

  it('reports the OS, kernel and exporter without configuration', async () => {
    const text = await tillMetrics('4.2.0\n');
    for (const c of ['kernel', 'exporter'])
      expect(text).toMatch(new RegExp(`till_software_version_info\\{component="${c}",version="[^"]+"\\} 1`));
  });
});
