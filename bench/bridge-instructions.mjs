// Fixed work for counting the alert bridge's instructions (docs/benchmarks.md, "The split, in instructions"):
// N notifications of 10 alerts each, sent one after another over one kept-alive connection (70 % new
// problems, 30 % repeats, as bridge.bench.ts), on SQLite with the dispatcher and sweeper timers off, so
// nothing the wall clock drives runs and every run does the same work. Wall-clock benches on this shared
// machine moved ±15 % from run to run; instruction counts under callgrind move ±5 %:
//
//   N=20  valgrind --tool=callgrind --smc-check=all-non-file node --single-threaded bench/bridge-instructions.mjs
//   N=100 valgrind --tool=callgrind --smc-check=all-non-file node --single-threaded bench/bridge-instructions.mjs
//
// (N=100 − N=20) / 80 is the cost of one notification, start-up cancelled out. Plain JavaScript importing the
// bridge by its package name, so the same file runs in a checkout of any earlier commit (after its build).
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { KnowledgeBase, createApp, parseConfig } from '@tillwatch/alert-bridge';

const N = Number(process.env.N ?? 100);
const dir = mkdtempSync(join(tmpdir(), 'tw-instructions-'));
const config = parseConfig({
  storage: { driver: 'sqlite', path: join(dir, 'bridge.db'), synchronous: 'full' },
  webhook: { bearer_token: 'bench' },
  log_level: 'silent',
});
const bridge = await createApp(config, {
  logger: pino({ level: 'silent' }),
  kb: KnowledgeBase.empty(),
  background: false,
});
const url = `${await bridge.start('127.0.0.1:0')}/webhook/alertmanager`;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const post = (body) =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer bench',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
const alertFor = (store, till) => ({
  status: 'firing',
  labels: {
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
  annotations: { summary: 'Receipt paper out', description: `till t${till} of store s${store} has no paper` },
  startsAt: '2026-01-01T10:00:00Z',
  endsAt: '0001-01-01T00:00:00Z',
  generatorURL: 'http://prometheus/graph',
  fingerprint: `${store.toString(16)}-${till}`,
});
let refused = 0;
for (let n = 0; n < N; n++) {
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
    alerts: Array.from({ length: 10 }, (_, i) => alertFor(store, i)),
  });
  if ((await post(body)) !== 200) refused++;
}
agent.destroy();
await bridge.stop();
rmSync(dir, { recursive: true, force: true });
console.log(`${N} notifications, ${refused} not answered 200`);
process.exitCode = refused === 0 ? 0 : 1;
