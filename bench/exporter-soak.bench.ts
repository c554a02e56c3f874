// The exporter soak of issue 23 (`npm run bench -- exporter-soak`): the built exporter with the node
// flags of the shipped unit and basic auth (bcrypt cost 10) under, for SOAK_SECONDS (default 600):
// 80 keep-alive connections guessing passwords as fast as they are answered (another process), one
// 200 MB line without a newline in the log it tails (default 15 s poll), and a Prometheus-like scraper
// with the right password every second on a keep-alive connection. All on 127.0.0.1.
// A second, untouched exporter (same config, no flood, no long line) is scraped right after each
// scrape of the attacked one: on a shared machine, latency the load causes shows in both.
// Targets: peak RSS under the unit's MemoryMax; scrapes under 50 ms. Prints a markdown report;
// docs/benchmarks.md records a run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPO_ROOT,
  runSoak,
  seriesValue,
  type SoakResult,
  unitEnvironment,
  unitMemoryMaxBytes,
  unitNodeFlags,
} from '@tillwatch/testkit';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const LINE_MB = Number(process.env.SOAK_LINE_MB ?? 200);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 80);
const cli = join(REPO_ROOT, 'exporter', 'dist', 'cli.js');

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

async function main(): Promise<void> {
  if (!existsSync(cli) || process.env.BENCH_BUILD !== '0') {
    spawnSync('npm', ['run', 'build', '-w', 'exporter'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!existsSync(cli)) throw new Error('exporter build failed');
  }
  const flags = unitNodeFlags();
  const r = await runSoak({
    entry: [cli],
    nodeFlags: flags,
    env: unitEnvironment(),
    minDurationMs: SECONDS * 1000,
    maxDurationMs: SECONDS * 1000,
    attackConnections: CONNECTIONS,
    longLineBytes: LINE_MB * 1_000_000,
    logInterval: '15s',
    scrapeIntervalMs: 1000,
    baseline: true,
    progress: (line) => console.error(line),
  });
  // Every scrape with its time, for looking into the slow ones.
  mkdirSync(join(REPO_ROOT, '.tmp', 'bench'), { recursive: true });
  const raw = join(REPO_ROOT, '.tmp', 'bench', 'exporter-soak.json');
  writeFileSync(raw, JSON.stringify({ scrapes: r.scrapes, baseline: r.baselineScrapes, rss: r.rssSamples }));
  const cap = unitMemoryMaxBytes();
  const sorted = (list: SoakResult['scrapes']) => list.map((x) => x.ms).sort((a, b) => a - b);
  const ms = sorted(r.scrapes);
  const failed = r.scrapes.filter((x) => x.status !== 200).length;
  const rss = [...r.rssSamples].sort((a, b) => a - b);
  const m = (series: string) => seriesValue(r.metrics, series) ?? 0;
  const checks = m('till_exporter_http_auth_failures_total{reason="wrong_credentials"}');
  const limited = m('till_exporter_http_auth_failures_total{reason="rate_limited"}');
  const sec = r.durationMs / 1000;
  const readAt = r.longLineReadAtMs ?? Infinity;

  console.log(
    `Exporter soak: ${sec.toFixed(0)} s, node ${process.version} with \`${flags.join(' ')}\`, basic auth at bcrypt cost 10;`,
  );
  console.log(
    `${CONNECTIONS} connections guessing passwords, a ${LINE_MB} MB line without a newline in the tailed log (15 s poll), one scrape per second with the right password.\n`,
  );
  console.log('| scrapes of | n | failed | median ms | p99 ms | max ms |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  const row = (what: string, list: SoakResult['scrapes']) => {
    const l = sorted(list);
    console.log(
      `| ${what} | ${l.length} | ${list.filter((x) => x.status !== 200).length} | ${quantile(l, 0.5).toFixed(2)} | ${quantile(l, 0.99).toFixed(2)} | ${(l.at(-1) ?? NaN).toFixed(2)} |`,
    );
  };
  row('the attacked exporter', r.scrapes);
  row(
    '... while it read the long line',
    r.scrapes.filter((x) => x.atMs < readAt),
  );
  row(
    '... after',
    r.scrapes.filter((x) => x.atMs >= readAt),
  );
  row('the untouched exporter (control)', r.baselineScrapes);
  console.log('\n| RSS median MiB | RSS peak MiB | MemoryMax MiB | CPU % of a core |');
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| ${mib(quantile(rss, 0.5))} | ${mib(r.peakRss)} | ${mib(cap)} | ${((r.cpuSeconds / sec) * 100).toFixed(1)} |`,
  );
  console.log(
    `\nGuesses: ${r.attack.requests} answered (${(r.attack.requests / sec).toFixed(0)}/s), by status ${JSON.stringify(r.attack.byStatus)}, ${r.attack.errors} connection errors;`,
  );
  console.log(
    `Every scrape: ${raw}. ${checks} bcrypt checks (${(checks / sec).toFixed(2)}/s), ${limited} refused without one. Long line read through after ${r.longLineReadAtMs === null ? 'never' : `${(r.longLineReadAtMs / 1000).toFixed(0)} s`}, ${m('till_log_lines_truncated_total{log="pos"}')} line truncated.`,
  );
  const checksTable = [
    ['peak RSS < MemoryMax', r.peakRss < cap],
    ['every scrape answered 200', failed === 0],
    ['scrape p99 < 50 ms', quantile(ms, 0.99) < 50],
    ['scrape max < 50 ms', (ms.at(-1) ?? Infinity) < 50],
    ['no guess let in', Object.keys(r.attack.byStatus).every((s) => s === '401')],
    ['long line read through', r.longLineReadAtMs !== null],
  ] as const;
  console.log('\n| target | met |\n| --- | --- |');
  for (const [what, ok] of checksTable) console.log(`| ${what} | ${ok ? 'yes' : '**no**'} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
