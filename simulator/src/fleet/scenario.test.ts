// Scenario files: one invalid fixture per rule with the exact message, and a fleet driven by an
// injected clock so events fire at their time without sleeping.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seriesValue } from '@tillwatch/testkit';
import { Fleet } from './fleet.js';
import { ConfigError } from '@tillwatch/config';
import { loadScenario, parseScenarioText } from './scenario.js';
import { smallInventory } from './testdata/inventory.js';

const known = { tills: new Set(['s1-t1', 's1-t2']), stores: new Set(['s1']) };

function problems(text: string): string[] {
  try {
    parseScenarioText(text, 'bad.yml', known);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  return [];
}

describe('scenario validation', () => {
  it.each([
    [
      'events:\n  - { at: 30s, till: s1-t1, fault: on_fire }',
      'bad.yml: events[0].fault: unknown till fault "on_fire" (known: paper_out, cover_open, fn_expiring, fn_expired, ofd_down, clock_drift, utm_cert_expiring, utm_hung, marking_not_ready, registrar_down, pos_crashloop, disk_filling, scanner_missing)',
    ],
    [
      'events:\n  - { at: 30s, store: s1, fault: paper_out }',
      'bad.yml: events[0].fault: unknown store fault "paper_out" (known: uplink_down)',
    ],
    [
      'events:\n  - { at: 30s, till: s1-t1, store: s1, fault: paper_out }',
      'bad.yml: events[0].till: set exactly one of till or store',
    ],
    [
      'events:\n  - { at: soon, till: s1-t1, fault: paper_out }',
      'bad.yml: events[0].at: invalid duration "soon": expected a Prometheus duration such as "1h30m", "15s" or "500ms" (whole numbers; units y, w, d, h, m, s, ms, largest first)',
    ],
    ['events:\n  - { till: s1-t1, fault: paper_out }', 'bad.yml: events[0].at: required'],
    [
      'events:\n  - { at: 1m, till: s1-t9, fault: paper_out }',
      'bad.yml: events[0].till: unknown till "s1-t9" (not in the inventory)',
    ],
    [
      'events:\n  - { at: 1m, store: s7, fault: uplink_down }',
      'bad.yml: events[0].store: unknown store "s7" (not in the inventory)',
    ],
    [
      'conditions:\n  - { till: s1-t1, fn_expires_in: 20d, fn_expire: 3d }',
      'bad.yml: conditions[0].fn_expire: unknown key',
    ],
    ['conditions:\n  - { till: s1-t1 }', 'bad.yml: conditions[0]: set at least one condition besides till'],
    [
      'conditions:\n  - { till: s1-t1, disk_free_percent: 140 }',
      'bad.yml: conditions[0].disk_free_percent: expected a percentage from 0 to 100',
    ],
    ['speed: -3', 'bad.yml: speed: expected a positive number'],
    ['evnts: []', 'bad.yml: evnts: unknown key'],
    [
      'events: [\n',
      'bad.yml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
  ])('%s', (text, message) => {
    expect(problems(text)).toEqual([message]);
  });

  it('refuses events and conditions on a device the till does not have', async () => {
    const { runFleet } = await import('./run.js');
    const inventory = await smallInventory(1, 2); // s1-t2 has no UTM
    const scenario = parseScenarioText(
      'events:\n  - { at: 1m, till: s1-t2, fault: utm_cert_expiring }\nconditions:\n  - { till: s1-t2, utm_cert_expires_in: 3d }',
      'nout.yml',
    );
    await expect(runFleet({ inventory, scenario, controlListen: '127.0.0.1:0' })).rejects.toThrow(
      'nout.yml: events[0].fault: utm_cert_expiring: till s1-t2 has no EGAIS UTM\n' +
        'nout.yml: conditions[0].utm_cert_expires_in: till s1-t2 has no EGAIS UTM',
    );
  });

  it('names the file it cannot read', () => {
    expect(() => loadScenario('/nonexistent/demo.yml')).toThrow(
      /^\/nonexistent\/demo.yml: cannot read the file: ENOENT/,
    );
  });

  it('parses durations in days and defaults the receipt rate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
    const file = join(dir, 'ok.yml');
    writeFileSync(
      file,
      'speed: 60\nevents:\n  - { at: 1m30s, till: s1-t1, fault: paper_out, duration: 2m }\nconditions:\n  - { till: s1-t2, fn_expires_in: 20d }\n',
    );
    const s = loadScenario(file, known);
    expect(s).toMatchObject({ speed: 60, receiptsPerHour: 30 });
    expect(s.events).toEqual([{ at: 90, duration: 120, till: 's1-t1', fault: 'paper_out' }]);
    expect(s.conditions[0]?.fn_expires_in).toBe(20 * 86400);
  });
});

describe('scenario over time (injected clock)', () => {
  let fleet: Fleet | undefined;
  afterEach(() => fleet?.stop());

  it('fires an event at its time, clears it after its duration, and ages the slow processes at --speed', async () => {
    const inv = await smallInventory(1, 2);
    let clock = 1_000_000;
    const scenario = parseScenarioText(
      [
        'events:',
        '  - { at: 30s, till: s1-t1, fault: paper_out, duration: 1m }',
        '  - { at: 45s, store: s1, fault: uplink_down, duration: 10s }',
        'conditions:',
        '  - { till: s1-t2, fn_expires_in: 20d, ofd_down_since: 2h }',
      ].join('\n'),
      'timed.yml',
      known,
    );
    // One simulated hour per real second.
    fleet = new Fleet(inv, { scenario, speed: 3600, now: () => clock, intervalMs: 60_000 });
    await fleet.start();
    const t1 = fleet.tills.get('s1-t1');
    const t2 = fleet.tills.get('s1-t2');
    if (!t1 || !t2) throw new Error('tills missing');
    const metric = async (till: typeof t1, series: string) => {
      await till.collectNow();
      return seriesValue(await till.metrics(), series);
    };
    const paper = 'till_fiscal_paper_present{device="fiscal"}';

    // Conditions apply at start: the FN warns (30-day flag) and the OFD backlog is two hours old.
    const fn0 = (await metric(t2, 'till_fiscal_fn_expiry_timestamp_seconds{device="fiscal"}')) as number;
    expect((fn0 - Date.now() / 1000) / 86400).toBeCloseTo(20, 1);
    expect(await metric(t2, 'till_fiscal_fn_warning{device="fiscal",warning="resource_low"}')).toBe(1);
    const oldest0 = (await metric(
      t2,
      'till_fiscal_ofd_oldest_unsent_timestamp_seconds{device="fiscal"}',
    )) as number;
    expect(Date.now() / 1000 - oldest0).toBeGreaterThan(2 * 3600 - 120);

    clock += 29_000;
    await fleet.tick();
    expect(t1.activeFaults()).toEqual([]);
    expect(await metric(t1, paper)).toBe(1);

    clock += 1_000;
    await fleet.tick();
    expect(t1.activeFaults()).toEqual(['paper_out']);
    expect(await metric(t1, paper)).toBe(0);
    expect(await metric(t2, paper)).toBe(1);

    // 30 real seconds at 3600x: 30 simulated hours more of FN ageing and of OFD backlog.
    const fn1 = (await metric(t2, 'till_fiscal_fn_expiry_timestamp_seconds{device="fiscal"}')) as number;
    expect(fn0 - fn1).toBeGreaterThan(29 * 3600);
    const oldest1 = (await metric(
      t2,
      'till_fiscal_ofd_oldest_unsent_timestamp_seconds{device="fiscal"}',
    )) as number;
    expect(oldest0 - oldest1).toBeGreaterThan(29 * 3600);

    clock += 15_000;
    await fleet.tick();
    expect(t2.reachable).toBe(false);
    expect(fleet.list().find((t) => t.till === 's1-t2')?.faults).toEqual(['ofd_down', 'uplink_down']);
    clock += 10_000;
    await fleet.tick();
    expect(t2.reachable).toBe(true);

    clock += 35_000;
    await fleet.tick();
    expect(t1.activeFaults()).toEqual([]);
    expect(await metric(t1, paper)).toBe(1);
    expect(fleet.fired).toEqual([
      '+s1-t1 paper_out',
      '+s1 uplink_down',
      '-s1 uplink_down',
      '-s1-t1 paper_out',
    ]);
  });

  it('runs the paper out after the receipts left on the roll', async () => {
    const inv = await smallInventory(1, 1);
    let clock = 0;
    const scenario = parseScenarioText(
      'receipts_per_hour: 60\nconditions:\n  - { till: s1-t1, paper_receipts_left: 5 }',
      'p.yml',
    );
    fleet = new Fleet(inv, { scenario, now: () => clock, intervalMs: 60_000 });
    await fleet.start();
    const t1 = fleet.tills.get('s1-t1');
    clock += 4 * 60_000; // 4 receipts
    await fleet.tick();
    expect(t1?.activeFaults()).toEqual([]);
    clock += 60_000;
    await fleet.tick();
    expect(t1?.activeFaults()).toEqual(['paper_out']);
  });
});

describe('shipped scenarios', () => {
  it('simulator/scenarios/demo.yml is valid against the demo inventory', async () => {
    const { loadInventory } = await import('@tillwatch/inventory');
    const { tillSpecs } = await import('./fleet.js');
    const root = new URL('../../../', import.meta.url).pathname;
    const specs = tillSpecs(loadInventory(join(root, 'deploy/inventory/demo.yml')));
    const s = loadScenario(join(root, 'simulator/scenarios/demo.yml'), {
      tills: new Set(specs.map((t) => t.till)),
      stores: new Set(specs.map((t) => t.store)),
    });
    expect(s.events.length).toBeGreaterThan(3);
    expect(s.conditions.length).toBeGreaterThan(3);
    // Conditions that need a device name a till that has it.
    for (const c of s.conditions) {
      const spec = specs.find((t) => t.till === c.till);
      if (c.utm_cert_expires_in !== undefined) expect(spec?.utm).toBe(true);
      if (c.marking_sync_stuck_since !== undefined) expect(spec?.marking).toBe(true);
    }
    for (const e of s.events) {
      if ('till' in e && e.fault === 'marking_not_ready')
        expect(specs.find((t) => t.till === e.till)?.marking).toBe(true);
    }
  });
});

describe('start-up errors', () => {
  it('names the till whose address is taken', async () => {
    const net = await import('node:net');
    const { runFleet } = await import('./run.js');
    const inventory = await smallInventory(1, 1);
    const address = inventory.chains[0]?.regions[0]?.stores[0]?.tills[0]?.address as string;
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(Number(address.split(':')[1]), '127.0.0.1', r));
    try {
      await expect(runFleet({ inventory, controlListen: '127.0.0.1:0' })).rejects.toThrow(
        `till s1-t1: cannot listen on ${address}: listen EADDRINUSE`,
      );
    } finally {
      blocker.close();
    }
  });
});
