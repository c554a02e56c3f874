// Writes synthetic history as OpenMetrics, backfills it with `promtool tsdb create-blocks-from openmetrics`
// and runs Prometheus on the result. Used by the backtest tests and the prediction-quality bench.
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

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

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

export interface HistoryPrometheus {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export interface HistoryOptions {
  /** Sparse synthetic samples need a longer lookback than the default 5 minutes. */
  lookbackDelta?: string;
  /** promtool's block size; longer blocks mean fewer files for weeks of history. */
  maxBlockDuration?: string;
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
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, 'global:\n  scrape_interval: 1m\n');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const log: string[] = [];
    const child: ChildProcess = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        '--storage.tsdb.retention.time=100y',
        `--query.lookback-delta=${o.lookbackDelta ?? '5m'}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (b: Buffer) => log.push(b.toString()));
    let dead = false;
    const exited = new Promise<void>((resolve) => child.once('exit', () => ((dead = true), resolve())));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (dead) throw new Error(`prometheus exited: ${log.join('')}`);
      const ok = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`prometheus not ready after 60 s: ${log.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      url,
      dir,
      async stop() {
        if (!dead) {
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
