// Which alerts of the shipped rules fire on what an exporter really exposed: the exposition becomes a
// promtool unit test whose series hold their values, and promtool (Prometheus 2.42) evaluates every rule
// file. promtool only reports alerts that differ from the expected ones, so each alert name is tested
// against "none" and the alerts promtool says it got instead are read back from its report.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { parseExposition } from './exposition.js';
import { repoPath } from './repo.js';

const run = promisify(execFile);

/** The target labels of one till as Prometheus scrapes it through the inventory's file_sd (the default). */
export const TILL_TARGET = {
  instance: 't1:9835',
  job: 'tillwatch-exporter',
  chain: 'c1',
  region: 'r1',
  store: 's1',
  till: 't1',
};

/** One exporter run: its first round of collection, then stopped (every call a fresh process, state-wise). */
export async function firstMetrics(exporter: {
  start(): Promise<void>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}): Promise<string> {
  await exporter.start();
  try {
    return await exporter.metrics();
  } finally {
    await exporter.stop();
  }
}

export interface FiringAlert {
  alertname: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PromtoolAlertsOptions {
  /** The /metrics text, held constant for the whole evaluation. */
  exposition: string;
  /** Alert names to evaluate. */
  alertnames: string[];
  /** Target labels Prometheus would add (default TILL_TARGET). */
  targetLabels?: Record<string, string>;
  /**
   * The wall clock (Unix seconds) the exposition was captured at: `*_timestamp_seconds` values are moved
   * onto promtool's clock, which starts at 0, keeping their distance from "now".
   */
  capturedAt?: number;
  /** Minutes the series hold before the alerts are read (long enough for every `for`); default 90. */
  minutes?: number;
  /** Rule files (default: every rules/*.yml). */
  ruleFiles?: string[];
}

const ALERT_HEAD = /alertname: (\S+), time: /;
const LABELS = /^\s*(Labels|Annotations):\{(.*)\}\s*$/;
const PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, k, v] of text.matchAll(PAIR)) out[k!] = v!.replace(/\\(.)/g, '$1');
  return out;
}

/** The alerts among `alertnames` that fire at the end of the window. */
export async function promtoolAlerts(o: PromtoolAlertsOptions): Promise<FiringAlert[]> {
  const minutes = o.minutes ?? 90;
  const evalSeconds = minutes * 60;
  const files =
    o.ruleFiles ??
    readdirSync(repoPath('rules'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => repoPath('rules', f));
  const series = parseExposition(o.exposition).map((s) => {
    let value = Number(s.value);
    if (o.capturedAt !== undefined && s.name.endsWith('_timestamp_seconds'))
      value = value - o.capturedAt + evalSeconds;
    const labels = { ...s.labels, ...(o.targetLabels ?? TILL_TARGET) };
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    return { series: `${s.name}{${text}}`, values: `${value}x${minutes}` };
  });
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-promtool-'));
  try {
    const file = join(dir, 'captured.test.yml');
    writeFileSync(
      file,
      stringify({
        rule_files: files,
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: series,
            alert_rule_test: o.alertnames.map((alertname) => ({
              eval_time: `${minutes}m`,
              alertname,
              exp_alerts: [],
            })),
          },
        ],
      }),
    );
    let out = '';
    try {
      await run('promtool', ['test', 'rules', file], { maxBuffer: 16 << 20 });
      return [];
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      out = `${err.stdout ?? ''}${err.stderr ?? ''}`;
    }
    if (!out.includes('got:[')) throw new Error(`promtool failed:\n${out}`);
    const firing: FiringAlert[] = [];
    let current = '';
    for (const line of out.split('\n')) {
      const head = ALERT_HEAD.exec(line);
      if (head) current = head[1]!;
      const m = LABELS.exec(line);
      if (!m) continue;
      if (m[1] === 'Labels') firing.push({ alertname: current, labels: pairs(m[2]!), annotations: {} });
      else if (firing.length > 0) firing[firing.length - 1]!.annotations = pairs(m[2]!);
    }
    return firing;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
