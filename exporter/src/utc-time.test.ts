import { describe, expect, it } from 'vitest';
import { httpDate, isoTime } from './utc-time.js';

// The hand-made formats must read exactly as Date's own, which log parsers and HTTP clients expect.
const samples = [
  0,
  Date.UTC(2000, 1, 29, 23, 59, 59, 999), // a leap day
  Date.UTC(2026, 11, 6, 19, 43, 14, 7),
  Date.UTC(9999, 11, 31, 23, 59, 59, 999),
  // A spread of instants over 1970-2100, a fixed step so the run is reproducible.
  ...Array.from({ length: 500 }, (_, i) => i * 8_286_917_641 + 123),
];

describe('UTC timestamps without ICU', () => {
  it('formats as Date#toISOString', () => {
    for (const ms of samples) expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
  });
  it('formats as Date#toUTCString (the HTTP Date header)', () => {
    for (const ms of samples) expect(httpDate(ms), String(ms)).toBe(new Date(ms).toUTCString());
  });
});
