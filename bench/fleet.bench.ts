// Fleet simulator cost: RSS, CPU and start time at 125 tills (5 s collector interval) and 1,000 tills
// (30 s: one Node.js thread cannot poll 1,000 tills' devices every 5 s), every till with its own
// emulators and exporter, plus one scrape of every till and how many of them report a device down.
// Sizes: FLEET_BENCH_SIZES=125:5s,1000:30s (default); steady-state window: FLEET_BENCH_SECONDS=30.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDemoInventory, renderInventory } from '@tillwatch/inventory';

const root = join(import.meta.dirname, '..');
const sizes = (process.env.FLEET_BENCH_SIZES ?? '125:5s,1000:30s').split(',').map((x) => {
  const [n, interval] = x.split(':');
  return { n: Number(n), interval: interval ?? '5s' };
});
const windowS = Number(process.env.FLEET_BENCH_SECONDS ?? 30);
const CLK_TCK = 100;

function cpuSeconds(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** Scrapes every till once, one after another (as Prometheus' per-target loops do): median and max. */
async function scrapeAll(
  addresses: string[],
): Promise<{ median: number; max: number; failed: number; unhealthy: number }> {
  const times: number[] = [];
  let failed = 0;
  let unhealthy = 0;
  for (const a of addresses) {
    const t0 = performance.now();
    const res = await fetch(`http://${a}/metrics`).catch(() => null);
    if (!res || res.status !== 200) failed += 1;
    // A till whose devices or collectors report 0 while no fault is injected means the process is overloaded.
    else if (/^till_(device_up|collector_success)\{[^}]*\} 0$/m.test(await res.text())) unhealthy += 1;
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return {
    median: times[Math.floor(times.length / 2)] ?? 0,
    max: times[times.length - 1] ?? 0,
    failed,
    unhealthy,
  };
}

async function run(tills: number, interval: string) {
  // 2..3 tills per store cycle, so stores = tills / 2.5.
  const inv = generateDemoInventory({ stores: Math.round(tills / 2.5), basePort: 31000 });
  const dir = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, renderInventory(inv));
  const addresses = inv.chains.flatMap((c) =>
    c.regions.flatMap((r) => r.stores.flatMap((s) => s.tills.map((t) => t.address))),
  );
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'simulator/src/cli.ts'),
      'fleet',
      '--inventory',
      file,
      '--control-listen',
      '127.0.0.1:0',
    ],
    {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'simulator/tsconfig.json') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const pid = child.pid as number;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('fleet ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`fleet exited with ${code} before ready`)));
  });
  const startS = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5000)); // let start-up work settle
  const c0 = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, windowS * 1000));
  const cpu = (cpuSeconds(pid) - c0) / windowS;
  const rss = rssMiB(pid);
  const scrape = await scrapeAll(addresses);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { tills: addresses.length, interval, startS, cpu, rss, scrape };
}

console.log(
  '| tills | collector interval | start to ready | RSS | RSS per till | CPU (cores, steady) | scrape latency, median / max | tills reporting a device or collector down |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const { n, interval } of sizes) {
  const r = await run(n, interval);
  console.log(
    `| ${r.tills} | ${r.interval} | ${r.startS.toFixed(1)} s | ${r.rss.toFixed(0)} MiB | ${((r.rss * 1024) / r.tills).toFixed(0)} KiB | ${r.cpu.toFixed(2)} | ${r.scrape.median.toFixed(1)} / ${r.scrape.max.toFixed(0)} ms${r.scrape.failed ? `, ${r.scrape.failed} failed` : ''} | ${r.scrape.unhealthy} |`,
  );
}
console.log(
  `\nCPU averaged over ${windowS} s after start-up; machine: ${process.env.HOSTNAME ?? 'this host'}, node ${process.version}.`,
);
