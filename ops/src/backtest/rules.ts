// Loads alerting rules for the backtest. Recording rules in the same files are inlined into alert
// expressions, because a backfilled or older history has no recorded series for them.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { parseDuration } from './duration.js';

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

export class RuleFileError extends Error {}

/** Rule files from paths; a directory means every *.yml / *.yaml directly in it. */
export function expandRulePaths(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new RuleFileError(`${p}: no such file or directory`);
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
    let doc: unknown;
    try {
      doc = yaml.load(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new RuleFileError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    const groups = (doc as { groups?: unknown } | null)?.groups;
    if (!Array.isArray(groups)) throw new RuleFileError(`${file}: groups: expected a list of rule groups`);
    groups.forEach((g: { name?: unknown; rules?: unknown }, gi) => {
      if (!Array.isArray(g.rules)) throw new RuleFileError(`${file}: groups[${gi}].rules: expected a list`);
      g.rules.forEach((r: RawRule, ri) => {
        const at = `${file}: groups[${gi}].rules[${ri}]`;
        if (typeof r.expr !== 'string' || r.expr.trim() === '')
          throw new RuleFileError(`${at}.expr: expected a PromQL expression`);
        if (typeof r.record === 'string') {
          records.set(r.record, r.expr.trim());
          return;
        }
        if (typeof r.alert !== 'string') throw new RuleFileError(`${at}: expected "alert" or "record"`);
        const dur = (key: 'for' | 'keep_firing_for'): number => {
          const v = r[key];
          if (v === undefined) return 0;
          const ms = parseDuration(String(v));
          if (ms === undefined) throw new RuleFileError(`${at}.${key}: "${String(v)}" is not a duration`);
          return ms;
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
