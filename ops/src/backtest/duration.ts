// Prometheus duration strings ("1h30m", "10s", "2d", "500ms") as used by `for` and `keep_firing_for`.
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** Milliseconds of a Prometheus duration; undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === t.length && matched > 0 ? total : undefined;
}

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

/** Times on the command line: RFC 3339, Unix seconds, or "now" / "now-30d". */
export function parseTime(text: string, now = Date.now()): number | undefined {
  const rel = /^now(?:-(.+))?$/.exec(text);
  if (rel) {
    if (rel[1] === undefined) return now;
    const d = parseDuration(rel[1]);
    return d === undefined ? undefined : now - d;
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
