import { DataFrame, FieldConfigSource, MappingType } from '@grafana/data';
import { alertFrame, fleetTable, tableFrame } from './frame-factory';
import { buildModel, countsOf, HierarchyModel, warmSpare } from './hierarchy';
import { panelFrames, theme } from './test-model';

/**
 * The incremental refresh (a refresh whose rows name the same places as the last one only looks again at what
 * changed) must give exactly the model a full build gives. Random refreshes over a small fleet with every kind
 * of input (values with and without a mapping text, missing labels, human names, inventory, alerts on every
 * level and with a missing middle label, rows that go and come back, time that makes leaves stale and
 * forgotten), built twice side by side: once as the panel does, once always in full.
 */

/** mulberry32: a seeded generator, so a failing sequence can be run again. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LEVELS = ['chain', 'region', 'store', 'till', 'device'];
const VALUES = [1, 1, 1, 0, 0.5, NaN, 2];
const SEVERITIES = ['critical', 'warning', 'info', 'page'];

interface Row {
  labels: Record<string, string>;
  value: number;
}

function fleet(rnd: () => number): Row[] {
  const rows: Row[] = [];
  for (let s = 1; s <= 6; s++) {
    const region = s % 3 === 0 ? '' : `r${(s % 2) + 1}`;
    for (let t = 1; t <= 3; t++) {
      for (const device of ['fiscal', 'scanner', 'printer']) {
        if (rnd() < 0.1) {
          continue;
        }
        const labels: Record<string, string> = { chain: 'acme', store: `s${s}`, till: `s${s}-t${t}`, device };
        if (region) {
          labels.region = region;
        }
        if (s === 2) {
          labels.store_name = 'Гастроном';
        }
        rows.push({ labels, value: 1 });
      }
    }
  }
  return rows;
}

function alertsOf(rows: Row[], rnd: () => number): DataFrame[] {
  const out: DataFrame[] = [];
  const n = Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const row = rows[Math.floor(rnd() * rows.length)]!;
    const depth = 1 + Math.floor(rnd() * 5);
    const labels: Record<string, string> = {};
    for (const l of LEVELS.slice(0, depth)) {
      if (row.labels[l] !== undefined) {
        labels[l] = row.labels[l]!;
      }
    }
    if (rnd() < 0.2) {
      // A missing middle label matches any place at that level.
      delete labels.region;
    }
    const severity = SEVERITIES[Math.floor(rnd() * SEVERITIES.length)]!;
    out.push(alertFrame({ ...labels, alertname: `A${k}`, severity, short: `reason ${k}` }));
  }
  if (rnd() < 0.05) {
    // An alert on a place that has no data: the full build adds the place.
    out.push(alertFrame({ chain: 'acme', region: 'r9', store: 's99', alertname: 'Lost', severity: 'critical' }));
  }
  return out;
}

const fieldConfig: Partial<FieldConfigSource> = {
  defaults: {
    mappings: [{ type: MappingType.ValueToText, options: { '0': { text: 'Нет связи', color: 'red' } } }],
  },
};

function build(frames: DataFrame[], previous: HierarchyModel | undefined, now: number, incremental: boolean) {
  return buildModel(frames, {
    levels: LEVELS,
    alertsRefId: 'ALERTS',
    inventoryRefId: 'INVENTORY',
    summaryLabel: 'summary',
    theme,
    previous,
    now,
    forgetAfterMs: 10 * 60_000,
    incremental,
  });
}

/** Everything a model says, by node id (both chains keep ids: they see the same places in the same order). */
function contents(m: HierarchyModel) {
  const arrays = Object.fromEntries(
    (
      [
        'values',
        'seenAt',
        'seen',
        'stale',
        'valueState',
        'ownAlert',
        'cover',
        'state',
        'valueProblems',
        'worstValueLeaf',
        'inventory',
        'inventoryWeight',
      ] as const
    ).map((k) => [k, Array.from(m[k] as ArrayLike<number>, (v) => (Number.isNaN(v) ? 'NaN' : v))])
  );
  const s = m.structure;
  return {
    ...arrays,
    structure: {
      size: s.size,
      names: s.names.slice(0, s.size),
      parent: Array.from(s.parent),
      children: Array.from(s.children),
      weight: Array.from(s.weight),
    },
    valueText: [...m.valueText].sort((a, b) => a[0] - b[0]),
    displayNames: [...m.displayNames].sort((a, b) => a[0] - b[0]),
    alerts: [...m.alerts].sort((a, b) => a[0] - b[0]),
    warnings: m.warnings,
    links: m.links,
    noValueText: m.noValueText,
    rootCounts: countsOf(m, 0),
  };
}

/** Leaves per state, counted the slow way: what countsOf(model, 0) must say. */
function countLeaves(m: HierarchyModel): number[] {
  const counts = [0, 0, 0, 0, 0];
  for (let n = 1; n < m.structure.size; n++) {
    if (m.structure.childCount[n] === 0) {
      counts[m.state[n]!]!++;
    }
  }
  return counts;
}

describe('incremental refresh', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('equals a full build after random refreshes (seed %i)', (seed) => {
    const rnd = random(seed);
    let rows = fleet(rnd);
    const absent = new Set<number>();
    let weight = 3;
    let now = 1_000_000;
    let config = fieldConfig;
    let fast: HierarchyModel | undefined;
    let full: HierarchyModel | undefined;
    let incremental = 0;
    let warmed = 0;
    const carriedBy = new Set<HierarchyModel['carried']>();
    const steps = 40;
    for (let step = 0; step < steps; step++) {
      // Mostly a few values change; now and then rows go and come back, a weight, a name or the config changes.
      rows = rows.map((r) => (rnd() < 0.08 ? { ...r, value: VALUES[Math.floor(rnd() * VALUES.length)]! } : r));
      const event = rnd();
      if (event < 0.05) {
        absent.add(Math.floor(rnd() * rows.length));
      } else if (event < 0.1) {
        absent.clear();
      } else if (event < 0.13) {
        weight++;
      } else if (event < 0.16) {
        rows = rows.map((r) =>
          r.labels.store === 's2' ? { ...r, labels: { ...r.labels, store_name: `Гастроном ${step}` } } : r
        );
      } else if (event < 0.18) {
        config = config === fieldConfig ? {} : fieldConfig;
      } else if (event < 0.2) {
        now += 11 * 60_000;
      }
      now += 15_000;
      const present = rows.filter((_, i) => !absent.has(i));
      const frames = panelFrames(
        [
          tableFrame(present, 'A'),
          tableFrame(
            [{ labels: { chain: 'acme', region: 'r1', store: 's1', store_name: 'Центр' }, value: weight }],
            'INVENTORY'
          ),
          ...alertsOf(present, rnd),
        ],
        config
      );
      const older = fast;
      const nextFast = build(frames, fast, now, true);
      const nextFull = build(frames, full, now, false);
      expect(contents(nextFast)).toEqual(contents(nextFull));
      // Off the refresh's path the view brings the spare buffers up to date (warmSpare): not at all before the
      // next refresh comes, part of them, or all. A late call for the model before must change nothing.
      const warm = rnd();
      if (warm < 0.3) {
        let budget = Math.floor(rnd() * 12);
        expect(warmSpare(nextFast, () => budget-- > 0)).toBe(budget >= 0);
      } else if (warm < 0.7) {
        expect(warmSpare(nextFast)).toBe(true);
        warmed++;
      }
      if (older && rnd() < 0.3) {
        expect(warmSpare(older)).toBe(true);
      }
      expect(contents(nextFast)).toEqual(contents(nextFull));
      expect(countsOf(nextFast, 0)).toEqual(countLeaves(nextFast));
      // The layout's input is kept exactly when the full build keeps it.
      expect(nextFast.structure === fast?.structure).toBe(nextFull.structure === full?.structure);
      incremental += nextFast.incremental ? 1 : 0;
      carriedBy.add(nextFast.carried);
      fast = nextFast;
      full = nextFull;
    }
    // The comparison is only worth something if most refreshes took the incremental path.
    expect(incremental).toBeGreaterThan(steps / 2);
    expect(warmed).toBeGreaterThan(0);
    // Refreshes found the spare buffers up to date, part-way up to date, and not warmed at all (after an
    // incremental build and after a full one).
    for (const how of ['ready', 'partly ready', 'replayed', 'copied'] as const) {
      expect(carriedBy).toContain(how);
    }
  });

  it('takes the incremental path for a refresh of the bench fleet, repaints what changed and keeps the structure', () => {
    const frames = (down: boolean) =>
      panelFrames([fleetTable({ tills: 400, devicesPerTill: 5, downTills: (t) => down && t % 100 === 0 })]);
    const first = build(frames(false), undefined, 1, true);
    const second = build(frames(true), first, 2, true);
    const full = build(frames(true), first, 2, false);
    expect(second.incremental).toBe(true);
    expect(second.structure).toBe(first.structure);
    expect(contents(second)).toEqual(contents(full));
    // 4 tills of 5 devices down: their leaves, tills, stores, regions, chain and root; nothing else.
    expect(second.changed!.length).toBeLessThan(60);
  });

  it('builds in full when the rows name other places', () => {
    const frames = (store: string) =>
      panelFrames([
        tableFrame([{ labels: { chain: 'acme', region: 'r1', store, till: 't1', device: 'fiscal' }, value: 1 }]),
      ]);
    const first = build(frames('s1'), undefined, 1, true);
    const moved = build(frames('s2'), first, 2, true);
    expect(moved.incremental).toBe(false);
    expect(moved.structure).not.toBe(first.structure);
  });
});
