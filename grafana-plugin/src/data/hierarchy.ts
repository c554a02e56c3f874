import { DataFrame, FieldType } from '@grafana/data';
import { HealthRules, State, STATE_COUNT, StateCode, severityToState, valueToState } from './states';

/** Name used for a level whose label is missing on a series, so the series still has a place. */
export const NONE = '(none)';

export interface AlertInfo {
  alertname: string;
  severity: string;
  state: StateCode;
  summary: string;
  labels: Record<string, string>;
}

export interface BuildOptions {
  levels: string[];
  rules: HealthRules;
  alertsRefId: string;
  summaryLabel: string;
  /** Model of the previous refresh: its leaves missing from this data are kept as stale (unknown). */
  previous?: HierarchyModel;
  /** Stale leaves are forgotten after this long without data (ms); default one hour. */
  forgetAfterMs?: number;
  now?: number;
}

/**
 * The whole hierarchy as flat typed arrays indexed by node id (root = 0), built once per data change.
 * A nested object per node would cost hundreds of megabytes and seconds of GC at 500,000 leaves; arrays
 * keep the build linear and the per-frame draw free of allocation. Children are stored CSR-style.
 */
export interface HierarchyModel {
  levels: string[];
  size: number;
  parent: Int32Array;
  depth: Uint8Array;
  names: string[];
  childStart: Int32Array;
  childCount: Int32Array;
  /** Child ids, per parent sorted by leaf count (descending) then name, the order the treemap wants. */
  children: Int32Array;
  /** Health value of a leaf; NaN when it has none (stale, or known only from an alert). */
  values: Float64Array;
  /** When the leaf last had data (ms since epoch). */
  seenAt: Float64Array;
  /** 1 when the leaf had no data in this refresh and is kept from an earlier one. */
  stale: Uint8Array;
  /** The node's own state (leaf: health and alerts; inner node: alerts attached to it), before aggregation. */
  ownState: Uint8Array;
  /** Worst state of the node and everything below it. */
  state: Uint8Array;
  /** Leaves per state below (and including) the node: counts[node * STATE_COUNT + state]. */
  counts: Int32Array;
  leafCount: Int32Array;
  alerts: Map<number, AlertInfo[]>;
  /** Problems with the input, shown to the user instead of failing the panel. */
  warnings: string[];
  /** How long this build took (ms): published by the view for the harness and the bench. */
  buildMs: number;
}

/**
 * One frame read as rows of (labels, value), whatever its shape (one series per frame, wide or table).
 * Labels come as columns so the hot loop indexes arrays instead of calling a function per label.
 */
export interface RowSource {
  rows: number;
  column(name: string): ArrayLike<unknown> | undefined;
  value(row: number): number;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') {
    return v;
  }
  if (typeof v === 'string' && v.trim() !== '') {
    return Number(v);
  }
  return NaN;
}

function lastValue(values: ArrayLike<unknown>): number {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      return toNumber(v);
    }
  }
  return NaN;
}

/** A label value, or undefined when the series has no such label (empty counts as missing, as in PromQL). */
function cell(col: ArrayLike<unknown> | undefined, row: number): string | undefined {
  if (col === undefined) {
    return undefined;
  }
  const v = col[row];
  return v === null || v === undefined || v === '' ? undefined : typeof v === 'string' ? v : String(v);
}

export function rowSources(frame: DataFrame): RowSource[] {
  const numberFields = frame.fields.filter((f) => f.type === FieldType.number);
  const labelled = numberFields.filter((f) => f.labels && Object.keys(f.labels).length > 0);
  if (labelled.length > 0) {
    // Prometheus instant query in "time series" format: one series per number field, labels on the field.
    return labelled.map((f) => {
      const labels = f.labels ?? {};
      const value = lastValue(f.values);
      return {
        rows: 1,
        column: (name) => (name in labels ? [labels[name]] : undefined),
        value: () => value,
      };
    });
  }
  const valueField = numberFields[0];
  const stringFields = new Map<string, ArrayLike<unknown>>();
  for (const f of frame.fields) {
    if (f.type === FieldType.string || f.type === FieldType.other) {
      stringFields.set(f.name, f.values);
    }
  }
  if (!valueField && stringFields.size === 0) {
    return [];
  }
  // Table format: one row per series, a string column per label and one value column.
  const values = valueField?.values;
  return [
    {
      rows: frame.length ?? values?.length ?? 0,
      column: (name) => stringFields.get(name),
      value: (row) => (values ? toNumber(values[row]) : 1),
    },
  ];
}

function isAlertFrame(frame: DataFrame, alertsRefId: string): boolean {
  if (frame.refId !== undefined && frame.refId === alertsRefId) {
    return true;
  }
  return frame.fields.some((f) => f.name === 'alertstate' || (f.labels !== undefined && 'alertstate' in f.labels));
}

const BIG_FANOUT = 24;
/** Sibling groups up to this size are sorted in place (see finish). */
const SMALL_SORT = 16;

class Builder {
  size = 1;
  // Typed arrays grown by doubling: pushing to a dozen JS arrays cost more than the rest of the build.
  parent: Int32Array;
  depth: Uint8Array;
  values: Float64Array;
  seenAt: Float64Array;
  stale: Uint8Array;
  ownState: Uint8Array;
  // Preallocated (V8 keeps it a fast array) and truncated in finish: push() reallocating and copying an
  // array of 600,000 strings was the single hottest line of the build.
  names: string[];
  alerts = new Map<number, AlertInfo[]>();
  // Children as linked lists, scanned newest first: series arrive grouped by till, so the match is
  // almost always the first entry. A node with many children gets a Map instead. One global Map keyed
  // by "parent/name" strings cost seconds at 500,000 leaves (key building and hashing).
  private firstChild: Int32Array;
  private nextSibling: Int32Array;
  nChildren: Int32Array;
  private big = new Map<number, Map<string, number>>();

  constructor(capacity: number) {
    const cap = Math.max(16, capacity);
    this.parent = new Int32Array(cap);
    this.depth = new Uint8Array(cap);
    this.values = new Float64Array(cap);
    this.seenAt = new Float64Array(cap);
    this.stale = new Uint8Array(cap);
    this.ownState = new Uint8Array(cap);
    this.firstChild = new Int32Array(cap);
    this.nextSibling = new Int32Array(cap);
    this.nChildren = new Int32Array(cap);
    this.names = new Array<string>(cap);
    this.names[0] = '';
    this.parent[0] = -1;
    this.values[0] = NaN;
    this.firstChild[0] = -1;
  }

  private grow(): void {
    const g = <T extends Int32Array | Uint8Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.parent = g(this.parent);
    this.depth = g(this.depth);
    this.values = g(this.values);
    this.seenAt = g(this.seenAt);
    this.stale = g(this.stale);
    this.ownState = g(this.ownState);
    this.firstChild = g(this.firstChild);
    this.nextSibling = g(this.nextSibling);
    this.nChildren = g(this.nChildren);
  }

  child(parent: number, name: string): number {
    const found = this.find(parent, name);
    if (found !== undefined) {
      return found;
    }
    if (this.size === this.parent.length) {
      this.grow();
    }
    const id = this.size++;
    this.parent[id] = parent;
    this.depth[id] = this.depth[parent]! + 1;
    this.names[id] = name;
    this.values[id] = NaN;
    this.firstChild[id] = -1;
    this.nextSibling[id] = this.firstChild[parent]!;
    this.firstChild[parent] = id;
    const n = ++this.nChildren[parent]!;
    // The count decides whether a Map exists: most parents (tills) never get one, so adding a leaf, the
    // commonest step of a build, costs no Map lookup.
    if (n > BIG_FANOUT) {
      const map = this.big.get(parent);
      if (map) {
        map.set(name, id);
      } else {
        const m = new Map<string, number>();
        for (let c = this.firstChild[parent]!; c !== -1; c = this.nextSibling[c]!) {
          m.set(this.names[c]!, c);
        }
        this.big.set(parent, m);
      }
    }
    return id;
  }

  find(parent: number, name: string): number | undefined {
    if (this.nChildren[parent]! > BIG_FANOUT) {
      return this.big.get(parent)!.get(name);
    }
    for (let c = this.firstChild[parent]!; c !== -1; c = this.nextSibling[c]!) {
      if (this.names[c] === name) {
        return c;
      }
    }
    return undefined;
  }

  childrenOf(parent: number): number[] {
    // Only used to resolve alerts with a level label missing; a linear scan is fine for those few.
    const out: number[] = [];
    for (let i = parent + 1; i < this.size; i++) {
      if (this.parent[i] === parent) {
        out.push(i);
      }
    }
    return out;
  }
}

export function buildModel(frames: DataFrame[], opts: BuildOptions): HierarchyModel {
  const started = performance.now();
  const { levels, rules } = opts;
  const now = opts.now ?? Date.now();
  let rowsTotal = 0;
  for (const f of frames) {
    rowsTotal += f.length ?? 0;
  }
  const b = new Builder(Math.ceil(rowsTotal * 1.3) + (opts.previous?.size ?? 0));
  const warnings: string[] = [];
  const depthMax = levels.length;
  const alertRows: Array<{ src: RowSource; row: number }> = [];
  // Prefix cache: consecutive series usually share chain/region/store/till, so most rows skip the child
  // lookup. It compares the raw cell (the same string object, row after row, in a table frame) before any
  // normalisation: identical raw cells always give the same name, and the row loop is the build's hot path.
  const NO_CELL = {};
  const lastRaw: unknown[] = new Array(depthMax).fill(NO_CELL);
  const lastIds = new Int32Array(depthMax + 1);
  const noLevel = (cols: Array<ArrayLike<unknown> | undefined>, row: number) =>
    cols.every((c) => cell(c, row) === undefined);

  for (const frame of frames) {
    const sources = rowSources(frame);
    if (sources.length === 0) {
      continue;
    }
    if (isAlertFrame(frame, opts.alertsRefId)) {
      for (const src of sources) {
        for (let row = 0; row < src.rows; row++) {
          alertRows.push({ src, row });
        }
      }
      continue;
    }
    for (const src of sources) {
      const cols = levels.map((l) => src.column(l));
      const first = cols[0];
      for (let row = 0; row < src.rows; row++) {
        if (cell(first, row) === undefined && noLevel(cols, row)) {
          warnings.push(`a series has none of the level labels (${levels.join(', ')}); check the "Levels" option`);
          continue;
        }
        let node = 0;
        let cached = true;
        for (let d = 0; d < depthMax; d++) {
          const col = cols[d];
          const raw = col === undefined ? undefined : col[row];
          if (cached && lastRaw[d] === raw) {
            node = lastIds[d + 1]!;
            continue;
          }
          cached = false;
          node = b.child(node, cell(col, row) ?? NONE);
          lastRaw[d] = raw;
          lastIds[d + 1] = node;
        }
        const v = src.value(row);
        const values = b.values;
        const prev = values[node]!;
        // Several series for one leaf (e.g. the same device scraped twice): the worst (lowest) value wins.
        values[node] = prev !== prev ? v : Math.min(prev, v);
        b.seenAt[node] = now;
      }
    }
  }

  if (opts.previous) {
    carryStale(b, opts.previous, now, opts.forgetAfterMs ?? 3_600_000);
  }

  // Leaves share a handful of values (1, 0, NaN), so the last mapping is reused: a Map lookup and a
  // threshold scan per leaf cost more than the rest of this pass.
  let lastValue = NaN;
  let lastState = valueToState(NaN, rules);
  for (let n = 1; n < b.size; n++) {
    if (b.depth[n] === depthMax) {
      const v = b.values[n]!;
      if (!Object.is(v, lastValue)) {
        lastValue = v;
        lastState = valueToState(v, rules);
      }
      b.ownState[n] = lastState;
    }
  }

  for (const { src, row } of alertRows) {
    applyAlert(b, src, row, opts);
  }

  const model = finish(b, levels, warnings);
  model.buildMs = performance.now() - started;
  return model;
}

function carryStale(b: Builder, previous: HierarchyModel, now: number, forgetAfterMs: number): void {
  const depthMax = previous.levels.length;
  const path: string[] = new Array(depthMax);
  for (let n = 1; n < previous.size; n++) {
    if (previous.depth[n] !== depthMax || now - previous.seenAt[n]! > forgetAfterMs) {
      continue;
    }
    let p = n;
    for (let d = depthMax - 1; d >= 0; d--) {
      path[d] = previous.names[p]!;
      p = previous.parent[p]!;
    }
    let node = 0;
    let exists = true;
    for (let d = 0; d < depthMax && exists; d++) {
      const id = b.find(node, path[d]!);
      if (id === undefined) {
        exists = false;
      } else {
        node = id;
      }
    }
    if (exists && b.seenAt[node] === now) {
      continue;
    }
    node = 0;
    for (let d = 0; d < depthMax; d++) {
      node = b.child(node, path[d]!);
    }
    b.values[node] = NaN;
    b.seenAt[node] = previous.seenAt[n]!;
    b.stale[node] = 1;
  }
}

function applyAlert(b: Builder, source: RowSource, row: number, opts: BuildOptions): void {
  const src = { label: (name: string, r: number) => cell(source.column(name), r), value: source.value };
  const alertstate = src.label('alertstate', row);
  if ((alertstate !== undefined && alertstate !== 'firing') || src.value(row) === 0) {
    return;
  }
  const { levels } = opts;
  let last = -1;
  for (let d = 0; d < levels.length; d++) {
    if (src.label(levels[d]!, row) !== undefined) {
      last = d;
    }
  }
  const labels: Record<string, string> = {};
  for (const name of [...levels, 'alertname', 'severity', 'alertstate', opts.summaryLabel, 'runbook_url']) {
    const v = src.label(name, row);
    if (v !== undefined) {
      labels[name] = v;
    }
  }
  const severity = labels.severity ?? '';
  const alertname = labels.alertname ?? '(unnamed alert)';
  const info: AlertInfo = {
    alertname,
    severity,
    state: severityToState(labels.severity),
    summary: labels[opts.summaryLabel] ?? alertname,
    labels,
  };
  // Walk the levels; a missing label in the middle matches any child at that level, so an alert
  // carrying chain and store but no region still lands on its store.
  let candidates = [0];
  let wildcard = false;
  for (let d = 0; d <= last; d++) {
    const name = src.label(levels[d]!, row);
    const next: number[] = [];
    for (const c of candidates) {
      if (name === undefined) {
        wildcard = true;
        next.push(...b.childrenOf(c));
      } else {
        const id = b.find(c, name);
        if (id !== undefined) {
          next.push(id);
        }
      }
    }
    if (next.length === 0 && !wildcard) {
      // An alert for a place with no health data: create it, so the problem is seen, not dropped.
      let node = candidates[0]!;
      for (let k = d; k <= last; k++) {
        node = b.child(node, src.label(levels[k]!, row)!);
      }
      candidates = [node];
      break;
    }
    candidates = next;
  }
  for (const node of candidates) {
    attachAlert(b, node, info);
  }
}

function attachAlert(b: Builder, node: number, info: AlertInfo): void {
  const list = b.alerts.get(node) ?? [];
  list.push(info);
  b.alerts.set(node, list);
  b.ownState[node] = Math.max(b.ownState[node]!, info.state);
}

function finish(b: Builder, levels: string[], warnings: string[]): HierarchyModel {
  const size = b.size;
  // Views, not copies: the builder is dropped here, and copying six arrays of 600,000 entries (and
  // collecting the originals) was a tenth of the build.
  const parent = b.parent.subarray(0, size);
  const depth = b.depth.subarray(0, size);
  const childCount = b.nChildren.subarray(0, size);
  const ownState = b.ownState.subarray(0, size);
  const values = b.values.subarray(0, size);
  const state = new Uint8Array(size);
  const counts = new Int32Array(size * STATE_COUNT);
  const leafCount = new Int32Array(size);
  // Children always have larger ids than their parents, so one backward pass aggregates bottom-up.
  // A leaf adds one to its parent's count for its state; only inner nodes add their five counts.
  for (let n = size - 1; n > 0; n--) {
    const p = parent[n]!;
    if (childCount[n] === 0) {
      // No value (stale, or the node exists only because an alert named it): its health is unknown.
      const own = Number.isNaN(values[n]!) ? Math.max(ownState[n]!, State.unknown) : ownState[n]!;
      state[n] = own;
      counts[n * STATE_COUNT + own] = 1;
      counts[p * STATE_COUNT + own]!++;
      leafCount[n] = 1;
      leafCount[p]!++;
    } else {
      if (ownState[n]! > state[n]!) {
        state[n] = ownState[n]!;
      }
      leafCount[p]! += leafCount[n]!;
      const from = n * STATE_COUNT;
      const to = p * STATE_COUNT;
      for (let s = 0; s < STATE_COUNT; s++) {
        counts[to + s]! += counts[from + s]!;
      }
    }
    if (state[n]! > state[p]!) {
      state[p] = state[n]!;
    }
  }
  if (ownState[0]! > state[0]!) {
    state[0] = ownState[0]!;
  }
  const childStart = new Int32Array(size);
  let acc = 0;
  for (let n = 0; n < size; n++) {
    childStart[n] = acc;
    acc += childCount[n]!;
  }
  const fill = new Int32Array(size);
  const children = new Int32Array(Math.max(0, size - 1));
  for (let n = 1; n < size; n++) {
    const p = parent[n]!;
    children[childStart[p]! + fill[p]!] = n;
    fill[p]!++;
  }
  const names = b.names;
  names.length = size;
  const before = (x: number, y: number): boolean =>
    leafCount[y]! < leafCount[x]! || (leafCount[y] === leafCount[x] && names[x]! < names[y]!);
  // Sibling groups tend to repeat: every till has the same devices in the same order. The order found
  // for one group is reused for the next whose names and leaf counts match position by position, which
  // costs c comparisons by reference instead of an insertion sort of string comparisons. Siblings have
  // distinct names, so the order is fully determined by (leaf count, name) and reuse gives the same result.
  const keyNames: string[] = [];
  const keyLeaves = new Int32Array(SMALL_SORT);
  const perm = new Int32Array(SMALL_SORT);
  const scratch = new Int32Array(SMALL_SORT);
  let keyLen = 0;
  for (let n = 0; n < size; n++) {
    const c = childCount[n]!;
    const start = childStart[n]!;
    if (c > 1 && c <= SMALL_SORT) {
      let same = c === keyLen;
      for (let i = 0; same && i < c; i++) {
        const ch = children[start + i]!;
        same = leafCount[ch] === keyLeaves[i] && names[ch] === keyNames[i];
      }
      if (!same) {
        keyLen = c;
        for (let i = 0; i < c; i++) {
          const ch = children[start + i]!;
          keyNames[i] = names[ch]!;
          keyLeaves[i] = leafCount[ch]!;
          perm[i] = i;
        }
        // Insertion sort of positions: groups are small, and Array.prototype.sort would allocate per parent.
        for (let i = 1; i < c; i++) {
          const v = perm[i]!;
          let j = i - 1;
          while (j >= 0 && before(children[start + v]!, children[start + perm[j]!]!)) {
            perm[j + 1] = perm[j]!;
            j--;
          }
          perm[j + 1] = v;
        }
      }
      for (let i = 0; i < c; i++) {
        scratch[i] = children[start + perm[i]!]!;
      }
      for (let i = 0; i < c; i++) {
        children[start + i] = scratch[i]!;
      }
    } else if (c > SMALL_SORT) {
      const sorted = Array.from(children.subarray(start, start + c)).sort((x, y) =>
        before(x, y) ? -1 : before(y, x) ? 1 : 0
      );
      children.set(sorted, start);
    }
  }
  return {
    levels,
    size,
    parent,
    depth,
    names,
    childStart,
    childCount,
    children,
    values,
    seenAt: b.seenAt.subarray(0, size),
    stale: b.stale.subarray(0, size),
    ownState,
    state,
    counts,
    leafCount,
    alerts: b.alerts,
    warnings: [...new Set(warnings)],
    buildMs: 0,
  };
}

/** Label values of a node's path, outermost first. */
export function pathOf(model: HierarchyModel, node: number): string[] {
  const out: string[] = [];
  for (let n = node; n > 0; n = model.parent[n]!) {
    out.push(model.names[n]!);
  }
  return out.reverse();
}

/** The node's path as a label map, e.g. { chain: 'acme', store: 's1' }, for link templates. */
export function labelsOf(model: HierarchyModel, node: number): Record<string, string> {
  const path = pathOf(model, node);
  const labels: Record<string, string> = {};
  path.forEach((name, i) => {
    labels[model.levels[i]!] = name;
  });
  return labels;
}

export function countsOf(model: HierarchyModel, node: number): number[] {
  return Array.from(model.counts.subarray(node * STATE_COUNT, node * STATE_COUNT + STATE_COUNT));
}

/** Finds a node by its path of names; undefined when it does not exist. */
export function findNode(model: HierarchyModel, path: string[]): number | undefined {
  let node = 0;
  for (const name of path) {
    const start = model.childStart[node]!;
    const end = start + model.childCount[node]!;
    let next: number | undefined;
    for (let i = start; i < end; i++) {
      if (model.names[model.children[i]!] === name) {
        next = model.children[i]!;
        break;
      }
    }
    if (next === undefined) {
      return undefined;
    }
    node = next;
  }
  return node;
}
