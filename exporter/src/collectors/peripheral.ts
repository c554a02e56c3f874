// Expected peripherals (scanner, printer, scales, pinpad, drawer) against what the OS enumerates.
// Nothing here opens a port: the POS program holds them, and fighting it for a COM port stops sales.
// Linux reads sysfs; Windows asks WMI (Win32_PnPEntity) through PowerShell; serial devices come from
// SerialPort.list(), which only enumerates.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { registerCollector, type DeviceRef, type Sample } from '../collector.js';
import {
  defaultPowerShell,
  defaultSerialPorts,
  type PowerShellRunner,
  type SerialPortInfo,
} from '../host.js';

// Unquoted in YAML, "0519" is the number 519 and "05e0" is 5: ask for quotes rather than guess.
const hex4 = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? 'quote the id, e.g. "0519": unquoted YAML reads it as a number'
        : 'expected 4 hex digits such as "0c2e"',
  })
  .regex(/^[0-9a-fA-F]{4}$/, { error: 'expected 4 hex digits such as "0c2e"' })
  .transform((s) => s.toLowerCase());

const peripheralSchema = z
  .strictObject({
    device: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, "_", "." or "-"' }),
    kind: z.enum(['scanner', 'printer', 'scales', 'pinpad', 'drawer', 'other'], {
      error: 'expected scanner, printer, scales, pinpad, drawer or other',
    }),
    usb: z.strictObject({ vendor: hex4, product: hex4.optional() }).optional(),
    serial: z
      .strictObject({ port: z.string().min(1).optional(), vendor: hex4.optional(), product: hex4.optional() })
      .refine((s) => s.port !== undefined || s.vendor !== undefined, { error: 'set port or vendor' })
      .optional(),
  })
  .refine((p) => (p.usb === undefined) !== (p.serial === undefined), {
    error: 'set exactly one of usb or serial',
  });

const schema = z
  .array(peripheralSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((p, i) => {
      if (seen.has(p.device))
        ctx.addIssue({ code: 'custom', path: [i, 'device'], message: `duplicate device "${p.device}"` });
      seen.add(p.device);
    });
  });

type Peripheral = z.infer<typeof peripheralSchema>;

export interface UsbDevice {
  vendor: string;
  product: string;
  /** false when the OS lists the device with a driver problem (Windows ConfigManagerErrorCode != 0). */
  working: boolean;
}

export async function listLinuxUsb(sysfsRoot: string): Promise<UsbDevice[]> {
  const dir = join(sysfsRoot, 'sys', 'bus', 'usb', 'devices');
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return []; // no USB bus (containers, some VMs): nothing is present
  }
  const out: UsbDevice[] = [];
  await Promise.all(
    entries.map(async (e) => {
      try {
        const [v, p] = await Promise.all([
          readFile(join(dir, e, 'idVendor'), 'utf8'),
          readFile(join(dir, e, 'idProduct'), 'utf8'),
        ]);
        out.push({ vendor: v.trim().toLowerCase(), product: p.trim().toLowerCase(), working: true });
      } catch {
        // Interface directories (1-1:1.0) carry no ids.
      }
    }),
  );
  return out;
}

export const WINDOWS_PNP_SCRIPT =
  "Get-CimInstance Win32_PnPEntity | Where-Object { $_.PNPDeviceID -match 'VID_[0-9A-F]{4}' } | " +
  'Select-Object Name,PNPDeviceID,Status,ConfigManagerErrorCode | ConvertTo-Json -Compress';

/** Parses Win32_PnPEntity rows (ConvertTo-Json output: one object, or an array of them). */
export function parseWindowsPnp(json: string): UsbDevice[] {
  const text = json.trim();
  if (!text) return [];
  const parsed = JSON.parse(text) as unknown;
  const rows = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
  const out: UsbDevice[] = [];
  for (const r of rows) {
    const m = /VID_([0-9A-F]{4})&PID_([0-9A-F]{4})/i.exec(String(r.PNPDeviceID ?? ''));
    if (!m?.[1] || !m[2]) continue;
    out.push({
      vendor: m[1].toLowerCase(),
      product: m[2].toLowerCase(),
      working: Number(r.ConfigManagerErrorCode ?? 0) === 0,
    });
  }
  return out;
}

export async function listWindowsUsb(run: PowerShellRunner, signal: AbortSignal): Promise<UsbDevice[]> {
  return parseWindowsPnp(await run(WINDOWS_PNP_SCRIPT, signal));
}

function matchUsb(p: NonNullable<Peripheral['usb']>, list: UsbDevice[]): UsbDevice[] {
  return list.filter((d) => d.vendor === p.vendor && (p.product === undefined || d.product === p.product));
}

function matchSerial(p: NonNullable<Peripheral['serial']>, list: SerialPortInfo[], win: boolean): boolean {
  const norm = (s: string) => (win ? s.toLowerCase() : s);
  return list.some(
    (port) =>
      (p.port === undefined || norm(port.path) === norm(p.port)) &&
      (p.vendor === undefined || port.vendorId?.toLowerCase() === p.vendor) &&
      (p.product === undefined || port.productId?.toLowerCase() === p.product),
  );
}

registerCollector({
  name: 'peripheral',
  configKey: 'peripherals',
  schema,
  defaultEnabled: (list) => list.length > 0,
  defaultIntervalSeconds: 30,
  defaultTimeoutSeconds: 15,
  create(list, env) {
    const win = env.platform === 'win32';
    const devices: DeviceRef[] = list.map((p) => ({ device: p.device, kind: p.kind }));
    const needUsb = list.some((p) => p.usb);
    const needSerial = list.some((p) => p.serial);
    return {
      devices,
      async collect(ctx) {
        const [usb, serial] = await Promise.all([
          needUsb
            ? win
              ? listWindowsUsb(env.powershell ?? defaultPowerShell, ctx.signal)
              : listLinuxUsb(env.sysfsRoot ?? '/')
            : Promise.resolve([]),
          needSerial ? (env.serialPorts ?? defaultSerialPorts)() : Promise.resolve([]),
        ]);
        const present: Sample[] = [];
        const up: Array<DeviceRef & { up: boolean }> = [];
        for (const p of list) {
          let isPresent = false;
          let working = false;
          if (p.usb) {
            const found = matchUsb(p.usb, usb);
            isPresent = found.length > 0;
            working = found.some((d) => d.working);
          } else if (p.serial) {
            isPresent = matchSerial(p.serial, serial, win);
            working = isPresent;
          }
          present.push({ labels: { device: p.device, kind: p.kind }, value: isPresent ? 1 : 0 });
          up.push({ device: p.device, kind: p.kind, up: isPresent && working });
        }
        return {
          families: [
            {
              name: 'till_device_present',
              help: 'Whether the OS enumerates the configured USB/serial device (read without opening any port).',
              type: 'gauge',
              samples: present,
            },
          ],
          devices: up,
        };
      },
    };
  },
});
