// Every TillWatch dashboard, generated from code so queries and links stay consistent; the
// JSON in dashboards/ is the generated output (`npm run generate -w @tillwatch/dashboards`).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Json } from './builder.js';
import { nocDashboard } from './noc.js';
import { storeDashboard } from './store.js';
import { tillDashboard } from './till.js';
import { fiscalDashboard } from './fiscal.js';
import { integrationsDashboard } from './integrations.js';
import { alertsDashboard } from './alerts.js';
import { exportersDashboard } from './exporters.js';
import { forecastDashboard } from './forecast.js';
import { planningDashboard } from './planning.js';
import { versionsDashboard } from './versions.js';
import { serviceDashboard } from './service.js';

/** File name → dashboard. The uids are stable: links and bookmarks depend on them. */
export function allDashboards(): Record<string, Json> {
  return {
    'noc.json': nocDashboard(),
    'store.json': storeDashboard(),
    'till.json': tillDashboard(),
    'fiscal.json': fiscalDashboard(),
    'integrations.json': integrationsDashboard(),
    'alerts.json': alertsDashboard(),
    'exporters.json': exportersDashboard(),
    'forecast.json': forecastDashboard(),
    'planning.json': planningDashboard(),
    'versions.json': versionsDashboard(),
    'service.json': serviceDashboard(),
  };
}

export type { Json } from './builder.js';

export function renderDashboard(d: Json): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

type Format = (text: string, path: string) => Promise<string>;

/**
 * The repository checks formatting with prettier, so the generated files are written the way prettier
 * would write them when it is installed (always in this repository; optional for the published CLI).
 */
async function prettierFormat(): Promise<Format> {
  try {
    const prettier = await import('prettier');
    return async (text, path) => {
      const options = (await prettier.resolveConfig(path)) ?? {};
      return prettier.format(text, { ...options, filepath: path });
    };
  } catch {
    return async (text) => text;
  }
}

export async function writeDashboards(dir: string, format?: Format): Promise<string[]> {
  const fmt = format ?? (await prettierFormat());
  mkdirSync(dir, { recursive: true });
  const out: string[] = [];
  for (const [name, d] of Object.entries(allDashboards())) {
    const path = join(dir, name);
    // Grafana's file provider polls the folder: it must never read half a dashboard.
    writeFileAtomic.sync(path, await fmt(renderDashboard(d), path), { mode: 0o644 });
    out.push(name);
  }
  return out;
}
