import { DataLink, FieldConfigSource } from '@grafana/data';
import noc from '../../dashboards/noc.json';
import store from '../../dashboards/store.json';

/**
 * The hierarchy panel of a shipped dashboard, as Grafana would load it: its queries, options and field
 * config, read from the same JSON Grafana provisions (dashboards/*.json), so the native wall shows what the
 * NOC dashboard shows.
 */
export const DASHBOARDS: Record<string, unknown> = { noc, store };

interface Variable {
  name: string;
  type: string;
  query?: unknown;
  allValue?: string;
  includeAll?: boolean;
}

interface Target {
  refId: string;
  expr: string;
}

export interface PanelDefinition {
  targets: Target[];
  options: Record<string, unknown>;
  fieldConfig: FieldConfigSource;
  /** Values of the dashboard's variables: URL `var-<name>` parameters, else "All" or the default. */
  variables: Record<string, string>;
}

interface Panel {
  type: string;
  targets?: Target[];
  options?: Record<string, unknown>;
  fieldConfig?: FieldConfigSource;
  panels?: Panel[];
}

export function panelOf(name: string, params: URLSearchParams): PanelDefinition {
  const d = DASHBOARDS[name] as { panels: Panel[]; templating: { list: Variable[] } } | undefined;
  if (!d) {
    throw new Error(`?dashboard=${name}: no such dashboard (${Object.keys(DASHBOARDS).join(', ')})`);
  }
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const panel = panels.find((p) => p.type === 'tillwatch-hierarchy-panel');
  if (!panel) {
    throw new Error(`dashboard ${name} has no tillwatch-hierarchy-panel`);
  }
  const variables: Record<string, string> = {};
  for (const v of d.templating.list) {
    const given = params.get(`var-${v.name}`);
    variables[v.name] = given ?? (v.includeAll ? (v.allValue ?? '.*') : typeof v.query === 'string' ? v.query : '.*');
  }
  return {
    targets: panel.targets ?? [],
    options: panel.options ?? {},
    fieldConfig: structuredClone(panel.fieldConfig ?? { defaults: {}, overrides: [] }),
    variables,
  };
}

/** A query with the dashboard's variables in place, as Grafana sends it to Prometheus. */
export function interpolateQuery(expr: string, variables: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a?: string, b?: string) => variables[a ?? b!] ?? whole);
}

/**
 * Data links to other Grafana dashboards point, in the native stack (no Grafana), at the harness's own view of
 * the same place: the store dashboard's device map, opened at the store or the till. Links elsewhere (the
 * alert bridge, runbooks) stay as they are.
 */
export function nativeLinks(links: DataLink[], base: URLSearchParams): DataLink[] {
  const keep = new URLSearchParams();
  for (const k of ['prom', 'refresh', 'theme', 'var-bridge']) {
    const v = base.get(k);
    if (v !== null) {
      keep.set(k, v);
    }
  }
  return links.map((link) => {
    const m = /^\/d\/([\w-]+)(?:\/[\w-]*)?\?(.*)$/.exec(link.url);
    if (!m || (m[1] !== 'tillwatch-till' && m[1] !== 'tillwatch-store')) {
      return link;
    }
    // The template's own `${store}` and `${till}` must survive: the query string is rebuilt by hand.
    const vars = new Map(m[2]!.split('&').map((kv) => kv.split('=', 2) as [string, string]));
    const at = [vars.get('var-store') ?? '${store}'];
    if (m[1] === 'tillwatch-till') {
      at.push(vars.get('var-till') ?? '${till}');
    }
    const url = `/?${keep.toString()}${keep.size ? '&' : ''}dashboard=store&var-store=${at[0]}&view=${at.join('/')}`;
    return { ...link, url };
  });
}
