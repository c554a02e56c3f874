// Durations for scenario files. The exporter's parser stops at hours; scenarios speak of FN and
// certificate lifetimes in days, so this one also takes "d" (and "w").
const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** "90s", "1h30m", "20d" or a number of seconds, to seconds; undefined when malformed or negative. */
export function parseSeconds(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  const s = input.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g))
    total += Number(m[1]) * (UNIT_S[m[2] as string] as number);
  return total;
}
