import React, { useCallback, useDeferredValue, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { css } from '@emotion/css';
import { GrafanaTheme2, InterpolateFunction } from '@grafana/data';
import { Checkbox, Input, useStyles2, useTheme2 } from '@grafana/ui';
import { HierarchyOptions } from '../types';
import { countsOf, findNode, HierarchyModel, pathOf } from '../data/hierarchy';
import { filterWeights } from '../data/filter';
import { CELL, hitTest, Layout, layoutTreemap } from '../data/layout';
import { tileLinks, tileScopedVars } from '../data/links';
import { PALETTE } from '../data/palette';
import { alertsAround, problemsOf } from '../data/problems';
import { State, STATE_LABELS, STATE_NAMES } from '../data/states';
import { coloursOf, drawLayout, Painted, reasonOf } from './draw';
import { useWarmSpare } from './useWarmSpare';

const TOOLBAR = 32;
const LEGEND = 24;
const HEADER = 16;
/** The accessible list names at most this many cells, worst first; a screen reader cannot use 100,000. */
const A11Y_CAP = 200;

export interface HierarchyViewProps {
  model: HierarchyModel | undefined;
  error?: string;
  width: number;
  height: number;
  options: HierarchyOptions;
  replaceVariables: InterpolateFunction;
  /** Path to open first (the harness's store and till views); the breadcrumb goes up from there. */
  initialView?: string[];
}

interface Pointer {
  /** The layout the index refers to: a new view or filter makes an old pointer meaningless. */
  layout?: Layout;
  index: number;
  x: number;
  y: number;
  pinned: boolean;
}

function getStyles(theme: GrafanaTheme2) {
  return {
    root: css({ position: 'relative', display: 'flex', flexDirection: 'column', outline: 'none', fontSize: 12 }),
    toolbar: css({
      height: TOOLBAR,
      display: 'flex',
      alignItems: 'center',
      gap: theme.spacing(1),
      overflow: 'hidden',
      whiteSpace: 'nowrap',
    }),
    crumbs: css({ flex: 1, overflow: 'hidden', textOverflow: 'ellipsis' }),
    crumb: css({
      background: 'none',
      border: 'none',
      color: theme.colors.text.link,
      cursor: 'pointer',
      padding: '0 2px',
      fontSize: 13,
    }),
    current: css({ color: theme.colors.text.primary, fontWeight: theme.typography.fontWeightMedium, fontSize: 13 }),
    search: css({ width: 200 }),
    legend: css({ height: LEGEND, display: 'flex', alignItems: 'center', gap: 14, overflow: 'hidden' }),
    swatch: css({ display: 'inline-block', width: 10, height: 10, borderRadius: 2, marginRight: 4 }),
    highlight: css({
      position: 'absolute',
      pointerEvents: 'none',
      border: `2px solid ${theme.colors.text.maxContrast}`,
      boxSizing: 'border-box',
    }),
    tooltip: css({
      position: 'absolute',
      zIndex: 10,
      maxWidth: 380,
      padding: theme.spacing(1),
      background: theme.colors.background.elevated ?? theme.colors.background.primary,
      border: `1px solid ${theme.colors.border.medium}`,
      borderRadius: theme.shape.radius.default,
      boxShadow: theme.shadows.z3,
      color: theme.colors.text.primary,
      a: { color: theme.colors.text.link, marginRight: 10 },
    }),
    offscreen: css({
      position: 'absolute',
      width: 1,
      height: 1,
      overflow: 'hidden',
      clip: 'rect(0 0 0 0)',
      whiteSpace: 'nowrap',
    }),
    message: css({ padding: theme.spacing(1), color: theme.colors.text.secondary }),
  };
}

/** A place as people name it: its human name, if it has one, next to its id. */
function titleOf(model: HierarchyModel, node: number): string {
  const id = model.structure.names[node] ?? '';
  const name = model.displayNames.get(node);
  return name ? `${name} (${id})` : id;
}

let layoutSerial = 0;

export function HierarchyView({
  model,
  error,
  width,
  height,
  options,
  replaceVariables,
  initialView,
}: HierarchyViewProps) {
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const colours = useMemo(() => coloursOf(theme), [theme]);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const painted = useRef<Painted | undefined>(undefined);
  // The next refresh's buffers, brought up to date while the page is idle; the harness and the bench read the cost.
  useWarmSpare(model, (ms) => {
    if (rootRef.current) {
      rootRef.current.dataset.warmMs = ms.toFixed(2);
    }
  });
  const [viewPath, setViewPath] = useState<string[]>(initialView ?? []);
  const [search, setSearch] = useState('');
  const [onlyProblems, setOnlyProblems] = useState(options.onlyProblemsDefault);
  const [rawPointer, setPointer] = useState<Pointer | undefined>(undefined);
  const [rawFocus, setFocus] = useState<{ layout: Layout; index: number } | undefined>(undefined);
  const deferredSearch = useDeferredValue(search);

  const canvasW = Math.max(0, Math.floor(width));
  const canvasH = Math.max(0, Math.floor(height - TOOLBAR - (options.showLegend ? LEGEND : 0)));
  const structure = model?.structure;

  // The view is kept as a path of names: the path survives any change of the data.
  const viewRoot = useMemo(() => {
    if (!model) {
      return 0;
    }
    for (let k = viewPath.length; k > 0; k--) {
      const n = findNode(model, viewPath.slice(0, k));
      if (n !== undefined) {
        return n;
      }
    }
    return 0;
    // The structure, not the model: a refresh that changes only states keeps the same view.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [structure, viewPath]);

  const weights = useMemo(
    () => (model ? filterWeights(model, { onlyProblems, search: deferredSearch }) : undefined),
    [model, onlyProblems, deferredSearch]
  );

  // Keyed by the structure and the weights, which a refresh of states leaves untouched: states repaint the
  // wall, they never lay it out again.
  const layout = useMemo((): Layout | undefined => {
    if (!structure || !weights || canvasW <= 0 || canvasH <= 0) {
      return undefined;
    }
    const l = layoutTreemap(structure, weights, viewRoot, canvasW, canvasH, {
      minCell: Math.max(1, options.minCellSize),
      header: HEADER,
    });
    layoutSerial++;
    return l;
  }, [structure, weights, viewRoot, canvasW, canvasH, options.minCellSize]);
  const layoutId = useMemo(() => (layout ? layoutSerial : 0), [layout]);

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !layout || !model) {
      return;
    }
    const t0 = performance.now();
    const dpr = window.devicePixelRatio || 1;
    const pw = Math.round(canvasW * dpr);
    const ph = Math.round(canvasH * dpr);
    // Assigning a canvas size clears it: only when it changes, so a repaint can keep what did not change.
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
      painted.current = undefined;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) {
      return;
    }
    const p = drawLayout(ctx, layout, model, colours, HEADER, dpr, painted.current);
    painted.current = p;
    const ms = performance.now() - t0;
    const root = rootRef.current;
    if (root) {
      // For the harness, the bench and the end-to-end test: what the paint did and how long it took.
      root.dataset.drawMs = ms.toFixed(2);
      root.dataset.buildMs = model.buildMs.toFixed(2);
      root.dataset.carried = model.carried ?? 'full build';
      root.dataset.cells = String(layout.count);
      root.dataset.repainted = String(p.repainted);
      root.dataset.layout = String(layoutId);
      // Every rectangle drawn, by path, for tests that compare where tiles are before and after faults.
      const rects = () =>
        Array.from({ length: layout.count }, (_, i) => ({
          path: pathOf(model, layout.node[i]!).join('/'),
          kind: layout.kind[i] === CELL ? 'cell' : 'group',
          state: STATE_NAMES[model.state[layout.node[i]!]!],
          x: layout.x[i]!,
          y: layout.y[i]!,
          w: layout.w[i]!,
          h: layout.h[i]!,
        }));
      root.dispatchEvent(
        new CustomEvent('tillwatch:drawn', {
          bubbles: true,
          detail: { ms, cells: layout.count, repainted: p.repainted, layout: layoutId, rects },
        })
      );
    }
  }, [layout, layoutId, model, colours, canvasW, canvasH]);

  const pointer = rawPointer && rawPointer.layout === layout ? rawPointer : undefined;
  const focus = rawFocus && rawFocus.layout === layout ? rawFocus.index : -1;

  const drillTarget = useCallback(
    (index: number): number | undefined => {
      if (!structure || !layout) {
        return undefined;
      }
      // One level per click: the ancestor of the clicked cell that is a direct child of the view.
      let n = layout.node[index]!;
      while (n > 0 && structure.parent[n] !== viewRoot) {
        n = structure.parent[n]!;
      }
      return n > 0 && structure.childCount[n]! > 0 ? n : undefined;
    },
    [structure, layout, viewRoot]
  );

  const drillInto = useCallback(
    (node: number) => {
      if (model) {
        setViewPath(pathOf(model, node));
      }
    },
    [model]
  );

  const indexAt = (e: React.MouseEvent) => {
    const rect = canvasRef.current!.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const y = e.clientY - rect.top;
    return { index: layout ? hitTest(layout, x, y) : -1, x, y };
  };

  const onMouseMove = (e: React.MouseEvent) => {
    if (pointer?.pinned) {
      return;
    }
    const { index, x, y } = indexAt(e);
    if (index !== pointer?.index || Math.abs(x - (pointer?.x ?? 0)) > 24 || Math.abs(y - (pointer?.y ?? 0)) > 24) {
      setPointer(index >= 0 ? { layout, index, x, y, pinned: false } : undefined);
    }
  };

  const onClick = (e: React.MouseEvent) => {
    const { index, x, y } = indexAt(e);
    if (index < 0) {
      return;
    }
    const target = drillTarget(index);
    if (target !== undefined) {
      drillInto(target);
    } else {
      // A leaf cannot be drilled: pin its tooltip so its links can be clicked.
      setPointer({ layout, index, x, y, pinned: true });
    }
  };

  const goUp = () => {
    if (pointer?.pinned) {
      setPointer(undefined);
      return;
    }
    setViewPath((p) => p.slice(0, Math.max(0, Math.min(p.length, model ? pathOf(model, viewRoot).length : 0) - 1)));
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (!layout || (e.target as HTMLElement).tagName === 'INPUT') {
      return;
    }
    const top = layout.top;
    if (e.key === 'Escape') {
      goUp();
      e.preventDefault();
      return;
    }
    if (e.key === 'Enter' || e.key === ' ') {
      const i = top[focus];
      if (i !== undefined) {
        const t = drillTarget(i);
        if (t !== undefined) {
          drillInto(t);
        }
      }
      e.preventDefault();
      return;
    }
    const dir = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (!dir || top.length === 0) {
      return;
    }
    e.preventDefault();
    const cur = top[focus];
    if (cur === undefined) {
      setFocus({ layout, index: 0 });
      return;
    }
    // Move to the nearest cell whose centre lies in the pressed direction.
    const cx = layout.x[cur]! + layout.w[cur]! / 2;
    const cy = layout.y[cur]! + layout.h[cur]! / 2;
    let best = -1;
    let bestD = Infinity;
    top.forEach((i, k) => {
      const dx = layout.x[i]! + layout.w[i]! / 2 - cx;
      const dy = layout.y[i]! + layout.h[i]! / 2 - cy;
      const along = dx * dir[0]! + dy * dir[1]!;
      if (k === focus || along <= 0) {
        return;
      }
      const across = Math.abs(dx * dir[1]! + dy * dir[0]!);
      const d = along + 2 * across;
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    });
    if (best >= 0) {
      setFocus({ layout, index: best });
    }
  };

  const focusIndex = layout && focus >= 0 ? layout.top[focus] : undefined;
  const shown: Pointer | undefined =
    pointer ??
    (focusIndex !== undefined && layout
      ? {
          index: focusIndex,
          x: layout.x[focusIndex]! + layout.w[focusIndex]! / 2,
          y: layout.y[focusIndex]! + layout.h[focusIndex]! / 2,
          pinned: true,
        }
      : undefined);

  if (error) {
    return <div className={styles.message}>{error}</div>;
  }
  if (!model || model.structure.leafCount[0] === 0) {
    return (
      <div className={styles.message} data-testid="tillwatch-summary">
        No data: the panel expects an instant query with labels{' '}
        {model?.structure.levels.join(', ') ?? 'chain, region, store, till, device'}.
        {model?.warnings.map((w) => (
          <div key={w}>{w}</div>
        ))}
      </div>
    );
  }

  const viewCounts = countsOf(model, viewRoot);
  const crumbs = pathOf(model, viewRoot);
  const crumbNodes = crumbs.map((_, i) => findNode(model, crumbs.slice(0, i + 1)) ?? 0);
  const visibleLeaves = weights ? weights[viewRoot]! : 0;

  return (
    <div
      ref={rootRef}
      className={styles.root}
      style={{ width, height }}
      tabIndex={0}
      onKeyDown={onKeyDown}
      aria-label="Till hierarchy map. Arrow keys move between cells, Enter opens one, Escape goes back."
      data-testid="tillwatch-panel"
    >
      <div className={styles.toolbar}>
        <nav className={styles.crumbs} aria-label="Breadcrumb" data-testid="tillwatch-breadcrumb">
          {crumbs.length === 0 ? (
            <span className={styles.current}>All</span>
          ) : (
            <button className={styles.crumb} onClick={() => setViewPath([])}>
              All
            </button>
          )}
          {crumbs.map((name, i) => (
            <React.Fragment key={i}>
              {' / '}
              {i === crumbs.length - 1 ? (
                <span className={styles.current} aria-current="page">
                  {titleOf(model, crumbNodes[i]!)}
                </span>
              ) : (
                <button className={styles.crumb} onClick={() => setViewPath(crumbs.slice(0, i + 1))}>
                  {name}
                </button>
              )}
            </React.Fragment>
          ))}
        </nav>
        {options.showSearch && (
          <div className={styles.search}>
            <Input
              type="search"
              placeholder="Search store, till…"
              aria-label="Search"
              value={search}
              onChange={(e) => setSearch(e.currentTarget.value)}
            />
          </div>
        )}
        <Checkbox
          label="Only problems"
          value={onlyProblems}
          onChange={(e) => setOnlyProblems(e.currentTarget.checked)}
        />
      </div>
      <div style={{ position: 'relative', width: canvasW, height: canvasH }}>
        <canvas
          ref={canvasRef}
          style={{ width: canvasW, height: canvasH, display: 'block', cursor: 'pointer' }}
          onMouseMove={onMouseMove}
          onMouseLeave={() => !pointer?.pinned && setPointer(undefined)}
          onClick={onClick}
          data-testid="tillwatch-canvas"
        />
        {visibleLeaves === 0 && (
          <div className={styles.message} style={{ position: 'absolute', top: 0 }}>
            Nothing matches {onlyProblems ? '"only problems"' : ''} {deferredSearch ? `"${deferredSearch}"` : ''}
          </div>
        )}
        {shown && layout && (
          <>
            <div
              className={styles.highlight}
              style={{
                left: layout.x[shown.index],
                top: layout.y[shown.index],
                width: layout.w[shown.index],
                height: layout.h[shown.index],
              }}
            />
            <Tooltip
              model={model}
              node={layout.node[shown.index]!}
              x={shown.x}
              y={shown.y}
              width={canvasW}
              height={canvasH}
              className={styles.tooltip}
              replaceVariables={replaceVariables}
            />
          </>
        )}
      </div>
      {options.showLegend && (
        <div className={styles.legend} data-testid="tillwatch-legend">
          {[...STATE_NAMES].reverse().map((s) => (
            <span key={s} data-state={s} data-count={viewCounts[State[s]]}>
              <span className={styles.swatch} style={{ background: PALETTE[State[s]] }} />
              {STATE_LABELS[s]} {viewCounts[State[s]]}
            </span>
          ))}
        </div>
      )}
      {layout && <CellList model={model} layout={layout} viewRoot={viewRoot} className={styles.offscreen} />}
    </div>
  );
}

/** Visually hidden list of the cells drawn at the top of the view, worst first: for screen readers and tests. */
const CellList = React.memo(function CellList({
  model,
  layout,
  viewRoot,
  className,
}: {
  model: HierarchyModel;
  layout: Layout;
  viewRoot: number;
  className: string;
}) {
  const { names } = model.structure;
  const items = layout.top
    .map((i) => ({ i, n: layout.node[i]! }))
    .sort((a, b) => model.state[b.n]! - model.state[a.n]! || (names[a.n]! < names[b.n]! ? -1 : 1))
    .slice(0, A11Y_CAP);
  const counts = countsOf(model, viewRoot);
  const summary = STATE_NAMES.map((s, k) => `${counts[k]} ${s}`).join(', ');
  const path = pathOf(model, viewRoot);
  return (
    <div className={className}>
      <p
        role="status"
        data-testid="tillwatch-summary"
        data-view={path.join('/')}
        data-state={STATE_NAMES[model.state[viewRoot]!]}
        data-cells={layout.count}
      >
        {path.length ? path.join(' / ') : 'All'}: {model.structure.leafCount[viewRoot]} items, worst state{' '}
        {STATE_NAMES[model.state[viewRoot]!]} ({summary}).
      </p>
      <ul aria-label="Cells shown" data-testid="tillwatch-cells">
        {items.map(({ i, n }) => {
          const reason = model.state[n] === State.ok ? '' : reasonOf(model, n);
          return (
            <li
              key={n}
              data-name={names[n]}
              data-title={titleOf(model, n)}
              data-state={STATE_NAMES[model.state[n]!]}
              data-reason={reason}
              data-x={layout.x[i]!.toFixed(1)}
              data-y={layout.y[i]!.toFixed(1)}
              data-w={layout.w[i]!.toFixed(1)}
              data-h={layout.h[i]!.toFixed(1)}
              data-kind={layout.kind[i] === CELL ? 'cell' : 'group'}
            >
              {titleOf(model, n)}: {STATE_NAMES[model.state[n]!]}
              {reason ? `, ${reason}` : ''}
            </li>
          );
        })}
      </ul>
    </div>
  );
});

function Tooltip({
  model,
  node,
  x,
  y,
  width,
  height,
  className,
  replaceVariables,
}: {
  model: HierarchyModel;
  node: number;
  x: number;
  y: number;
  width: number;
  height: number;
  className: string;
  replaceVariables: InterpolateFunction;
}) {
  const path = pathOf(model, node);
  const state = STATE_NAMES[model.state[node]!]!;
  const counts = countsOf(model, node);
  const alerts = alertsAround(model, node);
  const worst = problemsOf(model, node)?.alert ?? alerts[0]?.alert;
  const links = tileLinks(model.links, tileScopedVars(model, node, worst), replaceVariables);
  const isLeaf = model.structure.childCount[node] === 0;
  const value = model.values[node]!;
  const reason = model.state[node] === State.ok ? '' : reasonOf(model, node);
  // Flip to the other side of the pointer near the right or bottom edge.
  const left = x > width - 390 ? Math.max(0, x - 390) : x + 14;
  const top = y > height - 200 ? Math.max(0, y - 200) : y + 14;
  return (
    <div className={className} style={{ left, top }} role="tooltip" data-testid="tillwatch-tooltip" data-state={state}>
      <div data-testid="tillwatch-tooltip-path">
        <strong>{path.join(' / ') || 'All'}</strong>
      </div>
      {model.displayNames.get(node) && <div>{model.displayNames.get(node)}</div>}
      <div>
        State: <strong>{STATE_LABELS[state]}</strong>
        {reason && <> — {reason}</>}
        {isLeaf &&
          (Number.isNaN(value)
            ? model.stale[node]
              ? ' (stale: no data since the last refresh)'
              : ' (no data)'
            : ` (value ${value})`)}
      </div>
      {!isLeaf && (
        <div>
          {STATE_NAMES.map((s, k) => (counts[k] ? `${counts[k]} ${s}` : null))
            .filter(Boolean)
            .join(', ')}
        </div>
      )}
      {alerts.length > 0 && (
        <ul style={{ margin: '4px 0', paddingLeft: 16 }} data-testid="tillwatch-tooltip-alerts">
          {alerts.slice(0, 5).map(({ node: at, alert }, k) => (
            <li key={k}>
              [{alert.severity || 'no severity'}] {alert.reason}
              {alert.summary !== alert.reason ? `: ${alert.summary}` : ''}
              {at !== node ? ` (${pathOf(model, at).join(' / ')})` : ''}
            </li>
          ))}
          {alerts.length > 5 && <li>and {alerts.length - 5} more</li>}
        </ul>
      )}
      <div data-testid="tillwatch-tooltip-links">
        {links.map((l) => (
          <a key={l.title + l.href} href={l.href} target={l.target} rel="noreferrer">
            {l.title}
          </a>
        ))}
      </div>
    </div>
  );
}
