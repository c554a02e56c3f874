// The ATOL web-server client and the fiscal collector against the ATOL emulator over real HTTP:
// each result shape, state changes and each HTTP fault.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FiscalCollector, fiscalSchema } from '@tillwatch/exporter/collectors/fiscal';
import { collectOnce, dump, upOf, valueOf } from '../testing/collect.js';
import { AtolEmulator, ATOL_SHAPES } from './atol-emulator.js';
import type { Fault } from './faults.js';

const TZ = 180;
const NOW = Date.UTC(2026, 10, 25, 9, 0, 0);
const now = () => NOW;
const S = NOW / 1000;
const FN_EXPIRY = S + 200 * 86400;
const REASONS = ['busy', 'connection', 'device_error', 'framing', 'http', 'lrc', 'nak', 'parse', 'timeout'];

const errorsLines = (counts: Record<string, number> = {}) =>
  REASONS.map((r) => `till_fiscal_errors_total{device=kkt,reason=${r}} ${counts[r] ?? 0}`);

function collector(address: string, extra: Record<string, unknown> = {}): FiscalCollector {
  return new FiscalCollector(
    fiscalSchema.parse([
      {
        device: 'kkt',
        driver: 'atol',
        address,
        reply_timeout: '2s',
        atol_result_poll: '10ms',
        utc_offset_minutes: TZ,
        ...extra,
      },
    ]),
  );
}

const healthy = [
  'till_fiscal_info{device=kkt,driver=atol,firmware=1.0.12345,fn_serial=9999078900012345,model=АТОЛ 30Ф,serial=12345678} 1',
  'till_fiscal_paper_present{device=kkt} 1',
  'till_fiscal_cover_open{device=kkt} 0',
  'till_fiscal_drawer_open{device=kkt} 0',
  'till_fiscal_shift_open{device=kkt} 1',
  'till_fiscal_shift_expired{device=kkt} 0',
  `till_fiscal_shift_opened_timestamp_seconds{device=kkt} ${S - 3600}`,
  `till_fiscal_fn_expiry_timestamp_seconds{device=kkt} ${FN_EXPIRY}`,
  ...['critical', 'memory_full', 'ofd_timeout', 'replace_urgent', 'resource_low'].map(
    (w) => `till_fiscal_fn_warning{device=kkt,warning=${w}} 0`,
  ),
  // From the getFnFreeMemory task, asked in a request of its own.
  'till_fiscal_fn_documents_remaining{device=kkt} 240000',
  'till_fiscal_ofd_connected{device=kkt} 1',
  'till_fiscal_ofd_unsent_documents{device=kkt} 3',
  `till_fiscal_ofd_oldest_unsent_timestamp_seconds{device=kkt} ${S - 2 * 86400}`,
  'till_fiscal_clock_offset_seconds{device=kkt} 90',
  'till_fiscal_last_error_code{device=kkt} 0',
  ...errorsLines(),
  'till_device_up{device=kkt,kind=fiscal} 1',
].sort();

describe('ATOL web server', () => {
  let emu: AtolEmulator;
  beforeEach(async () => {
    emu = new AtolEmulator({
      now,
      utcOffsetMinutes: TZ,
      state: {
        fnExpiry: FN_EXPIRY,
        ofdQueue: 3,
        ofdOldestUnsentAt: S - 2 * 86400,
        clockOffsetSeconds: 90,
        shiftOpenedAt: S - 3600,
      },
    });
    await emu.start();
  });
  afterEach(() => emu.stop());

  for (const shape of ATOL_SHAPES) {
    it(`reads every metric from the "${shape}" result shape`, async () => {
      emu.patchState({ resultShape: shape });
      expect(dump(await collectOnce(collector(emu.address), now))).toEqual(healthy);
    });
  }

  it('sends one request per task when batching is off', async () => {
    const r = await collectOnce(collector(emu.address, { atol_batch: false }), now);
    expect(dump(r)).toEqual(healthy);
    // The five documented tasks, then the FN resource task on its own.
    expect(emu.requestCounts.get('/api/v2/requests')).toBe(6);
  });

  it('keeps polling while tasks are in progress', async () => {
    emu.patchState({ pendingPolls: 3 });
    expect(dump(await collectOnce(collector(emu.address), now))).toEqual(healthy);
  });

  it('follows state changes', async () => {
    emu.patchState({
      paperPresent: false,
      coverOpen: true,
      drawerOpen: true,
      shiftOpenedAt: S - 25 * 3600,
      fnWarnings: { resource_low: true, memory_full: true },
      ofdConnected: false,
      ofdQueue: 0,
      clockOffsetSeconds: -30,
    });
    const r = await collectOnce(collector(emu.address), now);
    expect(valueOf(r, 'till_fiscal_paper_present')).toBe(0);
    expect(valueOf(r, 'till_fiscal_cover_open')).toBe(1);
    expect(valueOf(r, 'till_fiscal_drawer_open')).toBe(1);
    expect(valueOf(r, 'till_fiscal_shift_expired')).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'resource_low' })).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'memory_full' })).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'replace_urgent' })).toBe(0);
    expect(valueOf(r, 'till_fiscal_ofd_connected')).toBe(0);
    expect(valueOf(r, 'till_fiscal_ofd_unsent_documents')).toBe(0);
    expect(valueOf(r, 'till_fiscal_ofd_oldest_unsent_timestamp_seconds')).toBeUndefined();
    expect(valueOf(r, 'till_fiscal_clock_offset_seconds')).toBe(-30);
    emu.patchState({ shiftOpen: false });
    const closed = await collectOnce(collector(emu.address), now);
    expect(valueOf(closed, 'till_fiscal_shift_open')).toBe(0);
    expect(valueOf(closed, 'till_fiscal_shift_opened_timestamp_seconds')).toBeUndefined();
  });

  it('reports a task error as up with its code; the other tasks still count', async () => {
    emu.fault({ type: 'error_byte', command: 'getFnInfo', code: 231 });
    const r = await collectOnce(collector(emu.address), now);
    expect(upOf(r, 'kkt')).toBe(true);
    expect(valueOf(r, 'till_fiscal_last_error_code')).toBe(231);
    expect(valueOf(r, 'till_fiscal_errors_total', { reason: 'device_error' })).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_expiry_timestamp_seconds')).toBeUndefined();
    expect(valueOf(r, 'till_fiscal_paper_present')).toBe(1);
  });

  it('uses Basic auth and reports a wrong password as an HTTP error', async () => {
    await emu.stop();
    emu = new AtolEmulator({ now, utcOffsetMinutes: TZ, username: 'mon', password: 's3cret' });
    await emu.start();
    expect(
      upOf(await collectOnce(collector(emu.address, { username: 'mon', password: 's3cret' }), now), 'kkt'),
    ).toBe(true);
    const bad = await collectOnce(collector(emu.address, { username: 'mon', password: 'wrong' }), now);
    expect(upOf(bad, 'kkt')).toBe(false);
    expect(valueOf(bad, 'till_fiscal_errors_total', { reason: 'http' })).toBe(1);
  });

  const faults: Array<[string, Fault, string]> = [
    ['no answer', { type: 'no_answer' }, 'timeout'],
    ['HTTP 500', { type: 'http_500' }, 'http'],
    ['malformed JSON', { type: 'malformed_json' }, 'parse'],
    ['garbage bytes', { type: 'garbage' }, 'parse'],
    ['a slow reply', { type: 'slow', delayMs: 8000 }, 'timeout'],
    ['a dropped connection', { type: 'drop' }, 'connection'],
    ['a truncated body', { type: 'truncated' }, 'connection'],
    ['HTTP 500 on the result only', { type: 'http_500', command: '/api/v2/requests/*' }, 'http'],
  ];
  for (const [name, fault, reason] of faults) {
    it(`reports ${name} as down with one ${reason} error`, async () => {
      emu.fault(fault);
      const r = await collectOnce(collector(emu.address), now);
      expect(dump(r)).toEqual(
        [
          'till_fiscal_last_error_code{device=kkt} 0',
          ...errorsLines({ [reason]: 1 }),
          'till_device_up{device=kkt,kind=fiscal} 0',
        ].sort(),
      );
    });
  }

  it('reports a web server that refuses connections as down', async () => {
    const address = emu.address;
    await emu.stop();
    const r = await collectOnce(collector(address), now);
    expect(upOf(r, 'kkt')).toBe(false);
    expect(valueOf(r, 'till_fiscal_errors_total', { reason: 'connection' })).toBe(1);
  });
});
