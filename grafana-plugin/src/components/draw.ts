import { GrafanaTheme2 } from '@grafana/data';
import { HierarchyModel, Structure } from '../data/hierarchy';
import { CELL, headerOf, Layout } from '../data/layout';
import { fitText, shortId, tileLabel } from '../data/names';
import { PALETTE, textOn } from '../data/palette';
import { problemsOf } from '../data/problems';

export interface Colours {
  state: readonly string[];
  text: readonly string[];
  background: string;
  group: string;
  groupText: string;
}

/** The fixed state palette on the theme's background (see data/palette.ts). */
export function coloursOf(theme: GrafanaTheme2): Colours {
  return {
    state: PALETTE,
    text: PALETTE.map(textOn),
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

const buffers = new WeakMap<CanvasRenderingContext2D, ImageData>();

const LABEL_MIN_W = 36;
const LABEL_MIN_H = 14;
const MIN_FONT = 10;
const NO_BAND = 255;

/** What a paint put on the canvas, per layout rectangle, so the next paint of the same layout redraws only what changed. */
export interface Painted {
  layout: Layout;
  colours: Colours;
  dpr: number;
  /** State colour of each rectangle (a group: of its title band; NO_BAND for a neutral one). */
  fill: Uint8Array;
  /** Text of each rectangle, as drawn. */
  text: string[];
  /** Rectangles repainted by this paint (all of them for a full paint). */
  repainted: number;
  /** The human names the texts were made with. */
  names: Map<number, string>;
}

/** Place names as tiles show them: the id's distinguishing end, the human name beside it. Per structure. */
const shortNames = new WeakMap<Structure, Array<string | undefined>>();

function labelOf(model: HierarchyModel, node: number): string {
  const { structure } = model;
  let cache = shortNames.get(structure);
  if (!cache) {
    cache = [];
    shortNames.set(structure, cache);
  }
  let short = cache[node];
  if (short === undefined) {
    const ancestors: string[] = [];
    for (let n = structure.parent[node]!; n > 0; n = structure.parent[n]!) {
      ancestors.push(structure.names[n]!);
    }
    short = shortId(structure.names[node]!, ancestors);
    cache[node] = short;
  }
  return tileLabel(short, model.displayNames.get(node));
}

/** The reason line of a tile: the worst problem and how many more ("Нет бумаги +2"). */
export function reasonOf(model: HierarchyModel, node: number): string {
  const p = problemsOf(model, node);
  return p ? (p.more > 0 ? `${p.reason} +${p.more}` : p.reason) : '';
}

/**
 * Paints a layout on one canvas. Rectangles go straight into a pixel buffer and reach the canvas in one
 * putImageData: with software raster (wall PCs without GPU acceleration, CI) 20,000 fillRect calls cost
 * ~150 ms, writing the same pixels with TypedArray.fill costs a few milliseconds. Text is drawn on top with
 * the 2D API, only where it fits. Given the previous paint of the same layout, only the rectangles whose
 * colour or text changed are painted again: a refresh repaints, it does not redraw the wall.
 */
export function drawLayout(
  ctx: CanvasRenderingContext2D,
  layout: Layout,
  model: HierarchyModel,
  colours: Colours,
  header: number,
  dpr: number,
  last?: Painted
): Painted {
  const { count, kind, node, w, h } = layout;
  const W = Math.max(1, Math.round(layout.width * dpr));
  const H = Math.max(1, Math.round(layout.height * dpr));
  // Rectangles go straight into a pixel buffer and reach the canvas in one putImageData: with software
  // raster (wall PCs without GPU acceleration, CI) a fillRect call per rectangle costs far more than
  // writing the same pixels with TypedArray.fill row by row (docs/benchmarks.md, "Panel"). Text is drawn on
  // top with the 2D API.
  let img = buffers.get(ctx);
  const fresh = !img || img.width !== W || img.height !== H;
  if (!img || fresh) {
    // A full-HD wall's buffer is megabytes: allocated once per size and reused, not per paint.
    img = ctx.createImageData(W, H);
    buffers.set(ctx, img);
  }
  const incremental =
    !fresh && last !== undefined && last.layout === layout && last.colours === colours && last.dpr === dpr;
  const buf = new Uint32Array(img.data.buffer);
  const packed = {
    state: colours.state.map((c) => pack(ctx, c)),
    background: pack(ctx, colours.background),
    group: pack(ctx, colours.group),
  };
  const fill = new Uint8Array(count);
  const text: string[] = new Array(count);
  const { state, ownAlert } = model;
  for (let i = 0; i < count; i++) {
    const n = node[i]!;
    const isCell = kind[i] === CELL;
    // A group's own alert (a store outage) colours its title band: the whole group is in that state.
    fill[i] = isCell ? state[n]! : ownAlert[n]! >= 0 ? state[n]! : NO_BAND;
    // An ok tile has no problem to name: no alert covers it and its value is fine. One that was ok at the last
    // paint of this layout keeps its text (its name), which spares a string per tile on every refresh.
    const problem = fill[i] !== NO_BAND && fill[i] !== 0;
    if (w[i]! < LABEL_MIN_W || h[i]! < LABEL_MIN_H) {
      text[i] = '';
    } else if (!problem && incremental && last.fill[i] === fill[i] && last.names === model.displayNames) {
      text[i] = last.text[i]!;
    } else {
      text[i] = `${labelOf(model, n)}\n${problem ? reasonOf(model, n) : ''}`;
    }
  }
  const dirty: number[] = [];
  if (incremental) {
    for (let i = 0; i < count; i++) {
      if (fill[i] !== last.fill[i] || text[i] !== last.text[i]) {
        dirty.push(i);
      }
    }
  } else {
    buf.fill(packed.background);
  }
  const paintRect = (i: number) => {
    const isCell = kind[i] === CELL;
    const x = layout.x[i]!;
    const y = layout.y[i]!;
    const colour = fill[i] === NO_BAND ? packed.group : packed.state[fill[i]!]!;
    // A group's children cover its inside, so only its title band is painted: filling every nesting level
    // wrote the whole canvas five times over.
    const gh = isCell ? h[i]! : headerOf(w[i]!, h[i]!, header) + 1;
    if (!isCell && gh <= 1) {
      return undefined;
    }
    // Snap to whole device pixels so neighbours never blend; leave a 1px gap where a cell can spare it.
    const x0 = Math.max(0, Math.round(x * dpr));
    const y0 = Math.max(0, Math.round(y * dpr));
    const x1 = Math.min(W, Math.round((x + w[i]!) * dpr));
    const y1 = Math.min(H, Math.round((y + gh) * dpr));
    const gap = isCell && x1 - x0 >= 6 * dpr && y1 - y0 >= 6 * dpr ? Math.max(1, Math.round(dpr)) : 0;
    if (x1 <= x0) {
      return undefined;
    }
    for (let row = y0; row < y1 - gap; row++) {
      buf.fill(colour, row * W + x0, row * W + x1 - gap);
    }
    return { x0, y0, x1, y1 };
  };
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  if (incremental) {
    for (const i of dirty) {
      const r = paintRect(i);
      if (r) {
        ctx.putImageData(img, 0, 0, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
      }
    }
  } else {
    for (let i = 0; i < count; i++) {
      paintRect(i);
    }
    ctx.putImageData(img, 0, 0);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.textBaseline = 'middle';
  const measure = (s: string) => ctx.measureText(s).width;
  const fitLine = (line: string, max: number, size: number, bold: boolean, keep: 'start' | 'end') => {
    const font = (px: number) => `${bold ? 'bold ' : ''}${px}px sans-serif`;
    ctx.font = font(size);
    const full = measure(line);
    const px = full > max ? Math.max(MIN_FONT, Math.floor((size * max) / full)) : size;
    ctx.font = font(px);
    const shown = fitText(line, max, measure, keep);
    return shown === undefined ? undefined : { text: shown, size: px, font: font(px) };
  };
  const drawText = (i: number) => {
    if (text[i] === '') {
      return;
    }
    const [label = '', reason = ''] = text[i]!.split('\n');
    const x = layout.x[i]!;
    const y = layout.y[i]!;
    const cw = w[i]!;
    const ch = h[i]!;
    const n = node[i]!;
    if (kind[i] !== CELL) {
      const band = headerOf(cw, ch, header);
      if (band === 0) {
        return;
      }
      ctx.font = `${Math.round(header * 0.8)}px sans-serif`;
      ctx.fillStyle = fill[i] === NO_BAND ? colours.groupText : colours.text[fill[i]!]!;
      // A coloured band says what is wrong with the whole group: its reason goes first, the name gets the rest.
      let used = 0;
      if (reason) {
        ctx.font = `bold ${Math.round(header * 0.8)}px sans-serif`;
        const shown = fitText(reason, (cw - 6) * 0.6, measure, 'start');
        if (shown) {
          ctx.fillText(shown, x + 3, y + 1 + header / 2);
          used = measure(shown) + 10;
        }
        ctx.font = `${Math.round(header * 0.8)}px sans-serif`;
      }
      const name = fitText(label, cw - 6 - used, measure, 'end');
      if (name) {
        ctx.fillText(name, x + 3 + used, y + 1 + header / 2);
      }
      return;
    }
    // Larger cells get larger text: a wall is read from across the room. A line too wide for its cell is
    // drawn smaller first (down to MIN_FONT) and only then cut.
    const size = Math.max(MIN_FONT, Math.min(28, Math.floor(Math.min(ch * (reason ? 0.3 : 0.38), cw / 5))));
    ctx.fillStyle = colours.text[state[n]!]!;
    const nameLine = fitLine(label, cw - 8, size, false, 'end');
    let reasonLines = reason ? [fitLine(reason, cw - 8, size, true, 'start')] : [];
    // A reason that had to be cut is wrapped at the space nearest its middle when the cell is tall enough.
    const space = reason.indexOf(' ', Math.floor(reason.length / 2) - 3);
    if (reasonLines[0]?.text !== reason && space > 0) {
      const two = [reason.slice(0, space), reason.slice(space + 1)].map((t) => fitLine(t, cw - 8, size, true, 'start'));
      const px = Math.min(...two.map((l) => l?.size ?? 0));
      if (two.every((l) => l !== undefined) && ch >= 2.4 * px + (nameLine?.size ?? 0)) {
        reasonLines = two.map((t, k) =>
          fitLine(k === 0 ? reason.slice(0, space) : reason.slice(space + 1), cw - 8, px, true, 'start')
        );
      }
    }
    const lines = [nameLine, ...reasonLines].filter((l) => l !== undefined);
    // Lines stack from the middle of the cell; where they do not all fit, the reason wins over the name.
    while (lines.length > 1 && lines.reduce((a, l) => a + l.size * 1.2, 0) > ch - 4) {
      lines.shift();
    }
    let at = y + (ch - lines.reduce((a, l) => a + l.size * 1.2, 0)) / 2;
    for (const l of lines) {
      ctx.font = l.font;
      ctx.fillText(l.text, x + 4, at + l.size * 0.6);
      at += l.size * 1.2;
    }
  };
  if (incremental) {
    dirty.forEach(drawText);
  } else {
    for (let i = 0; i < count; i++) {
      drawText(i);
    }
  }
  return { layout, colours, dpr, fill, text, repainted: incremental ? dirty.length : count, names: model.displayNames };
}
