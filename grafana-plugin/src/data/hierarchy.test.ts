import { MappingType } from '@grafana/data';
import { alertFrame, fleetTable, seriesFrame, tableFrame } from './frame-factory';
import { countsOf, findNode, HierarchyModel, labelsOf, NONE, pathOf } from './hierarchy';
import { State, STATE_NAMES } from './states';
import { model, till } from './test-model';

const stateOf = (m: HierarchyModel, path: string[]) => STATE_NAMES[m.state[findNode(m, path)!]!];
const node = (m: HierarchyModel, path: string[]) => {
  const n = findNode(m, path);
  if (n === undefined) {
    throw new Error(`no node ${path.join('/')}`);
  }
  return n;
};
const T1 = ['acme', 'north', 's1', 't1'];

describe('buildModel: hierarchy', () => {
  it('builds chain → region → store → till → device from series labels', () => {
    const m = model([
      seriesFrame(till('s1', 't1', 'fiscal'), 1),
      seriesFrame(till('s1', 't1', 'scanner'), 1),
      seriesFrame(till('s1', 't2', 'fiscal'), 1),
      seriesFrame(till('s2', 't1', 'fiscal'), 1),
    ]);
    const t1 = node(m, T1);
    expect(pathOf(m, t1)).toEqual(T1);
    expect(m.structure.leafCount[t1]).toBe(2);
    expect(m.structure.leafCount[0]).toBe(4);
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
    expect(stateOf(fromTable, T1)).toBe('warning');
  });

  it('puts series that lack a level label under "(none)" instead of dropping them', () => {
    const m = model([
      seriesFrame({ chain: 'acme', store: 's9', till: 't1', device: 'fiscal' }, 1),
      seriesFrame(till('s1', 't1', 'fiscal'), 1),
    ]);
    expect(findNode(m, ['acme', NONE, 's9', 't1', 'fiscal'])).toBeDefined();
    expect(m.structure.leafCount[0]).toBe(2);
  });

  it('follows configured levels', () => {
    const m = model([seriesFrame({ store: 's1', till: 't1' }, 0), seriesFrame({ store: 's1', till: 't2' }, 1)], {
      levels: ['store', 'till'],
    });
    expect(stateOf(m, ['s1'])).toBe('warning');
    expect(countsOf(m, node(m, ['s1']))).toEqual([1, 0, 1, 0, 0]);
  });

  it('warns, not crashes, when no series has any level label', () => {
    const m = model([seriesFrame({ job: 'x' }, 1)], { levels: ['store', 'till'] });
    expect(m.structure.leafCount[0]).toBe(0);
    expect(m.warnings[0]).toContain('none of the level labels');
  });

  it('builds 500,000 leaves into flat arrays', () => {
    const m = model([fleetTable({ tills: 100_000, devicesPerTill: 5 })]);
    expect(m.structure.leafCount[0]).toBe(500_000);
    const counts = countsOf(m, 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(500_000);
    expect(counts[State.warning]).toBeGreaterThan(0);
    expect(counts[State.unknown]).toBeGreaterThan(0);
  });

  it('keeps one names map while names stay, and gives a renamed store a new one without touching the last', () => {
    const named = (name: string) => [
      tableFrame([{ labels: { ...till('s1', 't1', 'fiscal'), store_name: name }, value: 1 }]),
    ];
    const m1 = model(named('Market 1'));
    const m2 = model(named('Market 1'), { previous: m1 });
    const m3 = model(named('Market on Lenina'), { previous: m2 });
    const s1 = node(m3, ['acme', 'north', 's1']);
    expect(m2.displayNames).toBe(m1.displayNames);
    expect(m3.displayNames).not.toBe(m2.displayNames);
    expect([m2.displayNames.get(s1), m3.displayNames.get(s1)]).toEqual(['Market 1', 'Market on Lenina']);
  });

  it('takes human names from <level>_name labels', () => {
    const m = model([
      tableFrame([{ labels: { ...till('s1', 't1', 'fiscal'), store_name: 'Продукты у дома №1' }, value: 1 }]),
    ]);
    expect(m.displayNames.get(node(m, ['acme', 'north', 's1']))).toBe('Продукты у дома №1');
    expect(m.displayNames.get(node(m, T1))).toBeUndefined();
  });
});

describe('buildModel: states from standard field config', () => {
  it('colours a value by the thresholds: by default 1 is ok and below it a warning, never critical', () => {
    const m = model([seriesFrame(till('s1', 't1', 'fiscal'), 1), seriesFrame(till('s1', 't1', 'scanner'), 0)]);
    expect(stateOf(m, [...T1, 'fiscal'])).toBe('ok');
    expect(stateOf(m, [...T1, 'scanner'])).toBe('warning');
  });

  it('lets value mappings win over thresholds, their colour naming the state and their text the reason', () => {
    const m = model([seriesFrame(till('s1', 't1', 'fiscal'), 0), seriesFrame(till('s1', 't1', 'scanner'), 2)], {
      fieldConfig: {
        defaults: {
          mappings: [
            { type: MappingType.ValueToText, options: { '0': { text: 'Нет связи', color: 'dark-red' } } },
            { type: MappingType.RangeToText, options: { from: 2, to: 5, result: { color: 'blue' } } },
          ],
        },
      },
    });
    const fiscal = node(m, [...T1, 'fiscal']);
    expect(STATE_NAMES[m.state[fiscal]!]).toBe('critical');
    expect(m.valueText.get(fiscal)).toBe('Нет связи');
    expect(stateOf(m, [...T1, 'scanner'])).toBe('info');
  });

  it('treats a missing value as unknown whatever the thresholds say', () => {
    const m = model([seriesFrame(till('s1', 't1', 'fiscal'), null)]);
    expect(stateOf(m, [...T1, 'fiscal'])).toBe('unknown');
  });

  it('gives each parent the worst state of its children and counts leaves per state', () => {
    const m = model([
      seriesFrame(till('s1', 't1', 'fiscal'), 1),
      seriesFrame(till('s1', 't1', 'scanner'), 0),
      seriesFrame(till('s1', 't2', 'fiscal'), null),
    ]);
    expect(stateOf(m, ['acme', 'north', 's1'])).toBe('unknown');
    expect(countsOf(m, 0)).toEqual([1, 0, 1, 1, 0]);
  });
});

describe('buildModel: alerts decide the colour of their place', () => {
  const fleet = () => [
    seriesFrame(till('s1', 't1', 'fiscal'), 1),
    seriesFrame(till('s1', 't1', 'scanner'), 1),
    seriesFrame(till('s1', 't2', 'fiscal'), 1),
    seriesFrame(till('s2', 't1', 'fiscal'), 1),
  ];

  it('turns a healthy device critical when a critical alert fires on it', () => {
    const m = model([
      ...fleet(),
      alertFrame({ ...till('s1', 't1', 'fiscal'), alertname: 'Down', severity: 'critical' }),
    ]);
    expect(stateOf(m, [...T1, 'fiscal'])).toBe('critical');
    expect(stateOf(m, [...T1, 'scanner'])).toBe('ok');
    expect(stateOf(m, ['acme'])).toBe('critical');
  });

  it('draws a warning alert as a warning even where the value alone would look worse', () => {
    const m = model(
      [
        seriesFrame(till('s1', 't1', 'scanner'), 0),
        alertFrame({ ...till('s1', 't1', 'scanner'), alertname: 'TillPeripheralMissing', severity: 'warning' }),
      ],
      {
        fieldConfig: {
          defaults: {
            thresholds: {
              mode: 'absolute' as never,
              steps: [
                { value: -Infinity, color: 'red' },
                { value: 1, color: 'green' },
              ],
            },
          },
        },
      }
    );
    expect(stateOf(m, [...T1, 'scanner'])).toBe('warning');
  });

  it('colours a till and all its devices for a till-level alert, and counts them in the legend', () => {
    const m = model([
      ...fleet(),
      alertFrame({
        chain: 'acme',
        region: 'north',
        store: 's1',
        till: 't1',
        alertname: 'TillProcessCrashLooping',
        severity: 'warning',
      }),
    ]);
    expect(stateOf(m, T1)).toBe('warning');
    expect(stateOf(m, [...T1, 'fiscal'])).toBe('warning');
    expect(stateOf(m, [...T1, 'scanner'])).toBe('warning');
    expect(stateOf(m, ['acme', 'north', 's1', 't2'])).toBe('ok');
    expect(countsOf(m, 0)[State.warning]).toBe(2);
  });

  it('colours a store and all its tills for a store-level alert, even tills whose data is missing', () => {
    const before = model(fleet());
    // The store is cut off: its tills' series vanish, and the store alert fires.
    const m = model(
      [
        seriesFrame(till('s2', 't1', 'fiscal'), 1),
        alertFrame({
          chain: 'acme',
          region: 'north',
          store: 's1',
          alertname: 'TillStoreUnreachable',
          severity: 'critical',
        }),
      ],
      { previous: before, now: 1_060_000 }
    );
    expect(stateOf(m, ['acme', 'north', 's1'])).toBe('critical');
    expect(stateOf(m, T1)).toBe('critical');
    expect(stateOf(m, [...T1, 'fiscal'])).toBe('critical');
    expect(m.stale[node(m, [...T1, 'fiscal'])]).toBe(1);
    expect(countsOf(m, 0)).toEqual([1, 0, 0, 0, 3]);
  });

  it('keeps "no data" for a place whose data is missing and no alert explains', () => {
    const before = model(fleet());
    const m = model([seriesFrame(till('s2', 't1', 'fiscal'), 1)], { previous: before, now: 1_060_000 });
    expect(stateOf(m, T1)).toBe('unknown');
  });

  it('lets the worst severity win: critical > warning > info', () => {
    const m = model([
      ...fleet(),
      alertFrame({ ...till('s1', 't1', 'fiscal'), alertname: 'A', severity: 'info' }),
      alertFrame({ ...till('s1', 't1', 'fiscal'), alertname: 'B', severity: 'critical' }),
      alertFrame({ ...till('s1', 't1', 'scanner'), alertname: 'C', severity: 'info' }),
    ]);
    expect(stateOf(m, [...T1, 'fiscal'])).toBe('critical');
    expect(stateOf(m, [...T1, 'scanner'])).toBe('info');
  });

  it('finds the store of an alert that lacks an intermediate label', () => {
    const m = model([...fleet(), alertFrame({ chain: 'acme', store: 's2', alertname: 'X', severity: 'critical' })]);
    expect(stateOf(m, ['acme', 'north', 's2'])).toBe('critical');
    expect(stateOf(m, ['acme', 'north', 's1'])).toBe('ok');
  });

  it('shows an alert for a till without health data instead of dropping it', () => {
    const m = model([
      ...fleet(),
      alertFrame({ chain: 'acme', region: 'north', store: 's3', till: 't9', alertname: 'X', severity: 'warning' }),
    ]);
    expect(stateOf(m, ['acme', 'north', 's3', 't9'])).toBe('warning');
  });

  it('ignores pending alerts and recognises the ALERTS query by refId in table format', () => {
    const m = model([
      ...fleet(),
      tableFrame(
        [
          {
            labels: { ...till('s1', 't1', 'fiscal'), alertname: 'P', alertstate: 'pending', severity: 'critical' },
            value: 1,
          },
          { labels: { ...till('s1', 't2', 'fiscal'), alertname: 'F', severity: 'critical' }, value: 1 },
        ],
        'ALERTS'
      ),
    ]);
    expect(stateOf(m, [...T1, 'fiscal'])).toBe('ok');
    expect(stateOf(m, ['acme', 'north', 's1', 't2', 'fiscal'])).toBe('critical');
  });

  it('takes the reason from `short`, else the value mappings of alertname, then incident_class', () => {
    const classes = {
      matcher: { id: 'byName', options: 'incident_class' },
      properties: [
        {
          id: 'mappings',
          value: [
            {
              type: MappingType.ValueToText,
              options: { 'fiscal.paper_out': { text: 'Нет бумаги' }, 'fiscal.fn_expiry': { text: 'Срок ФН' } },
            },
          ],
        },
      ],
    };
    const names = {
      matcher: { id: 'byName', options: 'alertname' },
      properties: [
        {
          id: 'mappings',
          value: [{ type: MappingType.ValueToText, options: { TillFiscalFnExpired: { text: 'ФН истёк' } } }],
        },
      ],
    };
    const alert = (t: string, labels: Record<string, string>) => ({
      labels: { chain: 'acme', region: 'north', store: 's1', till: t, severity: 'critical', ...labels },
      value: 1,
    });
    const m = model(
      [
        ...fleet(),
        tableFrame(
          [
            alert('t1', { alertname: 'TillFiscalPaperOut', incident_class: 'fiscal.paper_out' }),
            alert('t2', { alertname: 'TillFiscalFnExpired', incident_class: 'fiscal.fn_expiry' }),
            alert('t3', {
              alertname: 'TillFiscalFnExpiresIn3Days',
              incident_class: 'fiscal.fn_expiry',
              short: 'ФН: 3 дня',
            }),
            alert('t4', { alertname: 'SomethingNew', incident_class: 'new.class', summary: 'A new fault.' }),
          ],
          'ALERTS'
        ),
      ],
      { fieldConfig: { overrides: [classes, names] } }
    );
    const reason = (t: string) => m.alerts.get(node(m, ['acme', 'north', 's1', t]))![0]!.reason;
    expect(reason('t1')).toBe('Нет бумаги');
    expect(reason('t2')).toBe('ФН истёк');
    expect(reason('t3')).toBe('ФН: 3 дня');
    expect(reason('t4')).toBe('A new fault.');
  });
});

describe('buildModel: places stay, and keep their layout', () => {
  it('keeps a leaf that vanished since the last refresh as stale (unknown)', () => {
    const first = model([seriesFrame(till('s1', 't1', 'fiscal'), 1), seriesFrame(till('s1', 't1', 'scanner'), 1)]);
    const second = model([seriesFrame(till('s1', 't1', 'fiscal'), 1)], { previous: first, now: 1_060_000 });
    const scanner = node(second, [...T1, 'scanner']);
    expect(second.stale[scanner]).toBe(1);
    expect(STATE_NAMES[second.state[scanner]!]).toBe('unknown');
  });

  it('forgets a stale leaf after the forget window, unless the inventory still names its place', () => {
    const first = model([seriesFrame(till('s1', 't1', 'fiscal'), 1), seriesFrame(till('s2', 't1', 'fiscal'), 1)]);
    const later = { previous: first, now: 1_000_000 + 2 * 3_600_000 };
    const forgotten = model([seriesFrame(till('s2', 't1', 'fiscal'), 1)], later);
    expect(findNode(forgotten, ['acme', 'north', 's1'])).toBeUndefined();
    const inventory = tableFrame([{ labels: { chain: 'acme', region: 'north', store: 's1' }, value: 1 }], 'INVENTORY');
    const kept = model([seriesFrame(till('s2', 't1', 'fiscal'), 1), inventory], later);
    expect(findNode(kept, ['acme', 'north', 's1'])).toBeDefined();
  });

  it('keeps the same structure object when a refresh only changes states', () => {
    const frames = (v: number) => [
      seriesFrame(till('s1', 't1', 'fiscal'), v),
      seriesFrame(till('s1', 't2', 'fiscal'), 1),
      tableFrame([{ labels: { chain: 'acme', region: 'north', store: 's1' }, value: 2 }], 'INVENTORY'),
    ];
    const first = model(frames(1));
    const second = model(
      [
        ...frames(0),
        alertFrame({ chain: 'acme', region: 'north', store: 's1', till: 't2', alertname: 'X', severity: 'critical' }),
      ],
      { previous: first }
    );
    expect(second.structure).toBe(first.structure);
    expect(stateOf(second, ['acme', 'north', 's1'])).toBe('critical');
    // A new place is a change of the inventory: a new structure.
    const third = model([...frames(1), seriesFrame(till('s1', 't3', 'fiscal'), 1)], { previous: second });
    expect(third.structure).not.toBe(second.structure);
  });

  it('leaves the model on screen intact while the next refresh is built into recycled arrays', () => {
    const frames = (v: number) => [
      seriesFrame(till('s1', 't1', 'fiscal'), v),
      seriesFrame(till('s1', 't2', 'fiscal'), 1),
    ];
    const m1 = model(frames(1));
    const m2 = model(frames(0), { previous: m1 });
    const m3 = model(frames(1), { previous: m2 });
    const m4 = model(frames(0), { previous: m3 });
    expect(stateOf(m3, [...T1, 'fiscal'])).toBe('ok');
    expect(stateOf(m4, [...T1, 'fiscal'])).toBe('warning');
    // m4 reuses m2's arrays, never m3's: the model a view may still show.
    expect(m4.state.buffer).toBe(m2.state.buffer);
    expect(m4.state.buffer).not.toBe(m3.state.buffer);
  });

  it('sizes a place by the inventory weight, and orders siblings by name, not by size or state', () => {
    const m = model(
      [
        seriesFrame(till('s10', 't1', 'fiscal'), 1),
        seriesFrame(till('s2', 't1', 'fiscal'), 0),
        seriesFrame(till('s2', 't2', 'fiscal'), 1),
        tableFrame(
          [
            { labels: { chain: 'acme', region: 'north', store: 's10' }, value: 3 },
            { labels: { chain: 'acme', region: 'north', store: 's2' }, value: 2 },
          ],
          'INVENTORY'
        ),
      ],
      { levels: ['chain', 'region', 'store', 'till'] }
    );
    const { structure } = m;
    const region = node(m, ['acme', 'north']);
    const kids = Array.from(
      structure.children.subarray(structure.childStart[region]!, structure.childStart[region]! + 2)
    );
    expect(kids.map((k) => structure.names[k])).toEqual(['s2', 's10']);
    expect(kids.map((k) => structure.weight[k])).toEqual([2, 3]);
    expect(structure.weight[region]).toBe(5);
  });
});
