import { DataFrame } from '@grafana/data';
import { tableFrame } from '../src/data/frame-factory';

/**
 * Builds the frames Grafana's Prometheus data source would hand the panel for the demo dashboard's two
 * instant queries (table format), straight from the Prometheus HTTP API.
 */
interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function instant(prom: string, query: string): Promise<VectorSample[]> {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(query)}`);
  if (!res.ok) {
    throw new Error(`${prom}: query ${query} answered HTTP ${res.status}`);
  }
  const body = (await res.json()) as { status: string; data?: { resultType: string; result: VectorSample[] } };
  if (body.status !== 'success' || body.data?.resultType !== 'vector') {
    throw new Error(`${prom}: query ${query} did not return a vector`);
  }
  return body.data.result;
}

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

const key = (labels: Record<string, string>) =>
  Object.keys(labels)
    .filter((k) => k !== '__name__' && k !== 'alertstate')
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

export async function framesFromPrometheus(prom: string, healthQuery: string): Promise<DataFrame[]> {
  const [health, alerts, api] = await Promise.all([
    instant(prom, healthQuery),
    instant(prom, 'ALERTS{alertstate="firing"}'),
    // ALERTS carries no annotations; the harness borrows summary and runbook_url from the alerts API so
    // the tooltip shows what a Grafana user would add as rule labels or an Alertmanager query.
    fetch(`${prom}/api/v1/alerts`)
      .then((r) => r.json() as Promise<{ data?: { alerts?: ApiAlert[] } }>)
      .catch(() => ({ data: { alerts: [] as ApiAlert[] } })),
  ]);
  const annotations = new Map<string, Record<string, string>>();
  for (const a of api.data?.alerts ?? []) {
    annotations.set(key(a.labels), a.annotations);
  }
  const alertRows = alerts.map((s) => {
    const ann = annotations.get(key(s.metric)) ?? {};
    const labels: Record<string, string> = { ...s.metric };
    if (ann.summary) {
      labels.summary = ann.summary;
    }
    if (ann.runbook_url) {
      labels.runbook_url = ann.runbook_url;
    }
    return { labels, value: Number(s.value[1]) };
  });
  const frames = [
    tableFrame(
      health.map((s) => ({ labels: s.metric, value: Number(s.value[1]) })),
      'A'
    ),
  ];
  if (alertRows.length > 0) {
    frames.push(tableFrame(alertRows, 'ALERTS'));
  }
  return frames;
}
