// Fault to notification: how long a critical till fault takes to reach Telegram and e-mail through the
// whole shipped pipeline (exporter collectors in the fleet simulator → Prometheus 2.42 scrape and rules →
// Alertmanager 0.25 routes → bridge ticket → Telegram emulator / SMTP catcher), with the shipped configs
// and the stack library `npm start` uses. Target: under 30 s for a critical fault.
//
// Paper-out faults (TillFiscalPaperOut, critical) are injected on FAULTS different tills, one every SPACING
// seconds, so the injections fall at every phase of the poll, scrape and evaluation cycles; each is measured
// from the control API call to the first Telegram message / e-mail naming the till. Two store uplink outages
// (TillStoreUnreachable) run beside them for comparison. The report names the intervals and `for` values it
// read from the shipped files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterateTills, loadInventory } from '@tillwatch/inventory';
import { parse as parseYaml } from 'yaml';
import { alerts, REPO_DIR } from '../rules/lib/rule-files.js';
import { startStack } from '../scripts/stack/index.js';
import { instantQuery, waitFor } from '@tillwatch/testkit';
import { planTestStack, stackClient } from '../test/support/stack.js';

const FAULTS = Number(process.env.BENCH_FAULTS ?? 12);
const SPACING_MS = Number(process.env.BENCH_SPACING_MS ?? 3_300);
const log = (s: string) => process.stderr.write(`${s}\n`);

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { n: s.length, min: s[0]!, median: q(0.5), p90: q(0.9), max: s[s.length - 1]! };
}

const fmt = (x: number) => x.toFixed(1);

/** The timing the figures depend on, read from the shipped files so the report cannot go stale. */
function shippedTiming(): string {
  const prom = parseYaml(readFileSync(join(REPO_DIR, 'deploy', 'prometheus.yml'), 'utf8')) as {
    global: { scrape_interval: string; evaluation_interval: string };
  };
  const forOf = (name: string) => alerts().find((a) => a.alert === name)?.for ?? '?';
  return (
    `scrape ${prom.global.scrape_interval}, evaluation ${prom.global.evaluation_interval}, ` +
    `\`for\` ${forOf('TillFiscalPaperOut')} for paper out and ${forOf('TillStoreUnreachable')} for a store outage`
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tillwatch-latency-bench-'));
  // Stores of two tills; the last two stores lose their uplink, the others take one paper-out each.
  const stores = Math.ceil(FAULTS / 2) + 2;
  const plan = await planTestStack({ dir, stores, tillsPerStore: 2 });
  const stack = await startStack(plan);
  try {
    const api = stackClient(plan);
    const tills = [...iterateTills(loadInventory(plan.inventory))];
    const storeIds = [...new Set(tills.map((t) => t.store.id))];
    const outageStores = storeIds.slice(-2);
    const paperTills = tills.filter((t) => !outageStores.includes(t.store.id)).slice(0, FAULTS);
    await waitFor(
      'Prometheus to scrape every till',
      async () =>
        (await instantQuery(plan.urls.prometheus, 'count(up{job="tillwatch-exporter"} == 1)'))[0]
          ?.value[1] === String(tills.length),
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    log(
      `stack up: ${tills.length} tills; injecting ${paperTills.length} paper-out faults, ${outageStores.length} outages`,
    );

    const injected = new Map<string, number>();
    for (const s of outageStores) {
      injected.set(s, Date.now());
      await api.injectStoreFault(s, 'uplink_down');
    }
    for (const t of paperTills) {
      injected.set(t.till.id, Date.now());
      await api.injectTillFault(t.till.id, 'paper_out');
      await new Promise((r) => setTimeout(r, SPACING_MS));
    }
    const first = <T extends { received_at: string }>(list: T[], text: (m: T) => string, id: string) =>
      list.find((m) => text(m).includes(id) && Date.parse(m.received_at) >= injected.get(id)!);
    const measure = async (ids: string[], timeoutMs: number) => {
      const out = { telegram: [] as number[], email: [] as number[] };
      await waitFor(
        `notifications for ${ids.length} faults`,
        async () => {
          const [msgs, mails] = [await api.telegram(), await api.mails()];
          const done = ids.every((id) => first(msgs, (m) => m.text, id) && first(mails, (m) => m.text, id));
          if (!done) return undefined;
          for (const id of ids) {
            out.telegram.push(
              (Date.parse(first(msgs, (m) => m.text, id)!.received_at) - injected.get(id)!) / 1000,
            );
            out.email.push(
              (Date.parse(first(mails, (m) => m.text, id)!.received_at) - injected.get(id)!) / 1000,
            );
          }
          return true;
        },
        { timeoutMs: timeoutMs, intervalMs: 250 },
      );
      return out;
    };
    const paper = await measure(
      paperTills.map((t) => t.till.id),
      120_000,
    );
    const outage = await measure(outageStores, 180_000);

    const rows = [
      ['paper out → Telegram', paper.telegram],
      ['paper out → e-mail', paper.email],
      ['store uplink down → Telegram', outage.telegram],
      ['store uplink down → e-mail', outage.email],
    ] as const;
    const [l1, l5] = loadavg();
    console.log(
      `Whole pipeline on loopback, shipped configs (${shippedTiming()}), ${tills.length} simulated tills, ${availableParallelism()} CPUs, load average ${fmt(l1!)} / ${fmt(l5!)}.\n`,
    );
    console.log('| fault → channel | faults | median s | p90 s | max s | min s |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const [name, xs] of rows) {
      const s = stats(xs);
      console.log(`| ${name} | ${s.n} | ${fmt(s.median)} | ${fmt(s.p90)} | ${fmt(s.max)} | ${fmt(s.min)} |`);
    }
    const paperMax = Math.max(...paper.telegram, ...paper.email);
    console.log(
      `\nTarget for critical "cannot sell now" faults: under 30 s. Paper out: median ${fmt(stats(paper.telegram).median)} s, max ${fmt(paperMax)} s: ${paperMax < 30 ? 'met' : 'NOT met'}.`,
    );
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
