// The demo self-heals (issue 19): `npm start`'s stack enrols its simulated tills for remote actions, runs
// each till's real agent (scripts/stack/till-agents.ts) against the bridge, and its scenario has faults
// the agents' restarts fix. Here the same plan runs on free loopback ports with a 2-store inventory and a
// scenario of the demo's fixable fault (a hung УТМ with no end): the ticket must resolve as
// auto-remediated with nobody paged, and the Service dashboard's panel, evaluated by the stack's own
// Prometheus (which scrapes the bridge), must show a share above zero for the class.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { iterateTills, loadInventory } from '@tillwatch/inventory';
import { EXPECTED_ALERTS } from '@tillwatch/simulator';
import { instantQuery, waitFor } from '@tillwatch/testkit';
import {
  planStack,
  repoRoot,
  startStack,
  type RunningStack,
  type StackPlan,
} from '../scripts/stack/index.js';
import { planTestStack, stackClient } from './support/stack.js';

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

const CLASS = 'egais.utm_down';
/** The Service dashboard's share panel, as generated into dashboards/service.json. */
const sharePanel = (): string => {
  const d = JSON.parse(readFileSync(join(repoRoot, 'dashboards', 'service.json'), 'utf8')) as {
    panels: Panel[];
  };
  const p = d.panels.find((x) => x.title === 'Auto-remediated share by class');
  if (!p?.targets?.[0])
    throw new Error('dashboards/service.json has no "Auto-remediated share by class" panel');
  return p.targets[0].expr;
};

describe('the demo plan self-heals', () => {
  it("enrols every till the demo scenario's fixable faults hit, with the action its class's policy asks for", () => {
    const plan = planStack();
    const file = (name: string) => {
      const f = Object.keys(plan.prepare.files).find((k) => k.endsWith(name));
      if (!f) throw new Error(`the demo plan renders no ${name}`);
      return parse(plan.prepare.files[f]!) as Record<string, unknown>;
    };
    const remediation = file('/bridge.yml').remediation as {
      policies: Record<string, { action: string }>;
      tills: { id: string; secret: string }[];
    };
    const scenario = parse(readFileSync(join(repoRoot, 'simulator/scenarios/demo.yml'), 'utf8')) as {
      events: { till?: string; fault: string; duration?: string }[];
    };
    const fixable = scenario.events.filter(
      (e) => e.till && remediation.policies[EXPECTED_ALERTS[e.fault as 'utm_hung']?.incidentClass ?? ''],
    );
    // Faults the actions fix, some with no end of their own: only the restart ends them.
    expect(fixable.filter((e) => e.fault === 'utm_hung' && !e.duration).length).toBeGreaterThan(0);
    expect(fixable.some((e) => e.fault === 'marking_not_ready')).toBe(true);
    for (const e of fixable) {
      const action = remediation.policies[EXPECTED_ALERTS[e.fault as 'utm_hung'].incidentClass]!.action;
      const enrolled = remediation.tills.find((t) => t.id.endsWith(`/${e.till}`));
      expect(enrolled, `${e.till} is enrolled`).toBeDefined();
      const agent = file(`/${enrolled!.id.replaceAll('/', '__')}.yml`) as {
        bridge: { till: string; secret_file: string };
        allow: Record<string, { program: string; args: string[] }>;
      };
      expect(agent.bridge.till).toBe(enrolled!.id);
      // Each till its own credential: the secret file holds what the bridge enrols, and no other till's.
      expect(plan.prepare.files[agent.bridge.secret_file]!.trim()).toBe(enrolled!.secret);
      expect(agent.allow[action]?.args.slice(-2)).toEqual([
        e.till,
        action === 'restart_utm' ? 'utm' : 'marking',
      ]);
    }
    expect(new Set(remediation.tills.map((t) => t.secret)).size).toBe(remediation.tills.length);
    expect(plan.services.map((s) => s.name)).toContain('till-agents');
  });
});

describe('the demo self-heals on the native stack', () => {
  let dir: string;
  let plan: StackPlan;
  let stack: RunningStack;
  let api: ReturnType<typeof stackClient>;
  let till: { id: string; store: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tillwatch-demo-remediation-'));
    const first = await planTestStack({ dir, stores: 2, tillsPerStore: 1 });
    // The first till of a store has the УТМ in the demo inventory.
    const t = [...iterateTills(loadInventory(first.inventory))][0]!;
    till = { id: t.till.id, store: t.store.id };
    const scenario = join(dir, 'scenario.yml');
    writeFileSync(scenario, `events:\n  - { at: 5s, till: ${till.id}, fault: utm_hung }\n`);
    plan = await planTestStack({ dir, stores: 2, tillsPerStore: 1, scenario });
    stack = await startStack(plan);
    api = stackClient(plan);
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the scenario's hung УТМ is restarted by the till's agent and counted as auto-remediated on the Service dashboard", async () => {
    const ticket = await waitFor(
      'the egais.utm_down ticket of the hung till to resolve',
      async () =>
        (await api.tickets({ incident_class: CLASS })).find(
          (x) => x.till === till.id && x.status === 'resolved',
        ),
      { timeoutMs: 360_000, intervalMs: 1_000 },
    );
    const d = (await api.ticket(ticket.id)) as unknown as { auto_remediated: boolean };
    expect(d.auto_remediated).toBe(true);
    // The restart really changed the emulator: the simulator no longer lists the fault.
    const view = (await (await fetch(`${plan.urls.control}/tills/${till.id}`)).json()) as {
      faults: string[];
    };
    expect(view.faults).toEqual([]);
    const agents = (await (await fetch(plan.urls.agents!)).json()) as {
      agents: { till: string; counts: { succeeded: number } }[];
    };
    expect(agents.agents.find((a) => a.till.endsWith(`/${till.id}`))?.counts.succeeded).toBeGreaterThan(0);

    const metrics = await (await fetch(`${plan.urls.bridge}/metrics`)).text();
    const m = new RegExp(
      `^tillwatch_bridge_remediation_tickets_total\\{incident_class="${CLASS}",outcome="auto_remediated"\\} (\\S+)$`,
      'm',
    ).exec(metrics);
    expect(Number(m?.[1])).toBeGreaterThan(0);

    // The panel's own query on the stack's Prometheus: the counter's rise is seen once it was scraped
    // before and after the fix (the bridge creates the series at the first auto-remediated ticket, so
    // increase() needs a second scrape of it; a range of an hour holds both).
    const expr = sharePanel().replaceAll('$__range', '1h');
    const share = await waitFor(
      'the Service dashboard panel to show the class',
      async () =>
        // NaN (0/0) until Prometheus has scraped the bridge after the fix.
        (await instantQuery(plan.urls.prometheus, expr)).find(
          (r) => r.metric.incident_class === CLASS && Number(r.value[1]) > 0,
        ),
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(Number(share.value[1])).toBeGreaterThan(0);

    // Nobody was paged about it.
    expect((await api.telegram()).filter((x) => x.text.includes(till.id))).toEqual([]);
  }, 420_000);
});
