// The alert state machine of the Prometheus rule manager, replayed over query_range results.
// Prometheus has no "what would this rule have done" API, so the backtest re-creates it: an alert is
// pending from the first evaluation that returns its series, firing once it has been pending for `for`,
// and resolved at the first evaluation without the series (or, with keep_firing_for, only once that long
// has passed since the first such evaluation, as Prometheus 2.45+ does).
import type { RangeSeries } from './prometheus.js';

export interface Episode {
  alert: string;
  labels: Record<string, string>;
  /** First evaluation that returned the series (Prometheus' activeAt). */
  activeAt: number;
  /** Evaluation at which the alert turned firing. */
  start: number;
  /** Evaluation at which it resolved, or the end of the range when still firing there. */
  end: number;
  open: boolean;
}

export interface SimulateOptions {
  alert: string;
  forMs: number;
  keepFiringForMs: number;
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** Labels the rule adds (severity, incident_class...); they win over the expression's labels. */
  ruleLabels?: Record<string, string>;
}

export function simulateSeries(series: RangeSeries, o: SimulateOptions): Episode[] {
  const labels = { ...series.labels, ...(o.ruleLabels ?? {}) };
  delete labels.__name__;
  labels.alertname = o.alert;
  const episodes: Episode[] = [];
  let state: 'inactive' | 'pending' | 'firing' = 'inactive';
  let activeAt = 0;
  let start = 0;
  let keepSince: number | undefined;
  let i = 0;
  for (let t = o.fromMs; t <= o.toMs; t += o.stepMs) {
    while (i < series.times.length && series.times[i]! < t) i++;
    const active = series.times[i] === t;
    if (active) {
      keepSince = undefined;
      if (state === 'inactive') {
        state = 'pending';
        activeAt = t;
      }
      if (state === 'pending' && t - activeAt >= o.forMs) {
        state = 'firing';
        start = t;
      }
      continue;
    }
    if (state === 'firing' && o.keepFiringForMs > 0) {
      keepSince ??= t;
      if (t - keepSince < o.keepFiringForMs) continue;
    }
    if (state === 'firing') episodes.push({ alert: o.alert, labels, activeAt, start, end: t, open: false });
    state = 'inactive';
    keepSince = undefined;
  }
  if (state === 'firing') episodes.push({ alert: o.alert, labels, activeAt, start, end: o.toMs, open: true });
  return episodes;
}

/**
 * Flapping: at least `count` firing starts of one series within any `windowMs`. Three starts in an hour is
 * the default because an on-call person notices a page that comes back twice within the hour.
 */
export function isFlapping(episodes: Episode[], count: number, windowMs: number): boolean {
  const starts = episodes.map((e) => e.start).sort((a, b) => a - b);
  for (let i = 0; i + count - 1 < starts.length; i++)
    if (starts[i + count - 1]! - starts[i]! <= windowMs) return true;
  return false;
}
