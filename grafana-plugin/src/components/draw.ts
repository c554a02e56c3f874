import { GrafanaTheme2 } from '@grafana/data';
import { HierarchyModel } from '../data/hierarchy';
import { CELL, GROUP, Layout } from '../data/layout';
import { STATE_COUNT, STATE_NAMES, StateName } from '../data/states';

/** Grafana palette names per state; resolved through the theme so light and dark walls both work. */
export const STATE_COLOR_NAMES: Record<StateName, string> = {
  ok: 'green',
  info: 'blue',
  warning: 'orange',
  // Stale tills must stand out from both the background and healthy tills: a grey cell on a dark wall
  // reads as "nothing there", which is exactly the wrong message for a till we cannot see.
  unknown: 'purple',
  critical: 'red',
};

export interface Palette {
  state: string[];
  text: string[];
  background: string;
  group: string;
  groupText: string;
}

export function paletteOf(theme: GrafanaTheme2): Palette {
  const state = STATE_NAMES.map((s) => theme.visualization.getColorByName(STATE_COLOR_NAMES[s]));
  return {
    state,
    text: state.map((c) => theme.colors.getContrastText(c)),
    background: theme.colors.background.primary,
    group: theme.colors.background.secondary,
    groupText: theme.colors.text.primary,
  };
}

const LABEL_MIN_W = 36;
const LABEL_MIN_H = 14;

/**
 * Paints a layout on one canvas. Cells are batched per colour into one path each, so 100,000 cells cost
 * five fills instead of 100,000 state changes; text is drawn only where it fits.
 */
export function drawLayout(
  ctx: CanvasRenderingContext2D,
  layout: Layout,
  model: HierarchyModel,
  palette: Palette,
  header: number,
  dpr: number
): void {
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = palette.background;
  ctx.fillRect(0, 0, layout.width, layout.height);
  const { count, kind, node, x, y, w, h } = layout;

  // fillRect per rectangle, one colour at a time: with software raster (no GPU on a wall PC or in CI)
  // one path of thousands of sub-rectangles filled three times slower than plain rectangles.
  ctx.fillStyle = palette.group;
  for (let i = 0; i < count; i++) {
    if (kind[i] === GROUP) {
      const x0 = Math.round(x[i]!);
      const y0 = Math.round(y[i]!);
      ctx.fillRect(x0, y0, Math.round(x[i]! + w[i]!) - x0, Math.round(y[i]! + h[i]!) - y0);
    }
  }

  for (let s = 0; s < STATE_COUNT; s++) {
    ctx.fillStyle = palette.state[s]!;
    for (let i = 0; i < count; i++) {
      if (kind[i] !== CELL || model.state[node[i]!] !== s) {
        continue;
      }
      // Snap to whole pixels so neighbours never blend at their edge; leave a 1px gap where a cell can spare it.
      const x0 = Math.round(x[i]!);
      const y0 = Math.round(y[i]!);
      const x1 = Math.round(x[i]! + w[i]!);
      const y1 = Math.round(y[i]! + h[i]!);
      const gap = x1 - x0 >= 6 && y1 - y0 >= 6 ? 1 : 0;
      if (x1 - x0 - gap > 0 && y1 - y0 - gap > 0) {
        ctx.fillRect(x0, y0, x1 - x0 - gap, y1 - y0 - gap);
      }
    }
  }

  ctx.textBaseline = 'middle';
  for (let i = 0; i < count; i++) {
    const cw = w[i]!;
    const ch = h[i]!;
    if (cw < LABEL_MIN_W || ch < LABEL_MIN_H) {
      continue;
    }
    const name = model.names[node[i]!]!;
    if (kind[i] === GROUP) {
      if (cw > 60 && ch > header * 3) {
        ctx.font = `${Math.round(header * 0.8)}px sans-serif`;
        ctx.fillStyle = palette.groupText;
        drawFitted(ctx, name, x[i]! + 3, y[i]! + 1 + header / 2, cw - 6);
      }
      continue;
    }
    // Larger cells get larger text: a wall is read from across the room.
    const size = Math.max(10, Math.min(32, Math.floor(Math.min(ch * 0.35, cw / 6))));
    ctx.font = `${size}px sans-serif`;
    ctx.fillStyle = palette.text[model.state[node[i]!]!]!;
    drawFitted(ctx, name, x[i]! + 4, y[i]! + Math.min(ch / 2, size), cw - 8);
  }
}

function drawFitted(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, max: number): void {
  if (max <= 0) {
    return;
  }
  const width = ctx.measureText(text).width;
  if (width <= max) {
    ctx.fillText(text, x, y);
    return;
  }
  // Keep the end of the name: "store-1042-till-3" is told apart from its neighbours by its tail. The cut is
  // estimated from the average glyph width: trimming a character at a time cost a dozen text
  // measurements per label, thousands of labels per drill-down.
  const keep = Math.floor((text.length * (max - ctx.measureText('…').width)) / width);
  if (keep >= 2) {
    ctx.fillText('…' + text.slice(text.length - keep), x, y);
  }
}
