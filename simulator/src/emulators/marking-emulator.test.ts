// The marking-module client and collector against the marking emulator over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MarkingCollector, markingSchema } from '@tillwatch/exporter/collectors/marking';
import { collectOnce, dump, upOf, valueOf } from '../testing/collect.js';
import { MarkingEmulator } from './marking-emulator.js';
import type { Fault } from './faults.js';

const NOW = Date.UTC(2026, 10, 25, 9, 0, 0);
const now = () => NOW;
const S = NOW / 1000;
const STATUSES = ['enisey_off-line', 'initialization', 'not_configured', 'ready', 'sync_error', 'unknown'];

function collector(url: string, extra: Record<string, unknown> = {}): MarkingCollector {
  const cfg = markingSchema.parse({
    url,
    username: 'admin',
    password: 'lm-pass',
    request_timeout: '2s',
    ...extra,
  });
  if (!cfg) throw new Error('unreachable');
  return new MarkingCollector(cfg);
}

const statusLines = (current: string) =>
  STATUSES.map((s) => `till_marking_status{device=marking,status=${s}} ${s === current ? 1 : 0}`);

describe('Честный знак local module', () => {
  let emu: MarkingEmulator;
  beforeEach(async () => {
    emu = new MarkingEmulator({ now, username: 'admin', password: 'lm-pass' });
    await emu.start();
  });
  afterEach(() => emu.stop());

  it('reports a ready module', async () => {
    expect(dump(await collectOnce(collector(emu.address), now))).toEqual(
      [
        'till_marking_info{device=marking,version=1.4.2} 1',
        ...statusLines('ready'),
        `till_marking_last_sync_timestamp_seconds{device=marking} ${S - 600}`,
        'till_marking_requires_download{device=marking} 0',
        'till_device_up{device=marking,kind=marking} 1',
      ].sort(),
    );
  });

  it('reports each status, an unknown one as "unknown", and a required download', async () => {
    for (const status of ['initialization', 'sync_error', 'not_configured', 'enisey_off-line']) {
      emu.patchState({ status });
      expect(valueOf(await collectOnce(collector(emu.address), now), 'till_marking_status', { status })).toBe(
        1,
      );
    }
    emu.patchState({ status: 'exploded', requiresDownload: true, lastSync: S - 2 * 86400 });
    const r = await collectOnce(collector(emu.address), now);
    expect(dump(r).filter((l) => l.startsWith('till_marking_status'))).toEqual(statusLines('unknown'));
    expect(valueOf(r, 'till_marking_requires_download')).toBe(1);
    expect(valueOf(r, 'till_marking_last_sync_timestamp_seconds')).toBe(S - 2 * 86400);
  });

  it('omits the last sync time of a module that never synchronised', async () => {
    emu.patchState({ lastSync: null });
    expect(
      valueOf(await collectOnce(collector(emu.address), now), 'till_marking_last_sync_timestamp_seconds'),
    ).toBeUndefined();
  });

  it('reports wrong credentials as down', async () => {
    expect(upOf(await collectOnce(collector(emu.address, { password: 'nope' }), now), 'marking')).toBe(false);
  });

  const faults: Array<[string, Fault]> = [
    ['no answer', { type: 'no_answer' }],
    ['HTTP 500', { type: 'http_500' }],
    ['malformed JSON', { type: 'malformed_json' }],
    ['garbage', { type: 'garbage' }],
    ['a slow reply', { type: 'slow', delayMs: 8000 }],
    ['a dropped connection', { type: 'drop' }],
    ['a truncated body', { type: 'truncated' }],
  ];
  for (const [name, fault] of faults) {
    it(`reports ${name} as down with no other series`, async () => {
      emu.fault(fault);
      expect(dump(await collectOnce(collector(emu.address), now))).toEqual([
        'till_device_up{device=marking,kind=marking} 0',
      ]);
    });
  }
});
