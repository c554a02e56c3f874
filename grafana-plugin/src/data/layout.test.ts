import { alertFrame, fleetTable, seriesFrame, tableFrame } from './frame-factory';
import { CELL, GROUP, hitTest, Layout, layoutTreemap } from './layout';
import { filterWeights } from './filter';
import { findNode, HierarchyModel } from './hierarchy';
import { model, till } from './test-model';

const opts = { minCell: 4, header: 14 };
const nameAt = (m: HierarchyModel, l: Layout, i: number) => m.structure.names[l.node[i]!];

describe('layoutTreemap', () => {
  const m = model([
    seriesFrame(till('s1', 't1', 'fiscal'), 1),
    seriesFrame(till('s1', 't1', 'scanner'), 0),
    seriesFrame(till('s1', 't2', 'fiscal'), 1),
    seriesFrame(till('s2', 't1', 'fiscal'), 1),
  ]);
  const north = findNode(m, ['acme', 'north'])!;

  it('fills the area exactly with the leaves when there is room', () => {
    const l = layoutTreemap(m.structure, m.structure.weight, north, 400, 300, opts);
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
    expect(l.top.map((i) => nameAt(m, l, i))).toEqual(['s1', 's2']);
  });

  it('sizes cells by weight', () => {
    const l = layoutTreemap(m.structure, m.structure.weight, north, 400, 300, opts);
    const area = (name: string) => {
      const i = l.top.find((k) => nameAt(m, l, k) === name)!;
      return l.w[i]! * l.h[i]!;
    };
    expect(area('s1') / area('s2')).toBeCloseTo(3, 0);
  });

  it('draws a group as one cell when its children would be smaller than minCell', () => {
    const l = layoutTreemap(m.structure, m.structure.weight, 0, 6, 6, opts);
    const cells = Array.from({ length: l.count }, (_, i) => i).filter((i) => l.kind[i] === CELL);
    expect(cells.map((i) => nameAt(m, l, i))).toEqual(['north']);
    expect(l.kind[0]).toBe(GROUP);
  });

  it('hit-tests the innermost rectangle', () => {
    const l = layoutTreemap(m.structure, m.structure.weight, 0, 400, 300, opts);
    const i = hitTest(l, 5, 200);
    expect(l.kind[i]).toBe(CELL);
    expect(m.structure.depth[l.node[i]!]).toBe(5);
  });

  it('lays out only what passes the filter', () => {
    const w = filterWeights(m, { onlyProblems: true, search: '' });
    const l = layoutTreemap(m.structure, w, 0, 400, 300, opts);
    const cells = Array.from({ length: l.count }, (_, i) => i).filter((i) => l.kind[i] === CELL);
    expect(cells.map((i) => nameAt(m, l, i))).toEqual(['scanner']);
  });

  it('bounds the cells by the screen, not by the fleet', () => {
    const big = model([fleetTable({ tills: 20_000 })]);
    const l = layoutTreemap(big.structure, big.structure.weight, 0, 1600, 900, opts);
    expect(l.count).toBeLessThan((1600 * 900) / 16);
  });

  it('puts every tile in the same rectangle before and after a set of faults', () => {
    const levels = ['chain', 'region', 'store', 'till'];
    const inventory = tableFrame(
      ['s1', 's2', 's3', 's4'].map((s, i) => ({ labels: { chain: 'acme', region: 'north', store: s }, value: i + 1 })),
      'INVENTORY'
    );
    const healthy = ['s1', 's2', 's3', 's4'].flatMap((s, i) =>
      Array.from({ length: i + 1 }, (_, t) =>
        seriesFrame({ chain: 'acme', region: 'north', store: s, till: `${s}-t${t + 1}` }, 1)
      )
    );
    const before = model([inventory, ...healthy], { levels });
    // Store s4 goes dark (its tills' series vanish, its store alert fires), a till of s2 crash-loops, one of s3 loses a device.
    const faulty = healthy
      .filter((f) => f.fields[1]!.labels!.store !== 's4')
      .map((f) => (f.fields[1]!.labels!.till === 's3-t2' ? seriesFrame(f.fields[1]!.labels!, 0) : f));
    const after = model(
      [
        inventory,
        ...faulty,
        alertFrame({
          chain: 'acme',
          region: 'north',
          store: 's4',
          alertname: 'TillStoreUnreachable',
          severity: 'critical',
        }),
        alertFrame({
          chain: 'acme',
          region: 'north',
          store: 's2',
          till: 's2-t1',
          alertname: 'TillProcessCrashLooping',
          severity: 'warning',
        }),
      ],
      { levels, previous: before, now: 1_030_000 }
    );
    const rects = (mm: HierarchyModel) => {
      const l = layoutTreemap(mm.structure, filterWeights(mm, { onlyProblems: false, search: '' }), 0, 800, 450, opts);
      return Array.from({ length: l.count }, (_, i) => [nameAt(mm, l, i), l.x[i], l.y[i], l.w[i], l.h[i]]);
    };
    expect(rects(after)).toEqual(rects(before));
    expect(after.state.some((s) => s > 0)).toBe(true);
  });
});
