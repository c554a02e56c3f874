// One config kit (issue 15): every package's real loader, fed the same kinds of bad file, fails with
// the same error type and the same line format, and reads `1h30m` wherever a duration is configured.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '@tillwatch/config';
import { loadConfig as loadExporterConfig, loadWebConfig, resolveCollectors } from '@tillwatch/exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig as loadBridgeConfig } from '@tillwatch/alert-bridge/config';
import { KnowledgeBase } from '@tillwatch/alert-bridge/knowledge-base';
import { loadInventory } from '@tillwatch/inventory';
import { backtesting } from '@tillwatch/ops';
import { loadDevicesConfig, loadScenario } from '@tillwatch/simulator';

interface Loader {
  name: string;
  load(file: string): unknown;
  /** A file with one unknown key, and the key path the error must name. */
  unknownKey?: { yaml: string; key: string };
  /** A valid file with `value` at the duration key, the key path, and the milliseconds it was read as. */
  duration?: { yaml: (value: string) => string; key: string; ms: (loaded: unknown) => number };
}

const identity = 'identity: { chain: c, region: r, store: s, till: t }\n';
const card = (extra = '') =>
  `incident_class: a.b\nteam: t\npriority: P3\nexpected_minutes: 5\nen: { title: a, impact: b }\nru: { title: a, impact: b }\n${extra}`;
const rule = (forValue: string) =>
  `groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: ${forValue}\n`;

const LOADERS: Loader[] = [
  {
    name: 'exporter config',
    load: loadExporterConfig,
    unknownKey: {
      yaml: `${identity}collectors:\n  system: { intervall: 1m }\n`,
      key: 'collectors.system.intervall',
    },
    duration: {
      yaml: (v) => `${identity}collectors:\n  system: { interval: ${v} }\n`,
      key: 'collectors.system.interval',
      ms: (c) => resolveCollectors(c as ReturnType<typeof loadExporterConfig>).get('system')!.intervalMs,
    },
  },
  {
    name: 'exporter probe',
    load: loadExporterConfig,
    duration: {
      yaml: (v) => `${identity}probes:\n  - { name: hq, kind: tcp, target: '127.0.0.1:1', timeout: ${v} }\n`,
      key: 'probes[0].timeout',
      ms: (c) => (c as { sections: { probes: { timeout: number }[] } }).sections.probes[0]!.timeout,
    },
  },
  {
    name: 'exporter web config',
    load: loadWebConfig,
    unknownKey: { yaml: 'http_server_config: { header: {} }\n', key: 'http_server_config.header' },
  },
  {
    name: 'bridge config',
    load: (f) => loadBridgeConfig(f, {}),
    unknownKey: { yaml: 'webhook: { bearer_token: a, bearer: b }\n', key: 'webhook.bearer' },
    duration: {
      yaml: (v) => `webhook: { bearer_token: a }\ntickets: { reopen_window: ${v} }\n`,
      key: 'tickets.reopen_window',
      ms: (c) => (c as ReturnType<typeof loadBridgeConfig>).tickets.reopen_window,
    },
  },
  {
    name: 'bridge knowledge base card',
    // The loader takes the card's folder; each case writes one card into a folder of its own.
    load: (f) => KnowledgeBase.load(dirname(f)),
    unknownKey: { yaml: card('frist_line: [x]\n'), key: 'frist_line' },
  },
  {
    name: 'ops inventory',
    load: loadInventory,
    unknownKey: {
      yaml: 'chains:\n  - id: c\n    region: []\n    regions:\n      - id: r\n        stores: [{ id: s, tills: [{ id: t, address: "127.0.0.1:9835" }] }]\n',
      key: 'chains[0].region',
    },
  },
  {
    name: 'ops backtest rule file',
    load: (f) => backtesting.loadRules([f]),
    duration: {
      yaml: rule,
      key: 'groups[0].rules[0].for',
      ms: (rules) => (rules as ReturnType<typeof backtesting.loadRules>)[0]!.forMs,
    },
  },
  {
    name: 'simulator scenario',
    load: (f) => loadScenario(f),
    unknownKey: { yaml: 'events: []\nevnts: []\n', key: 'evnts' },
    duration: {
      yaml: (v) => `events:\n  - { at: ${v}, till: t1, fault: paper_out }\n`,
      key: 'events[0].at',
      ms: (s) => (s as ReturnType<typeof loadScenario>).events[0]!.at * 1000,
    },
  },
  {
    name: 'simulator devices config',
    load: loadDevicesConfig,
    unknownKey: { yaml: 'shtrih: { prot: 1 }\n', key: 'shtrih.prot' },
  },
];

const root = mkdtempSync(join(tmpdir(), 'tw-config-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
/** Writes `text` as the only YAML file of a fresh folder. */
function write(text: string): string {
  const dir = join(root, String(++seq));
  mkdirSync(dir);
  const file = join(dir, 'config.yml');
  writeFileSync(file, text);
  return file;
}

function failure(loader: Loader, file: string): ConfigError {
  try {
    loader.load(file);
  } catch (err) {
    expect(err, `${loader.name}: ${String(err)}`).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`${loader.name} accepted ${file}`);
}

const BAD_DURATION =
  'invalid duration "soon": expected a Prometheus duration such as "1h30m", "15s" or "500ms" (whole numbers; units y, w, d, h, m, s, ms, largest first)';

describe('every config loader', () => {
  it.each(LOADERS.map((l) => [l.name, l] as const))(
    '%s: a YAML syntax error at file:line:column',
    (_n, loader) => {
      const file = write('a: [\n');
      expect(failure(loader, file).message).toBe(
        `${file}:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      );
    },
  );

  it.each(LOADERS.map((l) => [l.name, l] as const))(
    '%s: a duplicate key at file:line:column',
    (_n, loader) => {
      const file = write('a: 1\na: 2\n');
      const err = failure(loader, file);
      expect(err.message).toBe(`${file}:2:1: invalid YAML: Map keys must be unique`);
      expect(err).toMatchObject({ file, line: 2, column: 1 });
    },
  );

  const withUnknownKey = LOADERS.filter((l) => l.unknownKey).map((l) => [l.name, l] as const);
  it.each(withUnknownKey)('%s: an unknown key as "FILE: key.path: unknown key"', (_n, loader) => {
    const file = write(loader.unknownKey!.yaml);
    const err = failure(loader, file);
    expect(err.message).toBe(`${file}: ${loader.unknownKey!.key}: unknown key`);
    expect(err).toMatchObject({ file, key: loader.unknownKey!.key, line: undefined });
  });

  const withDuration = LOADERS.filter((l) => l.duration).map((l) => [l.name, l] as const);
  it.each(withDuration)('%s: a bad duration as "FILE: key.path: reason"', (_n, loader) => {
    const file = write(loader.duration!.yaml('soon'));
    expect(failure(loader, file).message).toBe(`${file}: ${loader.duration!.key}: ${BAD_DURATION}`);
  });

  it.each(withDuration)('%s: reads 1h30m (and 2d, 1w) as Prometheus does', (_n, loader) => {
    for (const [text, ms] of [
      ['1h30m', 5_400_000],
      ['2d', 172_800_000],
      ['1w', 604_800_000],
    ] as const) {
      expect(loader.duration!.ms(loader.load(write(loader.duration!.yaml(text)))), text).toBe(ms);
    }
  });

  it.each(withDuration)('%s: refuses a duration with no unit, naming the key', (_n, loader) => {
    const file = write(loader.duration!.yaml('90'));
    const [where, why] = failure(loader, file).message.split(': 90 has no unit: ');
    expect(where).toBe(`${file}: ${loader.duration!.key}`);
    expect(why).toMatch(/^write "90s" for seconds/);
  });
});
