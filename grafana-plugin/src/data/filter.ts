import { HierarchyModel } from './hierarchy';
import { State } from './states';

export interface ViewFilter {
  onlyProblems: boolean;
  /** Case-insensitive substring of any name on a leaf's path (chain, store, till, device ...). */
  search: string;
}

/**
 * Leaves per node that pass the filter: the treemap's weights. O(nodes), run once per filter change,
 * never per frame. Without a filter the precomputed leaf counts are returned as they are.
 */
export function filterWeights(model: HierarchyModel, filter: ViewFilter): Int32Array {
  const query = filter.search.trim().toLowerCase();
  if (!filter.onlyProblems && query === '') {
    return model.leafCount;
  }
  const { size, parent, childCount, names, ownState, values } = model;
  const matched = new Uint8Array(size);
  matched[0] = query === '' ? 1 : 0;
  // Parents have smaller ids than children, so a forward pass passes a match down to every descendant.
  for (let n = 1; n < size; n++) {
    matched[n] = matched[parent[n]!]! || (query !== '' && names[n]!.toLowerCase().includes(query)) ? 1 : 0;
  }
  const weights = new Int32Array(size);
  for (let n = size - 1; n > 0; n--) {
    if (childCount[n] === 0) {
      const state = Number.isNaN(values[n]!) ? Math.max(ownState[n]!, State.unknown) : ownState[n]!;
      if (matched[n] && (!filter.onlyProblems || state !== State.ok)) {
        weights[n] = 1;
      }
    }
    weights[parent[n]!]! += weights[n]!;
  }
  return weights;
}
