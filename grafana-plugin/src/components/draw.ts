import { GrafanaTheme2 } from '@grafana/data';
import { HierarchyModel } from '../data/hierarchy';
import { CELL, GROUP, headerOf, Layout } from '../data/layout';
import { STATE_NAMES, StateName } from '../data/states';

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

/** A CSS colour as the 32-bit value of an RGBA pixel in ImageData's byte order on this machine. */
function pack(ctx: CanvasRenderingContext2D, colour: string): number {
  // The canvas normalises any CSS colour to "#rrggbb" or "rgba(r, g, b, a)".
  ctx.fillStyle = '#000';
  ctx.fillStyle = colour;
  const c = String(ctx.fillStyle);
  let r = 0;
  let g = 0;
  let b = 0;
  let a = 255;
  if (c.startsWith('#')) {
    r = parseInt(c.slice(1, 3), 16);
    g = parseInt(c.slice(3, 5), 16);
    b = parseInt(c.slice(5, 7), 16);
  } else {
    const m = c.match(/[\d.]+/g) ?? [];
    r = Number(m[0] ?? 0);
    g = Number(m[1] ?? 0);
    b = Number(m[2] ?? 0);
    a = Math.round(Number(m[3] ?? 1) * 255);
  }
  const bytes = new Uint8ClampedArray([r, g, b, a]);
  return new Uint32Array(bytes.buffer)[0]!;
}

function packPalette(ctx: CanvasRenderingContext2D, palette: Palette) {
  return {
    state: palette.state.map((c) => pack(ctx, c)),
    background: pack(ctx, palette.background),
    group: pack(ctx, palette.group),
  };
}

const buffers = new WeakMap<CanvasRenderingContext2D, ImageData>();

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
  const { count, kind, node, x, y, w, h } = layout;
  const W = Math.max(1, Math.round(layout.width * dpr));
  const H = Math.max(1, Math.round(layout.height * dpr));
  // Rectangles go straight into a pixel buffer and reach the canvas in one putImageData: with software
  // raster (wall PCs without GPU acceleration, CI) a fillRect call per rectangle costs far more than
  // writing the same pixels with TypedArray.fill row by row (docs/benchmarks.md, "Panel"). Text is drawn on
  // top with the 2D API.
  let img = buffers.get(ctx);
  if (!img || img.width !== W || img.height !== H) {
    // A full-HD wall's buffer is megabytes: allocated once per size and reused, not per paint.
    img = ctx.createImageData(W, H);
    buffers.set(ctx, img);
  }
  const buf = new Uint32Array(img.data.buffer);
  const colours = packPalette(ctx, palette);
  buf.fill(colours.background);
  for (let i = 0; i < count; i++) {
    const isCell = kind[i] === CELL;
    const colour = isCell ? colours.state[model.state[node[i]!]!]! : colours.group;
    // A group's children cover its inside, so only its title band is painted: filling every nesting level
    // wrote the whole canvas five times over.
    const gh = isCell ? h[i]! : headerOf(w[i]!, h[i]!, header) + 1;
    if (!isCell && gh <= 1) {
      continue;
    }
    // Snap to whole device pixels so neighbours never blend; leave a 1px gap where a cell can spare it.
    const x0 = Math.max(0, Math.round(x[i]! * dpr));
    const y0 = Math.max(0, Math.round(y[i]! * dpr));
    let x1 = Math.min(W, Math.round((x[i]! + w[i]!) * dpr));
    let y1 = Math.min(H, Math.round((y[i]! + gh) * dpr));
    if (isCell && x1 - x0 >= 6 * dpr && y1 - y0 >= 6 * dpr) {
      x1 -= Math.max(1, Math.round(dpr));
      y1 -= Math.max(1, Math.round(dpr));
    }
    if (x1 <= x0) {
      continue;
    }
    for (let row = y0; row < y1; row++) {
      buf.fill(colour, row * W + x0, row * W + x1);
    }
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.putImageData(img, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

  ctx.textBaseline = 'middle';
  for (let i = 0; i < count; i++) {
    const cw = w[i]!;
    const ch = h[i]!;
    if (cw < LABEL_MIN_W || ch < LABEL_MIN_H) {
      continue;
    }
    const name = model.names[node[i]!]!;
    if (kind[i] === GROUP) {
      if (headerOf(cw, ch, header) > 0) {
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
