import { DataLink, InterpolateFunction, locationUtil, ScopedVars, textUtil } from '@grafana/data';
import type { VariableFormatID } from '@grafana/schema';
import { AlertInfo, HierarchyModel, labelsOf } from './hierarchy';

/**
 * Grafana's format for data link URLs (VariableFormatID.UriEncode). A type-only import: Grafana does not
 * provide @grafana/schema at run time and the plugin bundles no @grafana package.
 */
const URI_ENCODE = 'uriencode' satisfies `${VariableFormatID}`;

/** Alert labels that links commonly use; empty on a tile without alert. */
const ALERT_LABELS = ['alertname', 'severity', 'incident_class', 'device', 'runbook_url', 'summary'];

export interface TileLink {
  title: string;
  href: string;
  target?: string;
}

/**
 * The variables a tile's data links can use: its place (`${chain}` … `${till}`, `${device}`), the labels of
 * its worst alert (`${alertname}`, `${severity}`, `${incident_class}` …) and `${__name}`, the place's human
 * name. The place wins over an alert label of the same name: a store-wide alert shown on a till still
 * links to that till.
 */
export function tileScopedVars(model: HierarchyModel, node: number, alert: AlertInfo | undefined): ScopedVars {
  const vars: ScopedVars = {};
  const set = (k: string, v: string) => (vars[k] = { text: v, value: v });
  for (const [k, v] of Object.entries(alert?.labels ?? {})) {
    set(k, v);
  }
  for (const [k, v] of Object.entries(labelsOf(model, node))) {
    set(k, v);
  }
  // A level the tile does not reach, or an alert label a tile without alert lacks, is "not given": empty,
  // not left in the URL as "${alertname}" (Grafana keeps an unknown variable as written).
  for (const name of [...model.structure.levels, ...ALERT_LABELS]) {
    if (!(name in vars)) {
      set(name, '');
    }
  }
  set('__name', model.displayNames.get(node) ?? model.structure.names[node] ?? '');
  return vars;
}

/**
 * Fills the health field's data links (Grafana's standard "Data links" field config) for one tile, the way
 * Grafana fills any data link: base URL applied, variables replaced URI-encoded (`${x:raw}` for a value
 * that is itself a URL), empty and unsafe links dropped.
 */
export function tileLinks(links: DataLink[], vars: ScopedVars, replaceVariables: InterpolateFunction): TileLink[] {
  const out: TileLink[] = [];
  for (const link of links) {
    if (!link.url) {
      continue;
    }
    const href = replaceVariables(locationUtil.assureBaseUrl(link.url.replace(/\n/g, '')), vars, URI_ENCODE);
    // Grafana's sanitizer also decodes the URL, which would undo the encoding of a value; it only decides
    // here whether the link is safe (a `javascript:` runbook label is not).
    if (href.trim() === '' || textUtil.sanitizeUrl(href) === 'about:blank') {
      continue;
    }
    out.push({
      title: replaceVariables(link.title || href, vars),
      href,
      target: link.targetBlank ? '_blank' : undefined,
    });
  }
  return out;
}
