import React from 'react';
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import {
  createTheme,
  DataFrame,
  EventBusSrv,
  getDefaultTimeRange,
  LoadingState,
  PanelData,
  PanelProps,
} from '@grafana/data';
import { HierarchyPanel, parseLevels } from '../src/components/HierarchyPanel';
import { buildModel } from '../src/data/hierarchy';
import { parseHealthRules } from '../src/data/states';
import { defaultOptions, HierarchyOptions } from '../src/types';
import { fleetTable } from '../src/data/frame-factory';
import { framesFromPrometheus } from './prometheus';

/**
 * Renders the panel component as Grafana would, with the PanelProps it reads.
 * Query parameters: prom (Prometheus base URL), query (health query, default till_device_up), refresh (ms),
 * bench (tills to generate instead of querying), theme=light, and any panel option by name (e.g. levels=store,till).
 */
const params = new URLSearchParams(location.search);
const options: HierarchyOptions = { ...defaultOptions };
for (const [k, v] of params) {
  if (k in options) {
    const cur = (options as unknown as Record<string, unknown>)[k];
    (options as unknown as Record<string, unknown>)[k] =
      typeof cur === 'number' ? Number(v) : typeof cur === 'boolean' ? v === 'true' : v;
  }
}

// Grafana paints the page behind panels; the harness does the same so toolbar text stays readable.
const pageTheme = createTheme({ colors: { mode: params.get('theme') === 'light' ? 'light' : 'dark' } });
document.body.style.background = pageTheme.colors.background.canvas;
document.body.style.color = pageTheme.colors.text.primary;

const root = createRoot(document.getElementById('root')!);
const eventBus = new EventBusSrv();
const timeRange = getDefaultTimeRange();

function render(series: DataFrame[]): void {
  const data: PanelData = { series, state: LoadingState.Done, timeRange };
  const props: PanelProps<HierarchyOptions> = {
    id: 1,
    data,
    timeRange,
    timeZone: 'browser',
    options,
    fieldConfig: { defaults: {}, overrides: [] },
    transparent: false,
    width: Number(params.get('width') ?? window.innerWidth),
    height: Number(params.get('height') ?? window.innerHeight - 24),
    renderCounter: 0,
    title: 'TillWatch',
    eventBus,
    onOptionsChange: () => {},
    onFieldConfigChange: () => {},
    replaceVariables: (s: string) => s,
    onChangeTimeRange: () => {},
  };
  // Synchronous, so the bench's clock covers model build, layout and paint and nothing else.
  flushSync(() => root.render(<HierarchyPanel {...props} />));
}

function showError(e: unknown): void {
  document.getElementById('error')!.textContent = String((e as Error).message ?? e);
}

declare global {
  interface Window {
    tillwatchHarness: {
      firstDrawMs?: number;
      buildMs?: number;
      refreshes: number;
      /** Queries Prometheus again now (prom mode), resolving when the new frames are rendered. */
      refresh(): Promise<void>;
      hover(samples: number): Promise<number[]>;
      drill(samples: number): Promise<number[]>;
    };
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
};

async function main(): Promise<void> {
  const bench = params.get('bench');
  if (bench) {
    const series = [fleetTable({ tills: Number(bench), devicesPerTill: Number(params.get('devices') ?? 5) })];
    const t0 = performance.now();
    render(series);
    window.tillwatchHarness.firstDrawMs = performance.now() - t0;
    // The model build alone, to split the first draw into data work and layout + paint.
    const t1 = performance.now();
    buildModel(series, {
      levels: parseLevels(options.levels),
      rules: parseHealthRules(options.healthRules),
      alertsRefId: options.alertsRefId,
      summaryLabel: options.summaryLabel,
    });
    window.tillwatchHarness.buildMs = performance.now() - t1;
    return;
  }
  const prom = params.get('prom');
  if (!prom) {
    showError('Add ?prom=http://127.0.0.1:9090 (a Prometheus base URL) or ?bench=<tills> to the address');
    return;
  }
  const query = params.get('query') ?? 'till_device_up';
  const refresh = Number(params.get('refresh') ?? 5000);
  const tick = async () => {
    try {
      render(await framesFromPrometheus(prom.replace(/\/$/, ''), query));
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
