// Self-healing on the prediction-quality fleet (issue 19): the fleet of bench/quality (same tills, stores,
// seeds and nights off) gets the operational faults that have a safe automatic action, and their alerts are
// replayed, in virtual time, through the real bridge (createApp with the shipped knowledge base and the
// demo's remediation policies from deploy/bridge.yml) while every till runs the real action agent
// (ActionAgent, its own secret, its allowlist, signed polls over loopback HTTP). An agent's restart is a real
// program (hook.mjs) that asks this model to restart the till's service; the model clears the fault if a
// restart fixes that fault, after the service's start time.
//
// Modelled, not run (their timing comes from the shipped files where there is one):
// - Prometheus: a fault shows at the till's next scrape (its own phase) and the next rule evaluation; the
//   alert fires after its rule's `for` (rules/*.yml) and resolves at the first evaluation that sees the
//   fix (scrape and evaluation intervals of deploy/prometheus.yml). The exporter's collection is taken as
//   part of the scrape (the simulator collects every 5 s, the scrape interval).
// - Alertmanager: one group per till and alert (the shipped group_by), first sent group_wait after it fires,
//   changes (the resolve) at the group's next group_interval tick (the route of deploy/alertmanager.yml
//   matched on the alert's labels).
// - The faults, their rates, which of them a restart fixes, how long a service takes to start, and how long
//   a person takes once paged: FAULTS and PERSON_FIX_HOURS below (inputs, not results).
// - A till switched off at night (the fleet's own) polls nothing while off, and its power-off ends a fault
//   (a reboot restarts the УТМ; a lost token is seen to before the store opens).
// Only the polls that can return an action are made (a till polls at its next tick once the bridge has
// queued something for it), and the bridge's sweeper runs at its interval's ticks after each held page's
// deadline: an empty poll or sweep changes nothing the outcome depends on.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parse } from 'yaml';
import { createApp, KnowledgeBase, parseConfig } from '@tillwatch/alert-bridge';
import { durationMs } from '@tillwatch/config';
import { ActionAgent, parseAgentConfig } from '@tillwatch/exporter/actions';
import { seededRandom } from '@tillwatch/testkit';
import { generateFleet } from '../quality/fleet.js';
import type { Scenario } from '../quality/scenario.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOOK = fileURLToPath(new URL('./hook.mjs', import.meta.url));
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export interface FaultModel {
  /** The alert its metrics raise (rules/*.yml) and so the ticket's class. */
  alert: string;
  /** The till service whose restart the class's policy asks for. */
  service: 'utm' | 'marking';
  /** Occurrences per till per 30 days, while the till runs. */
  perTillPer30Days: number;
  /** Whether restarting the service ends the fault. */
  restartFixes: boolean;
  /** Seconds from the restart command until the service answers again. */
  startSeconds: number;
  what: string;
}

/** The faults with a safe action, as the model has them: inputs of the bench, stated in its report. */
export const FAULTS: Record<string, FaultModel> = {
  utm_hung: {
    alert: 'TillUtmDown',
    service: 'utm',
    perTillPer30Days: 0.5,
    restartFixes: true,
    startSeconds: 60,
    what: 'the УТМ stops answering (transport hung); a restart of its service fixes it',
  },
  utm_token_lost: {
    alert: 'TillUtmDown',
    service: 'utm',
    perTillPer30Days: 0.15,
    restartFixes: false,
    startSeconds: 60,
    what: 'the УТМ stops answering because its key token is not seen; a restart does not help',
  },
  marking_stuck: {
    alert: 'TillMarkingNotReady',
    service: 'marking',
    perTillPer30Days: 0.5,
    restartFixes: true,
    startSeconds: 20,
    what: 'the marking module is stuck in sync_error; a restart of its service re-initialises it',
  },
};
/** Once paged, a person fixes the fault this many hours later (uniform). */
export const PERSON_FIX_HOURS: [number, number] = [0.5, 4];

interface Rule {
  for: number;
  labels: Record<string, string>;
}

function rulesByAlert(): Map<string, Rule> {
  const out = new Map<string, Rule>();
  const dir = join(ROOT, 'rules');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(dir, f), 'utf8')) as {
      groups?: { rules?: { alert?: string; for?: string; labels?: Record<string, string> }[] }[];
    };
    for (const g of doc.groups ?? [])
      for (const r of g.rules ?? [])
        if (r.alert) out.set(r.alert, { for: r.for ? durationMs.parse(r.for) : 0, labels: r.labels ?? {} });
  }
  return out;
}

interface Route {
  matchers?: string[];
  group_wait?: string;
  group_interval?: string;
  continue?: boolean;
  routes?: Route[];
}

/** group_wait and group_interval of the route an alert takes in deploy/alertmanager.yml. */
function alertmanagerTiming(labels: Record<string, string>): { wait: number; interval: number } {
  const am = parse(readFileSync(join(ROOT, 'deploy', 'alertmanager.yml'), 'utf8')) as { route: Route };
  const matches = (r: Route) =>
    (r.matchers ?? []).every((m) => {
      const x = /^(\w+)\s*(=~|!~|!=|=)\s*"(.*)"$/.exec(m);
      if (!x) throw new Error(`deploy/alertmanager.yml: matcher ${m} is not understood by the bench`);
      const v = labels[x[1]!] ?? '';
      const re = new RegExp(`^(?:${x[3]})$`);
      return x[2] === '='
        ? v === x[3]
        : x[2] === '!='
          ? v !== x[3]
          : x[2] === '=~'
            ? re.test(v)
            : !re.test(v);
    });
  let wait = '30s';
  let interval = '5m';
  let r: Route | undefined = am.route;
  while (r) {
    wait = r.group_wait ?? wait;
    interval = r.group_interval ?? interval;
    r = (r.routes ?? []).find(matches);
  }
  return { wait: durationMs.parse(wait), interval: durationMs.parse(interval) };
}

export interface FaultOutcome {
  kind: string;
  till: string;
  startMs: number;
  fixedMs: number | null;
  fixedBy: 'restart' | 'person' | 'power-off' | null;
  alerted: boolean;
  ticketId: number | null;
}

export interface ReplayResult {
  faults: FaultOutcome[];
  /** Per ticket of a class with a policy: auto_remediated, remediation_state, opened/resolved times. */
  tickets: Map<
    number,
    {
      incident_class: string;
      auto_remediated: number;
      remediation_state: string | null;
      opened_at: number;
      resolved_at: number | null;
    }
  >;
  /** The bridge's own counter, remediation_tickets_total, by class and outcome. */
  counted: Record<string, Record<string, number>>;
  actions: Record<string, number>;
  policies: Record<string, { action: string; attempts: number; wait: string }>;
  timing: { scrapeMs: number; evalMs: number; pollMs: number; sweepMs: number };
}

type Ev = { at: number; seq: number; run: () => Promise<void> | void };

/**
 * The shipped knowledge base. Its check renders every card with liquidjs' renderLimit, a wall-clock bound
 * of 100 ms per render (alert-bridge/src/card-templates.ts): on a loaded shared machine one render can
 * pass it, so the load is tried three times rather than losing a run of several minutes.
 */
export function shippedKnowledgeBase(): KnowledgeBase {
  for (let attempt = 1; ; attempt++) {
    try {
      return KnowledgeBase.load(join(ROOT, 'alert-bridge', 'knowledge-base'));
    } catch (e) {
      if (attempt >= 3 || !/render limit/.test((e as Error).message)) throw e;
    }
  }
}

export async function replay(
  scenario: Scenario,
  o: { seed: number; endMs: number; kb: KnowledgeBase },
): Promise<ReplayResult> {
  const fleet = generateFleet(scenario, o);
  const rand = seededRandom(o.seed * 7919 + 17);
  const rules = rulesByAlert();
  const prom = parse(readFileSync(join(ROOT, 'deploy', 'prometheus.yml'), 'utf8')) as {
    global: { scrape_interval: string; evaluation_interval: string };
  };
  const scrapeMs = durationMs.parse(prom.global.scrape_interval);
  const evalMs = durationMs.parse(prom.global.evaluation_interval);
  const demoBridge = parse(readFileSync(join(ROOT, 'deploy', 'bridge.yml'), 'utf8')) as {
    tickets: Record<string, unknown>;
    remediation: { policies: ReplayResult['policies'] };
  };
  const policies = demoBridge.remediation.policies;

  // Which tills are switched off at night (the fleet's noise, and the tills whose disk fills in steps).
  const stepped = new Set(
    fleet.incidents.filter((i) => fleet.truth.get(i.id)?.kind === 'disk_steps').map((i) => i.till),
  );
  const offAtNight = new Set(
    fleet.tills.filter(
      (t) => stepped.has(t) || (fleet.noise.get(t) ?? []).some((n) => n.what === 'off at night'),
    ),
  );
  const tod = (t: number) => (((t - fleet.fromMs) % DAY) + DAY) % DAY;
  const isOn = (till: string, t: number) =>
    !offAtNight.has(till) || (tod(t) >= 8 * HOUR && tod(t) < 22 * HOUR);
  const nextOn = (till: string, t: number) =>
    isOn(till, t) ? t : t - tod(t) + (tod(t) >= 22 * HOUR ? DAY : 0) + 8 * HOUR;
  const nextOff = (till: string, t: number) =>
    offAtNight.has(till) ? t - tod(t) + 22 * HOUR + (tod(t) >= 22 * HOUR ? DAY : 0) : Infinity;

  // Virtual time: the bridge, the agents and this model all read `clock`.
  let clock = fleet.measureFromMs;
  const queue: Ev[] = [];
  let seq = 0;
  const at = (t: number, run: Ev['run']) => {
    const e = { at: Math.max(t, clock), seq: seq++, run };
    let i = queue.length;
    while (i > 0 && (queue[i - 1]!.at > e.at || (queue[i - 1]!.at === e.at && queue[i - 1]!.seq > e.seq)))
      i--;
    queue.splice(i, 0, e);
  };
  const ceilTo = (t: number, step: number, phase = 0) => phase + Math.ceil((t - phase) / step) * step;

  const dir = mkdtempSync(join(tmpdir(), 'tw-remediation-bench-'));
  const secrets = new Map(fleet.tills.map((t) => [t, randomBytes(24).toString('hex')]));
  const tillId = (t: string) => `synthetic/${t.replace(/-t\d+$/, '')}/${t}`;
  const sweepMs = 15_000;
  const config = parseConfig({
    storage: { driver: 'sqlite', path: join(dir, 'bridge.db') },
    webhook: { bearer_token: 'bench' },
    log_level: 'silent',
    tickets: { ...demoBridge.tickets, sweep_interval: `${sweepMs / 1000}s` },
    remediation: {
      policies,
      tills: fleet.tills.map((t) => ({ id: tillId(t), secret: secrets.get(t)! })),
    },
  });
  const bridge = await createApp(config, {
    logger: pino({ level: 'silent' }),
    kb: o.kb,
    now: () => clock,
    background: false,
  });
  const bridgeUrl = await bridge.start('127.0.0.1:0');
  const db = bridge.store.db;

  // The faults on each till, and the model's restart endpoint that the agents' hook calls.
  const faults: (FaultOutcome & { model: FaultModel; firesAt: number | null; groupAt: number | null })[] = [];
  const active = (till: string, service: string) =>
    faults.filter(
      (f) => f.till === till && f.model.service === service && f.startMs <= clock && f.fixedMs === null,
    );
  const restarts = { total: 0 };
  const model = createServer((req, res) => {
    const m = /^\/restart\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return void res.writeHead(404).end();
    const [till, service] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    restarts.total++;
    const cleared = active(till, service).filter((f) => f.model.restartFixes);
    for (const f of cleared) fix(f, clock + f.model.startSeconds * 1000, 'restart');
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ cleared: cleared.map((f) => f.kind) }));
  });
  await new Promise<void>((r) => model.listen(0, '127.0.0.1', () => r()));
  const modelUrl = `http://127.0.0.1:${(model.address() as { port: number }).port}`;

  const agents = new Map<string, ActionAgent>();
  for (const t of fleet.tills) {
    const secretFile = join(dir, `${t}.secret`);
    writeFileSync(secretFile, secrets.get(t)!);
    const allow = Object.fromEntries(
      Object.entries(policies).map(([, p]) => [
        p.action,
        {
          program: process.execPath,
          args: [HOOK, modelUrl, t, p.action === 'restart_utm' ? 'utm' : 'marking'],
        },
      ]),
    );
    // The agent's defaults otherwise: a 30 s poll, 3 runs of an action an hour.
    agents.set(
      t,
      new ActionAgent(
        parseAgentConfig(
          { bridge: { url: bridgeUrl, till: tillId(t), secret_file: secretFile }, allow },
          `${t}/actions.yml`,
          dir,
        ),
        undefined,
        () => clock,
      ),
    );
  }
  const pollMs = 30_000;
  const pollPhase = new Map(fleet.tills.map((t) => [t, Math.floor(rand() * pollMs)]));
  const scrapePhase = new Map(fleet.tills.map((t) => [t, Math.floor(rand() * scrapeMs)]));
  const pollScheduled = new Set<string>();
  let sweepAt = Infinity;
  const actions: Record<string, number> = {};

  /** After anything that may have queued an action or held a page: the polls and the sweep it needs. */
  async function follow(): Promise<void> {
    const queued = await db
      .selectFrom('remediation_actions')
      .select('till')
      .distinct()
      .where('status', '=', 'queued')
      .execute();
    for (const { till } of queued) {
      const t = till.split('/')[2]!;
      if (pollScheduled.has(t)) continue;
      pollScheduled.add(t);
      const tick = ceilTo(nextOn(t, clock + 1), pollMs, pollPhase.get(t)!);
      at(tick, async () => {
        pollScheduled.delete(t);
        if (!isOn(t, clock)) return void (await follow());
        for (const r of await agents.get(t)!.pollOnce())
          actions[r.report.result] = (actions[r.report.result] ?? 0) + 1;
        await follow();
      });
    }
    const held = await db
      .selectFrom('tickets')
      .select((eb) => eb.fn.min('page_hold_until').as('next'))
      .where('page_hold_until', 'is not', null)
      .where('status', 'in', ['open', 'acknowledged'])
      .executeTakeFirst();
    const next = held?.next == null ? Infinity : ceilTo(Number(held.next), sweepMs);
    if (next < sweepAt) {
      sweepAt = next;
      at(next, async () => {
        sweepAt = Infinity;
        await bridge.tickets.sweep();
        await follow();
      });
    }
  }

  const labelsOf = (f: (typeof faults)[number]): Record<string, string> => {
    const r = rules.get(f.model.alert)!;
    const store = f.till.replace(/-t\d+$/, '');
    const i = fleet.tills.indexOf(f.till);
    return {
      alertname: f.model.alert,
      ...r.labels,
      chain: 'synthetic',
      region: `r${(Math.floor(i / 2) % 5) + 1}`,
      store,
      till: f.till,
      device: f.model.service,
    };
  };
  async function send(f: (typeof faults)[number], status: 'firing' | 'resolved'): Promise<void> {
    const labels = labelsOf(f);
    const res = await fetch(`${bridgeUrl}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: JSON.stringify({
        version: '4',
        groupKey: `{}:{till="${f.till}",alertname="${labels.alertname}"}`,
        truncatedAlerts: 0,
        status,
        receiver: 'bridge',
        groupLabels: {},
        commonLabels: labels,
        commonAnnotations: {},
        externalURL: 'http://127.0.0.1:9093',
        alerts: [
          {
            status,
            labels,
            annotations: { summary: labels.alertname },
            startsAt: new Date(f.firesAt!).toISOString(),
            endsAt: status === 'resolved' ? new Date(clock).toISOString() : '0001-01-01T00:00:00Z',
            generatorURL: 'http://127.0.0.1:9090/graph',
          },
        ],
      }),
    });
    if (!res.ok) throw new Error(`the bridge answered ${res.status}: ${await res.text()}`);
    if (status === 'firing') {
      const t = await db
        .selectFrom('tickets')
        .select('id')
        .where('till', '=', f.till)
        .where('incident_class', '=', labels.incident_class!)
        .orderBy('id', 'desc')
        .executeTakeFirst();
      f.ticketId = t?.id ?? null;
    }
    await follow();
  }

  /** The first evaluation that sees the till's metrics at or after t. */
  const seenAt = (till: string, t: number) => ceilTo(ceilTo(t, scrapeMs, scrapePhase.get(till)!), evalMs);

  function fix(f: (typeof faults)[number], t: number, by: NonNullable<FaultOutcome['fixedBy']>): void {
    if (f.fixedMs !== null) return;
    f.fixedMs = t;
    f.fixedBy = by;
    if (f.firesAt === null || f.groupAt === null) return;
    // Alertmanager sends the resolve at the group's next tick after Prometheus saw it.
    const { wait, interval } = alertmanagerTiming(labelsOf(f));
    const resolved = seenAt(f.till, t);
    const first = f.groupAt + wait;
    const tick = resolved <= first ? first : first + Math.ceil((resolved - first) / interval) * interval;
    at(tick, () => send(f, 'resolved'));
  }

  // The faults: a Poisson process per till and kind over the measured days, while the till runs.
  for (const till of fleet.tills)
    for (const [kind, m] of Object.entries(FAULTS)) {
      let t = fleet.measureFromMs;
      for (;;) {
        t += (-Math.log(1 - rand()) * 30 * DAY) / m.perTillPer30Days;
        if (t >= fleet.toMs - DAY) break;
        if (!isOn(till, t)) continue;
        const f = {
          kind,
          till,
          model: m,
          startMs: Math.round(t),
          fixedMs: null,
          fixedBy: null,
          alerted: false,
          ticketId: null,
          firesAt: null,
          groupAt: null,
        } as (typeof faults)[number];
        faults.push(f);
        const off = nextOff(till, f.startMs);
        if (off < Infinity) at(off, () => fix(f, off, 'power-off'));
        at(f.startMs, () => {
          const rule = rules.get(m.alert);
          if (!rule) throw new Error(`rules/*.yml has no alert ${m.alert}`);
          const firesAt = seenAt(till, f.startMs) + rule.for;
          at(firesAt, () => {
            if (f.fixedMs !== null && seenAt(till, f.fixedMs) <= firesAt) return;
            // Another fault of the same alert on the till already holds the group: this one changes nothing.
            if (
              faults.some(
                (g) =>
                  g !== f &&
                  g.till === till &&
                  g.model.alert === m.alert &&
                  g.alerted &&
                  (g.fixedMs === null || seenAt(till, g.fixedMs) > firesAt),
              )
            )
              return;
            f.alerted = true;
            f.firesAt = firesAt;
            f.groupAt = firesAt;
            const { wait } = alertmanagerTiming(labelsOf(f));
            at(firesAt + wait, async () => {
              await send(f, 'firing');
              // A person looks once the page is out: at the end of the policy's wait at the latest.
              const p = Object.entries(policies).find(([c]) => c === labelsOf(f).incident_class)?.[1];
              const paged = clock + (p ? durationMs.parse(p.wait) : 0);
              const [a, b] = PERSON_FIX_HOURS;
              at(paged + (a + rand() * (b - a)) * HOUR, () => fix(f, clock, 'person'));
            });
          });
        });
      }
    }

  try {
    while (queue.length) {
      const e = queue.shift()!;
      clock = e.at;
      await e.run();
    }
    const rows = await db
      .selectFrom('tickets')
      .select(['id', 'incident_class', 'auto_remediated', 'remediation_state', 'opened_at', 'resolved_at'])
      .where('incident_class', 'in', Object.keys(policies))
      .execute();
    const counted: ReplayResult['counted'] = {};
    for (const v of (await bridge.metrics.remediationTickets.get()).values)
      (counted[String(v.labels.incident_class)] ??= {})[String(v.labels.outcome)] = v.value;
    return {
      faults: faults.map(({ model: _m, firesAt: _f, groupAt: _g, ...rest }) => rest),
      tickets: new Map(
        rows.map((r) => [
          r.id,
          {
            ...r,
            opened_at: Number(r.opened_at),
            resolved_at: r.resolved_at === null ? null : Number(r.resolved_at),
          },
        ]),
      ),
      counted,
      actions,
      policies,
      timing: { scrapeMs, evalMs, pollMs, sweepMs },
    };
  } finally {
    for (const a of agents.values()) a.stop();
    model.close();
    await bridge.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
