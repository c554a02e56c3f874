// The collector framework. Each enabled collector polls in the background on its own interval with
// a timeout; a scrape serves the text rendered from the latest snapshot and never waits on a device.
// prom-client's own registry.metrics() would reject the whole scrape if one async collect() failed,
// so isolation is built here: a failed or timed-out run marks only its collector failed, reports its
// devices as down and drops its other series, so nothing stale survives.
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import pino, { type Logger } from 'pino';
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import {
  registeredCollectors,
  type Collector,
  type CollectorDefinition,
  type CollectorEnv,
  type DeviceRef,
  type MetricFamily,
} from './collector.js';
import { ConfigError, resolveCollectors, type ExporterConfig } from './config.js';
import type { PowerShellRunner, SerialPortLister, SystemInfoSource } from './host.js';
import { REVISION, VERSION } from './version.js';

const gzipAsync = promisify(gzip);

// prom-client's index also loads the Pushgateway, cluster aggregation, histograms and default
// metrics: RSS on a till for nothing we use (docs/benchmarks.md, "Exporter"). Its registry, gauge and counter modules
// stand alone, so require just those (the types still come from the package).
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry;
const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge;
const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter;
type Gauge = PromClient.Gauge;

export interface ExporterOptions {
  logger?: Logger;
  /** Wall clock in ms; pinning it makes durations and timestamps reproducible in golden tests. */
  now?: () => number;
  platform?: NodeJS.Platform;
  sysfsRoot?: string;
  procRoot?: string;
  kernelLog?: string;
  powershell?: PowerShellRunner;
  serialPorts?: SerialPortLister;
  systemInfo?: SystemInfoSource;
  /** --collector.<name> / --no-collector.<name>: true/false by collector name. */
  collectorFlags?: Record<string, boolean>;
  /** Collector definitions to use instead of the registered ones (tests, simulator). */
  collectors?: CollectorDefinition[];
  version?: string;
  /** The git commit on till_exporter_build_info (default: the build's). */
  revision?: string;
}

export interface Snapshot {
  text: string;
  generation: number;
}

export interface Exporter {
  /** Starts background polling; resolves once every collector finished (or timed out) its first run. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The /metrics text of the latest snapshot. */
  metrics(): Promise<string>;
  /** Latest rendered snapshot plus a gzip of it, cached per generation for the HTTP layer. */
  snapshot(): Promise<Snapshot>;
  gzipped(): Promise<Buffer>;
  /** Names of the enabled collectors. */
  readonly collectors: string[];
  /** Runs every collector once now and waits for the result (tests, simulator ticks). */
  collectNow(): Promise<void>;
  /**
   * Adds metric families from outside the collectors (the web layer's own counters), rendered into
   * every snapshot; call `changed()` when they moved so the next scrape renders them.
   */
  addSource(families: () => MetricFamily[]): { changed(): void; remove(): void };
  readonly contentType: string;
}

interface RunState {
  success: boolean;
  durationSeconds: number;
  lastSuccessSeconds: number;
  families: MetricFamily[];
  devices: Array<DeviceRef & { up: boolean }>;
}

class Runner {
  state: RunState;
  private inFlight: Promise<unknown> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    readonly name: string,
    readonly collector: Collector,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly onChange: () => void,
  ) {
    this.state = this.failedState(0);
  }

  private failedState(durationSeconds: number): RunState {
    return {
      success: false,
      durationSeconds,
      lastSuccessSeconds: this.state?.lastSuccessSeconds ?? 0,
      families: [],
      devices: this.collector.devices.map((d) => ({ ...d, up: false })),
    };
  }

  schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.run().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One run with a timeout. A run still hanging from before is not started again. */
  async run(): Promise<void> {
    if (this.inFlight) {
      this.logger.warn({ collector: this.name }, 'previous run still in progress; skipping this one');
      return;
    }
    const ac = new AbortController();
    const started = this.now();
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => {
        const err = new Error(`timed out after ${this.timeoutMs} ms`);
        ac.abort(err);
        reject(err);
      }, this.timeoutMs);
    });
    const work = this.collector.collect({ signal: ac.signal, logger: this.logger, now: this.now });
    // Track the real promise, not the race: a collector that ignores its signal keeps the slot busy.
    this.inFlight = work.then(
      () => undefined,
      () => undefined,
    );
    void this.inFlight.finally(() => (this.inFlight = null));
    try {
      const result = await Promise.race([work, timedOut]);
      validate(this.name, result.families);
      const durationSeconds = (this.now() - started) / 1000;
      const reported = new Map((result.devices ?? []).map((d) => [d.device, d]));
      // A configured device the run did not account for is reported down rather than forgotten.
      const devices = [
        ...(result.devices ?? []),
        ...this.collector.devices.filter((d) => !reported.has(d.device)).map((d) => ({ ...d, up: false })),
      ];
      this.state = {
        success: true,
        durationSeconds,
        lastSuccessSeconds: this.now() / 1000,
        families: result.families,
        devices,
      };
    } catch (err) {
      this.logger.warn({ collector: this.name, err: (err as Error).message }, 'collector run failed');
      this.state = this.failedState((this.now() - started) / 1000);
    } finally {
      clearTimeout(timeout);
    }
    this.onChange();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.collector.close?.();
  }
}

function validate(collector: string, families: MetricFamily[]): void {
  for (const f of families) {
    if (!/^till_[a-z0-9_]+$/.test(f.name))
      throw new Error(`collector ${collector}: bad metric name ${f.name}`);
    const keys = f.samples[0] ? Object.keys(f.samples[0].labels).sort().join(',') : '';
    for (const s of f.samples) {
      if (Object.keys(s.labels).sort().join(',') !== keys) {
        throw new Error(`collector ${collector}: ${f.name} has samples with different label names`);
      }
      if (Number.isNaN(s.value)) throw new Error(`collector ${collector}: ${f.name} has a NaN value`);
    }
  }
}

function osLabel(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

/**
 * Code-unit order, the order Prometheus' own text exposition sorts in. Not localeCompare: that loads
 * ICU's collation data on first use (RSS on the official Node.js builds) for an order no
 * consumer needs, and it treats the NUL separator of sampleKey as ignorable.
 */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sampleKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
}

export function createExporter(config: ExporterConfig, options: ExporterOptions = {}): Exporter {
  const logger = options.logger ?? pino({ level: 'info' });
  const now = options.now ?? Date.now;
  const platform = options.platform ?? process.platform;
  const defs = options.collectors ?? registeredCollectors();
  const settings = resolveCollectors(config, options.collectorFlags, defs);
  const env: CollectorEnv = {
    identity: config.identity,
    platform,
    logger,
    configDir: config.dir,
    now,
    ...(options.sysfsRoot !== undefined && { sysfsRoot: options.sysfsRoot }),
    ...(options.procRoot !== undefined && { procRoot: options.procRoot }),
    ...(options.kernelLog !== undefined && { kernelLog: options.kernelLog }),
    ...(options.powershell && { powershell: options.powershell }),
    ...(options.serialPorts && { serialPorts: options.serialPorts }),
    ...(options.systemInfo && { systemInfo: options.systemInfo }),
  };

  // One registry per exporter: the fleet simulator runs hundreds of exporters in one process.
  const registry = new Registry();
  let generation = 0;
  let rendered: Snapshot = { text: '', generation: -1 };
  let gz: { generation: number; body: Promise<Buffer> } | null = null;
  let pending: Promise<void> | null = null;
  let dirty = true;

  const runners: Runner[] = [];
  const sources = new Set<() => MetricFamily[]>();
  const onChange = () => {
    generation += 1;
    dirty = true;
  };
  for (const def of [...defs].sort((a, b) => byCodeUnit(a.name, b.name))) {
    const s = settings.get(def.name);
    if (!s?.enabled) continue;
    let collector: Collector;
    try {
      collector = def.create(s.config, { ...env, logger: logger.child({ collector: def.name }) });
    } catch (err) {
      throw new ConfigError(config.source, { key: def.configKey, message: (err as Error).message });
    }
    runners.push(new Runner(def.name, collector, s.intervalMs, s.timeoutMs, logger, now, onChange));
  }

  const buildInfo = {
    version: options.version ?? VERSION,
    revision: options.revision ?? REVISION,
    nodejs: process.version,
  };
  // Not chain/region/store/till: those are target labels Prometheus attaches from the inventory, and an
  // exporter's own label of the same name would be stored as exported_chain... (Prometheus' "writing
  // exporters" guide). Under identity_* they say what the till's config claims, beside the inventory's.
  const info = {
    identity_chain: config.identity.chain,
    identity_region: config.identity.region,
    identity_store: config.identity.store,
    identity_till: config.identity.till,
    os: osLabel(platform),
  };

  function gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: [registry] });
  }

  function rebuild(): void {
    registry.clear();
    gauge('till_exporter_build_info', 'Build of the TillWatch exporter; constant 1.', [
      'version',
      'revision',
      'nodejs',
    ]).set(buildInfo, 1);
    gauge('till_info', "The till's identity from the exporter config, and its OS; constant 1.", [
      'identity_chain',
      'identity_region',
      'identity_store',
      'identity_till',
      'os',
    ]).set(info, 1);
    const success = gauge('till_collector_success', "1 when the collector's last run succeeded.", [
      'collector',
    ]);
    const duration = gauge('till_collector_duration_seconds', "How long the collector's last run took.", [
      'collector',
    ]);
    const last = gauge(
      'till_collector_last_success_timestamp_seconds',
      'When the collector last succeeded (0 = never).',
      ['collector'],
    );
    const up = gauge('till_device_up', '1 = the configured device is present and answering.', [
      'device',
      'kind',
    ]);
    const families = new Map<string, MetricFamily>();
    const add = (list: MetricFamily[]) => {
      for (const f of list) {
        const seen = families.get(f.name);
        if (seen) seen.samples = [...seen.samples, ...f.samples];
        else families.set(f.name, { ...f });
      }
    };
    for (const r of runners) {
      const st = r.state;
      success.set({ collector: r.name }, st.success ? 1 : 0);
      duration.set({ collector: r.name }, st.durationSeconds);
      last.set({ collector: r.name }, st.lastSuccessSeconds);
      for (const d of st.devices) up.set({ device: d.device, kind: d.kind }, d.up ? 1 : 0);
      add(st.families);
    }
    for (const source of sources) {
      try {
        const list = source();
        validate('web', list);
        add(list);
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'cannot expose metrics of an extra source');
      }
    }
    for (const f of [...families.values()].sort((a, b) => byCodeUnit(a.name, b.name))) {
      const labelNames = f.samples[0] ? Object.keys(f.samples[0].labels) : [];
      const samples = [...f.samples].sort((a, b) => byCodeUnit(sampleKey(a.labels), sampleKey(b.labels)));
      try {
        if (f.type === 'counter') {
          const c = new Counter({ name: f.name, help: f.help, labelNames, registers: [registry] });
          for (const s of samples) c.inc(s.labels, s.value);
        } else {
          const g = gauge(f.name, f.help, labelNames);
          for (const s of samples) g.set(s.labels, s.value);
        }
      } catch (err) {
        logger.error({ metric: f.name, err: (err as Error).message }, 'cannot expose metric family');
      }
    }
  }

  /** Renders once per snapshot generation; concurrent scrapes share the one render. */
  async function snapshot(): Promise<Snapshot> {
    while (dirty) {
      if (!pending) {
        pending = (async () => {
          dirty = false;
          const gen = generation;
          rebuild();
          const text = await registry.metrics();
          rendered = { text, generation: gen };
        })().finally(() => (pending = null));
      }
      await pending;
    }
    return rendered;
  }

  let started = false;
  return {
    collectors: runners.map((r) => r.name),
    contentType: registry.contentType,
    async start() {
      if (started) return;
      started = true;
      await Promise.all(runners.map((r) => r.run()));
      for (const r of runners) r.schedule();
      logger.info({ collectors: runners.map((r) => r.name) }, 'collectors started');
    },
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
    },
    async collectNow() {
      await Promise.all(runners.map((r) => r.run()));
    },
    addSource(families) {
      sources.add(families);
      onChange();
      return {
        changed: onChange,
        remove() {
          sources.delete(families);
          onChange();
        },
      };
    },
    async metrics() {
      return (await snapshot()).text;
    },
    snapshot,
    async gzipped() {
      const snap = await snapshot();
      if (!gz || gz.generation !== snap.generation) {
        gz = { generation: snap.generation, body: gzipAsync(snap.text) };
      }
      return gz.body;
    },
  };
}
