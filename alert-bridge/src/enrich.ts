import type { Config } from './config.js';
import type { TicketJson } from './tickets/index.js';

export interface Snapshot {
  taken_at: string;
  query: string;
  samples: { metric: Record<string, string>; value: number }[];
  links: { prometheus: string; dashboard?: string; panel?: string };
  error?: string;
}

function quote(v: string): string {
  return JSON.stringify(v);
}

/**
 * The till's state at the moment of the fault: every till_* series of the till (or of the store for
 * store-wide tickets), so the engineer sees device states and key values without opening Grafana.
 */
export async function takeSnapshot(cfg: NonNullable<Config['enrichment']>, t: TicketJson): Promise<Snapshot> {
  const sel = [`__name__=~"till_.*"`];
  for (const k of ['chain', 'store', 'till'] as const) {
    const v = t[k];
    if (v) sel.push(`${k}=${quote(v)}`);
  }
  const query = `{${sel.join(',')}}`;
  const pub = (cfg.prometheus_public_url ?? cfg.prometheus_url).replace(/\/$/, '');
  const links: Snapshot['links'] = {
    prometheus: `${pub}/graph?g0.expr=${encodeURIComponent(query)}&g0.tab=1`,
  };
  if (cfg.grafana_url) {
    const g = cfg.grafana_url.replace(/\/$/, '');
    const vars = (['chain', 'region', 'store', 'till'] as const)
      .filter((k) => t[k])
      .map((k) => `var-${k}=${encodeURIComponent(t[k]!)}`)
      .join('&');
    links.dashboard = `${g}/d/${cfg.dashboard_uid}?${vars}`;
    links.panel = `${g}/d/${cfg.dashboard_uid}?${vars}&viewPanel=1`;
  }
  const res = await fetch(
    `${cfg.prometheus_url.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`,
    {
      signal: AbortSignal.timeout(cfg.timeout),
    },
  );
  if (!res.ok) throw new Error(`prometheus answered HTTP ${res.status}`);
  const body = (await res.json()) as {
    status: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success' || body.data?.resultType !== 'vector')
    throw new Error('prometheus returned no vector');
  return {
    taken_at: new Date().toISOString(),
    query,
    samples: body.data.result.slice(0, 500).map((r) => ({ metric: r.metric, value: Number(r.value[1]) })),
    links,
  };
}
