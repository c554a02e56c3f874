// The Shtrih driver and the fiscal collector against the Shtrih emulator over real TCP sockets:
// every metric for a healthy device, a changed state, and each fault.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectOnce, dump, upOf, valueOf } from '../testing/collect.js';
import {
  HEALTHY_STATE,
  S,
  TZ,
  errorsLines,
  healthyLines,
  now,
  shtrihCollector as collector,
} from '../testing/shtrih-fixtures.js';
import { ShtrihEmulator } from './shtrih-emulator.js';
import type { Fault } from './faults.js';

describe('Shtrih-M over TCP', () => {
  let emu: ShtrihEmulator;
  beforeEach(async () => {
    emu = new ShtrihEmulator({ now, utcOffsetMinutes: TZ, state: HEALTHY_STATE });
    await emu.start();
  });
  afterEach(async () => {
    await emu.stop();
  });

  it('reports every metric of a healthy registrar', async () => {
    const r = await collectOnce(collector(emu.address), now);
    expect(dump(r)).toEqual(healthyLines());
  });

  it('follows state changes: paper out, cover and drawer open, expired shift, FN warnings, OFD down, clock behind', async () => {
    emu.patchState({
      paperPresent: false,
      coverOpen: true,
      drawerOpen: true,
      shiftOpenedAt: S - 25 * 3600,
      fnWarnings: { replace_urgent: true, ofd_timeout: true, critical: true },
      documentsRemaining: 12,
      ofdConnected: false,
      ofdQueue: 0,
      ofdOldestUnsentAt: null,
      clockOffsetSeconds: -400,
    });
    const r = await collectOnce(collector(emu.address), now);
    const l = { device: 'fiscal' };
    expect(valueOf(r, 'till_fiscal_paper_present', l)).toBe(0);
    expect(valueOf(r, 'till_fiscal_cover_open', l)).toBe(1);
    expect(valueOf(r, 'till_fiscal_drawer_open', l)).toBe(1);
    expect(valueOf(r, 'till_fiscal_shift_open', l)).toBe(1);
    expect(valueOf(r, 'till_fiscal_shift_expired', l)).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'replace_urgent' })).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'resource_low' })).toBe(0);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'memory_full' })).toBe(0);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'ofd_timeout' })).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_warning', { warning: 'critical' })).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_documents_remaining', l)).toBe(12);
    expect(valueOf(r, 'till_fiscal_ofd_connected', l)).toBe(0);
    expect(valueOf(r, 'till_fiscal_ofd_unsent_documents', l)).toBe(0);
    expect(valueOf(r, 'till_fiscal_ofd_oldest_unsent_timestamp_seconds', l)).toBeUndefined();
    expect(valueOf(r, 'till_fiscal_clock_offset_seconds', l)).toBe(-400);
    expect(upOf(r, 'fiscal')).toBe(true);
  });

  it('reports a closed shift', async () => {
    emu.patchState({ shiftOpen: false, shiftOpenedAt: null });
    const r = await collectOnce(collector(emu.address), now);
    expect(valueOf(r, 'till_fiscal_shift_open')).toBe(0);
    expect(valueOf(r, 'till_fiscal_shift_expired')).toBe(0);
  });

  it('reports a standing FN error: status still read, FN metrics absent, error code exported', async () => {
    emu.patchState({ errorCode: 0x2f });
    const r = await collectOnce(collector(emu.address), now);
    expect(upOf(r, 'fiscal')).toBe(true);
    expect(valueOf(r, 'till_fiscal_last_error_code')).toBe(0x2f);
    expect(valueOf(r, 'till_fiscal_errors_total', { reason: 'device_error' })).toBe(4);
    expect(valueOf(r, 'till_fiscal_paper_present')).toBe(1);
    expect(valueOf(r, 'till_fiscal_fn_expiry_timestamp_seconds')).toBeUndefined();
    expect(valueOf(r, 'till_fiscal_ofd_unsent_documents')).toBeUndefined();
  });

  it('rejects a wrong password with the device error 0x4F', async () => {
    const r = await collectOnce(collector(emu.address, { password: 1, admin_password: 1 }), now);
    expect(upOf(r, 'fiscal')).toBe(true);
    expect(valueOf(r, 'till_fiscal_last_error_code')).toBe(0x4f);
    expect(valueOf(r, 'till_fiscal_paper_present')).toBeUndefined();
  });

  it('recovers inside one poll from a single NAK and a single bad LRC (retries)', async () => {
    emu.fault({ type: 'nak_storm', command: '11', times: 1 });
    emu.fault({ type: 'corrupt_lrc', command: 'FF39', times: 1 });
    const r = await collectOnce(collector(emu.address), now);
    expect(dump(r)).toEqual(healthyLines());
  });

  it('waits for a slow reply within the reply timeout', async () => {
    emu.fault({ type: 'slow', delayMs: 150 });
    const r = await collectOnce(collector(emu.address), now);
    expect(dump(r)).toEqual(healthyLines());
  });

  const faults: Array<[string, Fault, string]> = [
    ['no answer', { type: 'no_answer' }, 'timeout'],
    ['no answer to one command', { type: 'no_answer', command: 'FF01' }, 'timeout'],
    ['a NAK storm', { type: 'nak_storm' }, 'nak'],
    ['a corrupted LRC', { type: 'corrupt_lrc' }, 'lrc'],
    ['a truncated frame', { type: 'truncated' }, 'framing'],
    ['garbage bytes', { type: 'garbage' }, 'framing'],
    ['garbage after the ENQ handshake', { type: 'garbage', command: '11' }, 'framing'],
    ['a reply slower than the timeout', { type: 'slow', delayMs: 8000 }, 'timeout'],
    ['a dropped connection', { type: 'drop' }, 'connection'],
  ];
  for (const [name, fault, reason] of faults) {
    it(`reports ${name} as down with one ${reason} error and no stale series`, async () => {
      const c = collector(emu.address);
      expect(upOf(await collectOnce(c, now), 'fiscal')).toBe(true);
      emu.fault(fault);
      const r = await collectOnce(c, now);
      expect(dump(r)).toEqual(
        [
          'till_fiscal_last_error_code{device=fiscal} 0',
          ...errorsLines({ [reason]: 1 }),
          'till_device_up{device=fiscal,kind=fiscal} 0',
        ].sort(),
      );
      // The counter keeps counting across polls, and the device comes back once the fault is gone.
      emu.clearFaults();
      const again = await collectOnce(c, now);
      expect(upOf(again, 'fiscal')).toBe(true);
      expect(valueOf(again, 'till_fiscal_errors_total', { reason })).toBe(1);
    });
  }

  it('reports an error byte on every command as up, with the code and one device error per command', async () => {
    emu.fault({ type: 'error_byte', code: 0x6b });
    const r = await collectOnce(collector(emu.address), now);
    expect(upOf(r, 'fiscal')).toBe(true);
    expect(valueOf(r, 'till_fiscal_last_error_code')).toBe(0x6b);
    expect(valueOf(r, 'till_fiscal_errors_total', { reason: 'device_error' })).toBe(7);
    expect(valueOf(r, 'till_fiscal_info')).toBe(1);
    expect(valueOf(r, 'till_fiscal_paper_present')).toBeUndefined();
  });

  it('reports an error byte on one command: only that command’s metrics are missing', async () => {
    emu.fault({ type: 'error_byte', command: 'FF39', code: 0x14 });
    const r = await collectOnce(collector(emu.address), now);
    const expected = healthyLines()
      .filter((l) => !l.startsWith('till_fiscal_ofd_') && !l.startsWith('till_fiscal_last_error_code'))
      .filter((l) => !l.startsWith('till_fiscal_errors_total'));
    expected.push('till_fiscal_last_error_code{device=fiscal} 20', ...errorsLines({ device_error: 1 }));
    expect(dump(r)).toEqual(expected.sort());
  });

  it('reports a registrar that refuses connections as down', async () => {
    const address = emu.address;
    await emu.stop();
    const r = await collectOnce(collector(address), now);
    expect(upOf(r, 'fiscal')).toBe(false);
    expect(valueOf(r, 'till_fiscal_errors_total', { reason: 'connection' })).toBe(1);
  });
});

describe('Shtrih-M answering garbage, many seeds', () => {
  it('is always down with exactly one counted error, and every poll completes', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const emu = new ShtrihEmulator({ now, utcOffsetMinutes: TZ, seed });
      await emu.start();
      try {
        // Odd seeds: garbage from the first byte; even seeds: a clean handshake, then garbage as the reply.
        emu.fault(seed % 2 ? { type: 'garbage' } : { type: 'garbage', command: 'FC' });
        const c = collector(emu.address, { byte_timeout: '50ms', reply_timeout: '100ms' });
        const r = await collectOnce(c, now);
        const errors = (r.families.find((f) => f.name === 'till_fiscal_errors_total')?.samples ?? []).reduce(
          (sum, s) => sum + s.value,
          0,
        );
        expect({ seed, up: upOf(r, 'fiscal'), errors }).toEqual({ seed, up: false, errors: 1 });
        expect(valueOf(r, 'till_fiscal_info')).toBeUndefined();
      } finally {
        await emu.stop();
      }
    }
  });
});
