import { DataFrame, DataLink, Field, FieldType, GrafanaTheme2 } from '@grafana/data';
import { mappedText, valueResolver, ValueVerdict } from './field-state';
import { naturalCompare } from './names';
import { severityToState, State, STATE_COUNT, StateCode } from './states';

/** Name used for a level whose label is missing on a series, so the series still has a place. */
export const NONE = '(none)';

/** Column of a row's reason when the query carries one (a `short` label, or the annotation the harness copies). */
export const SHORT_LABEL = 'short';

export interface AlertInfo {
  alertname: string;
  severity: string;
  state: StateCode;
  /** Short reason in the operator's language: `short`, else the value mapping of alertname or incident_class. */
  reason: string;
  summary: string;
  labels: Record<string, string>;
}

export interface BuildOptions {
  levels: string[];
  alertsRefId: string;
  inventoryRefId: string;
  summaryLabel: string;
  theme: GrafanaTheme2;
  /** Model of the previous refresh: its places are kept (stale when they lost their data) and its layout reused. */
  previous?: HierarchyModel;
  /** A leaf without data is forgotten after this long (ms), unless the inventory still names it; default 1 h. */
  forgetAfterMs?: number;
  now?: number;
  /** false: always build in full (the tests compare the incremental path with it). */
  incremental?: boolean;
}

/**
 * The places and how they nest: all the layout depends on. It changes only when places come or go or the
 * inventory's weights change; a refresh that only changes states keeps the same object, so the view keeps
 * its layout and only repaints.
 */
export interface Structure {
  levels: string[];
  size: number;
  parent: Int32Array;
  depth: Uint8Array;
  names: string[];
  childStart: Int32Array;
  childCount: Int32Array;
  /** Child ids, per parent in natural name order: positions follow names, never states. */
  children: Int32Array;
  leafCount: Int32Array;
  /** Treemap area of each node: the inventory's weight where it names the place, else the sum of its children (a leaf is 1). */
  weight: Float64Array;
}

/**
 * The whole hierarchy as flat typed arrays indexed by node id (root = 0), rebuilt once per data change.
 * A nested object per node would cost hundreds of megabytes and seconds of GC at 500,000 leaves; arrays
 * keep the build linear and the per-frame draw free of allocation.
 */
export interface HierarchyModel {
  structure: Structure;
  /** Name lookup, carried from refresh to refresh so that a place keeps its id. */
  index: NodeIndex;
  /** Human names from `<level>_name` labels (e.g. `store_name`). */
  displayNames: Map<number, string>;
  /** Health value of a leaf; NaN when it has none (stale, or known only from an alert or the inventory). */
  values: Float64Array;
  /** When a leaf without data in this refresh last had some (ms since epoch); see `lastSeen`. */
  seenAt: Float64Array;
  /** 1 where the leaf had data in this refresh. */
  seen: Uint8Array;
  /** When this refresh was built (ms since epoch). */
  builtAt: number;
  /** 1 when the leaf had no data in this refresh and is kept from an earlier one. */
  stale: Uint8Array;
  /** What the leaf's value says through the field config (unknown without a value). */
  valueState: Uint8Array;
  /** The value mapping's text for a leaf, when one matched. */
  valueText: Map<number, string>;
  /** Worst severity of the alerts attached at the node; -1 when none is. */
  ownAlert: Int8Array;
  /** Worst severity of the alerts at the node or above it; -1 when none: an alert colours its place and all below. */
  cover: Int8Array;
  /** Worst state of the node and everything below it. */
  state: Uint8Array;
  /** Problems no alert explains (a value a threshold calls bad, or no data), at or below the node. */
  valueProblems: Int32Array;
  /** The worst such leaf at or below the node; -1 when none. */
  worstValueLeaf: Int32Array;
  /** 1 where the inventory named the place in this refresh. */
  inventory: Uint8Array;
  /** The inventory's weight of the place, 0 where it gave none. */
  inventoryWeight: Float64Array;
  alerts: Map<number, AlertInfo[]>;
  /** Data links of the health field (standard field config), filled per tile. */
  links: DataLink[];
  /** The health field's "No value" text, the reason shown on a tile without data. */
  noValueText: string;
  /** Problems with the input, shown to the user instead of failing the panel. */
  warnings: string[];
  /** How long this build took (ms): published by the view for the harness and the bench. */
  buildMs: number;
  /** This model's per-refresh arrays, and the previous model's, which the next build reuses. */
  buffers: Refresh;
  spare?: Refresh;
  /** Leaves per state below the root (the legend), kept by the build so a refresh need not count 500,000 leaves. */
  rootCounts: number[];
  /** Which node each row of each health and inventory source named; undefined when a refresh cannot be diffed. */
  rowMaps?: RowMap[];
  /** Leaves without data that the inventory does not name: the only ones a refresh may turn stale or forget. */
  unseenLeaves: Int32Array;
  /** Build number (per page), the model `changed` was derived from, and the nodes whose arrays differ from it. */
  serial: number;
  base?: number;
  changed?: Int32Array;
  /** Whether this model was derived from the previous one by the incremental path (see `updateModel`). */
  incremental: boolean;
  /**
   * How an incremental build got the previous model's arrays into buffers it may write: `ready` when
   * `warmSpare` had already brought them up to date off the refresh's path, `partly ready` when it had done
   * some of them, `replayed` (the nodes the build before changed) or `copied` (all of them) when it had not.
   */
  carried?: 'ready' | 'partly ready' | 'replayed' | 'copied';
}

/**
 * Which place each row of one health or inventory source named in the last full build, and the verdicts its
 * values had: the incremental path checks that a refresh's rows name the same places and only looks further
 * at the rows whose value changed.
 */
export interface RowMap {
  role: 'health' | 'inventory';
  rows: number;
  /** Node per row; -1 for a row that names no place. */
  nodes: Int32Array;
  /** Verdict per distinct value of a health source (its field config applied). */
  verdicts: Map<number, ValueVerdict>;
}

/**
 * One frame read as rows of (labels, value), whatever its shape (one series per frame, wide or table).
 * Labels come as columns so the hot loop indexes arrays instead of calling a function per label.
 */
export interface RowSource {
  rows: number;
  column(name: string): ArrayLike<unknown> | undefined;
  value(row: number): number;
  /** The value column itself when the rows have one (table format): the incremental path's hot loop reads it directly. */
  numbers?: ArrayLike<unknown>;
  /** The value field, whose config (thresholds, mappings, links) gives the rows their meaning. */
  field?: Field;
  /** The label column as a field (table format), for its value mappings. */
  labelField(name: string): Field | undefined;
  /** Every label name the rows carry. */
  labelNames(): string[];
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
        field: f,
        labelField: () => f,
        labelNames: () => Object.keys(labels),
      };
    });
  }
  const valueField = numberFields[0];
  const stringFields = new Map<string, Field>();
  for (const f of frame.fields) {
    if (f.type === FieldType.string || f.type === FieldType.other) {
      stringFields.set(f.name, f);
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
      column: (name) => stringFields.get(name)?.values,
      value: (row) => (values ? toNumber(values[row]) : 1),
      numbers: values,
      field: valueField,
      labelField: (name) => stringFields.get(name),
      labelNames: () => [...stringFields.keys()],
    },
  ];
}

type FrameRole = 'health' | 'alerts' | 'inventory';

function roleOf(frame: DataFrame, opts: BuildOptions): FrameRole {
  if (frame.refId !== undefined && frame.refId === opts.alertsRefId) {
    return 'alerts';
  }
  if (frame.refId !== undefined && frame.refId === opts.inventoryRefId) {
    return 'inventory';
  }
  return frame.fields.some((f) => f.name === 'alertstate' || (f.labels !== undefined && 'alertstate' in f.labels))
    ? 'alerts'
    : 'health';
}

const BIG_FANOUT = 24;

/**
 * Place lookup by (parent, name), kept from refresh to refresh and only ever appended to, so a place keeps
 * its id and a refresh whose places are all known changes no structure. Children are linked lists in the
 * order they first came; a lookup first tries the caller's hint (the sibling after the previous row's place:
 * a query returns its series in the same order every refresh), then scans, or asks the Map that a node with
 * many children gets. One global Map keyed by "parent/name" strings cost seconds at 500,000 leaves.
 */
export class NodeIndex {
  size = 1;
  parent: Int32Array;
  depth: Uint8Array;
  // Preallocated (V8 keeps it a fast array): push() reallocating an array of 600,000 strings was the
  // single hottest line of the build.
  names: string[];
  firstChild: Int32Array;
  nextSibling: Int32Array;
  private lastChild: Int32Array;
  nChildren: Int32Array;
  private big = new Map<number, Map<string, number>>();

  constructor(capacity: number) {
    const cap = Math.max(16, capacity);
    this.parent = new Int32Array(cap);
    this.depth = new Uint8Array(cap);
    this.firstChild = new Int32Array(cap);
    this.nextSibling = new Int32Array(cap);
    this.lastChild = new Int32Array(cap);
    this.nChildren = new Int32Array(cap);
    this.names = new Array<string>(cap);
    this.names[0] = '';
    this.parent[0] = -1;
    this.firstChild[0] = -1;
  }

  get capacity(): number {
    return this.parent.length;
  }

  private grow(): void {
    this.parent = grown(this.parent, this.parent.length * 2);
    this.depth = grown(this.depth, this.depth.length * 2);
    this.firstChild = grown(this.firstChild, this.firstChild.length * 2);
    this.nextSibling = grown(this.nextSibling, this.nextSibling.length * 2);
    this.lastChild = grown(this.lastChild, this.lastChild.length * 2);
    this.nChildren = grown(this.nChildren, this.nChildren.length * 2);
  }

  child(parent: number, name: string, hint = -1): number {
    const found = this.find(parent, name, hint);
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
    this.firstChild[id] = -1;
    this.nextSibling[id] = -1;
    if (this.firstChild[parent] === -1) {
      this.firstChild[parent] = id;
    } else {
      this.nextSibling[this.lastChild[parent]!] = id;
    }
    this.lastChild[parent] = id;
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

  find(parent: number, name: string, hint = -1): number | undefined {
    if (hint > 0 && this.names[hint] === name && this.parent[hint] === parent) {
      return hint;
    }
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
    const out: number[] = [];
    for (let c = this.firstChild[parent]!; c !== -1; c = this.nextSibling[c]!) {
      out.push(c);
    }
    return out;
  }
}

function grown<T extends Int32Array | Uint8Array | Int8Array | Float64Array>(a: T, length: number): T {
  if (a.length >= length) {
    return a;
  }
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

/**
 * Per-refresh arrays, grown with the index while rows, inventory and alerts add places. A model keeps its
 * own and the previous model's (double buffering): the build after next writes into them again instead of
 * allocating some 40 bytes per place every refresh for the garbage collector to reclaim, which at fleet
 * scale would stall the refresh. Nothing reads a model two refreshes old.
 */
export class Refresh {
  values: Float64Array;
  seenAt: Float64Array;
  seen: Uint8Array;
  valueState: Uint8Array;
  ownAlert: Int8Array;
  inventory: Uint8Array;
  inventoryWeight: Float64Array;
  stale: Uint8Array;
  cover: Int8Array;
  state: Uint8Array;
  valueProblems: Int32Array;
  worstValueLeaf: Int32Array;
  valueText = new Map<number, string>();
  displayNames = new Map<number, string>();
  /** Whether displayNames is still the previous model's map, shared until a name changes. */
  namesShared = false;

  /** Sets a human name, copying the previous model's map first: the map stays the same object while names do. */
  setName(node: number, name: string): void {
    if (this.displayNames.get(node) === name) {
      return;
    }
    if (this.namesShared) {
      this.displayNames = new Map(this.displayNames);
      this.namesShared = false;
    }
    this.displayNames.set(node, name);
  }
  alerts = new Map<number, AlertInfo[]>();
  /** The serial of the model whose content these arrays hold; -1 while a build writes them. */
  version = -1;

  constructor(capacity: number, recycled?: Refresh) {
    const reuse = recycled !== undefined && recycled.values.length >= capacity;
    if (reuse) {
      // Its arrays are this build's now: they no longer hold the content of the model they held.
      recycled.version = -1;
    }
    const cap = reuse ? recycled.values.length : capacity;
    const take = <T extends Float64Array | Int32Array | Int8Array | Uint8Array>(old: T | undefined, make: () => T) =>
      reuse && old ? old : make();
    this.values = take(recycled?.values, () => new Float64Array(cap)).fill(NaN);
    this.seenAt = take(recycled?.seenAt, () => new Float64Array(cap)).fill(0);
    this.seen = take(recycled?.seen, () => new Uint8Array(cap)).fill(0);
    this.valueState = take(recycled?.valueState, () => new Uint8Array(cap)).fill(State.unknown);
    this.ownAlert = take(recycled?.ownAlert, () => new Int8Array(cap)).fill(-1);
    this.inventory = take(recycled?.inventory, () => new Uint8Array(cap)).fill(0);
    this.inventoryWeight = take(recycled?.inventoryWeight, () => new Float64Array(cap)).fill(0);
    this.stale = take(recycled?.stale, () => new Uint8Array(cap)).fill(0);
    // Written whole by finish before anyone reads them.
    this.cover = take(recycled?.cover, () => new Int8Array(cap));
    this.state = take(recycled?.state, () => new Uint8Array(cap));
    this.valueProblems = take(recycled?.valueProblems, () => new Int32Array(cap));
    this.worstValueLeaf = take(recycled?.worstValueLeaf, () => new Int32Array(cap));
  }

  ensure(size: number): void {
    if (size <= this.values.length) {
      return;
    }
    const cap = Math.max(size, this.values.length * 2);
    const from = this.values.length;
    this.values = grown(this.values, cap);
    this.values.fill(NaN, from);
    this.seenAt = grown(this.seenAt, cap);
    this.seen = grown(this.seen, cap);
    this.valueState = grown(this.valueState, cap);
    this.valueState.fill(State.unknown, from);
    this.ownAlert = grown(this.ownAlert, cap);
    this.ownAlert.fill(-1, from);
    this.inventory = grown(this.inventory, cap);
    this.inventoryWeight = grown(this.inventoryWeight, cap);
    this.stale = grown(this.stale, cap);
    this.cover = grown(this.cover, cap);
    this.state = grown(this.state, cap);
    this.valueProblems = grown(this.valueProblems, cap);
    this.worstValueLeaf = grown(this.worstValueLeaf, cap);
  }
}

let serials = 0;

export function buildModel(frames: DataFrame[], opts: BuildOptions): HierarchyModel {
  const started = performance.now();
  const { levels } = opts;
  const now = opts.now ?? Date.now();
  const forgetAfter = opts.forgetAfterMs ?? 3_600_000;
  if (opts.previous) {
    // From here on this build owns the previous model's spare buffers: warmSpare leaves them alone.
    superseded.add(opts.previous);
  }
  const prev = opts.previous && sameLevels(opts.previous.structure.levels, levels) ? opts.previous : undefined;
  if (prev && opts.incremental !== false) {
    const updated = updateModel(frames, opts, prev, now, forgetAfter);
    if (updated) {
      updated.buildMs = performance.now() - started;
      return updated;
    }
  }
  let rowsTotal = 0;
  for (const f of frames) {
    rowsTotal += f.length ?? 0;
  }
  let index = prev?.index ?? new NodeIndex(Math.ceil(rowsTotal * 1.3));
  let r = new Refresh(Math.max(index.capacity, Math.ceil(rowsTotal * 1.3)), prev?.spare);
  if (prev) {
    r.displayNames = prev.displayNames;
    r.namesShared = true;
  }
  const warnings: string[] = [];
  const alertRows: Array<{ src: RowSource; row: number }> = [];
  let links: DataLink[] | undefined;
  let noValueText: string | undefined;
  let rowMaps: RowMap[] | undefined = [];

  for (const frame of frames) {
    const role = roleOf(frame, opts);
    for (const src of rowSources(frame)) {
      if (role === 'alerts') {
        for (let row = 0; row < src.rows; row++) {
          alertRows.push({ src, row });
        }
        continue;
      }
      if (role === 'health') {
        links ??= src.field?.config.links;
        noValueText ??= src.field?.config.noValue;
      }
      const map: RowMap = { role, rows: src.rows, nodes: new Int32Array(src.rows), verdicts: new Map() };
      const unique = readRows(index, r, src, role, opts, warnings, map);
      if (unique && rowMaps) {
        rowMaps.push(map);
      } else {
        rowMaps = undefined;
      }
    }
  }

  // Places of the last refresh that had no data in this one stay, stale, until forgotten.
  const prevSize = prev?.structure.size ?? 0;
  r.ensure(index.size);
  const stale = r.stale;
  let forget: Uint8Array | undefined;
  if (prev) {
    const { childCount } = prev.structure;
    for (let n = 1; n < prevSize; n++) {
      if (childCount[n] !== 0 || r.seen[n] || r.inventory[n]) {
        continue;
      }
      r.seenAt[n] = prev.seen[n] ? prev.builtAt : prev.seenAt[n]!;
      if (now - r.seenAt[n]! > forgetAfter) {
        forget ??= new Uint8Array(index.size);
        forget[n] = 1;
      } else {
        stale[n] = 1;
      }
    }
  }
  let compacted = false;
  if (forget) {
    const c = compact(index, r, stale, forget);
    index = c.index;
    r = c.refresh;
    compacted = true;
    // The rows' node ids changed with the compaction: the next refresh is built in full.
    rowMaps = undefined;
  }

  for (const { src, row } of alertRows) {
    applyAlert(index, r, src, row, opts, now);
  }

  const size = index.size;
  r.ensure(size);
  const structureKept =
    prev !== undefined && !compacted && size === prevSize && sameWeights(prev.inventoryWeight, r.inventoryWeight, size);
  const structure = structureKept ? prev.structure : buildStructure(index, r.inventoryWeight, levels);
  const model = finish(structure, index, r, {
    links: links ?? [],
    noValueText: noValueText ?? '',
    warnings: [...new Set(warnings)],
    spare: prev?.buffers,
    builtAt: now,
    rowMaps,
  });
  model.buildMs = performance.now() - started;
  return model;
}

/** The per-node arrays of a Refresh, in one list so that copying a model's state copies all of them. */
const ARRAYS = [
  'values',
  'seenAt',
  'seen',
  'valueState',
  'ownAlert',
  'inventory',
  'inventoryWeight',
  'stale',
  'cover',
  'state',
  'valueProblems',
  'worstValueLeaf',
] as const;

/** Models a later build started from: their spare buffers are that build's, not warmSpare's. */
const superseded = new WeakSet<HierarchyModel>();

/** A warmSpare in progress: the buffers it fills, how (replaying changed nodes or copying all) and how far. */
interface Warming {
  to: Refresh;
  replay: boolean;
  /** The first entry of ARRAYS not brought up to date yet. */
  next: number;
}
const warming = new WeakMap<HierarchyModel, Warming>();

/** Brings one array of the spare buffers up to date with the model's: the changed nodes, or all of them. */
function carryArray(model: HierarchyModel, w: Warming, k: number): void {
  const key = ARRAYS[k]!;
  if (w.replay) {
    copyAt(w.to[key], model.buffers[key], model.changed!);
  } else {
    (w.to[key] as Float64Array).set((model.buffers[key] as Float64Array).subarray(0, model.structure.size));
  }
}

/** Starts bringing the model's spare buffers up to date: replaying the last build's changes where it can. */
function startWarming(model: HierarchyModel): Warming {
  const size = model.structure.size;
  let to = model.spare;
  const replay =
    to !== undefined &&
    to.values.length >= size &&
    model.changed !== undefined &&
    model.base !== undefined &&
    to.version === model.base;
  if (!to || to.values.length < size) {
    to = new Refresh(size);
    model.spare = to;
  }
  // Part-way, the arrays hold no model's content.
  to.version = -1;
  const w = { to, replay, next: 0 };
  warming.set(model, w);
  return w;
}

/**
 * Brings the model's spare buffers (those the next refresh writes) up to date with the model's own arrays, so
 * that the next refresh need not: after a full build that is a copy of some 23 MB at 100,000 tills × 5 devices,
 * after an incremental one a replay of the nodes it changed. The view calls it once the model is painted, when
 * the page is idle, one array at a time while `more()` says there is time; a refresh that comes first finishes
 * what is left itself (`carried`). True when nothing is left to do, also when a later build took the buffers.
 */
export function warmSpare(model: HierarchyModel, more: () => boolean = () => true): boolean {
  if (superseded.has(model)) {
    return true;
  }
  let w = warming.get(model);
  if (!w) {
    if (model.spare?.version === model.serial) {
      return true;
    }
    w = startWarming(model);
  }
  while (w.next < ARRAYS.length) {
    if (!more()) {
      return false;
    }
    carryArray(model, w, w.next++);
  }
  w.to.version = model.serial;
  warming.delete(model);
  return true;
}

/**
 * The previous model's per-node state in buffers this build may write: the spare buffers as warmSpare left
 * them (up to date, or the arrays it had not reached yet brought up to date now), else the spare buffers (the
 * model before the previous one) brought up to date by replaying the nodes the previous build changed when it
 * was incremental from them, else a full copy (a few megabytes, once after a full build).
 */
function carried(prev: HierarchyModel): { to: Refresh; how: NonNullable<HierarchyModel['carried']> } {
  let how: NonNullable<HierarchyModel['carried']>;
  let to: Refresh;
  const ready = prev.spare;
  if (ready && ready.version === prev.serial) {
    to = ready;
    how = 'ready';
  } else {
    const partly = warming.get(prev);
    const w = partly ?? startWarming(prev);
    for (let k = w.next; k < ARRAYS.length; k++) {
      carryArray(prev, w, k);
    }
    warming.delete(prev);
    to = w.to;
    how = partly && partly.next > 0 ? 'partly ready' : w.replay ? 'replayed' : 'copied';
  }
  to.version = -1;
  // Names are shared until one changes (setName copies); alerts and value texts are set by the caller.
  to.displayNames = prev.displayNames;
  to.namesShared = true;
  return { to, how };
}

/** dst[n] = src[n] for the listed nodes. A function of its own: small, it is optimised at once. */
function copyAt(dst: NumberArray, src: NumberArray, nodes: Int32Array): void {
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    dst[n] = src[n]!;
  }
}

type NumberArray = Float64Array | Int32Array | Int8Array | Uint8Array;

/**
 * The hot loop of the incremental path, once per row: does the row still name the leaf it named last time,
 * and did its value change? The leaf's own name is compared; its ancestors' only when the row's upper label
 * cells are not the very strings of the row before under the same parent (the rows of one till share them).
 * Each changed leaf gets its new value and goes into `hits`. False at the first row that names another place.
 * Kept small and apart from `updateModel`: a big function called once per refresh would run this loop
 * unoptimised while the compiler works on it (on-stack replacement), the bulk of the refresh.
 */
function diffRows(
  nodes: Int32Array,
  cols: Array<ArrayLike<unknown> | undefined>,
  src: RowSource,
  names: string[],
  parent: Int32Array,
  values: Float64Array,
  hits: number[]
): boolean {
  const depthMax = cols.length;
  const leafCol = cols[depthMax - 1];
  const upper = cols.slice(0, depthMax - 1).map((c) => c ?? []);
  const numbers = src.numbers;
  const rows = nodes.length;
  let lastParent = -2;
  for (let row = 0; row < rows; row++) {
    const leaf = nodes[row]!;
    if (leaf < 0) {
      if (!noLevel(cols, row)) {
        return false;
      }
      lastParent = -2;
      continue;
    }
    const raw = leafCol === undefined ? undefined : leafCol[row];
    if (raw !== names[leaf] && !sameCell(raw, names[leaf]!)) {
      return false;
    }
    const p = parent[leaf]!;
    let same = p === lastParent;
    for (let d = 0; same && d < upper.length; d++) {
      const col = upper[d]!;
      same = col[row] === col[row - 1];
    }
    if (!same) {
      if (!pathMatches(cols, row, p, depthMax - 2, parent, names)) {
        return false;
      }
      lastParent = p;
    }
    let v: number;
    if (numbers === undefined) {
      v = src.value(row);
    } else {
      const x = numbers[row];
      v = typeof x === 'number' ? x : toNumber(x);
    }
    const cur = values[leaf]!;
    if (v === cur || (v !== v && cur !== cur)) {
      continue;
    }
    values[leaf] = v;
    hits.push(leaf);
  }
  return true;
}

/** A label cell as the full build names its place: missing or empty is NONE, a number its text. */
function sameCell(raw: unknown, name: string): boolean {
  if (raw === name) {
    return true;
  }
  const c = raw === null || raw === undefined || raw === '' ? NONE : typeof raw === 'string' ? raw : String(raw);
  return c === name;
}

/** Whether the path of `node` (at depth `last` + 1) is the row's level cells from depth `last` up to the root. */
function pathMatches(
  cols: Array<ArrayLike<unknown> | undefined>,
  row: number,
  node: number,
  last: number,
  parent: Int32Array,
  names: string[]
): boolean {
  let n = node;
  for (let d = last; d >= 0; d--) {
    const col = cols[d];
    if (n <= 0 || !sameCell(col === undefined ? undefined : col[row], names[n]!)) {
      return false;
    }
    n = parent[n]!;
  }
  return n === 0;
}

/**
 * Sets the human names a source's rows carry, as the full build does: a place takes the name of the first row
 * of each run of rows that name it.
 */
function readNames(
  src: RowSource,
  map: RowMap,
  levels: string[],
  r: Refresh,
  parent: Int32Array,
  depth: Uint8Array
): void {
  const nameCols = levels.map((l) => src.column(`${l}_name`));
  if (!nameCols.some((c) => c !== undefined)) {
    return;
  }
  const cols = levels.map((l) => src.column(l));
  const NO_CELL = {};
  const lastRaw: unknown[] = new Array(levels.length).fill(NO_CELL);
  const path: number[] = [];
  for (let row = 0; row < map.rows; row++) {
    const node = map.nodes[row]!;
    if (node < 0) {
      continue;
    }
    const deepest = depth[node]! - 1;
    for (let n = node, d = deepest; d >= 0; d--, n = parent[n]!) {
      path[d] = n;
    }
    let cached = true;
    for (let d = 0; d <= deepest; d++) {
      const col = cols[d];
      const raw = col === undefined ? undefined : col[row];
      if (cached && lastRaw[d] === raw) {
        continue;
      }
      cached = false;
      lastRaw[d] = raw;
      const name = cell(nameCols[d], row);
      if (name !== undefined) {
        r.setName(path[d]!, name);
      }
    }
    if (deepest < levels.length - 1) {
      lastRaw.fill(NO_CELL, deepest + 1);
    }
  }
}

/**
 * The incremental path's states: cover flows down from each place whose own alert changed, as far as it
 * changes; then the leaves looked at get their state, and their ancestors theirs, level by level up to the root.
 */
function restate(
  structure: Structure,
  index: NodeIndex,
  r: Refresh,
  alertChanged: number[],
  dirtyLeaves: number[],
  rootCounts: number[],
  changed: number[]
): void {
  const { parent, childCount, depth } = structure;
  const { ownAlert, valueState } = r;
  // An alert colours everything below its place: cover flows down from each changed place, as far as it changes.
  const { cover } = r;
  const { childStart, children } = structure;
  alertChanged.sort((a, b) => a - b);
  const stack: number[] = [];
  for (const a of alertChanged) {
    stack.push(a);
    while (stack.length > 0) {
      const n = stack.pop()!;
      const above = n === 0 ? -1 : cover[parent[n]!]!;
      const c = ownAlert[n]! > above ? ownAlert[n]! : above;
      if (c === cover[n]) {
        // Nothing below changes either (a changed leaf of its own is already among the dirty leaves).
        continue;
      }
      cover[n] = c;
      changed.push(n);
      const k = childCount[n]!;
      if (k === 0) {
        dirtyLeaves.push(n);
      }
      for (let i = childStart[n]!; i < childStart[n]! + k; i++) {
        stack.push(children[i]!);
      }
    }
  }

  // States of the leaves looked at, then all their ancestors level by level up to the root: an ancestor is
  // recomputed even when the one below it kept its state, as the choice of the worst leaf compares leaves' states.
  const { state, valueProblems, worstValueLeaf } = r;
  const byDepth: Array<Set<number>> = [];
  const up = (n: number) => {
    const p = parent[n]!;
    if (p >= 0) {
      (byDepth[depth[p]!] ??= new Set()).add(p);
    }
  };
  for (const n of dirtyLeaves) {
    const s = leafState(valueState[n]!, cover[n]!, ownAlert[n]!);
    const problem = isValueProblem(s, valueState[n]!, cover[n]!, ownAlert[n]!);
    const vp = problem ? 1 : 0;
    const w = problem ? n : -1;
    if (s !== state[n] || vp !== valueProblems[n] || w !== worstValueLeaf[n]) {
      rootCounts[state[n]!]!--;
      rootCounts[s]!++;
      state[n] = s;
      valueProblems[n] = vp;
      worstValueLeaf[n] = w;
      changed.push(n);
      up(n);
    }
  }
  for (let d = byDepth.length - 1; d >= 0; d--) {
    const level = byDepth[d];
    if (!level) {
      continue;
    }
    for (const p of level) {
      // As the full build: the worst child, the sum of problems, and of equally bad leaves the one under the
      // child with the highest id (the build goes through nodes from the highest id down).
      let s = 0;
      let vp = 0;
      let w = -1;
      for (let c = index.firstChild[p]!; c !== -1; c = index.nextSibling[c]!) {
        if (state[c]! > s) {
          s = state[c]!;
        }
        if (valueProblems[c]! > 0) {
          vp += valueProblems[c]!;
          const cw = worstValueLeaf[c]!;
          if (w < 0 || state[cw]! >= state[w]!) {
            w = cw;
          }
        }
      }
      if (s !== state[p] || vp !== valueProblems[p] || w !== worstValueLeaf[p]) {
        state[p] = s;
        valueProblems[p] = vp;
        worstValueLeaf[p] = w;
        changed.push(p);
      }
      up(p);
    }
  }
}

/**
 * The incremental refresh: when the frames name the same places row by row as the previous build read (a
 * query returns its series in the same order every time), only the leaves whose value changed and the places
 * whose alerts changed are looked at again, with their ancestors, instead of rebuilding 600,000 nodes; the
 * structure and so the layout are the previous model's. A refresh where 1 % of 500,000 leaves change costs a
 * pass over the rows comparing each with the place it named last time, and work in proportion to the change.
 * Undefined when anything else changed (a place came or went, a row moved, a weight or the field config's
 * verdict for a known value changed, a leaf is to be forgotten, an alert names a place that does not exist):
 * then the full build runs. The tests hold the two paths equal.
 */
function updateModel(
  frames: DataFrame[],
  opts: BuildOptions,
  prev: HierarchyModel,
  now: number,
  forgetAfter: number
): HierarchyModel | undefined {
  const prevMaps = prev.rowMaps;
  if (!prevMaps) {
    return undefined;
  }
  const { levels } = opts;
  const depthMax = levels.length;
  const { structure, index } = prev;
  if (index.size !== structure.size) {
    return undefined;
  }
  const { parent, names, childCount, depth } = structure;
  const sources: Array<{ src: RowSource; map: RowMap }> = [];
  const alertSources: RowSource[] = [];
  let links: DataLink[] | undefined;
  let noValueText: string | undefined;
  for (const frame of frames) {
    const role = roleOf(frame, opts);
    for (const src of rowSources(frame)) {
      if (role === 'alerts') {
        alertSources.push(src);
        continue;
      }
      const map = prevMaps[sources.length];
      if (!map || map.role !== role || map.rows !== src.rows) {
        return undefined;
      }
      if (role === 'health') {
        links ??= src.field?.config.links;
        noValueText ??= src.field?.config.noValue;
      }
      sources.push({ src, map });
    }
  }
  if (sources.length !== prevMaps.length) {
    return undefined;
  }

  const { to: r, how } = carried(prev);
  const changed: number[] = [];
  const dirtyLeaves: number[] = [];
  const { values, valueState, inventory, inventoryWeight } = r;
  let valueText = prev.valueText;
  let textShared = true;
  const rowMaps: RowMap[] = [];
  for (const { src, map } of sources) {
    const cols = levels.map((l) => src.column(l));
    const nodes = map.nodes;
    if (map.role === 'inventory') {
      for (let row = 0; row < map.rows; row++) {
        const node = nodes[row]!;
        let deepest = depthMax - 1;
        while (deepest >= 0 && cell(cols[deepest], row) === undefined) {
          deepest--;
        }
        if (node < 0 ? deepest >= 0 : !pathMatches(cols, row, node, deepest, parent, names)) {
          return undefined;
        }
        if (node < 0) {
          continue;
        }
        const v = src.value(row);
        // A new weight is a new layout: the full build makes it.
        if ((v > 0 && Number.isFinite(v) ? v : 0) !== inventoryWeight[node] || !inventory[node]) {
          return undefined;
        }
      }
      rowMaps.push(map);
      continue;
    }
    // The field config must say of every value it saw last time what it said then (thresholds, mappings).
    const resolve = valueResolver(src.field, opts.theme);
    for (const [v, was] of map.verdicts) {
      const now = resolve(v);
      if (now.state !== was.state || now.text !== was.text) {
        return undefined;
      }
    }
    let verdicts = map.verdicts;
    const hits: number[] = [];
    if (!diffRows(nodes, cols, src, names, parent, values, hits)) {
      return undefined;
    }
    for (const leaf of hits) {
      const v = values[leaf]!;
      let verdict = verdicts.get(v);
      if (verdict === undefined) {
        verdict = resolve(v);
        if (verdicts === map.verdicts) {
          verdicts = new Map(verdicts);
        }
        verdicts.set(v, verdict);
      }
      changed.push(leaf);
      const text = valueText.get(leaf);
      if (valueState[leaf] !== verdict.state || text !== verdict.text) {
        valueState[leaf] = verdict.state;
        dirtyLeaves.push(leaf);
        if (text !== verdict.text) {
          if (textShared) {
            valueText = new Map(valueText);
            textShared = false;
          }
          if (verdict.text === undefined) {
            valueText.delete(leaf);
          } else {
            valueText.set(leaf, verdict.text);
          }
        }
      }
    }
    rowMaps.push(verdicts === map.verdicts ? map : { ...map, verdicts });
  }

  // Leaves without data stay stale, or the full build forgets them.
  for (const n of prev.unseenLeaves) {
    if (now - prev.seenAt[n]! > forgetAfter) {
      return undefined;
    }
    if (!r.stale[n]) {
      r.stale[n] = 1;
      changed.push(n);
    }
  }

  // Alerts are few: all are attached again, and the places whose own severity changed are noted.
  const ownAlert = r.ownAlert;
  const before = new Map<number, number>();
  for (const n of prev.alerts.keys()) {
    before.set(n, ownAlert[n]!);
    ownAlert[n] = -1;
  }
  r.alerts = new Map();
  for (const src of alertSources) {
    for (let row = 0; row < src.rows; row++) {
      if (!applyAlert(index, r, src, row, opts, now, false)) {
        return undefined;
      }
    }
  }
  const alertChanged: number[] = [];
  for (const n of new Set([...before.keys(), ...r.alerts.keys()])) {
    if (ownAlert[n] !== (before.get(n) ?? -1)) {
      alertChanged.push(n);
      changed.push(n);
      if (childCount[n] === 0) {
        dirtyLeaves.push(n);
      }
    }
  }
  const rootCounts = [...prev.rootCounts];
  restate(structure, index, r, alertChanged, dirtyLeaves, rootCounts, changed);

  for (const { src, map } of sources) {
    readNames(src, map, levels, r, parent, depth);
  }

  const size = structure.size;
  const serial = ++serials;
  r.version = serial;
  return {
    structure,
    index,
    displayNames: r.displayNames,
    values: values.subarray(0, size),
    seenAt: r.seenAt.subarray(0, size),
    seen: r.seen.subarray(0, size),
    stale: r.stale.subarray(0, size),
    valueState: valueState.subarray(0, size),
    valueText,
    ownAlert: ownAlert.subarray(0, size),
    cover: r.cover.subarray(0, size),
    state: r.state.subarray(0, size),
    valueProblems: r.valueProblems.subarray(0, size),
    worstValueLeaf: r.worstValueLeaf.subarray(0, size),
    inventory: inventory.subarray(0, size),
    inventoryWeight: inventoryWeight.subarray(0, size),
    alerts: r.alerts,
    links: links ?? [],
    noValueText: noValueText ?? '',
    warnings: prev.warnings,
    buffers: r,
    spare: prev.buffers,
    builtAt: now,
    buildMs: 0,
    rootCounts,
    rowMaps,
    unseenLeaves: prev.unseenLeaves,
    serial,
    base: prev.serial,
    changed: Int32Array.from(changed),
    incremental: true,
    carried: how,
  };
}

function sameLevels(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((l, i) => l === b[i]);
}

function sameWeights(a: Float64Array, b: Float64Array, size: number): boolean {
  for (let n = 0; n < size; n++) {
    if (a[n] !== b[n]) {
      return false;
    }
  }
  return true;
}

function noLevel(cols: Array<ArrayLike<unknown> | undefined>, row: number): boolean {
  for (const c of cols) {
    if (cell(c, row) !== undefined) {
      return false;
    }
  }
  return true;
}

/** Reads health or inventory rows: walks each row's level labels down to its place. */
function readRows(
  index: NodeIndex,
  r: Refresh,
  src: RowSource,
  role: 'health' | 'inventory',
  opts: BuildOptions,
  warnings: string[],
  map: RowMap
): boolean {
  const { levels } = opts;
  const depthMax = levels.length;
  const cols = levels.map((l) => src.column(l));
  const nameCols = levels.map((l) => src.column(`${l}_name`));
  const hasNames = nameCols.some((c) => c !== undefined);
  const resolve = role === 'health' ? recording(valueResolver(src.field, opts.theme), map.verdicts) : undefined;
  const rowNodes = map.nodes;
  // Whether every row names a place of its own: only then can the next refresh be diffed row by row.
  let unique = true;
  // Prefix cache: consecutive series usually share chain/region/store/till, so most rows skip the child
  // lookup. Comparing the cell strings is cheaper than one lookup, and a row loop is the build's hot path.
  const NO_CELL = {};
  const lastRaw: unknown[] = new Array(depthMax).fill(NO_CELL);
  const lastIds = new Int32Array(depthMax + 1);
  let lastValue = NaN;
  let lastVerdict: ValueVerdict | undefined;
  const first = cols[0];
  const isInventory = role === 'inventory';
  // Local views of the per-refresh arrays (re-read after they grow): this loop runs once per series.
  let values = r.values;
  let seen = r.seen;
  let valueState = r.valueState;
  for (let row = 0; row < src.rows; row++) {
    // An inventory row names a place at the level of its deepest label; a health row names a leaf.
    let deepest = depthMax - 1;
    if (isInventory) {
      while (deepest >= 0 && cell(cols[deepest], row) === undefined) {
        deepest--;
      }
    } else if (cell(first, row) === undefined && noLevel(cols, row)) {
      deepest = -1;
    }
    if (deepest < 0) {
      if (!isInventory) {
        warnings.push(`a series has none of the level labels (${levels.join(', ')}); check the "Levels" option`);
      }
      rowNodes[row] = -1;
      continue;
    }
    let node = 0;
    let cached = true;
    for (let d = 0; d <= deepest; d++) {
      const col = cols[d];
      const raw = col === undefined ? undefined : col[row];
      if (cached && lastRaw[d] === raw) {
        node = lastIds[d + 1]!;
        continue;
      }
      cached = false;
      // The previous row's place at this depth, if it has the same parent: this row's is likely the next one.
      const before = lastIds[d + 1]!;
      const hint = before > 0 && index.parent[before] === node ? index.nextSibling[before]! : index.firstChild[node]!;
      node = index.child(node, cell(col, row) ?? NONE, hint);
      lastRaw[d] = raw;
      lastIds[d + 1] = node;
      if (hasNames) {
        const name = cell(nameCols[d], row);
        if (name !== undefined) {
          r.setName(node, name);
        }
      }
    }
    if (deepest < depthMax - 1) {
      // The next row's deeper levels must not match a cache entry of another place.
      lastRaw.fill(NO_CELL, deepest + 1);
    }
    if (index.size > values.length) {
      r.ensure(index.size);
      values = r.values;
      seen = r.seen;
      valueState = r.valueState;
    }
    rowNodes[row] = node;
    const v = src.value(row);
    if (isInventory) {
      if (r.inventory[node]) {
        unique = false;
      }
      r.inventory[node] = 1;
      if (v > 0 && Number.isFinite(v)) {
        r.inventoryWeight[node] = v;
      }
      continue;
    }
    // Runs of equal values (almost all rows are 1) reuse one verdict.
    let verdict = lastVerdict;
    if (verdict === undefined || !(v === lastValue || (v !== v && lastValue !== lastValue))) {
      verdict = resolve!(v);
      lastVerdict = verdict;
      lastValue = v;
    }
    // Several series for one leaf (e.g. the same device scraped twice): the worst known value wins.
    const cur = values[node]!;
    if (seen[node]) {
      unique = false;
    }
    if (!seen[node] || (v === v && (cur !== cur || verdict.state > valueState[node]!))) {
      valueState[node] = verdict.state;
      values[node] = v;
      if (verdict.text !== undefined) {
        r.valueText.set(node, verdict.text);
      } else if (r.valueText.size > 0) {
        r.valueText.delete(node);
      }
    }
    // Its time is the model's builtAt: one write per row fewer on the hottest loop.
    seen[node] = 1;
  }
  return unique;
}

/** A value resolver that also notes each distinct value's verdict (a health query has a handful: 0, 1, NaN). */
function recording(resolve: (v: number) => ValueVerdict, verdicts: Map<number, ValueVerdict>) {
  return (v: number) => {
    const verdict = resolve(v);
    verdicts.set(v, verdict);
    return verdict;
  };
}

/** Drops forgotten leaves (and the groups they leave empty): a new index, every per-node array remapped. */
function compact(
  index: NodeIndex,
  r: Refresh,
  stale: Uint8Array,
  forget: Uint8Array
): { index: NodeIndex; refresh: Refresh } {
  const size = index.size;
  const keep = new Uint8Array(size);
  keep[0] = 1;
  for (let n = size - 1; n > 0; n--) {
    if ((index.nChildren[n] === 0 && !forget[n]) || keep[n] || r.inventory[n]) {
      keep[n] = 1;
      keep[index.parent[n]!] = 1;
    }
  }
  const next = new NodeIndex(size);
  const map = new Int32Array(size).fill(-1);
  map[0] = 0;
  const out = new Refresh(size);
  for (let n = 1; n < size; n++) {
    if (!keep[n]) {
      continue;
    }
    const m = next.child(map[index.parent[n]!]!, index.names[n]!);
    map[n] = m;
    out.values[m] = r.values[n]!;
    out.seenAt[m] = r.seenAt[n]!;
    out.seen[m] = r.seen[n]!;
    out.valueState[m] = r.valueState[n]!;
    out.inventory[m] = r.inventory[n]!;
    out.inventoryWeight[m] = r.inventoryWeight[n]!;
    out.stale[m] = stale[n]!;
  }
  r.valueText.forEach((t, n) => map[n]! >= 0 && out.valueText.set(map[n]!, t));
  r.displayNames.forEach((t, n) => map[n]! >= 0 && out.displayNames.set(map[n]!, t));
  return { index: next, refresh: out };
}

/** Children in natural name order, leaf counts and treemap weights: computed only when places change. */
function buildStructure(index: NodeIndex, inventoryWeight: Float64Array, levels: string[]): Structure {
  const size = index.size;
  // Views, not copies: the index only ever appends beyond `size`, so these stay valid.
  const parent = index.parent.subarray(0, size);
  const depth = index.depth.subarray(0, size);
  const childCount = index.nChildren.slice(0, size);
  const names = index.names;
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
  sortSiblings(children, childStart, childCount, names, size);
  const leafCount = new Int32Array(size);
  const weight = new Float64Array(size);
  const sum = new Float64Array(size);
  for (let n = size - 1; n > 0; n--) {
    const p = parent[n]!;
    if (childCount[n] === 0) {
      leafCount[n] = 1;
    }
    leafCount[p]! += leafCount[n]!;
    const w = inventoryWeight[n]! > 0 ? inventoryWeight[n]! : childCount[n] === 0 ? 1 : sum[n]!;
    weight[n] = w;
    sum[p]! += w;
  }
  weight[0] = sum[0]!;
  return { levels, size, parent, depth, names, childStart, childCount, children, leafCount, weight };
}

/** Small sibling groups of the same names (every till has the same devices) reuse one computed order. */
const SMALL_SORT = 16;

function sortSiblings(
  children: Int32Array,
  childStart: Int32Array,
  childCount: Int32Array,
  names: string[],
  size: number
): void {
  const keyNames: string[] = [];
  const perm = new Int32Array(SMALL_SORT);
  const scratch = new Int32Array(SMALL_SORT);
  let keyLen = 0;
  const before = (x: number, y: number) => naturalCompare(names[x]!, names[y]!) < 0;
  for (let n = 0; n < size; n++) {
    const c = childCount[n]!;
    const start = childStart[n]!;
    if (c > 1 && c <= SMALL_SORT) {
      let same = c === keyLen;
      for (let i = 0; same && i < c; i++) {
        same = names[children[start + i]!] === keyNames[i];
      }
      if (!same) {
        keyLen = c;
        for (let i = 0; i < c; i++) {
          keyNames[i] = names[children[start + i]!]!;
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
      children.set(scratch.subarray(0, c), start);
    } else if (c > SMALL_SORT) {
      const sorted = Array.from(children.subarray(start, start + c)).sort((x, y) =>
        naturalCompare(names[x]!, names[y]!)
      );
      children.set(sorted, start);
    }
  }
}

/**
 * Attaches one alert row to the places it names (in `alerts` and `ownAlert`). False, having changed nothing,
 * when the place does not exist and `create` is false (the incremental path, which never adds places).
 */
function applyAlert(
  index: NodeIndex,
  r: Refresh,
  source: RowSource,
  row: number,
  opts: BuildOptions,
  now: number,
  create = true
): boolean {
  const label = (name: string) => cell(source.column(name), row);
  const alertstate = label('alertstate');
  if ((alertstate !== undefined && alertstate !== 'firing') || source.value(row) === 0) {
    return true;
  }
  const { levels } = opts;
  let last = -1;
  for (let d = 0; d < levels.length; d++) {
    if (label(levels[d]!) !== undefined) {
      last = d;
    }
  }
  if (last < 0) {
    // An alert that names no place (e.g. about the monitoring itself) has no tile to colour.
    return true;
  }
  // Every label of the alert: the tile's links may use any of them (a device the levels do not reach).
  const labels: Record<string, string> = {};
  for (const name of source.labelNames()) {
    const v = label(name);
    if (v !== undefined && name !== '__name__') {
      labels[name] = v;
    }
  }
  const alertname = labels.alertname ?? '(unnamed alert)';
  const mapped = (name: string) => {
    const v = labels[name];
    return v === undefined ? undefined : mappedText(source.labelField(name), opts.theme)(v);
  };
  const summary = labels[opts.summaryLabel] ?? alertname;
  const info: AlertInfo = {
    alertname,
    severity: labels.severity ?? '',
    state: severityToState(labels.severity),
    reason: labels[SHORT_LABEL] ?? mapped('alertname') ?? mapped('incident_class') ?? summary,
    summary,
    labels,
  };
  // Walk the levels; a missing label in the middle matches any child at that level, so an alert
  // carrying chain and store but no region still lands on its store.
  let candidates = [0];
  let wildcard = false;
  for (let d = 0; d <= last; d++) {
    const name = label(levels[d]!);
    const next: number[] = [];
    for (const c of candidates) {
      if (name === undefined) {
        wildcard = true;
        next.push(...index.childrenOf(c));
      } else {
        const id = index.find(c, name);
        if (id !== undefined) {
          next.push(id);
        }
      }
    }
    if (next.length === 0 && !wildcard) {
      if (!create) {
        return false;
      }
      // An alert for a place with no health data: create it, so the problem is seen, not dropped.
      let node = candidates[0]!;
      for (let k = d; k <= last; k++) {
        node = index.child(node, label(levels[k]!) ?? NONE);
      }
      r.ensure(index.size);
      r.seenAt[node] = now;
      candidates = [node];
      break;
    }
    candidates = next;
  }
  for (const node of candidates) {
    const list = r.alerts.get(node) ?? [];
    list.push(info);
    r.alerts.set(node, list);
    r.ownAlert[node] = Math.max(r.ownAlert[node]!, info.state);
  }
  return true;
}

/**
 * States, from the alerts down and the leaves up. A firing alert decides the colour of its place and of
 * everything below it: the alert rules know how bad a fault is, a health value only that something is off.
 * Where only an alert above a leaf fires (a store outage over a till), the leaf shows the worse of the two,
 * and a leaf without data takes the alert's colour: the alert explains why its data is missing. A leaf no
 * alert covers shows what its value says.
 */
function finish(
  structure: Structure,
  index: NodeIndex,
  r: Refresh,
  rest: Pick<HierarchyModel, 'links' | 'noValueText' | 'warnings' | 'spare' | 'builtAt' | 'rowMaps'>
): HierarchyModel {
  const { size, parent, childCount } = structure;
  const ownAlert = r.ownAlert.subarray(0, size);
  const valueState = r.valueState.subarray(0, size);
  const cover = r.cover.subarray(0, size);
  cover[0] = ownAlert[0]!;
  for (let n = 1; n < size; n++) {
    const above = cover[parent[n]!]!;
    cover[n] = ownAlert[n]! > above ? ownAlert[n]! : above;
  }
  const state = r.state.subarray(0, size).fill(0);
  const valueProblems = r.valueProblems.subarray(0, size).fill(0);
  const worstValueLeaf = r.worstValueLeaf.subarray(0, size).fill(-1);
  const seen = r.seen.subarray(0, size);
  const inventory = r.inventory.subarray(0, size);
  const rootCounts: number[] = new Array(STATE_COUNT).fill(0);
  const unseen: number[] = [];
  for (let n = size - 1; n > 0; n--) {
    const p = parent[n]!;
    if (childCount[n] === 0) {
      const s = leafState(valueState[n]!, cover[n]!, ownAlert[n]!);
      // A problem of its own where the value, not an alert, gives the leaf its colour.
      if (isValueProblem(s, valueState[n]!, cover[n]!, ownAlert[n]!)) {
        valueProblems[n] = 1;
        worstValueLeaf[n] = n;
      }
      state[n] = s;
      rootCounts[s]!++;
      if (!seen[n] && !inventory[n]) {
        unseen.push(n);
      }
    }
    if (state[n]! > state[p]!) {
      state[p] = state[n]!;
    }
    if (valueProblems[n]! > 0) {
      valueProblems[p]! += valueProblems[n]!;
      const w = worstValueLeaf[n]!;
      const pw = worstValueLeaf[p]!;
      if (pw < 0 || state[w]! > state[pw]!) {
        worstValueLeaf[p] = w;
      }
    }
  }
  const serial = ++serials;
  r.version = serial;
  return {
    structure,
    index,
    displayNames: r.displayNames,
    values: r.values.subarray(0, size),
    seenAt: r.seenAt.subarray(0, size),
    seen,
    stale: r.stale.subarray(0, size),
    valueState,
    valueText: r.valueText,
    ownAlert,
    cover,
    state,
    valueProblems,
    worstValueLeaf,
    inventory,
    inventoryWeight: r.inventoryWeight.subarray(0, size),
    alerts: r.alerts,
    buffers: r,
    ...rest,
    buildMs: 0,
    rootCounts,
    unseenLeaves: Int32Array.from(unseen),
    serial,
    incremental: false,
  };
}

/**
 * A leaf's state: its own alert decides; else an alert above it, or the worse of that and its value (a leaf
 * without data takes the alert's colour); else its value.
 */
function leafState(valueState: number, cover: number, ownAlert: number): number {
  if (ownAlert >= 0) {
    return cover;
  }
  if (cover >= 0) {
    return valueState === State.unknown ? cover : Math.max(cover, valueState);
  }
  return valueState;
}

/** Whether the leaf's value, not an alert, gives it its (non-ok) colour: a problem no alert explains. */
function isValueProblem(s: number, valueState: number, cover: number, ownAlert: number): boolean {
  return s === valueState && valueState !== State.ok && ownAlert < 0 && valueState > cover;
}

/** Label values of a node's path, outermost first. */
export function pathOf(model: HierarchyModel, node: number): string[] {
  const { parent, names } = model.structure;
  const out: string[] = [];
  for (let n = node; n > 0; n = parent[n]!) {
    out.push(names[n]!);
  }
  return out.reverse();
}

/** The node's path as a label map, e.g. { chain: 'acme', store: 's1' }, for data links. */
export function labelsOf(model: HierarchyModel, node: number): Record<string, string> {
  const labels: Record<string, string> = {};
  pathOf(model, node).forEach((name, i) => {
    labels[model.structure.levels[i]!] = name;
  });
  return labels;
}

/**
 * Leaves per state at and below a node (the legend, the tooltip), counted when asked: a few nodes are shown
 * per refresh, so a histogram over one subtree is cheaper than keeping five counters for every node.
 */
const countCache = new WeakMap<HierarchyModel, Map<number, number[]>>();

export function countsOf(model: HierarchyModel, node: number): number[] {
  let cache = countCache.get(model);
  if (!cache) {
    cache = new Map();
    countCache.set(model, cache);
  }
  const hit = cache.get(node);
  if (hit) {
    return hit;
  }
  if (node === 0) {
    // Kept by the build: counting every leaf per refresh would cost a pass over 500,000 of them.
    return model.rootCounts;
  }
  const { childCount, childStart, children } = model.structure;
  const { state } = model;
  const counts: number[] = new Array(STATE_COUNT).fill(0);
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    const c = childCount[n]!;
    if (c === 0) {
      counts[state[n]!]!++;
    }
    for (let i = childStart[n]!; i < childStart[n]! + c; i++) {
      stack.push(children[i]!);
    }
  }
  cache.set(node, counts);
  return counts;
}

/** Finds a node by its path of names; undefined when it does not exist. */
export function findNode(model: HierarchyModel, path: string[]): number | undefined {
  const { childStart, childCount, children, names } = model.structure;
  let node = 0;
  for (const name of path) {
    const start = childStart[node]!;
    const end = start + childCount[node]!;
    let next: number | undefined;
    for (let i = start; i < end; i++) {
      if (names[children[i]!] === name) {
        next = children[i]!;
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
