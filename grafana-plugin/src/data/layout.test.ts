import { fleetTable, seriesFrame } from './frame-factory';
import { CELL, GROUP, hitTest, layoutTreemap } from './layout';
import { filterWeights } from './filter';
import { findNode } from './hierarchy';
import { model, till } from './test-model';

const opts = { minCell: 4, header: 14 };

describe('layoutTreemap', () => {
  const m = model([
    seriesFrame(till('s1', 't1', 'fiscal'), 1),
    seriesFrame(till('s1', 't1', 'scanner'), 0),
    seriesFrame(till('s1', 't2', 'fiscal'), 1),
    seriesFrame(till('s2', 't1', 'fiscal'), 1),
  ]);

  it('fills the area exactly with the leaves when there is room', () => {
    const l = layoutTreemap(m, m.leafCount, findNode(m, ['acme', 'north'])!, 400, 300, opts);
    let cellArea = 0;
    let cells = 0;
    for (let i = 0; i < l.count; i++) {
      if (l.kind[i] === CELL) {
        cells++;
        cellArea += l.w[i]! * l.h[i]!;
        expect(l.x[i]!).toBeGreaterThanOrEqual(0);
        expect(l.x[i]! + l.w[i]!).toBeLessThanOrEqual(400.001);
      }
    }
    expect(cells).toBe(4);
    expect(cellArea).toBeGreaterThan(0.8 * 400 * 300);
    expect(l.top.map((i) => m.names[l.node[i]!])).toEqual(['s1', 's2']);
  });

  it('sizes cells by leaf count', () => {
    const l = layoutTreemap(m, m.leafCount, findNode(m, ['acme', 'north'])!, 400, 300, opts);
    const area = (name: string) => {
      const i = l.top.find((k) => m.names[l.node[k]!] === name)!;
      return l.w[i]! * l.h[i]!;
    };
    expect(area('s1') / area('s2')).toBeCloseTo(3, 0);
  });

  it('draws a group as one cell when its children would be smaller than minCell', () => {
    const l = layoutTreemap(m, m.leafCount, 0, 6, 6, opts);
    const cells = Array.from({ length: l.count }, (_, i) => i).filter((i) => l.kind[i] === CELL);
    expect(cells.map((i) => m.names[l.node[i]!])).toEqual(['north']);
    expect(l.kind[0]).toBe(GROUP);
  });

  it('hit-tests the innermost rectangle', () => {
    const l = layoutTreemap(m, m.leafCount, 0, 400, 300, opts);
    const i = hitTest(l, 5, 200);
    expect(l.kind[i]).toBe(CELL);
    expect(m.depth[l.node[i]!]).toBe(5);
  });

  it('lays out only what passes the filter', () => {
    const w = filterWeights(m, { onlyProblems: true, search: '' });
    const l = layoutTreemap(m, w, 0, 400, 300, opts);
    const cells = Array.from({ length: l.count }, (_, i) => i).filter((i) => l.kind[i] === CELL);
    expect(cells.map((i) => m.names[l.node[i]!])).toEqual(['scanner']);
  });

  it('bounds the cells by the screen, not by the fleet', () => {
    const big = model([fleetTable({ tills: 20_000 })]);
    const l = layoutTreemap(big, big.leafCount, 0, 1600, 900, opts);
    expect(l.count).toBeLessThan((1600 * 900) / 16);
  });
});
