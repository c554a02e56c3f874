// Starts one emulator of each kind plus the control API: what `tillwatch-simulator devices` runs,
// so exporter/examples/full.yml works against a development machine.
import { loadYamlFile, parseWith } from '@tillwatch/config';
import { z } from 'zod';
import { DeviceRegistry, startControlApi, type ControlApi } from './control-api.js';
import { AtolEmulator } from './emulators/atol-emulator.js';
import { MarkingEmulator } from './emulators/marking-emulator.js';
import { ShtrihEmulator } from './emulators/shtrih-emulator.js';
import { UtmEmulator } from './emulators/utm-emulator.js';

const port = z.number().int().min(0).max(65535);

export const devicesConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  control: z.strictObject({ port: port.default(9837) }).prefault({}),
  shtrih: z
    .strictObject({
      id: z.string().default('fiscal'),
      port: port.default(7778),
      /** Also serve the protocol on this serial device (e.g. one end of a socat pty pair). */
      serial: z.string().optional(),
      baud: z.number().int().default(115200),
      password: z.number().int().default(30),
      adminPassword: z.number().int().default(30),
    })
    .prefault({}),
  atol: z
    .strictObject({
      id: z.string().default('fiscal_atol'),
      port: port.default(16732),
      username: z.string().optional(),
      password: z.string().optional(),
    })
    .prefault({}),
  utm: z.strictObject({ id: z.string().default('utm'), port: port.default(8080) }).prefault({}),
  marking: z
    .strictObject({
      id: z.string().default('marking'),
      port: port.default(5995),
      username: z.string().default('admin'),
      password: z.string().default('admin'),
    })
    .prefault({}),
});
export type DevicesConfig = z.infer<typeof devicesConfigSchema>;

export function loadDevicesConfig(file: string): DevicesConfig {
  return parseWith(devicesConfigSchema, loadYamlFile(file) ?? {}, file);
}

export interface RunningDevices {
  registry: DeviceRegistry;
  control: ControlApi;
  shtrih: ShtrihEmulator;
  atol: AtolEmulator;
  utm: UtmEmulator;
  marking: MarkingEmulator;
  stop(): Promise<void>;
}

export async function startDevices(input: unknown = {}): Promise<RunningDevices> {
  const c = devicesConfigSchema.parse(input);
  const host = c.host;
  const shtrih = new ShtrihEmulator({
    id: c.shtrih.id,
    host,
    port: c.shtrih.port,
    password: c.shtrih.password,
    adminPassword: c.shtrih.adminPassword,
  });
  const atol = new AtolEmulator({
    id: c.atol.id,
    host,
    port: c.atol.port,
    username: c.atol.username,
    password: c.atol.password,
  });
  const utm = new UtmEmulator({ id: c.utm.id, host, port: c.utm.port });
  const marking = new MarkingEmulator({
    id: c.marking.id,
    host,
    port: c.marking.port,
    username: c.marking.username,
    password: c.marking.password,
  });
  const registry = new DeviceRegistry();
  const started: Array<{ stop(): Promise<void> }> = [];
  let serialClose: (() => Promise<void>) | undefined;
  try {
    for (const e of [shtrih, atol, utm, marking]) {
      await e.start();
      started.push(e);
      registry.add(e);
    }
    if (c.shtrih.serial) {
      const { SerialPort } = await import('serialport');
      const sp = new SerialPort({ path: c.shtrih.serial, baudRate: c.shtrih.baud, autoOpen: false });
      await new Promise<void>((resolve, reject) => sp.open((err) => (err ? reject(err) : resolve())));
      shtrih.attach(sp);
      serialClose = () => new Promise((resolve) => (sp.isOpen ? sp.close(() => resolve()) : resolve()));
    }
    const control = await startControlApi(registry, c.control.port, host);
    return {
      registry,
      control,
      shtrih,
      atol,
      utm,
      marking,
      async stop() {
        await control.close();
        await serialClose?.();
        await Promise.all(started.map((e) => e.stop()));
      },
    };
  } catch (err) {
    await serialClose?.();
    await Promise.all(started.map((e) => e.stop()));
    throw err;
  }
}
