// Durations of the backtest's flags and output. Parsing is Prometheus' grammar from the config kit
// ("1h30m", "10s", "2d", "500ms"), the same as in rule files' `for` and `keep_firing_for`.
import { parseDuration } from '@tillwatch/config';

export { parseDuration };

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
