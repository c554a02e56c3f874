// Durations of the backtest's flags and output. Parsing is Prometheus' grammar from the config kit
// ("1h30m", "10s", "2d", "500ms"), the same as in rule files' `for` and `keep_firing_for`.
import { formatDuration, parseDuration } from '@tillwatch/config';

export { formatDuration, parseDuration };

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
