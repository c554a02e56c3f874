// Reading the Prometheus text exposition in tests and benches. Hand-written: the lines tests read
// (`name{labels} value [timestamp]`) need two regular expressions, and the one parser on the registry
// (parse-prometheus-text-format) has not been maintained since 2019.

export interface ExpositionSample {
  name: string;
  /** Label values as written in the exposition (escapes kept). */
  labels: Record<string, string>;
  /** The label list as written between the braces, '' for none. */
  labelText: string;
  value: string;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line of `text`; `source` names the text in the error for a line that is not one. */
export function parseExposition(text: string, source = 'exposition'): ExpositionSample[] {
  const out: ExpositionSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${source}: cannot parse ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k!] = v!;
    out.push({ name: m[1]!, labels, labelText: m[2] ?? '', value: m[3]! });
  }
  return out;
}

/** Metric name → type, from the `# TYPE` lines. */
export function metricTypes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/**
 * The value of one series written exactly as in the exposition (`name{a="b"}`, labels in the
 * exporter's order); undefined when absent.
 */
export function seriesValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).split(' ')[0]);
}

/** One metric of a /metrics endpoint (vmagent's own, say), summed over its series. */
export async function scrapeValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return parseExposition(text, url)
    .filter((s) => s.name === name)
    .reduce((sum, s) => sum + Number(s.value), 0);
}
