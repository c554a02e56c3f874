// Prometheus file_sd targets from the inventory. One target group per till: file_sd labels
// apply to a whole group, and the till label differs per target, so a group per store could
// not carry it (https://prometheus.io/docs/guides/file-sd/).
import type { Inventory } from '@tillwatch/inventory';
import { iterateTills } from '@tillwatch/inventory';
import { writeFileAtomic } from './write-atomic.js';
import { join } from 'node:path';

export interface FileSdGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The default file name, the one deploy/prometheus configs point at. */
export const TARGETS_FILE = 'tills.json';

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => compare(a, b)));
}

/**
 * Target groups sorted by chain, region, store, till, with sorted label keys, so the same
 * inventory always gives byte-identical output (a clean diff, no needless reload).
 */
export function toFileSd(inv: Inventory): FileSdGroup[] {
  const groups: Array<{ key: string[]; group: FileSdGroup }> = [];
  for (const { till, labels } of iterateTills(inv)) {
    const all: Record<string, string> = { ...labels };
    if (till.metricsPath !== undefined) all.__metrics_path__ = till.metricsPath;
    groups.push({
      key: [labels.chain ?? '', labels.region ?? '', labels.store ?? '', labels.till ?? ''],
      group: { targets: [till.address], labels: sortedLabels(all) },
    });
  }
  groups.sort((x, y) => {
    for (let i = 0; i < x.key.length; i++) {
      const c = compare(x.key[i] ?? '', y.key[i] ?? '');
      if (c !== 0) return c;
    }
    return 0;
  });
  return groups.map((g) => g.group);
}

export function renderFileSd(inv: Inventory): string {
  return `${JSON.stringify(toFileSd(inv), null, 2)}\n`;
}

/** Writes `<dir>/tills.json` atomically; returns the path and the number of targets. */
export function writeFileSd(
  inv: Inventory,
  dir: string,
  name = TARGETS_FILE,
): { path: string; targets: number } {
  const groups = toFileSd(inv);
  const path = join(dir, name);
  writeFileAtomic(path, `${JSON.stringify(groups, null, 2)}\n`);
  return { path, targets: groups.length };
}
