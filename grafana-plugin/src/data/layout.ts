import { Structure } from './hierarchy';

/** Kind of a laid-out rectangle. */
export const CELL = 0;
export const GROUP = 1;

export interface LayoutOptions {
  /** Smallest side (CSS px) a cell may have; below it a group is drawn as one cell of its worst state. */
  minCell: number;
  /** Height of a group's title band, when the group is large enough to show one. */
  header: number;
}

/**
 * Rectangles of one layout, flat: index i is node[i] at (x[i], y[i], w[i], h[i]) of kind[i].
 * Groups come before their content, so drawing in index order paints frames under cells.
 */
export interface Layout {
  count: number;
  node: Int32Array;
  kind: Uint8Array;
  x: Float32Array;
  y: Float32Array;
  w: Float32Array;
  h: Float32Array;
  /** Layout index of each direct child of the root drawn: what keyboard navigation moves between. */
  top: number[];
  width: number;
  height: number;
}

class Out {
  count = 0;
  node = new Int32Array(1024);
  kind = new Uint8Array(1024);
  x = new Float32Array(1024);
  y = new Float32Array(1024);
  w = new Float32Array(1024);
  h = new Float32Array(1024);

  push(node: number, kind: number, x: number, y: number, w: number, h: number): number {
    if (this.count === this.node.length) {
      const grow = <T extends Int32Array | Uint8Array | Float32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.node = grow(this.node);
      this.kind = grow(this.kind);
      this.x = grow(this.x);
      this.y = grow(this.y);
      this.w = grow(this.w);
      this.h = grow(this.h);
    }
    const i = this.count++;
    this.node[i] = node;
    this.kind[i] = kind;
    this.x[i] = x;
    this.y[i] = y;
    this.w[i] = w;
    this.h[i] = h;
    return i;
  }
}

/**
 * Nested squarified treemap (Bruls, Huizing, van Wijk 2000) of `root`'s subtree, area by `weights`
 * (the structure's inventory weights, or the leaves passing a filter), siblings in the structure's name
 * order: the layout is a function of the places alone, so states never move a tile. Recursion stops where
 * children would get cells smaller than `minCell`: the group is then one cell coloured by its worst state.
 * That bounds the work by the pixels on the screen instead of the fleet size, which is what keeps 500,000
 * leaves drawable in one frame.
 */
export function layoutTreemap(
  structure: Structure,
  weights: Float64Array,
  root: number,
  width: number,
  height: number,
  opts: LayoutOptions
): Layout {
  const out = new Out();
  const top: number[] = [];
  const minArea = opts.minCell * opts.minCell;

  const place = (node: number, x: number, y: number, w: number, h: number, isTop: boolean): void => {
    const start = structure.childStart[node]!;
    const count = structure.childCount[node]!;
    let total = 0;
    let smallest = Infinity;
    for (let i = start; i < start + count; i++) {
      const wt = weights[structure.children[i]!]!;
      if (wt > 0) {
        total += wt;
        smallest = Math.min(smallest, wt);
      }
    }
    const isRoot = node === root;
    const canSplit = count > 0 && total > 0 && (isRoot || (w * h * smallest) / total >= minArea * 2);
    if (!canSplit) {
      const i = out.push(node, CELL, x, y, w, h);
      if (isTop) {
        top.push(i);
      }
      return;
    }
    if (!isRoot) {
      const i = out.push(node, GROUP, x, y, w, h);
      if (isTop) {
        top.push(i);
      }
      // A 1px frame separates groups; a title band only where the group can hold a readable label.
      const pad = w > 4 * opts.minCell && h > 4 * opts.minCell ? 1 : 0;
      const head = headerOf(w, h, opts.header);
      x += pad;
      y += pad + head;
      w -= 2 * pad;
      h -= 2 * pad + head;
    }
    const list: number[] = [];
    for (let i = start; i < start + count; i++) {
      const c = structure.children[i]!;
      if (weights[c]! > 0) {
        list.push(c);
      }
    }
    squarify(list, weights, total, x, y, w, h, (c, cx, cy, cw, ch) => place(c, cx, cy, cw, ch, isRoot));
  };

  place(root, 0, 0, width, height, false);
  return {
    count: out.count,
    node: out.node,
    kind: out.kind,
    x: out.x,
    y: out.y,
    w: out.w,
    h: out.h,
    top,
    width,
    height,
  };
}

/** Height of a group's title band: only where the group can hold a readable label. */
export function headerOf(w: number, h: number, header: number): number {
  return w > 60 && h > header * 3 ? header : 0;
}

function worstRatio(sum: number, min: number, max: number, side: number): number {
  const s2 = side * side;
  const sum2 = sum * sum;
  return Math.max((s2 * max) / sum2, sum2 / (s2 * min));
}

/**
 * Lays `list` into the rectangle in rows of good aspect ratio, in the order given (squarify's ordered
 * variant: sorting by weight would give better ratios, but would move tiles whenever weights change).
 */
export function squarify(
  list: number[],
  weights: Float64Array,
  total: number,
  x: number,
  y: number,
  w: number,
  h: number,
  emit: (node: number, x: number, y: number, w: number, h: number) => void
): void {
  if (w <= 0 || h <= 0 || total <= 0) {
    return;
  }
  const scale = (w * h) / total;
  let i = 0;
  const n = list.length;
  while (i < n) {
    const side = Math.min(w, h);
    let sum = 0;
    let min = Infinity;
    let max = 0;
    let best = Infinity;
    let j = i;
    while (j < n) {
      const a = weights[list[j]!]! * scale;
      const nSum = sum + a;
      const nMin = Math.min(min, a);
      const nMax = Math.max(max, a);
      const ratio = worstRatio(nSum, nMin, nMax, side);
      if (j > i && ratio > best) {
        break;
      }
      best = ratio;
      sum = nSum;
      min = nMin;
      max = nMax;
      j++;
    }
    if (j === n) {
      // The last row takes whatever is left, so rounding never leaves a gap at the edge.
      sum = w * h;
    }
    if (w >= h) {
      const thick = Math.min(w, sum / h);
      let cy = y;
      for (let k = i; k < j; k++) {
        const ch = k === j - 1 ? y + h - cy : (weights[list[k]!]! * scale) / thick;
        emit(list[k]!, x, cy, thick, ch);
        cy += ch;
      }
      x += thick;
      w -= thick;
    } else {
      const thick = Math.min(h, sum / w);
      let cx = x;
      for (let k = i; k < j; k++) {
        const cw = k === j - 1 ? x + w - cx : (weights[list[k]!]! * scale) / thick;
        emit(list[k]!, cx, y, cw, thick);
        cx += cw;
      }
      y += thick;
      h -= thick;
    }
    i = j;
  }
}

/** Layout index at a point, scanning backwards so the innermost rectangle wins. */
export function hitTest(layout: Layout, px: number, py: number): number {
  for (let i = layout.count - 1; i >= 0; i--) {
    const x = layout.x[i]!;
    const y = layout.y[i]!;
    if (px >= x && py >= y && px < x + layout.w[i]! && py < y + layout.h[i]!) {
      return i;
    }
  }
  return -1;
}
