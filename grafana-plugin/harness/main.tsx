import React from 'react';
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import {
  createTheme,
  DataFrame,
  EventBusSrv,
  FieldConfigSource,
  getDefaultTimeRange,
  LoadingState,
  PanelData,
  PanelProps,
  ThemeContext,
} from '@grafana/data';
import { HierarchyPanel } from '../src/components/HierarchyPanel';
import { plugin } from '../src/module';
import { HierarchyOptions } from '../src/types';
import { fleetTable } from '../src/data/frame-factory';
import { applyFieldConfig, templateReplacer, withDefaults } from '../src/standalone/grafana-host';
import { framesFromPrometheus } from './prometheus';
import { interpolateQuery, nativeLinks, panelOf } from './dashboard';
import type { DrawnRect, HarnessApi } from './api';

/**
 * Renders the panel component as Grafana would, with the PanelProps it reads, outside Grafana.
 * With `prom`, it renders the hierarchy panel of a shipped dashboard (`dashboard`, default noc) against that
 * Prometheus: the dashboard's queries, options and field config. With `bench`, generated frames and the
 * panel's defaults. Parameters: prom, dashboard, var-<name> (dashboard variables), view (a/b/c, the place to
 * open), refresh (ms), bench (tills) and devices (per till, 0 = per-till rows), theme=light, width, height,
 * and any panel option by name (e.g. levels=store,till).
 */
const params = new URLSearchParams(location.search);
const theme = createTheme({ colors: { mode: params.get('theme') === 'light' ? 'light' : 'dark' } });
const bench = params.get('bench');
const definition = bench ? undefined : panelOf(params.get('dashboard') ?? 'noc', params);

const saved: Partial<HierarchyOptions> = { ...(definition?.options as Partial<HierarchyOptions>) };
const savedFieldConfig: FieldConfigSource = definition?.fieldConfig ?? { defaults: {}, overrides: [] };
savedFieldConfig.defaults.links = nativeLinks(savedFieldConfig.defaults.links ?? [], params);
const loaded = withDefaults(plugin, saved, savedFieldConfig);
const options: HierarchyOptions = loaded.options;
for (const [k, v] of params) {
  if (k in options) {
    const cur = (options as unknown as Record<string, unknown>)[k];
    (options as unknown as Record<string, unknown>)[k] =
      typeof cur === 'number' ? Number(v) : typeof cur === 'boolean' ? v === 'true' : v;
  }
}
const replaceVariables = templateReplacer(definition?.variables ?? {});
const initialView = params
  .get('view')
  ?.split('/')
  .filter((s) => s !== '');

// Grafana paints the page behind panels; the harness does the same so toolbar text stays readable.
document.body.style.background = theme.colors.background.canvas;
document.body.style.color = theme.colors.text.primary;

let root = createRoot(document.getElementById('root')!);
const eventBus = new EventBusSrv();
const timeRange = getDefaultTimeRange();

/** Field config applied as Grafana's query runner does, before the panel sees the frames. */
function prepare(frames: DataFrame[]): DataFrame[] {
  return applyFieldConfig(plugin, frames, loaded.fieldConfig, theme, replaceVariables);
}

function render(series: DataFrame[]): void {
  const data: PanelData = { series, state: LoadingState.Done, timeRange };
  const props: PanelProps<HierarchyOptions> = {
    id: 1,
    data,
    timeRange,
    timeZone: 'browser',
    options,
    fieldConfig: loaded.fieldConfig,
    transparent: false,
    width: Number(params.get('width') ?? window.innerWidth),
    height: Number(params.get('height') ?? window.innerHeight - 24),
    renderCounter: 0,
    title: 'TillWatch',
    eventBus,
    onOptionsChange: () => {},
    onFieldConfigChange: () => {},
    replaceVariables,
    onChangeTimeRange: () => {},
  };
  // Synchronous, so the bench's clock covers model build, layout and paint and nothing else.
  flushSync(() =>
    root.render(
      <ThemeContext.Provider value={theme}>
        <HierarchyPanel {...props} initialView={initialView} />
      </ThemeContext.Provider>
    )
  );
}

function showError(e: unknown): void {
  document.getElementById('error')!.textContent = String((e as Error).message ?? e);
}

let lastRects: () => DrawnRect[] = () => [];
document.addEventListener('tillwatch:drawn', (e) => {
  lastRects = (e as CustomEvent<{ rects: () => DrawnRect[] }>).detail.rects;
});

declare global {
  interface Window {
    tillwatchHarness: HarnessApi;
  }
}

const nextTask = () =>
  new Promise<void>((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(null);
  });

const drawn = () =>
  new Promise<void>((resolve) => document.addEventListener('tillwatch:drawn', () => resolve(), { once: true }));

const panelData = () => (document.querySelector('[data-testid="tillwatch-panel"]') as HTMLElement).dataset;

window.tillwatchHarness = {
  refreshes: 0,
  refresh: async () => {},
  /** Times pointer moves over random cells until the tooltip for the new cell is in the DOM. */
  async hover(samples) {
    const canvas = document.querySelector('canvas')!;
    const r = canvas.getBoundingClientRect();
    const out: number[] = [];
    for (let k = 0; k < samples; k++) {
      const x = r.left + ((k * 7919) % Math.floor(r.width));
      const y = r.top + ((k * 104729) % Math.floor(r.height));
      const t0 = performance.now();
      canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y, bubbles: true }));
      await nextTask();
      out.push(performance.now() - t0);
    }
    return out;
  },
  /** Times a click into the largest cell until the drilled view is painted, then goes back. */
  async drill(samples) {
    const canvas = document.querySelector('canvas')!;
    const panel = document.querySelector('[data-testid="tillwatch-panel"]') as HTMLElement;
    const out: number[] = [];
    for (let k = 0; k < samples; k++) {
      const cells = [...document.querySelectorAll('[data-testid="tillwatch-cells"] li')] as HTMLElement[];
      const cell = cells[k % cells.length]!;
      const r = canvas.getBoundingClientRect();
      const x = r.left + Number(cell.dataset.x) + Number(cell.dataset.w) / 2;
      const y = r.top + Number(cell.dataset.y) + Number(cell.dataset.h) / 2;
      const done = drawn();
      const t0 = performance.now();
      canvas.dispatchEvent(new MouseEvent('click', { clientX: x, clientY: y, bubbles: true }));
      await done;
      out.push(performance.now() - t0);
      const back = drawn();
      panel.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
      await back;
    }
    return out;
  },
  benchNext: () => {},
  benchRender: () => ({ ms: 0, buildMs: 0, drawMs: 0, repainted: 0, sameLayout: true, carried: '', warmMs: NaN }),
  benchFirst: () => 0,
  rects: () => lastRects(),
};

async function main(): Promise<void> {
  if (bench) {
    const tills = Number(bench);
    const devicesPerTill = Number(params.get('devices') ?? 5);
    const frames = (k: number) =>
      prepare([fleetTable({ tills, devicesPerTill, downTills: (t) => k % 2 === 1 && t % 100 === 0 })]);
    const first = frames(0);
    const t0 = performance.now();
    render(first);
    window.tillwatchHarness.firstDrawMs = performance.now() - t0;
    window.tillwatchHarness.buildMs = Number(panelData().buildMs);
    let k = 0;
    let pending: DataFrame[] | undefined;
    window.tillwatchHarness.benchNext = () => {
      // New frames as a refresh delivers them (new arrays and strings), built before the clock starts; their
      // garbage (Grafana's query pipeline, not the panel) is collected first when the page has --expose-gc.
      k++;
      pending = frames(k);
      (window as unknown as { gc?: () => void }).gc?.();
    };
    window.tillwatchHarness.benchRender = () => {
      const before = panelData().layout;
      // The idle warm-up of the buffers after the last paint, if it has ended (the view sets it when it does).
      const warmMs = Number(panelData().warmMs ?? NaN);
      delete panelData().warmMs;
      const start = performance.now();
      render(pending!);
      const ms = performance.now() - start;
      const d = panelData();
      return {
        ms,
        buildMs: Number(d.buildMs),
        drawMs: Number(d.drawMs),
        repainted: Number(d.repainted),
        sameLayout: d.layout === before,
        carried: d.carried ?? '',
        warmMs,
      };
    };
    window.tillwatchHarness.benchFirst = () => {
      // A first draw again: a new React root, so no model or layout of earlier draws is reused.
      root.unmount();
      root = createRoot(document.getElementById('root')!);
      const start = performance.now();
      render(first);
      return performance.now() - start;
    };
    return;
  }
  const prom = params.get('prom');
  if (!prom || !definition) {
    showError('Add ?prom=http://127.0.0.1:9090 (a Prometheus base URL) or ?bench=<tills> to the address');
    return;
  }
  const targets = definition.targets.map((t) => ({
    refId: t.refId,
    expr: interpolateQuery(t.expr, definition.variables),
  }));
  const refresh = Number(params.get('refresh') ?? 5000);
  const tick = async () => {
    try {
      render(prepare(await framesFromPrometheus(prom.replace(/\/$/, ''), targets, options.alertsRefId)));
      window.tillwatchHarness.refreshes++;
      showError('');
    } catch (e) {
      showError(e);
    }
  };
  window.tillwatchHarness.refresh = tick;
  await tick();
  if (refresh > 0) {
    setInterval(tick, refresh);
  }
}

void main();
