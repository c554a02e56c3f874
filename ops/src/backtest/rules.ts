// Loads alerting rules for the backtest. Recording rules in the same files are inlined into alert
// expressions, because a backfilled or older history has no recorded series for them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, durationProblem, loadYamlFile, parseDuration } from '@tillwatch/config';

export interface AlertRule {
  name: string;
  expr: string;
  /** The expression as written, before recording rules were inlined. */
  source: string;
  forMs: number;
  /** Not supported by Prometheus 2.42, honoured here so rules can be tuned before an upgrade. */
  keepFiringForMs: number;
  labels: Record<string, string>;
  file: string;
  group: string;
}

/** A rule file that cannot be used: the config kit's error, naming the file and the rule's key path. */
export { ConfigError as RuleFileError };

/** Rule files from paths; a directory means every *.yml / *.yaml directly in it. */
export function expandRulePaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ConfigError(p, { message: 'no such file or directory' });
    }
    if (st.isDirectory())
      files.push(
        ...readdirSync(p)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(p, f)),
      );
    else files.push(p);
  }
  return files;
}

interface RawRule {
  alert?: unknown;
  record?: unknown;
  expr?: unknown;
  for?: unknown;
  keep_firing_for?: unknown;
  labels?: unknown;
}

export function loadRules(paths: string[]): AlertRule[] {
  const records = new Map<string, string>();
  const alerts: AlertRule[] = [];
  for (const file of expandRulePaths(paths)) {
    const doc = loadYamlFile(file);
    const fail = (key: string, message: string) => new ConfigError(file, { key, message });
    const groups = (doc as { groups?: unknown } | null)?.groups;
    if (!Array.isArray(groups)) throw fail('groups', 'expected a list of rule groups');
    groups.forEach((g: { name?: unknown; rules?: unknown }, gi) => {
      if (!Array.isArray(g.rules)) throw fail(`groups[${gi}].rules`, 'expected a list');
      g.rules.forEach((r: RawRule, ri) => {
        const at = `groups[${gi}].rules[${ri}]`;
        if (typeof r.expr !== 'string' || r.expr.trim() === '')
          throw fail(`${at}.expr`, 'expected a PromQL expression');
        if (typeof r.record === 'string') {
          records.set(r.record, r.expr.trim());
          return;
        }
        if (typeof r.alert !== 'string') throw fail(at, 'expected "alert" or "record"');
        const dur = (key: 'for' | 'keep_firing_for'): number => {
          const v = r[key];
          if (v === undefined) return 0;
          const problem = durationProblem(v);
          if (problem !== undefined) throw fail(`${at}.${key}`, problem);
          return typeof v === 'string' ? parseDuration(v)! : 0;
        };
        const labels: Record<string, string> = {};
        for (const [k, v] of Object.entries((r.labels as Record<string, unknown> | undefined) ?? {}))
          labels[k] = String(v);
        alerts.push({
          name: r.alert,
          expr: r.expr.trim(),
          source: r.expr.trim(),
          forMs: dur('for'),
          keepFiringForMs: dur('keep_firing_for'),
          labels,
          file,
          group: String(g.name ?? gi),
        });
      });
    });
  }
  for (const a of alerts) a.expr = inlineRecords(a.expr, records);
  return alerts;
}

/**
 * Replaces a recorded series used without label matchers (`name`, not `name{...}`) by its expression.
 * With matchers the recorded name stays, so the query needs the recorded series in the TSDB.
 */
export function inlineRecords(expr: string, records: Map<string, string>, depth = 0): string {
  if (records.size === 0 || depth > 5) return expr;
  let out = expr;
  for (const [name, body] of records) {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`(?<![\\w:])${escaped}(?![\\w:{\\[])`, 'g');
    out = out.replace(re, () => `(${inlineRecords(body, records, depth + 1)})`);
  }
  return out;
}
