import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seriesValue } from '@tillwatch/testkit';
import { z } from 'zod';
import { registerCollector, registeredCollectors } from './collector.js';
import { parseConfig } from './config.js';
import { createExporter, type Exporter } from './exporter.js';
import './collectors/index.js';
import {
  appendLog,
  FIXTURE_PROCESSES,
  OWN_COLLECTORS,
  startFixture,
  TESTDATA,
  writeFakeProc,
  type Fixture,
} from './testdata/fixture-env.js';

const GOLDEN = join(TESTDATA, 'golden', 'fixture-run.prom');

let fx: Fixture | undefined;
let ex: Exporter | undefined;
afterEach(async () => {
  await ex?.stop();
  await fx?.close();
  ex = undefined;
  fx = undefined;
});

describe('fixture run', () => {
  it('matches the golden /metrics output, which promtool accepts', async () => {
    fx = await startFixture();
    ex = createExporter(fx.config, fx.options);
    await ex.start();
    // Between two polls: the POS program logs, and the UTM restarts with a new PID.
    appendLog(fx, ['INFO sale 1', 'ERROR printer timeout', 'ККТ: ошибка 0x6B', 'ERROR again']);
    writeFakeProc(
      fx.procRoot,
      FIXTURE_PROCESSES.map((p) => (p.pid === 812 ? { ...p, pid: 1812, starttime: 90_000 } : p)),
    );
    await ex.collectNow();
    // The Node.js version is the one host-dependent label; pin it so the golden survives upgrades.
    const text = (await ex.metrics()).replace(/nodejs="[^"]*"/, 'nodejs="v0.0.0"');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
    const lint = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint).toBe('');
  });

  it('reports the value of every metric from the fixtures', async () => {
    fx = await startFixture();
    ex = createExporter(fx.config, fx.options);
    await ex.start();
    appendLog(fx, ['ERROR one', 'ok', 'ККТ: ошибка 0x71']);
    writeFakeProc(
      fx.procRoot,
      FIXTURE_PROCESSES.map((p) => (p.pid === 812 ? { ...p, pid: 1812, starttime: 90_000 } : p)),
    );
    await ex.collectNow();
    const t = await ex.metrics();
    const expected: Record<string, number> = {
      [`till_exporter_build_info{version="0.0.0-fixture",revision="0000000",nodejs="${process.version}"}`]: 1,
      'till_info{identity_chain="demo",identity_region="77",identity_store="0001",identity_till="01",os="linux"}': 1,
      ...Object.fromEntries(OWN_COLLECTORS.map((c) => [`till_collector_success{collector="${c}"}`, 1])),
      'till_collector_duration_seconds{collector="probe"}': 0,
      'till_collector_last_success_timestamp_seconds{collector="log"}': 1_790_000_000,
      till_cpu_usage_ratio: 0.25,
      till_memory_total_bytes: 4 * 1024 ** 3,
      till_memory_available_bytes: 1.5 * 1024 ** 3,
      'till_filesystem_size_bytes{mountpoint="/"}': 120e9,
      'till_filesystem_avail_bytes{mountpoint="/var/log"}': 2e9,
      till_boot_time_seconds: 1_790_000_000 - 3600,
      'till_temperature_celsius{sensor="cpu"}': 48,
      till_clock_offset_seconds: -1.5,
      till_clock_sync_success: 1,
      'till_probe_success{probe="ofd",kind="tcp"}': 1,
      'till_probe_success{probe="hq_vpn",kind="tcp"}': 0,
      'till_probe_success{probe="dns",kind="dns"}': 1,
      'till_probe_success{probe="dns_missing",kind="dns"}': 0,
      'till_probe_success{probe="store_server",kind="http"}': 1,
      'till_probe_success{probe="egais",kind="http"}': 0,
      'till_probe_success{probe="hq_api",kind="http"}': 1,
      'till_probe_duration_seconds{probe="ofd",kind="tcp"}': 0,
      'till_probe_tls_cert_expiry_timestamp_seconds{probe="hq_api"}':
        Date.parse(
          execFileSync(
            'openssl',
            ['x509', '-noout', '-enddate', '-in', join(TESTDATA, 'tls', 'server.crt')],
            { encoding: 'utf8' },
          )
            .trim()
            .replace('notAfter=', ''),
        ) / 1000,
      'till_process_up{process="utm"}': 1,
      'till_process_up{process="pos"}': 1,
      'till_process_up{process="marking"}': 0,
      'till_process_restarts_total{process="utm"}': 1,
      'till_process_restarts_total{process="pos"}': 0,
      'till_process_resident_memory_bytes{process="pos"}': (50_000 + 10_000) * 4096,
      'till_process_start_time_seconds{process="pos"}': 1_789_990_000 + 600,
      'till_process_start_time_seconds{process="utm"}': 1_789_990_000 + 900,
      'till_log_matches_total{log="pos",pattern="error"}': 1,
      'till_log_matches_total{log="pos",pattern="fiscal_error"}': 1,
      'till_device_present{device="scanner",kind="scanner"}': 1,
      'till_device_present{device="printer",kind="printer"}': 1,
      'till_device_present{device="pinpad",kind="pinpad"}': 0,
      'till_device_present{device="scales",kind="scales"}': 0,
      'till_device_up{device="scanner",kind="scanner"}': 1,
      'till_device_up{device="pinpad",kind="pinpad"}': 0,
      'till_device_up{device="scales",kind="scales"}': 0,
    };
    for (const [series, v] of Object.entries(expected)) expect(seriesValue(t, series), series).toBe(v);
    // Absent is not zero: a process that is not running has no memory or start time series.
    expect(t).not.toContain('till_process_resident_memory_bytes{process="marking"}');
    expect(t).not.toContain('mountpoint="/run"');
    expect(t).not.toContain('till_probe_tls_cert_expiry_timestamp_seconds{probe="store_server"}');
  });
});

describe('collector isolation', () => {
  it('serves /metrics while a collector hangs, marking only that collector failed', async () => {
    let release: () => void = () => {};
    registerCollector({
      name: 'test_hang',
      configKey: 'test_hang',
      schema: parseConfigSchemaStub(),
      defaultEnabled: true,
      defaultIntervalSeconds: 60,
      defaultTimeoutSeconds: 0.2,
      create: () => ({
        devices: [{ device: 'stuck_scales', kind: 'scales' }],
        // Stuck for 30 s and deaf to its abort signal, like a driver blocked in a syscall.
        collect: () =>
          new Promise((resolve) => {
            const t = setTimeout(() => resolve({ families: [] }), 30_000);
            release = () => {
              clearTimeout(t);
              resolve({ families: [] });
            };
          }),
      }),
    });
    fx = await startFixture({
      collectors: registeredCollectors().filter((d) => d.name === 'test_hang' || d.name === 'system'),
    });
    ex = createExporter(fx.config, fx.options);
    await ex.start();
    const t = await ex.metrics();
    expect(seriesValue(t, 'till_collector_success{collector="test_hang"}')).toBe(0);
    expect(seriesValue(t, 'till_device_up{device="stuck_scales",kind="scales"}')).toBe(0);
    expect(seriesValue(t, 'till_collector_success{collector="system"}')).toBe(1);
    expect(seriesValue(t, 'till_memory_total_bytes')).toBe(4 * 1024 ** 3);
    // Still hanging: a second round neither waits for it nor starts another copy.
    await ex.collectNow();
    expect(seriesValue(await ex.metrics(), 'till_collector_success{collector="test_hang"}')).toBe(0);
    release();
  });

  it('drops a failed collector series instead of keeping stale values, and recovers', async () => {
    let fail = false;
    registerCollector({
      name: 'test_flaky',
      configKey: 'test_flaky',
      schema: parseConfigSchemaStub(),
      defaultEnabled: true,
      defaultIntervalSeconds: 60,
      defaultTimeoutSeconds: 1,
      create: () => ({
        devices: [{ device: 'pinpad', kind: 'pinpad' }],
        collect: async () => {
          if (fail) throw new Error('pinpad driver crashed');
          return {
            families: [
              {
                name: 'till_device_present',
                help: 'x',
                type: 'gauge',
                samples: [{ labels: { device: 'pinpad', kind: 'pinpad' }, value: 1 }],
              },
            ],
            devices: [{ device: 'pinpad', kind: 'pinpad', up: true }],
          };
        },
      }),
    });
    fx = await startFixture({ collectors: registeredCollectors().filter((d) => d.name === 'test_flaky') });
    ex = createExporter(fx.config, fx.options);
    await ex.start();
    expect(seriesValue(await ex.metrics(), 'till_device_up{device="pinpad",kind="pinpad"}')).toBe(1);
    fail = true;
    await ex.collectNow();
    let t = await ex.metrics();
    expect(seriesValue(t, 'till_collector_success{collector="test_flaky"}')).toBe(0);
    expect(seriesValue(t, 'till_device_up{device="pinpad",kind="pinpad"}')).toBe(0);
    expect(t).not.toContain('till_device_present{');
    expect(seriesValue(t, 'till_collector_last_success_timestamp_seconds{collector="test_flaky"}')).toBe(
      1_790_000_000,
    );
    fail = false;
    await ex.collectNow();
    t = await ex.metrics();
    expect(seriesValue(t, 'till_device_present{device="pinpad",kind="pinpad"}')).toBe(1);
  });

  it('keeps a separate registry per exporter, so many can run in one process', async () => {
    fx = await startFixture({ collectors: registeredCollectors().filter((d) => d.name === 'system') });
    const a = createExporter(fx.config, fx.options);
    const other = parseConfig(
      { identity: { chain: 'demo', region: '78', store: '0002', till: '02' } },
      'b.yml',
      fx.dir,
    );
    const b = createExporter(other, fx.options);
    await Promise.all([a.start(), b.start()]);
    expect(await a.metrics()).toContain('store="0001"');
    expect(await b.metrics()).toContain('store="0002"');
    expect(await b.metrics()).not.toContain('store="0001"');
    await Promise.all([a.stop(), b.stop()]);
  });
});

describe('exposition order', () => {
  it('lists families and series in code-unit order, as Prometheus does, not in locale order', async () => {
    // Each pair below sorts the other way under localeCompare (ICU puts "_" before digits and
    // uppercase next to lowercase, and ignores the NUL between a series' labels), so a scrape's diff
    // between two exporters, or two versions of one, would show series moving for no reason.
    registerCollector({
      name: 'test_order',
      configKey: 'test_order',
      schema: parseConfigSchemaStub(),
      defaultEnabled: true,
      defaultIntervalSeconds: 60,
      defaultTimeoutSeconds: 1,
      create: () => ({
        devices: [],
        collect: async () => ({
          families: [
            { name: 'till_order_x_y', help: 'x', type: 'gauge', samples: [{ labels: {}, value: 1 }] },
            {
              name: 'till_order_x2',
              help: 'x',
              type: 'gauge',
              samples: [
                { labels: { k: 'a1', n: '1' }, value: 1 },
                { labels: { k: 'a', n: '2' }, value: 2 },
                { labels: { k: 'B', n: '3' }, value: 3 },
              ],
            },
          ],
        }),
      }),
    });
    fx = await startFixture({ collectors: registeredCollectors().filter((d) => d.name === 'test_order') });
    ex = createExporter(fx.config, fx.options);
    await ex.start();
    const series = (await ex.metrics())
      .split('\n')
      .filter((l) => l.startsWith('till_order_'))
      .map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(series).toEqual([
      'till_order_x2{k="B",n="3"}',
      'till_order_x2{k="a",n="2"}',
      'till_order_x2{k="a1",n="1"}',
      'till_order_x_y',
    ]);
  });
});

function parseConfigSchemaStub() {
  // A collector with no settings: its key may be absent.
  return z.unknown();
}
