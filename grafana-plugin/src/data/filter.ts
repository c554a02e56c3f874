import { HierarchyModel } from './hierarchy';
import { State } from './states';

export interface ViewFilter {
  onlyProblems: boolean;
  /** Case-insensitive substring of any name on a leaf's path (chain, store, till, device ...), ids or human names. */
  search: string;
}

/**
 * The treemap's weights. Without a filter, the structure's own weights: they depend on the inventory only,
 * so the layout never moves when states change. A filter is a view the user asked for: then each node
 * weighs the leaves below it that pass. O(nodes), run once per filter or data change, never per frame.
 */
export function filterWeights(model: HierarchyModel, filter: ViewFilter): Float64Array {
  const query = filter.search.trim().toLowerCase();
  const { structure, state, displayNames } = model;
  if (!filter.onlyProblems && query === '') {
    return structure.weight;
  }
  const { size, parent, childCount, names } = structure;
  const matched = new Uint8Array(size);
  matched[0] = query === '' ? 1 : 0;
  const matches = (n: number) =>
    names[n]!.toLowerCase().includes(query) || (displayNames.get(n)?.toLowerCase().includes(query) ?? false);
  // Parents have smaller ids than children, so a forward pass passes a match down to every descendant.
  for (let n = 1; n < size; n++) {
    matched[n] = matched[parent[n]!]! || (query !== '' && matches(n)) ? 1 : 0;
  }
  const weights = new Float64Array(size);
  for (let n = size - 1; n > 0; n--) {
    if (childCount[n] === 0 && matched[n] && (!filter.onlyProblems || state[n] !== State.ok)) {
      weights[n] = 1;
    }
    weights[parent[n]!]! += weights[n]!;
  }
  return weights;
}
