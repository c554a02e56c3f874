// Writes synthetic history as OpenMetrics, backfills it with `promtool tsdb create-blocks-from openmetrics`
// and runs Prometheus on the result. Used by the backtest and forecast tests and the prediction-quality bench.
import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startPrometheus, type RunningPrometheus } from './prometheus.js';

const run = promisify(execFile);

export interface Series {
  name: string;
  labels: Record<string, string>;
  /** [time ms, value] in ascending time. */
  samples: Iterable<[number, number]>;
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** OpenMetrics text; metric families must be contiguous, so series are grouped by name. */
export async function writeOpenMetrics(path: string, series: Series[]): Promise<void> {
  const out = createWriteStream(path);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
  const byName = new Map<string, Series[]>();
  for (const s of series) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  for (const [name, list] of byName) {
    await write(`# TYPE ${name} gauge\n`);
    for (const s of list) {
      const l = labelText(s.labels);
      let buf = '';
      for (const [t, v] of s.samples) {
        buf += `${name}${l} ${v} ${t / 1000}\n`;
        if (buf.length > 1 << 16) {
          await write(buf);
          buf = '';
        }
      }
      await write(buf);
    }
  }
  await write('# EOF\n');
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

export type HistoryPrometheus = RunningPrometheus;

export interface HistoryOptions {
  /** Sparse synthetic samples need a longer lookback than the default 5 minutes. */
  lookbackDelta?: string;
  /** promtool's block size; longer blocks mean fewer files for weeks of history. */
  maxBlockDuration?: string;
  /**
   * Prometheus' --storage.tsdb.retention.time (default 100y: keep everything). Blocks older than it are
   * deleted at start, as a production Prometheus with that retention would have done.
   */
  retention?: string;
}

/** Backfills the series into a fresh TSDB and starts Prometheus on it (loopback, port from the OS). */
export async function startHistoryPrometheus(
  series: Series[],
  o: HistoryOptions = {},
): Promise<HistoryPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-history-'));
  try {
    const om = join(dir, 'history.om');
    await writeOpenMetrics(om, series);
    const data = join(dir, 'data');
    await run(
      'promtool',
      [
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        `--max-block-duration=${o.maxBlockDuration ?? '2h'}`,
        om,
        data,
      ],
      { maxBuffer: 64 << 20 },
    );
    rmSync(om);
    // The TSDB is `dir`/data, where startPrometheus looks by default.
    return await startPrometheus('global:\n  scrape_interval: 1m\n', {
      dir,
      flags: [
        `--storage.tsdb.retention.time=${o.retention ?? '100y'}`,
        `--query.lookback-delta=${o.lookbackDelta ?? '5m'}`,
      ],
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
