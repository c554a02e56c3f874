// Alert bridge webhook throughput and latency on SQLite and PostgreSQL.
// Eight concurrent senders (Alertmanager sends one request per group, several groups at once)
// post notifications of 10 alerts each for 5 s: 70 % new problems, 30 % repeats of earlier ones.
// Prints a markdown report; target on this machine: >= 1,000 alerts/s sustained, p99 < 50 ms.
//
// The senders run in a child process (this same file with BRIDGE_BENCH_TARGET set), as Alertmanager
// would: with them in the bridge's process, the client's request building and response parsing
// competed for the same event loop and the bench measured both. The CPU column is the bridge's alone.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { firing, webhookClient } from './lib/webhook-client.js';
import { KnowledgeBase, createApp, parseConfig } from '@tillwatch/alert-bridge';
import { PG_URL, dropSchema, uniqueSchemaName } from '@tillwatch/testkit';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 8;
const PER_REQUEST = 10;

function alertFor(store: number, till: number) {
  return firing(
    {
      alertname: 'TillPaperOut',
      incident_class: 'fiscal.paper_out',
      severity: 'warning',
      team: 'hardware',
      chain: 'bench',
      region: `r${store % 27}`,
      store: `s${store}`,
      till: `t${till}`,
      device: 'kkt',
    },
    {
      summary: 'Receipt paper out',
      description: `till t${till} of store s${store} has no paper`,
    },
    `${store.toString(16)}-${till}`,
  );
}

interface ClientReport {
  latencies: number[];
  alerts: number;
  errors: number;
  elapsed: number;
}

/** The load generator: 8 keep-alive connections (Alertmanager reuses its connections too). */
async function client(url: string): Promise<ClientReport> {
  const { post, close } = webhookClient(url, 'bench', CONCURRENCY);
  const latencies: number[] = [];
  let alerts = 0;
  let errors = 0;
  let next = 0;
  const end = Date.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const n = next++;
        // 30 % of requests repeat an earlier group (repeat_interval / HA copy).
        const store = n % 10 < 3 && n > 10 ? Math.floor(n / 2) : n;
        const body = JSON.stringify({
          version: '4',
          groupKey: `g${store}`,
          status: 'firing',
          receiver: 'bridge',
          groupLabels: {},
          commonLabels: {},
          commonAnnotations: {},
          externalURL: 'http://am',
          alerts: Array.from({ length: PER_REQUEST }, (_, i) => alertFor(store, i)),
        });
        const t0 = performance.now();
        const status = await post(body).catch(() => 0);
        latencies.push(performance.now() - t0);
        if (status >= 200 && status < 300) alerts += PER_REQUEST;
        else errors++;
      }
    }),
  );
  close();
  return { latencies, alerts, errors, elapsed: (performance.now() - started) / 1000 };
}

function drive(url: string): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, BRIDGE_BENCH_TARGET: url },
    });
    child.once('message', (m) => resolve(m as ClientReport));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

async function run(engine: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'tw-bench-'));
  const schema = uniqueSchemaName('tw_bench');
  const storage =
    engine === 'sqlite'
      ? { driver: 'sqlite', path: join(dir, 'bench.db'), synchronous: 'full' }
      : { driver: 'postgres', url: PG_URL, schema, pool_size: 10 };
  const config = parseConfig({ storage, webhook: { bearer_token: 'bench' }, log_level: 'silent' });
  const bridge = await createApp(config, { logger: pino({ level: 'silent' }), kb: KnowledgeBase.empty() });
  const url = `${await bridge.start('127.0.0.1:0')}/webhook/alertmanager`;
  const cpu0 = process.cpuUsage();
  const { latencies, alerts, errors, elapsed } = await drive(url);
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPer1000 = ((cpu.user + cpu.system) / 1000 / Math.max(alerts, 1)) * 1000;
  await bridge.stop();
  rmSync(dir, { recursive: true, force: true });
  if (engine === 'postgres') await dropSchema(schema);
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    engine,
    rate: alerts / elapsed,
    requests: latencies.length,
    errors,
    p50: q(0.5),
    p99: q(0.99),
    max: latencies[latencies.length - 1]!,
    cpuMsPer1000,
  };
}

async function main() {
  const load = loadavg()[0]!.toFixed(1);
  const rows = [];
  // BENCH_ENGINES=sqlite (or postgres) runs one engine, e.g. under --cpu-prof.
  const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
  for (const e of engines) rows.push(await run(e));
  console.log(
    `Webhook: ${CONCURRENCY} concurrent senders, ${PER_REQUEST} alerts per notification, ${SECONDS} s per engine (target >= 1,000 alerts/s, p99 < 50 ms). Load average at start: ${load} on ${availableParallelism()} CPUs.\n`,
  );
  console.log(
    '| storage | alerts/s | requests | errors | p50 ms | p99 ms | max ms | CPU ms / 1,000 alerts | target met |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  let ok = true;
  for (const r of rows) {
    const met = r.rate >= 1000 && r.p99 < 50 && r.errors === 0;
    ok &&= met;
    console.log(
      `| ${r.engine} | ${r.rate.toFixed(0)} | ${r.requests} | ${r.errors} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} | ${r.cpuMsPer1000.toFixed(0)} | ${met ? 'yes' : 'no'} |`,
    );
  }
  console.log(
    '\nCPU ms / 1,000 alerts is the CPU time of the bridge process (the load generator runs in a child process; PostgreSQL server time not included): 1,000 / that figure is the alerts/s one idle core could sustain, a number that does not depend on other load on the machine.\n',
  );
  process.exitCode = ok ? 0 : 1;
}

const target = process.env.BRIDGE_BENCH_TARGET;
if (target) {
  const report = await client(target);
  process.send!(report, () => process.exit(0));
} else {
  await main();
}
