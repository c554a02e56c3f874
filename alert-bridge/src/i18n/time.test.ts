import { describe, expect, it } from 'vitest';
import { formatTime, zoneLabel } from './time.js';

const at = '2026-03-03T07:04:00Z';
const sameDay = Date.parse('2026-03-03T10:00:00Z');
const later = Date.parse('2026-03-05T10:00:00Z');

describe('times shown to people', () => {
  it.each([
    ['a store in Ekaterinburg, today', 'Asia/Yekaterinburg', 'ru', sameDay, '12:04 (Екатеринбург, UTC+5)'],
    ['another day shows the date', 'Asia/Yekaterinburg', 'ru', later, '3 мар., 12:04 (Екатеринбург, UTC+5)'],
    // Intl would call this zone "Красноярск" (its metazone): the store's own city is named instead.
    ['Novosibirsk is named as itself', 'Asia/Novosibirsk', 'ru', sameDay, '14:04 (Новосибирск, UTC+7)'],
    [
      'English names the city from the zone id',
      'Asia/Novosibirsk',
      'en',
      later,
      '3 Mar, 14:04 (Novosibirsk, UTC+7)',
    ],
    ['half-hour offsets', 'Asia/Kolkata', 'en', sameDay, '12:34 (Kolkata, UTC+5:30)'],
    ['UTC is just UTC', 'UTC', 'en', sameDay, '07:04 (UTC)'],
  ] as const)('%s', (_name, zone, locale, now, want) => {
    expect(formatTime(at, zone, locale, { now })).toBe(want);
  });

  it('shows the year when it is not this year, and no zone when asked', () => {
    expect(formatTime(at, 'Europe/Moscow', 'ru', { now: Date.parse('2027-01-10T00:00:00Z') })).toBe(
      '3 мар. 2026 г., 10:04 (Москва, UTC+3)',
    );
    expect(formatTime(at, 'Europe/Moscow', 'en', { now: sameDay, bare: true })).toBe('10:04');
  });

  it('uses the offset in force at that moment (zones that changed rules)', () => {
    // Moscow was UTC+4 from 2011 to 2014.
    expect(zoneLabel('2013-06-01T00:00:00Z', 'Europe/Moscow', 'en')).toBe('Moscow, UTC+4');
  });
});
