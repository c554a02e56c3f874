import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { FULL_INVENTORY } from '@tillwatch/testkit';
import { InventoryError, iterateStores, iterateTills, loadInventory, parseInventory } from './inventory.js';

const testdata = (p: string) => fileURLToPath(new URL(`./testdata/${p}`, import.meta.url));
const T = 'chains[0].regions[0].stores[0].tills[0]';

// One fixture per rule, each with the exact message an operator sees (blackbox_exporter style).
const INVALID: Record<string, string[]> = {
  'address-without-port.yml': [`${T}.address: expected host:port`],
  'address-port-out-of-range.yml': [`${T}.address: expected host:port`],
  'address-with-scheme.yml': [`${T}.address: expected host:port`],
  'duplicate-till-id.yml': [
    'chains[0].regions[0].stores[1].tills[1].id: duplicate till id "t1" (first at chains[0].regions[0].stores[0].tills[0].id)',
  ],
  'duplicate-store-id.yml': [
    'chains[0].regions[0].stores[1].id: duplicate store id "s1" (first at chains[0].regions[0].stores[0].id)',
  ],
  'duplicate-target.yml': [
    'chains[0].regions[0].stores[0].tills[1].address: duplicate scrape target "127.0.0.1:19001/metrics" (first at chains[0].regions[0].stores[0].tills[0].address)',
  ],
  'duplicate-device.yml': [`${T}.devices[1].name: duplicate device name "fiscal" (first at devices[0])`],
  'unknown-key.yml': [`${T}.address: required`, `${T}.adress: unknown key`],
  'bad-device-kind.yml': [
    `${T}.devices[0].kind: expected one of fiscal, scanner, printer, scales, pinpad, drawer, utm, marking, other`,
  ],
  'bad-usb-id.yml': [`${T}.devices[0].usb: expected a USB id like 0c2e:0b61 (lower-case hex)`],
  'bad-store-id.yml': [
    `chains[0].regions[0].stores[0].id: expected an id of letters, digits, '.', '_' or '-'`,
  ],
  'reserved-label.yml': [
    'chains[0].regions[0].stores[0].labels.store: chain, region, store and till labels come from the hierarchy',
  ],
  'no-tills.yml': ['chains[0].regions[0].stores[0].tills: expected at least one till'],
  'empty.yml': ['(top level): expected a map with a chains key'],
  'yaml-syntax.yml': [
    '4:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ],
  'duplicate-yaml-key.yml': ['3:5: invalid YAML: Map keys must be unique'],
};

describe('inventory validation', () => {
  it('has an expected message for every invalid fixture', () => {
    expect(readdirSync(testdata('invalid')).sort()).toEqual(Object.keys(INVALID).sort());
  });

  it.each(Object.entries(INVALID))('rejects %s naming the file and key', (name, problems) => {
    const file = testdata(`invalid/${name}`);
    let caught: unknown;
    try {
      loadInventory(file);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InventoryError);
    // A YAML error follows the file name with :line:column, a key error with ": ".
    const at = (p: string) => `${file}${/^\d+:\d+: /.test(p) ? ':' : ': '}${p}`;
    expect((caught as Error).message).toBe(problems.map(at).join('\n'));
  });

  it('names a file it cannot read', () => {
    expect(() => loadInventory('/nonexistent/inv.yml')).toThrow(
      '/nonexistent/inv.yml: cannot read the file: ENOENT',
    );
  });

  it('loads a minimal inventory with defaults', () => {
    const inv = loadInventory(testdata('minimal.yml'));
    const tills = [...iterateTills(inv)];
    expect(tills).toHaveLength(1);
    expect(tills[0]?.till).toEqual({ id: 't1', address: 'till-1.example:9835', devices: [] });
    expect(tills[0]?.labels).toEqual({ chain: 'c1', region: 'r1', store: 's1', till: 't1' });
  });

  it('gives every till its place, extra labels and devices', () => {
    const inv = loadInventory(FULL_INVENTORY);
    const tills = [...iterateTills(inv)];
    expect(tills.map((t) => t.labels)).toEqual([
      {
        chain: 'c1',
        region: 'r1',
        store: 's1',
        store_name: 'Store one',
        till: 't1',
        format: 'express',
        lane: '1',
      },
      { chain: 'c1', region: 'r1', store: 's1', store_name: 'Store one', till: 't2', format: 'express' },
      { chain: 'c2', region: 'r1', store: 's2', till: 't3' },
    ]);
    expect(tills[0]?.till.devices[0]).toEqual({
      name: 'fiscal',
      kind: 'fiscal',
      driver: 'shtrih',
      model: 'ШТРИХ-М-01Ф',
      endpoint: '127.0.0.1:7778',
    });
    expect([...iterateStores(inv)].map((s) => `${s.chain.id}/${s.region.id}/${s.store.id}`)).toEqual([
      'c1/r1/s1',
      'c2/r1/s2',
    ]);
  });

  it('lets the same region id appear under two chains but not twice in one', () => {
    const twice =
      'chains:\n  - id: c\n    regions:\n' +
      ['a', 'b']
        .map(
          (t) =>
            `      - id: r\n        stores: [{ id: s${t}, tills: [{ id: t${t}, address: "h${t}:1" }] }]\n`,
        )
        .join('');
    expect(() => parseInventory(twice, 'x.yml')).toThrow(
      'x.yml: chains[0].regions[1].id: duplicate region id "r" (first at chains[0].regions[0].id)',
    );
  });

  it('reports every problem at once, not only the first', () => {
    const text =
      'chains:\n  - id: c\n    regions:\n      - id: r\n        stores:\n          - id: s\n            tills:\n              - { id: "a b", address: x }\n';
    expect(() => parseInventory(text, 'x.yml')).toThrow(
      [
        `x.yml: ${T}.id: expected an id of letters, digits, '.', '_' or '-'`,
        `x.yml: ${T}.address: expected host:port`,
      ].join('\n'),
    );
  });
});
