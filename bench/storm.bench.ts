// A storm: the УТМ down for a whole chain. 20,000 alerts of one class from 2,000 stores (10 tills each)
// arrive within a minute, one notification per store as Alertmanager groups them, while ordinary faults
// elsewhere keep arriving. Measures what people get (messages at the service desk), that no alert is lost,
// and the webhook latency of the ordinary faults meanwhile (the bridge's bound: p99 < 50 ms).
//
// The storm and the ordinary senders run in child processes (this file with STORM_ROLE set), as
// Alertmanager would, so the bridge's event loop is its own. The bridge uses the shipped knowledge base
// and its default mass_incidents settings; the desk is a webhook receiver on 127.0.0.1.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { firing, webhookClient } from './lib/webhook-client.js';
import { KnowledgeBase, createApp, parseConfig } from '@tillwatch/alert-bridge';
import { PG_URL, dropSchema, uniqueSchemaName } from '@tillwatch/testkit';
import { startReceiver } from '@tillwatch/testkit/bridge';

const STORES = Number(process.env.STORM_STORES ?? 2_000);
const TILLS = 10;
const STORM_SECONDS = 60;
const OTHER_PER_SECOND = 20;
const KB = fileURLToPath(new URL('../alert-bridge/knowledge-base', import.meta.url));

function utm(store: number, till: number) {
  return firing(
    {
      alertname: 'TillUtmDown',
      incident_class: 'egais.utm_down',
      severity: 'critical',
      team: 'software',
      chain: 'storm',
      region: `r${store % 27}`,
      store: `s${store}`,
      till: `t${till}`,
      device: 'utm',
    },
    { summary: 'EGAIS transport module (UTM) does not answer.' },
  );
}

function paper(n: number) {
  return firing(
    {
      alertname: 'TillPaperOut',
      incident_class: 'fiscal.paper_out',
      severity: 'warning',
      team: 'hardware',
      chain: 'other',
      region: 'r1',
      store: `o${n}`,
      till: 't1',
      device: 'kkt',
    },
    { summary: 'Receipt paper out' },
  );
}

const notification = (key: string, alerts: unknown[]) =>
  JSON.stringify({
    version: '4',
    groupKey: key,
    status: 'firing',
    receiver: 'bridge',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am',
    alerts,
  });

interface SenderReport {
  latencies: number[];
  alerts: number;
  errors: number;
}

/** Posts `count` notifications evenly over `seconds`, at most 8 in flight, and times each. */
async function sender(url: string, role: string): Promise<SenderReport> {
  const { post, close } = webhookClient(url, 'bench', 8);
  const storm = role === 'storm';
  const count = storm ? STORES : STORM_SECONDS * OTHER_PER_SECOND;
  const every = (STORM_SECONDS * 1000) / count;
  const report: SenderReport = { latencies: [], alerts: 0, errors: 0 };
  const start = performance.now();
  const inflight = new Set<Promise<void>>();
  for (let i = 0; i < count; i++) {
    const due = start + i * every;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    while (inflight.size >= 8) await Promise.race(inflight);
    const alerts = storm ? Array.from({ length: TILLS }, (_, t) => utm(i, t)) : [paper(i)];
    const body = notification(storm ? `storm-${i}` : `other-${i}`, alerts);
    const p = (async () => {
      const t0 = performance.now();
      const status = await post(body).catch(() => 0);
      report.latencies.push(performance.now() - t0);
      if (status >= 200 && status < 300) report.alerts += alerts.length;
      else report.errors++;
    })();
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
  close();
  return report;
}

function drive(url: string, role: string): Promise<SenderReport> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: { ...process.env, STORM_ROLE: role, STORM_TARGET: url },
    });
    child.once('message', (m) => resolve(m as SenderReport));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${role} sender exited with ${code}`));
    });
  });
}

const quantile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};

async function run(engine: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'tw-storm-'));
  const schema = uniqueSchemaName('tw_storm');
  const desk = await startReceiver('k');
  const storage =
    engine === 'sqlite'
      ? { driver: 'sqlite', path: join(dir, 'storm.db'), synchronous: 'full' }
      : { driver: 'postgres', url: PG_URL, schema, pool_size: 10 };
  const config = parseConfig({
    storage,
    webhook: { bearer_token: 'bench' },
    log_level: 'silent',
    forwarding: {
      poll_interval: '100ms',
      targets: [{ name: 'desk', type: 'webhook', url: desk.url, secret: 'k' }],
    },
  });
  const bridge = await createApp(config, { logger: pino({ level: 'silent' }), kb: KnowledgeBase.load(KB) });
  const url = `${await bridge.start('127.0.0.1:0')}/webhook/alertmanager`;
  const [storm, other] = await Promise.all([drive(url, 'storm'), drive(url, 'other')]);
  // Every held message has had its chance to go (hold 20 s), and the outbox has drained.
  await new Promise((r) => setTimeout(r, 25_000));
  const db = bridge.store.db;
  const count = async (q: Promise<{ n: number | string | bigint }>) => Number((await q).n);
  const stormAlerts = await count(
    db
      .selectFrom('ticket_alerts')
      .innerJoin('tickets', 'tickets.id', 'ticket_alerts.ticket_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tickets.chain', '=', 'storm')
      .executeTakeFirstOrThrow(),
  );
  const parents = await db.selectFrom('tickets').select(['id', 'title']).where('mass', '=', 1).execute();
  const members = await count(
    db
      .selectFrom('tickets')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('parent_id', 'is not', null)
      .executeTakeFirstOrThrow(),
  );
  const stormMessages = desk.got.filter((g) => (g.body.ticket as { chain: string }).chain === 'storm');
  await bridge.stop();
  await desk.close();
  rmSync(dir, { recursive: true, force: true });
  if (engine === 'postgres') await dropSchema(schema);
  return {
    engine,
    stormAlerts,
    sent: storm.alerts,
    errors: storm.errors + other.errors,
    parents: parents.length,
    title: parents[0]?.title ?? '',
    members,
    messages: stormMessages.length,
    otherP50: quantile(other.latencies, 0.5),
    otherP99: quantile(other.latencies, 0.99),
    stormP99: quantile(storm.latencies, 0.99),
  };
}

async function main() {
  const load = loadavg()[0]!.toFixed(1);
  const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
  const rows = [];
  for (const e of engines) rows.push(await run(e));
  console.log(
    `Storm: ${(STORES * TILLS).toLocaleString('en-US')} УТМ-down alerts from ${STORES.toLocaleString('en-US')} stores of one chain in ${STORM_SECONDS} s (one notification per store), ${OTHER_PER_SECOND} ordinary notifications/s elsewhere meanwhile. Load average at start: ${load} on ${availableParallelism()} CPUs.\n`,
  );
  console.log(
    '| storage | storm alerts stored / sent | errors | parents | members | storm messages at the desk | ordinary p50 ms | ordinary p99 ms | storm p99 ms | met |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  let ok = true;
  for (const r of rows) {
    const met =
      r.stormAlerts === r.sent &&
      r.errors === 0 &&
      r.parents === 1 &&
      r.messages <= TILLS + 1 &&
      r.otherP99 < 50;
    ok &&= met;
    console.log(
      `| ${r.engine} | ${r.stormAlerts} / ${r.sent} | ${r.errors} | ${r.parents} | ${r.members} | ${r.messages} | ${r.otherP50.toFixed(1)} | ${r.otherP99.toFixed(1)} | ${r.stormP99.toFixed(1)} | ${met ? 'yes' : 'no'} |`,
    );
  }
  console.log(`\nParent title: ${rows[0]?.title}\n`);
  process.exitCode = ok ? 0 : 1;
}

const role = process.env.STORM_ROLE;
if (role) {
  const report = await sender(process.env.STORM_TARGET!, role);
  process.send!(report, () => process.exit(0));
} else {
  await main();
}
