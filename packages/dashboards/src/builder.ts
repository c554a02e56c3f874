// A small builder for Grafana dashboard JSON (schemaVersion 42, Grafana 12.4). Written by hand
// rather than with grafonnet/grok because the project is TypeScript end to end and the
// dashboards need only a handful of panel types; the output is plain provisionable JSON.

/**
 * Every panel, target and query variable reads Prometheus through the dashboard's `datasource` variable,
 * never a fixed uid, so the dashboards work on any Grafana (dashboards/README.md "Datasource"):
 * - imported by the UI or `POST /api/dashboards/import`: Grafana asks for the `__inputs` entry
 *   DS_PROMETHEUS and replaces `${DS_PROMETHEUS}` everywhere, which is the variable's starting value;
 * - provisioned from files (no inputs are resolved there): the variable keeps no value of an existing
 *   datasource and Grafana selects the first Prometheus datasource by name (not the default one): the
 *   provisioned one, the only one in the stack.
 * This is the wiring of Grafana's "Export for sharing externally" with a datasource variable.
 */
export const DATASOURCE_VARIABLE = 'datasource';
export const DATASOURCE = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` } as const;
export const DS_INPUT = 'DS_PROMETHEUS';
export const TAG = 'tillwatch';
export const SCHEMA_VERSION = 42;
/** The lowest Grafana the dashboards are for: the one the hierarchy panel declares (grafana-plugin). */
export const GRAFANA_VERSION = '13.0.2';
/** The panel plugins the dashboards use, for `__requires` (core panels carry no version, as Grafana exports them). */
export const PANEL_PLUGINS: Record<string, { name: string; version: string }> = {
  stat: { name: 'Stat', version: '' },
  timeseries: { name: 'Time series', version: '' },
  'state-timeline': { name: 'State timeline', version: '' },
  bargauge: { name: 'Bar gauge', version: '' },
  table: { name: 'Table', version: '' },
  // grafana-plugin/src/plugin.json's name and grafana-plugin/package.json's version (test/dashboards.test.ts).
  'tillwatch-hierarchy-panel': { name: 'TillWatch hierarchy', version: '2.0.0' },
};

export type Json = Record<string, unknown>;

/** The label filter every fleet query carries, driven by the chained variables. */
export const F = 'chain=~"$chain", region=~"$region", store=~"$store", till=~"$till"';
/** Scope without the till, for store-level questions. */
export const FS = 'chain=~"$chain", region=~"$region", store=~"$store"';

export interface Target {
  expr: string;
  legend?: string;
  /** Instant query returning a table (for tables, stats by label, bar gauges). */
  instant?: boolean;
  table?: boolean;
  /** Defaults to A, B, C... by position; set when a panel looks a query up by refId. */
  refId?: string;
}

function target(t: Target, i: number): Json {
  return {
    datasource: DATASOURCE,
    refId: t.refId ?? String.fromCharCode(65 + i),
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    range: !t.instant,
    instant: t.instant ?? false,
    format: t.table ? 'table' : 'time_series',
    editorMode: 'code',
  };
}

export interface PanelOpts {
  title: string;
  description?: string;
  targets: Target[];
  w?: number;
  h?: number;
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  thresholds?: Array<[number | null, string]>;
  mappings?: Json[];
  overrides?: Json[];
  transformations?: Json[];
  options?: Json;
  links?: Json[];
  noValue?: string;
  custom?: Json;
  color?: Json;
}

export interface Panel extends Json {
  gridPos: { x: number; y: number; w: number; h: number };
}

function fieldConfig(o: PanelOpts): Json {
  const defaults: Json = {
    unit: o.unit ?? 'short',
    color: o.color ?? { mode: o.thresholds ? 'thresholds' : 'palette-classic' },
    thresholds: {
      mode: 'absolute',
      steps: (o.thresholds ?? [[null, 'green']]).map(([value, color]) => ({ value, color })),
    },
    mappings: o.mappings ?? [],
  };
  if (o.min !== undefined) defaults.min = o.min;
  if (o.max !== undefined) defaults.max = o.max;
  if (o.decimals !== undefined) defaults.decimals = o.decimals;
  if (o.noValue !== undefined) defaults.noValue = o.noValue;
  if (o.links !== undefined) defaults.links = o.links;
  if (o.custom !== undefined) defaults.custom = o.custom;
  return { defaults, overrides: o.overrides ?? [] };
}

function panel(type: string, o: PanelOpts, options: Json, defaultSize: [number, number]): Panel {
  const p: Panel = {
    type,
    title: o.title,
    datasource: DATASOURCE,
    gridPos: { x: 0, y: 0, w: o.w ?? defaultSize[0], h: o.h ?? defaultSize[1] },
    fieldConfig: fieldConfig(o),
    options: { ...options, ...o.options },
    targets: o.targets.map(target),
  };
  if (o.description) p.description = o.description;
  if (o.transformations) p.transformations = o.transformations;
  return p;
}

export const reduce = { values: false, calcs: ['lastNotNull'], fields: '' };

export function stat(o: PanelOpts): Panel {
  return panel(
    'stat',
    { ...o, targets: o.targets.map((t) => ({ instant: true, ...t })) },
    {
      reduceOptions: reduce,
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'auto',
      justifyMode: 'auto',
    },
    [4, 4],
  );
}

export function timeseries(o: PanelOpts): Panel {
  return panel(
    'timeseries',
    o,
    {
      legend: { displayMode: 'table', placement: 'right', calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    [12, 8],
  );
}

/** A step graph for 0/1 states: up, present, paper, shift. */
export function stateTimeline(o: PanelOpts): Panel {
  return panel(
    'state-timeline',
    o,
    { showValue: 'never', mergeValues: true, rowHeight: 0.9, legend: { showLegend: false } },
    [12, 8],
  );
}

export function barGauge(o: PanelOpts): Panel {
  return panel(
    'bargauge',
    { ...o, targets: o.targets.map((t) => ({ instant: true, ...t })) },
    { reduceOptions: reduce, orientation: 'horizontal', displayMode: 'basic', showUnfilled: true },
    [8, 8],
  );
}

export function table(o: PanelOpts): Panel {
  return panel(
    'table',
    { ...o, targets: o.targets.map((t) => ({ instant: true, table: true, ...t })) },
    { showHeader: true, cellHeight: 'sm', footer: { show: false } },
    [24, 8],
  );
}

export function row(title: string): Panel {
  return { type: 'row', title, collapsed: false, panels: [], gridPos: { x: 0, y: 0, w: 24, h: 1 } };
}

/** Free-form panel (the hierarchy panel plugin). */
export function custom(type: string, o: PanelOpts, options: Json): Panel {
  return panel(type, o, options, [24, 16]);
}

/** Flows panels left to right, wrapping at 24 columns, and numbers their ids. */
export function layout(panels: Panel[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return panels.map((p, i) => {
    const { w, h } = p.gridPos;
    if (p.type === 'row' || x + w > 24) {
      y += rowH;
      x = 0;
      rowH = 0;
    }
    const placed = { ...p, id: i + 1, gridPos: { x, y, w, h } };
    x += w;
    rowH = Math.max(rowH, h);
    if (p.type === 'row') {
      y += h;
      x = 0;
      rowH = 0;
    }
    return placed;
  });
}

// --- Variables -------------------------------------------------------------------------------

// `up` rather than till_info: a till whose exporter is down has no till_info but must stay listed.
const LEVELS = ['chain', 'region', 'store', 'till'] as const;
export type Level = (typeof LEVELS)[number];

/** The Prometheus datasource picker every query reads (see DATASOURCE). */
export function datasourceVariable(): Json {
  const start = `\${${DS_INPUT}}`;
  return {
    type: 'datasource',
    name: DATASOURCE_VARIABLE,
    label: 'Prometheus',
    query: 'prometheus',
    current: { text: start, value: start },
    options: [],
    regex: '',
    refresh: 1,
    multi: false,
    includeAll: false,
    skipUrlSync: false,
    hide: 0,
  };
}

export function hierarchyVariables(opts: { single?: Level[] } = {}): Json[] {
  return LEVELS.map((level, i) => {
    const parents = LEVELS.slice(0, i).map((p) => `${p}=~"$${p}"`);
    const query = `label_values(up{${['till!=""', ...parents].join(', ')}}, ${level})`;
    const single = opts.single?.includes(level) ?? false;
    return {
      type: 'query',
      name: level,
      label: level[0]!.toUpperCase() + level.slice(1),
      datasource: DATASOURCE,
      definition: query,
      query: { qryType: 1, query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      refresh: 2,
      sort: 1,
      multi: !single,
      includeAll: !single,
      // `.*` instead of a long alternation: stays short at 100,000 tills and matches series
      // (ALERTS of store-wide alerts) that have no till label.
      ...(single ? {} : { allValue: '.*' }),
      current: single ? {} : { text: 'All', value: '$__all' },
      options: [],
      regex: '',
      skipUrlSync: false,
      hide: 0,
    };
  });
}

// --- Links -----------------------------------------------------------------------------------

export const dashboardLinks: Json[] = [
  {
    type: 'dashboards',
    title: 'TillWatch',
    tags: [TAG],
    asDropdown: true,
    includeVars: true,
    keepTime: true,
    targetBlank: false,
    icon: 'external link',
    tooltip: '',
    url: '',
  },
];

/** Data link from a table row to the till dashboard, carrying the row's labels. */
export const tillLink: Json = {
  title: 'Till ${__data.fields.till}',
  url: '/d/tillwatch-till/till?var-chain=${__data.fields.chain}&var-region=${__data.fields.region}&var-store=${__data.fields.store}&var-till=${__data.fields.till}&${__url_time_range}',
};

export const storeLink: Json = {
  title: 'Store ${__data.fields.store}',
  url: '/d/tillwatch-store/store?var-chain=${__data.fields.chain}&var-region=${__data.fields.region}&var-store=${__data.fields.store}&${__url_time_range}',
};

/** Overrides that put the till and store data links on their columns. */
export const linkOverrides: Json[] = [
  { matcher: { id: 'byName', options: 'till' }, properties: [{ id: 'links', value: [tillLink] }] },
  { matcher: { id: 'byName', options: 'store' }, properties: [{ id: 'links', value: [storeLink] }] },
];

/** Hides Prometheus' Time column and orders the hierarchy labels first. */
export function tableColumns(keep: string[], rename: Record<string, string> = {}): Json {
  const indexByName: Record<string, number> = {};
  keep.forEach((k, i) => (indexByName[k] = i));
  return {
    id: 'organize',
    options: {
      excludeByName: { Time: true },
      includeByName: Object.fromEntries(keep.map((k) => [k, true])),
      indexByName,
      renameByName: rename,
    },
  };
}

export const merge: Json = { id: 'merge', options: {} };

// --- Dashboard -------------------------------------------------------------------------------

export interface DashboardOpts {
  uid: string;
  title: string;
  description: string;
  panels: Panel[];
  variables: Json[];
  time?: string;
  refresh?: string;
}

/** `__requires` as Grafana's export writes it: Grafana, the datasource plugin and every panel plugin used. */
function requires(panels: Panel[]): Json[] {
  const types = [...new Set(panels.map((p) => p.type as string).filter((t) => t !== 'row'))].sort();
  return [
    { type: 'grafana', id: 'grafana', name: 'Grafana', version: GRAFANA_VERSION },
    { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
    ...types.map((id) => {
      const plugin = PANEL_PLUGINS[id];
      if (!plugin) throw new Error(`panel type ${id} is missing from PANEL_PLUGINS (builder.ts)`);
      return { type: 'panel', id, name: plugin.name, version: plugin.version };
    }),
  ];
}

export function dashboard(o: DashboardOpts): Json {
  return {
    __inputs: [
      {
        name: DS_INPUT,
        label: 'Prometheus',
        description: 'The Prometheus (or VictoriaMetrics) that scrapes the tills and evaluates rules/',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      },
    ],
    __elements: {},
    __requires: requires(o.panels),
    uid: o.uid,
    title: o.title,
    description: o.description,
    tags: [TAG],
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    refresh: o.refresh ?? '30s',
    time: { from: o.time ?? 'now-6h', to: 'now' },
    timepicker: {},
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    links: dashboardLinks,
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: { list: [datasourceVariable(), ...o.variables] },
    panels: layout(o.panels),
  };
}
