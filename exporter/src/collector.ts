// The collector contract, in the node_exporter shape: one file per collector under
// src/collectors/, each calling registerCollector() once. Adding a collector touches that file
// and the import list in src/collectors/index.ts, nothing else.
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { PowerShellRunner, SerialPortLister, SystemInfoSource } from './host.js';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** One metric family as a collector reports it in one run. Names and labels must be in docs/metrics.md. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Sample[];
}

export interface CollectContext {
  /** Aborted when the collector's timeout passes; drivers must stop I/O when it fires. */
  signal: AbortSignal;
  logger: Logger;
  /** Wall clock in milliseconds; injectable so tests can pin it. */
  now: () => number;
}

/** A configured device that a collector is responsible for; drives till_device_up. */
export interface DeviceRef {
  device: string;
  kind: string;
}

export interface CollectResult {
  families: MetricFamily[];
  /**
   * till_device_up for each device this collector owns (1 = present and answering).
   * A device that fails to answer is reported here as 0 with a normal (successful) result:
   * a device fault is not a collector failure.
   */
  devices?: Array<DeviceRef & { up: boolean }>;
}

export interface Collector {
  /**
   * Devices this collector is configured for. When a run fails or times out the framework
   * reports each of them as till_device_up 0 and drops the collector's other series,
   * so nothing stale survives a failure.
   */
  readonly devices: DeviceRef[];
  collect(ctx: CollectContext): Promise<CollectResult>;
  /** Releases sockets, ports, timers. */
  close?(): Promise<void>;
}

export interface CollectorEnv {
  /** Identity and OS of the till, from the config. */
  identity: { chain: string; region: string; store: string; till: string };
  platform: NodeJS.Platform;
  logger: Logger;
  /** Directory of the config file, to resolve relative paths against. */
  configDir: string;
  /** Wall clock in milliseconds (default Date.now); the same function CollectContext.now carries. */
  now?: () => number;
  /** Root under which /sys is read (default "/"); tests point it at a fake sysfs tree. */
  sysfsRoot?: string;
  /** procfs mount (default "/proc"); tests point it at a fake tree. */
  procRoot?: string;
  /** The kernel log in /dev/kmsg's format (default "/dev/kmsg"); tests replay a recording. */
  kernelLog?: string;
  /** Runs PowerShell on Windows; tests replay recorded output. */
  powershell?: PowerShellRunner;
  /** Lists serial ports without opening them (default SerialPort.list()). */
  serialPorts?: SerialPortLister;
  /** Source of CPU/memory/filesystem/temperature figures (default systeminformation). */
  systemInfo?: SystemInfoSource;
}

export interface CollectorDefinition<S extends z.ZodType = z.ZodType> {
  /** Collector name: the `collector` label, the `--collector.<name>` flag. */
  name: string;
  /** Top-level key of the exporter config holding this collector's settings. */
  configKey: string;
  /** zod schema of that key, with defaults; `undefined` (key absent) must parse. */
  schema: S;
  /** Enabled when neither config nor flags say otherwise. */
  defaultEnabled: boolean | ((config: z.infer<S>) => boolean);
  /** Poll interval and timeout defaults in seconds (config may override per collector). */
  defaultIntervalSeconds: number;
  defaultTimeoutSeconds: number;
  create(config: z.infer<S>, env: CollectorEnv): Collector;
}

const registry = new Map<string, CollectorDefinition>();

export function registerCollector<S extends z.ZodType>(def: CollectorDefinition<S>): void {
  if (registry.has(def.name)) throw new Error(`collector "${def.name}" registered twice`);
  registry.set(def.name, def as unknown as CollectorDefinition);
}

export function registeredCollectors(): CollectorDefinition[] {
  return [...registry.values()];
}
