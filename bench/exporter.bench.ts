// Scrape cost of the TillWatch exporter side by side with Debian's prometheus-node-exporter, both on
// loopback, on this machine, in one run: latency (median, p99) and CPU per scrape over N scrapes
// each (interleaved, so background load hits both alike), and RSS idle and after the scrapes.
// CPU comes from /proc/<pid>/stat utime+stime deltas; RSS from /proc/<pid>/status VmRSS.
// Prints a markdown report; docs/benchmarks.md records a run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  cpuSecondsOf as cpuSeconds,
  freePort,
  memoryOf,
  REPO_ROOT as root,
  unitEnvironment,
  unitNodeFlags,
} from '@tillwatch/testkit';

const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 400);
const exporterDir = join(root, 'exporter');
// The node flags the shipped package runs the exporter with, so the bench measures what ships.
// BENCH_NODE_FLAGS overrides them for experiments.
const NODE_FLAGS = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? unitNodeFlags();
// Likewise the environment the launcher exports (glibc's malloc tunables); BENCH_UNIT_ENV=0 leaves it out.
const NODE_ENV = process.env.BENCH_UNIT_ENV === '0' ? {} : unitEnvironment();

function scrape(port: number): Promise<{ ms: number; bytes: number; status: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // A fresh connection per scrape, no gzip: what Prometheus costs at worst, the same for both.
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () =>
        resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes, status: res.statusCode ?? 0 }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const rssMiB = (pid: number) => memoryOf(pid).rss / 2 ** 20;

async function waitUp(port: number, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      if ((await scrape(port)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not come up on port ${port}`);
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

interface Target {
  name: string;
  port: number;
  child: ChildProcess;
  latencies: number[];
  bytes: number;
  cpu0: number;
  rssIdle: number;
}

async function main(): Promise<void> {
  if (!existsSync(join(exporterDir, 'dist', 'cli.js')) || process.env.BENCH_BUILD !== '0') {
    const b = spawnSync('npm', ['run', 'build', '-w', 'exporter'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!existsSync(join(exporterDir, 'dist', 'cli.js')))
      throw new Error(`exporter build failed (${b.status})`);
  }
  const tw = await freePort();
  const ne = await freePort();
  const targets: Target[] = [];
  const start = (
    name: string,
    port: number,
    cmd: string,
    args: string[],
    env: Record<string, string> = {},
  ) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, ...env },
    });
    targets.push({ name, port, child, latencies: [], bytes: 0, cpu0: 0, rssIdle: 0 });
  };
  start(
    'tillwatch-exporter',
    tw,
    process.execPath,
    [
      ...NODE_FLAGS,
      join(exporterDir, 'dist', 'cli.js'),
      '--config',
      join(exporterDir, 'examples', 'minimal.yml'),
      `--web.listen-address=127.0.0.1:${tw}`,
    ],
    NODE_ENV,
  );
  start('prometheus-node-exporter', ne, 'prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${ne}`]);
  try {
    for (const t of targets) await waitUp(t.port, t.child, t.name);
    // Idle: let start-up work and the first polls settle, as on a till between scrapes.
    await new Promise((r) => setTimeout(r, 5000));
    for (const t of targets) {
      t.rssIdle = rssMiB(t.child.pid as number);
      t.cpu0 = cpuSeconds(t.child.pid as number);
    }
    for (let i = 0; i < SCRAPES; i++) {
      for (const t of targets) {
        const r = await scrape(t.port);
        if (r.status !== 200) throw new Error(`${t.name}: HTTP ${r.status}`);
        t.latencies.push(r.ms);
        t.bytes = r.bytes;
      }
    }
    const rows = targets.map((t) => {
      const sorted = [...t.latencies].sort((a, b) => a - b);
      return {
        name: t.name,
        median: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        cpuMs: ((cpuSeconds(t.child.pid as number) - t.cpu0) / SCRAPES) * 1000,
        rssIdle: t.rssIdle,
        rssAfter: rssMiB(t.child.pid as number),
        bytes: t.bytes,
      };
    });
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const f = (n: number, d = 2) => n.toFixed(d);
    console.log(
      `Exporter scrape cost: ${SCRAPES} scrapes each, interleaved, fresh connection per scrape, no gzip;`,
    );
    console.log(
      `node ${process.version}, tillwatch-exporter with \`${Object.entries(NODE_ENV)
        .map(([k, v]) => `${k}=${v} `)
        .join('')}node ${NODE_FLAGS.join(' ')}\` and examples/minimal.yml.\n`,
    );
    console.log(
      '| exporter | median ms | p99 ms | CPU ms/scrape | RSS idle MiB | RSS after MiB | body bytes |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      console.log(
        `| ${r.name} | ${f(r.median)} | ${f(r.p99)} | ${f(r.cpuMs, 3)} | ${f(r.rssIdle, 1)} | ${f(r.rssAfter, 1)} | ${r.bytes} |`,
      );
    }
    const checks = [
      ['median latency <= half of node_exporter', a.median <= b.median / 2],
      ['CPU per scrape <= node_exporter', a.cpuMs <= b.cpuMs],
      ['RSS idle < 60 MiB', a.rssIdle < 60],
      ['RSS after < 70 MiB', a.rssAfter < 70],
    ] as const;
    console.log('\n| target | met |\n| --- | --- |');
    for (const [what, ok] of checks) console.log(`| ${what} | ${ok ? 'yes' : '**no**'} |`);
  } finally {
    for (const t of targets) t.child.kill('SIGTERM');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
