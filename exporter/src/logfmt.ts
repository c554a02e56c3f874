// pino writes JSON lines; node_exporter and the rest of the Prometheus ecosystem log logfmt by default
// (`--log.format=logfmt`), which journald and grep read as well. The conversion is these few lines: the
// logfmt package on npm brings stream helpers the exporter has no use for.

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s === '' || /[\s="\\]/.test(s) ? JSON.stringify(s) : s;
}

/** One pino record as a logfmt line: time, level and msg first, as promslog writes them. */
export function toLogfmt(record: Record<string, unknown>): string {
  const { time, level, msg, ...rest } = record;
  const pairs = Object.entries({ time, level, msg, ...rest }).filter(([, v]) => v !== undefined);
  return `${pairs.map(([k, v]) => `${k}=${value(v)}`).join(' ')}\n`;
}

/** A destination for pino that writes logfmt to `out`. */
export function logfmtStream(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      out.write(toLogfmt(JSON.parse(line) as Record<string, unknown>));
    },
  };
}
