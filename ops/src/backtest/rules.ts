// Loads alerting rules for the backtest. Recording rules in the same files are inlined into alert
// expressions, because a backfilled or older history has no recorded series for them.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { ConfigError, durationProblem, formatDuration, loadYamlFile, parseDuration } from '@tillwatch/config';

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
  /** The group's `interval`, when it sets one (otherwise the engine's global evaluation interval). */
  intervalMs?: number;
  /**
   * The recording rules of the files it was loaded with, so the backtest can inline only those the history
   * lacks (see backtest), and the interval at which groups without their own are rebuilt.
   */
  records?: Map<string, RecordRule>;
  defaultIntervalMs?: number;
}

/** A recording rule: its expression and the interval its group evaluates it at. */
export interface RecordRule {
  expr: string;
  intervalMs?: number;
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

export interface LoadRulesOptions {
  /**
   * The evaluation interval of groups without their own `interval` (Prometheus' global
   * `evaluation_interval`): the resolution at which a recorded series read over a range is rebuilt.
   */
  defaultIntervalMs?: number;
}

export function loadRules(paths: string[], o: LoadRulesOptions = {}): AlertRule[] {
  const records = new Map<string, RecordRule>();
  const alerts: AlertRule[] = [];
  for (const file of expandRulePaths(paths)) {
    const doc = loadYamlFile(file);
    const fail = (key: string, message: string) => new ConfigError(file, { key, message });
    const groups = (doc as { groups?: unknown } | null)?.groups;
    if (!Array.isArray(groups)) throw fail('groups', 'expected a list of rule groups');
    groups.forEach((g: { name?: unknown; rules?: unknown; interval?: unknown }, gi) => {
      if (!Array.isArray(g.rules)) throw fail(`groups[${gi}].rules`, 'expected a list');
      let intervalMs: number | undefined;
      if (g.interval !== undefined) {
        const problem = durationProblem(g.interval);
        if (problem !== undefined) throw fail(`groups[${gi}].interval`, problem);
        intervalMs = parseDuration(String(g.interval));
      }
      g.rules.forEach((r: RawRule, ri) => {
        const at = `groups[${gi}].rules[${ri}]`;
        if (typeof r.expr !== 'string' || r.expr.trim() === '')
          throw fail(`${at}.expr`, 'expected a PromQL expression');
        if (typeof r.record === 'string') {
          records.set(r.record, { expr: r.expr.trim(), ...(intervalMs ? { intervalMs } : {}) });
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
          ...(intervalMs ? { intervalMs } : {}),
        });
      });
    });
  }
  for (const a of alerts) {
    a.expr = inlineRecords(a.expr, records, o.defaultIntervalMs);
    a.records = records;
    if (o.defaultIntervalMs !== undefined) a.defaultIntervalMs = o.defaultIntervalMs;
  }
  return alerts;
}

/** The recording rules an expression reads by name (with or without label matchers). */
export function recordsRead(expr: string, records: Map<string, unknown>): string[] {
  const out = new Set<string>();
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.name !== 'VectorSelector') continue;
    const ident = cursor.node.getChild('Identifier');
    const name = ident ? expr.slice(ident.from, ident.to) : '';
    if (records.has(name)) {
      out.add(name);
      const body = records.get(name);
      const inner = typeof body === 'string' ? body : (body as RecordRule | undefined)?.expr;
      if (inner && inner !== expr) for (const n of recordsRead(inner, records)) out.add(n);
    }
  } while (cursor.next());
  return [...out];
}

/**
 * Replaces recorded series by their expressions, found with the PromQL grammar Prometheus' own UI uses
 * (@prometheus-io/lezer-promql), so label names, strings and function names are never mistaken for them:
 * `name` becomes `(expr)`, and `name[6d]` becomes the subquery `(expr)[6d:interval]`, which rebuilds the
 * recorded series at the interval its group records it. A recorded series with label matchers
 * (`name{a="b"}`) stays, so the query needs the recorded series in the TSDB.
 */
export function inlineRecords(
  expr: string,
  records: Map<string, RecordRule | string>,
  defaultIntervalMs = 60_000,
  depth = 0,
): string {
  if (records.size === 0 || depth > 5) return expr;
  const edits: Array<{ from: number; to: number; text: string }> = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    if (node.getChild('LabelMatchers')) continue;
    const ident = node.getChild('Identifier');
    if (!ident) continue;
    const rec = records.get(expr.slice(ident.from, ident.to));
    if (rec === undefined) continue;
    const { expr: body, intervalMs } = typeof rec === 'string' ? { expr: rec, intervalMs: undefined } : rec;
    const inner = `(${inlineRecords(body, records, defaultIntervalMs, depth + 1)})`;
    const parent = node.parent;
    if (parent?.name === 'MatrixSelector') {
      const range = parent.getChild('DurationExpr');
      if (!range) continue;
      const step = formatDuration(intervalMs ?? defaultIntervalMs);
      edits.push({
        from: parent.from,
        to: parent.to,
        text: `${inner}[${expr.slice(range.from, range.to)}:${step}]`,
      });
    } else edits.push({ from: node.from, to: node.to, text: inner });
  } while (cursor.next());
  let out = expr;
  for (const e of edits.sort((a, b) => b.from - a.from))
    out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return out;
}
