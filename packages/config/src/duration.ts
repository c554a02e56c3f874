// Durations in Prometheus' grammar (prometheus/common model.ParseDuration), the one grammar of every
// TillWatch config and flag, so a value copied from a rule file or prometheus.yml means the same here:
// whole numbers with the units y, w, d, h, m, s, ms, largest first, each at most once ("1h30m",
// "500ms", "2d", "1w"), or "0". No fractions, no spaces, no bare numbers.
// Hand-written because the grammar is one regular expression and no npm package implements exactly
// Prometheus' (ms, parse-duration and friends take fractions, spaces and any order).
import { scalarSchema } from './scalar.js';

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1] as const;

/** Prometheus keeps durations in Go's int64 nanoseconds: about 292 years. */
export const MAX_DURATION_MS = Math.floor((2 ** 63 - 1) / 1e6);

export const DURATION_SYNTAX =
  'a Prometheus duration such as "1h30m", "15s" or "500ms" (whole numbers; units y, w, d, h, m, s, ms, largest first)';

/** Milliseconds of a Prometheus duration; undefined when the text is not one (or is out of range). */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const n = m[i + 1];
    if (n !== undefined) ms += Number(n) * UNIT_MS[i]!;
  }
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

/** Why `input` is not a duration, in words for a config error; undefined when it is one. */
export function durationProblem(input: unknown): string | undefined {
  if (typeof input === 'number') {
    if (input === 0) return undefined;
    // YAML reads `timeout: 15` as a number; say which unit was forgotten rather than "expected string".
    return `${input} has no unit: write "${input}s" for seconds (durations are Prometheus durations such as "1h30m" or "500ms")`;
  }
  if (typeof input !== 'string') return `expected ${DURATION_SYNTAX}`;
  if (DURATION_RE.test(input) && input !== '' && parseDuration(input) === undefined)
    return `duration ${JSON.stringify(input)} is out of range (at most about 292 years)`;
  return parseDuration(input) === undefined
    ? `invalid duration ${JSON.stringify(input)}: expected ${DURATION_SYNTAX}`
    : undefined;
}

/** zod schema for a configured duration; the parsed value is milliseconds. Accepts 0. */
export const durationMs = scalarSchema(DURATION_SYNTAX, durationProblem, (v) =>
  // The only number durationProblem lets through is 0.
  typeof v === 'number' ? 0 : parseDuration(v)!,
);

/** A duration that must not be zero (an interval, a timeout). */
export const positiveDurationMs = durationMs.refine((ms) => ms > 0, { error: 'must be longer than 0' });

/** The shortest Prometheus duration for whole seconds: 90_000 → `1m30s`, 0 → `0s`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
