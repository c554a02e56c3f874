// Loads the rule files of this folder and the promtool test files under rules/tests/, so every
// contract test walks the same list.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration } from '@tillwatch/config';
import { parse as parseYaml } from 'yaml';
import { REPO_DIR } from '@tillwatch/testkit';

export { REPO_DIR };

export const RULES_DIR = fileURLToPath(new URL('..', import.meta.url));
export const TESTS_DIR = join(RULES_DIR, 'tests');

export interface Rule {
  file: string;
  group: string;
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleFile {
  groups: { name: string; interval?: string; rules: Omit<Rule, 'file' | 'group'>[] }[];
}

/** Every rule file, parsed, with its path. */
function ruleDocs(dir: string): { file: string; doc: RuleFile }[] {
  return ruleFiles(dir).map((file) => ({ file, doc: parseYaml(readFileSync(file, 'utf8')) as RuleFile }));
}

/** The rule files of `dir` (this folder unless a test passes an edited copy). */
export function ruleFiles(dir = RULES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
}

export function testFiles(): string[] {
  return readdirSync(TESTS_DIR)
    .filter((f) => f.endsWith('.test.yml'))
    .sort()
    .map((f) => join(TESTS_DIR, f));
}

export function loadRules(dir = RULES_DIR): Rule[] {
  const rules: Rule[] = [];
  for (const { file, doc } of ruleDocs(dir))
    for (const g of doc.groups) for (const r of g.rules) rules.push({ ...r, file, group: g.name });
  return rules;
}

export const alerts = (dir = RULES_DIR): (Rule & { alert: string })[] =>
  loadRules(dir).filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
export const records = (): (Rule & { record: string })[] =>
  loadRules().filter((r): r is Rule & { record: string } => typeof r.record === 'string');

export interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval?: string;
  tests: {
    name?: string;
    interval?: string;
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: unknown[] | null }[];
    promql_expr_test?: { expr: string; eval_time: string }[];
  }[];
}

export function loadTestFile(path: string): PromtoolTestFile {
  return parseYaml(readFileSync(path, 'utf8')) as PromtoolTestFile;
}

/** A group's own `interval:` line (the trend groups' once a minute; rules/README.md, "Evaluation cadence"). */
const GROUP_INTERVAL = /^ {4}interval: \S+\n/gm;

/** The evaluation interval of each group in milliseconds, by name; undefined for a group on the global interval. */
export function groupIntervals(dir = RULES_DIR): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const { file, doc } of ruleDocs(dir)) {
    for (const g of doc.groups) {
      const ms = g.interval === undefined ? undefined : parseDuration(g.interval);
      if (g.interval !== undefined && ms === undefined)
        throw new Error(`${file}: group ${g.name}: interval "${g.interval}" is not a duration`);
      out.set(g.name, ms);
    }
  }
  return out;
}

/**
 * Copies the rule files into `dir` with every group on the global evaluation interval, and returns the
 * copies' paths. For tests that check what the rules and queries compute, not when: a test Prometheus
 * evaluating every second would otherwise wait up to two minutes for the trend groups' first two
 * evaluations. The cadence itself is checked by rules-contract.test.ts and exercised by the stack tests.
 */
export function copyRulesOnGlobalInterval(dir: string): string[] {
  return ruleFiles().map((file) => {
    const out = join(dir, file.split('/').pop() as string);
    writeFileSync(out, readFileSync(file, 'utf8').replace(GROUP_INTERVAL, ''));
    return out;
  });
}
