// The Prometheus query API the backtest and forecast read: query_range over long ranges (Prometheus
// refuses more than 11,000 points per series in one query, so the range is split into chunks that stay
// under it and the series are joined again), instant queries, label values and flags.
import type { PlaceValues } from './incidents.js';

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
): Promise<RangeSeries[]> {
  if (stepMs <= 0) throw new PrometheusError('step must be positive');
  const bySeries = new Map<string, RangeSeries>();
  const span = (MAX_POINTS - 1) * stepMs;
  for (let start = fromMs; start <= toMs; start += span + stepMs) {
    const end = Math.min(start + span, toMs);
    const data = await post<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(
      baseUrl,
      '/api/v1/query_range',
      { query: expr, start: String(start / 1000), end: String(end / 1000), step: String(stepMs / 1000) },
      `query_range ${expr}`,
    );
    for (const r of data.result) {
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

export type Vector = { metric: Record<string, string>; value: [number, string] }[];

/** POST to a Prometheus-compatible query API; the `data` of a successful answer, else a PrometheusError. */
async function post<T>(
  baseUrl: string,
  path: string,
  params: Record<string, string> | URLSearchParams,
  what: string,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl.replace(/\/$/, '')}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
  } catch (err) {
    throw new PrometheusError(`${baseUrl}: cannot connect: ${(err as Error).message}`);
  }
  const json = (await res.json().catch(() => undefined)) as
    { status: string; error?: string; data?: T } | undefined;
  if (!json || json.status !== 'success' || json.data === undefined)
    throw new PrometheusError(`${what}: ${json?.error ?? `HTTP ${res.status}`}`);
  return json.data;
}

export async function instantQuery(baseUrl: string, query: string, atMs: number): Promise<Vector> {
  const data = await post<{ result: Vector }>(
    baseUrl,
    '/api/v1/query',
    { query, time: String(atMs / 1000) },
    `query ${query}`,
  );
  return data.result;
}

/** Values of a label on the series matching `match` in [fromMs, toMs], read from the index (no samples). */
export async function labelValues(
  baseUrl: string,
  label: string,
  match: string[],
  fromMs: number,
  toMs: number,
): Promise<string[]> {
  const params = new URLSearchParams({ start: String(fromMs / 1000), end: String(toMs / 1000) });
  for (const m of match) params.append('match[]', m);
  return post<string[]>(
    baseUrl,
    `/api/v1/label/${encodeURIComponent(label)}/values`,
    params,
    `label values of ${label} for ${match.join(' or ')}`,
  );
}

/**
 * The places the history knows (regions, stores, tills of the exporters' series in the range), within a
 * filter of the bridge's ticket list: what fetchTickets splits a full page by.
 */
export function historyPlaces(baseUrl: string, fromMs: number, toMs: number): PlaceValues {
  return (level, within) => {
    const m = Object.entries(within)
      .filter(([k]) => k !== 'status')
      .map(([k, v]) => `,${k}=${JSON.stringify(v)}`)
      .join('');
    return labelValues(
      baseUrl,
      level,
      [`up{job="tillwatch-exporter"${m}}`, `till_device_up{job="tillwatch-exporter"${m}}`],
      fromMs,
      toMs,
    );
  };
}

/** Whether any series matching `match` has samples in [fromMs, toMs] (from the index: /api/v1/series). */
export async function seriesExist(
  baseUrl: string,
  match: string,
  fromMs: number,
  toMs: number,
): Promise<boolean> {
  const data = await post<unknown[]>(
    baseUrl,
    '/api/v1/series',
    { 'match[]': match, start: String(fromMs / 1000), end: String(toMs / 1000) },
    `series ${match}`,
  );
  return data.length > 0;
}

/** Prometheus' command-line flags (/api/v1/status/flags), or undefined from an engine without them. */
export async function engineFlags(baseUrl: string): Promise<Record<string, string> | undefined> {
  try {
    const res = await fetch(`${baseUrl.replace(/\/$/, '')}/api/v1/status/flags`);
    if (!res.ok) return undefined;
    const json = (await res.json()) as { status?: string; data?: Record<string, string> };
    return json.status === 'success' ? json.data : undefined;
  } catch {
    return undefined;
  }
}
