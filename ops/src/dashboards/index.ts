// Every TillWatch dashboard, generated from code so queries and links stay consistent; the
// JSON in dashboards/ is the generated output (`tillwatch dashboards generate --out dashboards`).
import { join } from 'node:path';
import type { Json } from './builder.js';
import { writeFileAtomic } from '../write-atomic.js';
import { nocDashboard } from './noc.js';
import { storeDashboard } from './store.js';
import { tillDashboard } from './till.js';
import { fiscalDashboard } from './fiscal.js';
import { integrationsDashboard } from './integrations.js';
import { alertsDashboard } from './alerts.js';
import { exportersDashboard } from './exporters.js';

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
  };
}

export function renderDashboard(d: Json): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

export function writeDashboards(dir: string): string[] {
  const out: string[] = [];
  for (const [name, d] of Object.entries(allDashboards())) {
    writeFileAtomic(join(dir, name), renderDashboard(d));
    out.push(name);
  }
  return out;
}
