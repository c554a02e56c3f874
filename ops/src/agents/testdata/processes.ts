// Test and bench helpers that run the real Debian binaries of the distributed path on loopback:
// victoria-metrics, vmagent, vmalert, Prometheus (agent mode) and prometheus-alertmanager.
// Kept under testdata/ so the ops build leaves it out.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { freePort, waitFor } from '../../testing/prometheus.js';

export { freePort, waitFor };

export interface Service {
  name: string;
  url: string;
  port: number;
  pid: number | undefined;
  log(): string;
  /** SIGTERM and wait; SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash, no graceful shutdown. */
  kill(): Promise<void>;
}

/**
 * Spawns `cmd args` and resolves once GET `url + readyPath` answers 2xx. The caller picks the port
 * (these binaries cannot report a port the OS chose for :0).
 */
export async function startService(
  name: string,
  cmd: string,
  args: string[],
  port: number,
  readyPath: string,
  timeoutMs = 30_000,
  spawnOpts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Service> {
  const url = `http://127.0.0.1:${port}`;
  const out: string[] = [];
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
  const keep = (b: Buffer) => {
    out.push(b.toString());
    if (out.length > 400) out.splice(0, 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let dead = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      dead = true;
      resolve();
    }),
  );
  const halt = async (signal: NodeJS.Signals) => {
    if (dead) return;
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  try {
    await waitFor(
      async () => {
        if (dead) throw new Error(`${name} exited: ${out.join('').slice(-2000)}`);
        const r = await fetch(`${url}${readyPath}`);
        return r.ok ? true : undefined;
      },
      `${name} to be ready`,
      timeoutMs,
    );
  } catch (err) {
    await halt('SIGKILL');
    throw err;
  }
  return {
    name,
    url,
    port,
    pid: child.pid,
    log: () => out.join(''),
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
  };
}

/** Single-node VictoriaMetrics on the given data dir (restartable on the same port and dir). */
export function startVictoriaMetrics(dataDir: string, port: number, extra: string[] = []): Promise<Service> {
  return startService(
    'victoria-metrics',
    'victoria-metrics',
    [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      '-loggerLevel=WARN',
      // Tests read right after writing: no 30 s visibility delay, no stale cached answers.
      '-search.latencyOffset=0s',
      '-search.disableCache',
      ...extra,
    ],
    port,
    '/health',
  );
}

/** Raw samples of the series matching `match`, from VictoriaMetrics' /api/v1/export (JSON lines). */
export async function exportSeries(
  vmUrl: string,
  match: string,
): Promise<Array<{ metric: Record<string, string>; values: number[]; timestamps: number[] }>> {
  const r = await fetch(`${vmUrl}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
  if (!r.ok) throw new Error(`export ${match}: ${r.status} ${await r.text()}`);
  return (await r.text())
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { metric: Record<string, string>; values: number[]; timestamps: number[] });
}

/** Instant query against a Prometheus-compatible API; returns the result vector. */
export async function instantQuery(
  url: string,
  expr: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  const body = (await r.json()) as {
    status: string;
    error?: string;
    data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? r.status}`);
  return body.data?.result ?? [];
}

/** One metric value from a Prometheus text exposition (e.g. vmagent's own /metrics), summed over series. */
export async function scrapeValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * A shipped flags file of the repository (one flag a line, e.g. deploy/central/vmalert.flags), without the
 * flags named in `drop` (production paths and addresses the caller replaces).
 */
export function shippedFlags(repoPath: string, drop: string[] = []): string[] {
  return readFileSync(fileURLToPath(new URL(`../../../../${repoPath}`, import.meta.url)), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('-'))
    .filter((l) => !drop.includes(l.slice(1).split('=')[0]!));
}
