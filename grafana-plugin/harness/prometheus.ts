import { DataFrame } from '@grafana/data';
import { tableFrame } from '../src/data/frame-factory';

/**
 * The frames Grafana's Prometheus data source would hand the panel for its instant queries in table
 * format, straight from the Prometheus HTTP API.
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
}

const key = (labels: Record<string, string>) =>
  Object.keys(labels)
    .filter((k) => k !== '__name__' && k !== 'alertstate')
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');

/**
 * Runs each query and returns one table frame per refId. ALERTS carries no annotations; for the tooltip the
 * harness copies `summary` and `runbook_url` from Prometheus' alerts API onto the alert rows (in Grafana,
 * put them on the rule as labels to get the same). Reasons never come from here: both read them from the
 * dashboard's value mappings.
 */
export async function framesFromPrometheus(
  prom: string,
  targets: Array<{ refId: string; expr: string }>,
  alertsRefId: string
): Promise<DataFrame[]> {
  const results = await Promise.all(targets.map((t) => instant(prom, t.expr)));
  let annotations = new Map<string, Record<string, string>>();
  if (targets.some((t) => t.refId === alertsRefId)) {
    const api = await fetch(`${prom}/api/v1/alerts`)
      .then((r) => r.json() as Promise<{ data?: { alerts?: ApiAlert[] } }>)
      .catch(() => ({ data: { alerts: [] as ApiAlert[] } }));
    annotations = new Map((api.data?.alerts ?? []).map((a) => [key(a.labels), a.annotations]));
  }
  return targets.map((t, i) =>
    tableFrame(
      results[i]!.map((s) => {
        const labels: Record<string, string> = { ...s.metric };
        if (t.refId === alertsRefId) {
          const ann = annotations.get(key(s.metric)) ?? {};
          for (const k of ['summary', 'runbook_url']) {
            if (ann[k]) {
              labels[k] = ann[k];
            }
          }
        }
        return { labels, value: Number(s.value[1]) };
      }),
      t.refId
    )
  );
}
