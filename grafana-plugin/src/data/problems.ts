import { AlertInfo, HierarchyModel } from './hierarchy';
import { State, StateCode } from './states';

/** What a tile says is wrong: the worst problem's reason and how many more there are ("+N"). */
export interface TileProblems {
  state: StateCode;
  reason: string;
  more: number;
  /** The worst problem, when it is an alert (for the links). */
  alert?: AlertInfo;
}

interface Below {
  count: number;
  worst: AlertInfo;
}

/** Alerts at or below each node that has any: each alert walks up its place's ancestors once. Alerts are few. */
const belowCache = new WeakMap<HierarchyModel, Map<number, Below>>();

function alertsBelow(model: HierarchyModel): Map<number, Below> {
  let map = belowCache.get(model);
  if (!map) {
    map = new Map();
    const { parent } = model.structure;
    for (const [at, list] of model.alerts) {
      for (const alert of list) {
        for (let n = at; n >= 0; n = parent[n]!) {
          const b = map.get(n);
          if (!b) {
            map.set(n, { count: 1, worst: alert });
          } else {
            b.count++;
            if (alert.state > b.worst.state) {
              b.worst = alert;
            }
          }
        }
      }
    }
    belowCache.set(model, map);
  }
  return map;
}

/**
 * The problems a tile stands for: alerts on places above it (a store outage over a till), alerts on it and
 * below it, and the problems no alert explains (a value its thresholds call bad, or no data). The worst is
 * named; the rest are counted. Undefined for a tile with no problem.
 */
export function problemsOf(model: HierarchyModel, node: number): TileProblems | undefined {
  let worst: AlertInfo | undefined;
  let count = 0;
  const { parent } = model.structure;
  for (let n = parent[node]!; n >= 0; n = parent[n]!) {
    for (const a of model.alerts.get(n) ?? []) {
      count++;
      if (!worst || a.state > worst.state) {
        worst = a;
      }
    }
  }
  const below = alertsBelow(model).get(node);
  if (below) {
    count += below.count;
    if (!worst || below.worst.state > worst.state) {
      worst = below.worst;
    }
  }
  const valueCount = model.valueProblems[node]!;
  count += valueCount;
  if (count === 0) {
    return undefined;
  }
  const leaf = model.worstValueLeaf[node]!;
  if (valueCount > 0 && leaf >= 0 && (!worst || model.state[leaf]! > worst.state)) {
    const unknown = model.valueState[leaf] === State.unknown;
    const reason = model.valueText.get(leaf) ?? (unknown ? model.noValueText || 'No data' : String(model.values[leaf]));
    return { state: model.state[leaf] as StateCode, reason, more: count - 1 };
  }
  return worst ? { state: worst.state, reason: worst.reason, more: count - 1, alert: worst } : undefined;
}

/** Every alert on the node, above it and below it, worst first: for the tooltip. */
export function alertsAround(model: HierarchyModel, node: number): Array<{ node: number; alert: AlertInfo }> {
  const out: Array<{ node: number; alert: AlertInfo }> = [];
  const { parent } = model.structure;
  model.alerts.forEach((list, at) => {
    let related = false;
    for (let n = at; n >= 0 && !related; n = parent[n]!) {
      related = n === node;
    }
    for (let n = node; n >= 0 && !related; n = parent[n]!) {
      related = n === at;
    }
    if (related) {
      list.forEach((alert) => out.push({ node: at, alert }));
    }
  });
  return out.sort((a, b) => b.alert.state - a.alert.state);
}
