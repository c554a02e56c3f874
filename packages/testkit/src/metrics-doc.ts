// Reads the metric contract (docs/metrics.md): every table row whose first cell is a back-quoted
// metric name is an entry. Shared by the contract tests of the exporter, rules and dashboards.
import { readFileSync } from 'node:fs';
import { repoPath } from './repo.js';

export const METRICS_DOC = repoPath('docs', 'metrics.md');

export interface MetricDocEntry {
  name: string;
  type: string;
  labels: string[];
  section: string;
}

export function readMetricContract(path = METRICS_DOC): Map<string, MetricDocEntry> {
  const entries = new Map<string, MetricDocEntry>();
  let section = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const heading = /^##+\s+(.*)$/.exec(line);
    if (heading?.[1]) section = heading[1].trim();
    const row =
      /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(gauge|counter|histogram|summary|info|stateset)\s*\|([^|]*)\|/.exec(
        line,
      );
    if (!row?.[1] || !row[2]) continue;
    const labels = [...(row[3] ?? '').matchAll(/`([a-zA-Z_][a-zA-Z0-9_]*)`/g)].map((m) => m[1] as string);
    if (entries.has(row[1])) throw new Error(`${path}: metric ${row[1]} is listed twice`);
    entries.set(row[1], { name: row[1], type: row[2], labels, section });
  }
  return entries;
}
