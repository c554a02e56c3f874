import { seriesFrame, tableFrame } from './frame-factory';
import { filterWeights } from './filter';
import { findNode } from './hierarchy';
import { model, till } from './test-model';

const m = model([
  seriesFrame(till('s1', 't1', 'fiscal'), 1),
  seriesFrame(till('s1', 't1', 'scanner'), 0),
  seriesFrame(till('s1', 't2', 'fiscal'), 1),
  seriesFrame(till('s2', 't1', 'fiscal'), null),
  seriesFrame(till('s3', 't1', 'fiscal'), 1),
  tableFrame(
    [{ labels: { chain: 'acme', region: 'north', store: 's3', store_name: 'Market on Lenina' }, value: 1 }],
    'INVENTORY'
  ),
]);

describe('filterWeights', () => {
  it('returns the structure weights when nothing is filtered', () => {
    expect(filterWeights(m, { onlyProblems: false, search: '' })).toBe(m.structure.weight);
    expect(m.structure.weight[0]).toBe(5);
  });

  it('keeps only leaves that are not ok for "only problems" (no data counts as a problem)', () => {
    const w = filterWeights(m, { onlyProblems: true, search: '' });
    expect(w[0]).toBe(2);
    expect(w[findNode(m, ['acme', 'north', 's3'])!]).toBe(0);
    expect(w[findNode(m, ['acme', 'north', 's2'])!]).toBe(1);
  });

  it('matches a search against any id or human name on the path, case-insensitively', () => {
    expect(filterWeights(m, { onlyProblems: false, search: 'S1' })[0]).toBe(3);
    expect(filterWeights(m, { onlyProblems: false, search: 'scanner' })[0]).toBe(1);
    expect(filterWeights(m, { onlyProblems: true, search: 's1' })[0]).toBe(1);
    expect(filterWeights(m, { onlyProblems: false, search: 'lenina' })[0]).toBe(1);
  });
});
