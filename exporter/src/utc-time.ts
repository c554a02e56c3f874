// Timestamps formatted from Date's UTC fields by hand, not with toISOString/toUTCString: on the official
// Node.js builds those two set up V8's time-zone cache through ICU, which maps ICU's zone data and code
// into RSS, for text that is UTC either way (docs/benchmarks.md, "Exporter"). The log's
// timestamps and the HTTP Date header were the exporter's only callers.

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** As Date#toISOString for years 0-9999: 2026-12-06T19:43:14.007Z. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`
  );
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An HTTP Date header value (RFC 9110 IMF-fixdate), as Date#toUTCString: Sun, 06 Dec 2026 19:43:14 GMT. */
export function httpDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`
  );
}
