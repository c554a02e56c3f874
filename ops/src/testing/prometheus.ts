// Test helpers that run the real Prometheus binary (Debian's 2.42) and loopback /metrics servers.
// Shared by the ops tests and test/dashboards.test.ts; not part of the built package.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A port the OS just handed out. Prometheus cannot report the port it bound for :0, so ask first. */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

export interface MetricsServer {
  address: string;
  close(): Promise<void>;
}

/** Serves a fixed exposition text on /metrics at 127.0.0.1 (port from the OS). */
export async function startMetricsServer(body: () => string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return {
    address: `127.0.0.1:${addr.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface RunningPrometheus {
  url: string;
  dir: string;
  query(
    expr: string,
  ): Promise<{ status: string; error?: string; errorType?: string; data?: { result: unknown[] } }>;
  stop(): Promise<void>;
}

/** Starts Prometheus with the given config text; resolves once /-/ready answers. */
export async function startPrometheus(
  config: string,
  dir = mkdtempSync(join(tmpdir(), 'tillwatch-prom-')),
): Promise<RunningPrometheus> {
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log: string[] = [];
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (b: Buffer) => log.push(b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  try {
    await waitFor(async () => {
      if (dead) throw new Error(`prometheus exited: ${log.join('')}`);
      const r = await fetch(`${url}/-/ready`);
      return r.ok ? true : undefined;
    }, 'prometheus to be ready');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    dir,
    async query(expr) {
      const r = await fetch(`${url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }),
      });
      return (await r.json()) as Awaited<ReturnType<RunningPrometheus['query']>>;
    },
    async stop() {
      if (!dead) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
