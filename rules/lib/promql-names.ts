// Metric names an expression reads, found with the PromQL grammar Prometheus' own UI uses
// (@prometheus-io/lezer-promql) rather than a regex, so label names, function names and strings are
// never mistaken for metrics.
import { parser } from '@prometheus-io/lezer-promql';

export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.isError) {
      throw new Error(`cannot parse PromQL at offset ${cursor.from}: ${expr}`);
    }
    if (cursor.name === 'VectorSelector') {
      const selector = expr.slice(cursor.from, cursor.to);
      const ident = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(selector);
      if (ident?.[1]) names.add(ident[1]);
      const byName = /__name__\s*=\s*"([^"]+)"/.exec(selector);
      if (byName?.[1]) names.add(byName[1]);
      if (!ident && !byName) throw new Error(`selector without a metric name: ${selector}`);
    }
  } while (cursor.next());
  return [...names].sort();
}
