// Single-node VictoriaMetrics (Debian's `victoria-metrics`) on 127.0.0.1.
import { LOOPBACK } from './ports.js';
import { startService, type Service } from './process.js';

/** VictoriaMetrics on the given data dir and port (restartable on the same port and dir). */
export function startVictoriaMetrics(dataDir: string, port: number, extra: string[] = []): Promise<Service> {
  return startService(
    'victoria-metrics',
    'victoria-metrics',
    [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=${LOOPBACK}:${port}`,
      '-retentionPeriod=100y',
      '-loggerLevel=WARN',
      // Tests read right after writing: no 30 s visibility delay, no stale cached answers.
      '-search.latencyOffset=0s',
      '-search.disableCache',
      ...extra,
    ],
    port,
    { readyPath: '/health' },
  );
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/** Raw samples of the series matching `match`, from VictoriaMetrics' /api/v1/export (JSON lines). */
export async function exportSeries(vmUrl: string, match: string): Promise<ExportedSeries[]> {
  const r = await fetch(`${vmUrl}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
  if (!r.ok) throw new Error(`export ${match}: ${r.status} ${await r.text()}`);
  return (await r.text())
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExportedSeries);
}
