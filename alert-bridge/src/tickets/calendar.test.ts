import { describe, expect, it } from 'vitest';
import { addWorkingTime, ALWAYS, parseRange, workingTimeBetween, type Calendar } from './calendar.js';

const H = 3_600_000;
const office = (timezone: string, holidays: string[] = []): Calendar => ({
  kind: 'hours',
  timezone,
  hours: {
    mon: [parseRange('09:00-13:00'), parseRange('14:00-18:00')],
    tue: [parseRange('09:00-18:00')],
    wed: [parseRange('09:00-18:00')],
    thu: [parseRange('09:00-18:00')],
    fri: [parseRange('09:00-18:00')],
  },
  holidays: new Set(holidays),
});
const iso = (ms: number) => new Date(ms).toISOString();

describe('service calendars', () => {
  it('24/7 adds plain time', () => {
    expect(addWorkingTime(ALWAYS, Date.parse('2026-11-27T16:30:00Z'), 4 * H)).toBe(
      Date.parse('2026-11-27T20:30:00Z'),
    );
  });

  it('a Friday-evening ticket waits for Monday morning in the calendar zone', () => {
    // Friday 27 Nov 2026 19:30 Moscow (UTC+3): closed, so 4 working hours run Monday 09:00-13:00.
    const from = Date.parse('2026-11-27T16:30:00Z');
    expect(iso(addWorkingTime(office('Europe/Moscow'), from, 4 * H))).toBe('2026-11-30T10:00:00.000Z');
    // The same moment is 21:30 in Yekaterinburg (UTC+5): still Monday 09:00 local, two hours earlier in UTC.
    expect(iso(addWorkingTime(office('Asia/Yekaterinburg'), from, 4 * H))).toBe('2026-11-30T08:00:00.000Z');
  });

  it('skips the lunch break and holidays, and counts hours that remain today', () => {
    const moscow = office('Europe/Moscow', ['2026-11-30']);
    // Friday 17:00 Moscow: one hour today, Monday is a holiday, Tuesday from 09:00 for the other three.
    expect(iso(addWorkingTime(moscow, Date.parse('2026-11-27T14:00:00Z'), 4 * H))).toBe(
      '2026-12-01T09:00:00.000Z',
    );
    // Monday 12:00 Moscow without the holiday: 1h before lunch, 2h after it.
    expect(iso(addWorkingTime(office('Europe/Moscow'), Date.parse('2026-11-30T09:00:00Z'), 3 * H))).toBe(
      '2026-11-30T13:00:00.000Z',
    );
  });

  it('keeps local hours across a daylight-saving change', () => {
    // Berlin leaves summer time on Sunday 25 Oct 2026: Friday 17:00 CEST + 2h ends Monday 10:00 CET (09:00Z).
    const from = Date.parse('2026-10-23T15:00:00Z');
    expect(iso(addWorkingTime(office('Europe/Berlin'), from, 2 * H))).toBe('2026-10-26T09:00:00.000Z');
  });

  it('measures working time between two moments', () => {
    const cal = office('Europe/Moscow');
    // Friday 17:00 to Monday 10:00 Moscow: 1h Friday + 1h Monday.
    expect(
      workingTimeBetween(cal, Date.parse('2026-11-27T14:00:00Z'), Date.parse('2026-11-30T07:00:00Z')),
    ).toBe(2 * H);
  });

  it('refuses malformed ranges with the reason', () => {
    expect(() => parseRange('9-18')).toThrow(/is not HH:MM-HH:MM/);
    expect(() => parseRange('18:00-09:00')).toThrow(/start before end/);
    expect(parseRange('00:00-24:00')).toEqual([0, 1440]);
  });
});
