// query_range over long ranges. Prometheus refuses more than 11,000 points per series in one query,
// so the range is split into chunks that stay under it and the series are joined again.

export const MAX_POINTS = 11_000;

export interface RangeSeries {
  labels: Record<string, string>;
  /** Evaluation times (ms) at which the expression returned this series. */
  times: number[];
  values: number[];
}

export class PrometheusError extends Error {}

export function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function queryRange(
  baseUrl: string,
  expr: string,
  fromMs: number,
  toMs: number,
  stepMs: number,
  fetchImpl: typeof fetch = fetch,
): Promise<RangeSeries[]> {
  if (stepMs <= 0) throw new PrometheusError('step must be positive');
  const bySeries = new Map<string, RangeSeries>();
  const span = (MAX_POINTS - 1) * stepMs;
  for (let start = fromMs; start <= toMs; start += span + stepMs) {
    const end = Math.min(start + span, toMs);
    const body = new URLSearchParams({
      query: expr,
      start: String(start / 1000),
      end: String(end / 1000),
      step: String(stepMs / 1000),
    });
    let res: Response;
    try {
      res = await fetchImpl(`${baseUrl.replace(/\/$/, '')}/api/v1/query_range`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    } catch (err) {
      throw new PrometheusError(`${baseUrl}: cannot connect: ${(err as Error).message}`);
    }
    const json = (await res.json().catch(() => undefined)) as
      | {
          status: string;
          error?: string;
          data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
        }
      | undefined;
    if (!json || json.status !== 'success' || !json.data)
      throw new PrometheusError(`query_range ${expr}: ${json?.error ?? `HTTP ${res.status}`}`);
    for (const r of json.data.result) {
      const key = seriesKey(r.metric);
      let s = bySeries.get(key);
      if (!s) bySeries.set(key, (s = { labels: r.metric, times: [], values: [] }));
      for (const [t, v] of r.values) {
        s.times.push(Math.round(t * 1000));
        s.values.push(Number(v));
      }
    }
  }
  return [...bySeries.values()];
}
