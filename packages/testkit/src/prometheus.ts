// The real Prometheus (Debian's 2.42) and the query API that Prometheus, vmalert and VictoriaMetrics share.
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
