import { alertFrame, fleetTable, seriesFrame, tableFrame } from './frame-factory';
import { countsOf, findNode, labelsOf, NONE, pathOf } from './hierarchy';
import { State, STATE_NAMES } from './states';
import { model, till } from './test-model';

const stateOf = (m: ReturnType<typeof model>, path: string[]) => STATE_NAMES[m.state[findNode(m, path)!]!];

describe('buildModel: hierarchy', () => {
  it('builds chain → region → store → till → device from series labels', () => {
    const m = model([
      seriesFrame(till('s1', 't1', 'fiscal'), 1),
      seriesFrame(till('s1', 't1', 'scanner'), 1),
      seriesFrame(till('s1', 't2', 'fiscal'), 1),
      seriesFrame(till('s2', 't1', 'fiscal'), 1),
    ]);
    const t1 = findNode(m, ['acme', 'north', 's1', 't1'])!;
    expect(pathOf(m, t1)).toEqual(['acme', 'north', 's1', 't1']);
    expect(m.leafCount[t1]).toBe(2);
    expect(m.leafCount[0]).toBe(4);
    expect(labelsOf(m, t1)).toEqual({ chain: 'acme', region: 'north', store: 's1', till: 't1' });
  });

  it('reads the table format the same way as one frame per series', () => {
    const rows = [
      { labels: till('s1', 't1', 'fiscal'), value: 0 },
      { labels: till('s1', 't1', 'scanner'), value: 1 },
    ];
    const fromTable = model([tableFrame(rows)]);
    const fromSeries = model(rows.map((r) => seriesFrame(r.labels, r.value)));
    expect(countsOf(fromTable, 0)).toEqual(countsOf(fromSeries, 0));
    expect(stateOf(fromTable, ['acme', 'north', 's1', 't1'])).toBe('critical');
  });

  it('puts series that lack a level label under "(none)" instead of dropping them', () => {
    const m = model([
      seriesFrame({ chain: 'acme', store: 's9', till: 't1', device: 'fiscal' }, 1),
      seriesFrame(till('s1', 't1', 'fiscal'), 1),
    ]);
    const orphan = findNode(m, ['acme', NONE, 's9', 't1', 'fiscal']);
    expect(orphan).toBeDefined();
    expect(m.leafCount[0]).toBe(2);
  });

  it('follows configured levels', () => {
    const m = model([seriesFrame({ store: 's1', till: 't1' }, 0), seriesFrame({ store: 's1', till: 't2' }, 1)], {
      levels: ['store', 'till'],
    });
    expect(stateOf(m, ['s1'])).toBe('critical');
    expect(countsOf(m, findNode(m, ['s1'])!)).toEqual([1, 0, 0, 0, 1]);
  });

  it('warns, not crashes, when no series has any level label', () => {
    const m = model([seriesFrame({ job: 'x' }, 1)], { levels: ['store', 'till'] });
    expect(m.leafCount[0]).toBe(0);
    expect(m.warnings[0]).toContain('none of the level labels');
  });

  it('builds 500,000 leaves into flat arrays', () => {
    const m = model([fleetTable({ tills: 100_000, devicesPerTill: 5 })]);
    expect(m.leafCount[0]).toBe(500_000);
    expect(m.names.length).toBe(m.size);
    const counts = countsOf(m, 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(500_000);
    expect(counts[State.critical]).toBeGreaterThan(0);
    expect(counts[State.unknown]).toBeGreaterThan(0);
  });
});

describe('buildModel: state aggregation', () => {
  it('gives each parent the worst state of its children and counts leaves per state', () => {
    const m = model([
      seriesFrame(till('s1', 't1', 'fiscal'), 1),
      seriesFrame(till('s1', 't1', 'scanner'), 0),
      seriesFrame(till('s1', 't2', 'fiscal'), 1),
      seriesFrame(till('s2', 't1', 'fiscal'), 1),
    ]);
    expect(stateOf(m, ['acme', 'north', 's1', 't1'])).toBe('critical');
    expect(stateOf(m, ['acme', 'north', 's1', 't2'])).toBe('ok');
    expect(stateOf(m, ['acme', 'north', 's1'])).toBe('critical');
    expect(stateOf(m, ['acme', 'north', 's2'])).toBe('ok');
    expect(stateOf(m, ['acme'])).toBe('critical');
    expect(countsOf(m, 0)).toEqual([3, 0, 0, 0, 1]);
  });

  it('orders children so the biggest comes first (treemap input)', () => {
    const m = model([
      seriesFrame(till('a', 't1', 'fiscal'), 1),
      seriesFrame(till('b', 't1', 'fiscal'), 1),
      seriesFrame(till('b', 't2', 'fiscal'), 1),
    ]);
    const region = findNode(m, ['acme', 'north'])!;
    const first = m.children[m.childStart[region]!]!;
    expect(m.names[first]).toBe('b');
  });
});

describe('buildModel: stale and missing data', () => {
  it('shows a device without a value as unknown, never healthy', () => {
    const m = model([seriesFrame(till('s1', 't1', 'fiscal'), null), seriesFrame(till('s1', 't1', 'scanner'), 1)]);
    expect(stateOf(m, ['acme', 'north', 's1', 't1', 'fiscal'])).toBe('unknown');
    expect(stateOf(m, ['acme', 'north', 's1', 't1'])).toBe('unknown');
  });

  it('keeps a leaf that vanished since the last refresh as stale (unknown)', () => {
    const first = model([seriesFrame(till('s1', 't1', 'fiscal'), 1), seriesFrame(till('s1', 't2', 'fiscal'), 1)], {
      now: 1_000,
    });
    const second = model([seriesFrame(till('s1', 't1', 'fiscal'), 1)], { previous: first, now: 2_000 });
    const gone = findNode(second, ['acme', 'north', 's1', 't2', 'fiscal'])!;
    expect(second.stale[gone]).toBe(1);
    expect(STATE_NAMES[second.state[gone]!]).toBe('unknown');
    expect(stateOf(second, ['acme', 'north', 's1'])).toBe('unknown');
    expect(second.stale[findNode(second, ['acme', 'north', 's1', 't1', 'fiscal'])!]).toBe(0);
  });

  it('forgets a stale leaf after the forget window', () => {
    const first = model([seriesFrame(till('s1', 't2', 'fiscal'), 1)], { now: 1_000 });
    const later = model([seriesFrame(till('s1', 't1', 'fiscal'), 1)], {
      previous: first,
      now: 1_000 + 7_200_000,
    });
    expect(findNode(later, ['acme', 'north', 's1', 't2'])).toBeUndefined();
  });
});

describe('buildModel: alert overlay', () => {
  const health = [
    seriesFrame(till('s1', 't1', 'fiscal'), 1),
    seriesFrame(till('s1', 't1', 'scanner'), 1),
    seriesFrame(till('s2', 't1', 'fiscal'), 1),
  ];

  it('turns a healthy device critical when a critical alert fires on it', () => {
    const m = model([
      ...health,
      alertFrame({
        ...till('s1', 't1', 'fiscal'),
        alertname: 'TillFnExpiring',
        severity: 'critical',
        summary: 'FN expires',
      }),
    ]);
    const fiscal = findNode(m, ['acme', 'north', 's1', 't1', 'fiscal'])!;
    expect(STATE_NAMES[m.state[fiscal]!]).toBe('critical');
    expect(m.alerts.get(fiscal)?.[0]).toMatchObject({ alertname: 'TillFnExpiring', summary: 'FN expires' });
    expect(stateOf(m, ['acme'])).toBe('critical');
  });

  it('lets the worst severity win: critical > warning > info', () => {
    const labels = till('s1', 't1', 'fiscal');
    const m = model([
      ...health,
      alertFrame({ ...labels, alertname: 'A', severity: 'info' }),
      alertFrame({ ...labels, alertname: 'B', severity: 'warning' }),
    ]);
    expect(stateOf(m, ['acme', 'north', 's1', 't1', 'fiscal'])).toBe('warning');
    const m2 = model([
      ...health,
      alertFrame({ ...labels, alertname: 'A', severity: 'info' }),
      alertFrame({ ...labels, alertname: 'C', severity: 'critical' }),
      alertFrame({ ...labels, alertname: 'B', severity: 'warning' }),
    ]);
    expect(stateOf(m2, ['acme', 'north', 's1', 't1', 'fiscal'])).toBe('critical');
  });

  it('attaches a till-level alert (no device label) to the till', () => {
    const m = model([
      ...health,
      alertFrame({
        chain: 'acme',
        region: 'north',
        store: 's1',
        till: 't1',
        alertname: 'TillDown',
        severity: 'warning',
      }),
    ]);
    const t1 = findNode(m, ['acme', 'north', 's1', 't1'])!;
    expect(m.alerts.get(t1)).toHaveLength(1);
    expect(STATE_NAMES[m.state[t1]!]).toBe('warning');
    expect(stateOf(m, ['acme', 'north', 's1', 't1', 'fiscal'])).toBe('ok');
  });

  it('finds the store of an alert that lacks an intermediate label', () => {
    const m = model([
      ...health,
      alertFrame({ chain: 'acme', store: 's2', alertname: 'StoreOffline', severity: 'critical' }),
    ]);
    expect(stateOf(m, ['acme', 'north', 's2'])).toBe('critical');
    expect(stateOf(m, ['acme', 'north', 's1'])).toBe('ok');
  });

  it('shows an alert for a till without health data instead of dropping it', () => {
    const m = model([...health, alertFrame({ ...till('s3', 't9', 'fiscal'), alertname: 'X', severity: 'info' })]);
    // No health value, so unknown outranks the info alert.
    expect(stateOf(m, ['acme', 'north', 's3', 't9', 'fiscal'])).toBe('unknown');
  });

  it('ignores pending alerts and recognises the ALERTS query by refId in table format', () => {
    const m = model([
      ...health,
      alertFrame({ ...till('s1', 't1', 'fiscal'), alertname: 'P', severity: 'critical', alertstate: 'pending' }),
      tableFrame(
        [{ labels: { ...till('s2', 't1', 'fiscal'), alertname: 'Q', severity: 'warning' }, value: 1 }],
        'ALERTS'
      ),
    ]);
    expect(stateOf(m, ['acme', 'north', 's1'])).toBe('ok');
    expect(stateOf(m, ['acme', 'north', 's2'])).toBe('warning');
  });
});
