// The Shtrih driver over a real serial line: a socat pseudo-terminal pair, the emulator on one end
// (through the serialport package) and the exporter's driver on the other.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { collectOnce, dump, upOf, valueOf } from '../testing/collect.js';
import { openPtyPair, type PtyPair } from '@tillwatch/testkit';
import {
  HEALTHY_STATE,
  TZ,
  errorsLines,
  healthyLines,
  now,
  shtrihCollector,
} from '../testing/shtrih-fixtures.js';
import { ShtrihEmulator } from './shtrih-emulator.js';
import type { Fault } from './faults.js';

function open(path: string, lock = false): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: 115200, autoOpen: false, lock });
    p.open((err) => (err ? reject(err) : resolve(p)));
  });
}

function close(p: SerialPort): Promise<void> {
  return new Promise((resolve) => (p.isOpen ? p.close(() => resolve()) : resolve()));
}

describe('Shtrih-M over a serial line (pty pair)', () => {
  let pty: PtyPair;
  let devicePort: SerialPort;
  let emu: ShtrihEmulator;
  beforeEach(async () => {
    pty = await openPtyPair();
    devicePort = await open(pty.a);
    emu = new ShtrihEmulator({ now, utcOffsetMinutes: TZ, state: HEALTHY_STATE });
    emu.attach(devicePort);
  });
  afterEach(async () => {
    await emu.stop();
    await close(devicePort);
    await pty.close();
  });

  it('reports every metric of a healthy registrar', async () => {
    const r = await collectOnce(shtrihCollector(`serial://${pty.b}?baud=115200`), now);
    expect(dump(r)).toEqual(healthyLines());
  });

  // A serial line cannot "drop" like a TCP connection; the other faults behave as over TCP.
  const faults: Array<[string, Fault, string]> = [
    ['no answer', { type: 'no_answer' }, 'timeout'],
    ['a NAK storm', { type: 'nak_storm' }, 'nak'],
    ['a corrupted LRC', { type: 'corrupt_lrc' }, 'lrc'],
    ['a truncated frame', { type: 'truncated' }, 'framing'],
    ['garbage bytes', { type: 'garbage' }, 'framing'],
    ['a reply slower than the timeout', { type: 'slow', delayMs: 8000 }, 'timeout'],
  ];
  for (const [name, fault, reason] of faults) {
    it(`reports ${name} on the line as down with one ${reason} error, then recovers`, async () => {
      const c = shtrihCollector(`serial://${pty.b}`);
      emu.fault(fault);
      expect(dump(await collectOnce(c, now))).toEqual(
        [
          'till_fiscal_last_error_code{device=fiscal} 0',
          ...errorsLines({ [reason]: 1 }),
          'till_device_up{device=fiscal,kind=fiscal} 0',
        ].sort(),
      );
      emu.clearFaults();
      expect(upOf(await collectOnce(c, now), 'fiscal')).toBe(true);
    });
  }

  it('reports an error byte on the line with its code', async () => {
    emu.fault({ type: 'error_byte', command: 'FF03', code: 0x12 });
    const r = await collectOnce(shtrihCollector(`serial://${pty.b}`), now);
    expect(upOf(r, 'fiscal')).toBe(true);
    expect(valueOf(r, 'till_fiscal_last_error_code')).toBe(0x12);
    expect(valueOf(r, 'till_fiscal_fn_expiry_timestamp_seconds')).toBeUndefined();
    expect(valueOf(r, 'till_fiscal_fn_documents_remaining')).toBe(240000);
  });

  it('reports a port held by another program as busy, and backs off before trying again', async () => {
    // The POS program holds the port (serialport locks it exclusively, as most POS software does).
    const pos = await open(pty.b, true);
    let t = Date.UTC(2026, 10, 25, 9, 0, 0);
    const clock = () => t;
    const c = shtrihCollector(`serial://${pty.b}`, { busy_backoff: '5s' });
    const r1 = await collectOnce(c, clock);
    expect(dump(r1)).toEqual(
      [
        'till_fiscal_last_error_code{device=fiscal} 0',
        ...errorsLines({ busy: 1 }),
        'till_device_up{device=fiscal,kind=fiscal} 0',
      ].sort(),
    );
    // Within the backoff the port is not touched: no new attempt, no new error, still down.
    await close(pos);
    t += 1000;
    const r2 = await collectOnce(c, clock);
    expect(upOf(r2, 'fiscal')).toBe(false);
    expect(valueOf(r2, 'till_fiscal_errors_total', { reason: 'busy' })).toBe(1);
    // After the backoff the port is free and the registrar answers.
    t += 5000;
    const r3 = await collectOnce(c, clock);
    expect(upOf(r3, 'fiscal')).toBe(true);
  });
});
