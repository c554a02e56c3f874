// The UTM client and collector against the UTM emulator over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UtmCollector, utmSchema } from '@tillwatch/exporter/collectors/utm';
import { collectOnce, dump, upOf, valueOf } from '../testing/collect.js';
import { UtmEmulator } from './utm-emulator.js';
import type { Fault } from './faults.js';

const TZ = 180;
const NOW = Date.UTC(2026, 10, 25, 9, 0, 0);
const now = () => NOW;
const S = NOW / 1000;

function collector(url: string, extra: Record<string, unknown> = {}): UtmCollector {
  const cfg = utmSchema.parse({ url, request_timeout: '2s', utc_offset_minutes: TZ, ...extra });
  if (!cfg) throw new Error('unreachable');
  return new UtmCollector(cfg);
}

describe('EGAIS UTM', () => {
  let emu: UtmEmulator;
  beforeEach(async () => {
    emu = new UtmEmulator({
      now,
      utcOffsetMinutes: TZ,
      state: { rsaExpiry: S + 40 * 86400, gostExpiry: S + 10 * 86400 },
    });
    await emu.start();
  });
  afterEach(() => emu.stop());

  it('reports identity and certificate expiry, and no unsent receipt when the queue is empty', async () => {
    expect(dump(await collectOnce(collector(emu.address), now))).toEqual(
      [
        'till_utm_info{device=utm,fsrar_id=030000123456,version=4.2.0} 1',
        `till_utm_certificate_expiry_timestamp_seconds{certificate=rsa,device=utm} ${S + 40 * 86400}`,
        `till_utm_certificate_expiry_timestamp_seconds{certificate=gost,device=utm} ${S + 10 * 86400}`,
        'till_device_up{device=utm,kind=utm} 1',
      ].sort(),
    );
  });

  it('reports the oldest unsent receipt from the home page', async () => {
    emu.patchState({
      unsentReceipts: 4,
      oldestUnsentAt: S - 3 * 3600,
      version: '4.2.1',
      fsrarId: '010000000001',
    });
    const r = await collectOnce(collector(emu.address, { device: 'egais' }), now);
    expect(valueOf(r, 'till_utm_oldest_unsent_receipt_timestamp_seconds', { device: 'egais' })).toBe(
      S - 3 * 3600,
    );
    expect(valueOf(r, 'till_utm_info', { version: '4.2.1', fsrar_id: '010000000001' })).toBe(1);
    expect(upOf(r, 'egais')).toBe(true);
  });

  it('uses a configured pattern when the home page words differ', async () => {
    emu.patchState({ unsentReceipts: 1, oldestUnsentAt: S - 60 });
    const r = await collectOnce(
      collector(emu.address, { unsent_pattern: 'самого старого[^:]*: (\\S+ \\S+)' }),
      now,
    );
    expect(valueOf(r, 'till_utm_oldest_unsent_receipt_timestamp_seconds')).toBe(S - 60);
  });

  const faults: Array<[string, Fault]> = [
    ['no answer', { type: 'no_answer' }],
    ['HTTP 500', { type: 'http_500' }],
    ['malformed JSON', { type: 'malformed_json' }],
    ['garbage', { type: 'garbage' }],
    ['a slow reply', { type: 'slow', delayMs: 8000 }],
    ['a dropped connection', { type: 'drop' }],
    ['a truncated body', { type: 'truncated' }],
    ['a failing home page', { type: 'http_500', command: '/' }],
  ];
  for (const [name, fault] of faults) {
    it(`reports ${name} as down with no other series`, async () => {
      emu.fault(fault);
      expect(dump(await collectOnce(collector(emu.address), now))).toEqual([
        'till_device_up{device=utm,kind=utm} 0',
      ]);
    });
  }

  it('reports a stopped UTM as down', async () => {
    const url = emu.address;
    await emu.stop();
    expect(upOf(await collectOnce(collector(url), now), 'utm')).toBe(false);
  });
});
