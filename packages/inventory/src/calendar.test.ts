import { describe, expect, it } from 'vitest';
import { InventoryError, parseInventory, storeCalendars } from './inventory.js';
import { StoreOpenRenderer, isOpenAt, localTime } from './calendar.js';

const FILE = 'calendars.yml';
/** An inventory of one chain, with `chainExtra`, `regionExtra` and per-store YAML spliced in. */
const inventory = (chainExtra: string, stores: string[], regionExtra = ''): string =>
  [
    'chains:',
    '  - id: c1',
    ...chainExtra
      .split('\n')
      .filter(Boolean)
      .map((l) => `    ${l}`),
    '    regions:',
    '      - id: r1',
    ...regionExtra
      .split('\n')
      .filter(Boolean)
      .map((l) => `        ${l}`),
    '        stores:',
    ...stores.flatMap((s, i) => [
      `          - id: s${i + 1}`,
      ...s
        .split('\n')
        .filter(Boolean)
        .map((l) => `            ${l}`),
      '            tills:',
      `              - { id: s${i + 1}-t1, address: "127.0.0.1:${19001 + i}" }`,
    ]),
  ].join('\n');

const problems = (text: string): string => {
  try {
    parseInventory(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    return (err as Error).message;
  }
  throw new Error('the inventory was accepted');
};

const S = 'chains[0].regions[0].stores[0]';

describe('store calendar validation', () => {
  it.each([
    [
      'a malformed range',
      'timezone: Europe/Moscow\nhours: { default: "8-22" }',
      `${FILE}: ${S}.hours.default: expected hours such as "08:00-22:00", "20:00-02:00", "24h" or "closed", got "8-22"`,
    ],
    [
      'an hour past 23',
      'timezone: Europe/Moscow\nhours: { mon: "08:00-25:00", default: closed }',
      `${FILE}: ${S}.hours.mon: expected hours such as "08:00-22:00", "20:00-02:00", "24h" or "closed", got "08:00-25:00"`,
    ],
    [
      'a day without hours',
      'timezone: Europe/Moscow\nhours: { mon: "08:00-22:00" }',
      `${FILE}: ${S}.hours: no hours for tue, wed, thu, fri, sat, sun: give them or a default (use "closed" for a day off)`,
    ],
    [
      'an unknown weekday',
      'timezone: Europe/Moscow\nhours: { default: 24h, monday: closed }',
      `${FILE}: ${S}.hours.monday: unknown key`,
    ],
    [
      'overlapping ranges',
      'timezone: Europe/Moscow\nhours: { default: "09:00-14:00, 13:00-20:00" }',
      `${FILE}: ${S}.hours.default: ranges overlap in "09:00-14:00, 13:00-20:00"`,
    ],
    [
      'an impossible holiday',
      'timezone: Europe/Moscow\nhours: 24h\nholidays: ["2027-02-30"]',
      `${FILE}: ${S}.holidays[0]: expected a date such as "2027-01-01"`,
    ],
    [
      'a closure that ends before it starts',
      'timezone: Europe/Moscow\nhours: 24h\nclosures: [{ from: "2027-01-02 08:00", to: "2027-01-01 08:00" }]',
      `${FILE}: ${S}.closures[0]: to must be later than from`,
    ],
    [
      'hours without a time zone',
      'hours: 24h',
      `${FILE}: ${S}.hours: store "s1" has opening hours but no time zone: set timezone on the store, its region or its chain`,
    ],
    [
      'holidays without hours',
      'timezone: Europe/Moscow\nholidays: ["2027-01-01"]',
      `${FILE}: ${S}.holidays: store "s1" has holidays but no opening hours: set hours on the store, its region or its chain`,
    ],
  ])('rejects %s, naming the file and key', (_what, store, message) => {
    expect(problems(inventory('', [store]))).toBe(message);
  });
});

/** Whether store `id` of `text` is open at `iso` (an instant). */
const openAt = (text: string, id: string, iso: string): boolean => {
  const s = [...storeCalendars(parseInventory(text, FILE))].find((c) => c.store === id);
  if (s === undefined) throw new Error(`store ${id} has no calendar`);
  return isOpenAt(s.calendar, localTime(s.calendar.timezone, new Date(iso)));
};

describe('store calendars', () => {
  const text = inventory(
    [
      'timezone: Europe/Moscow',
      'hours: { default: "08:00-22:00", sun: "10:00-20:00" }',
      'holidays: ["2027-01-01"]',
    ].join('\n'),
    [
      '', // the chain's hours and zone
      'timezone: Asia/Novosibirsk', // the chain's hours in its own zone (UTC+7)
      'hours: 24h\nclosures: [{ from: "2026-12-10 09:00", to: "2026-12-10 13:00", reason: инвентаризация }]',
      'hours: { default: "20:00-02:00" }',
    ],
  );

  it('applies the chain defaults in each store own zone', () => {
    // 2026-12-07 is a Monday. 18:59 UTC = 21:59 in Moscow, 01:59 next day in Novosibirsk.
    expect(openAt(text, 's1', '2026-12-07T18:59:00Z')).toBe(true);
    expect(openAt(text, 's1', '2026-12-07T19:00:00Z')).toBe(false);
    expect(openAt(text, 's2', '2026-12-07T14:59:00Z')).toBe(true); // 21:59 in Novosibirsk
    expect(openAt(text, 's2', '2026-12-07T15:00:00Z')).toBe(false);
    expect(openAt(text, 's2', '2026-12-08T01:00:00Z')).toBe(true); // 08:00 in Novosibirsk
  });

  it('keeps a weekday exception and a chain holiday', () => {
    // Sunday 2026-12-13 09:30 Moscow: closed until 10:00 on Sundays.
    expect(openAt(text, 's1', '2026-12-13T06:30:00Z')).toBe(false);
    expect(openAt(text, 's1', '2026-12-13T07:00:00Z')).toBe(true);
    // 2027-01-01 is a Friday and a holiday.
    expect(openAt(text, 's1', '2027-01-01T09:00:00Z')).toBe(false);
    expect(openAt(text, 's3', '2027-01-01T09:00:00Z')).toBe(false);
  });

  it('keeps a 24-hour store open except during its closure', () => {
    expect(openAt(text, 's3', '2026-12-09T23:30:00Z')).toBe(true);
    expect(openAt(text, 's3', '2026-12-10T05:59:00Z')).toBe(true); // 08:59 in Moscow
    expect(openAt(text, 's3', '2026-12-10T06:00:00Z')).toBe(false); // 09:00: stocktaking
    expect(openAt(text, 's3', '2026-12-10T09:59:00Z')).toBe(false);
    expect(openAt(text, 's3', '2026-12-10T10:00:00Z')).toBe(true); // 13:00
  });

  it('keeps a night store open past midnight', () => {
    expect(openAt(text, 's4', '2026-12-07T22:30:00Z')).toBe(true); // 01:30 Tuesday in Moscow
    expect(openAt(text, 's4', '2026-12-07T23:00:00Z')).toBe(false); // 02:00
    expect(openAt(text, 's4', '2026-12-07T12:00:00Z')).toBe(false);
  });

  it('leaves a store without hours anywhere out, as before calendars', () => {
    const plain = inventory('timezone: Europe/Moscow', ['', 'hours: 24h']);
    expect([...storeCalendars(parseInventory(plain, FILE))].map((s) => s.store)).toEqual(['s2']);
  });

  it('renders one series per store with a calendar', () => {
    const r = new StoreOpenRenderer(storeCalendars(parseInventory(text, FILE)));
    const body = r.render(new Date('2026-12-07T18:59:00Z'));
    expect(body).toContain('tillwatch_store_open{chain="c1",region="r1",store="s1"} 1\n');
    expect(body).toContain('tillwatch_store_open{chain="c1",region="r1",store="s2"} 0\n');
    expect(body).toContain('tillwatch_store_calendar_stores 4\n');
  });
});
