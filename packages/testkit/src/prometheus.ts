// The real Prometheus (the first `prometheus` on PATH: Debian 12's 2.42, or 3.x in CI's Prometheus-3 leg) and
// the query API that Prometheus, vmalert and VictoriaMetrics share.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOOPBACK, freePort } from './ports.js';
import { startService, type Service } from './process.js';

export interface QueryResponse {
  status: string;
  error?: string;
  errorType?: string;
  data?: { result: unknown[] };
}

export interface RunningPrometheus {
  url: string;
  /** Holds prometheus.yml and, unless dataDir was given, the TSDB; removed by stop(). */
  dir: string;
  service: Service;
  /** The raw answer of an instant query, errors included (tests check that some queries fail). */
  query(expr: string): Promise<QueryResponse>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** Working directory (a fresh temporary one by default). */
  dir?: string;
  /** TSDB directory; default `dir`/data. */
  dataDir?: string;
  /** Extra command-line flags. */
  flags?: string[];
  timeoutMs?: number;
}

let major: number | undefined;

/** The major version of the `prometheus` on PATH (2 or 3), from `prometheus --version`. */
export function prometheusMajor(): number {
  if (major === undefined) {
    const out = execFileSync('prometheus', ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const m = /version (\d+)\./.exec(out);
    if (!m) throw new Error(`prometheus --version printed no version: ${out.slice(0, 200)}`);
    major = Number(m[1]);
  }
  return major;
}

/**
 * The flag that runs the `prometheus` on PATH in agent mode: `--agent` on 3.x, which dropped the feature flag;
 * `--enable-feature=agent` on 2.x (2.32 to 2.x), which has no `--agent`.
 */
export function prometheusAgentFlag(): string {
  return prometheusMajor() >= 3 ? '--agent' : '--enable-feature=agent';
}

/** Starts Prometheus on 127.0.0.1 with the given config text; resolves once /-/ready answers. */
export async function startPrometheus(config: string, o: PrometheusOptions = {}): Promise<RunningPrometheus> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'tillwatch-prom-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const port = await freePort();
  const service = await startService(
    'prometheus',
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${o.dataDir ?? join(dir, 'data')}`,
      `--web.listen-address=${LOOPBACK}:${port}`,
      '--log.level=warn',
      ...(o.flags ?? []),
    ],
    port,
    { readyPath: '/-/ready', timeoutMs: o.timeoutMs ?? 60_000 },
  );
  return {
    url: service.url,
    dir,
    service,
    query: (expr) => queryApi(service.url, expr),
    async stop() {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function queryApi(url: string, expr: string): Promise<QueryResponse> {
  const r = await fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  return (await r.json()) as QueryResponse;
}

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Instant query against a Prometheus-compatible API; the result vector, or an error naming the query. */
export async function instantQuery(url: string, expr: string): Promise<VectorSample[]> {
  const body = await queryApi(url, expr);
  if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? body.status}`);
  return (body.data?.result ?? []) as VectorSample[];
}
