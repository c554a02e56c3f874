// `npm run bench -- scale` (long: about 8 minutes per fleet size). The central store at fleet scale:
// single-node VictoriaMetrics receiving N tills' series every 10 s, vmalert evaluating the full
// rules/*.yml (the fast groups every 10 s, the trend groups on their own `interval: 1m`) and writing back,
// and the NOC wall's queries (dashboards/noc.json) against it.
//
// The tills are synthetic: each is the measured exposition of one till (packages/testkit/src/
// till-full.prom, 153 series + `up`) with its own chain/region/store/till labels, pushed to
// /api/v1/import/prometheus as store agents' remote writes would arrive, 1 % of the tills out of paper so
// alerts fire and ALERTS/till:health:state carry real series. The fleet simulator (simulator/src/fleet)
// runs real collectors per till, which on this 2-core machine would measure the simulator, not the
// centre. Sizes: BENCH_TILLS=2000,10000,20000 (default); each measured over BENCH_CYCLES=13 cycles of
// 10 s (two or more evaluations of every trend group) after BENCH_WARMUP_CYCLES=30 (a full 5-minute lookback).
// BENCH_REGISTRARS=1 measures the typical till with one registrar. Each cycle's push is paced over its first
// 8 s, as many store agents arrive; BENCH_PUSH=burst sends it all at once (the worst case).
// BENCH_INGEST=0 pushes the fleet once and then not during the cycles: rule evaluation and the wall
// without ingestion competing for the same cores (a diagnosis, not the production case).
// Prints a markdown report; docs/benchmarks.md ("Scaling") records a run, docs/scaling.md derives from it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  parseExposition,
  scrapeValue,
  shippedFlags,
  startService,
  startVictoriaMetrics,
  tillCapture,
  type Service,
} from '@tillwatch/testkit';
import { groupIntervals } from '../rules/lib/rule-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const SIZES = (process.env.BENCH_TILLS ?? '2000,10000,20000').split(',').map(Number);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 13);
// Cycles pushed before measuring: an instant query reads every sample of its 5-minute lookback, so the
// store is at steady state only once 5 minutes of data are in (30 cycles of 10 s).
const WARMUP = Number(process.env.BENCH_WARMUP_CYCLES ?? 30);
const INTERVAL_MS = 10_000;
const INGEST = process.env.BENCH_INGEST !== '0';
const PACED = process.env.BENCH_PUSH !== 'burst';
const SPREAD_MS = INTERVAL_MS * 0.8;
const TILLS_PER_STORE = 5;
const STORES_PER_REGION = 50;
const CLK_TCK = 100;

// BENCH_REGISTRARS=1: the capture without its second registrar ("fiscal_atol", 27 series), as most tills
// have one (docs/scaling.md, "Series budget"); the default keeps both, the full configuration's upper bound.
const ONE_REGISTRAR = process.env.BENCH_REGISTRARS === '1';
const exposition = tillCapture()
  .filter((s) => s.name.startsWith('till_'))
  .filter((s) => !(ONE_REGISTRAR && s.labels.device === 'fiscal_atol'));

// The captured till ran in a container without scanners, pos processes or NTP: made healthy here so the
// fleet fires only the injected paper-out alerts (a real fleet has a few percent of tills in trouble).
const HEALTHY = new Set([
  'till_clock_sync_success',
  'till_collector_success',
  'till_device_present',
  'till_device_up',
  'till_fiscal_ofd_connected',
  'till_probe_success',
  'till_process_up',
]);
// Every Unix time in the capture moved by the capture's age, so dates keep their distance to "now" (a shift
// opened an hour ago stays an hour old; an FN valid for 300 days stays so) and no date alert fires on all
// tills because the capture grew old. The capture time is its newest collector success.
const CAPTURED_AT_S = Math.max(
  ...exposition
    .filter((s) => s.name === 'till_collector_last_success_timestamp_seconds')
    .map((s) => Number(s.value)),
);
const AGE_S = Math.floor(Date.now() / 1000 - CAPTURED_AT_S);
const isUnixTime = (name: string) => name.endsWith('_timestamp_seconds') || name === 'till_boot_time_seconds';

function tillBody(i: number, paperOut: boolean): string {
  const store = Math.floor(i / TILLS_PER_STORE);
  const region = Math.floor(store / STORES_PER_REGION);
  const chain = region % 2 === 0 ? 'alpha' : 'beta';
  const place = `chain="${chain}",region="r${region}",store="s${store}",till="s${store}-t${i % TILLS_PER_STORE}",job="tillwatch-exporter"`;
  let out = `up{${place},instance="10.${(store >> 8) & 255}.${store & 255}.${i % TILLS_PER_STORE}:9835"} 1\n`;
  for (const s of exposition) {
    const value =
      s.name === 'till_fiscal_paper_present' && paperOut
        ? '0'
        : HEALTHY.has(s.name)
          ? '1'
          : isUnixTime(s.name)
            ? String(Number(s.value) + AGE_S)
            : s.value;
    out += `${s.name}{${place}${s.labelText ? `,${s.labelText}` : ''}} ${value}\n`;
  }
  return out;
}

function procStat(pid: number | undefined): { cpuS: number; rssMiB: number } {
  if (pid === undefined) return { cpuS: 0, rssMiB: 0 };
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS, rssMiB: Number(rss?.[1] ?? 0) / 1024 };
}

function wallQueries(): string[] {
  const d = JSON.parse(readFileSync(join(root, 'dashboards/noc.json'), 'utf8')) as {
    panels: Array<{ panels?: unknown[]; targets?: Array<{ expr?: string }> }>;
  };
  const out: string[] = [];
  const walk = (ps: unknown[] | undefined) => {
    for (const p of (ps ?? []) as Array<{ panels?: unknown[]; targets?: Array<{ expr?: string }> }>) {
      walk(p.panels);
      for (const t of p.targets ?? [])
        if (t.expr) out.push(t.expr.replace(/\$(chain|region|store|till)/g, '.*'));
    }
  };
  walk(d.panels);
  return out;
}

function groupTimes(metrics: string): Map<string, { sum: number; count: number }> {
  const groups = new Map<string, { sum: number; count: number }>();
  for (const s of parseExposition(metrics, 'vmalert /metrics')) {
    const part = /^vmalert_iteration_duration_seconds_(sum|count)$/.exec(s.name)?.[1] as 'sum' | 'count';
    const group = s.labels.group;
    if (!part || group === undefined) continue;
    const g = groups.get(group) ?? { sum: 0, count: 0 };
    g[part] += Number(s.value);
    groups.set(group, g);
  }
  return groups;
}

const intervals = groupIntervals();

/** Runs `work`, then waits out the rest of the 10 s cycle it started in. */
async function cycle(work: () => Promise<void>): Promise<void> {
  const start = performance.now();
  await work();
  const wait = INTERVAL_MS - (performance.now() - start);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, performance.now() - t];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

interface Result {
  tills: number;
  series: number;
  samplesPerS: number;
  pushMs: number;
  requestMs: number;
  evalFastMaxMs: number;
  evalTrendMaxMs: number;
  evalPer10sMs: number;
  wallMs: number;
  wallSlowest: string;
  wallErrors: number;
  vmRssMiB: number;
  vmCpuPct: number;
  vmalertRssMiB: number;
  vmalertCpuPct: number;
  diskMiB: number;
  firing: number;
}

async function runSize(tills: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-scale-'));
  const services: Service[] = [];
  try {
    const vm = await startVictoriaMetrics(join(dir, 'vm'), await freePort(), [
      // Production settings (deploy/central/victoria-metrics.flags), not the tests' read-after-write ones:
      // the rollup cache on and the default 30 s latency offset.
      ...shippedFlags('deploy/central/victoria-metrics.flags', [
        'storageDataPath',
        'httpListenAddr',
        'retentionPeriod',
      ]),
      '-search.disableCache=false',
      '-search.latencyOffset=30s',
    ]);
    services.push(vm);
    const bodies: string[] = [];
    const CHUNK = 100;
    for (let i = 0; i < tills; i += CHUNK) {
      let b = '';
      for (let j = i; j < Math.min(tills, i + CHUNK); j++) b += tillBody(j, j % 100 === 7);
      bodies.push(b);
    }
    // Paced (the default): the cycle's 100-till requests spread evenly over its first 8 s, as 2,000 store
    // agents that each scrape at their own offset (Prometheus and vmagent spread targets over the interval)
    // and flush every second arrive at the centre. BENCH_PUSH=burst sends them all at once, 4 at a time.
    let requestMs: number[] = [];
    const push = async () => {
      const t0 = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < bodies.length) {
          const k = next++;
          const due = PACED ? t0 + (k * SPREAD_MS) / bodies.length - performance.now() : 0;
          if (due > 0) await new Promise((r) => setTimeout(r, due));
          const [r, ms] = await timed(() =>
            fetch(`${vm.url}/api/v1/import/prometheus`, { method: 'POST', body: bodies[k]! }),
          );
          if (!r.ok) throw new Error(`import: ${r.status} ${await r.text()}`);
          requestMs.push(ms);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    };
    await push();
    const vmalertPort = await freePort();
    const rules = [
      'fiscal',
      'fleet',
      'integrations',
      'network',
      'peripherals',
      'recording',
      'software',
      'system',
    ].map((f) => `-rule=${join(root, 'rules', `${f}.yml`)}`);
    const vmalert = await startService(
      'vmalert',
      'vmalert',
      [
        ...rules,
        `-datasource.url=${vm.url}`,
        `-remoteWrite.url=${vm.url}`,
        // No Alertmanager here: notifications go to a port nobody listens on and are dropped.
        `-notifier.url=http://127.0.0.1:${await freePort()}`,
        // The shipped flags (evaluation interval, remote-write batching) minus addresses and files.
        ...shippedFlags('deploy/central/vmalert.flags', [
          'rule',
          'datasource.url',
          'remoteWrite.url',
          'remoteRead.url',
          'notifier.url',
          'external.label',
          'external.url',
          'httpListenAddr',
        ]),
        `-httpListenAddr=127.0.0.1:${vmalertPort}`,
        '-loggerLevel=ERROR',
      ],
      vmalertPort,
      { readyPath: '/health' },
    );
    services.push(vmalert);

    for (let c = 0; c < WARMUP; c++) await cycle(push);
    const groups0 = groupTimes(await (await fetch(`${vmalert.url}/metrics`)).text());
    const rows0 = await scrapeValue(`${vm.url}/metrics`, 'vm_rows_inserted_total');
    const vm0 = procStat(vm.pid);
    const va0 = procStat(vmalert.pid);
    const t0 = performance.now();
    const pushMs: number[] = [];
    requestMs = [];
    // The wall: every NOC panel query at once, as Grafana refreshes it, during the last 5 measured cycles
    // at the start of each (with the push and the rules, as in production); the median of the 5 refreshes.
    const queries = wallQueries();
    const refreshes: number[] = [];
    let wallErrors = 0;
    let slowest = { q: '', ms: 0 };
    const refreshWall = async () => {
      const [times, total] = await timed(() =>
        Promise.all(
          queries.map(async (q) => {
            const [r, ms] = await timed(() =>
              fetch(`${vm.url}/api/v1/query`, {
                method: 'POST',
                headers: { 'content-type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({ query: q }),
              }),
            );
            // An overloaded VictoriaMetrics answers 503 (its query queue timed out): count it, keep going.
            await r.arrayBuffer();
            if (!r.ok) wallErrors++;
            return { q, ms };
          }),
        ),
      );
      refreshes.push(total);
      for (const t of times) if (t.ms > slowest.ms) slowest = t;
    };
    for (let c = 0; c < CYCLES; c++)
      await cycle(async () => {
        const wall = c >= CYCLES - 5 ? refreshWall() : Promise.resolve();
        if (INGEST) pushMs.push((await timed(push))[1]);
        await wall;
      });
    const elapsedS = (performance.now() - t0) / 1000;
    const rows1 = await scrapeValue(`${vm.url}/metrics`, 'vm_rows_inserted_total');
    const vm1 = procStat(vm.pid);
    const va1 = procStat(vmalert.pid);

    // vmalert's own per-group timing of the measured cycles (a summary: the difference of _sum and _count
    // between the two snapshots is the mean per evaluation). Groups run concurrently: a fast group's mean is
    // what a cycle waits for; each group's cost per 10 s is its mean times the evaluations per 10 s.
    const groups1 = groupTimes(await (await fetch(`${vmalert.url}/metrics`)).text());
    const perGroup = [...groups1].map(([g, v]) => {
      const w = groups0.get(g) ?? { sum: 0, count: 0 };
      return {
        g,
        meanMs: ((v.sum - w.sum) / Math.max(1, v.count - w.count)) * 1000,
        everyMs: intervals.get(g) ?? INTERVAL_MS,
        runs: v.count - w.count,
      };
    });
    process.stderr.write(
      `  groups (mean ms, evaluations): ${perGroup.map((p) => `${p.g}=${p.meanMs.toFixed(0)}/${p.runs}`).join(' ')}\n`,
    );
    if (perGroup.length === 0) throw new Error(`no vmalert_iteration_duration_seconds in vmalert metrics`);
    const fast = perGroup.filter((p) => p.everyMs <= INTERVAL_MS);
    const slow = perGroup.filter((p) => p.everyMs > INTERVAL_MS);

    const firing = JSON.parse(
      await (
        await fetch(
          `${vm.url}/api/v1/query?${new URLSearchParams({ query: 'count(ALERTS{alertstate="firing"})' })}`,
        )
      ).text(),
    ) as { data: { result: Array<{ value: [number, string] }> } };
    // VictoriaMetrics' own ranking of the queries it answered (vmalert's and the wall's): where the time goes.
    const top = JSON.parse(
      await (await fetch(`${vm.url}/api/v1/status/top_queries?topN=8&maxLifetime=10m`)).text(),
    ) as { topBySumDuration?: Array<{ query: string; sumDurationSeconds: number; count: number }> };
    for (const q of top.topBySumDuration ?? [])
      process.stderr.write(
        `  top query: ${q.sumDurationSeconds.toFixed(2)} s in ${q.count} runs: ${q.query.replace(/\s+/g, ' ').slice(0, 140)}\n`,
      );
    const series = JSON.parse(await (await fetch(`${vm.url}/api/v1/series/count`)).text()) as {
      data: number[];
    };
    // Flush so the on-disk size is what the data costs, not what waits in memory.
    await fetch(`${vm.url}/internal/force_flush`);
    const diskMiB = Number(execFileSync('du', ['-sm', join(dir, 'vm')], { encoding: 'utf8' }).split('\t')[0]);
    return {
      tills,
      series: series.data[0] ?? NaN,
      samplesPerS: (rows1 - rows0) / elapsedS,
      pushMs: median(pushMs),
      requestMs: median(requestMs),
      evalFastMaxMs: Math.max(...fast.map((p) => p.meanMs)),
      evalTrendMaxMs: Math.max(0, ...slow.map((p) => p.meanMs)),
      evalPer10sMs: perGroup.reduce((a, p) => a + (p.meanMs * INTERVAL_MS) / p.everyMs, 0),
      wallMs: median(refreshes),
      wallErrors,
      wallSlowest: `${slowest.q.slice(0, 60)} (${slowest.ms.toFixed(0)} ms)`,
      vmRssMiB: vm1.rssMiB,
      vmCpuPct: ((vm1.cpuS - vm0.cpuS) / elapsedS) * 100,
      vmalertRssMiB: va1.rssMiB,
      vmalertCpuPct: ((va1.cpuS - va0.cpuS) / elapsedS) * 100,
      diskMiB,
      firing: Number(firing.data.result[0]?.value[1] ?? 0),
    };
  } finally {
    for (const s of services.reverse()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const header = () => {
  console.log(
    `Central store at fleet scale: Debian victoria-metrics/vmalert 1.79.5, ${CYCLES} cycles of 10 s per size after ${WARMUP} of warm-up${PACED ? ', pushes paced over 8 s of each cycle' : ', pushes in a burst at the start of each cycle (BENCH_PUSH=burst)'}${ONE_REGISTRAR ? ', one registrar per till (BENCH_REGISTRARS=1)' : ''}${INGEST ? '' : ' with no ingestion during them (BENCH_INGEST=0)'}, full rules/*.yml, ${execFileSync(
      'nproc',
      { encoding: 'utf8' },
    ).trim()} cores, load average at the start ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.\n`,
  );
  console.log(
    `| tills | series | ingested samples/s | push of one cycle (ms) | import request, 100 tills (ms) | slowest 10 s group (ms) | slowest 1 m group (ms) | rule time per 10 s, all groups (ms) | wall refresh, ${wallQueries().length} queries (ms) | wall queries failed | slowest wall query | VM RSS (MiB) | VM CPU (% of a core) | vmalert RSS (MiB) | vmalert CPU (%) | disk after run (MiB) | firing alerts |`,
  );
  console.log(
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
};
header();
for (const n of SIZES) {
  process.stderr.write(`scale: ${n} tills...\n`);
  const r = await runSize(n);
  // One row per size as soon as it is measured: a later, larger size may overload the machine.
  console.log(
    `| ${r.tills} | ${r.series} | ${r.samplesPerS.toFixed(0)} | ${r.pushMs.toFixed(0)} | ${r.requestMs.toFixed(0)} | ${r.evalFastMaxMs.toFixed(0)} | ${r.evalTrendMaxMs.toFixed(0)} | ${r.evalPer10sMs.toFixed(0)} | ${r.wallMs.toFixed(0)} | ${r.wallErrors} | ${r.wallSlowest.replace(/\|/g, '\\|')} | ${r.vmRssMiB.toFixed(0)} | ${r.vmCpuPct.toFixed(0)} | ${r.vmalertRssMiB.toFixed(0)} | ${r.vmalertCpuPct.toFixed(0)} | ${r.diskMiB} | ${r.firing} |`,
  );
}
