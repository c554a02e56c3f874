// The exporter soak, shared by the short test (exporter/src/soak.test.ts) and the 10-minute bench
// (bench/exporter-soak.bench.ts): the real CLI in its own process with the node flags the shipped
// package runs it with, basic auth at bcrypt cost 10, a log file it tails; then, at once, a password-guessing
// flood from another process, one line of hundreds of megabytes without a newline in that log, and a
// Prometheus-like scraper with the right password on a keep-alive connection. All on 127.0.0.1.
// Also home of the /proc readers and unit-file parsers both exporter benches use.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, writeFile } from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashSync } from '@node-rs/bcrypt';
import { seriesValue } from './exposition.js';
import { closedPort } from './ports.js';
import { REPO_DIR as REPO_ROOT } from './repo.js';

export { REPO_ROOT };
const UNIT = join(REPO_ROOT, 'deploy', 'systemd', 'tillwatch-exporter.service');
/** What the unit's ExecStart runs: /usr/bin/tillwatch-exporter of the .deb. */
const LAUNCHER = join(REPO_ROOT, 'deploy', 'debian', 'tillwatch-exporter');
const CLK_TCK = 100;

/**
 * The node flags the shipped service runs the exporter with (the package's launcher, which the unit's
 * ExecStart runs), read from it, so what is measured is what ships.
 */
export function unitNodeFlags(): string[] {
  const m = /^exec \S*node((?:\s+--\S+)*)\s/m.exec(readFileSync(LAUNCHER, 'utf8'));
  if (!m) throw new Error(`cannot find the node flags in ${LAUNCHER}`);
  return (m[1] ?? '').trim().split(/\s+/).filter(Boolean);
}

/**
 * The environment the shipped launcher exports (`export NAME="value..."` lines, without what it appends
 * from the caller's own environment), so the soak and the benches run the exporter as it ships.
 */
export function unitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(LAUNCHER, 'utf8').matchAll(/^export (\w+)="([^"$]*)/gm))
    env[m[1] as string] = m[2] as string;
  return env;
}

/** The unit's MemoryMax in bytes: past it systemd kills the exporter. */
export function unitMemoryMaxBytes(): number {
  const m = /^MemoryMax=(\d+)([KMG]?)$/m.exec(readFileSync(UNIT, 'utf8'));
  if (!m) throw new Error(`cannot find MemoryMax in ${UNIT}`);
  return Number(m[1]) * 1024 ** ' KMG'.indexOf(m[2] || ' ');
}

/** Resident and peak resident memory of a process (VmRSS, VmHWM), in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** CPU time (user + system) a process has used, in seconds. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
}

export interface SoakOptions {
  /** How to start the exporter: node arguments before `--config` (e.g. ['dist/cli.js'] or tsx + src). */
  entry: string[];
  nodeFlags: string[];
  /** Environment added to the exporter's (e.g. unitEnvironment()). */
  env?: Record<string, string>;
  /** Flood and scrape for at least this long... */
  minDurationMs: number;
  /** ...and at most this long, waiting past the minimum only for the long line to be read through. */
  maxDurationMs: number;
  attackConnections: number;
  /** Size of the line without a newline written into the tailed log. */
  longLineBytes: number;
  /** The log collector's interval (the shipped default is 15 s). */
  logInterval: string;
  scrapeIntervalMs: number;
  /** Also run an untouched exporter and scrape it right after the target (the bench's control). */
  baseline?: boolean;
  /** Called with progress lines (the bench prints them). */
  progress?: (line: string) => void;
}

export interface SoakResult {
  scrapes: Array<{ atMs: number; ms: number; status: number }>;
  /** The untouched exporter's scrapes, each right after one of the target's (empty without `baseline`). */
  baselineScrapes: Array<{ atMs: number; ms: number; status: number }>;
  attack: { requests: number; byStatus: Record<string, number>; errors: number };
  /** VmRSS every second, and the peak (VmHWM) over the whole run including start-up. */
  rssSamples: number[];
  peakRss: number;
  cpuSeconds: number;
  /** When the exporter had read through the long line (its next line counted), from the start. */
  longLineReadAtMs: number | null;
  durationMs: number;
  /** The last /metrics text. */
  metrics: string;
}

const PASSWORD = 'the-right-one';

function scrape(agent: Agent, port: number): Promise<{ ms: number; status: number; body: string }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const auth = Buffer.from(`prometheus:${PASSWORD}`).toString('base64');
    const req = request(
      { host: '127.0.0.1', port, path: '/metrics', agent, headers: { Authorization: `Basic ${auth}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0, body }),
        );
      },
    );
    req.on('error', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: 0, body: '' }));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  port: number;
  child: ChildProcess;
  pid: number;
  dir: string;
  log: string;
  stderr: () => string;
}

/** Starts one exporter with basic auth and a tailed log in a fresh directory; resolves once it serves. */
async function startExporter(o: SoakOptions, agent: Agent): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-soak-'));
  const log = join(dir, 'pos.log');
  const port = await closedPort();
  await writeFile(log, '');
  await writeFile(
    join(dir, 'exporter.yml'),
    [
      'identity: {chain: soak, region: "77", store: "0001", till: "01"}',
      `collectors: {log: {interval: ${o.logInterval}, timeout: ${o.logInterval}}}`,
      'logs:',
      '  - {name: pos, path: pos.log, patterns: {error: "\\\\bERROR\\\\b"}}',
      '',
    ].join('\n'),
  );
  // Cost 10, as exporter-toolkit's documentation generates it (htpasswd -nBC 10).
  await writeFile(join(dir, 'web.yml'), `basic_auth_users:\n  prometheus: '${hashSync(PASSWORD, 10)}'\n`);
  let stderr = '';
  const child = spawn(
    process.execPath,
    [
      ...o.nodeFlags,
      ...o.entry,
      '--config',
      join(dir, 'exporter.yml'),
      `--web.config.file=${join(dir, 'web.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...o.env } },
  );
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const running = { port, child, pid: child.pid as number, dir, log, stderr: () => stderr };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    if ((await scrape(agent, port)).status === 200) return running;
    await sleep(100);
  }
  stopExporter(running);
  throw new Error(`the exporter did not come up on 127.0.0.1:${port}: ${stderr}`);
}

function stopExporter(r: Running): void {
  r.child.kill('SIGTERM');
  rmSync(r.dir, { recursive: true, force: true });
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const baselineAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const started: Running[] = [];
  let flood: ChildProcess | undefined;
  try {
    const target = await startExporter(o, agent);
    started.push(target);
    // The same exporter with nothing done to it, scraped right after the target: whatever the
    // machine's load does to latency shows in both, what the attack does only in the target.
    const baseline = o.baseline ? await startExporter(o, baselineAgent) : null;
    if (baseline) started.push(baseline);
    const { port, pid, log } = target;

    const t0 = Date.now();
    const result: SoakResult = {
      scrapes: [],
      baselineScrapes: [],
      attack: { requests: 0, byStatus: {}, errors: 0 },
      rssSamples: [],
      peakRss: 0,
      cpuSeconds: 0,
      longLineReadAtMs: null,
      durationMs: 0,
      metrics: '',
    };
    const cpu0 = cpuSecondsOf(pid);
    flood = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./password-flood.ts', import.meta.url)),
        `http://127.0.0.1:${port}/metrics`,
        String(o.attackConnections),
        'prometheus',
        String(Math.ceil(o.maxDurationMs / 1000) + 5),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT },
    );
    let floodOut = '';
    flood.stdout?.on('data', (b: Buffer) => (floodOut += b.toString()));
    const floodDone = new Promise<void>((r) => flood?.once('exit', () => r()));

    // The runaway line: "ERROR ..." then megabytes without a newline, then one more line whose count
    // proves the tailer got through it all.
    const writer = (async () => {
      await appendFile(log, 'ERROR a runaway writer starts ');
      const piece = Buffer.alloc(1024 * 1024, 'x');
      for (let left = o.longLineBytes; left > 0; left -= piece.length)
        await appendFile(log, left >= piece.length ? piece : piece.subarray(0, left));
      await appendFile(log, '\nERROR the line after it\n');
    })();

    let lastProgress = 0;
    while (true) {
      const elapsed = Date.now() - t0;
      if (elapsed >= o.maxDurationMs) break;
      if (elapsed >= o.minDurationMs && result.longLineReadAtMs !== null) break;
      const s = await scrape(agent, port);
      result.scrapes.push({ atMs: elapsed, ms: s.ms, status: s.status });
      if (baseline) {
        const b = await scrape(baselineAgent, baseline.port);
        result.baselineScrapes.push({ atMs: elapsed, ms: b.ms, status: b.status });
      }
      if (s.status === 200) {
        result.metrics = s.body;
        if (
          result.longLineReadAtMs === null &&
          seriesValue(s.body, 'till_log_matches_total{log="pos",pattern="error"}') === 2
        )
          result.longLineReadAtMs = elapsed;
      }
      if (target.child.exitCode !== null)
        throw new Error(`the exporter exited with ${target.child.exitCode}: ${target.stderr()}`);
      const rss = memoryOf(pid).rss;
      result.rssSamples.push(rss);
      if (o.progress && elapsed - lastProgress >= 30_000) {
        lastProgress = elapsed;
        o.progress(
          `${Math.round(elapsed / 1000)} s: RSS ${(rss / 2 ** 20).toFixed(1)} MiB, last scrape ${s.ms.toFixed(1)} ms (${s.status}), long line ${result.longLineReadAtMs === null ? 'being read' : 'read through'}`,
        );
      }
      await sleep(Math.max(0, o.scrapeIntervalMs - s.ms));
    }
    result.durationMs = Date.now() - t0;
    result.cpuSeconds = cpuSecondsOf(pid) - cpu0;
    result.peakRss = memoryOf(pid).peak;
    flood.kill('SIGTERM');
    await floodDone;
    await writer;
    if (floodOut.trim()) result.attack = JSON.parse(floodOut) as SoakResult['attack'];
    return result;
  } finally {
    agent.destroy();
    baselineAgent.destroy();
    if (flood && flood.exitCode === null) flood.kill('SIGTERM');
    for (const r of started) stopExporter(r);
  }
}
