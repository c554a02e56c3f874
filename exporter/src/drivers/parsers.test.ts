// Pure parsers of the HTTP drivers: the tolerant ATOL wrapper, UTM pages, the marking status, dates.
import { describe, expect, it } from 'vitest';
import { parseResults } from './atol/client.js';
import { DriverError } from './errors.js';
import { parseDateTime } from './http.js';
import { parseMarkingStatus } from './marking/client.js';
import { UTM_DEFAULTS, parseHomePage, parseInfoList } from './utm/client.js';

describe('ATOL result wrapper', () => {
  const inner = { paperPresent: true };
  it('normalises the nested, flat and bare shapes', () => {
    expect(parseResults({ results: [{ status: 'ready', result: { deviceStatus: inner } }] }, 1)).toEqual([
      { status: 'ready', errorCode: 0, errorDescription: '', result: { deviceStatus: inner } },
    ]);
    expect(parseResults({ results: [{ status: 'ready', result: inner }] }, 1)[0]?.result).toEqual(inner);
    expect(parseResults({ deviceStatus: inner }, 2).map((r) => r.result)).toEqual([
      { deviceStatus: inner },
      { deviceStatus: inner },
    ]);
  });

  it('reads errors from errorCode or an error object, and marks missing entries', () => {
    const r = parseResults(
      {
        results: [
          { status: 'error', errorCode: 231, errorDescription: 'ФН' },
          { error: { code: 5, description: 'x' } },
        ],
      },
      3,
    );
    expect(r.map((x) => [x.status, x.errorCode])).toEqual([
      ['error', 231],
      ['error', 5],
      ['missing', 0],
    ]);
    expect(() => parseResults([1, 2], 1)).toThrow(DriverError);
    expect(() => parseResults('ok', 1)).toThrow(/not a JSON object/);
  });
});

describe('UTM', () => {
  it('reads identity and certificate dates, tolerating missing parts', () => {
    expect(
      parseInfoList(
        {
          version: '4.2.0',
          db: { ownerId: '030000123456' },
          rsa: { expireDate: '2027-01-31 10:00:00' },
          gost: { expireDate: 'soon' },
        },
        180,
      ),
    ).toEqual({
      version: '4.2.0',
      fsrarId: '030000123456',
      rsaExpiry: Date.UTC(2027, 0, 31, 7) / 1000,
      gostExpiry: undefined,
    });
    expect(parseInfoList({}, 0)).toEqual({
      version: 'unknown',
      fsrarId: 'unknown',
      rsaExpiry: undefined,
      gostExpiry: undefined,
    });
  });

  it('finds the oldest unsent receipt, none, or cannot tell', () => {
    const o = { ...UTM_DEFAULTS, utcOffsetMinutes: 0 };
    expect(
      parseHomePage('<p>Отсутствуют&nbsp;неотправленные   чеки</p>', {
        ...o,
        noUnsentText: 'Отсутствуют неотправленные чеки',
      }),
    ).toBeNull();
    expect(
      parseHomePage('<td>Неотправленные чеки</td><td>12 шт., первый от 2026-11-20 08:15:00</td>', o),
    ).toBe(Date.UTC(2026, 10, 20, 8, 15) / 1000);
    expect(parseHomePage('<html>Добро пожаловать</html>', o)).toBeUndefined();
  });
});

describe('marking status', () => {
  it('maps known statuses, falls back to unknown, converts lastSync from ms', () => {
    expect(
      parseMarkingStatus({
        status: 'ready',
        lastSync: 1764000000000,
        requiresDownload: false,
        version: '1.4',
      }),
    ).toEqual({
      status: 'ready',
      rawStatus: 'ready',
      version: '1.4',
      lastSync: 1764000000,
      requiresDownload: false,
    });
    expect(parseMarkingStatus({ status: 'weird', lastSync: 0 })).toMatchObject({
      status: 'unknown',
      rawStatus: 'weird',
      lastSync: undefined,
      version: 'unknown',
    });
    expect(() => parseMarkingStatus(null)).toThrow(DriverError);
  });
});

describe('parseDateTime', () => {
  it('reads ISO with and without a zone, and the UTM format', () => {
    expect(parseDateTime('2026-11-25T12:00:00+03:00')).toBe(Date.UTC(2026, 10, 25, 9) / 1000);
    expect(parseDateTime('2026-11-25T09:00:00Z')).toBe(Date.UTC(2026, 10, 25, 9) / 1000);
    expect(parseDateTime('2026-11-25 12:00:00 +0300')).toBe(Date.UTC(2026, 10, 25, 9) / 1000);
    expect(parseDateTime('2026-11-25 12:00:00.123', 180)).toBe(Date.UTC(2026, 10, 25, 9) / 1000);
    expect(parseDateTime('2026-11-25', 0)).toBe(Date.UTC(2026, 10, 25) / 1000);
    expect(parseDateTime('2026-13-01', 0)).toBeUndefined();
    expect(parseDateTime(12345)).toBeUndefined();
  });
});
