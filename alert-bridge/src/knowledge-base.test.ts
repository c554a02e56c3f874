import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadYamlFile } from '@tillwatch/config';
import { describe, expect, it } from 'vitest';
import { KnowledgeBase } from './knowledge-base.js';
import { CARDS_DIR } from '@tillwatch/testkit/bridge';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const rulesDir = join(repo, 'rules');
const kbDir = join(repo, 'alert-bridge', 'knowledge-base');

interface RuleFile {
  groups?: { rules?: { alert?: string; labels?: Record<string, string> }[] }[];
}

function alertsOfRules(): { file: string; alert: string; incidentClass: string | undefined }[] {
  if (!existsSync(rulesDir)) return [];
  const out = [];
  for (const f of readdirSync(rulesDir).filter((x) => /\.ya?ml$/.test(x) && !/test/.test(x))) {
    const doc = loadYamlFile(join(rulesDir, f)) as RuleFile | null;
    for (const g of doc?.groups ?? []) {
      for (const r of g.rules ?? [])
        if (r.alert) out.push({ file: f, alert: r.alert, incidentClass: r.labels?.incident_class });
    }
  }
  return out;
}

describe('knowledge base', () => {
  it('loads cards by incident class in both locales', () => {
    const kb = KnowledgeBase.load(CARDS_DIR);
    expect(kb.classes().sort()).toEqual([
      'fiscal.paper_out',
      'hardware.scanner_down',
      'network.store_offline',
    ]);
    expect(kb.recommend('fiscal.paper_out', 'ru')?.title).toBe('Закончилась чековая лента');
    expect(kb.recommend('fiscal.paper_out', 'en')).toMatchObject({
      title: 'Receipt paper out',
      priority: 'P2',
      team: 'hardware',
      expected_minutes: 10,
    });
    expect(kb.recommend('nope', 'en')).toBeNull();
  });

  it('rejects a bad card naming the file and key', () => {
    const dir = fileURLToPath(new URL('./testdata/bad-cards', import.meta.url));
    expect(() => KnowledgeBase.load(dir)).toThrow(`${join(dir, 'bad.yml')}: priority: Invalid option`);
  });

  it('names a misspelt key of a card in a list, and a YAML error with its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-kb-'));
    const card = (extra: string) =>
      `- incident_class: a.b\n  team: t\n  priority: P3\n  expected_minutes: 5\n  en: { title: a, impact: b${extra} }\n  ru: { title: a, impact: b }\n`;
    writeFileSync(join(dir, 'a.yml'), card('') + card(', frist_line: [x]').replace('a.b', 'a.c'));
    expect(() => KnowledgeBase.load(dir)).toThrow(`${join(dir, 'a.yml')}: [1].en.frist_line: unknown key`);
    writeFileSync(join(dir, 'a.yml'), 'incident_class: [a\n');
    expect(() => KnowledgeBase.load(dir)).toThrow(`${join(dir, 'a.yml')}:2:1: invalid YAML: `);
  });

  it('the shipped knowledge base loads', () => {
    expect(existsSync(kbDir), `${kbDir} does not exist`).toBe(true);
    expect(() => KnowledgeBase.load(kbDir)).not.toThrow();
  });

  it('every alert of rules/ carries an incident_class that has a card', () => {
    const alerts = alertsOfRules();
    expect(alerts.length, 'rules/*.yml hold no alert rules').toBeGreaterThan(0);
    const kb = KnowledgeBase.load(kbDir);
    const missing = alerts.filter((a) => !a.incidentClass || !kb.get(a.incidentClass));
    expect(
      missing.map((m) => `${m.file}: ${m.alert} (${m.incidentClass ?? 'no incident_class label'})`),
    ).toEqual([]);
  });
});
