import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_DURATION_MS, durationMs, parseDuration, positiveDurationMs } from './duration.js';
import { parseWith } from './issues.js';

describe('parseDuration (Prometheus model.ParseDuration)', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['15s', 15_000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    [
      '1y2w3d4h5m6s7ms',
      31_536_000_000 + 2 * 604_800_000 + 3 * 86_400_000 + 4 * 3_600_000 + 5 * 60_000 + 6007,
    ],
    ['90m', 5_400_000],
    ['1h0m', 3_600_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['1.5s', 'fractions'],
    ['30m1h', 'units out of order'],
    ['1h1h', 'a unit twice'],
    ['1h 30m', 'spaces'],
    [' 5s', 'leading space'],
    ['15', 'no unit'],
    ['-5s', 'negative'],
    ['5S', 'upper-case unit'],
    ['5sec', 'unknown unit'],
    ['1ms1s', 'ms before s'],
    ['300y', 'beyond int64 nanoseconds'],
  ])('refuses %j (%s)', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('takes the longest duration Prometheus can hold and nothing longer', () => {
    expect(parseDuration('292y')).toBe(292 * 31_536_000_000);
    expect(292 * 31_536_000_000).toBeLessThanOrEqual(MAX_DURATION_MS);
    expect(parseDuration('293y')).toBeUndefined();
  });
});

describe('duration schemas', () => {
  const schema = z.strictObject({ interval: durationMs, timeout: positiveDurationMs.optional() });
  const problem = (data: unknown) => {
    try {
      parseWith(schema, data, 'x.yml');
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  };

  it('gives milliseconds', () => {
    expect(parseWith(schema, { interval: '1h30m', timeout: '500ms' }, 'x.yml')).toEqual({
      interval: 5_400_000,
      timeout: 500,
    });
    expect(parseWith(schema, { interval: 0 }, 'x.yml')).toEqual({ interval: 0 });
  });

  it('names the key and says what a duration looks like', () => {
    expect(problem({ interval: 'soon' })).toBe(
      'x.yml: interval: invalid duration "soon": expected a Prometheus duration such as "1h30m", "15s" or "500ms" (whole numbers; units y, w, d, h, m, s, ms, largest first)',
    );
    expect(problem({ interval: 15 })).toBe(
      'x.yml: interval: 15 has no unit: write "15s" for seconds (durations are Prometheus durations such as "1h30m" or "500ms")',
    );
    expect(problem({ interval: '300y' })).toBe(
      'x.yml: interval: duration "300y" is out of range (at most about 292 years)',
    );
    expect(problem({})).toBe('x.yml: interval: required');
    expect(problem({ interval: true })).toMatch(/^x\.yml: interval: expected a Prometheus duration/);
    expect(problem({ interval: '1s', timeout: '0s' })).toBe('x.yml: timeout: must be longer than 0');
  });
});
