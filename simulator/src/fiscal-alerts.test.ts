// The fiscal alerts that could not fire before issue 22, end to end: the real exporter reads the Shtrih and
// ATOL emulators at emulated times, and promtool evaluates the shipped rules on what it exposed.
// The Shtrih emulator's clock is the test's: a shift opened at 08:00 is 22 h old one call later.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createExporter, parseConfig, registeredCollectors } from '@tillwatch/exporter';
import { FiscalCollector, createDriver, fiscalSchema } from '@tillwatch/exporter/collectors/fiscal';
import { firstMetrics, promtoolAlerts, seriesValue } from '@tillwatch/testkit';
import { AtolEmulator } from './emulators/atol-emulator.js';
import { closeShift, openShift, sell } from './emulators/fiscal-state.js';
import { ShtrihEmulator } from './emulators/shtrih-emulator.js';

const ZONE = 180;
const TARGET = {
  instance: 'till-01:9835',
  job: 'tillwatch-exporter',
  chain: 'demo',
  region: '77',
  store: '0001',
  till: '01',
};
const SHIFT_ALERTS = ['TillFiscalShiftNearing24h', 'TillFiscalShiftExpired'];

let clock = Date.parse('2026-11-25T05:00:00Z'); // 08:00 at +03:00
const dir = mkdtempSync(join(tmpdir(), 'tillwatch-shift-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One exporter run (start = first poll, then stop): every call is a fresh process as far as state goes. */
async function scrape(fiscal: Record<string, unknown>): Promise<string> {
  const e = createExporter(
    parseConfig({ identity: { chain: 'demo', region: '77', store: '0001', till: '01' }, fiscal: [fiscal] }),
    {
      logger: pino({ level: 'silent' }),
      now: () => clock,
      collectors: registeredCollectors().filter((c) => c.name === 'fiscal'),
    },
  );
  return firstMetrics(e);
}

async function firing(text: string, names: string[]): Promise<string[]> {
  const alerts = await promtoolAlerts({
    exposition: text,
    alertnames: names,
    targetLabels: TARGET,
    capturedAt: clock / 1000,
  });
  return alerts.map((a) => a.alertname).sort();
}

describe('Shtrih shift age', () => {
  let emu: ShtrihEmulator;
  const stateFile = join(dir, 'shift-kkt.json');
  const device = () => ({
    device: 'kkt',
    driver: 'shtrih',
    address: emu.address,
    reply_timeout: '2s',
    utc_offset_minutes: ZONE,
    shift_state_file: stateFile,
  });
  const opened = (text: string) =>
    seriesValue(text, 'till_fiscal_shift_opened_timestamp_seconds{device="kkt"}');

  beforeAll(async () => {
    emu = new ShtrihEmulator({ now: () => clock, utcOffsetMinutes: ZONE });
    emu.patchState(closeShift(emu.getState()));
    await emu.start();
  });
  afterAll(() => emu.stop());
  afterEach(() => emu.clearFaults());

  it('is absent while the shift is closed', async () => {
    const text = await scrape(device());
    expect(seriesValue(text, 'till_fiscal_shift_open{device="kkt"}')).toBe(0);
    expect(opened(text)).toBeUndefined();
  });

  it('comes from the opening report in the FN archive, and fires the 22 h warning at 22 h', async () => {
    const openedAt = clock / 1000;
    emu.patchState(sell(openShift(emu.getState(), openedAt), 57));
    clock += (21 * 60 + 50) * 60_000;
    let text = await scrape(device());
    expect(opened(text)).toBe(openedAt);
    expect(await firing(text, SHIFT_ALERTS)).toEqual([]);

    clock += 20 * 60_000; // 22 h 10 min
    text = await scrape(device());
    expect(opened(text)).toBe(openedAt);
    const alerts = await promtoolAlerts({
      exposition: text,
      alertnames: SHIFT_ALERTS,
      targetLabels: TARGET,
      capturedAt: clock / 1000,
    });
    expect(alerts.map((a) => a.alertname)).toEqual(['TillFiscalShiftNearing24h']);
    expect(alerts[0]?.labels).toMatchObject({
      device: 'kkt',
      store: '0001',
      till: '01',
      severity: 'warning',
    });
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual({
      fnSerial: '9999078900012345',
      shiftNumber: 43,
      openedAt,
      source: 'document',
    });
  });

  it('survives an exporter restart when the archive can no longer be read, and fires the critical at 24 h', async () => {
    // From now on FF0A finds nothing: only the kept record can tell the shift's age.
    emu.fault({ type: 'error_byte', command: 'FF0A', code: 0x08 });
    const openedAt = emu.getState().shiftOpenedAt;
    clock += 2 * 3600_000; // 24 h 10 min
    const text = await scrape(device());
    expect(opened(text)).toBe(openedAt);
    expect(await firing(text, SHIFT_ALERTS)).toEqual(['TillFiscalShiftExpired']);
    // Without the record the same registrar gives no age at all: the record is what carried it.
    const fresh = await scrape({ ...device(), shift_state_file: join(dir, 'other.json') });
    expect(opened(fresh)).toBeUndefined();
  });

  it('falls back to the closed → open change the exporter saw itself', async () => {
    emu.fault({ type: 'error_byte', command: 'FF0A', code: 0x08 });
    emu.patchState(closeShift(emu.getState()));
    const file = join(dir, 'transition.json');
    // One collector polled twice, as the running exporter would: the change happens between the polls.
    const collector = new FiscalCollector(
      fiscalSchema.parse([{ ...device(), shift_state_file: file }]),
      (d) => createDriver(d),
    );
    const ctx = () => ({
      signal: AbortSignal.timeout(10_000),
      logger: pino({ level: 'silent' }),
      now: () => clock,
    });
    const closedAt = clock / 1000;
    try {
      await collector.collect(ctx()); // sees the shift closed
      clock += 5 * 60_000;
      emu.patchState(openShift(emu.getState(), clock / 1000));
      clock += 60_000;
      await collector.collect(ctx());
    } finally {
      await collector.close();
    }
    const text = await scrape({ ...device(), shift_state_file: join(dir, 'transition.json') });
    expect(opened(text)).toBe(closedAt);
  });
  it('does not search an archive that failed it again every poll', async () => {
    emu.fault({ type: 'error_byte', command: 'FF0A', code: 0x08 });
    emu.patchState(openShift(emu.getState(), clock / 1000));
    const collector = new FiscalCollector(
      fiscalSchema.parse([{ ...device(), shift_state_file: join(dir, 'mid-shift.json') }]),
      (d) => createDriver(d),
    );
    const before = emu.commandCounts.get('FF0A') ?? 0;
    try {
      for (let i = 0; i < 3; i++) {
        clock += 30_000;
        await collector.collect({
          signal: AbortSignal.timeout(10_000),
          logger: pino({ level: 'silent' }),
          now: () => clock,
        });
      }
    } finally {
      await collector.close();
    }
    // Started in the middle of a shift with an unreadable archive: one look, then no age for this shift.
    expect((emu.commandCounts.get('FF0A') ?? 0) - before).toBe(1);
  });
});

describe('ATOL FN resource', () => {
  let emu: AtolEmulator;
  beforeAll(async () => {
    emu = new AtolEmulator({ state: { pendingPolls: 0 } });
    await emu.start();
  });
  afterAll(() => emu.stop());
  const device = () => ({ device: 'kkt', driver: 'atol', address: emu.address, reply_timeout: '2s' });
  const RESOURCE = ['TillFiscalFnResourceExhausted', 'TillFiscalFnResourceRunningOut'];

  it('reports the documents left and fires the resource alert near the limit only', async () => {
    let text = await scrape(device());
    expect(seriesValue(text, 'till_fiscal_fn_documents_remaining{device="kkt"}')).toBe(240_000);
    expect(await firing(text, RESOURCE)).toEqual([]);

    emu.patchState({ documentsRemaining: 900 });
    text = await scrape(device());
    expect(seriesValue(text, 'till_fiscal_fn_documents_remaining{device="kkt"}')).toBe(900);
    expect(await firing(text, RESOURCE)).toEqual(['TillFiscalFnResourceExhausted']);
  });
});
