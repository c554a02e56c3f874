// The Prometheus query API the backtest and forecast read: query_range over long ranges (Prometheus
// refuses more than 11,000 points per series in one query, so the range is split into chunks that stay
// under it and the series are joined again), instant queries, label values and flags.
import { formatDuration } from '@tillwatch/config';
import { fetchFailure } from '../fetch-failure.js';
import type { PlaceValues } from './incidents.js';

export const MAX_POINTS = 11_000;

/**
 * How long one request may wait for Prometheus' whole answer: its own default `--query.timeout`, so a
 * query Prometheus would still finish is not given up, while a hung server fails the run instead of
 * hanging it.
 */
export const DEFAULT_TIMEOUT_MS = 120_000;

export interface RequestOptions {
  /** Per request, headers and body (default DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
}

export interface RangeOptions extends RequestOptions {
  /** Called after each chunk of a query_range (see rangeChunks). */
  onChunk?: () => void;
}

export interface RangeSeries {
  labels: Record<string, string>;
  /** Evaluation times (ms) at which the expression returned this series. */
  times: number[];
  values: number[];
}

export class PrometheusError extends Error {}

/** Prometheus did not answer in time: the history cannot be read, so a run stops rather than scoring rules. */
export class PrometheusTimeoutError extends PrometheusError {}

function isTimeout(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'TimeoutError';
}

/** A request's signal and the error its timeout becomes, naming the server, the request and the limit. */
export function deadline(baseUrl: string, what: string, o: RequestOptions = {}) {
  const ms = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    signal: AbortSignal.timeout(ms),
    /** `err` as a PrometheusTimeoutError when it is the timeout, else undefined. */
    timedOut: (err: unknown) =>
      isTimeout(err)
        ? new PrometheusTimeoutError(
            `Prometheus at ${baseUrl} did not answer within ${formatDuration(ms)} (--timeout): ${what}`,
          )
        : undefined,
  };
}

/** How many query_range requests a range takes: Prometheus answers at most MAX_POINTS per series. */
export function rangeChunks(fromMs: number, toMs: number, stepMs: number): number {
  if (toMs < fromMs) return 0;
  return Math.floor((toMs - fromMs) / (MAX_POINTS * stepMs)) + 1;
}

export function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export async function queryRange(
  baseUrl: string,
  expr: string,
  fromMs: number,
  toMs: number,
  stepMs: number,
  o: RangeOptions = {},
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
      o,
    );
    o.onChunk?.();
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
  o: RequestOptions = {},
): Promise<T> {
  const { signal, timedOut } = deadline(baseUrl, what, o);
  let res: Response;
  try {
    res = await fetch(`${baseUrl.replace(/\/$/, '')}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
      signal,
    });
  } catch (err) {
    throw timedOut(err) ?? new PrometheusError(`${baseUrl}: cannot connect: ${fetchFailure(err)}`);
  }
  const json = (await res.json().catch((err: unknown) => {
    const t = timedOut(err);
    if (t) throw t;
    return undefined;
  })) as { status: string; error?: string; data?: T } | undefined;
  if (!json || json.status !== 'success' || json.data === undefined)
    throw new PrometheusError(`${what}: ${json?.error ?? `HTTP ${res.status}`}`);
  return json.data;
}

export async function instantQuery(
  baseUrl: string,
  query: string,
  atMs: number,
  o: RequestOptions = {},
): Promise<Vector> {
  const data = await post<{ result: Vector }>(
    baseUrl,
    '/api/v1/query',
    { query, time: String(atMs / 1000) },
    `query ${query}`,
    o,
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
  o: RequestOptions = {},
): Promise<string[]> {
  const params = new URLSearchParams({ start: String(fromMs / 1000), end: String(toMs / 1000) });
  for (const m of match) params.append('match[]', m);
  return post<string[]>(
    baseUrl,
    `/api/v1/label/${encodeURIComponent(label)}/values`,
    params,
    `label values of ${label} for ${match.join(' or ')}`,
    o,
  );
}

/**
 * The places the history knows (regions, stores, tills of the exporters' series in the range), within a
 * filter of the bridge's ticket list: what fetchTickets splits a full page by.
 */
export function historyPlaces(
  baseUrl: string,
  fromMs: number,
  toMs: number,
  o: RequestOptions = {},
): PlaceValues {
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
      o,
    );
  };
}

/** Whether any series matching `match` has samples in [fromMs, toMs] (from the index: /api/v1/series). */
export async function seriesExist(
  baseUrl: string,
  match: string,
  fromMs: number,
  toMs: number,
  o: RequestOptions = {},
): Promise<boolean> {
  const data = await post<unknown[]>(
    baseUrl,
    '/api/v1/series',
    { 'match[]': match, start: String(fromMs / 1000), end: String(toMs / 1000) },
    `series ${match}`,
    o,
  );
  return data.length > 0;
}

/** Prometheus' command-line flags (/api/v1/status/flags), or undefined from an engine without them. */
export async function engineFlags(
  baseUrl: string,
  o: RequestOptions = {},
): Promise<Record<string, string> | undefined> {
  const { signal, timedOut } = deadline(baseUrl, 'GET /api/v1/status/flags', o);
  try {
    const res = await fetch(`${baseUrl.replace(/\/$/, '')}/api/v1/status/flags`, { signal });
    if (!res.ok) return undefined;
    const json = (await res.json()) as { status?: string; data?: Record<string, string> };
    return json.status === 'success' ? json.data : undefined;
  } catch (err) {
    const t = timedOut(err);
    if (t) throw t;
    return undefined;
  }
}
